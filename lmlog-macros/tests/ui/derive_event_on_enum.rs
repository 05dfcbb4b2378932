use lmlog::LogEvent;

#[derive(LogEvent)]
enum Event {
    Login { user: u64 },
    Logout { user: u64 },
}

fn main() {}
