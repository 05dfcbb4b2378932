//! `lmlog-scenario otel FILE`: one event inside an active OpenTelemetry span
//! context (trace 4bf92f3577b34da6a3ce929d0e0e4736, span 00f067aa0ba902b7,
//! sampled), one outside it; then one inside a span with a trace state
//! (`vendor=opaque,congo=t61rcWkgMzE`) and baggage (`tenant` acme,
//! `request.id` r-17, `secret` s3, of which `Config::baggage_keys` allows the
//! first two), and one with the baggage but no span (which records none).

use std::path::Path;

use lmlog::lm_event;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
    let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
    let config = lmlog::Config::new().output(path).env_filter(false).baggage_keys(["tenant", "request.id"]);
    let _guard = lmlog::init(config)?;
    let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
    {
        let _attached = Context::current().with_remote_span_context(span).attach();
        lm_event!(info, "in_span", n = 1u8);
    }
    lm_event!(info, "no_span", n = 2u8);

    let state: TraceState = "vendor=opaque,congo=t61rcWkgMzE".parse()?;
    let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, state);
    let baggage = [KeyValue::new("tenant", "acme"), KeyValue::new("request.id", "r-17"), KeyValue::new("secret", "s3")];
    {
        let with_baggage = Context::current().with_baggage(baggage);
        let _attached = with_baggage.with_remote_span_context(span).attach();
        lm_event!(info, "in_span_with_baggage", n = 3u8);
    }
    {
        let _attached = Context::current().with_baggage([KeyValue::new("tenant", "acme")]).attach();
        lm_event!(info, "baggage_only", n = 4u8);
    }
    Ok(())
}
