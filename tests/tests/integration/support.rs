//! What the tests of this binary share: temporary directories and running
//! scenarios in child processes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A fresh directory for one test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        // Numbered too: two tests may ask for the same name at once.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lmlog-tests-{}-{n}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `lmlog-scenario <args>` in a child process and asserts it succeeded.
pub fn run_scenario(args: &[&str]) {
    scenario_output(args);
}

/// Runs `lmlog-scenario <args>` in a child process, asserts it succeeded
/// and returns what it printed on standard output.
pub fn scenario_output(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario")).args(args).output().expect("run lmlog-scenario");
    assert!(
        output.status.success(),
        "lmlog-scenario {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the scenario prints UTF-8")
}

/// Decodes a whole file into JSON values, one per line.
pub fn decode_lines(path: &Path) -> (Vec<serde_json::Value>, lmlog_decode::DecodeSummary) {
    let mut out = Vec::new();
    let summary = lmlog_decode::decode_file(path, &mut out).unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSON ({e}): {l}")))
        .collect();
    (lines, summary)
}

/// The `file_index` of each session in a file, in order.
pub fn session_indices(path: &Path) -> Vec<u32> {
    let mut indices = Vec::new();
    let mut decoder = lmlog_decode::Decoder::new(lmlog_decode::from_fn(|item| {
        if let lmlog_decode::Item::Session(session) = item {
            indices.push(session.file_index);
        }
    }));
    decoder.feed(&std::fs::read(path).unwrap()).unwrap();
    decoder.finish().unwrap();
    indices
}

/// The length (header and payload) of every frame of a file, in order;
/// preambles (one per run written to it) are skipped.
pub fn frame_lengths(path: &Path) -> Vec<u64> {
    let bytes = std::fs::read(path).unwrap();
    frames(&bytes).iter().map(|(_, payload)| (lmlog_format::frame::FRAME_HEADER_LEN + payload.len()) as u64).collect()
}

/// The kind and payload of every frame of a file's bytes, in order;
/// preambles (one per run written to it) are skipped.
pub fn frames(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    frames_with_headers(bytes).into_iter().map(|(header, payload)| (header.kind, payload)).collect()
}

/// The header and payload of every frame of a file's bytes, in order;
/// preambles (one per run written to it) are skipped.
pub fn frames_with_headers(bytes: &[u8]) -> Vec<(lmlog_format::frame::FrameHeader, &[u8])> {
    use lmlog_format::frame::{FrameHeader, FRAME_HEADER_LEN, MAGIC, PREAMBLE_LEN};
    let mut rest = bytes;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        if rest.starts_with(&MAGIC) {
            rest = &rest[PREAMBLE_LEN..];
            continue;
        }
        let header = FrameHeader::parse(rest, lmlog_format::FORMAT_VERSION).expect("a frame");
        let len = FRAME_HEADER_LEN + header.len as usize;
        frames.push((header, &rest[FRAME_HEADER_LEN..len]));
        rest = &rest[len..];
    }
    frames
}

/// The files of the series whose live file is `dir/name`, oldest first:
/// the closed files in the lexical order of their names, then the live
/// file. Asserts that every other name in `dir` is outside the series.
pub fn series(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let live = names.iter().position(|n| n == name).expect("the live file exists");
    let live = names.remove(live);
    names.push(live);
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// The index in a closed file's name (`app.lmlog.0000000042` → 42).
pub fn closed_index(path: &Path) -> u32 {
    let name = path.file_name().unwrap().to_str().unwrap();
    let (_, digits) = name.rsplit_once('.').unwrap();
    assert_eq!(digits.len(), 10, "{name}: ten digits");
    digits.parse().unwrap()
}

/// `lmlog-scenario <args>` as a command, to spawn or wrap.
pub fn scenario_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"));
    command.args(args);
    command
}

/// Starts `lmlog-scenario live-series DIR hold` and waits until it has
/// logged everything and flushed: its live file then has no End frame
/// until the child's standard input closes.
pub fn holding_live_series(dir: &Path) -> std::process::Child {
    use std::io::BufRead;
    let mut app = scenario_command(&["live-series", dir.to_str().unwrap(), "hold"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lmlog-scenario");
    let mut logged = String::new();
    std::io::BufReader::new(app.stdout.take().expect("piped")).read_line(&mut logged).expect("read");
    assert_eq!(logged, "logged\n");
    app
}

/// The `lmlog-decode` command, built for this test binary's target
/// directory and profile. (Cargo hands a test only its own package's
/// binaries by path; building once here also keeps the command current when
/// only this package is tested.)
pub fn decode_command() -> Command {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    let path = BIN.get_or_init(|| {
        // <target>/<profile>/deps/<this test binary>
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("<target>/<profile>");
        let target_dir = profile_dir.parent().expect("<target>");
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "--package", "lmlog-decode", "--bin", "lmlog-decode", "--target-dir"]);
        build.arg(target_dir);
        match profile_dir.file_name().and_then(|p| p.to_str()) {
            Some("debug") => {}
            Some(profile) => {
                build.args(["--profile", profile]);
            }
            None => panic!("unexpected target directory {}", profile_dir.display()),
        }
        build.current_dir(env!("CARGO_MANIFEST_DIR"));
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build of lmlog-decode failed: {status}");
        profile_dir.join(format!("lmlog-decode{}", std::env::consts::EXE_SUFFIX))
    });
    Command::new(path)
}

/// The gaps in frame numbers a decode reported: `(frames missing, whether
/// the writer's loss report accounts for them)`.
pub fn frame_gaps(summary: &lmlog_decode::DecodeSummary) -> Vec<(u64, bool)> {
    summary
        .diagnostics
        .iter()
        .filter_map(|d| match d.kind {
            lmlog_decode::DiagnosticKind::MissingFrames { expected, found, reported_by_writer } => {
                Some((u64::from(found - expected), reported_by_writer))
            }
            _ => None,
        })
        .collect()
}

/// How long a scenario run through [`scenario_output_within_watchdog`] may
/// take before the test takes it for hung. Not a performance bound: the
/// scenarios that use it take a few seconds at most on a loaded machine.
pub const SCENARIO_WATCHDOG: std::time::Duration = std::time::Duration::from_secs(120);

/// [`scenario_output`] for scenarios whose point is that nothing hangs:
/// the child is killed, and the test fails, if it has not finished within
/// [`SCENARIO_WATCHDOG`].
pub fn scenario_output_within_watchdog(args: &[&str]) -> String {
    use std::io::Read;
    use std::process::Stdio;

    let mut child =
        scenario_command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run lmlog-scenario");
    // Read both pipes while waiting, so a chatty child never blocks on them.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = std::time::Instant::now() + SCENARIO_WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for lmlog-scenario") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lmlog-scenario {args:?} hung: still running after {SCENARIO_WATCHDOG:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().expect("stdout reader"), stderr.join().expect("stderr reader"));
    assert!(status.success(), "lmlog-scenario {args:?} failed: {status}\n{stderr}");
    stdout
}

/// The number of events a decoded stream reports lost: the counts of its
/// `lmlog.dropped` events and the `events` of its `lmlog.writer_loss`
/// events.
pub fn events_counted_lost(lines: &[serde_json::Value]) -> u64 {
    lines
        .iter()
        .map(|line| match line["event_type"].as_str() {
            Some("lmlog.dropped") => line["fields"]["count"].as_u64().expect("a drop count"),
            Some("lmlog.writer_loss") => line["fields"]["events"].as_u64().expect("a count of events lost"),
            _ => 0,
        })
        .sum()
}
