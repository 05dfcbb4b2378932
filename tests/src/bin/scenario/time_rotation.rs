//! `lmlog-scenario time-rotation DIR`: 60 `tick` events into
//! `DIR/app.lmlog`, 20 ms apart, with the file rotated every 200 ms
//! (aligned to multiples of 200 ms since the epoch): the events span at
//! least one boundary.

use std::path::Path;
use std::time::Duration;

use lmlog::lm_event;

/// Events the scenario writes.
pub const EVENTS: u32 = 60;
/// The rotation period.
pub const PERIOD: Duration = Duration::from_millis(200);

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new()
        .output(dir.join("app.lmlog"))
        .env_filter(false)
        .flush_interval(Duration::from_millis(10))
        .rotate_every(PERIOD);
    let _guard = lmlog::init(config)?;
    for i in 0..EVENTS {
        lm_event!(info, "tick", i);
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
