//! `lmlog-scenario config-file CONFIG`: the runtime configured by
//! `Config::from_file(CONFIG)` alone; one event per level (`level_event`,
//! `n` = 1 for error to 5 for trace). An error reading the file is the
//! scenario's error, printed on stderr.

use std::path::Path;

use lmlog::lm_event;

pub fn run(config: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::from_file(config)?)?;
    lm_event!(error, "level_event", n = 1u8);
    lm_event!(warn, "level_event", n = 2u8);
    lm_event!(info, "level_event", n = 3u8);
    lm_event!(debug, "level_event", n = 4u8);
    lm_event!(trace, "level_event", n = 5u8);
    Ok(())
}
