//! Bytes on disk per event, amortised over many events and their frames
//! (`lmlog-scenario record-size`; FORMAT.md and BENCHMARKS.md quote the
//! figures).

use crate::support::{decode_lines, scenario_output, TempDir};

fn bytes_per_event(compression: &str) -> f64 {
    let dir = TempDir::new(&format!("record-size-{compression}"));
    let path = dir.path().join("size.lmlog");
    let printed = scenario_output(&["record-size", path.to_str().unwrap(), compression]);
    let (lines, summary) = decode_lines(&path);
    assert_eq!(lines.len(), 100_001, "every event decodes");
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    let per_event: f64 = printed.trim().parse().unwrap();
    eprintln!("cache_miss, compression {compression}: {per_event:.2} bytes per event on disk");
    per_event
}

#[test]
fn three_field_event_size_stored_and_compressed() {
    // Stored: 1 (id) + 1–3 (tick delta) + 11 (string) + 1 (u32) + 8 (f64),
    // plus the frame and records headers shared by a drain's records.
    let stored = bytes_per_event("off");
    assert!((22.0..=25.0).contains(&stored), "{stored} bytes per event stored");
    let compressed = bytes_per_event("always");
    assert!(compressed <= 16.0, "{compressed} bytes per event compressed");
}
