//! Crash survival: a process that dies without shutting lmlog down (SIGKILL,
//! `abort`, a segfault, `exit`) loses no committed event. The next `init`
//! on the same log (or `lmlog-decode --recover`) appends what the dead
//! process staged; every event is then in the log exactly once.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;

use std::process::{Command, Stdio};

use crate::support::{decode_command, decode_lines, run_scenario, TempDir};

const PER_THREAD: u64 = 20_000;

/// Runs the `crash` scenario, which prints how many events it committed
/// and then dies as `how` says; returns that count.
fn crash(log: &Path, how: &str) -> u64 {
    let output = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"))
        .args(["crash", log.to_str().unwrap(), how])
        .output()
        .expect("run lmlog-scenario");
    assert!(!output.status.success() || how == "exit", "the scenario was meant to die: {}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.trim().strip_prefix("committed ").and_then(|n| n.parse().ok()).expect("the committed count")
}

/// `(thread, seq)` of every `step` event, asserting none appears twice.
fn steps(lines: &[serde_json::Value]) -> BTreeSet<(u64, u64)> {
    let mut seen = BTreeSet::new();
    for line in lines.iter().filter(|l| l["event_type"] == "step") {
        let key = (line["fields"]["thread"].as_u64().unwrap(), line["fields"]["seq"].as_u64().unwrap());
        assert!(seen.insert(key), "event {key:?} appears twice");
    }
    seen
}

fn assert_every_event_once(log: &Path, how: &str) {
    let (lines, _) = decode_lines(log);
    let steps = steps(&lines);
    assert_eq!(steps.len() as u64, 3 * PER_THREAD, "after {how}");
    assert_eq!(lines.iter().filter(|l| l["event_type"] == "last_words").count(), 1, "after {how}");
    let end = lines.iter().position(|l| l["event_type"] == "last_words").unwrap();
    assert_eq!(lines[end]["fields"]["how"], how);
}

#[test]
fn the_next_init_recovers_what_a_killed_aborted_crashed_or_exited_process_committed() {
    for how in ["sigkill", "abort", "segfault", "exit"] {
        let dir = TempDir::new(&format!("crash-{how}"));
        let log = dir.path().join("app.lmlog");
        assert_eq!(crash(&log, how), 3 * PER_THREAD + 1);
        // Before recovery the log misses what was still staged.
        let (before, _) = decode_lines(&log);
        let missing = 3 * PER_THREAD as usize - steps(&before).len();
        run_scenario(&["recover", log.to_str().unwrap()]);
        assert_every_event_once(&log, how);
        let (after, _) = decode_lines(&log);
        assert_eq!(after.iter().filter(|l| l["event_type"] == "restarted").count(), 1);
        eprintln!("{how}: {missing} events were only in the staging files");
    }
}

/// The JSON Lines output survives a process death the same way: the next
/// run decodes what the dead one staged into the JSON file.
#[test]
fn the_json_lines_output_recovers_what_a_killed_process_committed() {
    let dir = TempDir::new("crash-jsonl");
    let log = dir.path().join("app.jsonl");
    assert_eq!(crash(&log, "sigkill"), 3 * PER_THREAD + 1);
    run_scenario(&["recover", log.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(steps(&lines).len() as u64, 3 * PER_THREAD);
    assert_eq!(lines.iter().filter(|l| l["event_type"] == "last_words").count(), 1);
    assert_eq!(lines.iter().filter(|l| l["event_type"] == "restarted").count(), 1);
}

/// The binary log and JSON Lines beside it: the binary log's staging
/// files cover both, so after a SIGKILL and the next run both hold every
/// event once, the same events in the same order.
#[test]
fn beside_the_binary_log_the_json_lines_recover_too() {
    let dir = TempDir::new("crash-both");
    let log = dir.path().join("app.both");
    assert_eq!(crash(&log, "sigkill"), 3 * PER_THREAD + 1);
    run_scenario(&["recover", log.to_str().unwrap()]);
    assert_every_event_once(&log, "sigkill");
    let json: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("app.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(steps(&json).len() as u64, 3 * PER_THREAD);
    assert_eq!(json.iter().filter(|l| l["event_type"] == "restarted").count(), 1);
    let (binary, _) = decode_lines(&log);
    assert!(json == binary, "the JSON Lines are the binary log's events");
}

/// Without staging files (a custom sink), a fatal signal's handler, or
/// `exit`'s atexit pass, has the writer write what is staged before the
/// process dies.
#[cfg(unix)]
#[test]
fn without_staging_files_a_fatal_signal_flushes_first() {
    for how in ["abort", "segfault", "exit"] {
        let dir = TempDir::new(&format!("crash-sink-{how}"));
        let log = dir.path().join("app.sink");
        assert_eq!(crash(&log, how), 3 * PER_THREAD + 1);
        assert!(run_dirs(&log).is_empty(), "a custom sink has no staging files");
        assert_every_event_once(&log, how);
    }
}

#[test]
fn lmlog_decode_recover_appends_what_a_killed_process_staged() {
    let dir = TempDir::new("crash-decode-recover");
    let log = dir.path().join("app.lmlog");
    crash(&log, "sigkill");
    let output = decode_command().args(["--recover", "-q", log.to_str().unwrap()]).output().expect("run lmlog-decode");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("recovered"), "{stderr}");
    let decoded = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = decoded.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(steps(&lines).len() as u64, 3 * PER_THREAD);
    // Recovered once: a second run finds nothing more to add.
    assert_every_event_once(&log, "sigkill");
    run_scenario(&["recover", log.to_str().unwrap()]);
    assert_every_event_once(&log, "sigkill");
}

/// SIGKILL at random instants while a thread logs as fast as it can: every
/// event the child reported committed before it died is in the log after
/// recovery, with no gap and no repeat.
#[test]
fn sigkill_at_random_instants_loses_no_committed_event() {
    let dir = TempDir::new("crash-loop");
    let log = dir.path().join("app.lmlog");
    let mut seed = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    for round in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"))
            .args(["crash-loop", log.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run lmlog-scenario");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of progress lines (1..=64 thousand events).
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let wait_for = 1 + (seed >> 58);
        let mut committed = 0;
        for _ in 0..wait_for {
            let line = lines.next().expect("progress").expect("a line");
            committed = line.strip_prefix("committed ").unwrap().parse::<u64>().unwrap();
        }
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();
        // What it printed after our last read may be more: read what is left.
        for line in lines.map_while(Result::ok) {
            committed = line.strip_prefix("committed ").unwrap().parse::<u64>().unwrap();
        }
        run_scenario(&["recover", log.to_str().unwrap()]);
        let (decoded, _) = decode_lines(&log);
        // Rounds append to one log: take this round's session (the last
        // run of `crash-loop` is the last block of `tick`s).
        let ticks: Vec<u64> = decoded
            .iter()
            .filter(|l| l["event_type"] == "tick")
            .map(|l| l["fields"]["seq"].as_u64().unwrap())
            .collect();
        let start = ticks.iter().rposition(|&s| s == 0).expect("this round's first event");
        let round_ticks = &ticks[start..];
        assert!(round_ticks.len() as u64 >= committed, "round {round}: {} of {committed}", round_ticks.len());
        for (i, seq) in round_ticks.iter().enumerate() {
            assert_eq!(*seq, i as u64, "round {round}: a gap or repeat at {i}");
        }
    }
}

/// The run directory of the process that wrote `log` (which must exist).
fn run_dirs(log: &Path) -> Vec<std::path::PathBuf> {
    let root = lmlog_format::staging::staging_root(log);
    let key = lmlog_format::staging::run_key(log);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.file_name().unwrap().to_str().unwrap().starts_with(&format!("{key}-")));
    dirs
}

/// Staging files are private: the run directory is 0700, its files 0600;
/// a run directory owned by another user is neither recovered nor removed;
/// a dead run whose log is gone is removed by the next recovery.
#[cfg(unix)]
#[test]
fn staging_files_are_private_and_only_our_own_runs_are_recovered() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let dir = TempDir::new("crash-private");
    let log = dir.path().join("app.lmlog");
    crash(&log, "sigkill");
    let runs = run_dirs(&log);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(std::fs::metadata(&runs[0]).unwrap().permissions().mode() & 0o777, 0o700);
    for file in std::fs::read_dir(&runs[0]).unwrap() {
        let file = file.unwrap();
        assert_eq!(file.metadata().unwrap().permissions().mode() & 0o777, 0o600, "{:?}", file.path());
    }

    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        // Hand the run to another user: recovery leaves it alone.
        let other = 65534;
        for path in
            std::iter::once(runs[0].clone()).chain(std::fs::read_dir(&runs[0]).unwrap().map(|e| e.unwrap().path()))
        {
            std::os::unix::fs::lchown(&path, Some(other), Some(other)).unwrap();
        }
        let (before, _) = decode_lines(&log);
        run_scenario(&["recover", log.to_str().unwrap()]);
        let (after, _) = decode_lines(&log);
        assert_eq!(steps(&after).len(), steps(&before).len(), "another user's run was recovered");
        assert_eq!(std::fs::metadata(&runs[0]).unwrap().uid(), other, "another user's run was touched");
        std::fs::remove_dir_all(&runs[0]).unwrap();
    } else {
        eprintln!("skipped the other-user part: it needs root to create another user's files");
    }

    // A dead run whose log is gone is removed by the next recovery.
    let gone = TempDir::new("crash-orphan");
    let orphan_log = gone.path().join("gone.lmlog");
    crash(&orphan_log, "sigkill");
    let orphan = run_dirs(&orphan_log);
    assert_eq!(orphan.len(), 1);
    drop(gone);
    run_scenario(&["recover", log.to_str().unwrap()]);
    assert!(!orphan[0].exists(), "the orphan run {} is still there", orphan[0].display());
}
