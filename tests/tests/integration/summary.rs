//! `lmlog-decode summary` on files written by the runtime
//! (`lmlog-scenario summary`: four worker threads, warn and error event
//! types with varying messages, one dropped event): its counts against a
//! full decode's, `--json` against the text, several files summed, the
//! 4 KiB bound on a large log, and its exit statuses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{decode_command, frame_lengths, run_scenario, scenario_output, TempDir};

/// Events the shared file is written with.
const EVENTS: &str = "20000";

/// What a full decode (`lmlog-decode FILE`) of a file holds.
struct FullDecode {
    lines: u64,
    /// Lines per event type, and the level of the type.
    per_type: BTreeMap<String, (u64, String)>,
    /// The sum of the `lmlog.dropped` events' counts.
    dropped: u64,
    first: String,
    last: String,
}

fn full_decode(path: &Path) -> FullDecode {
    let out = decode_command().arg(path).output().expect("run lmlog-decode");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut full =
        FullDecode { lines: 0, per_type: BTreeMap::new(), dropped: 0, first: String::from("~"), last: String::new() };
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        full.lines += 1;
        let event_type = v["event_type"].as_str().unwrap().to_owned();
        let entry = full.per_type.entry(event_type.clone()).or_insert((0, v["level"].as_str().unwrap().to_owned()));
        entry.0 += 1;
        if event_type == "lmlog.dropped" {
            full.dropped += v["fields"]["count"].as_u64().unwrap();
        }
        // RFC 3339 with nine digits, all of one width: text order is time order.
        let timestamp = v["timestamp"].as_str().unwrap();
        if *timestamp < *full.first {
            full.first = timestamp.to_owned();
        }
        if *timestamp > *full.last {
            full.last = timestamp.to_owned();
        }
    }
    full
}

/// The scenario's file, written once for the tests here, its full decode
/// and the number of events the scenario logged.
fn file() -> &'static (TempDir, PathBuf, FullDecode, u64) {
    static FILE: OnceLock<(TempDir, PathBuf, FullDecode, u64)> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = TempDir::new("summary");
        let path = dir.path().join("app.lmlog");
        let logged = scenario_output(&["summary", path.to_str().unwrap(), EVENTS]).trim().parse().unwrap();
        let full = full_decode(&path);
        (dir, path, full, logged)
    })
}

/// `lmlog-decode summary ARGS`.
fn summary(args: &[&str], files: &[&Path]) -> Output {
    decode_command().arg("summary").args(args).args(files).output().expect("run lmlog-decode summary")
}

/// The text of `lmlog-decode summary FILES`, which must succeed cleanly.
fn summary_text(files: &[&Path]) -> String {
    let out = summary(&[], files);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON of `lmlog-decode summary --json FILES`, which must succeed cleanly.
fn summary_json(files: &[&Path]) -> Value {
    let out = summary(&["--json"], files);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Event type → count of the digest's JSON.
fn json_counts(v: &Value) -> BTreeMap<String, u64> {
    v["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["event_type"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap()))
        .collect()
}

#[test]
fn the_text_has_the_counts_of_a_full_decode() {
    let (_dir, path, full, logged) = file();
    let text = summary_text(&[path]);
    assert!(text.len() <= 4096, "{} bytes", text.len());
    // Every event logged is in the file, one of them as a drop.
    assert_eq!(full.lines, logged - full.dropped + full.per_type["lmlog.dropped"].0);
    assert_eq!(full.dropped, 1);
    assert!(text.starts_with(&format!("lmlog summary: {} events in 1 file (", full.lines)), "{text}");
    assert!(text.contains(&format!("time: {} to {} (", full.first, full.last)), "{text}");
    for (event_type, (count, level)) in &full.per_type {
        let heading = text.lines().find(|l| l.starts_with(&format!("  {event_type} ({level}"))).unwrap_or_else(|| {
            panic!("no line for {event_type}:\n{text}");
        });
        assert!(heading.contains(&format!("): {count} event")), "{heading}");
    }
    let mut levels: BTreeMap<&str, u64> = BTreeMap::new();
    for (count, level) in full.per_type.values() {
        *levels.entry(level).or_default() += count;
    }
    let levels_line = text.lines().find(|l| l.starts_with("levels: ")).unwrap();
    for (level, count) in levels {
        assert!(levels_line.contains(&format!("{level} {count}")), "{levels_line}");
    }
    assert!(
        text.contains(
            "loss: 1 event dropped by the runtime (1 lmlog.dropped report); nothing lost by the writer; no damage"
        ),
        "{text}"
    );
    assert!(text.contains("service summary-demo"), "{text}");
    // The first three distinct messages of the warn type, and the error type's.
    let messages: Vec<&str> = text.lines().filter(|l| l.starts_with("    message: \"payment of ")).collect();
    assert_eq!(messages.len(), 3, "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("    message: \"query select ")).count(), 3, "{text}");
    // Low-cardinality values with their counts; high-cardinality ones as numbers.
    let requests = full.per_type["request"].0;
    let route = text.lines().find(|l| l.starts_with("    route: ")).unwrap();
    assert!(route.contains(&format!("\"/home\" ({})", requests / 4)), "{route}");
    assert!(
        text.lines().any(|l| l.starts_with("    latency_us: 0 to ") && l.contains("more than 16 distinct")),
        "{text}"
    );
}

#[test]
fn json_parses_and_agrees_with_a_full_decode() {
    let (_dir, path, full, _) = file();
    let v = summary_json(&[path]);
    assert_eq!(v["events"], full.lines);
    assert_eq!((v["first"].as_str().unwrap(), v["last"].as_str().unwrap()), (&*full.first, &*full.last));
    let expected: BTreeMap<String, u64> = full.per_type.iter().map(|(t, (n, _))| (t.clone(), *n)).collect();
    assert_eq!(json_counts(&v), expected);
    for t in v["event_types"].as_array().unwrap() {
        assert_eq!(t["level"], full.per_type[t["event_type"].as_str().unwrap()].1);
    }
    let sites: u64 = v["callsites"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(sites, full.lines);
    let levels: u64 = v["levels"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(levels, full.lines);
    let rate: u64 = v["rate"]["counts"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(rate, full.lines);
    assert_eq!(v["loss"]["dropped_events"], full.dropped);
    assert_eq!(v["loss"]["drop_reports"], full.per_type["lmlog.dropped"].0);
    assert_eq!(v["loss"]["damage"], 0);
    assert_eq!(v["sessions"][0]["service_name"], "summary-demo");
    assert_eq!(v["sessions"][0]["writer_version"], env!("CARGO_PKG_VERSION"));
    let payment = v["event_types"].as_array().unwrap().iter().find(|t| t["event_type"] == "payment_failed").unwrap();
    assert_eq!(payment["messages"].as_array().unwrap().len(), 3);
    let reason = payment["fields"].as_array().unwrap().iter().find(|f| f["path"] == "reason").unwrap();
    let reasons: u64 = reason["values"].as_array().unwrap().iter().map(|v| v["count"].as_u64().unwrap()).sum();
    assert_eq!(reasons, full.per_type["payment_failed"].0);
}

#[test]
fn several_files_are_summed() {
    let (_dir, path, full, _) = file();
    let dir = TempDir::new("summary-two");
    let second = dir.path().join("other.lmlog");
    run_scenario(&["summary", second.to_str().unwrap(), "4000"]);
    let other = full_decode(&second);
    let v = summary_json(&[path, &second]);
    assert_eq!(v["files"], 2);
    assert_eq!(v["events"], full.lines + other.lines);
    let counts = json_counts(&v);
    for (event_type, (n, _)) in &full.per_type {
        assert_eq!(counts[event_type], n + other.per_type[event_type].0, "{event_type}");
    }
    assert_eq!(v["loss"]["dropped_events"], 2);
    // Two processes wrote them.
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    assert_eq!((v["first"].as_str().unwrap(), v["last"].as_str().unwrap()), (&*full.first, &*other.last));
    let text = summary_text(&[path, &second]);
    assert!(text.starts_with(&format!("lmlog summary: {} events in 2 files (", full.lines + other.lines)), "{text}");
}

#[test]
fn the_text_stays_within_4_kib_on_a_large_log() {
    let dir = TempDir::new("summary-large");
    let large = dir.path().join("large.lmlog");
    run_scenario(&["summary", large.to_str().unwrap(), "200000"]);
    // And thousands of call sites.
    let many = dir.path().join("many.lmlog");
    run_scenario(&["many-sites", many.to_str().unwrap()]);
    let events: u64 =
        [&large, &many].iter().map(|p| lmlog_decode::decode_file(p, std::io::sink()).unwrap().events).sum();
    let text = summary_text(&[&large, &many]);
    assert!(text.len() <= 4096, "{} bytes:\n{text}", text.len());
    assert!(text.starts_with(&format!("lmlog summary: {events} events in 2 files")), "{text}");
    let sites = text.lines().find(|l| l.starts_with("call sites: ")).expect("a call-site list");
    let v = summary_json(&[&large, &many]);
    let total = v["callsites"].as_array().unwrap().len() as u64 + v["callsites_left_out"]["count"].as_u64().unwrap();
    let shown = text.lines().skip_while(|l| !l.starts_with("call sites: ")).skip(1).count() as u64;
    let left = total - shown;
    assert!(left > 0, "{text}");
    assert!(sites.starts_with(&format!("call sites: {shown} of {total} ({left} more with ")), "{sites}");
    assert_eq!(v["events"], events);
}

#[test]
fn damage_is_counted_and_exits_1() {
    let (_dir, path, full, _) = file();
    let dir = TempDir::new("summary-damage");
    let damaged = dir.path().join("damaged.lmlog");
    let mut bytes = std::fs::read(path).unwrap();
    // Garbage in the payload of the largest frame, a records frame: its
    // events are lost.
    let lengths = frame_lengths(path);
    let largest = (0..lengths.len()).max_by_key(|&i| lengths[i]).unwrap();
    let start = lmlog_format::frame::PREAMBLE_LEN + lengths[..largest].iter().sum::<u64>() as usize;
    let payload = start + lmlog_format::frame::FRAME_HEADER_LEN;
    bytes[payload..payload + 16].fill(0xAA);
    std::fs::write(&damaged, &bytes).unwrap();
    let out = summary(&["--json"], &[&damaged]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("lmlog-decode: {}: byte ", damaged.display())), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["loss"]["damage"].as_u64().unwrap() >= 1);
    assert!(v["events"].as_u64().unwrap() < full.lines);
    let quiet = summary(&["--quiet"], &[&damaged]);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stderr.is_empty());
    assert!(String::from_utf8_lossy(&quiet.stdout).contains("damage: "));
}

#[test]
fn bad_inputs_exit_2() {
    let out = summary(&[], &[Path::new("/nonexistent/app.lmlog")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/app.lmlog"));
    // At least one file.
    assert_eq!(summary(&[], &[]).status.code(), Some(2));
    let dir = TempDir::new("summary-bad");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a log at all").unwrap();
    let out = summary(&[], &[&text]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an lmlog file"));
}

#[test]
fn standard_input_and_an_output_file() {
    let (_dir, path, full, _) = file();
    let text = summary_text(&[path]);
    let dir = TempDir::new("summary-io");
    let written = dir.path().join("digest.txt");
    let out = decode_command()
        .args(["summary", "-o"])
        .arg(&written)
        .arg("-")
        .stdin(std::fs::File::open(path).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&written).unwrap(), text);
    let v: Value = serde_json::from_str(&{
        let json = dir.path().join("digest.json");
        let out = decode_command().args(["summary", "--json", "-o"]).arg(&json).arg(path).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        std::fs::read_to_string(json).unwrap()
    })
    .unwrap();
    assert_eq!(v["events"], full.lines);
}

/// The inputs are found as `lmlog-decode FILE...` finds them: a series'
/// live file brings the whole series, `--single` only itself, and a file
/// missing from the series is a gap (exit 1, the rest still summarised).
#[test]
fn a_series_is_summarised_whole_from_its_live_file() {
    let dir = TempDir::new("summary-series");
    run_scenario(&["live-series", dir.path().to_str().unwrap(), "exit"]);
    let live = dir.path().join("app.lmlog");
    let whole = summary_json(&[&live]);
    assert_eq!(whole["events"], 3_000, "two threads of 1500 beats, across the series");
    assert!(whole["files"].as_u64().unwrap() > 3, "{}", whole["files"]);

    let single = summary(&["--json", "--single"], &[&live]);
    assert_eq!(single.status.code(), Some(0));
    let single: Value = serde_json::from_slice(&single.stdout).unwrap();
    assert!(single["events"].as_u64().unwrap() < 3_000);

    std::fs::remove_file(dir.path().join("app.lmlog.0000000001")).unwrap();
    let gap = summary(&["--json"], &[&live]);
    assert_eq!(gap.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gap.stderr).contains("gap"), "{}", String::from_utf8_lossy(&gap.stderr));
    let rest: Value = serde_json::from_slice(&gap.stdout).unwrap();
    let rest = rest["events"].as_u64().unwrap();
    assert!(rest > 0 && rest < 3_000, "{rest}");
}
