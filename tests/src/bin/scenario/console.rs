//! `lmlog-scenario console (alone|alone-rotate|file|file-jsonl|running|unread|jsonl-full) DIR`: the runtime's
//! console output (`Config::console`) and its outputs side by side.
//!
//! - `alone`: `Config::new().console(true)`, run in DIR (which must stay
//!   empty: nothing goes to disk);
//! - `file`: `.output(DIR/app.lmlog).console(true)`;
//! - `file-jsonl`: `.output(DIR/app.lmlog).output_jsonl(DIR/app.jsonl)`,
//!   both rotating at 16 KiB, no console;
//! - `alone-rotate`: `Config::new().console(true).rotate(..)`: prints
//!   `init`'s error on standard output and logs nothing;
//! - `running`: like `file`, but instead of `stopped` prints `logged` on
//!   standard output and sleeps for ten minutes without flushing: the test
//!   reads the console while this process lives, then kills it;
//! - `unread`: like `file`, drained every 5 ms, with [`MANY_STEPS`] steps
//!   per thread spread over about a second (hundreds of drains, more than
//!   the console's channel holds), then `lmlog::flush()`, prints `logged`
//!   on standard output and waits for its standard input to close before
//!   the `stopped` event: the test reads the file while nobody reads the
//!   console;
//! - `jsonl-full`: `.output(DIR/app.lmlog).output_jsonl("/dev/full")`: a
//!   JSON Lines output that cannot be written, beside the binary log.
//!
//! Each logs a `started` warning with a message from the main thread, then
//! [`STEPS`] `step` events from each of three threads named `console-W`
//! (fields `w`, `i` and a `note` with a space), then a `stopped` error.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use lmlog::{lm_event, Config};

/// `step` events per thread.
pub const STEPS: u32 = 2_000;
/// `step` events per thread in `unread`.
pub const MANY_STEPS: u32 = 20_000;

pub fn run(mode: &str, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::new().env_filter(false).flush_interval(Duration::from_millis(20));
    let config = match mode {
        "alone" => {
            std::env::set_current_dir(dir)?;
            config.console(true)
        }
        "alone-rotate" => {
            std::env::set_current_dir(dir)?;
            match lmlog::init(config.console(true).rotate(1 << 20, 4)) {
                Ok(_guard) => println!("ok"),
                Err(e) => println!("{e:?}: {e}"),
            }
            return Ok(());
        }
        "file" | "running" => config.output(dir.join("app.lmlog")).console(true),
        "unread" => config.output(dir.join("app.lmlog")).console(true).flush_interval(Duration::from_millis(5)),
        "file-jsonl" => config.output(dir.join("app.lmlog")).output_jsonl(dir.join("app.jsonl")).rotate(16 << 10, 1000),
        "jsonl-full" => config.output(dir.join("app.lmlog")).output_jsonl("/dev/full"),
        _ => return Err(format!("unknown mode {mode}").into()),
    };
    let _guard = lmlog::init(config)?;
    lm_event!(warn, "started", "service {name} up", name = "checkout");
    let unread = mode == "unread";
    let steps = if unread { MANY_STEPS } else { STEPS };
    let workers: Vec<_> = (0..3u32)
        .map(|w| {
            std::thread::Builder::new().name(format!("console-{w}")).spawn(move || {
                for i in 0..steps {
                    lm_event!(info, "step", w, i, note = "two words");
                    if unread && i % 100 == 99 {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for w in workers {
        w.join().map_err(|_| "a worker panicked")?;
    }
    if mode == "unread" {
        lmlog::flush();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "logged")?;
        stdout.flush()?;
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new())?;
    }
    if mode == "running" {
        let mut stdout = std::io::stdout();
        writeln!(stdout, "logged")?;
        stdout.flush()?;
        std::thread::sleep(Duration::from_secs(600));
    }
    lm_event!(error, "stopped", "{count} steps done", count = 3 * steps);
    Ok(())
}
