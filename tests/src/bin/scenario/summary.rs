//! `lmlog-scenario summary FILE EVENTS`: about EVENTS events for the
//! decoder's summary, from four threads (`worker-0` .. `worker-3`, each a
//! quarter of them) and the main thread:
//!
//! - `request` (info): `route` one of four, `status` one of three,
//!   `latency_us` rising, `user_id` taking up to 1,000 values;
//! - every 10th request also `cache_miss` (debug, `key` of many values);
//! - every 100th also `payment_failed` (warn, message
//!   `"payment of {amount} failed for user {user_id}"`, amounts varying,
//!   `reason` one of two);
//! - every 1,000th also `db_error` (error, `"query {query} failed"`);
//! - on the main thread `started` before the workers and `stopped` after
//!   them (info, with the event count), and between them one `big_payload`
//!   larger than the 64 KiB staging buffer: it is dropped, and the stream
//!   counts it (`lmlog.dropped`).
//!
//! Prints the number of events logged (drops included).

use std::path::Path;

use lmlog::lm_event;

/// Worker threads.
pub const THREADS: u64 = 4;
const ROUTES: [&str; 4] = ["/home", "/pay", "/search", "/account"];
const STATUSES: [u16; 3] = [200, 200, 500];

pub fn run(path: &Path, events: &str) -> Result<(), Box<dyn std::error::Error>> {
    let events: u64 = events.parse().map_err(|_| format!("not an event count: {events}"))?;
    let config = lmlog::Config::new()
        .output(path)
        .filter("trace")
        .env_filter(false)
        .service_name("summary-demo")
        .buffer_capacity(64 << 10);
    let _guard = lmlog::init(config)?;
    lm_event!(info, "started", threads = THREADS);
    let per_thread = events / THREADS;
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::Builder::new().name(format!("worker-{t}")).spawn(move || {
                let mut logged = 0u64;
                for i in 0..per_thread {
                    let n = i * THREADS + t;
                    let route = ROUTES[(n % 4) as usize];
                    let status = STATUSES[(n % 3) as usize];
                    lm_event!(info, "request", route = route, status = status, latency_us = n, user_id = n % 1000);
                    logged += 1;
                    if n.is_multiple_of(10) {
                        lm_event!(debug, "cache_miss", key = format!("user:{n}"));
                        logged += 1;
                    }
                    if n.is_multiple_of(100) {
                        let reason = if n.is_multiple_of(200) { "declined" } else { "timeout" };
                        let amount = (n % 700) as f64 / 4.0;
                        lm_event!(
                            warn,
                            "payment_failed",
                            "payment of {amount} failed for user {user_id}",
                            amount = amount,
                            user_id = n % 1000,
                            reason = reason
                        );
                        logged += 1;
                    }
                    if n.is_multiple_of(1000) {
                        lm_event!(error, "db_error", "query {query} failed", query = format!("select {n}"));
                        logged += 1;
                    }
                }
                logged
            })
        })
        .collect::<Result<_, _>>()?;
    let big = "x".repeat(128 << 10);
    lm_event!(info, "big_payload", payload = big.as_str());
    let mut logged = 3;
    for worker in workers {
        logged += worker.join().map_err(|_| "a worker panicked")?;
    }
    lm_event!(info, "stopped", events = logged);
    println!("{logged}");
    Ok(())
}
