//! A thread that panics in the middle of logging (inside the encoder of
//! the event it is logging), while other threads have events waiting in
//! their staging buffers (`lmlog-scenario panicking-thread`): the panic
//! hook's flush writes every event committed before the panic, on every
//! thread; the process goes on logging and shuts down cleanly.

use std::collections::BTreeMap;

use crate::support::{decode_lines, scenario_output_within_watchdog, TempDir};

/// Of `lmlog-scenario panicking-thread`: threads that keep logging, events
/// each thread logs before the panic, events logged after it.
const STEADY: u64 = 3;
const BEFORE: u64 = 200;
const AFTER: u64 = 100;

/// The `seq` fields of each (thread, event type), in stream order.
fn sequences(lines: &[serde_json::Value]) -> BTreeMap<(String, String), Vec<u64>> {
    let mut out: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for line in lines {
        let thread = line["thread"]["name"].as_str().unwrap_or("-").to_owned();
        let event_type = line["event_type"].as_str().expect("an event type").to_owned();
        out.entry((thread, event_type)).or_default().push(line["fields"]["seq"].as_u64().unwrap_or(u64::MAX));
    }
    out
}

fn expected(steady_events: u64, main_after: bool) -> BTreeMap<(String, String), Vec<u64>> {
    let mut out = BTreeMap::new();
    for worker in 0..STEADY {
        out.insert((format!("steady-{worker}"), "steady".to_owned()), (0..steady_events).collect());
    }
    out.insert(("doomed".to_owned(), "doomed".to_owned()), (0..BEFORE).collect());
    if main_after {
        out.insert(("main".to_owned(), "main_after".to_owned()), (0..AFTER).collect());
    }
    out
}

#[test]
fn a_panic_while_logging_loses_no_committed_event_and_logging_goes_on() {
    let dir = TempDir::new("panicking-thread");
    let path = dir.path().join("panic.lmlog");
    let joined = scenario_output_within_watchdog(&["panicking-thread", path.to_str().unwrap()]);
    assert_eq!(joined.trim(), "encoder exploded", "the doomed thread's panic, as `join` returned it");

    // Right after the panic, before any drain but the panic hook's flush:
    // every event committed until then, on every thread, and nothing of
    // the event whose encoder panicked.
    let (lines, summary) = decode_lines(&dir.path().join("panic.lmlog.at-panic"));
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert!(!summary.clean_end, "the runtime was still running");
    assert_eq!(sequences(&lines), expected(BEFORE, false));

    // At the end: everything, the stream ended cleanly, nothing reported lost.
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    assert_eq!(sequences(&lines), expected(BEFORE + AFTER, true));
}
