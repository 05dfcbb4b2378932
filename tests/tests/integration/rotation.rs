//! Size-based rotation: every file in the series decodes on its own
//! (session, schemas and threads repeated), and no event is lost when
//! enough files are kept (`lmlog-scenario rotation`).

use crate::support::{decode_lines, run_scenario, TempDir};

#[test]
fn rotated_files_are_self_contained_and_complete() {
    let dir = TempDir::new("rotation");
    run_scenario(&["rotation", dir.path().to_str().unwrap()]);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.len() > 2, "expected several files, got {files:?}");
    let mut seen = Vec::new();
    for file in &files {
        let (lines, summary) = decode_lines(file);
        assert!(summary.is_clean(), "{}: {:?}", file.display(), summary.diagnostics);
        assert_eq!(summary.files, 1);
        for line in lines {
            assert_eq!(line["thread"]["name"], "main");
            seen.push(line["fields"]["i"].as_u64().unwrap());
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..5_000).collect::<Vec<_>>());
}
