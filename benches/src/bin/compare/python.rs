//! The Python LMLog 0.3.0 that lmlog replaces, run through
//! `benches/python/lmlog_py_bench.py` when this machine has it.

use std::path::Path;
use std::process::Command;

use crate::measure::{Row, Sizes};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/lmlog_py_bench.py");
/// Python logs ~50k events/s: it gets fewer events so the run stays short.
const PYTHON_SHARE: u64 = 10;

/// The Python rows, or the note saying why they were skipped.
pub fn run(scratch: &Path, sizes: Sizes, quick: bool) -> Result<Vec<Row>, String> {
    let probe = Command::new("python3").args(["-c", "import lmlog; print(lmlog.__version__)"]).output();
    let version = match probe {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => {
            return Err("skipped the Python LMLog: `python3 -c \"import lmlog\"` failed \
                        (install it with `pip install lmlog==0.3.0`)"
                .to_string())
        }
    };
    if version != "0.3.0" {
        return Err(format!("skipped the Python LMLog: found version {version}, the anchor is 0.3.0"));
    }
    let dir = scratch.join("python");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (samples, events) =
        if quick { (sizes.samples, sizes.events) } else { (sizes.samples / PYTHON_SHARE, sizes.events / PYTHON_SHARE) };
    eprintln!("running python-lmlog-{version}");
    let output = Command::new("python3")
        .arg(SCRIPT)
        .arg(&dir)
        .args([samples.to_string(), events.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !output.status.success() {
        return Err(format!("the Python LMLog run failed ({})", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).map_err(|e| format!("python: bad row {line:?}: {e}")))
        .collect()
}
