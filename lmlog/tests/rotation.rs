//! Size-based rotation: every file in the series decodes on its own
//! (session, schemas and threads repeated), and no event is lost when
//! enough files are kept.

use lmlog::lm_event;

#[test]
fn rotated_files_are_self_contained_and_complete() {
    let dir = std::env::temp_dir().join(format!("lmlog-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.lmlog");
    const EVENTS: u64 = 5_000;
    {
        let _guard = lmlog::init(lmlog::Config::new().output(&path).rotate(8 << 10, 100)).unwrap();
        for i in 0..EVENTS {
            lm_event!(info, "tick", i = i, note = "rotation test");
            if i % 250 == 0 {
                lmlog::flush();
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() > 2, "expected several files, got {files:?}");
    let mut seen = Vec::new();
    for file in &files {
        let mut out = Vec::new();
        let summary = lmlog_decode::decode_file(file, &mut out).unwrap();
        assert!(summary.is_clean(), "{}: {:?}", file.display(), summary.diagnostics);
        for line in String::from_utf8(out).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["thread"]["name"], "rotated_files_are_self_contained_and_complete");
            seen.push(v["fields"]["i"].as_u64().unwrap());
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..EVENTS).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).ok();
}
