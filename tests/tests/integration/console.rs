//! The runtime's console output (`Config::console`) and its outputs side
//! by side (`lmlog-scenario console MODE DIR`): alone it prints one
//! readable line per event on stderr, in time order across threads, and
//! writes nothing to disk (file settings are refused); beside the binary
//! log it prints exactly what `lmlog-decode --format pretty` makes of the
//! file, even when stderr is read late, and while the process runs; it is
//! coloured on a terminal only; and a binary log and a JSON Lines file
//! written together hold the same events, each rotating on its own, and a
//! JSON Lines file that fails stops alone.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{decode_lines, scenario_command, scenario_output, series, TempDir};

/// `step` events per thread in the scenario.
const STEPS: u32 = 2_000;
/// Every event of the scenario: `started`, the steps of three threads, `stopped`.
const EVENTS: usize = 2 + 3 * STEPS as usize;

/// Runs the scenario with stderr piped, reading it only after a while, so
/// that the console fills the pipe and waits; returns what it printed on
/// stderr.
fn console_of(mode: &str, dir: &Path) -> String {
    let child = scenario_command(&["console", mode, dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "lmlog-scenario console {mode}: {}\n{stderr}", out.status);
    stderr
}

/// Checks the console lines of the scenario: one per event, plain text,
/// each with its level, event type, message and fields, in time order
/// across threads (the first event first, the last last), each thread's
/// steps in order.
fn check_lines(text: &str) {
    assert!(!text.contains('\x1b'), "no colours on a pipe");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), EVENTS, "one line per event, and nothing else");
    // RFC 3339 with nine digits: text order is time order.
    let times: Vec<&str> = lines.iter().map(|l| l.split_once(' ').unwrap().0).collect();
    assert!(times.windows(2).all(|t| t[0] <= t[1]), "the lines are in time order");
    assert!(lines[0].contains(" WARN started: ") && lines[EVENTS - 1].contains("ERROR stopped: "));
    let mut steps: [Vec<u32>; 3] = Default::default();
    let (mut started, mut stopped) = (0, 0);
    for line in &lines {
        // After the timestamp: the level (padded to five), the event type,
        // the message, the fields, the thread, the source.
        let rest = line.split_once(' ').unwrap().1;
        if rest.starts_with(" WARN started: ") {
            assert!(rest.starts_with(" WARN started: service checkout up name=checkout thread=main "), "{line}");
            started += 1;
            continue;
        }
        if rest.starts_with("ERROR stopped: ") {
            assert!(rest.starts_with("ERROR stopped: 6000 steps done count=6000 thread=main "), "{line}");
            stopped += 1;
            continue;
        }
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        assert_eq!(tokens[..2], ["INFO", "step:"], "{line}");
        let w: u32 = tokens[2].strip_prefix("w=").unwrap().parse().unwrap();
        let i: u32 = tokens[3].strip_prefix("i=").unwrap().parse().unwrap();
        let fields = format!(" INFO step: w={w} i={i} note=\"two words\" thread=console-{w} ");
        assert!(rest.starts_with(&fields), "{line}");
        steps[w as usize].push(i);
    }
    assert_eq!((started, stopped), (1, 1));
    for (w, steps) in steps.iter().enumerate() {
        assert_eq!(*steps, (0..STEPS).collect::<Vec<_>>(), "thread console-{w}: every step once, in order");
    }
}

#[test]
fn the_console_alone_prints_every_event_and_writes_nothing_to_disk() {
    let dir = TempDir::new("console-alone");
    check_lines(&console_of("alone", dir.path()));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing on disk: {left:?}");
}

#[test]
fn file_settings_with_the_console_alone_are_refused() {
    let dir = TempDir::new("console-alone-rotate");
    let said = scenario_output(&["console", "alone-rotate", dir.path().to_str().unwrap()]);
    assert_eq!(
        said,
        "FileSettingWithoutFile { setting: \"rotate\" }: Config::rotate applies to lmlog's own files, \
         and the console alone writes none (add Config::output or Config::output_jsonl)\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing on disk");
}

#[test]
fn beside_the_binary_log_the_console_prints_what_the_file_holds() {
    let dir = TempDir::new("console-file");
    let console = console_of("file", dir.path());
    check_lines(&console);
    assert_eq!(console, pretty_of(&dir.path().join("app.lmlog")), "the console shows the file's events, in time order");
}

/// Pretty lines (no colours, time order) of the binary log at `path`, as
/// `lmlog-decode --format pretty` prints them; the log must be clean.
fn pretty_of(path: &Path) -> String {
    let mut decoded = Vec::new();
    let mut decoder = lmlog_decode::Decoder::new(lmlog_decode::Pretty::new(&mut decoded, false)).with_time_order();
    decoder.feed(&std::fs::read(path).unwrap()).unwrap();
    let summary = decoder.finish().unwrap();
    assert!(summary.is_clean() && summary.clean_end, "{summary:?}");
    String::from_utf8(decoded).unwrap()
}

/// Starts the scenario in `mode` (its standard input, output and error
/// piped) and waits until it prints `logged`.
fn started_until_logged(mode: &str, dir: &Path) -> std::process::Child {
    let mut child = scenario_command(&["console", mode, dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut said).unwrap();
    assert_eq!(said, "logged\n", "lmlog-scenario console {mode}");
    child
}

/// A console nobody reads (standard error a pipe left unread) never stops
/// the writer: the file holds every event while the console is stuck, and
/// once read the console shows some of them, says that it fell behind, and
/// ends with the last event.
#[test]
fn a_console_nobody_reads_never_costs_the_file_an_event() {
    const MANY_STEPS: usize = 20_000;
    let dir = TempDir::new("console-unread");
    // Every event logged and flushed while the console is not read.
    let mut child = started_until_logged("unread", dir.path());
    let (lines, _) = decode_lines(&dir.path().join("app.lmlog"));
    let steps = lines.iter().filter(|l| l["event_type"] == "step").count();
    assert_eq!(steps, 3 * MANY_STEPS, "the file holds every step");
    assert_eq!(crate::support::events_counted_lost(&lines), 0);

    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let console = String::from_utf8_lossy(&out.stderr);
    let shown = console.lines().filter(|l| l.contains(" INFO step: ")).count();
    assert!(shown < 3 * MANY_STEPS, "the console left events out: {shown} shown");
    // Said once it caught up, or at the end if it never did.
    assert!(console.contains("lmlog: the console fell behind: "), "it says so");
    assert!(console.lines().next().is_some_and(|l| l.contains(" WARN started: ")), "it started in time");
}

/// The lines come while the process runs, without a flush: a watermark
/// or two after the last event, all of them are on stderr.
#[test]
fn the_console_shows_the_events_while_the_process_runs() {
    let dir = TempDir::new("console-running");
    let mut child = started_until_logged("running", dir.path());
    // Every event but `stopped`, which comes only after the sleep.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || stderr.lines().map_while(Result::ok).try_for_each(|line| lines_tx.send(line)));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while lines.len() < EVENTS - 1 {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("the lines never showed up: {} so far", lines.len()),
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "the process still runs (it sleeps without flushing)");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(lines.iter().filter(|l| l.contains(" INFO step: ")).count(), 3 * STEPS as usize);
    assert!(lines[0].contains(" WARN started: "), "{}", lines[0]);
}

/// Runs the scenario under `script` (util-linux), so that its standard
/// error is a terminal; returns what it printed there.
fn on_a_terminal(dir: &Path, no_color: bool) -> String {
    let bin = scenario_command(&[]).get_program().to_str().unwrap().to_owned();
    let command = format!("'{bin}' console file '{}'", dir.display());
    let mut script = Command::new("script");
    script.args(["-qec", &command, "/dev/null"]).env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let out = script.output().expect("run script (util-linux)");
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_console_is_coloured_on_a_terminal_unless_no_color_is_set() {
    let dir = TempDir::new("console-color");
    let coloured = on_a_terminal(dir.path(), false);
    let steps = coloured.lines().filter(|l| l.contains("\x1b[32m INFO\x1b[0m \x1b[1mstep:\x1b[0m")).count();
    assert_eq!(steps, 3 * STEPS as usize, "every step, coloured");
    assert!(coloured.contains("\x1b[31mERROR\x1b[0m \x1b[1mstopped:\x1b[0m 6000 steps done"), "{coloured:?}");

    let plain = on_a_terminal(dir.path(), true);
    assert!(!plain.contains('\x1b'), "NO_COLOR: {plain:?}");
    assert_eq!(plain.lines().filter(|l| l.contains(" INFO step: ")).count(), 3 * STEPS as usize);
}

/// The files of the series `dir/name`, oldest first, without the other
/// series in `dir`.
fn files_of(dir: &Path, name: &str) -> Vec<PathBuf> {
    series(dir, name).into_iter().filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name)).collect()
}

#[test]
fn a_binary_log_and_json_lines_written_together_hold_the_same_events() {
    let dir = TempDir::new("console-file-jsonl");
    assert_eq!(console_of("file-jsonl", dir.path()), "", "no console unless asked for");
    let binary = files_of(dir.path(), "app.lmlog");
    let json = files_of(dir.path(), "app.jsonl");
    assert!(binary.len() > 2 && json.len() > 2, "each rotates on its own: {binary:?} {json:?}");

    let stream: Vec<u8> = binary.iter().flat_map(|p| std::fs::read(p).unwrap()).collect();
    let mut decoded = Vec::new();
    let summary = lmlog_decode::decode_reader(&stream[..], &mut decoded).unwrap();
    assert!(summary.is_clean() && summary.clean_end, "{summary:?}");
    assert_eq!(summary.events, EVENTS as u64);
    let written: String = json.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    assert_eq!(written, String::from_utf8(decoded).unwrap(), "the JSON Lines are the binary log's events");

    let lines: Vec<serde_json::Value> = written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["message"], "service checkout up");
    for w in 0..3u64 {
        let steps: Vec<u64> = lines
            .iter()
            .filter(|l| l["event_type"] == "step" && l["fields"]["w"] == w)
            .map(|l| l["fields"]["i"].as_u64().unwrap())
            .collect();
        assert_eq!(steps, (0..STEPS as u64).collect::<Vec<_>>(), "thread console-{w}, in order");
    }
}

#[test]
fn a_failing_json_lines_file_stops_alone_and_says_so() {
    let dir = TempDir::new("console-jsonl-full");
    let stderr = console_of("jsonl-full", dir.path());
    let said: Vec<&str> = stderr.lines().collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].starts_with("lmlog: the JSON Lines output stopped: "), "{stderr}");
    let (lines, summary) = decode_lines(&dir.path().join("app.lmlog"));
    assert!(summary.is_clean() && summary.clean_end, "{summary:?}");
    assert_eq!(lines.len(), EVENTS, "the binary log has every event");
    assert_eq!(crate::support::events_counted_lost(&lines), 0);
}
