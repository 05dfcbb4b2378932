//! `#[capture_errors]`, `#[log_performance]` and `#[log_calls]` in a real
//! process (`lmlog-scenario fn-attributes`), on sync and `async` functions
//! and a method: exactly the events each call should give, decoded.

use serde_json::{json, Value};

use crate::support::TempDir;
use crate::vocabulary::run_with_backtraces;

const MODULE: &str = "lmlog_scenario::fn_attributes";

#[test]
fn the_function_attributes_log_what_each_call_did() {
    let dir = TempDir::new("fn-attributes");
    let lines = run_with_backtraces("fn-attributes", dir.path(), "0");
    let events: Vec<(&str, &str, &Value)> =
        lines.iter().map(|l| (l["level"].as_str().unwrap(), l["event_type"].as_str().unwrap(), &l["fields"])).collect();
    let exception = |function: &str, exception_type: &str, message: &str| {
        json!({
            "exception_type": exception_type, "exception_message": message, "sources": [], "backtrace": null,
            "function": function, "module": MODULE,
        })
    };
    let expected_start = [
        (
            "error",
            "exception",
            exception("charge", "lmlog_scenario::fn_attributes::Declined", "card declined (3 attempts)"),
        ),
        ("error", "exception", exception("explode", "panic", "ledger out of balance")),
        ("error", "exception", exception("fetch", "std::io::error::Error", "upstream timed out")),
        ("error", "exception", exception("explode_later", "panic", "async ledger out of balance")),
    ];
    assert_eq!(events.len(), 12, "{events:#?}");
    for (event, (level, event_type, fields)) in events.iter().zip(&expected_start) {
        assert_eq!(*event, (*level, *event_type, fields));
    }

    let (level, event_type, slow) = events[4];
    assert_eq!(
        (level, event_type, &slow["function"], &slow["threshold_ms"]),
        ("warn", "performance_issue", &json!("slow"), &json!(5.0))
    );
    assert!(slow["duration_ms"].as_f64().unwrap() >= 30.0, "{slow}");
    let (level, event_type, quick) = events[5];
    assert_eq!(
        (level, event_type, &quick["function"], &quick["threshold_ms"]),
        ("info", "performance_info", &json!("quick"), &json!(10000.0))
    );
    assert!(quick["duration_ms"].as_f64().unwrap() < 10000.0);
    assert!(lines[4]["message"].as_str().unwrap().starts_with("slow took "), "{}", lines[4]);

    let calls = [
        ("info", "function_entry", json!({"function": "add", "module": MODULE, "a": 2, "opaque": null, "b": 3})),
        ("info", "function_exit", json!({"function": "add", "module": MODULE, "result": 5})),
        ("info", "function_entry", json!({"function": "parse", "module": MODULE})),
        (
            "info",
            "function_exit_error",
            json!({"function": "parse", "module": MODULE, "error": "invalid digit found in string"}),
        ),
        ("debug", "function_entry", json!({"function": "read", "module": format!("{MODULE}::meter")})),
        ("debug", "function_exit", json!({"function": "read", "module": format!("{MODULE}::meter"), "result": 1.5})),
    ];
    for (event, (level, event_type, fields)) in events[6..].iter().zip(&calls) {
        assert_eq!(*event, (*level, *event_type, fields));
    }
    // Each event's source is the attributed function.
    assert!(lines[0]["source"]["function"].as_str().unwrap().ends_with("charge"), "{}", lines[0]["source"]);
    assert!(lines.iter().all(|l| l["source"]["file"].as_str().unwrap().ends_with("fn_attributes.rs")));
}
