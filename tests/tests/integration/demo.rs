//! Runs the README's demos as real child processes and checks the decoded
//! JSON Lines: `demo` (four worker threads plus main: every event exactly
//! once, in per-thread order, with source lines and thread names) and
//! `checkout` (LMLog's vocabulary).

use std::collections::HashMap;
use std::process::Command;

use crate::support::{decode_lines, TempDir};

#[test]
fn child_process_events_decode_exactly_once_in_thread_order() {
    let dir = TempDir::new("demo");
    let log = dir.path().join("child.lmlog");
    let status = Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "lmlog", "--example", "demo", "--"])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run the demo example");
    assert!(status.success());
    let (lines, summary) = decode_lines(&log);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(lines.len(), 14);
    let mut per_worker: HashMap<u64, Vec<u64>> = HashMap::new();
    for line in &lines {
        if line["event_type"] == "cache_miss" {
            let worker = line["fields"]["worker"].as_u64().unwrap();
            assert_eq!(line["thread"]["name"], format!("worker-{worker}"));
            assert_eq!(line["source"]["line"], 38);
            assert_eq!(line["source"]["function"], "demo::main");
            per_worker.entry(worker).or_default().push(line["fields"]["latency_us"].as_u64().unwrap());
        }
    }
    assert_eq!(per_worker.len(), 4);
    for latencies in per_worker.values() {
        assert_eq!(latencies, &[130, 131, 132], "per-thread order");
    }
    let payment = lines.iter().find(|l| l["event_type"] == "payment_failed").unwrap();
    assert_eq!(payment["message"], "payment of 12.5 failed for user 7");
    assert_eq!(payment["fields"]["card_number"], "<redacted>");
    assert_eq!(payment["thread"]["name"], "main");
}

/// Runs the vocabulary demo (`cargo run -p lmlog --example checkout`) as a
/// child process and checks what it shows: the nested operations, a state
/// change, the attribute macro's performance issue, the exception with its
/// chain, the global context and the baggage, on the decoded lines.
#[test]
fn the_checkout_demo_shows_the_vocabulary() {
    let dir = TempDir::new("checkout-demo");
    let log = dir.path().join("checkout.lmlog");
    let status = Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "lmlog", "--example", "checkout", "--"])
        .arg(&log)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run the checkout example");
    assert!(status.success());
    let (lines, summary) = decode_lines(&log);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let types: Vec<&str> = lines.iter().map(|l| l["event_type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "operation_start",
            "cart_loaded",
            "performance_issue",
            "state_change",
            "operation_start",
            "exception",
            "operation_error",
            "state_change",
            "operation_error"
        ]
    );
    let checkout = serde_json::json!({"id": 1, "name": "checkout", "parent_id": null});
    let payment = serde_json::json!({"id": 2, "name": "payment", "parent_id": 1});
    let operations: Vec<&serde_json::Value> = lines.iter().map(|l| &l["operation"]).collect();
    assert_eq!(
        operations,
        [&checkout, &checkout, &checkout, &checkout, &payment, &payment, &payment, &checkout, &checkout]
    );
    for line in &lines {
        assert_eq!(line["global_context"], serde_json::json!({"deployment": "canary", "region": "eu-west-1"}));
        assert_eq!(line["trace"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(line["trace"]["baggage"], serde_json::json!({"request.id": "r-17", "tenant": "acme"}));
    }
    let slow = &lines[2];
    assert_eq!(slow["level"], "warn");
    assert_eq!(slow["fields"]["function"], "reserve_stock");
    assert!(slow["fields"]["duration_ms"].as_f64().unwrap() > 5.0);
    assert_eq!(lines[3]["fields"]["after"], "payment_pending");
    let exception = &lines[5];
    assert_eq!(exception["level"], "error");
    assert_eq!(exception["fields"]["exception_type"], "checkout::PaymentError");
    assert_eq!(exception["fields"]["sources"], serde_json::json!(["gateway timed out after 3 attempts"]));
    assert_eq!(exception["fields"]["backtrace"], serde_json::Value::Null, "backtraces are off");
    assert_eq!(lines[6]["fields"]["error"], "payment gateway unavailable");
    assert_eq!(lines[8]["fields"]["error"], "payment failed");
}
