//! `lmlog-scenario sink-outage PATH MODE`: a sink that fails, and what
//! the writer does about it. Events are `step` events numbered `i` from 0
//! on, in rounds of [`ROUND`] from one thread, flushed after each round.
//! After the runtime has shut down the scenario prints one JSON object: the
//! number of events emitted and `lmlog::sink_status()` (the `status` seen
//! mid-outage as well, where the mode has one).
//!
//! Modes (PATH is the log file, unless said otherwise):
//!
//! - `recovers`: the next [`FAILED_WRITES`] writes fail, then the sink works.
//! - `overflows`: every write fails for 40 rounds, with a 64 KiB spill
//!   buffer; then the sink works again.
//! - `fails-forever`: every write fails, from `init` to the end.
//! - `panics`: the next [`FAILED_WRITES`] writes panic, then a flush does.
//! - `writer-dies`: a write panics with a payload that panics again when
//!   dropped, which no `catch_unwind` contains: the writer thread dies, and
//!   100,000 events follow with 4 KiB staging buffers under the default
//!   `Overflow::Block`.
//! - `dev-full`: PATH is a full device (`/dev/full`), written through the
//!   default file output.
//! - `disk-full`: PATH is a directory on a small file system that a
//!   ballast file (`PATH/ballast`) nearly fills; the log is `PATH/app.lmlog`.
//!   Rounds go on until writes fail, then the ballast is removed.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lmlog::{lm_event, BreakerState, Compression, SinkStatus};

/// Events per round.
pub const ROUND: u64 = 1000;
/// Writes that fail (or panic) in `recovers` and `panics`.
pub const FAILED_WRITES: u64 = 5;

/// What the scenario asks of the sink.
#[derive(Default)]
struct Faults {
    /// Writes still to fail.
    fail_writes: AtomicU64,
    /// Every write fails while set.
    fail_all: AtomicBool,
    /// Writes still to panic.
    panic_writes: AtomicU64,
    /// The next flush panics.
    panic_flush: AtomicBool,
    /// The next write panics with a [`Bomb`].
    kill_writer: AtomicBool,
}

/// A file that fails on cue.
struct FaultySink {
    file: File,
    faults: Arc<Faults>,
}

/// A panic payload that panics when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the panic payload panics when dropped (scenario)");
    }
}

/// Takes one from `counter` if it is not 0.
fn take_one(counter: &AtomicU64) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl lmlog::Sink for FaultySink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.faults.kill_writer.swap(false, Ordering::SeqCst) {
            std::panic::panic_any(Bomb);
        }
        if take_one(&self.faults.panic_writes) {
            panic!("injected panic (scenario)");
        }
        if take_one(&self.faults.fail_writes) || self.faults.fail_all.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected failure (scenario)"));
        }
        self.file.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.faults.panic_flush.swap(false, Ordering::SeqCst) {
            panic!("injected flush panic (scenario)");
        }
        self.file.flush()
    }
}

/// Emits numbered events.
struct Emitter {
    next: u64,
}

impl Emitter {
    fn round(&mut self, events: u64) {
        for _ in 0..events {
            lm_event!(info, "step", i = self.next);
            self.next += 1;
        }
        lmlog::flush();
    }
}

/// Waits (at most 30 s) for the writer to publish a status that `done`
/// accepts; the writer retries a failing sink on its own.
fn wait_for(what: &str, done: impl Fn(&SinkStatus) -> bool) -> Result<SinkStatus, String> {
    for _ in 0..30_000 {
        let status = lmlog::sink_status();
        if done(&status) {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(format!("timed out waiting for {what}: {:?}", lmlog::sink_status()))
}

fn recovered(status: &SinkStatus) -> bool {
    status.breaker == BreakerState::Closed && status.spilled_bytes == 0
}

fn json(status: &SinkStatus) -> serde_json::Value {
    serde_json::json!({
        "breaker": format!("{:?}", status.breaker),
        "consecutive_failures": status.consecutive_failures,
        "failed_writes": status.failed_writes,
        "spilled_bytes": status.spilled_bytes,
        "spilled_events": status.spilled_events,
        "lost_events": status.lost_events,
        "lost_frames": status.lost_frames,
    })
}

pub fn run(path: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let faults = Arc::new(Faults::default());
    let faulty = |file: &Path| -> io::Result<FaultySink> {
        Ok(FaultySink { file: File::create(file)?, faults: faults.clone() })
    };
    let config = lmlog::Config::new().env_filter(false).flush_on_panic(false).compression(Compression::Off);
    let mut emitter = Emitter { next: 0 };
    let mut mid_outage = None;
    {
        let _guard = match mode {
            "recovers" => {
                let guard = lmlog::init(config.sink(faulty(path)?))?;
                emitter.round(ROUND);
                faults.fail_writes.store(FAILED_WRITES, Ordering::SeqCst);
                for _ in 0..10 {
                    emitter.round(ROUND);
                }
                wait_for("recovery", recovered)?;
                emitter.round(ROUND);
                guard
            }
            "overflows" => {
                let guard = lmlog::init(config.sink(faulty(path)?).spill_capacity(64 << 10))?;
                emitter.round(ROUND);
                faults.fail_all.store(true, Ordering::SeqCst);
                for _ in 0..40 {
                    emitter.round(ROUND);
                }
                mid_outage = Some(lmlog::sink_status());
                faults.fail_all.store(false, Ordering::SeqCst);
                wait_for("recovery", recovered)?;
                emitter.round(ROUND);
                guard
            }
            "fails-forever" => {
                faults.fail_all.store(true, Ordering::SeqCst);
                let guard = lmlog::init(config.sink(faulty(path)?).spill_capacity(64 << 10))?;
                for _ in 0..20 {
                    emitter.round(ROUND);
                }
                mid_outage = Some(wait_for("an open breaker", |s| s.breaker != BreakerState::Closed)?);
                guard
            }
            "panics" => {
                let guard = lmlog::init(config.sink(faulty(path)?))?;
                emitter.round(ROUND);
                faults.panic_writes.store(FAILED_WRITES, Ordering::SeqCst);
                for _ in 0..5 {
                    emitter.round(ROUND);
                }
                wait_for("recovery", recovered)?;
                faults.panic_flush.store(true, Ordering::SeqCst);
                emitter.round(ROUND);
                emitter.round(ROUND);
                guard
            }
            "writer-dies" => {
                let guard = lmlog::init(config.sink(faulty(path)?).buffer_capacity(4 << 10))?;
                emitter.round(100);
                faults.kill_writer.store(true, Ordering::SeqCst);
                emitter.round(10);
                emitter.round(100_000);
                guard
            }
            "dev-full" => {
                let guard = lmlog::init(config.output(path))?;
                for _ in 0..20 {
                    emitter.round(ROUND);
                }
                mid_outage = Some(wait_for("an open breaker", |s| s.breaker != BreakerState::Closed)?);
                guard
            }
            "disk-full" => {
                let guard = lmlog::init(config.output(path.join("app.lmlog")))?;
                let mut rounds = 0;
                while lmlog::sink_status().failed_writes == 0 {
                    rounds += 1;
                    if rounds > 10_000 {
                        return Err("the file system never filled up".into());
                    }
                    emitter.round(ROUND);
                }
                for _ in 0..5 {
                    emitter.round(ROUND);
                }
                mid_outage = Some(lmlog::sink_status());
                std::fs::remove_file(path.join("ballast"))?;
                wait_for("recovery", recovered)?;
                emitter.round(ROUND);
                guard
            }
            _ => return Err(format!("unknown sink-outage mode {mode}").into()),
        };
    }
    let report = serde_json::json!({
        "emitted": emitter.next,
        "mid_outage": mid_outage.as_ref().map(json),
        "status": json(&lmlog::sink_status()),
    });
    println!("{report}");
    Ok(())
}
