//! Time order (`lmlog-decode`'s default) on a file written by four threads
//! at once (`lmlog-scenario interleaved`), against `--unordered`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{decode_command, run_scenario, TempDir};

/// The scenario's file, written once for all tests here.
fn file() -> &'static PathBuf {
    static FILE: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    &FILE
        .get_or_init(|| {
            let dir = TempDir::new("time-order");
            let path = dir.path().join("interleaved.lmlog");
            run_scenario(&["interleaved", path.to_str().unwrap()]);
            (dir, path)
        })
        .1
}

/// `lmlog-decode ARGS FILE`'s lines; it must succeed cleanly.
fn decode(path: &Path, args: &[&str]) -> Vec<String> {
    let out = decode_command().args(args).arg(path).output().expect("run lmlog-decode");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// (timestamp, t, i) of each JSON line.
fn events(lines: &[String]) -> Vec<(String, u64, u64)> {
    lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let f = &v["fields"];
            (v["timestamp"].as_str().unwrap().to_owned(), f["t"].as_u64().unwrap(), f["i"].as_u64().unwrap())
        })
        .collect()
}

/// Nanoseconds since the start of the month of an RFC 3339 timestamp as
/// the decoder writes it (`2026-11-30T12:00:00.123456789Z`).
fn month_nanos(t: &str) -> i64 {
    let field = |range: std::ops::Range<usize>| t[range].parse::<i64>().unwrap();
    let seconds = ((field(8..10) * 24 + field(11..13)) * 60 + field(14..16)) * 60 + field(17..19);
    seconds * 1_000_000_000 + field(20..29)
}

/// How often the timestamps step back from one line to the next by more
/// than a clock re-anchoring can shift them (FORMAT.md: merging is by
/// ticks; a clock frame can move converted times by some microseconds).
/// The stored order steps back by up to a drain interval.
fn steps_back(events: &[(String, u64, u64)]) -> usize {
    const REANCHOR_SHIFT_NANOS: i64 = 500_000;
    events.windows(2).filter(|w| month_nanos(&w[1].0) < month_nanos(&w[0].0) - REANCHOR_SHIFT_NANOS).count()
}

/// Whether each thread's sequence numbers come in order.
fn threads_in_order(events: &[(String, u64, u64)]) -> bool {
    let mut next = [0u64; 4];
    events.iter().all(|&(_, t, i)| {
        let ok = next[t as usize] == i;
        next[t as usize] = i + 1;
        ok
    })
}

#[test]
fn by_default_every_thread_is_merged_by_timestamp() {
    let sorted = events(&decode(file(), &[]));
    assert_eq!(sorted.len(), 4 * 5_000);
    assert_eq!(steps_back(&sorted), 0, "time order has no step back");
    assert!(threads_in_order(&sorted));

    let stored = events(&decode(file(), &["--unordered"]));
    assert!(steps_back(&stored) > 0, "the threads' blocks interleave in the file (else this test proves nothing)");
    assert!(threads_in_order(&stored));
    let mut a = sorted.clone();
    let mut b = stored;
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same events, only reordered");
}

#[test]
fn every_format_and_filter_comes_in_time_order() {
    let sorted = events(&decode(file(), &[]));
    // pretty: `TIME LEVEL EVENT_TYPE … t=T i=I`; the same events in the same order.
    let pretty = decode(file(), &["--format", "pretty", "--color", "never"]);
    let pairs: Vec<(u64, u64)> = pretty
        .iter()
        .map(|l| {
            let value = |key: &str| -> u64 {
                let at = l.find(&format!(" {key}=")).unwrap_or_else(|| panic!("no {key} in {l}"));
                l[at + key.len() + 2..].split(' ').next().unwrap().parse().unwrap()
            };
            (value("t"), value("i"))
        })
        .collect();
    assert_eq!(pairs, sorted.iter().map(|e| (e.1, e.2)).collect::<Vec<_>>());
    // A filter keeps the order of what it keeps.
    let worker = events(&decode(file(), &["--thread", "worker-2", "--where", "i>=100"]));
    assert_eq!(worker, sorted.iter().filter(|e| e.1 == 2 && e.2 >= 100).cloned().collect::<Vec<_>>());
}
