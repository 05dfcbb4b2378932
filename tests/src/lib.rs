//! Helpers shared by lmlog's cross-crate tests (`tests/tests/`): paths of
//! the checked-in golden files and the child-process scenarios.

use std::path::{Path, PathBuf};

/// The directory holding the golden files, one subdirectory per format
/// version (`v1`, `v2`, ...).
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}
