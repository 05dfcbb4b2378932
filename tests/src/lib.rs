//! Helpers shared by lmlog's tests: paths of the checked-in golden files
//! and the child-process scenarios (`tests/tests/`), and the stream
//! synthesizer ([`synth`]) that `lmlog-decode`'s tests and the command's
//! tests here build their input with.

use std::path::{Path, PathBuf};

pub mod synth;

/// The directory holding the golden files, one subdirectory per format
/// version (`v1`, `v2`, ...).
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}
