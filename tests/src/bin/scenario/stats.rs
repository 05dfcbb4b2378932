//! `lmlog-scenario stats FILE`: four threads log into small staging
//! buffers under `Overflow::Drop` (so some events are dropped), some at a
//! sampled call site, and exit; the main thread flushes and prints, as one
//! JSON object, the events it knows were emitted (`expected_emitted`) and
//! `lmlog::stats()`.

use std::path::Path;

use lmlog::lm_event;

/// Threads, and events each logs at the plain and at the sampled site.
const THREADS: u64 = 4;
const PLAIN: u64 = 40_000;
const SAMPLED: u64 = 10_000;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let config =
        lmlog::Config::new().output(path).env_filter(false).buffer_capacity(64 << 10).overflow(lmlog::Overflow::Drop);
    let _guard = lmlog::init(config)?;
    let payload = "x".repeat(100);
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let payload = payload.clone();
            std::thread::spawn(move || {
                for seq in 0..PLAIN {
                    lm_event!(info, "bulk", thread, seq, payload = payload.as_str());
                }
                for seq in 0..SAMPLED {
                    lm_event!(info, "sampled", sample: 0.5, thread, seq);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")?;
    }
    lm_event!(warn, "done");
    lmlog::flush();
    let s = lmlog::stats();
    let out = serde_json::json!({
        "expected_emitted": THREADS * (PLAIN + SAMPLED) + 1,
        "emitted": s.emitted,
        "written": s.written,
        "sampled_out": s.sampled_out,
        "dropped": s.dropped,
        "bytes_written": s.bytes_written,
        "sink_errors": s.sink_errors,
        "held_events": s.held_events,
        "blocked_nanos": s.blocked_nanos,
        "writer_busy_permille": s.writer_busy_permille,
        "staging_high_water_bytes": s.staging_high_water_bytes,
    });
    println!("{out}");
    Ok(())
}
