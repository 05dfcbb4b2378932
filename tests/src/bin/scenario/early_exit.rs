//! `lmlog-scenario early-exit FILE`: starts the runtime with FILE as its
//! output and exits at once, without dropping the guard.

use std::path::Path;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    // Neither a drain nor a shutdown: only what `init` wrote is in the file.
    std::mem::forget(guard);
    std::process::exit(0)
}
