//! Emits events from four threads into `demo.lmlog`, then decodes the file
//! to `demo.jsonl` with the lmlog-decode library and prints it.

// What the macros generate (including the unchecked record writes of
// bounded events) compiles in a crate that forbids `unsafe`.
#![forbid(unsafe_code)]

use lmlog::{lm_event, LogEvent};

#[derive(LogEvent)]
#[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id}")]
struct PaymentFailed<'a> {
    user_id: u64,
    amount: f64,
    reason: &'a str,
    tags: Vec<String>,
    #[lmlog(redact)]
    card_number: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "demo.lmlog".to_string());
    {
        let _guard = lmlog::init(lmlog::Config::new().output(&path).truncate(true))?; // a fresh file each run
        lm_event!(PaymentFailed {
            user_id: 7,
            amount: 12.5,
            reason: "card_declined",
            tags: vec!["eu".into()],
            card_number: "4111111111111111",
        });
        let workers: Vec<_> = (0..4u32)
            .map(|w| {
                std::thread::Builder::new()
                    .name(format!("worker-{w}"))
                    .spawn(move || {
                        for i in 0..3u32 {
                            lm_event!(info, "cache_miss", key = "user:7", latency_us = 130u32 + i, worker = w);
                        }
                    })
                    .expect("spawn worker")
            })
            .collect();
        for w in workers {
            w.join().expect("worker panicked");
        }
        lm_event!(debug, "order_shipped", "order {order_id} shipped to {city}", order_id = 42u64, city = "Oslo");
        lmlog::flush();
    } // the guard flushes, ends the stream and joins the writer
    let mut jsonl = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut jsonl)?;
    print!("{}", String::from_utf8(jsonl)?);
    eprintln!("demo: {} events decoded from {path} ({} bytes)", summary.events, summary.bytes_read);
    Ok(())
}
