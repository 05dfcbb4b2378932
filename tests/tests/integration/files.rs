//! What the file outputs promise across runs and to other users: a run
//! appends to the previous run's file (`lmlog-scenario append`), the file
//! holds its header once `init` returns (`early-exit`), file settings are
//! refused with a custom sink (`custom-sink-settings`), and files are
//! created with mode 0640 (`file-modes`).

use crate::support::{decode_lines, run_scenario, scenario_output, session_indices, TempDir};

/// Every event's (run, i), in file order.
fn runs(path: &std::path::Path) -> (Vec<(u64, u64)>, lmlog_decode::DecodeSummary) {
    let (lines, summary) = decode_lines(path);
    let events =
        lines.iter().map(|l| (l["fields"]["run"].as_u64().unwrap(), l["fields"]["i"].as_u64().unwrap())).collect();
    (events, summary)
}

fn events_of(runs: &[u64]) -> Vec<(u64, u64)> {
    runs.iter().flat_map(|&run| (0..100).map(move |i| (run, i))).collect()
}

#[test]
fn a_second_run_appends_and_both_decode_until_truncate_is_asked() {
    let dir = TempDir::new("append");
    let path = dir.path().join("app.lmlog");
    let file = path.to_str().unwrap();
    run_scenario(&["append", file, "1", "append"]);
    run_scenario(&["append", file, "2", "append"]);
    let (events, summary) = runs(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(summary.files, 2, "two files, one after the other");
    assert_eq!(events, events_of(&[1, 2]));
    run_scenario(&["append", file, "3", "truncate"]);
    let (events, summary) = runs(&path);
    assert_eq!((summary.files, events), (1, events_of(&[3])));
}

#[test]
fn a_run_cut_short_loses_only_its_cut_frame_to_the_next() {
    let dir = TempDir::new("append-cut");
    let path = dir.path().join("app.lmlog");
    let file = path.to_str().unwrap();
    run_scenario(&["append", file, "1", "append"]);
    // As if the process died while writing its last frame (the end frame).
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
    run_scenario(&["append", file, "2", "append"]);
    let (events, summary) = runs(&path);
    assert_eq!(events, events_of(&[1, 2]));
    assert_eq!(summary.files, 2);
    assert_eq!(summary.damaged_regions, 1, "{:?}", summary.diagnostics);
}

#[test]
fn the_file_holds_its_header_once_init_returns() {
    let dir = TempDir::new("early-exit");
    let path = dir.path().join("app.lmlog");
    run_scenario(&["early-exit", path.to_str().unwrap()]);
    let (lines, summary) = decode_lines(&path);
    assert!(lines.is_empty());
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(summary.files, 1);
    assert_eq!(session_indices(&path), [0]);
}

#[test]
fn file_settings_with_a_custom_sink_are_refused() {
    let output = scenario_output(&["custom-sink-settings"]);
    let lines: Vec<&str> = output.lines().collect();
    let settings =
        ["rotate", "rotate_every", "retain_max_files", "retain_max_age", "retain_max_bytes", "truncate", "file_mode"];
    assert_eq!(lines.len(), settings.len() + 2, "{output}");
    for (line, setting) in lines.iter().zip(settings) {
        assert!(line.starts_with(&format!("{setting}: refused {setting}: Config::{setting} applies")), "{line}");
        assert!(line.contains("a custom sink rotates itself through the Sink trait"), "{line}");
    }
    assert!(lines[settings.len()].starts_with("rotate then sink: refused rotate: "), "{output}");
    assert_eq!(lines[settings.len() + 1], "plain: ok");
}

#[cfg(unix)]
#[test]
fn files_are_created_0640_and_an_existing_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;

    use crate::support::scenario_command;

    let dir = TempDir::new("file-modes");
    let existing = dir.path().join("existing.lmlog");
    std::fs::write(&existing, b"").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o604)).unwrap();
    let scenario = scenario_command(&["file-modes", dir.path().to_str().unwrap()]);
    // Under a umask of 0, a file's mode is exactly what its creator asked.
    let status = std::process::Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(scenario.get_program())
        .args(scenario.get_args())
        .status()
        .unwrap();
    assert!(status.success());
    let mode = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("plain"), 0o666, "the scenario ran under a umask of 0");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let binary: Vec<&String> = names.iter().filter(|n| n.starts_with("app.lmlog")).collect();
    assert!(binary.len() >= 2, "the series rotated: {names:?}");
    for name in binary {
        assert_eq!(mode(name), 0o640, "{name}");
    }
    assert_eq!(mode("app.jsonl"), 0o600);
    assert_eq!(mode("existing.lmlog"), 0o604);
    assert!(std::fs::metadata(&existing).unwrap().len() > 0, "appended to");
}
