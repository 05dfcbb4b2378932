use lmlog::{LogEvent, LogValue};

#[derive(LogEvent)]
#[lmlog(name = "login", severity = "warn")]
struct Login {
    user: u64,
}

#[derive(LogEvent)]
struct Logout {
    #[lmlog(hidden)]
    user: u64,
}

#[derive(LogValue)]
enum Method {
    #[lmlog(skip)]
    Password,
}

fn main() {}
