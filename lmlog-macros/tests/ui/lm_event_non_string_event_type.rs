use lmlog::lm_event;

fn main() {
    let event_type = "cache_miss";
    lm_event!(info, event_type, key = "user:7");
    lm_event!(warn, 42, key = "user:7");
    lm_event!(debug, "", key = "user:7");
}
