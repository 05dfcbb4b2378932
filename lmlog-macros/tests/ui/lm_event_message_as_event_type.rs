use lmlog::lm_event;

fn main() {
    let id = 42u64;
    lm_event!(info, "order {} done", id);
    lm_event!(warn, "cache miss", key = "user:7");
}
