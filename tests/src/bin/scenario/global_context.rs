//! `lmlog-scenario global-context DIR`: the global context over a run,
//! into `DIR/app.lmlog`, rotated every 4 KiB.
//!
//! 1. `Config::global_context("tier", "gold")`: `started`;
//! 2. `region` and `replicas` inserted: `configured`, then `from_worker` on
//!    another thread;
//! 3. `replicas` removed: `scaled`;
//! 4. `bulk` events (`i` 0..2000) over several files, `replicas` set to 5
//!    halfway (`i` 1000 on), most likely within one drain: the decoder
//!    places the change by its tick count among the drain's records;
//! 5. cleared: `cleared`; then `late` inserted: `relabelled`.

use std::path::Path;

use lmlog::{global_context, lm_event};

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new()
        .output(dir.join("app.lmlog"))
        .env_filter(false)
        .rotate(4 << 10, 1000)
        .global_context("tier", "gold");
    let _guard = lmlog::init(config)?;
    lm_event!(info, "started");
    global_context::insert("region", "eu-west-1");
    global_context::insert("replicas", 3);
    lm_event!(info, "configured");
    std::thread::Builder::new().name("worker".into()).spawn(|| lm_event!(info, "from_worker"))?.join().unwrap();
    global_context::remove("replicas");
    lm_event!(info, "scaled");
    lmlog::flush();
    for i in 0..2000u32 {
        if i == 1000 {
            global_context::insert("replicas", 5u8);
        }
        lm_event!(info, "bulk", i = i, note = "enough text to fill a few small files of the rotated series");
    }
    global_context::clear();
    lm_event!(info, "cleared");
    global_context::insert("late", true);
    lm_event!(info, "relabelled");
    Ok(())
}
