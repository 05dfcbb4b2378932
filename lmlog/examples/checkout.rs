//! LMLog's vocabulary in one service call: `cargo run -p lmlog --example
//! checkout [FILE]` writes `checkout.lmlog` and prints it decoded as JSON
//! Lines.
//!
//! A `checkout` operation (with an event inside and a nested `payment`
//! operation that fails), a state change, a performance issue from
//! `#[lmlog::log_performance]`, an exception with its `source()` chain
//! (`lm_exception!`), the global context (from `Config` and
//! `lmlog::global_context`), and OpenTelemetry baggage carried with the
//! active span's trace context.

use std::time::Duration;

use lmlog::events::StateChange;
use lmlog::{lm_event, lm_exception, lm_operation};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};

/// The payment gateway failed; its cause is the I/O error underneath.
#[derive(Debug)]
struct PaymentError {
    cause: std::io::Error,
}

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment gateway unavailable")
    }
}

impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// Slower than its 5 ms budget: logs `performance_issue` at `warn`.
#[lmlog::log_performance(threshold_ms = 5)]
fn reserve_stock(items: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(8));
    items
}

fn charge(_amount: f64) -> Result<(), PaymentError> {
    let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "gateway timed out after 3 attempts");
    Err(PaymentError { cause })
}

fn checkout() {
    let mut op = lm_operation!("checkout", user_type = "premium");
    lm_event!(info, "cart_loaded", items = 3u32, total = 59.9);
    reserve_stock(3);
    lm_event!(StateChange {
        entity_type: "order",
        entity_id: "order_456",
        field: "status",
        before: "pending",
        after: "payment_pending",
        trigger: Some("checkout"),
    });
    {
        let mut payment = lm_operation!("payment", provider = "acme-pay");
        if let Err(err) = charge(59.9) {
            lm_exception!(&err, operation = "charge", order_id = "order_456");
            payment.fail(&err);
        }
    } // operation_error, in checkout
    lm_event!(StateChange {
        entity_type: "order",
        entity_id: "order_456",
        field: "status",
        before: "payment_pending",
        after: "payment_failed",
        trigger: None,
    });
    op.fail("payment failed");
} // operation_error

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "checkout.lmlog".to_string());
    {
        let config = lmlog::Config::new()
            .output(&path)
            .truncate(true) // a fresh file each run
            .service_name("checkout")
            .global_context("region", "eu-west-1");
        let _guard = lmlog::init(config)?;
        lmlog::global_context::insert("deployment", "canary");
        // The request's trace context and baggage, as a tracing layer or an
        // incoming request's propagator would have set them.
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?,
            SpanId::from_hex("00f067aa0ba902b7")?,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let baggage = [KeyValue::new("tenant", "acme"), KeyValue::new("request.id", "r-17")];
        let _request = Context::current().with_baggage(baggage).with_remote_span_context(span).attach();
        checkout();
    } // the guard flushes, ends the stream and joins the writer
    let mut jsonl = Vec::new();
    let summary = lmlog_decode::decode_file(&path, &mut jsonl)?;
    print!("{}", String::from_utf8(jsonl)?);
    eprintln!("checkout: {} events decoded from {path} ({} bytes)", summary.events, summary.bytes_read);
    Ok(())
}
