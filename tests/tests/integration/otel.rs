//! With an OpenTelemetry span context active on the calling thread, the
//! decoded event carries its trace id, span id and flags; without one, no
//! `trace` key; baggage and the trace state ride along when present
//! (`lmlog-scenario otel`).

use crate::support::{decode_lines, run_scenario, TempDir};

#[test]
fn active_span_context_reaches_jsonl() {
    let dir = TempDir::new("otel");
    let path = dir.path().join("otel.lmlog");
    run_scenario(&["otel", path.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["event_type"], "in_span");
    assert_eq!(lines[0]["trace"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(lines[0]["trace"]["span_id"], "00f067aa0ba902b7");
    assert_eq!(lines[0]["trace"]["trace_flags"], "01");
    assert!(lines[1].get("trace").is_none());
    // The trace state and the baggage the configuration allows, in the `trace` object.
    assert_eq!(
        lines[2]["trace"],
        serde_json::json!({
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "span_id": "00f067aa0ba902b7",
            "trace_flags": "01",
            "trace_state": "vendor=opaque,congo=t61rcWkgMzE",
            "baggage": {"tenant": "acme", "request.id": "r-17"},
        })
    );
    // Outside a span, baggage is not looked up.
    assert!(lines[3].get("trace").is_none());
}
