use lmlog::lm_event;

struct NotLoggable {
    _secret: u64,
}

fn main() {
    let session = NotLoggable { _secret: 1 };
    lm_event!(info, "login", user = 7u64, session = session);
}
