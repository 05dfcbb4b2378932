//! The frame reader: bytes in, intact frames and diagnostics out.
//!
//! [`FrameReader`] is fed the input in pieces of any size. It reads each
//! file's preamble (format versions 1 and 2), classifies what starts at
//! every position (preamble, frame, damage, or "need more bytes"), checks
//! CRCs, skips damaged regions up to the next sync marker or preamble and
//! reports the skipped range, undoes LZ4 compression and tracks sequence
//! numbers (format version 2). Every intact frame is handed to a
//! [`FrameSink`] with its payload as the writer produced it.
//!
//! It knows nothing of what payloads mean, except that a loss frame right
//! after a gap in the sequence numbers explains that gap.

use lmlog_format::frame::{
    check_preamble, decompress_lz4, frame_header_len, PreambleError, FLAG_LZ4, MAX_FRAME_PAYLOAD, PREAMBLE_LEN,
};
use lmlog_format::schema::from_payload;
use lmlog_format::{FrameHeader, FrameKind, WriterLoss, MAGIC, SYNC};

use crate::report::{DecodeError, DiagnosticKind, FrameDamage, Resume};

/// Bytes staged at a time while scanning damaged input for the next frame.
const SCAN_STAGE: usize = 64 << 10;

/// An intact frame: its CRC matched and its stored encoding was undone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// What the frame carries.
    pub kind: FrameKind,
    /// The payload as the writer produced it (decompressed if it was stored
    /// compressed).
    pub payload: &'a [u8],
    /// Absolute input offset of the frame's first byte.
    pub offset: u64,
    /// Its sequence number (format version 2 on); the reader has checked
    /// it, and nothing after it needs it yet.
    #[allow(dead_code)]
    pub seq: Option<u32>,
    /// Whether `payload` was decompressed (it then has no bytes of its own
    /// in the input).
    pub decompressed: bool,
    /// Format version of the file the frame belongs to.
    pub version: u16,
}

impl Frame<'_> {
    /// Where the frame came from, for reports about a copy of its payload.
    pub fn origin(&self) -> FrameOrigin {
        FrameOrigin { offset: self.offset, decompressed: self.decompressed, version: self.version }
    }
}

/// Where a frame's payload lies in the input: what reports about its bytes
/// need once the frame itself is gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameOrigin {
    /// Absolute input offset of the frame's first byte.
    pub offset: u64,
    /// Whether the payload was decompressed.
    pub decompressed: bool,
    /// Format version of the file the frame belongs to.
    pub version: u16,
}

impl FrameOrigin {
    /// The input offset of byte `pos` of the payload: for a decompressed
    /// payload, which has no bytes of its own in the input, the frame's.
    #[inline]
    pub fn offset_of(&self, pos: usize) -> u64 {
        if self.decompressed {
            self.offset
        } else {
            self.offset + (frame_header_len(self.version) + pos) as u64
        }
    }
}

/// What a [`FrameReader`] hands on.
pub(crate) trait FrameSink {
    /// A preamble at `offset` starts a file of format `version`. An error
    /// stops the reader, as [`frame`](Self::frame)'s does.
    fn file(&mut self, offset: u64, version: u16) -> Result<(), DecodeError>;
    /// An intact frame, in stream order. An error stops the reader and is
    /// returned from the call that fed it.
    fn frame(&mut self, frame: &Frame<'_>) -> Result<(), DecodeError>;
    /// A problem found at `offset`.
    fn diagnostic(&mut self, offset: u64, kind: DiagnosticKind);
}

/// Counts kept by a [`FrameReader`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameStats {
    /// Input bytes fed.
    pub bytes_read: u64,
    /// Intact frames (CRC verified), of every kind, duplicates included.
    pub frames: u64,
    /// Files (preambles) seen.
    pub files: u64,
    /// Damaged or truncated regions of the input.
    pub damaged_regions: u64,
}

/// The push-based frame reader; see the module documentation.
///
/// Partial frames are buffered between calls to [`feed`](Self::feed); at
/// most one frame (header and payload, bounded by [`MAX_FRAME_PAYLOAD`]) is
/// held, or 64 KiB at a time while skipping a damaged region.
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Unconsumed input; starts at `offset`.
    pending: Vec<u8>,
    /// Absolute input offset of the first unconsumed byte.
    offset: u64,
    /// Bytes needed at `offset` before decoding can make progress.
    need: usize,
    /// Whether the first preamble was read.
    started: bool,
    /// Format version of the current file.
    version: u16,
    /// Sequence numbers of the current file's frames.
    seq: SeqTracker,
    /// The damaged region being skipped, if any.
    damage: Option<Damage>,
    /// The payload of an LZ4-compressed frame, decompressed.
    decompressed: Vec<u8>,
    stats: FrameStats,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            pending: Vec::new(),
            offset: 0,
            need: PREAMBLE_LEN,
            started: false,
            version: lmlog_format::FORMAT_VERSION,
            seq: SeqTracker::default(),
            damage: None,
            decompressed: Vec::new(),
            stats: FrameStats::default(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Damage {
    start: u64,
    reason: FrameDamage,
}

/// What starts at a position where a frame is expected.
enum Unit {
    Preamble,
    Frame {
        header: FrameHeader,
        total: usize,
    },
    /// More bytes are needed: `total` from this position; `declared` is the
    /// payload length if the header was read.
    Need {
        total: usize,
        declared: Option<u32>,
    },
    Bad(FrameDamage),
}

fn classify(rest: &[u8], version: u16) -> Unit {
    if rest.first() == Some(&MAGIC[0]) {
        if rest.len() < PREAMBLE_LEN {
            let n = rest.len().min(MAGIC.len());
            return if rest[..n] == MAGIC[..n] {
                Unit::Need { total: PREAMBLE_LEN, declared: None }
            } else {
                Unit::Bad(FrameDamage::MissingSync)
            };
        }
        return match check_preamble(rest) {
            Ok(_) => Unit::Preamble,
            Err(PreambleError::UnsupportedVersion(v)) => Unit::Bad(FrameDamage::UnsupportedVersion(v)),
            Err(_) => Unit::Bad(FrameDamage::MissingSync),
        };
    }
    let n = rest.len().min(SYNC.len());
    if rest[..n] != SYNC[..n] {
        return Unit::Bad(FrameDamage::MissingSync);
    }
    let header_len = frame_header_len(version);
    if rest.len() < header_len {
        return Unit::Need { total: header_len, declared: None };
    }
    let Some(header) = FrameHeader::parse(rest, version) else {
        return Unit::Bad(FrameDamage::MissingSync);
    };
    if header.len as usize > MAX_FRAME_PAYLOAD {
        return Unit::Bad(FrameDamage::TooLong(header.len));
    }
    let total = header_len + header.len as usize;
    if rest.len() < total {
        return Unit::Need { total, declared: Some(header.len) };
    }
    if !header.verify(&rest[header_len..total]) {
        return Unit::Bad(match FrameKind::from_u8(header.kind) {
            Some(_) => FrameDamage::CrcMismatch,
            None => FrameDamage::UnknownKind(header.kind),
        });
    }
    Unit::Frame { header, total }
}

/// Offset of the first complete sync marker or magic in `rest`.
fn find_candidate(rest: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() {
        i += rest[i..].iter().position(|&b| b == SYNC[0] || b == MAGIC[0])?;
        let r = &rest[i..];
        if r.starts_with(&SYNC) || r.starts_with(&MAGIC) {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl FrameReader {
    /// A reader expecting a file preamble.
    pub fn new() -> FrameReader {
        FrameReader::default()
    }

    /// The counts so far.
    pub fn stats(&self) -> &FrameStats {
        &self.stats
    }

    /// Input offset of the first byte not yet consumed.
    #[cfg(test)]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next bytes of the stream: complete frames go to `sink` at
    /// once; a partial frame at the end is kept for the next call.
    ///
    /// Errors (input that is not an lmlog stream, or the sink's) leave the
    /// reader in an unspecified state; the caller keeps them sticky.
    pub fn feed(&mut self, mut input: &[u8], sink: &mut impl FrameSink) -> Result<(), DecodeError> {
        self.stats.bytes_read += input.len() as u64;
        while !input.is_empty() {
            if self.pending.is_empty() {
                let n = self.run(input, false, sink)?;
                // What is left is shorter than the unit it starts (bounded by one frame).
                self.pending.extend_from_slice(&input[n..]);
                break;
            }
            let target = if self.damage.is_some() { self.need.max(SCAN_STAGE) } else { self.need };
            let take = target.saturating_sub(self.pending.len()).min(input.len()).max(1);
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() >= self.need {
                let mut buf = std::mem::take(&mut self.pending);
                let result = self.run(&buf, false, sink);
                if let Ok(n) = result {
                    buf.drain(..n);
                }
                self.pending = buf;
                result?;
            }
        }
        Ok(())
    }

    /// Ends the stream: reads what is buffered, reporting a truncated final
    /// frame or a damaged region that runs to the end.
    pub fn finish(&mut self, sink: &mut impl FrameSink) -> Result<(), DecodeError> {
        let buf = std::mem::take(&mut self.pending);
        self.run(&buf, true, sink)?;
        Ok(())
    }

    /// Closes the damaged region (if any) at `at`; `frames` is how many
    /// frames it held, if the frame after it tells. Returns whether there
    /// was one.
    fn end_damage(&mut self, at: u64, resumed: Resume, frames: Option<u32>, sink: &mut impl FrameSink) -> bool {
        let Some(d) = self.damage.take() else {
            return false;
        };
        self.stats.damaged_regions += 1;
        sink.diagnostic(
            d.start,
            DiagnosticKind::DamagedFrame { reason: d.reason, skipped: at - d.start, frames, resumed },
        );
        true
    }

    /// Reads as much of `data` (which starts at `self.offset`) as possible
    /// and returns the bytes consumed; at `eof`, everything.
    fn run(&mut self, data: &[u8], eof: bool, sink: &mut impl FrameSink) -> Result<usize, DecodeError> {
        let n = self.run_inner(data, eof, sink)?;
        self.offset += n as u64;
        Ok(n)
    }

    fn run_inner(&mut self, data: &[u8], eof: bool, sink: &mut impl FrameSink) -> Result<usize, DecodeError> {
        let mut i = 0usize;
        loop {
            let at = self.offset + i as u64;
            let rest = &data[i..];
            if !self.started {
                if rest.len() < PREAMBLE_LEN {
                    let n = rest.len().min(MAGIC.len());
                    if rest[..n] != MAGIC[..n] {
                        return Err(DecodeError::NotLmlog { offset: at });
                    }
                    if eof {
                        return Err(DecodeError::TooShort { len: at + rest.len() as u64 });
                    }
                    self.need = PREAMBLE_LEN;
                    return Ok(i);
                }
                match check_preamble(rest) {
                    Ok(version) => {
                        self.start_file(at, version, sink)?;
                        i += PREAMBLE_LEN;
                        continue;
                    }
                    Err(PreambleError::UnsupportedVersion(version)) => {
                        return Err(DecodeError::UnsupportedVersion { offset: at, version })
                    }
                    Err(_) => return Err(DecodeError::NotLmlog { offset: at }),
                }
            }
            if rest.is_empty() {
                if eof {
                    self.end_damage(at, Resume::EndOfStream, None, sink);
                }
                self.need = 1;
                return Ok(i);
            }
            if self.damage.is_some() {
                match find_candidate(rest) {
                    Some(k) => i += k,
                    None if eof => {
                        i = data.len();
                        continue;
                    }
                    None => {
                        // Keep a possible partial marker for the next call.
                        let keep = rest.len().min(MAGIC.len() - 1);
                        self.need = keep + 1;
                        return Ok(i + rest.len() - keep);
                    }
                }
            }
            let at = self.offset + i as u64;
            let rest = &data[i..];
            match classify(rest, self.version) {
                Unit::Preamble => {
                    self.end_damage(at, Resume::NextFile, None, sink);
                    // `classify` checked the preamble.
                    self.start_file(at, u16::from_le_bytes([rest[8], rest[9]]), sink)?;
                    i += PREAMBLE_LEN;
                }
                Unit::Frame { header, total } => {
                    let frames = header.seq.map(|seq| self.seq.missing_before(seq));
                    let after_damage = self.end_damage(at, Resume::NextFrame, frames, sink);
                    let stored = &rest[total - header.len as usize..total];
                    if self.check_sequence(&header, stored, at, after_damage, sink) {
                        self.stored_frame(&header, stored, at, sink)?;
                    }
                    i += total;
                }
                Unit::Bad(reason) => {
                    if self.damage.is_none() {
                        self.damage = Some(Damage { start: at, reason });
                    }
                    i += 1;
                }
                Unit::Need { total, declared } => {
                    if !eof {
                        self.need = total;
                        return Ok(i);
                    }
                    if self.damage.is_some() {
                        // An incomplete candidate inside a damaged region.
                        i += 1;
                        continue;
                    }
                    if let (Some(len), Some(_)) = (declared, find_candidate(&rest[1..])) {
                        // The declared length swallows later frames: the header is bad.
                        self.damage = Some(Damage { start: at, reason: FrameDamage::RunsPastEnd(len) });
                        i += 1;
                        continue;
                    }
                    let available = rest.len() as u64;
                    let kind = if rest[0] == MAGIC[0] {
                        DiagnosticKind::TruncatedPreamble { available }
                    } else if let Some(len) = declared {
                        DiagnosticKind::TruncatedFrame {
                            declared: len as u64,
                            available: available - frame_header_len(self.version) as u64,
                        }
                    } else {
                        DiagnosticKind::TruncatedHeader { available }
                    };
                    self.stats.damaged_regions += 1;
                    sink.diagnostic(at, kind);
                    i = data.len();
                }
            }
        }
    }

    /// A preamble was read at `at`: a new file of format `version` starts.
    fn start_file(&mut self, at: u64, version: u16, sink: &mut impl FrameSink) -> Result<(), DecodeError> {
        self.started = true;
        self.version = version;
        self.seq = SeqTracker::default();
        self.stats.files += 1;
        sink.file(at, version)
    }

    /// Checks an intact frame's sequence number (format version 2 on);
    /// returns whether to read the frame (false for a duplicate).
    /// A gap right `after_damage` is the damaged region's frames, reported
    /// with it.
    fn check_sequence(
        &mut self,
        header: &FrameHeader,
        stored: &[u8],
        at: u64,
        after_damage: bool,
        sink: &mut impl FrameSink,
    ) -> bool {
        let Some(seq) = header.seq else {
            return true;
        };
        match self.seq.next(seq) {
            SeqCheck::InOrder => true,
            SeqCheck::Gap { .. } if after_damage => true,
            SeqCheck::Gap { expected } => {
                let missing = seq.wrapping_sub(expected);
                let explained = header.kind == FrameKind::Loss as u8
                    && header.flags == 0
                    && from_payload::<WriterLoss>(stored).is_ok_and(|loss| loss.frames >= u64::from(missing));
                sink.diagnostic(
                    at,
                    DiagnosticKind::MissingFrames { expected, found: seq, reported_by_writer: explained },
                );
                true
            }
            SeqCheck::Duplicate => {
                self.stats.frames += 1;
                sink.diagnostic(at, DiagnosticKind::DuplicateFrame { seq });
                false
            }
            SeqCheck::Late { expected } => {
                sink.diagnostic(at, DiagnosticKind::FrameOutOfOrder { seq, expected });
                true
            }
        }
    }

    /// Undoes the frame's stored encoding (see [`FLAG_LZ4`]) and hands it on.
    fn stored_frame(
        &mut self,
        header: &FrameHeader,
        stored: &[u8],
        at: u64,
        sink: &mut impl FrameSink,
    ) -> Result<(), DecodeError> {
        if header.flags == 0 {
            return self.frame(header, stored, at, false, sink);
        }
        if header.flags & !FLAG_LZ4 != 0 {
            self.bad_stored(header.kind, at, format!("unknown frame flags {:#04x}", header.flags), sink);
            return Ok(());
        }
        let mut raw = std::mem::take(&mut self.decompressed);
        let result = match decompress_lz4(stored, &mut raw) {
            Ok(()) => self.frame(header, &raw, at, true, sink),
            Err(e) => {
                self.bad_stored(header.kind, at, format!("LZ4 payload: {e}"), sink);
                Ok(())
            }
        };
        self.decompressed = raw;
        result
    }

    /// A frame whose stored encoding could not be undone: counted, reported
    /// at its offset, skipped.
    fn bad_stored(&mut self, kind: u8, at: u64, error: String, sink: &mut impl FrameSink) {
        self.stats.frames += 1;
        let frame = FrameKind::from_u8(kind).unwrap_or(FrameKind::Records);
        sink.diagnostic(at, DiagnosticKind::BadPayload { frame, error });
    }

    fn frame(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
        offset: u64,
        decompressed: bool,
        sink: &mut impl FrameSink,
    ) -> Result<(), DecodeError> {
        self.stats.frames += 1;
        let Some(kind) = FrameKind::from_u8(header.kind) else {
            sink.diagnostic(offset, DiagnosticKind::UnknownFrameKind { kind: header.kind, len: payload.len() as u32 });
            return Ok(());
        };
        let frame = Frame { kind, payload, offset, seq: header.seq, decompressed, version: self.version };
        sink.frame(&frame)
    }
}

/// Tracks the sequence numbers of a file's frames.
#[derive(Debug, Default)]
struct SeqTracker {
    /// The number the next frame should carry; `None` before the first.
    expected: Option<u32>,
    /// Numbers behind `expected` not seen yet, as `start..end` ranges
    /// (wrapping), oldest first; at most [`MAX_GAPS`] of them.
    missing: std::collections::VecDeque<(u32, u32)>,
}

/// Separate gaps remembered: a frame that fills an older one is taken for
/// a duplicate (bounded memory on hostile input).
const MAX_GAPS: usize = 1024;

/// What a frame's sequence number says.
#[derive(Debug, PartialEq, Eq)]
enum SeqCheck {
    InOrder,
    /// Frames `expected..seq` are missing.
    Gap {
        expected: u32,
    },
    /// This number was seen already.
    Duplicate,
    /// An earlier number that was missing until now.
    Late {
        expected: u32,
    },
}

impl SeqTracker {
    /// How many frames are missing before frame `seq` (0 unless it is
    /// ahead of the expected number).
    fn missing_before(&self, seq: u32) -> u32 {
        let ahead = seq.wrapping_sub(self.expected.unwrap_or(0));
        if ahead < u32::MAX / 2 {
            ahead
        } else {
            0
        }
    }

    fn next(&mut self, seq: u32) -> SeqCheck {
        let expected = self.expected.unwrap_or(0);
        let ahead = seq.wrapping_sub(expected);
        if ahead < u32::MAX / 2 {
            // `seq` is `expected` or later: frames in between are missing.
            self.expected = Some(seq.wrapping_add(1));
            if ahead == 0 {
                return SeqCheck::InOrder;
            }
            if self.missing.len() == MAX_GAPS {
                self.missing.pop_front();
            }
            self.missing.push_back((expected, seq));
            return SeqCheck::Gap { expected };
        }
        // Behind: late if it fills a gap, else seen before.
        let Some(i) = self.missing.iter().position(|&(start, end)| seq.wrapping_sub(start) < end.wrapping_sub(start))
        else {
            return SeqCheck::Duplicate;
        };
        let (start, end) = self.missing[i];
        match (seq == start, seq.wrapping_add(1) == end) {
            (true, true) => {
                self.missing.remove(i);
            }
            (true, false) => self.missing[i].0 = seq.wrapping_add(1),
            (false, true) => self.missing[i].1 = seq,
            (false, false) => {
                self.missing[i].1 = seq;
                self.missing.insert(i + 1, (seq.wrapping_add(1), end));
                if self.missing.len() > MAX_GAPS {
                    self.missing.pop_front();
                }
            }
        }
        SeqCheck::Late { expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlog_format::frame::{frame_header_v1, preamble, preamble_for, push_frame};
    use lmlog_format::schema::to_payload;

    #[test]
    fn sequence_numbers_find_gaps_duplicates_and_late_frames() {
        let mut t = SeqTracker::default();
        assert_eq!(t.next(0), SeqCheck::InOrder);
        assert_eq!(t.next(1), SeqCheck::InOrder);
        assert_eq!(t.next(1), SeqCheck::Duplicate);
        assert_eq!(t.next(4), SeqCheck::Gap { expected: 2 });
        assert_eq!(t.next(2), SeqCheck::Late { expected: 5 });
        assert_eq!(t.next(2), SeqCheck::Duplicate);
        assert_eq!(t.next(3), SeqCheck::Late { expected: 5 });
        assert_eq!(t.next(0), SeqCheck::Duplicate);
        assert_eq!(t.next(5), SeqCheck::InOrder);
        assert_eq!(t.next(500), SeqCheck::Gap { expected: 6 });
        assert_eq!(t.next(100), SeqCheck::Late { expected: 501 }, "however late");
        assert_eq!(t.next(100), SeqCheck::Duplicate);
        assert_eq!(t.next(6), SeqCheck::Late { expected: 501 });
        assert_eq!(t.next(499), SeqCheck::Late { expected: 501 });
        assert_eq!(t.next(7), SeqCheck::Late { expected: 501 });
        let mut t = SeqTracker::default();
        assert_eq!(t.next(3), SeqCheck::Gap { expected: 0 }, "a file's first frame is number 0");
    }

    /// What a sink saw, as text, in order.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl FrameSink for Log {
        fn file(&mut self, offset: u64, version: u16) -> Result<(), DecodeError> {
            self.0.push(format!("file v{version} @{offset}"));
            Ok(())
        }
        fn frame(&mut self, f: &Frame<'_>) -> Result<(), DecodeError> {
            let seq = f.seq.map_or("-".to_owned(), |s| s.to_string());
            let z = if f.decompressed { " lz4" } else { "" };
            self.0.push(format!("{} #{seq} @{} {:?}{z}", f.kind.name(), f.offset, f.payload));
            Ok(())
        }
        fn diagnostic(&mut self, offset: u64, kind: DiagnosticKind) {
            self.0.push(format!("diag @{offset} {kind:?}"));
        }
    }

    fn read(bytes: &[u8], chunk: usize) -> (Vec<String>, FrameStats) {
        let mut r = FrameReader::new();
        let mut log = Log::default();
        for c in bytes.chunks(chunk) {
            r.feed(c, &mut log).unwrap();
        }
        r.finish(&mut log).unwrap();
        assert_eq!(r.offset(), bytes.len() as u64);
        (log.0, r.stats)
    }

    /// Every frame, in pieces of every size, with the same result.
    fn read_all_ways(bytes: &[u8]) -> (Vec<String>, FrameStats) {
        let whole = read(bytes, bytes.len().max(1));
        for chunk in [1, 2, 3, 7, 18, 19, 64] {
            assert_eq!(read(bytes, chunk), whole, "in pieces of {chunk}");
        }
        whole
    }

    #[test]
    fn frames_of_both_versions_in_pieces_of_any_size() {
        let mut s = preamble().to_vec();
        push_frame(&mut s, FrameKind::Clock, 0, b"ab");
        push_frame(&mut s, FrameKind::End, 1, b"");
        let v2_len = s.len();
        s.extend_from_slice(&preamble_for(1));
        s.extend_from_slice(&frame_header_v1(FrameKind::Thread as u8, 0, b"xyz"));
        s.extend_from_slice(b"xyz");
        let (log, stats) = read_all_ways(&s);
        assert_eq!(
            log,
            [
                "file v2 @0".to_owned(),
                "clock #0 @12 [97, 98]".to_owned(),
                "end #1 @32 []".to_owned(),
                format!("file v1 @{v2_len}"),
                format!("thread #- @{} [120, 121, 122]", v2_len + 12),
            ]
        );
        assert_eq!(stats, FrameStats { bytes_read: s.len() as u64, frames: 3, files: 2, damaged_regions: 0 });
    }

    #[test]
    fn damage_is_skipped_and_reported_with_the_frames_it_held() {
        let mut s = preamble().to_vec();
        push_frame(&mut s, FrameKind::Clock, 0, b"a");
        let bad = s.len();
        push_frame(&mut s, FrameKind::Clock, 1, b"b");
        push_frame(&mut s, FrameKind::Clock, 2, b"c");
        let good = s.len();
        push_frame(&mut s, FrameKind::Clock, 3, b"d");
        s[bad + 18] ^= 1; // payload of frame 1
        s[good - 1] ^= 1; // payload of frame 2
        let (log, stats) = read_all_ways(&s);
        assert_eq!(log.len(), 4, "{log:?}");
        assert_eq!(
            log[2],
            format!(
                "diag @{bad} {:?}",
                DiagnosticKind::DamagedFrame {
                    reason: FrameDamage::CrcMismatch,
                    skipped: (good - bad) as u64,
                    frames: Some(2),
                    resumed: Resume::NextFrame,
                }
            )
        );
        assert_eq!(log[3], format!("clock #3 @{good} [100]"));
        assert_eq!(stats.damaged_regions, 1);
        assert_eq!(stats.frames, 2);
    }

    #[test]
    fn gaps_duplicates_and_the_writers_loss_frame() {
        let loss = to_payload(&WriterLoss {
            frames: 2,
            bytes: 10,
            reason: "disk full".into(),
            first_unix_nanos: 0,
            last_unix_nanos: 0,
        });
        let mut s = preamble().to_vec();
        push_frame(&mut s, FrameKind::Clock, 0, b"a");
        let dup = s.len();
        push_frame(&mut s, FrameKind::Clock, 0, b"a");
        let explained = s.len();
        push_frame(&mut s, FrameKind::Loss, 3, &loss);
        let unexplained = s.len();
        push_frame(&mut s, FrameKind::Clock, 9, b"b");
        let (log, stats) = read_all_ways(&s);
        let expected = [
            "file v2 @0".to_owned(),
            "clock #0 @12 [97]".to_owned(),
            format!("diag @{dup} {:?}", DiagnosticKind::DuplicateFrame { seq: 0 }),
            format!(
                "diag @{explained} {:?}",
                DiagnosticKind::MissingFrames { expected: 1, found: 3, reported_by_writer: true }
            ),
            format!("loss #3 @{explained} {loss:?}"),
            format!(
                "diag @{unexplained} {:?}",
                DiagnosticKind::MissingFrames { expected: 4, found: 9, reported_by_writer: false }
            ),
            format!("clock #9 @{unexplained} [98]"),
        ];
        assert_eq!(log, expected);
        assert_eq!(stats.frames, 4, "the duplicate counts as a frame");
    }

    #[test]
    fn compressed_frames_are_undone_and_bad_ones_reported() {
        let raw = b"records records records records records".repeat(4);
        let mut stored = Vec::new();
        lmlog_format::frame::compress_lz4(&raw, &mut stored);
        let mut s = preamble().to_vec();
        s.extend_from_slice(&lmlog_format::frame::frame_header(FrameKind::Records, FLAG_LZ4, 0, &stored));
        s.extend_from_slice(&stored);
        let bad = s.len();
        s.extend_from_slice(&lmlog_format::frame::frame_header(FrameKind::Records, FLAG_LZ4, 1, b"\x05xx"));
        s.extend_from_slice(b"\x05xx");
        let flags = s.len();
        s.extend_from_slice(&lmlog_format::frame::frame_header(FrameKind::Records, 0x80, 2, b"x"));
        s.extend_from_slice(b"x");
        let (log, stats) = read_all_ways(&s);
        assert_eq!(log[1], format!("records #0 @12 {raw:?} lz4"));
        assert!(log[2].starts_with(&format!("diag @{bad} BadPayload {{ frame: Records, error: \"LZ4 payload: ")));
        assert_eq!(
            log[3],
            format!(
                "diag @{flags} {:?}",
                DiagnosticKind::BadPayload { frame: FrameKind::Records, error: "unknown frame flags 0x80".into() }
            )
        );
        assert_eq!(log.len(), 4);
        assert_eq!(stats.frames, 3);
    }

    #[test]
    fn truncation_and_fatal_starts() {
        let mut s = preamble().to_vec();
        push_frame(&mut s, FrameKind::Clock, 0, b"abc");
        let (log, stats) = read_all_ways(&s[..s.len() - 1]);
        assert_eq!(log[1], format!("diag @12 {:?}", DiagnosticKind::TruncatedFrame { declared: 3, available: 2 }));
        assert_eq!(stats.damaged_regions, 1);

        let mut r = FrameReader::new();
        let e = r.feed(b"{\"json\":1}", &mut Log::default()).unwrap_err();
        assert!(matches!(e, DecodeError::NotLmlog { offset: 0 }), "{e}");
        let mut r = FrameReader::new();
        r.feed(&preamble()[..5], &mut Log::default()).unwrap();
        let e = r.finish(&mut Log::default()).unwrap_err();
        assert!(matches!(e, DecodeError::TooShort { len: 5 }), "{e}");
    }
}
