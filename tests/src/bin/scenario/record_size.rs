//! `lmlog-scenario record-size FILE (off|always)`: 100 000 3-field
//! `cache_miss` events (a 10-byte `&str`, a `u32`, an `f64`) after a
//! warm-up event; prints the bytes per event they took on disk (FORMAT.md
//! and BENCHMARKS.md quote the figures).

use std::path::Path;

use lmlog::{lm_event, Compression, Config};

/// Events measured (the file holds one more, the warm-up).
pub const EVENTS: u64 = 100_000;

pub fn run(path: &Path, compression: &str) -> Result<(), Box<dyn std::error::Error>> {
    let compression = match compression {
        "off" => Compression::Off,
        "always" => Compression::Always,
        other => return Err(format!("compression must be off or always, not {other}").into()),
    };
    let _guard = lmlog::init(Config::new().output(path).env_filter(false).compression(compression))?;
    lm_event!(info, "warm_up", n = 0u8);
    lmlog::flush();
    let before = std::fs::metadata(path)?.len();
    for i in 0..EVENTS {
        let key = if i % 2 == 0 { "user:42:ab" } else { "user:17:cd" };
        lm_event!(info, "cache_miss", key = key, shard = (i % 64) as u32, latency_ms = 0.125 * (i % 1024) as f64);
    }
    lmlog::flush();
    let after = std::fs::metadata(path)?.len();
    println!("{:.2}", (after - before) as f64 / EVENTS as f64);
    Ok(())
}
