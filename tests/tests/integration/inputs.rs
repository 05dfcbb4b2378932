//! The inputs of the `lmlog-decode` command: a rotated series by its base
//! name, a directory, several files in any order (ordered by the index and
//! session in them, not by name), `--single`, gaps in a series, diagnostics
//! naming each file and the offset in it, the progress bar, and `--help`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{decode_command, decode_lines, run_scenario, scenario_command, series, TempDir};

/// `lmlog-decode ARGS`, with its output.
fn decode(args: &[&Path]) -> Output {
    decode_command().args(args).output().expect("run lmlog-decode")
}

/// Each event's (run, i), in the order printed, from JSON Lines.
fn ticks(out: &Output) -> Vec<(u64, u64)> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8")
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            (line["fields"]["run"].as_u64().expect("run"), line["fields"]["i"].as_u64().expect("i"))
        })
        .collect()
}

/// Two runs of the `rotation` scenario: one series of at least 11 files
/// (the second run continues the first's numbering), 5000 events a run.
fn two_runs(dir: &Path) -> Vec<PathBuf> {
    run_scenario(&["rotation", dir.to_str().unwrap(), "0"]);
    run_scenario(&["rotation", dir.to_str().unwrap(), "1"]);
    let files = series(dir, "app.lmlog");
    assert!(files.len() >= 11, "a series of at least 11 files: {files:?}");
    files
}

fn every_tick() -> Vec<(u64, u64)> {
    (0..2).flat_map(|run| (0..5_000).map(move |i| (run, i))).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_series_decodes_whole_from_its_base_name_its_directory_or_its_files_in_any_order() {
    let dir = TempDir::new("inputs-series");
    let files = two_runs(dir.path());
    let live = dir.path().join("app.lmlog");

    let by_name = decode(&[&live]);
    assert_eq!(by_name.status.code(), Some(0), "{}", stderr(&by_name));
    assert!(by_name.stderr.is_empty(), "{}", stderr(&by_name));
    assert_eq!(ticks(&by_name), every_tick());

    let by_directory = decode(&[dir.path()]);
    assert_eq!(by_directory.status.code(), Some(0), "{}", stderr(&by_directory));
    assert_eq!(ticks(&by_directory), every_tick());

    // Shuffled (a fixed permutation), and the live file given twice: still
    // the series once, in the order written.
    let mut shuffled: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    shuffled.reverse();
    shuffled.rotate_left(4);
    shuffled.swap(1, 7);
    shuffled.push(&live);
    for single in [true, false] {
        let mut command = decode_command();
        if single {
            command.arg("--single");
        }
        let out = command.args(&shuffled).output().expect("run lmlog-decode");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(ticks(&out), every_tick());
    }
}

/// Files named without the zero padding sort `.10` before `.2` by name; the
/// decoder orders them by the index their sessions record.
#[test]
fn files_are_ordered_by_their_index_not_their_name() {
    let dir = TempDir::new("inputs-names");
    let files = two_runs(dir.path());
    let renamed = dir.path().join("renamed");
    std::fs::create_dir(&renamed).unwrap();
    let mut by_name = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let copy = renamed.join(format!("part.{index}"));
        std::fs::copy(file, &copy).unwrap();
        by_name.push(copy);
    }
    by_name.sort();
    assert!(by_name[2].ends_with("part.10"), "names sort .10 before .2: {by_name:?}");

    let args: Vec<&Path> = by_name.iter().map(PathBuf::as_path).collect();
    for out in [decode(&args), decode(&[&renamed])] {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(ticks(&out), every_tick());
    }
}

#[test]
fn single_decodes_the_file_named_alone() {
    let dir = TempDir::new("inputs-single");
    let files = two_runs(dir.path());
    let live = files.last().unwrap();
    let out = decode_command().arg("--single").arg(live).output().expect("run lmlog-decode");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let alone: Vec<(u64, u64)> = decode_lines(live)
        .0
        .iter()
        .map(|line| (line["fields"]["run"].as_u64().unwrap(), line["fields"]["i"].as_u64().unwrap()))
        .collect();
    assert!(!alone.is_empty() && alone.len() < 5_000, "{} events in the live file", alone.len());
    assert_eq!(ticks(&out), alone);
    // A closed file named is that file only, with or without --single.
    let closed = &files[3];
    let out = decode(&[closed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ticks(&out).len(), decode_lines(closed).0.len());
}

#[test]
fn a_missing_file_is_a_gap_and_the_events_around_it_still_decode() {
    let dir = TempDir::new("inputs-gap");
    let files = two_runs(dir.path());
    let missing = &files[5];
    let (lost, _) = decode_lines(missing);
    let lost: Vec<(u64, u64)> =
        lost.iter().map(|l| (l["fields"]["run"].as_u64().unwrap(), l["fields"]["i"].as_u64().unwrap())).collect();
    std::fs::remove_file(missing).unwrap();

    for out in [decode(&[&dir.path().join("app.lmlog")]), decode(&[dir.path()])] {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("gap") && err.contains("missing"), "{err}");
        assert!(err.contains(&missing.display().to_string()), "names the missing file: {err}");
        let expected: Vec<(u64, u64)> = every_tick().into_iter().filter(|tick| !lost.contains(tick)).collect();
        assert!(lost.first() > expected.first() && lost.last() < expected.last(), "events on both sides");
        assert_eq!(ticks(&out), expected);
    }
    // -q: nothing on stderr, the status still says it.
    let out = decode_command().arg("-q").arg(dir.path()).output().expect("run lmlog-decode");
    assert_eq!((out.status.code(), out.stderr.is_empty()), (Some(1), true), "{}", stderr(&out));
}

/// A damaged frame in the middle of a series is reported with the file it
/// is in and its offset in that file, as decoding that file alone reports it.
#[test]
fn diagnostics_name_the_file_and_the_offset_in_it() {
    let dir = TempDir::new("inputs-damage");
    let files = two_runs(dir.path());
    let damaged = &files[6];
    let mut bytes = std::fs::read(damaged).unwrap();
    // A byte in the middle of the largest frame's payload: its CRC fails
    // and decoding resumes at the next frame, whatever file follows (a
    // damaged header could instead run to the end of the file, which ends
    // differently alone than in its series).
    let middle = largest_payload_middle(&bytes);
    bytes[middle] ^= 0x5a;
    std::fs::write(damaged, &bytes).unwrap();
    let (_, alone) = decode_lines(damaged);
    let [diagnostic] = alone.diagnostics.as_slice() else { panic!("one diagnostic: {:?}", alone.diagnostics) };

    let out = decode(&[&dir.path().join("app.lmlog")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("lmlog-decode: {}: {diagnostic}\n", damaged.display()));
    assert!(diagnostic.offset > 0 && diagnostic.offset < bytes.len() as u64);
}

/// The offset of the middle byte of the payload of the largest frame of
/// an lmlog file.
fn largest_payload_middle(file: &[u8]) -> usize {
    use lmlog_format::frame::{FrameHeader, FRAME_HEADER_LEN, MAGIC, PREAMBLE_LEN};
    let (mut at, mut largest) = (0, (0, 0));
    while at < file.len() {
        if file[at..].starts_with(&MAGIC) {
            at += PREAMBLE_LEN;
            continue;
        }
        let header = FrameHeader::parse(&file[at..], lmlog_format::FORMAT_VERSION).expect("a frame");
        let len = header.len as usize;
        if len > largest.1 {
            largest = (at + FRAME_HEADER_LEN, len);
        }
        at += FRAME_HEADER_LEN + len;
    }
    largest.0 + largest.1 / 2
}

/// Runs `lmlog-decode ARGS` under `script` (util-linux), so that its
/// standard error is a terminal; returns what the terminal showed.
fn on_a_terminal(args: &str) -> String {
    on_a_terminal_with_status(args, Some(0))
}

/// [`on_a_terminal`], expecting the exit status `status`.
fn on_a_terminal_with_status(args: &str, status: Option<i32>) -> String {
    let bin = decode_command().get_program().to_str().unwrap().to_owned();
    let command = format!("'{bin}' {args}");
    let out = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("run script (util-linux)");
    assert_eq!(out.status.code(), status, "{command}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn large_inputs_show_progress_on_a_terminal_only() {
    let dir = TempDir::new("inputs-progress");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let first = logs.join("part-0.lmlog");
    run_scenario(&["record-size", first.to_str().unwrap(), "off"]);
    // Copies of one file, to 16 MiB and more, the size from which progress shows.
    let size = std::fs::metadata(&first).unwrap().len();
    let copies = (16 << 20) / size + 1;
    for copy in 1..=copies {
        std::fs::copy(&first, logs.join(format!("part-{copy}.lmlog"))).unwrap();
    }
    let events = decode_lines(&first).0.len() as u64 * (copies + 1);
    let output = dir.path().join("out.jsonl");
    let args = format!("-o '{}' '{}'", output.display(), logs.display());

    let shown = on_a_terminal(&args);
    assert!(shown.contains(" MiB/") && shown.contains("ETA") && shown.contains("[=="), "{shown:?}");
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count() as u64, events);

    // A diagnostic printed while the bar shows is a whole line of its own.
    let damaged = logs.join("part-2.lmlog");
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&damaged, &bytes).unwrap();
    let (_, alone) = decode_lines(&damaged);
    let [diagnostic] = alone.diagnostics.as_slice() else { panic!("one diagnostic: {:?}", alone.diagnostics) };
    let shown = on_a_terminal_with_status(&args, Some(1));
    let line = format!("lmlog-decode: {}: {diagnostic}\r\n", damaged.display());
    assert!(shown.contains(&line) && shown.contains(" MiB/"), "{line:?} in {shown:?}");

    let quiet = on_a_terminal_with_status(&format!("-q {args}"), Some(1));
    assert!(quiet.is_empty(), "-q shows no progress: {quiet:?}");

    let piped = decode_command().arg("-o").arg(&output).arg(&logs).output().expect("run lmlog-decode");
    assert_eq!(piped.status.code(), Some(1), "{}", stderr(&piped));
    assert_eq!(stderr(&piped), format!("lmlog-decode: {}: {diagnostic}\n", damaged.display()), "no progress on a pipe");
}

/// The options of a help text: each line that starts with a flag, and the
/// lines that describe it, up to the next flag or heading.
fn options(help: &str) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("  ") && trimmed.starts_with('-') {
            let long = trimmed.split([' ', ',']).find(|word| word.starts_with("--")).unwrap_or(trimmed);
            options.push((long.to_owned(), String::new()));
        } else if !line.starts_with(' ') && !line.is_empty() {
            // A heading ends the option before it.
            options.push((String::new(), String::new()));
        } else if let Some((_, text)) = options.last_mut() {
            text.push_str(trimmed);
            text.push('\n');
        }
    }
    options.retain(|(flag, _)| !flag.is_empty());
    options
}

#[test]
fn help_describes_every_flag_with_an_example_and_the_exit_statuses() {
    let short = decode_command().arg("-h").output().expect("run lmlog-decode -h");
    let long = decode_command().arg("--help").output().expect("run lmlog-decode --help");
    assert!(short.status.success() && long.status.success());
    let (short, long) = (String::from_utf8(short.stdout).unwrap(), String::from_utf8(long.stdout).unwrap());

    let flags: Vec<String> = options(&short).into_iter().map(|(flag, _)| flag).collect();
    for flag in
        ["--output", "--quiet", "--single", "--follow", "--recover", "--format", "--color", "--level", "--where"]
    {
        assert!(flags.iter().any(|f| f == flag), "-h lists {flag}: {flags:?}");
    }
    let described = options(&long);
    for flag in &flags {
        let Some((_, text)) = described.iter().find(|(f, _)| f == flag) else { panic!("--help lacks {flag}") };
        if flag != "--help" && flag != "--version" {
            assert!(text.contains("Example") && text.contains("lmlog-decode"), "{flag} has an example: {text}");
        }
    }
    assert!(long.contains("Exit status"), "{long}");
    for status in ["0  the input decoded cleanly", "1  damage was found", "2  fatal"] {
        assert!(long.contains(status), "--help explains exit status {status:?}");
    }
    for topic in ["directory", "app.lmlog.0000000000", "gap", "pretty", "otel-json"] {
        assert!(long.contains(topic), "--help describes {topic}");
    }
    assert!(short.lines().count() * 2 < long.lines().count() && !short.contains("Example"), "-h stays short:\n{short}");
}

/// One `--format otel-json` line: its service, time, and the event's
/// (worker, i).
fn service_event(line: &str) -> (String, i128, (u64, u64)) {
    let line: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    let logs = &line["resourceLogs"][0];
    let attribute = |list: &serde_json::Value, key: &str| {
        let list = list.as_array().expect("attributes");
        list.iter().find(|a| a["key"] == key).map(|a| a["value"].clone()).expect("the attribute")
    };
    let service =
        attribute(&logs["resource"]["attributes"], "service.name")["stringValue"].as_str().unwrap().to_owned();
    let record = &logs["scopeLogs"][0]["logRecords"][0];
    let time = record["timeUnixNano"].as_str().unwrap().parse().unwrap();
    let int = |key| attribute(&record["attributes"], key)["intValue"].as_str().unwrap().parse::<u64>().unwrap();
    (service, time, (int("worker"), int("i")))
}

/// How often a line is older than the line before it by more than a
/// clock re-anchoring can shift times (FORMAT.md: events are merged by
/// ticks, and a clock frame may move the wall time ticks convert to by some
/// microseconds); a step back of a drain interval (10 ms here), as a
/// rotation in the middle of a drain would cause, counts.
fn steps_back(events: &[(String, i128, (u64, u64))]) -> usize {
    const REANCHOR_SHIFT_NANOS: i128 = 500_000;
    events.windows(2).filter(|pair| pair[1].1 < pair[0].1 - REANCHOR_SHIFT_NANOS).count()
}

/// Two applications (two services) logging at the same time into series of
/// their own: named together, their events come out merged by time, each
/// once, and so does each series alone, across its rotations; `--unordered`
/// decodes one series after the other.
#[test]
fn logs_of_applications_written_side_by_side_are_merged_by_time() {
    let dir = TempDir::new("inputs-side-by-side");
    let (api, worker) = (dir.path().join("api"), dir.path().join("worker"));
    let apps: Vec<_> = [(&api, "api"), (&worker, "worker")]
        .into_iter()
        .map(|(path, service)| {
            std::fs::create_dir(path).unwrap();
            scenario_command(&["live-series", path.to_str().unwrap(), "exit"])
                .env("OTEL_SERVICE_NAME", service)
                .spawn()
                .expect("spawn lmlog-scenario")
        })
        .collect();
    for mut app in apps {
        assert!(app.wait().expect("wait for lmlog-scenario").success());
    }
    let decode_events = |args: &[&str], paths: &[&Path]| {
        let out = decode_command().args(args).args(paths).output().expect("run lmlog-decode");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap().lines().map(service_event).collect::<Vec<_>>()
    };
    let alone: Vec<_> = [&api, &worker].map(|path| decode_events(&["--format", "otel-json"], &[path])).into();
    let merged = decode_events(&["--format", "otel-json"], &[&api, &worker]);

    let mut sorted = merged.clone();
    sorted.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    let mut expected: Vec<_> = alone.concat();
    expected.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    assert_eq!(sorted, expected, "each event of both once");
    assert_eq!(merged.len(), 6_000);
    let switches = merged.windows(2).filter(|pair| pair[0].0 != pair[1].0).count();
    assert!(switches > 100, "the services' events interleave: {switches} switches");
    // In time order, across the rotations of each series (which fall in
    // the middle of drains, or several in one drain the writer took long
    // over) and across the two series. One step back per series is the
    // format's late record (FORMAT.md: a thread suspended between its clock
    // read and its commit for longer than a drain, 10 ms here, which a busy
    // machine can do); a rotation that broke the order would step back at
    // each of the dozen rotations.
    for events in &alone {
        assert!(steps_back(events) <= 1, "a series alone out of order: {}", steps_back(events));
    }
    assert!(steps_back(&merged) <= 2, "merged out of order: {}", steps_back(&merged));

    let unordered = decode_events(&["--format", "otel-json", "--unordered"], &[&api, &worker]);
    let switches = unordered.windows(2).filter(|pair| pair[0].0 != pair[1].0).count();
    assert_eq!((unordered.len(), switches), (6_000, 1), "--unordered: one series, then the other");
}
