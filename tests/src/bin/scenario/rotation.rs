//! `lmlog-scenario rotation DIR RUN`: 5000 `tick` events (fields `run`,
//! `i`) into `DIR/app.lmlog`, rotated every 8 KiB, keeping up to 100
//! closed files. Run it again on the same DIR to continue the series.
//!
//! `lmlog-scenario rotation-burst DIR`: 20,000 events logged without a
//! pause into `DIR/app.lmlog`, rotated every 64 KiB: a drain holds many
//! frames, so only a per-frame check keeps each file near its limit.

use std::path::Path;

use lmlog::lm_event;

/// Events the scenario writes.
pub const EVENTS: u64 = 5_000;

pub fn run(dir: &Path, run: &str) -> Result<(), Box<dyn std::error::Error>> {
    let run: u32 = run.parse()?;
    let path = dir.join("app.lmlog");
    let _guard = lmlog::init(lmlog::Config::new().output(&path).env_filter(false).rotate(8 << 10, 100))?;
    for i in 0..EVENTS {
        lm_event!(info, "tick", run, i = i, note = "rotation test");
        if i % 250 == 0 {
            lmlog::flush();
        }
    }
    Ok(())
}

/// Events of the burst scenario.
pub const BURST_EVENTS: u64 = 20_000;

pub fn run_burst(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let path = dir.join("app.lmlog");
    let config = lmlog::Config::new()
        .output(&path)
        .env_filter(false)
        .compression(lmlog::Compression::Off)
        .flush_interval(std::time::Duration::from_secs(10))
        .rotate(64 << 10, 1000);
    let _guard = lmlog::init(config)?;
    for i in 0..BURST_EVENTS {
        lm_event!(info, "tick", i = i, note = "a burst of events drained at once, rotated frame by frame");
    }
    Ok(())
}
