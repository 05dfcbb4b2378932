//! `lmlog-scenario failing-sink FILE SPILL_BYTES`: ten rounds of events,
//! each round flushed; the sink fails every write of rounds 3, 4 and 5
//! (three in a row: the writer's circuit breaker opens), and round 6 starts
//! once the writer has found the sink working again. A call site and a
//! thread first log in round 3, so their descriptions are in a batch the
//! sink did not take, and log again in every later round. With
//! `SPILL_BYTES` 0 the writer drops what the sink does not take; with room
//! it holds it and writes it late.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog::{lm_event, BreakerState};

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

pub fn run(path: &Path, spill_bytes: usize) -> Result<(), Box<dyn std::error::Error>> {
    let failing = Arc::new(AtomicU32::new(0));
    let sink = Failing { file: File::create(path)?, failing: failing.clone() };
    let config = lmlog::Config::new()
        .sink(sink)
        .env_filter(false)
        .flush_interval(Duration::from_secs(3600))
        .spill_capacity(spill_bytes);
    let _guard = lmlog::init(config)?;
    for round in 0..ROUNDS {
        failing.store(u32::from(FAILING_ROUNDS.contains(&round)), Ordering::SeqCst);
        if round == FAILING_ROUNDS.end {
            wait_for_recovery()?;
        }
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

/// Waits (at most 30 s) until the writer has tried the sink again after
/// its back-off and found it working: it does so on its own, and writes
/// the loss report then.
fn wait_for_recovery() -> Result<(), String> {
    for _ in 0..30_000 {
        let status = lmlog::sink_status();
        if status.breaker == BreakerState::Closed && status.spilled_bytes == 0 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(format!("the writer never found the sink working again: {:?}", lmlog::sink_status()))
}
