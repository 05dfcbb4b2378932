//! Compression under saturation (`lmlog-scenario saturated-compression`):
//! two threads log flat out, then the main thread logs a paced tail. Every
//! event reaches the file whatever the writer compresses; a records frame
//! is compressed only when that makes it smaller; `off` compresses nothing
//! and `always` everything; and `adaptive`, after drains with time to
//! spare, compresses every records frame again.

use std::collections::HashMap;

use lmlog_format::frame::{compress_lz4, decompress_lz4, FLAG_LZ4};
use lmlog_format::FrameKind;
use serde_json::Value;

use crate::support::{decode_lines, frames_with_headers, scenario_output, TempDir};

/// Threads flooding, events each, and the main thread's paced tail
/// (`tests/src/bin/scenario/saturated_compression.rs`).
const THREADS: u64 = 2;
const EVENTS: u64 = 300_000;
const AFTER: u64 = 2_000;

/// One records frame of the file: its thread, whether it is stored
/// compressed, and its raw payload.
struct RecordsFrame {
    thread_id: u64,
    compressed: bool,
    raw: Vec<u8>,
}

fn records_frames(bytes: &[u8]) -> Vec<RecordsFrame> {
    let mut out = Vec::new();
    for (header, payload) in frames_with_headers(bytes) {
        assert!(header.verify(payload), "every frame's CRC holds");
        if header.kind == FrameKind::Records as u8 {
            let compressed = header.flags == FLAG_LZ4;
            assert!(compressed || header.flags == 0, "flags {:#x}", header.flags);
            let raw = if compressed {
                let mut raw = Vec::new();
                decompress_lz4(payload, &mut raw).expect("a compressed frame decompresses");
                assert!(payload.len() < raw.len(), "compressed only when that makes it smaller");
                raw
            } else {
                payload.to_vec()
            };
            let (thread_id, _) = lmlog_format::varint::read_u64(&raw).expect("a records header");
            out.push(RecordsFrame { thread_id, compressed, raw });
        }
    }
    out
}

/// Runs the scenario; checks that every event is in the file, in order per
/// thread, and nothing was dropped; returns the records frames and the
/// thread id of each thread name.
fn run(compression: &str) -> (Vec<RecordsFrame>, HashMap<String, u64>) {
    let dir = TempDir::new(&format!("saturated-compression-{compression}"));
    let path = dir.path().join("flood.lmlog");
    let printed = scenario_output(&["saturated-compression", path.to_str().unwrap(), compression]);
    let stats: Value = serde_json::from_str(printed.trim()).expect("the scenario prints its stats");
    assert_eq!(stats["dropped"], 0, "{stats}");
    assert_eq!(stats["written"], THREADS * EVENTS + AFTER, "{stats}");

    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean(), "{:?}", summary.diagnostics);
    assert_eq!(lines.len() as u64, THREADS * EVENTS + AFTER, "every event decodes");
    let mut next: HashMap<String, u64> = HashMap::new();
    let mut thread_ids = HashMap::new();
    for line in &lines {
        let name = line["thread"]["name"].as_str().expect("a named thread").to_string();
        let expected = next.entry(name.clone()).or_default();
        assert_eq!(line["fields"]["seq"], *expected, "{line}");
        *expected += 1;
        thread_ids.insert(name, line["thread"]["id"].as_u64().expect("a thread id"));
    }
    let flood: Vec<u64> = (0..THREADS).map(|t| next[&format!("flood-{t}")]).collect();
    assert_eq!(flood, [EVENTS; THREADS as usize]);
    let frames = records_frames(&std::fs::read(&path).unwrap());
    let compressed = frames.iter().filter(|f| f.compressed).count();
    eprintln!(
        "compression {compression}: {compressed} of {} records frames compressed, {:.2} bytes per event, writer busy {}‰",
        frames.len(),
        std::fs::metadata(&path).unwrap().len() as f64 / lines.len() as f64,
        stats["writer_busy_permille"]
    );
    (frames, thread_ids)
}

/// Whether LZ4 would make `raw` smaller (the writer's condition).
fn shrinks(raw: &[u8]) -> bool {
    let mut stored = Vec::new();
    compress_lz4(raw, &mut stored);
    stored.len() < raw.len()
}

#[test]
fn adaptive_compression_loses_nothing_under_saturation_and_compresses_everything_once_the_writer_has_time() {
    let (frames, threads) = run("adaptive");
    let main = threads["main"];
    let tail: Vec<&RecordsFrame> = frames.iter().filter(|f| f.thread_id == main).collect();
    assert!(!tail.is_empty());
    for frame in tail {
        assert_eq!(frame.compressed, shrinks(&frame.raw), "the paced tail's frames are compressed when that pays");
    }
}

#[test]
fn always_compresses_every_records_frame_that_shrinks_and_off_none() {
    let (frames, _) = run("always");
    assert!(frames.iter().any(|f| f.compressed));
    for frame in &frames {
        assert_eq!(frame.compressed, shrinks(&frame.raw));
    }
    let (frames, _) = run("off");
    assert!(frames.iter().all(|f| !f.compressed));
    assert!(frames.iter().any(|f| shrinks(&f.raw)), "there was something to compress");
}
