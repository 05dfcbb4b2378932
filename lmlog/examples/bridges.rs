//! A service whose dependencies log through `log` and `tracing`: its own
//! `lm_event!`s and both dependencies' records go into one file,
//! `bridges.lmlog` (or the path given), decoded and printed with their
//! original source locations.
//!
//!     cargo run -p lmlog --example bridges --features log,tracing

use lmlog::lm_event;
use tracing_subscriber::layer::SubscriberExt;

/// Stands for a dependency that logs through `log`.
mod cache {
    pub fn get(key: &str) -> Option<u64> {
        log::debug!(key; "lookup");
        log::info!(key, hit = false; "cache miss for {}", key);
        None
    }
}

/// Stands for a dependency that logs through `tracing`.
mod http {
    pub fn serve(path: &str, handler: impl FnOnce() -> u64) -> u64 {
        let span = tracing::info_span!("request", path, method = "GET");
        let _entered = span.enter();
        let status = handler();
        tracing::info!(status, latency_us = 130u64, "served {}", path);
        status
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "bridges.lmlog".to_string());
    {
        // `LMLOG=info,bridges::cache=warn` keeps the `log` dependency's info records out.
        let _guard = lmlog::init(lmlog::Config::new().output(&path).truncate(true).filter("info"))?;
        lmlog::bridge::log::init()?;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lmlog::bridge::tracing::layer()))?;

        lm_event!(info, "service_started", "listening on port {port}", port = 8080u16);
        http::serve("/orders/42", || match cache::get("order:42") {
            Some(_) => 200,
            None => {
                lm_event!(warn, "order_missing", order_id = 42u64);
                404
            }
        });
    } // the guard flushes, ends the stream and joins the writer
    let mut jsonl = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut jsonl)?;
    print!("{}", String::from_utf8(jsonl)?);
    eprintln!("bridges: {} events decoded from {path}", summary.events);
    Ok(())
}
