//! What the tests of this binary share: temporary directories and running
//! scenarios in child processes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory for one test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lmlog-tests-{}-{test}", std::process::id()));
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
