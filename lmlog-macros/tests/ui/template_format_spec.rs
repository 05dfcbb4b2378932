use lmlog::{lm_event, LogEvent};

#[derive(LogEvent)]
#[lmlog(message = "charged {amount:.2}")]
struct Charged {
    amount: f64,
}

fn main() {
    let amount = 12.5f64;
    lm_event!(info, "charged", "charged {amount:.2}", amount);
}
