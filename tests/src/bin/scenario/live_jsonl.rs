//! `lmlog-scenario live-jsonl FILE`: the runtime writes JSON Lines itself
//! (`Config::output_jsonl`, decoding on a background thread): one event
//! with a message from the main thread, then 500 from each of two workers.

use std::path::Path;

use lmlog::lm_event;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output_jsonl(path).env_filter(false))?;
    lm_event!(warn, "started", "service {name} up", name = "checkout");
    let workers: Vec<_> = (0..2u32)
        .map(|w| {
            std::thread::Builder::new().name(format!("jsonl-{w}")).spawn(move || {
                for i in 0..500u32 {
                    lm_event!(info, "step", w, i);
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for w in workers {
        w.join().map_err(|_| "a worker panicked")?;
    }
    Ok(())
}
