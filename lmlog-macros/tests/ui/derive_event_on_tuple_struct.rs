use lmlog::LogEvent;

#[derive(LogEvent)]
struct Login(u64, String);

fn main() {}
