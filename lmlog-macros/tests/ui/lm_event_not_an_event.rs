use lmlog::lm_event;

struct NotAnEvent {
    id: u64,
}

fn main() {
    let value = NotAnEvent { id: 1 };
    lm_event!(value);
    lm_event!(NotAnEvent { id: 2 });
    let _ = value.id;
}
