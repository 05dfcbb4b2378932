//! `lmlog::events` and `lm_exception!` in a real process, decoded: each
//! event of the universal vocabulary with its event type, level, message
//! and fields, and errors with their type, message, source chain and (when
//! enabled) backtrace.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{decode_lines, TempDir};

/// Runs `lmlog-scenario SCENARIO FILE` with backtraces on (`"1"`) or off
/// (`"0"`) and decodes the file, which must be clean.
pub(crate) fn run_with_backtraces(scenario: &str, dir: &Path, backtrace: &str) -> Vec<Value> {
    let path = dir.join(format!("{scenario}-{backtrace}.lmlog"));
    let output = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"))
        .args([scenario, path.to_str().unwrap()])
        .env("RUST_BACKTRACE", backtrace)
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean());
    lines
}

fn run(dir: &Path, backtrace: &str) -> Vec<Value> {
    run_with_backtraces("vocabulary", dir, backtrace)
}

/// The level, message and fields of each line.
fn shape(line: &Value) -> (&str, &str, Option<&str>, &Value) {
    (line["event_type"].as_str().unwrap(), line["level"].as_str().unwrap(), line["message"].as_str(), &line["fields"])
}

#[test]
fn every_event_of_the_vocabulary_decodes_with_its_fields() {
    let dir = TempDir::new("vocabulary");
    let lines = run(dir.path(), "0");
    assert_eq!(lines.len(), 14);
    let expected = [
        (
            "state_change",
            "info",
            "order order_456: status changed from pending to completed",
            json!({"entity_type": "order", "entity_id": "order_456", "field": "status", "before": "pending", "after": "completed", "trigger": "payment_received"}),
        ),
        (
            "state_change",
            "info",
            "invoice inv_9: status changed from Pending to Paid",
            json!({"entity_type": "invoice", "entity_id": "inv_9", "field": "status", "before": "Pending", "after": "Paid", "trigger": null}),
        ),
        (
            "data_anomaly",
            "warn",
            "user user_123: balance is 0, expected 100",
            json!({"entity_type": "user", "entity_id": "user_123", "field": "balance", "expected": 100, "actual": 0}),
        ),
        (
            "business_rule_violation",
            "warn",
            "user 123 broke payment_limit_exceeded: 1500 where 1000 holds",
            json!({"entity_type": "user", "entity_id": "123", "rule": "payment_limit_exceeded", "expected": 1000, "actual": 1500}),
        ),
        (
            "integration_failure",
            "error",
            "payments-api POST /charges failed after 3 attempt(s): 503 Service Unavailable",
            json!({"service": "payments-api", "operation": "POST /charges", "error": "503 Service Unavailable", "status_code": 503, "attempts": 3}),
        ),
        (
            "performance_issue",
            "warn",
            "database_query took 5000.0 ms, over its 1000.0 ms",
            json!({"operation": "database_query", "duration_ms": 5000.0, "threshold_ms": 1000.0}),
        ),
        (
            "performance_issue",
            "info",
            "cache_lookup took 2.5 ms, within its 10.0 ms",
            json!({"operation": "cache_lookup", "duration_ms": 2.5, "threshold_ms": 10.0}),
        ),
        (
            "authentication_issue",
            "warn",
            "user u7: oauth refused: expired_token",
            json!({"entity_type": "user", "entity_id": "u7", "method": "oauth", "reason": "expired_token"}),
        ),
        (
            "user_behavior_anomaly",
            "warn",
            "user u7: login_burst (42 against a usual 3)",
            json!({"entity_type": "user", "entity_id": "u7", "behavior": "login_burst", "observed": 42, "baseline": 3}),
        ),
    ];
    for (line, (event_type, level, message, fields)) in lines.iter().zip(&expected) {
        assert_eq!(shape(line), (*event_type, *level, Some(*message), fields), "{line}");
    }

    // `io::Error::other(e)` shows `e` and hands on `e`'s own source (none).
    let chain = json!(["connection reset by peer"]);
    assert_eq!(
        shape(&lines[9]),
        (
            "exception",
            "error",
            Some("lmlog_scenario::vocabulary::ChargeError: charge of order 42 failed"),
            &json!({
                "exception_type": "lmlog_scenario::vocabulary::ChargeError",
                "exception_message": "charge of order 42 failed",
                "sources": chain,
                "backtrace": null,
                "operation": "charge",
                "order_id": 42,
            })
        )
    );
    assert_eq!(
        lines[10]["fields"]["exception_type"],
        "dyn core::error::Error + core::marker::Send + core::marker::Sync"
    );
    assert_eq!(lines[10]["fields"]["exception_message"], "disk full");
    assert_eq!(lines[10]["fields"]["sources"], json!([]));
    assert_eq!(lines[11]["fields"]["operation"], "retry");
    assert_eq!(lines[11]["fields"]["sources"], chain);
    assert_eq!(lines[11]["message"], lines[9]["message"]);
    assert_eq!(
        lines[12]["fields"]["exception_type"],
        "alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>"
    );
    assert_eq!(lines[12]["fields"]["exception_message"], "disk full");
    assert_eq!(
        shape(&lines[13]),
        (
            "exception",
            "error",
            Some("&str: quota exceeded"),
            &json!({
                "exception_type": "&str", "exception_message": "quota exceeded", "sources": [], "backtrace": null, "operation": "upload",
            })
        )
    );
}

#[test]
fn exceptions_carry_a_backtrace_when_backtraces_are_enabled() {
    let dir = TempDir::new("vocabulary-backtrace");
    let lines = run(dir.path(), "1");
    for line in &lines[9..] {
        let backtrace = line["fields"]["backtrace"].as_str().expect("a backtrace");
        assert!(backtrace.contains("lmlog_scenario::vocabulary::run"), "{backtrace}");
    }
}
