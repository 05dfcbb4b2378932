use lmlog::{lm_event, LogEvent};

#[derive(LogEvent)]
#[lmlog(message = "payment of {amount failed")]
struct PaymentFailed {
    amount: f64,
}

fn main() {
    lm_event!(info, "order_shipped", "order {order_id shipped", order_id = 42u64);
}
