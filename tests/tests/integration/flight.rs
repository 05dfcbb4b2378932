//! The flight recorder (`lmlog-scenario flight`, `Config::flight_recorder(5)`
//! under the filter `info`): the last 5 events the filter turned away are
//! written, marked, with their own fields and times, right before an
//! `error` event of their thread; nothing of them reaches the file when no
//! error follows; another thread's are not written; `stats()` adds up;
//! every output format shows the mark.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{decode_command, decode_lines, scenario_output, TempDir};

/// Runs the scenario in `mode`; returns the log, its decoded lines and
/// the stats it printed.
fn run(dir: &TempDir, mode: &str) -> (PathBuf, Vec<Value>, Value) {
    let path = dir.path().join(format!("{mode}.lmlog"));
    let stats: Value = serde_json::from_str(&scenario_output(&["flight", path.to_str().unwrap(), mode])).unwrap();
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    // Every event was written (none sampled out or dropped), and each is a
    // line of the file.
    assert_eq!(stats["sampled_out"], 0, "{stats}");
    assert_eq!(stats["dropped"], 0, "{stats}");
    assert_eq!(stats["emitted"], stats["written"], "{stats}");
    assert_eq!(stats["written"], lines.len() as u64, "{stats}");
    (path, lines, stats)
}

fn event_types(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|l| l["event_type"].as_str().unwrap()).collect()
}

fn marked(line: &Value) -> bool {
    match line.get("flight_recorder") {
        None => false,
        Some(v) => {
            assert_eq!(v, &Value::Bool(true), "{line}");
            true
        }
    }
}

fn timestamp(line: &Value) -> &str {
    line["timestamp"].as_str().unwrap()
}

#[test]
fn the_last_events_the_filter_turned_away_are_written_before_an_error() {
    let dir = TempDir::new("flight-error");
    let (path, lines, _) = run(&dir, "error");
    assert_eq!(
        event_types(&lines),
        [
            "started",
            "operation_start",
            "step",
            "step",
            "step",
            "step",
            "cache_probe",
            "failed",
            "operation_end",
            "step",
            "step",
            "failed_again",
        ]
    );
    let marks: Vec<bool> = lines.iter().map(marked).collect();
    let expected = [false, false, true, true, true, true, true, false, false, true, true, false];
    assert_eq!(marks, expected);

    // The last 5 before the first error: steps 15 to 18 and the derived
    // `cache_probe` 19, in order, with their own fields, level, message,
    // source and operation.
    for (line, seq) in lines[2..6].iter().zip(15u64..) {
        assert_eq!(line["level"], "debug", "{line}");
        assert_eq!(line["message"], format!("step {seq}"));
        assert_eq!(line["fields"], serde_json::json!({"thread": 0, "seq": seq, "note": format!("note {seq}")}));
        assert!(line["source"]["file"].as_str().unwrap().ends_with("flight.rs"), "{line}");
        assert_eq!(line["operation"]["name"], "batch", "{line}");
    }
    let probe = &lines[6];
    assert_eq!(probe["level"], "debug");
    assert_eq!(probe["message"], "probe user:7");
    assert_eq!(probe["fields"], serde_json::json!({"key": "user:7", "seq": 19}));
    assert_eq!(probe["operation"], lines[7]["operation"], "the error's operation");
    // The two between the errors: the recorder was emptied by the first.
    for (line, seq) in lines[9..11].iter().zip(20u64..) {
        assert_eq!(line["fields"]["seq"], seq, "{line}");
        assert!(line.get("operation").is_none(), "emitted after the operation: {line}");
    }
    // Their own times: in order, after what came before them and before
    // their error (the file is in time order here, one thread).
    for pair in lines.windows(2) {
        assert!(timestamp(&pair[0]) <= timestamp(&pair[1]), "{} then {}", pair[0], pair[1]);
    }
    assert!(timestamp(&lines[6]) < timestamp(&lines[7]));
    assert!(timestamp(&lines[10]) < timestamp(&lines[11]));
    assert!(timestamp(&lines[2]) > timestamp(&lines[1]), "a step's own time, not the error's");

    // Every output format shows the mark on exactly those events.
    for (format, mark) in
        [("pretty", "flight_recorder=true"), ("logfmt", "flight_recorder=true"), ("otel-json", "lmlog.flight_recorder")]
    {
        let output = decode_command().args(["--quiet", "--format", format]).arg(&path).output().unwrap();
        assert!(output.status.success(), "{format}");
        let text = String::from_utf8(output.stdout).unwrap();
        let shown: Vec<bool> = text.lines().map(|l| l.contains(mark)).collect();
        assert_eq!(shown, expected, "{format}:\n{text}");
    }
}

#[test]
fn without_an_error_nothing_the_recorder_kept_reaches_the_file() {
    let dir = TempDir::new("flight-no-error");
    let (path, lines, _) = run(&dir, "no-error");
    assert_eq!(event_types(&lines), ["started", "finished"]);
    assert!(!lines.iter().any(marked));
    // Not even the kept events' schema: it is written only with a record.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!contains(&bytes, b"step {seq}"), "the `step` schema is not in the file");
}

#[test]
fn only_the_erroring_threads_events_are_written() {
    let dir = TempDir::new("flight-threads");
    let (path, lines, _) = run(&dir, "threads");
    let failed = lines.iter().position(|l| l["event_type"] == "failed").expect("the error");
    let thread = &lines[failed]["thread"]["id"];
    let steps: Vec<&Value> = lines.iter().filter(|l| l["event_type"] == "step").collect();
    assert_eq!(steps.len(), 5, "{lines:?}");
    for (line, seq) in steps.iter().zip(5u64..) {
        assert!(marked(line));
        assert_eq!(line["fields"]["thread"], 1, "{line}");
        assert_eq!(line["fields"]["seq"], seq, "{line}");
        assert_eq!(&line["thread"]["id"], thread, "{line}");
        assert!(timestamp(line) < timestamp(&lines[failed]));
    }
    // Right before the error, in the erroring thread's own order.
    let before: Vec<&Value> = lines[..failed].iter().filter(|l| &l["thread"]["id"] == thread).collect();
    assert_eq!(before.len(), 5, "nothing else of that thread before its error");
    let mut types = event_types(&lines);
    types.sort_unstable();
    assert_eq!(types, ["failed", "finished", "started", "step", "step", "step", "step", "step"]);

    // In time order (the command's default) too: the steps are older than
    // watermarks written before them, and still come right before their
    // error, in their thread's order.
    let output = decode_command().arg("--quiet").arg(&path).output().unwrap();
    assert!(output.status.success());
    let ordered: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of_thread: Vec<&Value> = ordered.iter().filter(|l| &l["thread"]["id"] == thread).collect();
    assert_eq!(of_thread.len(), 6, "{of_thread:?}");
    for (line, seq) in of_thread.iter().zip(5u64..10) {
        assert!(marked(line) && line["fields"]["seq"] == seq, "{line}");
    }
    assert_eq!(of_thread[5]["event_type"], "failed");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// With process-wide sampling: the recorder keeps only what the filter
/// turns away (debug steps), never what sampling turns away (info
/// `progress`, counted in `lmlog.sampled_out`); an error that sampling
/// turns away writes nothing of the recorder, whose events wait for the
/// next kept error (the info `started` is sampled out like `progress`); kept + sampled out = emitted for every event type.
#[test]
fn sampling_and_the_recorder_combine_as_documented() {
    let dir = TempDir::new("flight-sampled");
    let path = dir.path().join("sampled.lmlog");
    let stats: Value = serde_json::from_str(&scenario_output(&["flight", path.to_str().unwrap(), "sampled"])).unwrap();
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    let (sampled, events): (Vec<Value>, Vec<Value>) =
        lines.into_iter().partition(|l| l["event_type"] == "lmlog.sampled_out");
    assert_eq!(
        event_types(&events),
        ["step", "step", "step", "step", "step", "failed", "step", "step", "step", "failed_again"]
    );
    let marks: Vec<bool> = events.iter().map(marked).collect();
    assert_eq!(marks, [true, true, true, true, true, false, true, true, true, false]);
    let seqs: Vec<u64> =
        events.iter().filter(|l| l["event_type"] == "step").map(|l| l["fields"]["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [5, 6, 7, 8, 9, 10, 11, 12]);
    let mut counts = std::collections::BTreeMap::new();
    for line in &sampled {
        *counts.entry(line["fields"]["event_type"].as_str().unwrap().to_owned()).or_insert(0) +=
            line["fields"]["count"].as_u64().unwrap();
    }
    // The info `started` event is sampled out too.
    let expected = [("dropped_failure", 1), ("progress", 10), ("started", 1)];
    assert_eq!(counts, expected.into_iter().map(|(t, n)| (t.to_owned(), n)).collect());
    assert_eq!(stats["sampled_out"], 12, "{stats}");
    assert_eq!(stats["dropped"], 0, "{stats}");
    assert_eq!(stats["written"], events.len() as u64, "{stats}");
    assert_eq!(stats["emitted"], stats["written"].as_u64().unwrap() + 12, "{stats}");
}
