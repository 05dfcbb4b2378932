//! Events larger than the staging buffer (`lmlog-scenario oversized`, a
//! 100 KiB string into a 4 KiB buffer), under both overflow policies: the
//! producer never hangs (the scenario runs under a watchdog), no oversized
//! event is written, and every event is either in the stream or counted
//! as lost in it, even when an oversized event is a thread's last before
//! shutdown.

use crate::support::{decode_lines, events_counted_lost, scenario_output_within_watchdog, TempDir};

/// Of the `middle` variant: the ordinary events, in order, and the
/// oversized ones (one on the main thread, one on a thread that exits).
pub(crate) const ORDINARY: [&str; 4] = ["before", "after", "nearly_full", "end"];
pub(crate) const OVERSIZED: u64 = 2;

/// Runs the scenario; returns the decoded lines.
pub(crate) fn run(policy: &str, variant: &str) -> Vec<serde_json::Value> {
    let dir = TempDir::new(&format!("oversized-{policy}-{variant}"));
    let path = dir.path().join("oversized.lmlog");
    scenario_output_within_watchdog(&["oversized", path.to_str().unwrap(), policy, variant]);
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{policy} {variant}: {:?}", summary.diagnostics);
    lines
}

/// The ordinary events in the stream, in order.
pub(crate) fn written(lines: &[serde_json::Value]) -> Vec<&str> {
    let written: Vec<&str> =
        lines.iter().map(|l| l["event_type"].as_str().unwrap()).filter(|e| !e.starts_with("lmlog.")).collect();
    assert!(!written.contains(&"oversized"), "{written:?}");
    written
}

#[test]
fn under_block_an_oversized_event_is_dropped_and_counted_and_every_other_event_written() {
    let lines = run("block", "middle");
    assert_eq!(written(&lines), ORDINARY);
    assert_eq!(events_counted_lost(&lines), OVERSIZED);
    // The main thread's drop is reported by its next record.
    let report = lines.iter().position(|l| l["event_type"] == "lmlog.dropped").expect("a drop report");
    assert_eq!(lines[report]["fields"]["count"], 1);
    assert_eq!(lines[report + 1]["event_type"], "after");
    let nearly_full = lines.iter().find(|l| l["event_type"] == "nearly_full").unwrap();
    assert_eq!(nearly_full["fields"]["payload"].as_str().unwrap().len(), 3000);
}

#[test]
fn under_drop_every_event_is_written_or_counted() {
    let lines = run("drop", "middle");
    let written = written(&lines);
    // Written after the buffer was drained: these fit.
    assert!(written.ends_with(&["nearly_full", "end"]), "{written:?}");
    assert_eq!(written.len() as u64 + events_counted_lost(&lines), ORDINARY.len() as u64 + OVERSIZED, "{written:?}");
}

/// The `last` variant: an oversized event on the main thread is its last
/// before shutdown, so no later record of the thread carries its count.
#[test]
fn an_oversized_event_just_before_shutdown_is_counted() {
    for policy in ["block", "drop"] {
        let lines = run(policy, "last");
        let written = written(&lines);
        if policy == "block" {
            assert_eq!(written, ["before", "after", "nearly_full"]);
        }
        // The three ordinary events, and three oversized ones (the main
        // thread's first and last, the exiting thread's).
        assert_eq!(written.len() as u64 + events_counted_lost(&lines), 3 + 3, "{policy}: {written:?}");
    }
}

/// Under `Overflow::Drop`, an oversized event costs only itself: the
/// producer knows the record's size once it overflows, and drops a record
/// larger than the largest buffer at once, without padding the ring (which
/// would cost the next event its room, or under `Block` a wait).
#[test]
fn under_drop_an_oversized_event_costs_no_other_event() {
    let lines = run("drop", "middle");
    assert_eq!(written(&lines), ORDINARY);
}

/// A drop report is timestamped within its run, also the writer's report
/// for a thread that dropped an event and committed no record (the thread
/// that logs only an oversized event and exits): the report carries the
/// time of the latest drop, which the thread notes as it drops.
#[test]
fn a_drop_report_is_timestamped_within_its_run() {
    let lines = run("block", "middle");
    let time = |event: &str| lines.iter().find(|l| l["event_type"] == event).unwrap()["timestamp"].clone();
    let (first, last) = (time("before"), time("end"));
    for report in lines.iter().filter(|l| l["event_type"] == "lmlog.dropped") {
        // RFC 3339 with nine fractional digits: text order is time order.
        let at = report["timestamp"].as_str().unwrap();
        assert!(first.as_str().unwrap() <= at && at <= last.as_str().unwrap(), "{first} .. {last}: {report}");
    }
}
