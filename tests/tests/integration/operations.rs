//! `lm_operation!` in a real process (`lmlog-scenario operations`): the
//! events of each operation carry it (nested ones their parent), the start,
//! end and error events have their fields, and an instrumented future
//! carries its operation to the thread that finishes it, while the thread
//! that started it logs outside it meanwhile.

use serde_json::{json, Value};

use crate::support::{decode_command, run_scenario, TempDir};

#[test]
fn events_carry_their_operation_and_operations_log_their_life() {
    let dir = TempDir::new("operations");
    let path = dir.path().join("app.lmlog");
    run_scenario(&["operations", path.to_str().unwrap()]);
    let output = decode_command().arg(&path).output().unwrap();
    assert!(output.status.success());
    let lines: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let op = |id: u64, name: &str, parent: Option<u64>| json!({"id": id, "name": name, "parent_id": parent});
    let expected = [
        ("operation_start", "main", Some(op(1, "checkout", None))),
        ("cart_loaded", "main", Some(op(1, "checkout", None))),
        ("operation_start", "main", Some(op(2, "payment", Some(1)))),
        ("card_declined", "main", Some(op(2, "payment", Some(1)))),
        ("operation_error", "main", Some(op(2, "payment", Some(1)))),
        ("operation_end", "main", Some(op(1, "checkout", None))),
        ("idle", "main", None),
        ("operation_start", "main", Some(op(3, "report", None))),
        ("operation_error", "main", Some(op(3, "report", None))),
        ("operation_start", "main", Some(op(4, "export", None))),
        ("outside_before_poll", "main", None),
        ("export_started", "main", Some(op(4, "export", None))),
        ("outside_while_pending", "main", None),
        ("export_resumed", "executor-2", Some(op(4, "export", None))),
        ("operation_end", "executor-2", Some(op(4, "export", None))),
        ("done", "main", None),
    ];
    let actual: Vec<(&str, &str, Option<Value>)> = lines
        .iter()
        .map(|l| {
            (l["event_type"].as_str().unwrap(), l["thread"]["name"].as_str().unwrap(), l.get("operation").cloned())
        })
        .collect();
    assert_eq!(actual, expected.to_vec());

    let fields = |i: usize| &lines[i]["fields"];
    assert_eq!(fields(0), &json!({"operation": "checkout", "user_type": "premium"}));
    assert_eq!(lines[0]["message"], "checkout started");
    assert_eq!(fields(4)["outcome"], "error");
    assert_eq!(fields(4)["error"], "card declined");
    assert_eq!(fields(5)["outcome"], "ok");
    assert_eq!(fields(8)["outcome"], "panic");
    assert_eq!(lines[8]["level"], "error");
    for i in [4, 5, 8, 14] {
        assert!(fields(i)["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{}", lines[i]);
    }
    assert_eq!(fields(9)["format"], "csv");
    // Each life-cycle event has the source of its `lm_operation!`.
    assert!(lines[5]["source"]["file"].as_str().unwrap().ends_with("operations.rs"));
    assert_eq!(lines[5]["source"]["line"], lines[0]["source"]["line"]);
    assert_eq!(lines[5]["source"]["function"], lines[0]["source"]["function"]);

    let logfmt = decode_command().args(["--format", "logfmt"]).arg(&path).output().unwrap();
    let logfmt = String::from_utf8(logfmt.stdout).unwrap();
    let card = logfmt.lines().find(|l| l.contains("event=card_declined")).unwrap();
    assert!(card.contains(" operation.id=2 operation.name=payment operation.parent_id=1 "), "{card}");
}
