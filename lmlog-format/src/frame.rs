//! File preamble, frame layout and record header (FORMAT.md is the prose
//! form; the constants here are its single source).
//!
//! ```text
//! file     = preamble frame*
//! preamble = MAGIC (8 bytes) | version u16 LE | reserved u16 LE (0)
//! frame v2 = SYNC (4 bytes) | kind u8 | flags u8 | len u32 LE | seq u32 LE | crc u32 LE | payload (len bytes)
//! frame v1 = SYNC (4 bytes) | kind u8 | flags u8 | len u32 LE | crc u32 LE | payload (len bytes)
//! crc      = CRC-32 (IEEE) of every header byte after SYNC up to the crc, then the payload
//! ```
//!
//! Writers write [`FORMAT_VERSION`]; readers read every version from
//! [`MIN_READ_VERSION`] on. Building frames and checking their CRC needs the
//! `codec` feature (on by default); the layout itself does not.

/// First bytes of every lmlog file. The high byte and the CR LF / SUB
/// bytes reveal text-mode mangling, as in PNG.
pub const MAGIC: [u8; 8] = *b"\x89LMLOG\r\n";
/// Version of the binary format this crate writes.
pub const FORMAT_VERSION: u16 = 2;
/// Oldest version of the binary format this crate reads.
pub const MIN_READ_VERSION: u16 = 1;
/// Length of the preamble: magic, version, reserved.
pub const PREAMBLE_LEN: usize = 12;
/// Marker at the start of every frame, used to find frames again after damage.
pub const SYNC: [u8; 4] = [0xB7, 0x4C, 0x4D, 0xE9];
/// Length of a frame header of the current version (sync, kind, flags,
/// len, seq, crc).
pub const FRAME_HEADER_LEN: usize = 18;
/// Length of a version 1 frame header (sync, kind, flags, len, crc).
pub const FRAME_HEADER_LEN_V1: usize = 14;
/// Longest frame header of any version this crate reads.
pub const MAX_FRAME_HEADER_LEN: usize = FRAME_HEADER_LEN;
/// Largest payload a frame may carry; a decoder rejects larger lengths
/// before allocating anything.
pub const MAX_FRAME_PAYLOAD: usize = 16 << 20;

/// Length of a frame header in files of format `version`.
pub const fn frame_header_len(version: u16) -> usize {
    if version >= 2 {
        FRAME_HEADER_LEN
    } else {
        FRAME_HEADER_LEN_V1
    }
}

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameKind {
    /// [`crate::SessionInfo`], first frame of every file.
    Session = 1,
    /// [`crate::ClockUpdate`]: a fresh reading of both clocks, and the tick
    /// rate measured so far.
    Clock = 2,
    /// A call-site schema ([`crate::CallsiteSchema`]).
    Schema = 3,
    /// [`crate::ThreadInfo`].
    Thread = 4,
    /// Event records of one thread (see [`RecordsHeader`]).
    Records = 5,
    /// [`crate::WriterLoss`]: data the writer failed to deliver.
    Loss = 6,
    /// [`crate::EndInfo`]: the stream ended cleanly.
    End = 7,
    /// [`crate::Watermark`]: every record older than an instant has been
    /// written (format version 2 on).
    Watermark = 8,
    /// [`crate::SampledReport`]: events call sites sampled out or
    /// rate-limited since the previous report (added within version 2;
    /// older readers skip it).
    Sampled = 9,
    /// [`crate::GlobalContextReport`]: changes of the process's global
    /// context, or at the start of a file the whole of it (added within
    /// version 2; older readers skip it).
    GlobalContext = 10,
}

impl FrameKind {
    /// Every kind, in wire order.
    pub const ALL: [FrameKind; 10] = [
        FrameKind::Session,
        FrameKind::Clock,
        FrameKind::Schema,
        FrameKind::Thread,
        FrameKind::Records,
        FrameKind::Loss,
        FrameKind::End,
        FrameKind::Watermark,
        FrameKind::Sampled,
        FrameKind::GlobalContext,
    ];

    /// Decodes the wire value; unknown kinds are `None` and are skipped by readers.
    pub const fn from_u8(v: u8) -> Option<FrameKind> {
        if v >= 1 && v as usize <= FrameKind::ALL.len() {
            Some(FrameKind::ALL[v as usize - 1])
        } else {
            None
        }
    }

    /// Lower-case name, as in FORMAT.md and diagnostics.
    pub const fn name(self) -> &'static str {
        match self {
            FrameKind::Session => "session",
            FrameKind::Clock => "clock",
            FrameKind::Schema => "schema",
            FrameKind::Thread => "thread",
            FrameKind::Records => "records",
            FrameKind::Loss => "loss",
            FrameKind::End => "end",
            FrameKind::Watermark => "watermark",
            FrameKind::Sampled => "sampled",
            FrameKind::GlobalContext => "global_context",
        }
    }
}

/// The file preamble for the current version.
pub const fn preamble() -> [u8; PREAMBLE_LEN] {
    preamble_for(FORMAT_VERSION)
}

/// The file preamble for `version` (tests and tools that write older versions).
pub const fn preamble_for(version: u16) -> [u8; PREAMBLE_LEN] {
    let v = version.to_le_bytes();
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], MAGIC[4], MAGIC[5], MAGIC[6], MAGIC[7], v[0], v[1], 0, 0]
}

/// What is wrong with a file's first bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PreambleError {
    /// Fewer than [`PREAMBLE_LEN`] bytes.
    #[error("file is {0} bytes long, too short for an lmlog preamble")]
    TooShort(usize),
    /// The magic bytes do not match.
    #[error("not an lmlog file (bad magic bytes)")]
    BadMagic,
    /// A version this reader does not know.
    #[error(
        "unsupported lmlog format version {0} (this decoder reads versions {MIN_READ_VERSION} to {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
}

/// Checks a file preamble and returns the format version.
pub fn check_preamble(bytes: &[u8]) -> Result<u16, PreambleError> {
    if bytes.len() < PREAMBLE_LEN {
        if !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
            return Err(PreambleError::BadMagic);
        }
        return Err(PreambleError::TooShort(bytes.len()));
    }
    if bytes[..8] != MAGIC {
        return Err(PreambleError::BadMagic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if !(MIN_READ_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(PreambleError::UnsupportedVersion(version));
    }
    Ok(version)
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Raw kind byte (see [`FrameKind::from_u8`]).
    pub kind: u8,
    /// Flags: [`FLAG_LZ4`] or 0.
    pub flags: u8,
    /// Payload length.
    pub len: u32,
    /// Position of the frame in its file, counting from 0 after the
    /// preamble (format version 2 on; `None` in version 1 files).
    pub seq: Option<u32>,
    /// Expected CRC.
    pub crc: u32,
}

impl FrameHeader {
    /// Parses a header of a format `version` file from the start of
    /// `bytes`; `None` if `bytes` is shorter than [`frame_header_len`] or
    /// the sync marker is absent.
    pub fn parse(bytes: &[u8], version: u16) -> Option<FrameHeader> {
        let header = bytes.get(..frame_header_len(version))?;
        if header[..4] != SYNC {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (seq, crc) = if version >= 2 { (Some(u32_at(10)), u32_at(14)) } else { (None, u32_at(10)) };
        Some(FrameHeader { kind: header[4], flags: header[5], len: u32_at(6), seq, crc })
    }

    /// Whether `payload` matches this header's CRC.
    #[cfg(feature = "codec")]
    pub fn verify(&self, payload: &[u8]) -> bool {
        frame_crc(self.kind, self.flags, self.seq, payload) == self.crc
    }
}

/// CRC of a frame: kind, flags, length, the sequence number (version 2
/// frames) and the payload.
#[cfg(feature = "codec")]
pub fn frame_crc(kind: u8, flags: u8, seq: Option<u32>, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind, flags]);
    h.update(&(payload.len() as u32).to_le_bytes());
    if let Some(seq) = seq {
        h.update(&seq.to_le_bytes());
    }
    h.update(payload);
    h.finalize()
}

/// Builds the header of frame number `seq` of a file, with `flags`, for
/// the stored `payload` (current version).
#[cfg(feature = "codec")]
pub fn frame_header(kind: FrameKind, flags: u8, seq: u32, payload: &[u8]) -> [u8; FRAME_HEADER_LEN] {
    assert!(payload.len() <= MAX_FRAME_PAYLOAD, "frame payload of {} bytes exceeds the maximum", payload.len());
    let crc = frame_crc(kind as u8, flags, Some(seq), payload).to_le_bytes();
    let len = (payload.len() as u32).to_le_bytes();
    let seq = seq.to_le_bytes();
    [
        SYNC[0], SYNC[1], SYNC[2], SYNC[3], kind as u8, flags, len[0], len[1], len[2], len[3], seq[0], seq[1], seq[2],
        seq[3], crc[0], crc[1], crc[2], crc[3],
    ]
}

/// Builds a version 1 frame header, for tests and tools that write the
/// old format.
#[cfg(feature = "codec")]
pub fn frame_header_v1(kind: u8, flags: u8, payload: &[u8]) -> [u8; FRAME_HEADER_LEN_V1] {
    let crc = frame_crc(kind, flags, None, payload).to_le_bytes();
    let len = (payload.len() as u32).to_le_bytes();
    [SYNC[0], SYNC[1], SYNC[2], SYNC[3], kind, flags, len[0], len[1], len[2], len[3], crc[0], crc[1], crc[2], crc[3]]
}

/// Appends frame number `seq` (header and payload, no flags) to `out`.
#[cfg(feature = "codec")]
pub fn push_frame(out: &mut Vec<u8>, kind: FrameKind, seq: u32, payload: &[u8]) {
    out.extend_from_slice(&frame_header(kind, 0, seq, payload));
    out.extend_from_slice(payload);
}

/// Frame flag: the stored payload is `varint raw_len | LZ4 block of the raw
/// payload`. The CRC covers the stored (compressed) bytes, so damage is
/// found before decompression. Writers set it on records frames only, and
/// only when the block is smaller than the raw payload.
pub const FLAG_LZ4: u8 = 0x01;

/// Appends `raw` to `out` as a [`FLAG_LZ4`] payload.
#[cfg(feature = "codec")]
pub fn compress_lz4(raw: &[u8], out: &mut Vec<u8>) {
    crate::varint::push_u64(out, raw.len() as u64);
    let start = out.len();
    out.resize(start + lz4_flex::block::get_maximum_output_size(raw.len()), 0);
    let n = lz4_flex::block::compress_into(raw, &mut out[start..]).expect("the output has the maximum compressed size");
    out.truncate(start + n);
}

/// Why a [`FLAG_LZ4`] payload could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecompressError {
    /// The raw-length prefix is missing or claims more than a frame may hold.
    #[error("bad uncompressed length")]
    BadLength,
    /// The LZ4 block is malformed or does not produce the stated length.
    #[error("malformed LZ4 block")]
    Malformed,
}

/// Decompresses a [`FLAG_LZ4`] payload into `raw` (cleared first).
#[cfg(feature = "codec")]
pub fn decompress_lz4(stored: &[u8], raw: &mut Vec<u8>) -> Result<(), DecompressError> {
    let (len, used) = crate::varint::read_u64(stored).map_err(|_| DecompressError::BadLength)?;
    let len = usize::try_from(len).ok().filter(|&l| l <= MAX_FRAME_PAYLOAD).ok_or(DecompressError::BadLength)?;
    raw.clear();
    raw.resize(len, 0);
    match lz4_flex::block::decompress_into(&stored[used..], raw) {
        Ok(n) if n == len => Ok(()),
        _ => Err(DecompressError::Malformed),
    }
}

/// The start of a records frame's payload: which thread, and the tick value
/// the first record's delta is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordsHeader {
    /// Producer thread id ([`crate::ThreadInfo::id`]).
    pub thread_id: u32,
    /// Ticks of the record before the first one in this frame.
    pub base_ticks: u64,
}

impl RecordsHeader {
    /// Appends the encoded header to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::varint::push_u64(out, self.thread_id as u64);
        crate::varint::push_u64(out, self.base_ticks);
    }
    /// Decodes the header; returns it and its length.
    pub fn decode(payload: &[u8]) -> Result<(RecordsHeader, usize), crate::wire::WireError> {
        let mut r = crate::wire::WireReader::new(payload);
        let thread_id = r.varint_u32("thread id")?;
        let base_ticks = r.varint()?;
        Ok((RecordsHeader { thread_id, base_ticks }, r.position()))
    }
}

/// Call-site id reserved for drop reports written by producers.
pub const DROP_REPORT_ID: u32 = 0;
/// Bytes of a record's trace context: trace id, span id, flags.
pub const TRACE_CONTEXT_LEN: usize = 16 + 8 + 1;
/// Record header bit: a trace context follows the timestamp delta.
pub const RECORD_HAS_TRACE: u64 = 1;
/// Record header bit (version 2 on): an extension block follows the trace
/// context (see [`record_extensions`]).
pub const RECORD_HAS_EXTENSIONS: u64 = 2;

/// A record's first varint: its call-site id and which optional parts
/// follow the timestamp delta.
///
/// ```text
/// version 2: varint(callsite_id << 2 | has_extensions << 1 | has_trace)
/// version 1: varint(callsite_id << 1 | has_trace)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// The call site ([`DROP_REPORT_ID`] for a drop report).
    pub callsite: u64,
    /// A [`TRACE_CONTEXT_LEN`]-byte trace context follows the delta.
    pub has_trace: bool,
    /// An extension block follows (after the trace context, if any).
    pub has_extensions: bool,
}

impl RecordHeader {
    /// Bits of the first varint below the call-site id, in files of
    /// format `version`.
    pub const fn flag_bits(version: u16) -> u32 {
        if version >= 2 {
            2
        } else {
            1
        }
    }

    /// The first varint of a record of the current version for call site
    /// `id` and whether a trace context follows (no extensions).
    #[inline(always)]
    pub const fn encode(id: u32, has_trace: bool) -> u64 {
        (id as u64) << Self::flag_bits(FORMAT_VERSION) | has_trace as u64
    }

    /// Splits a record's first varint, read from a file of format `version`.
    #[inline]
    pub const fn decode(v: u64, version: u16) -> RecordHeader {
        let bits = Self::flag_bits(version);
        RecordHeader {
            callsite: v >> bits,
            has_trace: v & RECORD_HAS_TRACE != 0,
            has_extensions: bits >= 2 && v & RECORD_HAS_EXTENSIONS != 0,
        }
    }
}

/// Extension item: the operation the event was emitted in. Its bytes:
/// `varint id | varint parent_id` (0: none), then, in the operation's first
/// record only, its name (`varint len | UTF-8`).
pub const EXTENSION_OPERATION: u64 = 1;

/// Extension item: the OpenTelemetry baggage in effect when the event was
/// emitted: `(varint len | UTF-8 key, varint len | UTF-8 value)*`.
pub const EXTENSION_BAGGAGE: u64 = 2;

/// Extension item: the active span's W3C trace state (`k1=v1,k2=v2`), as
/// UTF-8 text filling the item.
pub const EXTENSION_TRACE_STATE: u64 = 3;

/// Extension item: the event was kept by the flight recorder
/// (`Config::flight_recorder`): the filter turned it away, and it was
/// written, with its own timestamp, just before an `error` event of its
/// thread. The item is empty.
pub const EXTENSION_FLIGHT_RECORDED: u64 = 4;

/// The items of a record's extension block.
///
/// ```text
/// block = varint(len) item*          (len bytes of items)
/// item  = varint(tag) varint(len) bytes
/// ```
///
/// Tags: [`EXTENSION_OPERATION`], [`EXTENSION_BAGGAGE`],
/// [`EXTENSION_TRACE_STATE`], [`EXTENSION_FLIGHT_RECORDED`]. Readers skip
/// every item whose tag they do not know, so later versions can carry more
/// per-record data without a format break.
///
/// Returns an iterator over `(tag, bytes)`; it yields `Err` (and stops)
/// if an item runs past the block.
pub fn record_extensions(block: &[u8]) -> impl Iterator<Item = Result<(u64, &[u8]), crate::wire::WireError>> + '_ {
    let mut r = crate::wire::WireReader::new(block);
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || r.is_empty() {
            return None;
        }
        let item = r.varint().and_then(|tag| Ok((tag, r.len_prefixed()?)));
        failed = item.is_err();
        Some(item)
    })
}

#[cfg(all(test, feature = "codec"))]
mod tests {
    use super::*;

    #[test]
    fn frame_header_round_trips_and_detects_damage() {
        let payload = b"hello frame";
        let mut out = Vec::new();
        push_frame(&mut out, FrameKind::Schema, 7, payload);
        let h = FrameHeader::parse(&out, FORMAT_VERSION).unwrap();
        assert_eq!(h.kind, FrameKind::Schema as u8);
        assert_eq!(h.len as usize, payload.len());
        assert_eq!(h.seq, Some(7));
        assert!(h.verify(payload));
        assert!(!h.verify(b"hellp frame"));
        let other_seq = FrameHeader { seq: Some(8), ..h };
        assert!(!other_seq.verify(payload), "the sequence number is covered by the CRC");
        let mut bad = out.clone();
        bad[0] ^= 1;
        assert!(FrameHeader::parse(&bad, FORMAT_VERSION).is_none());
        assert!(FrameHeader::parse(&out[..FRAME_HEADER_LEN - 1], FORMAT_VERSION).is_none());

        let v1 = frame_header_v1(FrameKind::Thread as u8, 0, payload);
        let h = FrameHeader::parse(&v1, 1).unwrap();
        assert_eq!((h.kind, h.len, h.seq), (FrameKind::Thread as u8, payload.len() as u32, None));
        assert!(h.verify(payload));
    }

    #[test]
    fn preamble_checks() {
        assert_eq!(check_preamble(&preamble()), Ok(FORMAT_VERSION));
        assert_eq!(check_preamble(&preamble_for(1)), Ok(1));
        assert_eq!(check_preamble(b"{\"a\":1}\n{\"b\":2}"), Err(PreambleError::BadMagic));
        assert_eq!(check_preamble(&MAGIC[..3]), Err(PreambleError::TooShort(3)));
        assert_eq!(check_preamble(&preamble_for(9)), Err(PreambleError::UnsupportedVersion(9)));
        assert_eq!(check_preamble(&preamble_for(0)), Err(PreambleError::UnsupportedVersion(0)));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in FrameKind::ALL {
            assert_eq!(FrameKind::from_u8(kind as u8), Some(kind));
        }
        assert_eq!(FrameKind::from_u8(0), None);
        assert_eq!(FrameKind::from_u8(11), None);
    }

    #[test]
    fn record_headers_of_both_versions() {
        let v = RecordHeader::encode(37, true);
        assert_eq!(v, 37 << 2 | 1);
        assert_eq!(RecordHeader::decode(v, 2), RecordHeader { callsite: 37, has_trace: true, has_extensions: false });
        assert_eq!(
            RecordHeader::decode(37 << 2 | 3, 2),
            RecordHeader { callsite: 37, has_trace: true, has_extensions: true }
        );
        assert_eq!(
            RecordHeader::decode(37 << 1 | 1, 1),
            RecordHeader { callsite: 37, has_trace: true, has_extensions: false }
        );
    }

    #[test]
    fn extension_items_are_listed_and_bounded() {
        let block = [1, 2, 0xaa, 0xbb, 300u16 as u8 | 0x80, 2, 0];
        let items: Vec<_> = record_extensions(&block).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], Ok((1, &[0xaa, 0xbb][..])));
        assert_eq!(items[1], Ok((300, &[][..])));
        let items: Vec<_> = record_extensions(&[5, 9, 1]).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
    }

    #[test]
    fn lz4_payloads_round_trip_and_reject_garbage() {
        let raw: Vec<u8> = (0..10_000u32).flat_map(|i| [1, (i % 7) as u8, 10, b'u', b's', b'e', b'r']).collect();
        let mut stored = Vec::new();
        compress_lz4(&raw, &mut stored);
        assert!(stored.len() < raw.len() / 3, "{} of {}", stored.len(), raw.len());
        let mut back = vec![9u8; 3];
        decompress_lz4(&stored, &mut back).unwrap();
        assert_eq!(back, raw);

        let mut lying = Vec::new();
        crate::varint::push_u64(&mut lying, raw.len() as u64 + 1);
        lying.extend_from_slice(&stored[crate::varint::read_u64(&stored).unwrap().1..]);
        assert_eq!(decompress_lz4(&lying, &mut back), Err(DecompressError::Malformed));
        assert_eq!(decompress_lz4(&[0xff; 11], &mut back), Err(DecompressError::BadLength));
        let mut huge = Vec::new();
        crate::varint::push_u64(&mut huge, MAX_FRAME_PAYLOAD as u64 + 1);
        assert_eq!(decompress_lz4(&huge, &mut back), Err(DecompressError::BadLength));
        for cut in 0..stored.len() {
            assert!(decompress_lz4(&stored[..cut], &mut back).is_err() || cut == stored.len());
        }
    }
}
