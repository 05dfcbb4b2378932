//! `lmlog-scenario jsonl-rotation DIR`: 3000 `step` events (field `i`)
//! into the JSON Lines output `DIR/app.jsonl`, rotated every 16 KiB of
//! JSON, keeping up to 1000 closed files; a flush every 100 events.

use std::path::Path;

use lmlog::lm_event;

/// Events the scenario writes.
pub const EVENTS: u32 = 3_000;
/// The size limit of a JSON Lines file.
pub const MAX_BYTES: u64 = 16 << 10;

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new().output_jsonl(dir.join("app.jsonl")).env_filter(false).rotate(MAX_BYTES, 1000);
    let _guard = lmlog::init(config)?;
    for i in 0..EVENTS {
        lm_event!(info, "step", i, note = "JSON Lines rotation");
        if i % 100 == 99 {
            lmlog::flush();
        }
    }
    Ok(())
}
