//! The `log` and `tracing` bridges (`lmlog-scenario bridges MODE`): every
//! record once, with its level, target (as the module, filtered by it),
//! original file and line, message and typed fields; spans; both bridges
//! at once; `tracing-log`'s `LogTracer`.

use serde_json::{json, Value};

use crate::support::{decode_lines, scenario_output, TempDir};

const FILE: &str = "tests/src/bin/scenario/bridges.rs";
const MODULE: &str = "lmlog_scenario::bridges";

/// The events `lmlog-scenario bridges MODE` wrote (the decoder reports no
/// problem), and what it printed.
fn run(mode: &str) -> (Vec<Value>, String) {
    let dir = TempDir::new(&format!("bridges-{mode}"));
    let path = dir.path().join("bridges.lmlog");
    let printed = scenario_output(&["bridges", mode, path.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{summary:?}");
    (lines, printed)
}

fn ns(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["fields"]["n"].as_u64().unwrap()).collect()
}

/// The event's source is where its macro was called: the line it carries
/// in `line`, in the scenario's file, with its target as the module.
fn assert_source(event: &Value, module: &str) {
    let source = &event["source"];
    assert_eq!(source["file"], FILE, "{event}");
    assert_eq!(source["line"], event["fields"]["line"], "{event}");
    assert_eq!(source["module"], module, "{event}");
}

/// The OpenTelemetry trace is captured for the last event only.
fn assert_trace(events: &[Value]) {
    let (last, others) = events.split_last().unwrap();
    assert_eq!(last["trace"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "{last}");
    assert!(others.iter().all(|e| e.get("trace").is_none()));
}

#[test]
fn log_records_keep_level_target_source_message_and_typed_key_values() {
    let (events, printed) = run("log");
    assert_eq!(printed.trim(), "max_level=DEBUG", "log::max_level is the filter's most verbose level");
    // Filtered out: info from `chatty`, debug from this module, trace from
    // `verbose` (by `log::max_level`).
    assert_eq!(ns(&events), [1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10, 11]);
    assert_trace(&events);
    for event in &events {
        assert_eq!(event["event_type"], "log");
        assert_eq!(event["message"], event["fields"]["message"], "{event}");
    }
    let first = &events[0];
    assert_eq!(first["level"], "info");
    assert_eq!(first["message"], "order 42 done in 1.5 ms");
    assert_eq!(
        first["fields"],
        json!({
            "message": "order 42 done in 1.5 ms", "n": 1, "line": first["fields"]["line"], "count": 3, "delta": -2,
            "ratio": 0.5, "ok": true, "name": "ada", "big": u128::MAX.to_string(), "addr": "10.0.0.7",
            "path": "\"/srv/data\"", "initial": "x",
        })
    );
    let levels: Vec<&str> = events[1..4].iter().map(|e| e["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "warn", "info"]);
    let repeated: Vec<&Value> = events[4..7].iter().map(|e| &e["fields"]["i"]).collect();
    assert_eq!(repeated, [0, 1, 2]);
    assert_eq!(events[7]["message"], "plain message");
    for event in &events {
        let module = match event["fields"]["n"].as_u64() {
            Some(7) => "chatty",
            Some(8) => "lmlog_scenario::bridges::verbose",
            _ => MODULE,
        };
        assert_source(event, module);
    }
    assert_eq!(events[9]["level"], "debug");
    // One call site, two sets of keys: each record has its own.
    assert_eq!(events[10]["fields"]["first"], "only here");
    assert_eq!(events[11]["fields"]["second"], 2);
    assert!(events[11]["fields"].get("first").is_none());
}

#[test]
fn tracing_events_keep_their_fields_and_their_span() {
    let (events, printed) = run("tracing");
    assert_eq!(printed.trim(), "max_level=info", "the layer's hint is the filter's most verbose level");
    assert_eq!(ns(&events), [1, 2, 3, 4, 5]);
    assert_trace(&events);
    for event in &events {
        assert_eq!(event["event_type"], "tracing");
        assert_source(event, if event["fields"]["n"] == 4 { "chatty" } else { MODULE });
    }
    let first = &events[0];
    assert_eq!(first["message"], "paid 12.5 EUR");
    assert_eq!(
        first["fields"],
        json!({
            "message": "paid 12.5 EUR", "n": 1, "line": first["fields"]["line"], "count": 3, "delta": -2, "ratio": 0.5,
            "ok": true, "name": "ada", "big": u128::MAX.to_string(), "addr": "10.0.0.7", "list": "[1, 2]",
            "error": "disk full", "span": {"name": "checkout", "order_id": 42, "region": "eu"},
        })
    );
    // The field the span recorded later, and a field the event left empty.
    assert_eq!(events[1]["fields"]["span"], json!({"name": "checkout", "order_id": 42, "region": "eu", "user": "ada"}));
    assert_eq!(events[1]["fields"]["missing"], Value::Null);
    // No span, no message: no template.
    assert_eq!(events[2]["fields"]["span"], Value::Null);
    assert!(events[2].get("message").is_none(), "{}", events[2]);
    assert_eq!(events[3]["level"], "warn");
}

#[test]
fn a_service_gets_its_own_events_and_both_dependencies_once_each() {
    let (events, _) = run("service");
    assert_eq!(ns(&events), [1, 2, 3], "each event once (tracing also hands its events and spans to log)");
    let types: Vec<&str> = events.iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["app_started", "log", "tracing"]);
    assert_source(&events[0], MODULE);
    assert_source(&events[1], "lmlog_scenario::bridges::dep_log");
    assert_source(&events[2], "lmlog_scenario::bridges::dep_tracing");
    assert_eq!(events[1]["message"], "fetched user:7");
    assert_eq!(events[2]["message"], "served /orders");
    assert_eq!(events[2]["fields"]["span"], json!({"name": "request", "path": "/orders"}));
}

#[test]
fn log_records_through_log_tracer_keep_their_source() {
    let (events, printed) = run("log-tracer");
    let line: u64 = printed.trim().strip_prefix("line=").unwrap().parse().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["event_type"], "log");
    assert_eq!(event["level"], "warn");
    assert_eq!(event["message"], "through LogTracer 1");
    assert_eq!(event["source"]["module"], "legacy");
    assert_eq!(event["source"]["file"], FILE);
    assert_eq!(event["source"]["line"], line);
}
