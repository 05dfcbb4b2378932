//! `lmlog-decode --follow` on a series a child process writes while it runs
//! (`lmlog-scenario live-series`: two threads, about two seconds, a
//! rotation every 4 KiB): every event is printed exactly once, whether the
//! follower starts before the application or after some rotations; it
//! exits by itself after the application's shutdown, and with status 0 and
//! its output written on SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{decode_command, holding_live_series, scenario_command, TempDir, SCENARIO_WATCHDOG};

/// Events the scenario logs: two workers, 1500 each.
const EVENTS: u64 = 3_000;

/// `lmlog-decode --follow PATH`, its output piped.
fn follower(path: &Path) -> Child {
    decode_command().arg("--follow").arg(path).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn")
}

/// Reads `stdout` line by line on a thread, sending each line.
fn lines_of(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if send.send(line.expect("UTF-8 output")).is_err() {
                break;
            }
        }
    });
    receive
}

/// Waits for `child`; kills it and fails if it is still running after the
/// watchdog (the test's guard against a hang, not a time bound).
fn wait(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + SCENARIO_WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{what} still running after {SCENARIO_WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut text).expect("read stderr");
    text
}

/// Asserts that `lines` hold each of the scenario's events exactly once.
fn assert_every_event_once(lines: &[String]) {
    let mut seen: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    for line in lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(event["event_type"], "beat", "{line}");
        *seen
            .entry((event["fields"]["worker"].as_u64().unwrap(), event["fields"]["i"].as_u64().unwrap()))
            .or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "printed more than once: {twice:?}");
    let missing: Vec<_> =
        (0..2).flat_map(|w| (0..EVENTS / 2).map(move |i| (w, i))).filter(|e| !seen.contains_key(e)).collect();
    assert!(missing.is_empty(), "{} events never printed, first {:?}", missing.len(), missing.first());
    assert_eq!(lines.len() as u64, EVENTS);
}

/// The number of files in `dir`.
fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn a_follower_started_first_prints_every_event_once_and_exits_after_the_shutdown() {
    let dir = TempDir::new("follow-first");
    let live = dir.path().join("app.lmlog");
    let mut follow = follower(&live);
    let lines = lines_of(follow.stdout.take().expect("piped"));
    let mut app = scenario_command(&["live-series", dir.path().to_str().unwrap(), "exit"]).spawn().expect("spawn");
    assert!(wait(&mut app, "the application").success());
    let status = wait(&mut follow, "the follower");
    let err = stderr_of(&mut follow);
    assert_eq!(status.code(), Some(0), "{err}");
    // It may have started after the application created the file.
    let waiting = format!("lmlog-decode: waiting for {} to be created\n", live.display());
    assert!(err.is_empty() || err == waiting, "{err}");
    assert!(files_in(dir.path()) >= 6, "the series rotated: {} files", files_in(dir.path()));
    assert_every_event_once(&lines.iter().collect::<Vec<_>>());
}

#[test]
fn a_follower_started_after_rotations_prints_every_event_once() {
    let dir = TempDir::new("follow-late");
    let live = dir.path().join("app.lmlog");
    let mut app = scenario_command(&["live-series", dir.path().to_str().unwrap(), "exit"]).spawn().expect("spawn");
    // Start once the writer has closed a few files (or, on a slow
    // machine, once the application is done).
    let third = dir.path().join("app.lmlog.0000000002");
    while !third.exists() && app.try_wait().expect("wait").is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut follow = follower(&live);
    let lines = lines_of(follow.stdout.take().expect("piped"));
    assert!(wait(&mut app, "the application").success());
    let status = wait(&mut follow, "the follower");
    let err = stderr_of(&mut follow);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    assert_every_event_once(&lines.iter().collect::<Vec<_>>());
}

#[test]
fn a_signal_stops_the_follower_with_status_0_and_its_output_written() {
    let dir = TempDir::new("follow-signal");
    let live = dir.path().join("app.lmlog");
    // The application logs everything, flushes and waits: its live file has
    // no End frame until its standard input closes.
    let mut app = holding_live_series(dir.path());

    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut follow = follower(&live);
        let lines = lines_of(follow.stdout.take().expect("piped"));
        // Every event is printed while the follower still runs: its output
        // is written as soon as it is decoded.
        let mut printed = Vec::new();
        let deadline = Instant::now() + SCENARIO_WATCHDOG;
        while (printed.len() as u64) < EVENTS {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => printed.push(line),
                Err(e) => panic!("{} of {EVENTS} events printed ({e})", printed.len()),
            }
        }
        assert!(follow.try_wait().expect("wait").is_none(), "the follower waits for more");
        // SAFETY: `kill` on the id of a child process this test spawned and has not reaped.
        assert_eq!(unsafe { libc::kill(follow.id() as libc::pid_t, signal) }, 0);
        let status = wait(&mut follow, "the follower");
        let err = stderr_of(&mut follow);
        assert_eq!(status.code(), Some(0), "signal {signal}: {err}");
        assert!(err.is_empty(), "signal {signal}: {err}");
        printed.extend(lines.iter());
        assert_every_event_once(&printed);
    }
    drop(app.stdin.take());
    assert!(wait(&mut app, "the application").success());
}
