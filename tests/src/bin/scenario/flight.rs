//! `lmlog-scenario flight FILE MODE`: the flight recorder
//! (`Config::flight_recorder(5)`) under the filter `info`.
//!
//! - `error`: 20 `step` debug events (the last 5 in a `batch` operation,
//!   one of them a derived event type), then an `error` event; then 2 more
//!   `step` events and a second error; then 3 `step` events and no error.
//! - `no-error`: 20 `step` debug events and an info event, no error.
//! - `threads`: two threads each log 10 `step` debug events; then (after
//!   both have) the second logs an info event and the first, 300 ms later
//!   (after watermarks newer than its steps), an error.
//! - `sampled`: the recorder with process-wide sampling
//!   (`Config::sample_level(Info, 0.0)` and a `Sampler` that drops the
//!   event type `dropped_failure`): 10 `step` debug events, 10 `progress`
//!   info events (all sampled out: sampling, not the filter, turns them
//!   away, so the recorder does not keep them), an `error` event; 3 more
//!   steps, a `dropped_failure` error the sampler turns away (it writes
//!   nothing of the recorder), a `failed_again` error.
//!
//! Prints `lmlog::stats()` after `flush()` as one JSON object.

use std::path::Path;
use std::sync::{Arc, Barrier};

use lmlog::{lm_event, lm_operation, Level, LogEvent, SamplePolicy, SiteInfo};

/// A derived debug event type: the recorder keeps every kind of event.
#[derive(LogEvent)]
#[lmlog(name = "cache_probe", level = "debug", message = "probe {key}")]
struct CacheProbe<'a> {
    key: &'a str,
    seq: u32,
}

fn steps(thread: u32, from: u32, to: u32) {
    for seq in from..to {
        lm_event!(debug, "step", "step {seq}", thread, seq, note = format!("note {seq}"));
    }
}

pub fn run(path: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = lmlog::Config::new().output(path).env_filter(false).filter("info").flight_recorder(5);
    if mode == "sampled" {
        config = config.sample_level(Level::Info, 0.0).sampler(|site: &SiteInfo| {
            if site.event_type == "dropped_failure" {
                SamplePolicy::DROP
            } else {
                SamplePolicy::KEEP
            }
        });
    }
    let _guard = lmlog::init(config)?;
    lm_event!(info, "started", mode);
    match mode {
        "error" => {
            steps(0, 0, 15);
            {
                let _batch = lm_operation!("batch");
                steps(0, 15, 19);
                lm_event!(CacheProbe { key: "user:7", seq: 19 });
                lm_event!(error, "failed", "step failed: {reason}", reason = "disk full");
            }
            steps(0, 20, 22);
            lm_event!(error, "failed_again", reason = "still full");
            steps(0, 22, 25);
        }
        "sampled" => {
            steps(0, 0, 10);
            for seq in 0..10u32 {
                lm_event!(info, "progress", seq);
            }
            lm_event!(error, "failed", reason = "disk full");
            steps(0, 10, 13);
            lm_event!(error, "dropped_failure", reason = "ignored");
            lm_event!(error, "failed_again", reason = "still full");
        }
        "no-error" => {
            steps(0, 0, 20);
            lm_event!(info, "finished", steps = 20u32);
        }
        "threads" => {
            let both_logged = Arc::new(Barrier::new(2));
            let workers: Vec<_> = [1u32, 2]
                .into_iter()
                .map(|thread| {
                    let both_logged = both_logged.clone();
                    std::thread::spawn(move || {
                        steps(thread, 0, 10);
                        both_logged.wait();
                        if thread == 1 {
                            // Drains and their watermarks pass while the
                            // recorder holds the steps.
                            std::thread::sleep(std::time::Duration::from_millis(300));
                            lm_event!(error, "failed", "step failed: {reason}", reason = "timeout");
                        } else {
                            lm_event!(info, "finished", steps = 10u32);
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.join().map_err(|_| "a worker panicked")?;
            }
        }
        _ => return Err(format!("unknown mode {mode}").into()),
    }
    lmlog::flush();
    let s = lmlog::stats();
    let out = serde_json::json!({
        "emitted": s.emitted,
        "written": s.written,
        "sampled_out": s.sampled_out,
        "dropped": s.dropped,
    });
    println!("{out}");
    Ok(())
}
