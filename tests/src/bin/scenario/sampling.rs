//! `lmlog-scenario sampling FILE`: call sites with `sample:` and
//! `rate_limit:` (and the derive's attributes) on several threads, some of
//! which exit before the end and one of which is still alive, idle, when
//! the runtime shuts down. Prints, as one JSON object, how many events each
//! event type emitted in all.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;

use lmlog::{lm_event, LogEvent};

/// Short-lived threads, each logging [`PER_THREAD`] of every sampled site.
pub const THREADS: u64 = 8;
/// `cache_miss` (`sample: 0.1`) events per thread.
pub const PER_THREAD: u64 = 12_500;
/// `burst` (`rate_limit: 2`) events per thread, back to back.
pub const BURST: u64 = 10;

#[derive(LogEvent)]
#[lmlog(name = "order_seen", level = "debug", sample = 0.5)]
struct OrderSeen {
    order: u64,
}

fn sampled_sites(thread: u64, counts: &mut BTreeMap<&'static str, u64>) {
    for key in 0..PER_THREAD {
        lm_event!(info, "cache_miss", sample: 0.1, thread, key);
    }
    *counts.entry("cache_miss").or_default() += PER_THREAD;
    for seq in 0..BURST {
        lm_event!(warn, "burst", "burst {seq}", rate_limit: 2, seq);
    }
    *counts.entry("burst").or_default() += BURST;
    for order in 0..100 {
        lm_event!(OrderSeen { order });
    }
    *counts.entry("order_seen").or_default() += 100;
    // An error with no option: always kept.
    lm_event!(error, "worker_done", thread);
    *counts.entry("worker_done").or_default() += 1;
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false).filter("debug"))?;
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    // Threads that exit before the end.
    let workers: Vec<_> = (1..=THREADS)
        .map(|thread| {
            std::thread::spawn(move || {
                let mut counts = BTreeMap::new();
                sampled_sites(thread, &mut counts);
                counts
            })
        })
        .collect();
    for worker in workers {
        for (event_type, n) in worker.join().map_err(|_| "a worker panicked")? {
            *counts.entry(event_type).or_default() += n;
        }
    }
    // A thread alive, idle, while the runtime shuts down.
    let (logged_tx, logged_rx) = mpsc::channel();
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    let idle = std::thread::spawn(move || {
        let mut counts = BTreeMap::new();
        sampled_sites(THREADS + 1, &mut counts);
        let _ = logged_tx.send(counts);
        let _ = exit_rx.recv();
    });
    for (event_type, n) in logged_rx.recv()? {
        *counts.entry(event_type).or_default() += n;
    }
    // The main thread: the rate limit lets events through again once its
    // window has passed.
    for round in 0..2u32 {
        for seq in 0..5u32 {
            lm_event!(info, "window", rate_limit: 2, round, seq);
        }
        if round == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
    }
    *counts.entry("window").or_default() += 10;
    drop(guard);
    let _ = exit_tx.send(());
    idle.join().map_err(|_| "the idle thread panicked")?;
    let counts: serde_json::Map<String, serde_json::Value> =
        counts.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    println!("{}", serde_json::Value::Object(counts));
    Ok(())
}
