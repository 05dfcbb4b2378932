//! Runs the README's demo (`cargo run -p lmlog --example demo`) as a real child process (four worker threads plus
//! main) and checks the decoded JSON Lines: every event exactly once, in
//! per-thread order, with source lines and thread names.

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
            assert_eq!(line["source"]["line"], 34);
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
