//! Records frames stored LZ4-compressed (`FLAG_LZ4`): they decode to the
//! same lines as plain frames, and a bad block or an unknown flag is one
//! diagnostic at the frame's offset, never a panic.

use lmlog_decode::DiagnosticKind;
use lmlog_format::frame::FLAG_LZ4;
use lmlog_format::types::TypeDesc;
use lmlog_format::varint::push_u64;
use lmlog_format::{FrameKind, Level};
use lmlog_tests::synth::*;

fn body(x: u32, s: &str) -> Vec<u8> {
    let mut b = Vec::new();
    push_u64(&mut b, u64::from(x));
    push_u64(&mut b, s.len() as u64);
    b.extend_from_slice(s.as_bytes());
    b
}

fn recs() -> Vec<Rec> {
    (0..500).map(|i| Rec::new(1, 3, body(i, "user:42:ab"))).collect()
}

fn stream(compressed: bool) -> Stream {
    let mut s = Stream::standard();
    s.thread(1, Some("main")).schema(
        1,
        "cache_miss",
        Level::Info,
        None,
        &[field("x", TypeDesc::U32), field("key", TypeDesc::Str)],
    );
    if compressed {
        s.compressed_records(1, 100, &recs());
    } else {
        s.records(1, 100, &recs());
    }
    s.end();
    s
}

#[test]
fn compressed_frames_decode_like_plain_ones() {
    let (plain, plain_summary) = decode(&stream(false).bytes);
    let compressed = stream(true);
    let (out, summary) = decode(&compressed.bytes);
    assert!(compressed.bytes.len() * 3 < stream(false).bytes.len(), "the sample compresses");
    assert_eq!(out, plain);
    assert_eq!(summary.events, 500);
    assert_eq!(summary.events, plain_summary.events);
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    for chunk in [1, 7, 64] {
        let (chunked, _) = decode_chunked(&compressed.bytes, chunk).expect("decodes");
        assert_eq!(chunked, plain, "fed in pieces of {chunk}");
    }
}

/// A block whose CRC is right but whose content is not LZ4 of the stated
/// length: the frame is reported and skipped, the rest decodes.
#[test]
fn a_bad_block_is_one_diagnostic_at_its_frame() {
    let mut s = Stream::standard();
    s.thread(1, None).schema(1, "a", Level::Info, None, &[field("x", TypeDesc::U32), field("key", TypeDesc::Str)]);
    let mut stored = Vec::new();
    push_u64(&mut stored, 4096);
    stored.extend_from_slice(&[0xF0, 1, 2, 3, 4, 5]);
    s.flagged_frame(FrameKind::Records, FLAG_LZ4, &stored);
    let bad_at = s.frames.last().unwrap().0 as u64;
    s.records(1, 10, &[Rec::new(1, 1, body(7, "after"))]).end();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 1, "the intact frame after it still decodes");
    assert!(out.contains("\"after\""));
    assert_eq!(summary.diagnostics.len(), 1, "{:?}", summary.diagnostics);
    let d = &summary.diagnostics[0];
    assert_eq!(d.offset, bad_at);
    assert!(
        matches!(&d.kind, DiagnosticKind::BadPayload { frame: FrameKind::Records, error } if error.contains("LZ4")),
        "{d:?}"
    );
}

#[test]
fn unknown_flags_are_reported_not_guessed() {
    let mut s = Stream::standard();
    s.flagged_frame(FrameKind::Records, 0x80, &records_payload(1, 0, &[]));
    let at = s.frames.last().unwrap().0 as u64;
    s.end();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out, "");
    assert_eq!(summary.diagnostics.len(), 1);
    assert_eq!(summary.diagnostics[0].offset, at);
    assert!(format!("{:?}", summary.diagnostics[0].kind).contains("unknown frame flags 0x80"));
}

/// A record that does not decode inside a compressed frame is reported at
/// the frame's offset: the decompressed bytes have no offset of their own.
#[test]
fn bad_records_in_compressed_frames_point_at_the_frame() {
    let mut s = Stream::standard();
    s.thread(1, None).schema(1, "a", Level::Info, None, &[field("x", TypeDesc::U32), field("key", TypeDesc::Str)]);
    let mut recs = vec![Rec::new(1, 1, body(1, "ok"))];
    recs.push(Rec::new(1, 1, vec![0x05, 0xFF]));
    s.compressed_records(1, 0, &recs);
    let at = s.frames.last().unwrap().0 as u64;
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 1);
    assert_eq!(summary.bad_records, 1);
    assert_eq!(summary.diagnostics[0].offset, at, "{:?}", summary.diagnostics);
}

/// Every truncation and every single-byte flip of a compressed stream
/// decodes without a panic.
#[test]
fn damage_to_compressed_streams_never_panics() {
    let s = stream(true);
    for cut in 0..s.bytes.len() {
        if let Ok((out, _)) = decode_chunked(&s.bytes[..cut], usize::MAX) {
            assert_valid_jsonl(&out);
        }
    }
    for i in 0..s.bytes.len() {
        let mut bytes = s.bytes.clone();
        bytes[i] ^= 0x41;
        if let Ok((out, _)) = decode_chunked(&bytes, usize::MAX) {
            assert_valid_jsonl(&out);
        }
    }
}
