//! The runtime's own JSON Lines output (`Config::output_jsonl`): the file
//! holds what `lmlog-decode` would print, complete once the guard is
//! dropped (`lmlog-scenario live-jsonl`), rotates between lines
//! (`jsonl-rotation`), and is written through while the process runs, so
//! that `tail -f` shows it and SIGKILL leaves whole lines (`jsonl-tail`).

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crate::support::{closed_index, run_scenario, scenario_command, series, TempDir};

#[test]
fn the_live_json_lines_output_holds_every_event() {
    let dir = TempDir::new("live-jsonl");
    let path = dir.path().join("app.jsonl");
    run_scenario(&["live-jsonl", path.to_str().unwrap()]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1 + 2 * 500);
    assert_eq!(lines[0]["message"], "service checkout up");
    assert_eq!(lines[0]["level"], "warn");
    for w in 0..2u64 {
        let steps: Vec<u64> = lines
            .iter()
            .filter(|l| l["event_type"] == "step" && l["fields"]["w"] == w)
            .map(|l| {
                assert_eq!(l["thread"]["name"], format!("jsonl-{w}"));
                l["fields"]["i"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(steps, (0..500).collect::<Vec<_>>(), "worker {w}, in order");
    }
}

/// Every line of a JSON Lines file, parsed (each must be whole).
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    assert!(text.is_empty() || text.ends_with('\n'), "the file ends with a whole line");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a whole JSON line ({e}): {l}")))
        .collect()
}

#[test]
fn json_lines_files_rotate_between_lines() {
    let dir = TempDir::new("jsonl-rotation");
    run_scenario(&["jsonl-rotation", dir.path().to_str().unwrap()]);
    let files = series(dir.path(), "app.jsonl");
    assert!(files.len() > 3, "{files:?}");
    let mut steps = Vec::new();
    for (position, file) in files.iter().enumerate() {
        if position + 1 < files.len() {
            assert_eq!(closed_index(file), position as u32);
        }
        let text = std::fs::read_to_string(file).unwrap();
        let lines = json_lines(&text);
        // Within 16 KiB but for the line that crossed it.
        let last_line = text.trim_end().rsplit('\n').next().unwrap().len() + 1;
        assert!(text.len() - last_line <= 16 << 10, "{}: {} bytes", file.display(), text.len());
        steps.extend(lines.iter().map(|l| l["fields"]["i"].as_u64().unwrap()));
    }
    assert_eq!(steps, (0..3_000).collect::<Vec<_>>(), "every event once, in order, oldest file first");
}

/// `tail -f`: the lines are in the file while the process still runs,
/// without a flush; SIGKILL leaves them all, whole.
#[test]
fn a_reader_sees_the_lines_while_the_process_runs_and_after_sigkill() {
    let dir = TempDir::new("jsonl-tail");
    let path = dir.path().join("app.jsonl");
    let mut child =
        scenario_command(&["jsonl-tail", path.to_str().unwrap()]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut said = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut said).unwrap();
    assert_eq!(said, "logged\n");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.lines().count() == 1_000 && text.ends_with('\n') {
            break;
        }
        assert!(Instant::now() < deadline, "the lines never showed up: {} so far", text.lines().count());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(child.try_wait().unwrap().is_none(), "the process still runs (it sleeps without flushing)");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let lines = json_lines(&std::fs::read_to_string(&path).unwrap());
    let steps: Vec<u64> = lines.iter().map(|l| l["fields"]["i"].as_u64().unwrap()).collect();
    assert_eq!(steps, (0..1_000).collect::<Vec<_>>());
}
