//! The command's filter flags on a file written by the runtime
//! (`lmlog-scenario filters`: events `n` = 1..8 over three threads, levels,
//! modules and fields), each flag alone and combined; bad values.

use std::path::Path;
use std::sync::OnceLock;

use crate::support::{decode_command, run_scenario, TempDir};

const MODULE: &str = "lmlog_scenario::filters";

/// The scenario's file, written once for all tests here, and its full decode.
fn file() -> &'static (TempDir, Vec<String>) {
    static FILE: OnceLock<(TempDir, Vec<String>)> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = TempDir::new("filters");
        let path = dir.path().join("filters.lmlog");
        run_scenario(&["filters", path.to_str().unwrap()]);
        let all = decode(&path, &[]);
        (dir, all)
    })
}

/// The lines `lmlog-decode ARGS FILE` writes; it must succeed cleanly.
fn decode(path: &Path, args: &[&str]) -> Vec<String> {
    let out = decode_command().args(args).arg(path).output().expect("run lmlog-decode");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// The `n` of an event line.
fn n(line: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["fields"]["n"].as_u64().unwrap()
}

/// The lines the filter flags `args` keep: asserted to be exactly the
/// full decode's lines of those events, in its order; returns their `n`.
fn kept(args: &[&str]) -> Vec<u64> {
    let (dir, all) = file();
    let lines = decode(&dir.path().join("filters.lmlog"), args);
    let ns: Vec<u64> = lines.iter().map(|l| n(l)).collect();
    let expected: Vec<&String> = all.iter().filter(|l| ns.contains(&n(l))).collect();
    assert_eq!(lines.iter().collect::<Vec<_>>(), expected, "{args:?}");
    ns
}

/// The timestamp of event `n`, as the decoder writes it.
fn timestamp(event: u64) -> String {
    let line = file().1.iter().find(|l| n(l) == event).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["timestamp"].as_str().unwrap().to_owned()
}

#[test]
fn the_file_holds_the_eight_events_in_order() {
    assert_eq!(kept(&[]), [1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn level() {
    assert_eq!(kept(&["--level", "warn"]), [2, 3, 5, 8]);
    assert_eq!(kept(&["--level", "error"]), [3, 8]);
    assert_eq!(kept(&["--level", "info"]), [1, 2, 3, 4, 5, 7, 8]);
    assert_eq!(kept(&["--level", "trace"]).len(), 8);
}

#[test]
fn event_globs() {
    assert_eq!(kept(&["--event", "payment_*,cache_miss"]), [3, 4, 5, 6, 7, 8]);
    assert_eq!(kept(&["--event", "conn_????"]), [2]);
    assert_eq!(kept(&["--event", "*_failed"]), [3, 5, 8]);
    assert!(kept(&["--event", "payment"]).is_empty());
}

#[test]
fn module_and_submodules() {
    assert_eq!(kept(&["--module", &format!("{MODULE}::db::pool")]), [1, 2]);
    assert_eq!(kept(&["--module", &format!("{MODULE}::db::pool::conn")]), [2]);
    assert_eq!(kept(&["--module", &format!("{MODULE}::db::poolx")]), [3]);
    assert_eq!(kept(&["--module", &format!("{MODULE}::db")]), [1, 2, 3]);
    assert_eq!(kept(&["--module", MODULE]).len(), 8);
    assert!(kept(&["--module", "lmlog_scenario::filter"]).is_empty());
}

#[test]
fn thread_by_name_or_id() {
    assert_eq!(kept(&["--thread", "worker-1"]), [4, 5, 6]);
    assert_eq!(kept(&["--thread", "main"]), [1, 2, 3]);
    assert_eq!(kept(&["--thread", "3"]), [7, 8]);
    assert!(kept(&["--thread", "worker"]).is_empty());
}

#[test]
fn since_and_until() {
    assert_eq!(kept(&["--since", &timestamp(4)]), [4, 5, 6, 7, 8]);
    assert_eq!(kept(&["--until", &timestamp(4)]), [1, 2, 3, 4]);
    assert_eq!(kept(&["--since", &timestamp(2), "--until", &timestamp(5)]), [2, 3, 4, 5]);
    // Relative to now: the file was written within the last day, not in the last 0 seconds.
    assert_eq!(kept(&["--since", "1d"]).len(), 8);
    assert!(kept(&["--until", "1d"]).is_empty());
    assert!(kept(&["--since", "0s"]).is_empty());
    assert!(kept(&["--until", "2000-01-01T00:00:00Z"]).is_empty());
    assert_eq!(kept(&["--since", "2000-01-01T01:00:00+01:00"]).len(), 8);
}

#[test]
fn trace_id() {
    assert_eq!(kept(&["--trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"]), [8]);
    assert!(kept(&["--trace-id", "4bf92f3577b34da6a3ce929d0e0e4737"]).is_empty());
}

#[test]
fn where_on_fields() {
    assert_eq!(kept(&["--where", "latency_us>100"]), [2, 3, 5, 6, 8]);
    assert_eq!(kept(&["--where", "latency_us<=100"]), [1, 4, 7]);
    assert_eq!(kept(&["--where", "latency_us=10"]), [7]);
    assert_eq!(kept(&["--where", "key=user:7"]), [1, 6]);
    assert_eq!(kept(&["--where", "key!=user:7"]), [2, 7]);
    assert_eq!(kept(&["--where", "order.customer.id=7"]), [4, 8]);
    assert_eq!(kept(&["--where", "order.customer.id>=8"]), [3, 5]);
    assert_eq!(kept(&["--where", "order.total<8"]), [4]);
    assert_eq!(kept(&["--where", "key=user:7", "--where", "latency_us>100"]), [6]);
    assert!(kept(&["--where", "nope=1"]).is_empty());
}

#[test]
fn combinations_must_all_pass() {
    assert_eq!(kept(&["--level", "warn", "--event", "payment_*"]), [3, 5, 8]);
    assert_eq!(kept(&["--level", "warn", "--event", "payment_*", "--thread", "worker-2"]), [8]);
    assert_eq!(kept(&["--module", MODULE, "--thread", "worker-1", "--where", "latency_us>=100"]), [5, 6]);
    assert_eq!(
        kept(&["--event", "payment_*", "--where", "order.customer.id=7", "--since", &timestamp(5), "--level", "error"]),
        [8]
    );
    assert!(kept(&["--thread", "main", "--trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"]).is_empty());
}

#[test]
fn bad_values_are_one_line_naming_the_flag_and_exit_2() {
    let (dir, _) = file();
    let path = dir.path().join("filters.lmlog");
    for (args, flag) in [
        (&["--level", "loud"][..], "--level"),
        (&["--event", "a,,b"], "--event"),
        (&["--module", "db::"], "--module"),
        (&["--thread", ""], "--thread"),
        (&["--since", "yesterday"], "--since"),
        (&["--until", "2026-13-01T00:00:00Z"], "--until"),
        (&["--trace-id", "4bf9"], "--trace-id"),
        (&["--where", "latency_us"], "--where"),
        (&["--level", "warn", "--where", "a!b"], "--where"),
    ] {
        let out = decode_command().args(args).arg(&path).output().expect("run lmlog-decode");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(&format!("lmlog-decode: {flag}: ")), "{args:?}: {stderr}");
    }
}

/// Filters apply to every output format: the same events are kept in
/// logfmt and otel-json as in JSON Lines.
#[test]
fn filters_apply_to_every_format() {
    let (dir, _) = file();
    let path = dir.path().join("filters.lmlog");
    let want = kept(&["--level", "warn"]);
    for format in ["logfmt", "pretty", "otel-json"] {
        let lines = decode(&path, &["--level", "warn", "--format", format, "--color", "never"]);
        assert_eq!(lines.len(), want.len(), "{format}: {lines:?}");
        for (line, n) in lines.iter().zip(&want) {
            let number = match format {
                "otel-json" => format!("\"key\":\"n\",\"value\":{{\"intValue\":\"{n}\"}}"),
                _ => format!("n={n}"),
            };
            assert!(line.contains(&number), "{format}: event {n} not in {line}");
        }
    }
}
