use lmlog::lm_event;

fn main() {
    lm_event!(verbose, "cache_miss", key = "user:7");
}
