use lmlog::{LogEvent, LogValue};

struct NotLoggable {
    _secret: u64,
}

#[derive(LogEvent)]
struct Login {
    user: u64,
    session: NotLoggable,
}

#[derive(LogValue)]
enum Wrapper {
    Inner(NotLoggable),
}

fn main() {}
