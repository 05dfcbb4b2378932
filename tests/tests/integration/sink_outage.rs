//! A sink that fails, recovers, overflows the spill buffer, panics, never
//! recovers, kills the writer; a full device and a full file system
//! (`lmlog-scenario sink-outage`). Every event emitted is either in the
//! decoded file or counted as lost (in the stream's `lmlog.writer_loss`
//! events, on standard error and in `lmlog::sink_status()`), and the
//! application never hangs.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lmlog_decode::DiagnosticKind;
use serde_json::Value;

use crate::support::{decode_lines, frame_gaps, TempDir};

/// Longer than any of these scenarios takes on a loaded machine; reaching
/// it means the scenario hung.
const HANG: Duration = Duration::from_secs(120);

/// What a scenario run printed.
struct Run {
    /// The scenario's JSON report (see `sink_outage.rs` in the scenarios).
    report: Value,
    stderr: String,
}

/// Runs `lmlog-scenario sink-outage PATH MODE`; fails if it does not
/// succeed or does not finish (a hang).
fn run(path: &Path, mode: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"))
        .args(["sink-outage", path.to_str().unwrap(), mode])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lmlog-scenario");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sink-outage {mode} did not finish: the application hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap().unwrap();
    let stderr = err.join().unwrap().unwrap();
    assert!(status.success(), "sink-outage {mode} failed: {status}\n{stderr}");
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    Run { report, stderr }
}

fn field(value: &Value, key: &str) -> u64 {
    value[key].as_u64().unwrap_or_else(|| panic!("{key} in {value}"))
}

/// The numbers of the decoded `step` events, and the fields of the
/// `lmlog.writer_loss` events.
fn steps_and_losses(lines: &[Value]) -> (Vec<u64>, Vec<Value>) {
    let steps = lines.iter().filter(|l| l["event_type"] == "step").map(|l| field(&l["fields"], "i")).collect();
    let losses = lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").map(|l| l["fields"].clone()).collect();
    (steps, losses)
}

/// The status shows the breaker open (or in a trial, which a snapshot may
/// catch).
fn breaker_open(status: &Value) -> bool {
    status["breaker"] == "Open" || status["breaker"] == "HalfOpen"
}

fn all(emitted: u64) -> Vec<u64> {
    (0..emitted).collect()
}

#[test]
fn a_sink_that_fails_then_recovers_loses_nothing_and_reports_the_outage() {
    let dir = TempDir::new("sink-recovers");
    let path = dir.path().join("app.lmlog");
    let run = run(&path, "recovers");
    let emitted = field(&run.report, "emitted");
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let (steps, losses) = steps_and_losses(&lines);
    assert_eq!(steps, all(emitted), "every event, once, in order");
    assert_eq!(losses.len(), 1, "{losses:?}");
    let loss = &losses[0];
    assert_eq!((field(loss, "events"), field(loss, "frames"), field(loss, "bytes")), (0, 0, 0));
    assert_eq!(field(loss, "failed_writes"), 5);
    assert_eq!(loss["dropped_end"], "none");
    assert_eq!(loss["reason"], "write failed: injected failure (scenario)");
    let delayed = field(loss, "delayed_events");
    assert!(delayed > 0 && delayed < emitted, "{delayed}");
    let status = &run.report["status"];
    assert_eq!((field(status, "failed_writes"), field(status, "lost_events")), (5, 0));
    assert_eq!(status["breaker"], "Closed");
    assert!(run.stderr.contains("the sink takes data again after 5 failed calls"), "{}", run.stderr);
}

#[test]
fn an_overflowing_spill_drops_the_newest_events_and_counts_them_exactly() {
    let dir = TempDir::new("sink-overflows");
    let path = dir.path().join("app.lmlog");
    let run = run(&path, "overflows");
    let emitted = field(&run.report, "emitted");
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "the one gap is the writer's: {:?}", summary.diagnostics);
    let (steps, losses) = steps_and_losses(&lines);
    assert_eq!(losses.len(), 1, "{losses:?}");
    let loss = &losses[0];
    let lost = field(loss, "events");
    assert!(lost > 0, "64 KiB cannot hold 40,000 events");
    assert_eq!(steps.len() as u64 + lost, emitted, "decoded + lost = emitted");
    assert_eq!(summary.writer_lost_events, lost);
    assert_eq!(loss["dropped_end"], "newest");
    // The newest were dropped: what is missing is one run of events,
    // between those held from the start of the outage and the recovery.
    let decoded: BTreeSet<u64> = steps.iter().copied().collect();
    assert_eq!(decoded.len(), steps.len(), "no event twice");
    let missing: Vec<u64> = (0..emitted).filter(|i| !decoded.contains(i)).collect();
    assert_eq!(missing.len() as u64, lost);
    assert_eq!(missing.last().unwrap() - missing[0] + 1, lost, "one contiguous run: {:?}..", &missing[..3]);
    assert!(missing[0] > 1000, "the first events of the outage were held");
    // The gap in the frame numbers is the one the report accounts for.
    let gaps = frame_gaps(&summary);
    assert_eq!(gaps, [(field(loss, "frames"), true)]);
    // The status said so while it happened, and after.
    let mid = &run.report["mid_outage"];
    assert!(breaker_open(mid), "{mid}");
    assert!(field(mid, "spilled_bytes") <= 64 << 10);
    assert!(field(mid, "spilled_events") > 0);
    assert_eq!(field(&run.report["status"], "lost_events"), lost);
}

#[test]
fn a_sink_that_never_recovers_costs_no_hang_and_every_event_is_counted() {
    let dir = TempDir::new("sink-fails-forever");
    let path = dir.path().join("app.lmlog");
    let run = run(&path, "fails-forever");
    let emitted = field(&run.report, "emitted");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the sink never took a byte");
    let status = &run.report["status"];
    assert_eq!(field(status, "lost_events"), emitted);
    assert_eq!((field(status, "spilled_events"), field(status, "spilled_bytes")), (0, 0));
    assert!(breaker_open(&run.report["mid_outage"]), "{}", run.report);
    let said =
        format!("the sink still fails at shutdown (write failed: injected failure (scenario)): {emitted} events");
    assert!(run.stderr.contains(&said), "{}", run.stderr);
}

#[test]
fn a_panicking_sink_is_contained_and_counted() {
    let dir = TempDir::new("sink-panics");
    let path = dir.path().join("app.lmlog");
    let run = run(&path, "panics");
    let emitted = field(&run.report, "emitted");
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert!(summary.clean_end, "the writer lived to end the stream");
    let (steps, losses) = steps_and_losses(&lines);
    assert_eq!(steps, all(emitted));
    assert_eq!(losses.len(), 2, "{losses:?}");
    assert_eq!(losses[0]["reason"], "the sink panicked in write_all: injected panic (scenario)");
    assert_eq!((field(&losses[0], "failed_writes"), field(&losses[0], "events")), (5, 0));
    assert_eq!(losses[1]["reason"], "the sink panicked in flush: injected flush panic (scenario)");
    assert_eq!((field(&losses[1], "failed_writes"), field(&losses[1], "events")), (1, 0));
    assert_eq!(field(&run.report["status"], "failed_writes"), 6);
}

#[test]
fn a_dead_writer_turns_events_into_drops_instead_of_a_hang() {
    let dir = TempDir::new("writer-dies");
    let path = dir.path().join("app.lmlog");
    let run = run(&path, "writer-dies");
    assert_eq!(field(&run.report, "emitted"), 100 + 10 + 100_000, "every call returned");
    assert!(run.stderr.contains("lmlog: the writer thread panicked"), "{}", run.stderr);
    // What was written before the writer died still decodes.
    let (lines, _) = decode_lines(&path);
    let (steps, _) = steps_and_losses(&lines);
    assert_eq!(steps, all(100));
    // The rest is counted, exactly, on stderr.
    let counts = run.stderr.split("lmlog: the writer stopped early: ").nth(1).expect("the unwritten counts");
    let numbers: Vec<u64> = counts.split_whitespace().filter_map(|w| w.parse().ok()).take(2).collect();
    assert_eq!(steps.len() as u64 + numbers[0] + numbers[1], field(&run.report, "emitted"), "{counts}");
}

#[test]
fn a_full_device_costs_no_hang_and_the_counts_reach_stderr_and_the_status() {
    let run = run(Path::new("/dev/full"), "dev-full");
    let emitted = field(&run.report, "emitted");
    assert!(run.stderr.contains("write failed: No space left on device"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("): {emitted} events (")) && run.stderr.contains("were never written"),
        "{}",
        run.stderr
    );
    let status = &run.report["status"];
    assert_eq!(field(status, "lost_events"), emitted);
    assert!(field(status, "failed_writes") >= 3);
    let mid = &run.report["mid_outage"];
    assert!(breaker_open(mid), "{mid}");
    assert_eq!(field(mid, "spilled_events") + field(mid, "lost_events"), emitted);
}

/// Whether this process may mount file systems (root, with `mount`).
fn can_mount() -> Result<(), String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:").map(|v| v.split_whitespace().next() == Some("0"))));
    if uid != Some(true) {
        return Err("not running as root".into());
    }
    match Command::new("mount").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("no mount command".into()),
    }
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs<'a>(&'a Path);

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_file_system_that_gets_room_again_receives_the_held_events() {
    if let Err(reason) = can_mount() {
        println!("skipped: a full file system needs a tmpfs mount: {reason}");
        return;
    }
    let dir = TempDir::new("disk-full");
    let mount = dir.path().join("mnt");
    std::fs::create_dir(&mount).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"]).arg(&mount).output().unwrap();
    if !mounted.status.success() {
        println!("skipped: mounting a tmpfs failed: {}", String::from_utf8_lossy(&mounted.stderr).trim());
        return;
    }
    let _tmpfs = Tmpfs(&mount);
    std::fs::write(mount.join("ballast"), vec![0u8; 192 << 10]).unwrap();
    let run = run(&mount, "disk-full");
    let emitted = field(&run.report, "emitted");
    assert!(run.stderr.contains("write failed: No space left on device"), "{}", run.stderr);
    let mid = &run.report["mid_outage"];
    assert!(field(mid, "spilled_events") > 0, "events were held while the disk was full: {mid}");
    let (lines, summary) = decode_lines(&mount.join("app.lmlog"));
    let (steps, losses) = steps_and_losses(&lines);
    assert_eq!(steps, all(emitted), "every event, once, in order");
    assert_eq!(losses.len(), 1, "{losses:?}");
    assert_eq!((field(&losses[0], "events"), field(&losses[0], "frames")), (0, 0));
    assert!(field(&losses[0], "failed_writes") >= 1);
    assert_eq!(losses[0]["reason"], "write failed: No space left on device (os error 28)");
    // The write that found the disk full left the part that fitted: a torn
    // copy of frames the writer wrote again whole, which the reader skips
    // (losing no frame), and nothing else.
    for d in &summary.diagnostics {
        assert!(matches!(d.kind, DiagnosticKind::DamagedFrame { frames: Some(0), .. }), "{d}");
    }
    assert_eq!(field(&run.report["status"], "lost_events"), 0);
}
