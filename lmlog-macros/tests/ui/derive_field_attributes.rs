use lmlog::LogEvent;

struct Opaque;

fn describe(_: &Opaque) -> &'static str {
    "opaque"
}

// `display` needs a `Display` impl: the error is at the field's type.
#[derive(LogEvent)]
struct NotDisplay {
    #[lmlog(display)]
    shown: Opaque,
}

// Only one way of writing a field.
#[derive(LogEvent)]
struct Both {
    #[lmlog(debug, with = describe)]
    both: Opaque,
}

fn main() {}
