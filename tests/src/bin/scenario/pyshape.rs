//! `lmlog-scenario pyshape FILE`: the events `tests/fixtures/lmlog-py/capture.py`
//! logs through the Python LMLog 0.3.0, in the same order, through lmlog: a
//! plain event, one about an entity, an operation (`user_type` premium)
//! around an event, a failing operation, two plain events, a state change,
//! a performance issue over its threshold and one within it, an exception
//! with a source, an event inside an OpenTelemetry span (trace
//! 4bf92f3577b34da6a3ce929d0e0e4736, span 00f067aa0ba902b7, sampled, trace
//! state `vendor=opaque`); then one with baggage (`tenant` acme) in that span,
//! an event whose `entity_id` is a number and whose optional field is
//! `None`, and an event in an operation (`pick`, `priority` high) nested in
//! another (`fulfilment`, `warehouse` w1, `priority` low). Backtraces follow the environment the test gives.

use std::error::Error;
use std::path::Path;

use lmlog::events::{PerformanceIssue, StateChange};
use lmlog::{lm_event, lm_exception, lm_operation};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};

use crate::vocabulary::ChargeError;

pub fn run(path: &Path) -> Result<(), Box<dyn Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false).service_name("checkout"))?;

    lm_event!(info, "cache_warmed", entries = 128u32, ratio = 0.75);
    lm_event!(info, "cart_loaded", entity_type = "cart", entity_id = "cart_7", items = 3u32);
    {
        let _checkout = lm_operation!("checkout", user_type = "premium");
        lm_event!(info, "payment_authorized", amount = 59.9);
    }
    {
        let mut refund = lm_operation!("refund");
        refund.fail("card expired");
    }
    lmlog::global_context::insert("region", "eu-west");
    lm_event!(info, "config_loaded", version = 4u32);
    lmlog::global_context::clear();
    lm_event!(info, "config_reloaded", version = 5u32);
    lm_event!(StateChange {
        entity_type: "order",
        entity_id: "order_456",
        field: "status",
        before: "pending",
        after: "completed",
        trigger: Some("payment_received"),
    });
    lm_event!(PerformanceIssue { operation: "database_query", duration_ms: 5000.0, threshold_ms: 1000.0 });
    lm_event!(PerformanceIssue { operation: "cache_lookup", duration_ms: 2.5, threshold_ms: 10.0 });
    let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
    let error = ChargeError { source: cause };
    lm_exception!(&error, operation = "charge");

    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
    let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
    let state: TraceState = "vendor=opaque".parse()?;
    let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, state);
    {
        let _attached = Context::current().with_remote_span_context(span.clone()).attach();
        lm_event!(info, "request_handled", status = 200u16);
    }
    {
        let with_baggage = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
        let _attached = with_baggage.with_remote_span_context(span).attach();
        lm_event!(info, "tenant_resolved", tenant_count = 1u32);
    }
    lm_event!(info, "invoice_sent", entity_type = "invoice", entity_id = 9001u64, copy_to = None::<&str>);
    {
        let _fulfilment = lm_operation!("fulfilment", warehouse = "w1", priority = "low");
        let _pick = lm_operation!("pick", priority = "high");
        lm_event!(info, "item_picked", sku = "A-1");
    }
    Ok(())
}
