use lmlog::{LogEvent, LogValue};

// A metric's values go into a histogram: the field must be a number.
#[derive(LogEvent)]
struct Labelled<'a> {
    #[lmlog(metric)]
    label: &'a str,
    #[lmlog(metric = "ms")]
    maybe: Option<u32>,
}

// The field's own value: not a text made of it.
#[derive(LogEvent)]
struct Shown {
    #[lmlog(metric, display)]
    shown: u32,
}

// An event's fields only, not those of a value nested in one.
#[derive(LogValue)]
struct Nested {
    #[lmlog(metric)]
    value: u32,
}

fn main() {}
