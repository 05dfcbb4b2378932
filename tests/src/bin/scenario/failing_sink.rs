//! `lmlog-scenario failing-sink FILE`: ten rounds of events, each round
//! flushed; the sink fails every write of rounds 3, 4 and 5. A call site
//! and a thread first log in round 3, so their descriptions are in a lost
//! batch, and log again in every later round.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog::lm_event;

/// Rounds whose writes fail.
pub const FAILING_ROUNDS: std::ops::Range<u32> = 3..6;
/// Rounds in all.
pub const ROUNDS: u32 = 10;
/// Events of the steady call site per round.
pub const PER_ROUND: u32 = 100;

/// A file sink that fails while `failing` is set.
struct Failing {
    file: File,
    failing: Arc<AtomicU32>,
}

impl lmlog::Sink for Failing {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failing.load(Ordering::SeqCst) != 0 {
            return Err(io::Error::other("no space left on device (scenario)"));
        }
        self.file.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn late_site(round: u32) {
    lm_event!(warn, "late_site", round);
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let failing = Arc::new(AtomicU32::new(0));
    let sink = Failing { file: File::create(path)?, failing: failing.clone() };
    let config = lmlog::Config::new().sink(sink).env_filter(false).flush_interval(Duration::from_secs(3600));
    let _guard = lmlog::init(config)?;
    for round in 0..ROUNDS {
        failing.store(u32::from(FAILING_ROUNDS.contains(&round)), Ordering::SeqCst);
        for i in 0..PER_ROUND {
            lm_event!(info, "steady", round, i);
        }
        if round >= FAILING_ROUNDS.start {
            late_site(round);
            std::thread::Builder::new()
                .name(format!("late-thread-{round}"))
                .spawn(move || lm_event!(info, "from_late_thread", round))?
                .join()
                .map_err(|_| "late thread panicked")?;
        }
        lmlog::flush();
    }
    failing.store(0, Ordering::SeqCst);
    Ok(())
}
