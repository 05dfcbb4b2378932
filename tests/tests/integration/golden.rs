//! Golden files: logs written by earlier versions of the format, checked in
//! with the JSON Lines the decoder made of them when they were written.
//! Every version must keep decoding to exactly those lines.
//!
//! `golden/vN/every_type.lmlog` was written by `lmlog-scenario golden
//! golden/vN` with the writer of format version N; never regenerate an
//! existing version's files, add a new directory when the version changes.
//! The scenario's source lines are part of the expected lines: an edit to
//! `src/bin/scenario/golden.rs` that moves its `lm_event!` calls makes the
//! newest golden file differ from what the writer produces.

use std::path::PathBuf;

use lmlog_tests::golden_dir;

use crate::support::{run_scenario, TempDir};

/// `(version, path)` of every checked-in golden log, oldest version first.
fn golden_logs() -> Vec<(u16, PathBuf)> {
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("golden directory") {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let version: u16 = name.strip_prefix('v').and_then(|v| v.parse().ok()).expect("golden/vN");
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "lmlog") {
                logs.push((version, file));
            }
        }
    }
    logs.sort();
    logs
}

fn decode(path: &std::path::Path) -> String {
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_file(path, &mut out).unwrap();
    assert!(summary.is_clean(), "{}: {:?}", path.display(), summary.diagnostics);
    assert!(summary.clean_end, "{}: no end frame", path.display());
    String::from_utf8(out).unwrap()
}

#[test]
fn every_golden_log_decodes_to_its_checked_in_lines() {
    let logs = golden_logs();
    assert!(logs.iter().any(|(v, _)| *v == 1), "the version 1 golden files are missing");
    for (version, log) in &logs {
        let bytes = std::fs::read(log).unwrap();
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), *version, "{}: preamble version", log.display());
        let expected = std::fs::read_to_string(log.with_extension("jsonl")).unwrap();
        let decoded = decode(log);
        for (i, (got, want)) in decoded.lines().zip(expected.lines()).enumerate() {
            assert_eq!(got, want, "{} line {}", log.display(), i + 1);
        }
        assert_eq!(decoded.lines().count(), expected.lines().count(), "{}", log.display());
    }
}

/// Replaces what changes from run to run of the golden scenario: every
/// timestamp, and the byte count of the writer's loss report (the lost
/// records' tick deltas are varints of varying length). Fields appended to
/// the loss report after a golden file was written (its `LossDetail`) are
/// left out: the newest golden file predates them. So does the encoding of
/// a `Duration` as a number of nanoseconds: the golden file's
/// `{"secs","nanos"}` (which it still decodes to, see above) is compared as
/// that number.
fn normalized(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["timestamp"] = "T".into();
            if let Some(elapsed) = v.pointer_mut("/fields/elapsed") {
                if let (Some(secs), Some(nanos)) = (elapsed["secs"].as_u64(), elapsed["nanos"].as_u64()) {
                    *elapsed = (secs * 1_000_000_000 + nanos).into();
                }
            }
            if v["event_type"] == "lmlog.writer_loss" {
                v["fields"]["bytes"] = "B".into();
                v["message"] = "M".into();
                let fields = v["fields"].as_object_mut().unwrap();
                fields.retain(|key, _| ["frames", "bytes", "reason"].contains(&key.as_str()));
            }
            v.to_string()
        })
        .collect()
}

/// The running writer still writes what the newest golden file holds: the
/// same events, fields, sources and threads (timestamps aside).
#[test]
fn the_current_writer_reproduces_the_newest_golden_log() {
    let (version, newest) = golden_logs().into_iter().last().unwrap();
    assert_eq!(version, lmlog_format::FORMAT_VERSION, "add golden files for the current format version");
    let dir = TempDir::new("golden-rewrite");
    run_scenario(&["golden", dir.path().to_str().unwrap()]);
    let written = dir.path().join(newest.file_name().unwrap());
    let got = normalized(&decode(&written));
    let want = normalized(&std::fs::read_to_string(newest.with_extension("jsonl")).unwrap());
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
    assert_eq!(got.len(), want.len());
}

/// A stream holding a version 1 file and then a version 2 file (a series
/// written across an upgrade, concatenated) decodes both, each with its own
/// frame layout.
#[test]
fn files_of_both_versions_concatenated_decode_one_after_the_other() {
    let logs = golden_logs();
    let v1 = &logs.iter().find(|(v, _)| *v == 1).unwrap().1;
    let v2 = &logs.iter().find(|(v, _)| *v == 2).unwrap().1;
    let mut both = std::fs::read(v1).unwrap();
    both.extend_from_slice(&std::fs::read(v2).unwrap());
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_reader(both.as_slice(), &mut out).unwrap();
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(summary.files, 2);
    let expected = [v1, v2].map(|log| std::fs::read_to_string(log.with_extension("jsonl")).unwrap()).concat();
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}
