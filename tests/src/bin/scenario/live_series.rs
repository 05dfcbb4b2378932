//! `lmlog-scenario live-series DIR (exit|hold)`: two threads log 1500
//! `beat` events each (fields `worker`, `i`), one every millisecond or so,
//! into `DIR/app.lmlog`, rotated every 4 KiB (a dozen files or more over
//! about two seconds), drained every 10 ms. `exit` then shuts down (the live
//! file ends with an End frame of reason `shutdown`); `hold` flushes,
//! prints `logged` and waits for its standard input to close before
//! shutting down, so the live file stays without an End frame meanwhile.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use lmlog::lm_event;

/// Threads that log.
pub const WORKERS: u64 = 2;
/// Events each thread logs.
pub const EVENTS_PER_WORKER: u64 = 1_500;

pub fn run(dir: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let hold = match mode {
        "exit" => false,
        "hold" => true,
        _ => return Err(format!("unknown mode {mode}: exit or hold").into()),
    };
    let config = lmlog::Config::new()
        .output(dir.join("app.lmlog"))
        .env_filter(false)
        .compression(lmlog::Compression::Off)
        .flush_interval(Duration::from_millis(10))
        .rotate(4 << 10, 1000);
    let _guard = lmlog::init(config)?;
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            std::thread::Builder::new().name(format!("worker-{worker}")).spawn(move || {
                for i in 0..EVENTS_PER_WORKER {
                    lm_event!(info, "beat", worker, i);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")?;
    }
    if hold {
        lmlog::flush();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "logged")?;
        stdout.flush()?;
        std::io::stdin().read_to_end(&mut Vec::new())?;
    }
    Ok(())
}
