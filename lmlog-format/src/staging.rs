//! Staging files: how a running process keeps what its threads committed
//! where a process death cannot take it, and how the next run (or
//! `lmlog-decode --recover`) turns it back into frames.
//!
//! A process writing the log `app.lmlog` owns a *run directory* under
//! [`staging_root`] named after the log ([`run_key`]), its pid and start
//! time. It holds:
//!
//! - `lock`: locked (`flock`) by the owner for its whole life, so a run
//!   whose lock can be taken belongs to a process that is gone;
//! - `log`: the log's absolute path (a run whose log is gone is removed);
//! - `meta`: a stream prefix: preamble, session frame, then one schema frame
//!   per call site as it is first used and clock frames, appended as they
//!   happen, so every record in a ring has its schema here;
//! - `ring-N`: one staging ring each, mapped into the process: a control
//!   block (the layout below, little-endian, offsets in bytes) and the
//!   ring's bytes. The writer moves `head` only after the sink accepted
//!   what it drained, so `[head, tail)` is exactly what may not be in the
//!   log yet.
//!
//! Recovery ([`recover_run`]) frames, per ring in creation order, a thread
//! frame and one records frame with `[head, tail)`, after the meta stream,
//! and ends the stream with an End frame whose reason says it was
//! recovered. The result is appended to the log like any other file.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::frame::{
    push_frame, FrameHeader, FrameKind, RecordHeader, RecordsHeader, DROP_REPORT_ID, FORMAT_VERSION, PREAMBLE_LEN,
};
use crate::schema::{to_payload, EndInfo, ThreadInfo};
use crate::varint::push_u64;

/// The first word of a ring file's header ("LMLGRNG1").
pub const RING_MAGIC: u64 = u64::from_le_bytes(*b"LMLGRNG1");

/// Byte offsets of a ring file's control block. The producer's words share
/// one 128-byte line, the writer's the next; the header follows.
pub mod layout {
    /// End of the last committed record (u64).
    pub const TAIL: usize = 0;
    /// Where the padding before the most recent lap starts (u64; `u64::MAX`: none).
    pub const PAD_START: usize = 24;
    /// Events the owner dropped, in total (u64).
    pub const DROPPED: usize = 32;
    /// Everything before it reached the sink (u64).
    pub const HEAD: usize = 128;
    /// Drops already reported in the stream (u64).
    pub const DROPPED_REPORTED: usize = 144;
    /// Ticks of the record just before `HEAD` (u64).
    pub const HEAD_TICKS: usize = 152;
    /// [`RING_MAGIC`](super::RING_MAGIC), written once the file is set up (u64).
    pub const MAGIC: usize = 256;
    /// Bytes of the ring, a power of two (u64).
    pub const CAPACITY: usize = 264;
    /// The owning thread's id in the stream (u32).
    pub const THREAD_ID: usize = 272;
    /// Length of the owning thread's name (u16; 0: unnamed).
    pub const NAME_LEN: usize = 276;
    /// The owning thread's name, UTF-8, at most [`NAME_MAX`] bytes.
    pub const NAME: usize = 278;
    /// Longest thread name kept.
    pub const NAME_MAX: usize = 64;
    /// The chunk marks (24 bytes each, one per 32 KiB of ring).
    pub const MARKS: usize = 384;
    /// Bytes of one chunk mark.
    pub const MARK_LEN: usize = 24;
}

/// Bytes of a chunk of ring offsets (see the runtime's ring).
pub const CHUNK_LEN: u64 = 32 << 10;

/// Where the ring's bytes start in a ring file of `capacity` bytes.
pub const fn ring_data_offset(capacity: u64) -> usize {
    let marks = (capacity / CHUNK_LEN) as usize;
    let marks = if marks == 0 { 1 } else { marks };
    (layout::MARKS + marks * layout::MARK_LEN).next_multiple_of(4096)
}

/// The length of a ring file of `capacity` bytes.
pub const fn ring_file_len(capacity: u64) -> usize {
    ring_data_offset(capacity) + capacity as usize
}

/// Why a staging file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StagingError {
    /// Reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A file is not what it should be.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// What one ring file holds that the log may not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRing {
    /// The thread's id in the stream.
    pub thread_id: u32,
    /// The thread's name.
    pub name: Option<String>,
    /// Ticks of the record before the first one here.
    pub base_ticks: u64,
    /// The records, in order (a ring's bytes without lap padding).
    pub records: Vec<u8>,
    /// Events the thread dropped that no report in the log counts yet.
    pub unreported_drops: u64,
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads the records of a ring file that the sink may not have received.
/// `None` if the file was never set up (its process died creating it).
pub fn read_ring(path: &Path, file: &[u8]) -> Result<Option<StagedRing>, StagingError> {
    let invalid = |reason: String| StagingError::Invalid { path: path.to_owned(), reason };
    if file.len() < layout::MARKS || read_u64(file, layout::MAGIC) != RING_MAGIC {
        return Ok(None);
    }
    let capacity = read_u64(file, layout::CAPACITY);
    if !capacity.is_power_of_two() || capacity > 1 << 30 || file.len() != ring_file_len(capacity) {
        return Err(invalid(format!("ring of {capacity} bytes in a file of {} bytes", file.len())));
    }
    let data = &file[ring_data_offset(capacity)..];
    let (head, tail) = (read_u64(file, layout::HEAD), read_u64(file, layout::TAIL));
    if tail < head || tail - head > capacity {
        return Err(invalid(format!("head {head} and tail {tail} do not describe a ring of {capacity} bytes")));
    }
    let pad_start = read_u64(file, layout::PAD_START);
    let mask = capacity - 1;
    let mut records = Vec::with_capacity((tail - head) as usize);
    let mut pos = head;
    while pos < tail {
        let lap_end = (pos | mask) + 1;
        let end = if tail < lap_end {
            tail
        } else if pad_start >= pos && pad_start < lap_end {
            pad_start
        } else {
            lap_end
        };
        let start = (pos & mask) as usize;
        records.extend_from_slice(&data[start..start + (end - pos) as usize]);
        pos = if end == tail { end } else { lap_end };
    }
    let thread_id = u32::from_le_bytes(file[layout::THREAD_ID..layout::THREAD_ID + 4].try_into().expect("4 bytes"));
    let name_len = usize::from(u16::from_le_bytes([file[layout::NAME_LEN], file[layout::NAME_LEN + 1]]));
    let name = (name_len > 0).then(|| {
        String::from_utf8_lossy(&file[layout::NAME..layout::NAME + name_len.min(layout::NAME_MAX)]).into_owned()
    });
    let unreported_drops = read_u64(file, layout::DROPPED).saturating_sub(read_u64(file, layout::DROPPED_REPORTED));
    Ok(Some(StagedRing { thread_id, name, base_ticks: read_u64(file, layout::HEAD_TICKS), records, unreported_drops }))
}

/// A dead run turned back into a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// A whole file's worth of frames: the run's meta stream, the staged
    /// records, an End frame.
    pub bytes: Vec<u8>,
    /// Rings that held records the log did not have.
    pub rings: usize,
    /// Bytes of such records.
    pub record_bytes: u64,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes of records from {} staging rings", self.record_bytes, self.rings)
    }
}

/// Frames what the run directory `dir` (of a process that is gone) holds
/// that its log may not: `None` if no ring holds anything. `now_unix_nanos`
/// stamps the End frame.
pub fn recover_run(dir: &Path, now_unix_nanos: u64) -> Result<Option<Recovered>, StagingError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| StagingError::Io { path, source }
    };
    let meta_path = dir.join("meta");
    let mut meta = Vec::new();
    File::open(&meta_path).and_then(|mut f| f.read_to_end(&mut meta)).map_err(io_err(&meta_path))?;
    // The meta stream's intact frames (the last may have been cut short by
    // the death).
    if crate::frame::check_preamble(&meta).is_err() {
        return Ok(None);
    }
    let mut end = PREAMBLE_LEN;
    let mut seq = 0u32;
    while let Some(header) = FrameHeader::parse(&meta[end..], FORMAT_VERSION) {
        let payload_start = end + crate::frame::FRAME_HEADER_LEN;
        let payload_end = payload_start + header.len as usize;
        if payload_end > meta.len() || !header.verify(&meta[payload_start..payload_end]) {
            break;
        }
        end = payload_end;
        seq = header.seq.map_or(seq, |s| s.wrapping_add(1));
    }
    meta.truncate(end);

    let mut rings: Vec<(u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        if let Some(n) = name.to_str().and_then(|n| n.strip_prefix("ring-")).and_then(|n| n.parse().ok()) {
            rings.push((n, entry.path()));
        }
    }
    rings.sort();
    let mut out = meta;
    let (mut staged_rings, mut record_bytes) = (0, 0);
    for (_, path) in rings {
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        let Some(ring) = read_ring(&path, &bytes)? else { continue };
        if ring.records.is_empty() && ring.unreported_drops == 0 {
            continue;
        }
        push_frame(&mut out, FrameKind::Thread, seq, &to_payload(&ThreadInfo { id: ring.thread_id, name: ring.name }));
        let mut payload = Vec::with_capacity(ring.records.len() + 20);
        RecordsHeader { thread_id: ring.thread_id, base_ticks: ring.base_ticks }.encode(&mut payload);
        payload.extend_from_slice(&ring.records);
        if ring.unreported_drops != 0 {
            // A drop report after the records, as the writer appends one.
            push_u64(&mut payload, RecordHeader::encode(DROP_REPORT_ID, false));
            push_u64(&mut payload, 0); // tick delta 0 (zigzag)
            push_u64(&mut payload, ring.unreported_drops);
        }
        push_frame(&mut out, FrameKind::Records, seq.wrapping_add(1), &payload);
        seq = seq.wrapping_add(2);
        staged_rings += 1;
        record_bytes += ring.records.len() as u64;
    }
    if staged_rings == 0 {
        return Ok(None);
    }
    let reason = "recovered: the process ended without shutting lmlog down".to_owned();
    push_frame(&mut out, FrameKind::End, seq, &to_payload(&EndInfo { reason, unix_nanos: now_unix_nanos }));
    Ok(Some(Recovered { bytes: out, rings: staged_rings, record_bytes }))
}

/// The directory holding the run directories of this user: `/dev/shm/lmlog-UID`
/// where `/dev/shm` exists (memory, never written to disk), else
/// `.lmlog-staging` beside the log.
pub fn staging_root(log: &Path) -> PathBuf {
    #[cfg(unix)]
    {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            return shm.join(format!("lmlog-{uid}"));
        }
    }
    log.parent().unwrap_or(Path::new(".")).join(".lmlog-staging")
}

/// The log's absolute path (its directory canonicalized), as run
/// directories record it in their `log` file.
pub fn absolute_log_path(log: &Path) -> PathBuf {
    log.parent()
        .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p })
        .and_then(|p| p.canonicalize().ok())
        .map(|dir| dir.join(log.file_name().unwrap_or_default()))
        .unwrap_or_else(|| log.to_owned())
}

/// The name prefix of the run directories of the log at `log`: a hash of
/// its absolute path, so that the next run on the same log finds them.
pub fn run_key(log: &Path) -> String {
    // FNV-1a: stable across builds and platforms.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in absolute_log_path(log).as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Removes the run directories under `root` of processes that are gone
/// whose log no longer exists (nowhere to recover to) or that never
/// recorded one (the process died creating them); returns how many.
pub fn remove_orphan_runs(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else { return 0 };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        if !owned_by_us(&dir) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(lock) = File::options().read(true).write(true).open(dir.join("lock")) else { continue };
        if lock.try_lock().is_err() {
            continue; // Its process is alive.
        }
        let log = std::fs::read(dir.join("log"))
            .ok()
            .map(|bytes| PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()));
        if log.is_none_or(|log| !log.exists()) && std::fs::remove_dir_all(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The run directories of `log` under `root` whose owner is gone (their
/// lock could be taken), each with its lock held: recover, then remove.
pub fn dead_runs(root: &Path, log: &Path) -> Vec<(PathBuf, File)> {
    let key = run_key(log);
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut runs: Vec<(PathBuf, File)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&key) && n[key.len()..].starts_with('-')))
        .filter(|e| owned_by_us(&e.path()))
        .filter_map(|e| {
            let lock = File::options().read(true).write(true).open(e.path().join("lock")).ok()?;
            lock.try_lock().ok()?;
            Some((e.path(), lock))
        })
        .collect();
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    runs
}

/// Whether `path` belongs to the user running this process (recovery
/// refuses another user's files).
pub fn owned_by_us(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == uid)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// What recovering the dead runs of one log found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Recovery {
    /// One stream per dead run that held records the log did not have,
    /// delivered.
    pub streams: Vec<Recovered>,
    /// Runs that could not be read or delivered (kept in place).
    pub failed: Vec<(PathBuf, String)>,
    /// Run directories of dead processes whose log is gone, removed.
    pub orphans_removed: usize,
}

/// Recovers the runs of earlier processes on the log at `log` that are
/// gone: hands each one's stream to `deliver` (which appends it to the log)
/// and removes its run directory once delivered. `now_unix_nanos` stamps
/// the streams' End frames.
pub fn recover_dead_runs(
    log: &Path,
    now_unix_nanos: u64,
    mut deliver: impl FnMut(&Recovered) -> io::Result<()>,
) -> Recovery {
    let mut recovery = Recovery::default();
    let root = staging_root(log);
    recovery.orphans_removed = remove_orphan_runs(&root);
    for (dir, _lock) in dead_runs(&root, log) {
        match recover_run(&dir, now_unix_nanos) {
            Ok(Some(stream)) => match deliver(&stream) {
                Ok(()) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    recovery.streams.push(stream);
                }
                Err(e) => recovery.failed.push((dir, format!("cannot write what was recovered: {e}"))),
            },
            Ok(None) => {
                let _ = std::fs::remove_dir_all(&dir);
            }
            Err(e) => recovery.failed.push((dir, e.to_string())),
        }
    }
    recovery
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring file of `capacity` bytes with `data` at the ring's start.
    fn ring_file(capacity: u64, head: u64, tail: u64, pad_start: u64, data: &[u8]) -> Vec<u8> {
        let mut file = vec![0u8; ring_file_len(capacity)];
        let mut put = |at: usize, v: u64| file[at..at + 8].copy_from_slice(&v.to_le_bytes());
        put(layout::MAGIC, RING_MAGIC);
        put(layout::CAPACITY, capacity);
        put(layout::HEAD, head);
        put(layout::TAIL, tail);
        put(layout::PAD_START, pad_start);
        put(layout::HEAD_TICKS, 77);
        put(layout::DROPPED, 5);
        put(layout::DROPPED_REPORTED, 3);
        file[layout::THREAD_ID..layout::THREAD_ID + 4].copy_from_slice(&9u32.to_le_bytes());
        file[layout::NAME_LEN..layout::NAME_LEN + 2].copy_from_slice(&4u16.to_le_bytes());
        file[layout::NAME..layout::NAME + 4].copy_from_slice(b"main");
        let data_at = ring_data_offset(capacity);
        file[data_at..data_at + data.len()].copy_from_slice(data);
        file
    }

    #[test]
    fn a_ring_across_a_lap_is_read_without_its_padding() {
        // 64-byte ring: head at 120 (physical 56), padding from 124 to the
        // lap end at 128, then records up to 136 (physical 8).
        let mut data = [0u8; 64];
        data[56..60].copy_from_slice(b"abcd");
        data[60..64].copy_from_slice(b"PPPP");
        data[..8].copy_from_slice(b"efghijkl");
        let file = ring_file(64, 120, 136, 124, &data);
        let ring = read_ring(Path::new("ring-0"), &file).unwrap().unwrap();
        assert_eq!(ring.records, b"abcdefghijkl");
        assert_eq!((ring.thread_id, ring.name.as_deref(), ring.base_ticks), (9, Some("main"), 77));
        assert_eq!(ring.unreported_drops, 2);
    }

    #[test]
    fn damaged_ring_files_are_refused_and_unfinished_ones_skipped() {
        let path = Path::new("ring-0");
        let mut file = ring_file(64, 10, 100, u64::MAX, &[]);
        assert!(matches!(read_ring(path, &file), Err(StagingError::Invalid { .. })), "more than a lap staged");
        file.truncate(100);
        assert!(read_ring(path, &file).unwrap().is_none(), "cut before the magic");
        let mut odd = ring_file(64, 0, 0, u64::MAX, &[]);
        odd[layout::CAPACITY..layout::CAPACITY + 8].copy_from_slice(&63u64.to_le_bytes());
        assert!(matches!(read_ring(path, &odd), Err(StagingError::Invalid { .. })));
    }
}
