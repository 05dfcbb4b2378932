//! `lmlog-scenario rotation DIR`: 5000 events into `DIR/app.lmlog`, rotated
//! every 8 KiB, keeping up to 100 old files.

use std::path::Path;

use lmlog::lm_event;

/// Events the scenario writes.
pub const EVENTS: u64 = 5_000;

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let path = dir.join("app.lmlog");
    let _guard = lmlog::init(lmlog::Config::new().output(&path).env_filter(false).rotate(8 << 10, 100))?;
    for i in 0..EVENTS {
        lm_event!(info, "tick", i = i, note = "rotation test");
        if i % 250 == 0 {
            lmlog::flush();
        }
    }
    Ok(())
}
