//! With an OpenTelemetry span context active on the calling thread, the
//! decoded event carries its trace id, span id and flags; without one, no
//! `trace` key.
#![cfg(feature = "otel")]

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use lmlog::lm_event;

#[test]
fn active_span_context_reaches_jsonl() {
    let path = std::env::temp_dir().join(format!("lmlog-otel-{}.lmlog", std::process::id()));
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span_id = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    {
        let _guard = lmlog::init(lmlog::Config::new().output(&path)).unwrap();
        let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
        {
            let _attached = Context::current().with_remote_span_context(span).attach();
            lm_event!(info, "in_span", n = 1u8);
        }
        lm_event!(info, "no_span", n = 2u8);
    }
    let mut out = Vec::new();
    lmlog_decode::decode_file(&path, &mut out).unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["event_type"], "in_span");
    assert_eq!(lines[0]["trace"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(lines[0]["trace"]["span_id"], "00f067aa0ba902b7");
    assert_eq!(lines[0]["trace"]["trace_flags"], "01");
    assert!(lines[1].get("trace").is_none());
    std::fs::remove_file(&path).ok();
}
