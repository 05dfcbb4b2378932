//! Rotation of the binary output by size and by time
//! (`lmlog-scenario rotation`, `time-rotation`): every file of the series
//! decodes on its own (session, schemas and threads repeated), closed
//! files are named by their index in the series, which their sessions
//! record, so the names' lexical order is time order; a restart continues
//! the series and changes no closed file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::support::{closed_index, decode_lines, frame_lengths, run_scenario, series, session_indices, TempDir};

/// Decodes each file of the series oldest first, checking that it is one
/// clean, self-contained file (or, for a file two runs wrote, two) whose
/// sessions all record the index in its name (the live file: one past the
/// last closed file); returns every event's (run, i) in order.
fn decode_series(files: &[PathBuf]) -> Vec<(u64, u64)> {
    let mut events = Vec::new();
    for (position, file) in files.iter().enumerate() {
        let (lines, summary) = decode_lines(file);
        assert!(summary.is_clean(), "{}: {:?}", file.display(), summary.diagnostics);
        let index = if position + 1 == files.len() { position as u32 } else { closed_index(file) };
        assert_eq!(index, position as u32, "{}: indices have no gaps", file.display());
        let sessions = session_indices(file);
        assert!(!sessions.is_empty() && sessions.iter().all(|&s| s == index), "{}: {sessions:?}", file.display());
        assert_eq!(summary.files, sessions.len() as u64);
        for line in lines {
            assert_eq!(line["thread"]["name"], "main");
            events.push((line["fields"]["run"].as_u64().unwrap_or(0), line["fields"]["i"].as_u64().unwrap()));
        }
    }
    events
}

#[test]
fn rotated_files_are_self_contained_complete_and_named_in_time_order() {
    let dir = TempDir::new("rotation");
    run_scenario(&["rotation", dir.path().to_str().unwrap(), "0"]);
    let files = series(dir.path(), "app.lmlog");
    assert!(files.len() > 2, "expected several files, got {files:?}");
    let events = decode_series(&files);
    assert_eq!(events, (0..5_000).map(|i| (0, i)).collect::<Vec<_>>());
}

/// A burst drained at once spans many records frames; the writer rotates
/// before the frame that would not fit, so a closed file exceeds its
/// 64 KiB by at most one frame (and its End frame).
#[test]
fn a_file_overshoots_its_size_by_at_most_one_frame() {
    let dir = TempDir::new("rotation-burst");
    run_scenario(&["rotation-burst", dir.path().to_str().unwrap()]);
    let files = series(dir.path(), "app.lmlog");
    assert!(files.len() > 4, "expected several files, got {files:?}");
    for file in &files[..files.len() - 1] {
        let frames = frame_lengths(file);
        let size = std::fs::metadata(file).unwrap().len();
        let largest = frames.iter().max().unwrap();
        let end = frames.last().unwrap();
        assert!(size - largest - end <= 64 << 10, "{}: {size} bytes, frames {frames:?}", file.display());
    }
    let ticks: u64 = files.iter().map(|f| decode_lines(f).0.len() as u64).sum();
    assert_eq!(ticks, 20_000);
}

#[test]
fn a_restart_continues_the_series_and_changes_no_closed_file() {
    let dir = TempDir::new("rotation-restart");
    let path = dir.path().to_str().unwrap();
    run_scenario(&["rotation", path, "0"]);
    let first: BTreeMap<PathBuf, Vec<u8>> =
        series(dir.path(), "app.lmlog").into_iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
    let first_live = dir.path().join("app.lmlog");
    run_scenario(&["rotation", path, "1"]);
    let files = series(dir.path(), "app.lmlog");
    assert!(files.len() > first.len(), "{files:?}");
    for (file, content) in &first {
        if *file != first_live {
            assert_eq!(&std::fs::read(file).unwrap(), content, "{} changed", file.display());
        }
    }
    // The first run's live file keeps its index: the second run appended
    // to it before closing it, unless it was already full, in which case
    // the second run closed it as it was.
    let continued = &files[first.len() - 1];
    assert_eq!(closed_index(continued) as usize, first.len() - 1);
    let content = std::fs::read(continued).unwrap();
    if first[&first_live].len() < 8 << 10 {
        assert!(content.starts_with(&first[&first_live]) && content.len() > first[&first_live].len());
        assert_eq!(session_indices(continued).len(), 2);
    } else {
        assert_eq!(content, first[&first_live]);
    }
    let events = decode_series(&files);
    let expected: Vec<_> = (0..2).flat_map(|run| (0..5_000).map(move |i| (run, i))).collect();
    assert_eq!(events, expected);
}

#[test]
fn time_rotation_starts_a_file_at_each_boundary() {
    let dir = TempDir::new("time-rotation");
    run_scenario(&["time-rotation", dir.path().to_str().unwrap()]);
    let files = series(dir.path(), "app.lmlog");
    // 60 events 20 ms apart span at least one 200 ms boundary.
    assert!(files.len() >= 2, "{files:?}");
    let events = decode_series(&files);
    assert_eq!(events, (0..60).map(|i| (0, i)).collect::<Vec<_>>());
}
