//! File preamble and frame layout.
//!
//! ```text
//! file    = preamble frame*
//! preamble = MAGIC (8 bytes) | version u16 LE | reserved u16 LE (0)
//! frame   = SYNC (4 bytes) | kind u8 | flags u8 | len u32 LE | crc u32 LE | payload (len bytes)
//! crc     = CRC-32 (IEEE) of kind, flags, len and payload
//! ```

/// First bytes of every lmlog file. The high byte and the CR LF / SUB
/// bytes reveal text-mode mangling, as in PNG.
pub const MAGIC: [u8; 8] = *b"\x89LMLOG\r\n";
/// Version of the binary format this crate reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Length of the preamble: magic, version, reserved.
pub const PREAMBLE_LEN: usize = 12;
/// Marker at the start of every frame, used to find frames again after damage.
pub const SYNC: [u8; 4] = [0xB7, 0x4C, 0x4D, 0xE9];
/// Length of a frame header (sync, kind, flags, len, crc).
pub const FRAME_HEADER_LEN: usize = 14;
/// Largest payload a frame may carry; a decoder rejects larger lengths
/// before allocating anything.
pub const MAX_FRAME_PAYLOAD: usize = 16 << 20;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameKind {
    /// [`crate::SessionInfo`], first frame of every file.
    Session = 1,
    /// [`crate::ClockAnchor`]: a fresh reading of both clocks.
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
}

impl FrameKind {
    /// Decodes the wire value; unknown kinds are `None` and are skipped by readers.
    pub const fn from_u8(v: u8) -> Option<FrameKind> {
        Some(match v {
            1 => FrameKind::Session,
            2 => FrameKind::Clock,
            3 => FrameKind::Schema,
            4 => FrameKind::Thread,
            5 => FrameKind::Records,
            6 => FrameKind::Loss,
            7 => FrameKind::End,
            _ => return None,
        })
    }
}

/// The file preamble for the current version.
pub const fn preamble() -> [u8; PREAMBLE_LEN] {
    let v = FORMAT_VERSION.to_le_bytes();
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], MAGIC[4], MAGIC[5], MAGIC[6], MAGIC[7], v[0], v[1], 0, 0]
}

/// What is wrong with a file's first bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreambleError {
    /// Fewer than [`PREAMBLE_LEN`] bytes.
    #[error("file is {0} bytes long, too short for an lmlog preamble")]
    TooShort(usize),
    /// The magic bytes do not match.
    #[error("not an lmlog file (bad magic bytes)")]
    BadMagic,
    /// A version this reader does not know.
    #[error("unsupported lmlog format version {0} (this decoder reads version {FORMAT_VERSION})")]
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
    if version != FORMAT_VERSION {
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
    /// Expected CRC.
    pub crc: u32,
}

impl FrameHeader {
    /// Parses the 14 header bytes; `None` if the sync marker is absent.
    pub fn parse(bytes: &[u8; FRAME_HEADER_LEN]) -> Option<FrameHeader> {
        if bytes[..4] != SYNC {
            return None;
        }
        Some(FrameHeader {
            kind: bytes[4],
            flags: bytes[5],
            len: u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]),
            crc: u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]),
        })
    }

    /// Whether `payload` matches this header's CRC.
    pub fn verify(&self, payload: &[u8]) -> bool {
        frame_crc(self.kind, self.flags, payload) == self.crc
    }
}

/// CRC of a frame: kind, flags, length and payload.
pub fn frame_crc(kind: u8, flags: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind, flags]);
    h.update(&(payload.len() as u32).to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Builds a frame header for `payload`.
pub fn frame_header(kind: FrameKind, payload: &[u8]) -> [u8; FRAME_HEADER_LEN] {
    frame_header_with_flags(kind, 0, payload)
}

/// Builds a frame header with `flags` for the stored `payload`.
pub fn frame_header_with_flags(kind: FrameKind, flags: u8, payload: &[u8]) -> [u8; FRAME_HEADER_LEN] {
    assert!(payload.len() <= MAX_FRAME_PAYLOAD, "frame payload of {} bytes exceeds the maximum", payload.len());
    let crc = frame_crc(kind as u8, flags, payload);
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc.to_le_bytes();
    [
        SYNC[0], SYNC[1], SYNC[2], SYNC[3], kind as u8, flags, len[0], len[1], len[2], len[3], crc[0], crc[1], crc[2],
        crc[3],
    ]
}

/// Frame flag: the stored payload is `varint raw_len | LZ4 block of the raw
/// payload`. The CRC covers the stored (compressed) bytes, so damage is
/// found before decompression. Writers set it on records frames only, and
/// only when the block is smaller than the raw payload.
pub const FLAG_LZ4: u8 = 0x01;

/// Appends `raw` to `out` as a [`FLAG_LZ4`] payload.
pub fn compress_lz4(raw: &[u8], out: &mut Vec<u8>) {
    crate::varint::push_u64(out, raw.len() as u64);
    let start = out.len();
    out.resize(start + lz4_flex::block::get_maximum_output_size(raw.len()), 0);
    let n = lz4_flex::block::compress_into(raw, &mut out[start..]).expect("the output has the maximum compressed size");
    out.truncate(start + n);
}

/// Why a [`FLAG_LZ4`] payload could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    /// The raw-length prefix is missing or claims more than a frame may hold.
    #[error("bad uncompressed length")]
    BadLength,
    /// The LZ4 block is malformed or does not produce the stated length.
    #[error("malformed LZ4 block")]
    Malformed,
}

/// Decompresses a [`FLAG_LZ4`] payload into `raw` (cleared first).
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

/// Appends a complete frame (header and payload) to `out`.
pub fn push_frame(out: &mut Vec<u8>, kind: FrameKind, payload: &[u8]) {
    out.extend_from_slice(&frame_header(kind, payload));
    out.extend_from_slice(payload);
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

/// Record header bit: a trace context follows the timestamp delta.
pub const RECORD_HAS_TRACE: u64 = 1;
/// Call-site id reserved for drop reports written by producers.
pub const DROP_REPORT_ID: u32 = 0;
/// Bytes of a record's trace context: trace id, span id, flags.
pub const TRACE_CONTEXT_LEN: usize = 16 + 8 + 1;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_round_trips_and_detects_damage() {
        let payload = b"hello frame";
        let mut out = Vec::new();
        push_frame(&mut out, FrameKind::Schema, payload);
        let header: [u8; FRAME_HEADER_LEN] = out[..FRAME_HEADER_LEN].try_into().unwrap();
        let h = FrameHeader::parse(&header).unwrap();
        assert_eq!(h.kind, FrameKind::Schema as u8);
        assert_eq!(h.len as usize, payload.len());
        assert!(h.verify(payload));
        assert!(!h.verify(b"hellp frame"));
        let mut bad = header;
        bad[0] ^= 1;
        assert!(FrameHeader::parse(&bad).is_none());
    }

    #[test]
    fn preamble_checks() {
        assert_eq!(check_preamble(&preamble()), Ok(FORMAT_VERSION));
        assert_eq!(check_preamble(b"{\"a\":1}\n{\"b\":2}"), Err(PreambleError::BadMagic));
        assert_eq!(check_preamble(&MAGIC[..3]), Err(PreambleError::TooShort(3)));
        let mut p = preamble();
        p[8] = 9;
        assert_eq!(check_preamble(&p), Err(PreambleError::UnsupportedVersion(9)));
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
