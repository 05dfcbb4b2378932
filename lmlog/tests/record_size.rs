//! The `cache_miss` record takes at most 16 bytes on disk, amortised over
//! its frames (FORMAT.md states the measured figure).

use lmlog::lm_event;

#[test]
fn cache_miss_is_at_most_16_bytes_amortised() {
    let path = std::env::temp_dir().join(format!("lmlog-size-{}.lmlog", std::process::id()));
    const EVENTS: u64 = 100_000;
    {
        let _guard = lmlog::init(lmlog::Config::new().output(&path)).unwrap();
        lm_event!(info, "warm_up", n = 0u8);
        lmlog::flush();
        let before = std::fs::metadata(&path).unwrap().len();
        for i in 0..EVENTS {
            lm_event!(info, "cache_miss", key = "user:7", latency_us = 130u32 + (i % 7) as u32);
        }
        lmlog::flush();
        let after = std::fs::metadata(&path).unwrap().len();
        let per_event = (after - before) as f64 / EVENTS as f64;
        eprintln!("cache_miss: {per_event:.2} bytes per event on disk");
        assert!(per_event <= 16.0, "{per_event} bytes per event");
    }
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut out).unwrap();
    assert_eq!(summary.events, EVENTS + 1);
    std::fs::remove_file(&path).ok();
}
