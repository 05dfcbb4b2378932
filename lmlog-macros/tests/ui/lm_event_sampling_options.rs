use lmlog::lm_event;

fn main() {
    let key = 7u32;
    lm_event!(info, "cache_miss", sample: 0.0, key);
    lm_event!(info, "cache_miss", sample: 1.5, key);
    lm_event!(info, "cache_miss", sample: -0.1, key);
    lm_event!(info, "cache_miss", rate_limit: 0, key);
    lm_event!(info, "cache_miss", smaple: 0.1, key);
    lm_event!(info, "cache_miss", sample: 0.1, sample: 0.2, key);
    lm_event!(info, "cache_miss", key, sample: 0.1);
    let p = 0.1;
    lm_event!(info, "cache_miss", sample: p, key);
}
