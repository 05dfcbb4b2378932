//! `lmlog-scenario saturated-compression FILE (adaptive|always|off)`: two
//! threads log the 3-field `cache_miss` event (with their index and a
//! sequence number) as fast as they can, losing nothing (`Overflow::Block`,
//! the default); then the main thread flushes four times with nothing new
//! (drains with time to spare) and logs a paced tail of `after` events, and
//! prints `lmlog::stats()` as one JSON object.

use std::path::Path;

use lmlog::{lm_event, Compression, Config};

/// Threads logging flat out, and events each logs.
pub const THREADS: u64 = 2;
pub const EVENTS: u64 = 300_000;
/// Events the main thread logs after the flood.
pub const AFTER: u64 = 2_000;

pub fn run(path: &Path, compression: &str) -> Result<(), Box<dyn std::error::Error>> {
    let compression = match compression {
        "adaptive" => Compression::Adaptive,
        "always" => Compression::Always,
        "off" => Compression::Off,
        other => return Err(format!("compression must be adaptive, always or off, not {other}").into()),
    };
    let _guard = lmlog::init(Config::new().output(path).env_filter(false).compression(compression))?;
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            std::thread::Builder::new()
                .name(format!("flood-{thread}"))
                .spawn_scoped(scope, move || {
                    for seq in 0..EVENTS {
                        let key = if seq % 2 == 0 { "user:42:ab" } else { "user:17:cd" };
                        let latency_ms = 0.125 * (seq % 1024) as f64;
                        lm_event!(info, "cache_miss", key = key, thread, seq, latency_ms = latency_ms);
                    }
                })
                .expect("spawn a flooding thread");
        }
    });
    for _ in 0..4 {
        lmlog::flush();
    }
    for seq in 0..AFTER {
        lm_event!(info, "after", seq, note = "the same text in every event");
    }
    lmlog::flush();
    let s = lmlog::stats();
    let out = serde_json::json!({
        "written": s.written,
        "dropped": s.dropped,
        "writer_busy_permille": s.writer_busy_permille,
    });
    println!("{out}");
    Ok(())
}
