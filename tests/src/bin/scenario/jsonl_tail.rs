//! `lmlog-scenario jsonl-tail FILE`: logs 1000 `step` events (field `i`)
//! into the JSON Lines output FILE, prints `logged` on standard output and
//! sleeps for ten minutes without flushing: the test reads the file while
//! this process lives, then kills it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use lmlog::lm_event;

/// Events the scenario writes.
pub const EVENTS: u32 = 1_000;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new().output_jsonl(path).env_filter(false).flush_interval(Duration::from_millis(20));
    let _guard = lmlog::init(config)?;
    for i in 0..EVENTS {
        lm_event!(info, "step", i, note = "seen by tail -f");
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "logged")?;
    stdout.flush()?;
    std::thread::sleep(Duration::from_secs(600));
    Ok(())
}
