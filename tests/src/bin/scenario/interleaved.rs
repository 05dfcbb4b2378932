//! `lmlog-scenario interleaved FILE`: [`THREADS`] threads, `worker-0` …,
//! logging at the same time for several drain intervals, each event
//! carrying its thread's number `t` and its sequence number `i`: the file
//! holds each thread's records in blocks, one per drain, so its stored
//! order steps back in time wherever one thread's block follows another's.

use std::path::Path;
use std::time::{Duration, Instant};

use lmlog::lm_event;

/// Threads logging at once.
pub const THREADS: u32 = 4;
/// Events per thread.
pub const EVENTS: u32 = 5_000;
/// How long each thread spreads its events over: several drains.
const SPAN: Duration = Duration::from_millis(600);

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::Builder::new().name(format!("worker-{t}")).spawn(move || {
                let start = Instant::now();
                for i in 0..EVENTS {
                    lm_event!(info, "step", t, i);
                    // Paced: event `i` not before its share of the span.
                    let due = SPAN * i / EVENTS;
                    while start.elapsed() < due {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for thread in threads {
        thread.join().map_err(|_| "a worker panicked")?;
    }
    Ok(())
}
