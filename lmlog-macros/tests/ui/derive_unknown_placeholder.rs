use lmlog::LogEvent;

#[derive(LogEvent)]
#[lmlog(message = "payment of {amount} failed for user {user}")]
struct PaymentFailed {
    user_id: u64,
    amount: f64,
}

#[derive(LogEvent)]
#[lmlog(message = "{internal} is skipped, so it cannot be a placeholder")]
struct Skipped {
    #[lmlog(skip)]
    internal: u64,
}

fn main() {}
