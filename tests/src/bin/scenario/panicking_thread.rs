//! `lmlog-scenario panicking-thread FILE`: a thread panics in the middle of
//! logging, inside the encoder of the event it is logging, while three
//! other threads have events waiting in their staging buffers. The writer
//! drains only when asked (the flush interval is an hour), so whatever
//! reaches the file before shutdown was written by the panic hook's flush.
//!
//! 1. Workers `steady-0..3` and `doomed` each log [`BEFORE`] events, then
//!    wait until all have.
//! 2. `doomed` logs an event whose field panics while it is encoded.
//! 3. Once `doomed` has been joined (its panic seen), the file is copied to
//!    `FILE.at-panic`: what the panic hook flushed.
//! 4. The steady workers and the main thread log [`AFTER`] events each,
//!    then the runtime shuts down normally.
//!
//! Prints the panic message that `join` returned.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use lmlog::{lm_event, Encoder, LogValue};

/// Threads that keep logging.
pub const STEADY: u32 = 3;
/// Events every thread (the panicking one too) logs before the panic.
pub const BEFORE: u32 = 200;
/// Events the steady threads and the main thread log after it.
pub const AFTER: u32 = 100;

/// A field whose encoder panics.
struct Explodes;

impl LogValue for Explodes {
    const TYPE: &'static lmlog_format::TypeDesc = <u32 as LogValue>::TYPE;
    fn encode(&self, _enc: &mut Encoder<'_>) {
        panic!("encoder exploded");
    }
}

/// The path of the copy taken right after the panic.
pub fn at_panic(path: &Path) -> PathBuf {
    let mut copy = path.as_os_str().to_owned();
    copy.push(".at-panic");
    PathBuf::from(copy)
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config = lmlog::Config::new().output(path).env_filter(false).flush_interval(Duration::from_secs(3600));
    let _guard = lmlog::init(config)?;
    let logged = Arc::new(Barrier::new(STEADY as usize + 2));
    let resume = Arc::new(Barrier::new(STEADY as usize + 1));
    let steady: Vec<_> = (0..STEADY)
        .map(|worker| {
            let (logged, resume) = (logged.clone(), resume.clone());
            std::thread::Builder::new().name(format!("steady-{worker}")).spawn(move || {
                for seq in 0..BEFORE {
                    lm_event!(info, "steady", worker, seq);
                }
                logged.wait();
                resume.wait();
                for seq in BEFORE..BEFORE + AFTER {
                    lm_event!(info, "steady", worker, seq);
                }
            })
        })
        .collect::<Result<_, _>>()?;
    let doomed = {
        let logged = logged.clone();
        std::thread::Builder::new().name("doomed".into()).spawn(move || {
            for seq in 0..BEFORE {
                lm_event!(info, "doomed", seq);
            }
            logged.wait();
            lm_event!(info, "explodes", seq = BEFORE, value = Explodes);
        })?
    };
    logged.wait();
    let panic = doomed.join().expect_err("the doomed thread panics");
    let message = panic.downcast_ref::<&str>().copied().unwrap_or("(not a string)");
    std::fs::copy(path, at_panic(path))?;
    println!("{message}");
    resume.wait();
    for seq in 0..AFTER {
        lm_event!(info, "main_after", seq);
    }
    for worker in steady {
        worker.join().map_err(|_| "a steady worker panicked")?;
    }
    Ok(())
}
