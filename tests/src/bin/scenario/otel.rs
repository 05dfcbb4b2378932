//! `lmlog-scenario otel FILE`: one event inside an active OpenTelemetry span
//! context (trace 4bf92f3577b34da6a3ce929d0e0e4736, span 00f067aa0ba902b7,
//! sampled), one outside it.

use std::path::Path;

use lmlog::lm_event;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
    let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
    {
        let _attached = Context::current().with_remote_span_context(span).attach();
        lm_event!(info, "in_span", n = 1u8);
    }
    lm_event!(info, "no_span", n = 2u8);
    Ok(())
}
