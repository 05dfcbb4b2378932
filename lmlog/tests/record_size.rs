//! Bytes on disk per event, amortised over many events and their frames
//! (FORMAT.md and BENCHMARKS.md quote these figures).

use lmlog::{lm_event, Compression, Config};

const EVENTS: u64 = 100_000;

/// Writes `EVENTS` 3-field `cache_miss` events (a 10-byte `&str`, a `u32`,
/// an `f64`) and returns the bytes per event the records took on disk.
fn bytes_per_event(compression: Compression, name: &str) -> f64 {
    let path = std::env::temp_dir().join(format!("lmlog-size-{name}-{}.lmlog", std::process::id()));
    let per_event;
    {
        let _guard = lmlog::init(Config::new().output(&path).env_filter(false).compression(compression)).unwrap();
        lm_event!(info, "warm_up", n = 0u8);
        lmlog::flush();
        let before = std::fs::metadata(&path).unwrap().len();
        for i in 0..EVENTS {
            let key = if i % 2 == 0 { "user:42:ab" } else { "user:17:cd" };
            lm_event!(info, "cache_miss", key = key, shard = (i % 64) as u32, latency_ms = 0.125 * (i % 1024) as f64);
        }
        lmlog::flush();
        let after = std::fs::metadata(&path).unwrap().len();
        per_event = (after - before) as f64 / EVENTS as f64;
        eprintln!("cache_miss, compression {compression:?}: {per_event:.2} bytes per event on disk");
    }
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut out).unwrap();
    assert_eq!(summary.events, EVENTS + 1, "every event decodes");
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    std::fs::remove_file(&path).ok();
    per_event
}

#[test]
fn three_field_event_size_stored_and_compressed() {
    // Stored: 1 (id) + 1–3 (tick delta) + 11 (string) + 1 (u32) + 8 (f64),
    // plus the frame and records headers shared by a drain's records.
    let stored = bytes_per_event(Compression::Off, "off");
    assert!((22.0..=25.0).contains(&stored), "{stored} bytes per event stored");
    let compressed = bytes_per_event(Compression::Always, "always");
    assert!(compressed <= 16.0, "{compressed} bytes per event compressed");
}
