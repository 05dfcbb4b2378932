//! `lmlog-scenario file-modes DIR` (run it under the umask to test):
//! creates `DIR/plain` with `File::create` (mode 0o666 less the umask), a
//! rotated binary series `DIR/app.lmlog` with the default mode, the JSON
//! Lines output `DIR/app.jsonl` with `file_mode(0o600)`, and appends to
//! `DIR/existing.lmlog`, which the test created beforehand.

use std::path::Path;

use lmlog::lm_event;

pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::File::create(dir.join("plain"))?;
    {
        let _guard =
            lmlog::init(lmlog::Config::new().output(dir.join("app.lmlog")).env_filter(false).rotate(4096, 10))?;
        for i in 0..3000u32 {
            lm_event!(info, "tick", i);
            if i % 100 == 0 {
                lmlog::flush();
            }
        }
    }
    {
        let config = lmlog::Config::new().output_jsonl(dir.join("app.jsonl")).env_filter(false).file_mode(0o600);
        let _guard = lmlog::init(config)?;
        lm_event!(info, "tick", i = 0u32);
    }
    let _guard = lmlog::init(lmlog::Config::new().output(dir.join("existing.lmlog")).env_filter(false))?;
    lm_event!(info, "tick", i = 0u32);
    Ok(())
}
