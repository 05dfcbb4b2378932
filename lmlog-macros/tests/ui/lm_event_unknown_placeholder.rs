use lmlog::lm_event;

fn main() {
    lm_event!(info, "order_shipped", "order {order_id} shipped to {city}", order_id = 42u64, town = "Oslo");
}
