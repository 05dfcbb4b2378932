//! `lmlog-scenario rotation DIR RUN`: 5000 `tick` events (fields `run`,
//! `i`) into `DIR/app.lmlog`, rotated every 8 KiB, keeping up to 100
//! closed files. Run it again on the same DIR to continue the series.

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
