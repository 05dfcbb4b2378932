//! Timestamps are accurate (`lmlog-scenario clock-accuracy`): every event
//! carries the wall clock read right before it, and its decoded timestamp
//! agrees with that reading, in a 5 ms program, a 50 ms one, across sleeps
//! (drains and re-anchoring in between), and in each file of a rotated
//! series decoded on its own.
//!
//! The bounds hold on a noisy shared machine: a thread preempted between
//! its wall-clock read and the event's own clock read shifts that one
//! event, so the median carries the claim and the tail is generous. The
//! figures are printed (`--nocapture`) for FORMAT.md's Clock section.

use std::path::Path;

use lmlog_decode::{DecodeSummary, Decoder, Item};
use lmlog_format::schema::from_payload;
use lmlog_format::{ClockSource, ClockUpdate, FrameKind, SessionInfo};

use crate::support::{frames, scenario_output, series, TempDir};

/// Median |decoded − wall| allowed, in nanoseconds.
const MEDIAN_BOUND: u64 = 20_000;
/// 90th percentile allowed.
const P90_BOUND: u64 = 200_000;
/// Largest allowed (a preemption at the wrong moment).
const MAX_BOUND: u64 = 10_000_000;

/// |decoded timestamp − `wall` field| of every `stamp` event in `bytes`,
/// and the ticks of the last of them.
fn errors(bytes: &[u8]) -> (Vec<u64>, DecodeSummary, u64) {
    let mut errors = Vec::new();
    let mut last_ticks = 0;
    let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
        if let Item::Event(event) = item {
            if event.callsite.event_type() == "stamp" {
                let fields: serde_json::Value =
                    serde_json::from_str(&event.fields.to_json().expect("the fields decode")).unwrap();
                let wall = fields["wall"].as_u64().expect("a wall field") as i128;
                errors.push(event.unix_nanos.abs_diff(wall) as u64);
                last_ticks = last_ticks.max(event.ticks.expect("a record's ticks"));
            }
        }
    }));
    decoder.feed(bytes).expect("an intact preamble");
    let summary = decoder.finish().expect("decoding into memory cannot fail");
    (errors, summary, last_ticks)
}

/// The clock frames of a file that carry a rate (the runtime's all do).
fn clock_updates(bytes: &[u8]) -> Vec<ClockUpdate> {
    frames(bytes)
        .into_iter()
        .filter(|(kind, _)| *kind == FrameKind::Clock as u8)
        .map(|(_, payload)| ClockUpdate::decode(payload).expect("a clock frame"))
        .inspect(|update| assert!(update.ticks_per_second.is_some(), "{update:?} carries the measured rate"))
        .collect()
}

/// Checks and prints the errors of one decoding of `events` events.
fn check(what: &str, mut errors: Vec<u64>, summary: &DecodeSummary, events: usize) {
    assert!(summary.is_clean(), "{what}: {:?}", summary.diagnostics);
    assert_eq!(errors.len(), events, "{what}: every event decoded");
    errors.sort_unstable();
    let at = |q: f64| errors[((errors.len() - 1) as f64 * q) as usize];
    let (median, p90, max) = (at(0.5), at(0.9), at(1.0));
    eprintln!("clock accuracy, {what}: {events} events, |error| median {median} ns, p90 {p90} ns, max {max} ns");
    assert!(median < MEDIAN_BOUND, "{what}: median |error| {median} ns");
    assert!(p90 < P90_BOUND, "{what}: p90 |error| {p90} ns");
    assert!(max < MAX_BOUND, "{what}: max |error| {max} ns");
}

/// Runs the scenario in `mode`; returns its directory and the number of
/// events it logged.
fn run(mode: &str) -> (TempDir, usize) {
    let dir = TempDir::new(&format!("clock-{mode}"));
    let out = scenario_output(&["clock-accuracy", dir.path().to_str().unwrap(), mode]);
    let events = out.trim().parse().expect("the scenario prints its event count");
    (dir, events)
}

fn check_single_file(mode: &str) {
    let (dir, events) = run(mode);
    let bytes = std::fs::read(dir.path().join("app.lmlog")).unwrap();
    let (errors, summary, last_ticks) = errors(&bytes);
    assert!(summary.clean_end, "{mode}: the stream ends cleanly");
    check(mode, errors, &summary, events);
    // The shutdown's drain anchored after the last records: they convert
    // between two readings, not by extrapolation.
    let last_anchor = clock_updates(&bytes).last().expect("a clock frame").anchor;
    assert!(last_anchor.ticks > last_ticks, "{mode}: {last_anchor:?} after the last event's ticks {last_ticks}");
}

#[test]
fn a_5_ms_program_has_accurate_timestamps() {
    check_single_file("burst");
}

#[test]
fn a_50_ms_program_has_accurate_timestamps() {
    check_single_file("short");
}

#[test]
fn timestamps_stay_accurate_across_sleeps() {
    check_single_file("sleeps");
}

#[test]
fn each_rotated_file_decoded_alone_has_accurate_timestamps() {
    let (dir, events) = run("rotated");
    let files = series(dir.path(), "app.lmlog");
    assert!(files.len() >= 3, "the events spread over several files: {files:?}");
    let mut series = Vec::new();
    let mut counted = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let (kind, session) = frames(&bytes)[0];
        assert_eq!(kind, FrameKind::Session as u8);
        let source = from_payload::<SessionInfo>(session).unwrap().clock.source;
        if file != &files[0] && source == ClockSource::Tsc {
            // A rotated file has the refined rate before its first records
            // (the monotonic nanosecond clock's rate is exact: its session's).
            let kinds: Vec<u8> = frames(&bytes).iter().map(|(kind, _)| *kind).collect();
            let clock = kinds.iter().position(|&k| k == FrameKind::Clock as u8);
            let records = kinds.iter().position(|&k| k == FrameKind::Records as u8);
            let before_records = records.is_none_or(|records| clock.is_some_and(|clock| clock < records));
            assert!(clock.is_some() && before_records, "{}: frame kinds {kinds:?}", name(file));
            clock_updates(&bytes);
        }
        let (errors, summary, _) = errors(&bytes);
        counted += errors.len();
        if !errors.is_empty() {
            let len = errors.len();
            check(&format!("rotated, {} alone", name(file)), errors, &summary, len);
        }
        series.extend_from_slice(&bytes);
    }
    assert_eq!(counted, events, "each event is in one file");
    let (errors, summary, _) = errors(&series);
    check("rotated, the whole series", errors, &summary, events);
}

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

/// The Unix nanoseconds of each event of a stream, as decoded.
fn decoded_nanos(bytes: &[u8]) -> (Vec<i128>, DecodeSummary) {
    let mut nanos = Vec::new();
    let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
        if let Item::Event(event) = item {
            nanos.push(event.unix_nanos);
        }
    }));
    decoder.feed(bytes).expect("an intact preamble");
    let summary = decoder.finish().expect("decoding into memory cannot fail");
    (nanos, summary)
}

#[test]
fn a_clock_frames_rate_replaces_the_sessions_and_an_old_clock_frame_keeps_it() {
    use lmlog_format::Level;
    use lmlog_tests::synth::{Rec, Stream, ANCHOR_NANOS};

    let mut s = Stream::standard();
    s.schema(1, "tick", Level::Info, None, &[]);
    // The session's rate, 1 GHz: 1000 ticks after the anchor are 1 µs.
    s.records(1, 1_000, &[Rec::new(1, 0, vec![])]);
    // A measured rate of 2 GHz from this anchor on, for earlier ticks too.
    s.clock_rate(10_000, ANCHOR_NANOS + 10_000, 2e9);
    s.records(1, 8_000, &[Rec::new(1, 0, vec![]), Rec::new(1, 4_000, vec![])]);
    // An anchor without a rate (an older writer's) keeps the rate in force.
    s.clock(20_000, ANCHOR_NANOS + 50_000);
    s.records(1, 22_000, &[Rec::new(1, 0, vec![])]);
    // An unusable rate is reported and ignored; its anchor is taken.
    s.clock_rate(30_000, ANCHOR_NANOS + 90_000, f64::NAN);
    s.records(1, 32_000, &[Rec::new(1, 0, vec![])]);
    s.end();
    let (nanos, summary) = decoded_nanos(&s.bytes);
    let at = |offset: i128| ANCHOR_NANOS as i128 + offset;
    assert_eq!(nanos, [at(1_000), at(9_000), at(11_000), at(51_000), at(91_000)]);
    let diagnostics: Vec<String> = summary.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(diagnostics[0].contains("unusable clock rate of NaN"), "{diagnostics:?}");
}
