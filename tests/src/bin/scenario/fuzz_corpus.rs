//! `lmlog-scenario fuzz-corpus DIR (off|always)`: a realistic log for the
//! decoder fuzzer, written to `DIR/app.lmlog` and rotated every 24 KiB (so
//! the series has several files), records frames stored as encoded (`off`)
//! or LZ4-compressed (`always`).
//!
//! Four named worker threads log [`EVENTS_PER_WORKER`] events each, cycling
//! through five event types (a derived struct with a nested sequence of
//! structs, an option and an enum; ad-hoc events with strings, `Display`
//! and `Debug` captures, arrays, byte strings, maps, durations, and a
//! template), some inside an OpenTelemetry span. Each flushes every 8
//! events, so the stream holds many small records frames, schema and
//! thread frames between them, and watermarks. One oversized event per
//! worker is dropped, so drop reports are in the stream too. Every event
//! carries `worker` and `seq`, unique per event.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use lmlog::{lm_event, Bytes, Compression, Config, LogEvent, LogValue};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

/// Worker threads.
pub const WORKERS: u32 = 4;
/// Events each worker logs (the oversized one is not counted).
pub const EVENTS_PER_WORKER: u32 = 400;

#[derive(LogValue)]
struct LineItem {
    sku: String,
    quantity: u16,
    unit_price: f64,
}

#[derive(LogValue)]
enum Outcome {
    Accepted,
    Retried(u8),
    Rejected { code: i32, reason: String },
}

#[derive(LogEvent)]
#[lmlog(name = "order_placed", level = "info", message = "order {order_id} by {customer}: {outcome}")]
struct OrderPlaced<'a> {
    worker: u32,
    seq: u32,
    order_id: u64,
    customer: &'a str,
    items: Vec<LineItem>,
    coupon: Option<&'a str>,
    outcome: Outcome,
}

fn order(worker: u32, seq: u32) -> OrderPlaced<'static> {
    let items = (0..seq % 4)
        .map(|i| LineItem {
            sku: format!("sku-{worker}-{i}"),
            quantity: (seq % 7) as u16,
            unit_price: 0.25 * f64::from(i),
        })
        .collect();
    let outcome = match seq % 3 {
        0 => Outcome::Accepted,
        1 => Outcome::Retried((seq % 5) as u8),
        _ => Outcome::Rejected { code: -(seq as i32), reason: "card declined".into() },
    };
    OrderPlaced {
        worker,
        seq,
        order_id: u64::from(worker) << 32 | u64::from(seq),
        customer: ["ada", "grace", "edsger", "barbara"][(seq % 4) as usize],
        items,
        coupon: seq.is_multiple_of(2).then_some("SPRING"),
        outcome,
    }
}

fn log_one(worker: u32, seq: u32, trace: &SpanContext) {
    match seq % 5 {
        0 => lm_event!(order(worker, seq)),
        1 => {
            let key = format!("user:{worker}:{seq}");
            lm_event!(debug, "cache_probe", worker, seq, %key, hit = seq.is_multiple_of(3), latencies_us = [seq, seq + 1, seq * 2]);
        }
        2 => {
            let error = std::io::Error::other("connection reset");
            let _span = opentelemetry::Context::current().with_remote_span_context(trace.clone()).attach();
            lm_event!(warn, "retrying", "attempt {attempt} after {delay}", worker, seq,
                attempt = (seq % 4) as u8, delay = Duration::from_millis(u64::from(seq)), kind = ?error.kind());
        }
        3 => {
            let payload: Vec<u8> = (0..seq % 32).map(|b| b as u8 ^ 0x5a).collect();
            lm_event!(trace, "bytes_seen", worker, seq, payload = Bytes(&payload), checksum = u128::from(seq) << 70);
        }
        _ => {
            let mut counters = BTreeMap::new();
            counters.insert("hits".to_string(), i64::from(seq));
            counters.insert("misses".to_string(), -i64::from(worker));
            lm_event!(
                error,
                "shard_stats",
                worker,
                seq,
                counters,
                ratio = f32::from(seq as u16) / 7.0,
                note = if seq.is_multiple_of(2) { None } else { Some("odd") },
                marker = 'λ'
            );
        }
    }
}

pub fn run(dir: &Path, compression: &str) -> Result<(), Box<dyn std::error::Error>> {
    let compression = match compression {
        "off" => Compression::Off,
        "always" => Compression::Always,
        other => return Err(format!("compression must be off or always, not {other}").into()),
    };
    let config = Config::new()
        .output(dir.join("app.lmlog"))
        .env_filter(false)
        .filter("trace")
        .compression(compression)
        .buffer_capacity(64 << 10)
        .rotate(24 << 10, 100);
    let _guard = lmlog::init(config)?;
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
    let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
    let trace = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let trace = trace.clone();
            std::thread::Builder::new().name(format!("fuzz-worker-{worker}")).spawn(move || {
                for seq in 0..EVENTS_PER_WORKER {
                    log_one(worker, seq, &trace);
                    if seq == EVENTS_PER_WORKER / 2 {
                        // Larger than the 64 KiB staging buffer: dropped, and
                        // reported by the worker's next record.
                        let huge = "x".repeat(100 << 10);
                        lm_event!(info, "oversized", worker, huge);
                    }
                    if seq % 8 == 7 {
                        lmlog::flush();
                    }
                }
            })
        })
        .collect::<Result<_, _>>()?;
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")?;
    }
    Ok(())
}
