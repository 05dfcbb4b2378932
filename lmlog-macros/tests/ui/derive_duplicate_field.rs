use lmlog::LogEvent;

#[derive(LogEvent)]
struct Login {
    user: u64,
    #[lmlog(rename = "user")]
    user_name: String,
}

fn main() {}
