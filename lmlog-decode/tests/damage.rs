//! Damaged, truncated, hostile and random input: never a panic, every
//! intact frame still decoded, diagnostics at the right offsets.

use lmlog_decode::{DecodeError, DiagnosticKind, FrameDamage, Resume, StreamDecoder};
use lmlog_format::frame::{preamble, push_frame, FRAME_HEADER_LEN, MAX_FRAME_PAYLOAD, SYNC};
use lmlog_format::types::{FieldDesc, TypeDesc, VariantDesc, VariantKindDesc};
use lmlog_format::varint::push_u64;
use lmlog_format::{FrameKind, Level};
use lmlog_tests::synth::*;

fn body_a(x: u32, s: &str) -> Vec<u8> {
    let mut b = Vec::new();
    push_u64(&mut b, x as u64);
    push_u64(&mut b, s.len() as u64);
    b.extend_from_slice(s.as_bytes());
    b
}

fn drop_body(n: u64) -> Vec<u8> {
    let mut b = Vec::new();
    push_u64(&mut b, n);
    b
}

/// A small stream with every frame kind; returns it and which frames are
/// "independent" (their loss does not change other frames' output).
fn sample() -> (Stream, Vec<bool>) {
    let a = [field("x", TypeDesc::U32), field("s", TypeDesc::Str)];
    let mut s = Stream::standard();
    s.thread(1, Some("main"))
        .schema(1, "a", Level::Info, Some("x={x} s={s}"), &a)
        .schema(2, "b", Level::Warn, None, &[])
        .records(1, 100, &[Rec::new(1, 0, body_a(1, "one")), Rec::new(2, 5, vec![]), Rec::new(1, -2, body_a(300, "ü"))])
        .records(1, 200, &[Rec::new(2, 1, vec![]), Rec::new(1, 1, body_a(2, "two"))])
        .clock(1_000, ANCHOR_NANOS + 5)
        .records(1, 300, &[Rec::new(0, 3, drop_body(9))])
        .loss(1, 99, "disk full", ANCHOR_NANOS)
        .records(1, 400, &[Rec::new(1, 0, body_a(3, "three"))])
        .end();
    let independent = s.frames.iter().map(|&(start, _)| matches!(s.bytes[start + 4], 5 | 6)).collect();
    (s, independent)
}

/// Lines of the reference decode, grouped by the frame that produced them.
fn lines_by_frame(s: &Stream) -> Vec<Vec<String>> {
    let mut prev = 0;
    s.frames
        .iter()
        .map(|&(_, end)| {
            let (out, _) = decode(&s.bytes[..end]);
            let lines: Vec<String> = out.lines().map(str::to_owned).collect();
            let mine = lines[prev..].to_vec();
            prev = lines.len();
            mine
        })
        .collect()
}

#[test]
fn sample_decodes_cleanly() {
    let (s, _) = sample();
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 8);
    assert!(summary.is_clean() && summary.clean_end);
    assert_eq!(summary.diagnostics, vec![]);
    assert_eq!(summary.frames, s.frames.len() as u64);
    assert_eq!(summary.bytes_read, s.bytes.len() as u64);
    assert_valid_jsonl(&out);
}

#[test]
fn truncation_at_every_offset() {
    let (s, _) = sample();
    let by_frame = lines_by_frame(&s);
    for cut in 0..=s.bytes.len() {
        for chunk in [1, 5, usize::MAX] {
            let result = decode_chunked(&s.bytes[..cut], chunk);
            if cut < preamble().len() {
                assert!(matches!(result, Err(DecodeError::TooShort { len }) if len == cut as u64), "cut {cut}");
                continue;
            }
            let (out, summary) = result.unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let complete = s.frames.iter().take_while(|f| f.1 <= cut).count();
            let expected: Vec<String> = by_frame[..complete].concat();
            let got: Vec<&str> = out.lines().collect();
            assert_eq!(got, expected, "cut {cut} chunk {chunk}");
            let damage: Vec<_> = summary.diagnostics.iter().filter(|d| d.is_damage()).collect();
            let at_boundary = cut == preamble().len() || s.frames.iter().any(|f| f.1 == cut);
            if at_boundary {
                assert!(damage.is_empty(), "cut {cut}: {damage:?}");
            } else {
                assert_eq!(damage.len(), 1, "cut {cut}: {damage:?}");
                let d = damage[0];
                assert_eq!(d.offset, s.frames[complete].0 as u64, "cut {cut}");
                assert!(
                    matches!(d.kind, DiagnosticKind::TruncatedFrame { .. } | DiagnosticKind::TruncatedHeader { .. }),
                    "{d}"
                );
                assert!(d.to_string().starts_with(&format!("byte {}: truncated frame: ", d.offset)), "{d}");
            }
        }
    }
}

#[test]
fn truncated_frame_message() {
    let (s, _) = sample();
    let (start, end) = s.frames[4];
    let (_, summary) = decode(&s.bytes[..end - 3]);
    let len = end - start - FRAME_HEADER_LEN;
    assert_eq!(
        summary.diagnostics[0].to_string(),
        format!("byte {start}: truncated frame: header says {len} payload bytes, only {} remain", len - 3)
    );
}

#[test]
fn flipping_any_byte() {
    let (s, independent) = sample();
    let by_frame = lines_by_frame(&s);
    for i in preamble().len()..s.bytes.len() {
        let k = s.frames.iter().position(|f| f.0 <= i && i < f.1).unwrap();
        for mask in [0xff, 0x01, 0x80, 0x10] {
            let mut bytes = s.bytes.clone();
            bytes[i] ^= mask;
            for chunk in [usize::MAX, 3] {
                let (out, summary) = decode_chunked(&bytes, chunk).unwrap_or_else(|e| panic!("byte {i}: {e}"));
                assert_valid_jsonl(&out);
                assert!(!summary.is_clean(), "flip at {i} went unnoticed");
                let first = summary.diagnostics.iter().find(|d| d.is_damage()).unwrap();
                assert_eq!(first.offset, s.frames[k].0 as u64, "flip at {i}: {first}");
                if independent[k] {
                    let expected: Vec<String> =
                        by_frame.iter().enumerate().filter(|&(j, _)| j != k).flat_map(|(_, l)| l.clone()).collect();
                    assert_eq!(out.lines().collect::<Vec<_>>(), expected, "flip at {i} (frame {k})");
                    assert_eq!(summary.damage, 1, "{:?}", summary.diagnostics);
                }
            }
        }
    }
}

/// Metadata, then many records frames.
fn records_stream() -> Stream {
    let a = [field("x", TypeDesc::U32), field("s", TypeDesc::Str)];
    let mut s = Stream::standard();
    s.thread(1, Some("main")).schema(1, "a", Level::Info, Some("x={x}"), &a);
    for f in 0..30u32 {
        let recs: Vec<Rec> = (0..(f % 4 + 1)).map(|i| Rec::new(1, i as i64, body_a(f * 10 + i, "some text"))).collect();
        s.records(1, f as u64 * 1000, &recs);
    }
    s
}

#[test]
fn damaged_ranges_only_lose_the_frames_they_touch() {
    let s = records_stream();
    let by_frame = lines_by_frame(&s);
    let first_records = s.frames[3].0;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for iter in 0..300 {
        let a = first_records + rng.below((s.bytes.len() - first_records) as u64) as usize;
        let b = (a + 1 + rng.below(200) as usize).min(s.bytes.len());
        let mut bytes = s.bytes.clone();
        match iter % 3 {
            0 => bytes[a..b].fill(0),
            1 => bytes[a..b].copy_from_slice(&rng.bytes(b - a)),
            _ => bytes[a..b].fill(SYNC[0]),
        }
        let (out, summary) = decode_chunked(&bytes, 1 + rng.below(300) as usize).unwrap();
        let expected: Vec<String> = s
            .frames
            .iter()
            .zip(&by_frame)
            .filter(|(f, _)| bytes[f.0..f.1] == s.bytes[f.0..f.1])
            .flat_map(|(_, l)| l.clone())
            .collect();
        let got: Vec<&str> = out.lines().collect();
        if got != expected {
            let missing: Vec<_> = expected.iter().filter(|l| !got.contains(&l.as_str())).map(|l| &l[..120]).collect();
            let extra: Vec<_> = got.iter().filter(|l| !expected.contains(&l.to_string())).collect();
            panic!("damage {a}..{b}: missing {missing:#?}, extra {extra:#?}, {:#?}", summary.diagnostics);
        }
        assert!(!summary.is_clean() || bytes == s.bytes);
    }
}

#[test]
fn garbage_between_frames_is_one_region() {
    let s = records_stream();
    let (clean, _) = decode(&s.bytes);
    let cut = s.frames[10].0;
    let mut rng = Rng(7);
    let mut garbage = rng.bytes(1000);
    // Include fake sync markers followed by nonsense.
    garbage[100..104].copy_from_slice(&SYNC);
    garbage[500..504].copy_from_slice(&SYNC);
    garbage[600..608].copy_from_slice(&lmlog_format::MAGIC);
    let mut bytes = s.bytes[..cut].to_vec();
    bytes.extend_from_slice(&garbage);
    bytes.extend_from_slice(&s.bytes[cut..]);
    for chunk in [usize::MAX, 1, 64] {
        let (out, summary) = decode_chunked(&bytes, chunk).unwrap();
        assert_eq!(out, clean);
        let damage: Vec<_> = summary.diagnostics.iter().filter(|d| d.is_damage()).collect();
        assert_eq!(damage.len(), 1, "{damage:?}");
        assert_eq!(
            damage[0].kind,
            DiagnosticKind::DamagedFrame {
                reason: FrameDamage::MissingSync,
                skipped: 1000,
                frames: Some(0),
                resumed: Resume::NextFrame
            }
        );
        assert_eq!(damage[0].offset, cut as u64);
        assert_eq!(
            damage[0].to_string(),
            format!("byte {cut}: damaged frame (no sync marker); skipped 1000 bytes (no frame lost) to the next frame")
        );
        assert_eq!(summary.damaged_regions, 1);
    }
}

#[test]
fn crc_mismatch_message_and_trailing_garbage() {
    let s = records_stream();
    let (start, end) = s.frames[5];
    let mut bytes = s.bytes.clone();
    bytes[end - 1] ^= 1;
    bytes.extend_from_slice(b"trailing junk");
    let (_, summary) = decode(&bytes);
    let d: Vec<String> = summary.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        [
            format!(
                "byte {start}: damaged frame (CRC mismatch); skipped {} bytes (1 frame lost) to the next frame",
                end - start
            ),
            format!(
                "byte {}: damaged frame (no sync marker); skipped 13 bytes to the end of the stream",
                s.bytes.len()
            ),
            format!(
                "byte {}: note: the stream ends without an end frame (the writer may still be running, or was killed)",
                bytes.len()
            ),
        ]
    );
}

#[test]
fn corrupt_length_swallowing_later_frames_at_the_end() {
    // The last-but-two frame claims more bytes than the stream has left.
    let s = records_stream();
    let n = s.frames.len();
    let (start, _) = s.frames[n - 3];
    let mut bytes = s.bytes.clone();
    bytes[start + 6..start + 10].copy_from_slice(&5000u32.to_le_bytes());
    let (out, summary) = decode(&bytes);
    let (clean, _) = decode(&s.bytes);
    let by_frame = lines_by_frame(&s);
    assert_eq!(out.lines().count(), clean.lines().count() - by_frame[n - 3].len());
    let d = &summary.diagnostics[0];
    assert_eq!(d.offset, start as u64);
    assert!(matches!(d.kind, DiagnosticKind::DamagedFrame { reason: FrameDamage::RunsPastEnd(5000), .. }), "{d}");
}

#[test]
fn hostile_frame_lengths() {
    let mut s = Stream::standard();
    let mut header = SYNC.to_vec();
    header.push(FrameKind::Records as u8);
    header.push(0);
    header.extend_from_slice(&(MAX_FRAME_PAYLOAD as u32 + 1).to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    s.bytes.extend_from_slice(&header);
    s.schema(1, "e", Level::Info, None, &[]).records(0, 0, &[Rec::new(1, 0, vec![])]);
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 1);
    assert!(matches!(
        summary.diagnostics[0].kind,
        DiagnosticKind::DamagedFrame { reason: FrameDamage::TooLong(_), .. }
    ));
    // A maximal length at the end: truncated, nothing allocated up front.
    let mut bytes = s.bytes.clone();
    let mut header = SYNC.to_vec();
    header.extend_from_slice(&[5, 0]);
    header.extend_from_slice(&(MAX_FRAME_PAYLOAD as u32).to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&header);
    let (_, summary) = decode(&bytes);
    assert_eq!(
        summary.diagnostics.iter().rfind(|d| d.is_damage()).unwrap().kind,
        DiagnosticKind::TruncatedFrame { declared: MAX_FRAME_PAYLOAD as u64, available: 0 }
    );
}

#[test]
fn bad_records_keep_earlier_records_and_skip_the_rest() {
    let mut s = Stream::standard();
    s.schema(1, "flag", Level::Info, None, &[field("b", TypeDesc::Bool)]);
    s.records(0, 0, &[Rec::new(1, 0, vec![1]), Rec::new(1, 0, vec![7]), Rec::new(1, 0, vec![0])]);
    s.records(0, 0, &[Rec::new(1, 0, vec![0]), Rec::new(9, 0, vec![0]), Rec::new(1, 0, vec![0])]);
    s.records(0, 0, &[Rec::new(1, 0, vec![0])]);
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), 3);
    assert_eq!(summary.bad_records, 2);
    let frame = s.frames[2].0 as u64;
    // The frame header, 2-byte records header, a 3-byte record.
    let d = &summary.diagnostics[0];
    assert_eq!(d.offset, frame + FRAME_HEADER_LEN as u64 + 2 + 3);
    assert_eq!(
        d.to_string(),
        format!(
            "byte {}: record of call site 1 (flag) does not decode (invalid bool byte 7 at byte {}); \
             skipped the remaining 6 bytes of the records frame",
            frame + FRAME_HEADER_LEN as u64 + 5,
            frame + FRAME_HEADER_LEN as u64 + 7
        )
    );
    let frame = s.frames[3].0 as u64;
    let d = &summary.diagnostics[1];
    assert_eq!(d.offset, frame + FRAME_HEADER_LEN as u64 + 5);
    assert!(matches!(d.kind, DiagnosticKind::UnknownCallsite { callsite: 9, skipped: 6 }), "{d}");
}

#[test]
fn fatal_errors() {
    let mut out = Vec::new();
    let err = lmlog_decode::decode_reader(&b"{\"not\":\"lmlog\"}\n"[..], &mut out).unwrap_err();
    assert!(matches!(err, DecodeError::NotLmlog { offset: 0 }));
    assert_eq!(err.to_string(), "byte 0: not an lmlog file (bad magic bytes)");
    let mut p = preamble().to_vec();
    p[8] = 9;
    let err = lmlog_decode::decode_reader(&p[..], &mut out).unwrap_err();
    assert!(matches!(err, DecodeError::UnsupportedVersion { offset: 0, version: 9 }), "{err}");
    assert!(err.to_string().contains("unsupported lmlog format version 9"));
    let err = lmlog_decode::decode_reader(&b""[..], &mut out).unwrap_err();
    assert!(matches!(err, DecodeError::TooShort { len: 0 }));
    // Detected on the first byte, and sticky.
    let mut d = StreamDecoder::new(&mut out);
    assert!(d.feed(b"x").is_err());
    assert!(matches!(d.feed(&preamble()), Err(DecodeError::NotLmlog { offset: 0 })));
    assert!(d.finish().is_err());
    assert!(out.is_empty());
    // A concatenated file of an unknown version is damage, not fatal.
    let mut s = records_stream();
    s.bytes.extend_from_slice(&p);
    s.records(1, 0, &[Rec::new(1, 0, body_a(1, "x"))]);
    let (out, summary) = decode(&s.bytes);
    assert_eq!(out.lines().count(), decode(&records_stream().bytes).0.lines().count() + 1);
    assert!(matches!(
        summary.diagnostics[0].kind,
        DiagnosticKind::DamagedFrame { reason: FrameDamage::UnsupportedVersion(9), .. }
    ));
}

static E_FIELDS: [FieldDesc; 2] = [
    FieldDesc { name: "x", ty: &TypeDesc::I64, redacted: false },
    FieldDesc { name: "hidden", ty: &TypeDesc::Str, redacted: true },
];
static VARIANTS: [VariantDesc; 4] = [
    VariantDesc { name: "A", kind: VariantKindDesc::Unit },
    VariantDesc { name: "B", kind: VariantKindDesc::Newtype(&TypeDesc::Char) },
    VariantDesc { name: "C", kind: VariantKindDesc::Tuple(&[TypeDesc::F32, TypeDesc::Bytes]) },
    VariantDesc { name: "D", kind: VariantKindDesc::Struct(&E_FIELDS) },
];
static COMPLEX: [FieldDesc; 8] = [
    FieldDesc { name: "b", ty: &TypeDesc::Bool, redacted: false },
    FieldDesc { name: "u", ty: &TypeDesc::U128, redacted: false },
    FieldDesc { name: "i", ty: &TypeDesc::I16, redacted: false },
    FieldDesc { name: "f", ty: &TypeDesc::F64, redacted: false },
    FieldDesc { name: "o", ty: &TypeDesc::Option(&TypeDesc::Str), redacted: false },
    FieldDesc {
        name: "m",
        ty: &TypeDesc::Map(
            &TypeDesc::Tuple(&[TypeDesc::U8, TypeDesc::F32]),
            &TypeDesc::Seq(&TypeDesc::Enum("E", &VARIANTS)),
        ),
        redacted: false,
    },
    FieldDesc { name: "a", ty: &TypeDesc::Array(2, &TypeDesc::Struct("S", &E_FIELDS)), redacted: false },
    FieldDesc { name: "c", ty: &TypeDesc::Char, redacted: false },
];

#[test]
fn random_record_bytes_in_intact_frames() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..3000 {
        let mut s = Stream::standard();
        s.schema(1, "complex", Level::Info, Some("{m} {o} {c} {a}"), &COMPLEX);
        s.schema(2, "simple", Level::Info, None, &[field("s", TypeDesc::Str)]);
        let mut payload = Vec::new();
        push_u64(&mut payload, rng.below(3));
        push_u64(&mut payload, rng.next());
        // Biased towards small values so decoding goes deep.
        for _ in 0..rng.below(64) {
            let b = match rng.below(4) {
                0 => rng.next() as u8,
                1 => rng.below(4) as u8,
                2 => 2 + (rng.below(2) as u8) * 2,
                _ => b'a' + rng.below(26) as u8,
            };
            payload.push(b);
        }
        s.frame(FrameKind::Records, &payload);
        let (out, _) = decode(&s.bytes);
        assert_valid_jsonl(&out);
    }
}

#[test]
fn random_schema_payloads() {
    let mut rng = Rng(42);
    let mut good = Stream::standard();
    good.schema(1, "complex", Level::Info, Some("{m}"), &COMPLEX);
    let (gs, ge) = good.frames[1];
    let schema_payload = good.bytes[gs + FRAME_HEADER_LEN..ge].to_vec();
    for i in 0..2000 {
        let mut payload = schema_payload.clone();
        if i % 2 == 0 {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(payload.len() as u64) as usize;
                payload[at] = rng.next() as u8;
            }
        } else {
            payload.truncate(rng.below(payload.len() as u64) as usize);
            payload.extend({
                let n = rng.below(20) as usize;
                rng.bytes(n)
            });
        }
        let mut s = Stream::standard();
        s.frame(FrameKind::Schema, &payload);
        let mut recs = Vec::new();
        for _ in 0..3 {
            recs.push(Rec::new(1, 0, {
                let n = rng.below(40) as usize;
                rng.bytes(n)
            }));
        }
        s.records(0, 0, &recs);
        let (out, _) = decode(&s.bytes);
        assert_valid_jsonl(&out);
    }
}

#[test]
fn random_mutations_of_whole_streams() {
    let (base, _) = sample();
    let mut rng = Rng(0xdead_beef);
    for _ in 0..3000 {
        let mut bytes = base.bytes.clone();
        for _ in 0..rng.below(6) {
            if bytes.len() <= 12 {
                break;
            }
            match rng.below(5) {
                0 => {
                    let at = 12 + rng.below(bytes.len() as u64 - 12) as usize;
                    bytes[at] = rng.next() as u8;
                }
                1 => {
                    let at = 12 + rng.below(bytes.len() as u64 - 12) as usize;
                    let junk = {
                        let n = rng.below(30) as usize;
                        rng.bytes(n)
                    };
                    bytes.splice(at..at, junk);
                }
                2 => {
                    let at = 12 + rng.below(bytes.len() as u64 - 12) as usize;
                    let end = (at + rng.below(40) as usize).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 => {
                    // Duplicate a slice (frames repeated, files concatenated).
                    let a = rng.below(bytes.len() as u64) as usize;
                    let b = (a + rng.below(120) as usize).min(bytes.len());
                    let dup = bytes[a..b].to_vec();
                    let at = 12 + rng.below(bytes.len() as u64 - 12) as usize;
                    bytes.splice(at..at, dup);
                }
                _ => {
                    let len = 12 + rng.below(bytes.len() as u64 - 12) as usize;
                    bytes.truncate(len);
                }
            }
        }
        let chunk = 1 + rng.below(64) as usize;
        let (out, summary) = decode_chunked(&bytes, chunk).expect("the preamble is intact");
        assert_valid_jsonl(&out);
        for d in &summary.diagnostics {
            assert!(d.offset <= bytes.len() as u64);
            assert!(!d.to_string().contains('\n'));
        }
    }
}

#[test]
fn pure_garbage() {
    let mut rng = Rng(99);
    for i in 0..2000 {
        let mut bytes = if i % 2 == 0 { preamble().to_vec() } else { Vec::new() };
        let n = rng.below(600) as usize;
        for _ in 0..n {
            // Sprinkle sync bytes so fake headers get parsed.
            let b = if rng.below(8) == 0 { SYNC[rng.below(4) as usize] } else { rng.next() as u8 };
            bytes.push(b);
        }
        let mut out = Vec::new();
        let mut d = StreamDecoder::new(&mut out);
        let mut result = Ok(());
        for c in bytes.chunks(1 + rng.below(100) as usize) {
            result = result.and_then(|()| d.feed(c));
        }
        let finished = d.finish();
        if i % 2 == 0 {
            let summary = finished.expect("after a valid preamble garbage is never fatal");
            assert!(result.is_ok());
            assert_eq!(summary.bytes_read, bytes.len() as u64);
        } else {
            assert!(finished.is_err());
        }
        assert_valid_jsonl(std::str::from_utf8(&out).unwrap());
    }
}

#[test]
fn frames_built_with_push_frame_after_garbage_resync() {
    // A frame directly after a damaged frame whose payload happens to contain SYNC.
    let mut s = Stream::standard();
    s.schema(1, "e", Level::Info, None, &[field("b", TypeDesc::Bytes)]);
    let mut body = Vec::new();
    push_u64(&mut body, 8);
    body.extend_from_slice(&SYNC);
    body.extend_from_slice(&SYNC);
    s.records(0, 0, &[Rec::new(1, 0, body)]);
    s.records(0, 0, &[Rec::new(1, 0, vec![0])]);
    let mut bytes = s.bytes.clone();
    let (start, _) = s.frames[2];
    bytes[start + FRAME_HEADER_LEN - 2] ^= 0x40; // CRC of the frame with SYNC in its payload
    let (out, summary) = decode(&bytes);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains(r#""b":"""#));
    assert_eq!(summary.damaged_regions, 1);
    let mut p = Vec::new();
    push_frame(&mut p, FrameKind::End, 0, b"");
    assert_eq!(p.len(), FRAME_HEADER_LEN);
}

/// FORMAT.md: a frame whose number "was missing until then" is a frame out
/// of order, which a reader decodes where it stands, however late: the
/// reader remembers the numbers still missing, not the last ones seen.
#[test]
fn a_frame_far_out_of_order_is_decoded_where_it_stands() {
    let mut s = Stream::standard();
    s.thread(1, Some("main")).schema(1, "tick", Level::Info, None, &[field("i", TypeDesc::U32)]);
    for i in 0..200u64 {
        let mut body = Vec::new();
        push_u64(&mut body, i);
        s.records(1, i, &[Rec::new(1, 0, body)]);
    }
    // The first records frame, moved to the end: 200 numbers late.
    let (start, end) = s.frames[3];
    let mut bytes = s.bytes[..start].to_vec();
    bytes.extend_from_slice(&s.bytes[end..]);
    bytes.extend_from_slice(&s.bytes[start..end]);
    let (out, summary) = decode(&bytes);
    assert_eq!(out.lines().count(), 200, "{:?}", summary.diagnostics);
}
