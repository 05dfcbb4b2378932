//! `lmlog-scenario append FILE RUN (append|truncate)`: one run of a
//! program that logs 100 `run_event`s (fields `run`, `i`) into FILE,
//! appending to what earlier runs left there or truncating it.

use std::path::Path;

use lmlog::lm_event;

/// Events each run writes.
pub const EVENTS: u32 = 100;

pub fn run(path: &Path, run: &str, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let run: u32 = run.parse()?;
    let truncate = match mode {
        "append" => false,
        "truncate" => true,
        _ => return Err(format!("append or truncate, not {mode}").into()),
    };
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false).truncate(truncate))?;
    for i in 0..EVENTS {
        lm_event!(info, "run_event", run, i);
    }
    Ok(())
}
