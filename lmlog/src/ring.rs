//! A single-producer, single-consumer byte ring: one per producer thread,
//! drained by the writer thread.
//!
//! Offsets are virtual (they only grow); the physical position is
//! `offset & mask`. A record is always contiguous: when it does not fit
//! before the physical end, the producer skips to the next lap and records
//! where the skipped padding starts (`pad_start`).
//!
//! The two sides share as little as possible. The producer writes only its
//! own cache line (`tail`, `tail_seq`, `tail_ticks`, `pad_start`) and reads
//! the consumer's (`head`) only when its cached copy says the ring is full.
//! The consumer reads the producer's line only when it drains, so between
//! drains the producer's lines stay in its own core's cache.
//!
//! Two things let the writer account for and cut up what it drains without
//! parsing records: the producer counts its records (packed beside the
//! tail, so a commit still writes three words), and when a record ends in a
//! new [`CHUNK`]-sized stretch of offsets it notes where, with the record's
//! ticks and count, in a small table (a rare, out-of-line store). The
//! writer frames each stretch on its own, so one damaged frame costs at
//! most one chunk of records.

use std::path::PathBuf;
use std::sync::atomic::{fence, AtomicBool, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

use lmlog_format::staging::{layout, ring_data_offset, ring_file_len, RING_MAGIC};

/// Keeps a value on its own cache lines (128 bytes covers adjacent-line
/// prefetching on x86).
#[repr(align(128))]
#[derive(Debug, Default)]
struct CachePadded<T>(T);

/// Records frames hold about this many bytes of records at most (plus one
/// record): the producer marks where its records cross each multiple of it.
pub(crate) const CHUNK: u64 = 1 << CHUNK_SHIFT;
const CHUNK_SHIFT: u32 = 15;

/// A record count rides in the bits above this in the word the tail's
/// consistency check writes: `tail + (records << RECORD_SHIFT)`.
const RECORD_SHIFT: u32 = 40;
const OFFSET_MASK: u64 = (1 << RECORD_SHIFT) - 1;
/// What one record adds to that word besides its length.
const ONE_RECORD: u64 = 1 << RECORD_SHIFT;
/// Record counts are kept modulo this: far more records than a ring holds
/// (at least two bytes each, at most 8 MiB a ring).
pub(crate) const RECORDS_MODULUS: u64 = 1 << (64 - RECORD_SHIFT);

/// Records committed from `earlier` to `later` (counts modulo
/// [`RECORDS_MODULUS`]).
pub(crate) fn records_between(earlier: u32, later: u32) -> u64 {
    u64::from(later.wrapping_sub(earlier)) & (RECORDS_MODULUS - 1)
}

/// Where records first ended in one chunk of offsets; written like the
/// producer line's tail (see [`Ring::snapshot`]).
#[derive(Debug, Default)]
struct ChunkMark {
    end: AtomicU64,
    packed: AtomicU64,
    ticks: AtomicU64,
}

#[derive(Debug, Default)]
#[repr(C)]
struct ProducerLine {
    /// End of the last committed record (or padding).
    tail: AtomicU64,
    /// `tail` and the number of records committed, packed, written before
    /// `tail_ticks`; see [`Ring::snapshot`].
    tail_seq: AtomicU64,
    /// Ticks of the last committed record.
    tail_ticks: AtomicU64,
    /// Where the padding before the most recent lap boundary starts
    /// (`u64::MAX` before the first padding).
    pad_start: AtomicU64,
    /// Events the owner dropped (ring full under [`Overflow::Drop`](crate::Overflow),
    /// or larger than the ring), in total; only the owner writes it.
    dropped: AtomicU64,
    /// Ticks of the latest dropped event.
    dropped_ticks: AtomicU64,
}

#[derive(Debug, Default)]
#[repr(C)]
struct ConsumerLine {
    /// Everything before it has reached the sink: the producer may reuse it.
    head: AtomicU64,
    /// Records before `head`, modulo [`RECORDS_MODULUS`].
    head_records: AtomicU64,
    /// Drops already reported (claimed by the owner or the writer).
    dropped_reported: AtomicU64,
    /// Ticks of the record just before `head`.
    head_ticks: AtomicU64,
}

/// What identifies the ring in its staging file.
#[derive(Debug)]
#[repr(C)]
struct Header {
    magic: AtomicU64,
    capacity: AtomicU64,
    thread_id: AtomicU32,
    name_len: AtomicU16,
    /// The owner's name, for recovery (the writer reads `Ring::owner`).
    name: [AtomicU8; layout::NAME_MAX],
}

/// The start of a ring's memory; in a staging file, the layout
/// `lmlog_format::staging::layout` documents.
#[derive(Debug)]
#[repr(C)]
struct Control {
    producer: CachePadded<ProducerLine>,
    consumer: CachePadded<ConsumerLine>,
    header: CachePadded<Header>,
}

const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(Control, producer) + offset_of!(ProducerLine, tail) == layout::TAIL);
    assert!(offset_of!(Control, producer) + offset_of!(ProducerLine, pad_start) == layout::PAD_START);
    assert!(offset_of!(Control, producer) + offset_of!(ProducerLine, dropped) == layout::DROPPED);
    assert!(offset_of!(Control, consumer) + offset_of!(ConsumerLine, dropped_reported) == layout::DROPPED_REPORTED);
    assert!(offset_of!(Control, consumer) + offset_of!(ConsumerLine, head) == layout::HEAD);
    assert!(offset_of!(Control, consumer) + offset_of!(ConsumerLine, head_ticks) == layout::HEAD_TICKS);
    assert!(offset_of!(Control, header) + offset_of!(Header, magic) == layout::MAGIC);
    assert!(offset_of!(Control, header) + offset_of!(Header, capacity) == layout::CAPACITY);
    assert!(offset_of!(Control, header) + offset_of!(Header, thread_id) == layout::THREAD_ID);
    assert!(offset_of!(Control, header) + offset_of!(Header, name_len) == layout::NAME_LEN);
    assert!(offset_of!(Control, header) + offset_of!(Header, name) == layout::NAME);
    assert!(std::mem::size_of::<Control>() == layout::MARKS);
    assert!(std::mem::size_of::<ChunkMark>() == layout::MARK_LEN);
    assert!(CHUNK == lmlog_format::staging::CHUNK_LEN);
};

/// Where a ring's memory comes from.
enum Memory {
    /// The process's heap.
    Heap { ptr: *mut u8, layout: std::alloc::Layout },
    /// A staging file mapped shared: what is committed outlives the process.
    Mapped { _map: memmap2::MmapMut, path: PathBuf },
}

/// The thread that currently owns a ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub thread_id: u32,
    pub name: Option<String>,
}

/// The producer's private view of its ring.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub tail: u64,
    pub head_cache: u64,
    /// `tail + (records committed << RECORD_SHIFT)`, wrapping: one add per
    /// record keeps both.
    counted: u64,
    /// The tail at which the producer next looks up from the fast path: the
    /// next chunk boundary or half the ring past `head_cache`, whichever
    /// comes first ([`Ring::next_check`]).
    pub next_check: u64,
    /// Where the contiguous free space at the tail ends: the lap's end or
    /// `head_cache + capacity`, whichever comes first. Kept up to date
    /// whenever `tail` crosses a lap or `head_cache` changes, so that
    /// [`Ring::writable`] is one subtraction.
    limit: u64,
}

/// Why a record could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRoom {
    /// The consumer has not freed enough space yet.
    Full,
    /// The record is larger than the whole ring.
    TooBig,
}

/// What one drain saw: the committed range, the ticks of its last record
/// and the number of records before `tail` (modulo [`RECORDS_MODULUS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub tail: u64,
    pub tail_ticks: u64,
    pub records: u32,
}

pub(crate) struct Ring {
    buf: *mut u8,
    capacity: u64,
    ctl: *const Control,
    /// Chunk `n` of offsets (`n * CHUNK ..`) is marked in `marks[n % marks_len]`.
    marks: *const ChunkMark,
    marks_len: u64,
    memory: Memory,
    /// Set by the owner when its thread exits or moves to a bigger ring,
    /// after its last commit.
    closed: AtomicBool,
    /// The owner moved on to a bigger ring: its thread lives on.
    superseded: AtomicBool,
    /// Drained up to here (writer-owned; `head` follows once the sink has it).
    drained: AtomicU64,
    drained_ticks: AtomicU64,
    drained_records: AtomicU64,
    owner: Mutex<Option<Owner>>,
}

// SAFETY: the buffer is only accessed through `writable` (the producer, which
// by construction is one thread at a time: the ring's owner) and `drain` (the
// consumer, one writer thread); the atomics order their disjoint regions. The
// control block and marks are atomics.
unsafe impl Send for Ring {}
// SAFETY: as above.
unsafe impl Sync for Ring {}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("capacity", &self.capacity).field("control", self.ctl()).finish_non_exhaustive()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        match &self.memory {
            // SAFETY: allocated in `Ring::with_memory` with this layout and
            // freed only here; nothing points into it once the ring is dropped.
            Memory::Heap { ptr, layout } => unsafe { std::alloc::dealloc(*ptr, *layout) },
            // Its records have all reached the sink (or the process is
            // going away cleanly): the file is no longer needed.
            Memory::Mapped { path, .. } => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

impl Ring {
    /// A ring of `capacity` bytes (rounded up to a power of two) on the heap.
    pub(crate) fn new(capacity: usize) -> Ring {
        let capacity = (capacity.max(64).next_power_of_two()) as u64;
        let layout = std::alloc::Layout::from_size_align(ring_file_len(capacity), 4096).expect("ring layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `ptr` is a fresh, zeroed, 4096-aligned block of the
        // layout's size, owned by the ring from here on.
        unsafe { Ring::with_memory(ptr, capacity, Memory::Heap { ptr, layout }) }
    }

    /// A ring of `capacity` bytes in a new staging file at `path`
    /// (owner-only), mapped shared, so that its committed records survive
    /// the process.
    pub(crate) fn mapped(capacity: usize, path: PathBuf) -> std::io::Result<Ring> {
        let capacity = (capacity.max(64).next_power_of_two()) as u64;
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        file.set_len(ring_file_len(capacity) as u64)?;
        // SAFETY: the file was just created by this process, owner-only, in
        // a directory only its owner can write; nothing else maps or
        // truncates it while the ring lives.
        let mut map = unsafe { memmap2::MmapOptions::new().populate().map_mut(&file) }?;
        let ptr = map.as_mut_ptr();
        // SAFETY: the mapping is `ring_file_len(capacity)` bytes, zeroed (a
        // new file), page-aligned, and lives as long as the ring.
        Ok(unsafe { Ring::with_memory(ptr, capacity, Memory::Mapped { _map: map, path }) })
    }

    /// # Safety
    /// `ptr` points to `ring_file_len(capacity)` zeroed, 4096-aligned bytes
    /// that `memory` keeps alive until the ring is dropped.
    unsafe fn with_memory(ptr: *mut u8, capacity: u64, memory: Memory) -> Ring {
        let data = ring_data_offset(capacity);
        // Zeroed memory is mapped lazily: without touching every page now,
        // the first lap would take a page fault (~1 µs) every 4 KiB of
        // records, in the calling thread.
        for page in (0..ring_file_len(capacity)).step_by(4096) {
            // SAFETY: `page` is inside the block; a volatile store is used
            // only so the compiler cannot drop a store of the value the
            // memory already holds.
            unsafe { std::ptr::write_volatile(ptr.add(page), 0) };
        }
        let ctl = ptr as *const Control;
        // SAFETY: all-zero bytes are a valid `Control` (atomics) and
        // `ChunkMark`s; the block is aligned for both and large enough.
        let ring = Ring {
            // SAFETY: `data < ring_file_len(capacity)`.
            buf: unsafe { ptr.add(data) },
            capacity,
            ctl,
            // SAFETY: the marks start at `layout::MARKS`, inside the block.
            marks: unsafe { ptr.add(layout::MARKS) } as *const ChunkMark,
            marks_len: (capacity / CHUNK).max(1),
            memory,
            closed: AtomicBool::new(false),
            superseded: AtomicBool::new(false),
            drained: AtomicU64::new(0),
            drained_ticks: AtomicU64::new(0),
            drained_records: AtomicU64::new(0),
            owner: Mutex::new(None),
        };
        let control = ring.ctl();
        // No padding yet: a value no position can equal.
        control.producer.0.pad_start.store(u64::MAX, Ordering::Relaxed);
        control.header.0.capacity.store(capacity, Ordering::Relaxed);
        control.header.0.magic.store(RING_MAGIC, Ordering::Release);
        ring
    }

    #[inline(always)]
    fn ctl(&self) -> &Control {
        // SAFETY: `ctl` points to the start of the ring's memory, which
        // holds a `Control` and lives as long as `self`.
        unsafe { &*self.ctl }
    }

    #[inline(always)]
    fn mark(&self, chunk: u64) -> &ChunkMark {
        // SAFETY: the index is below `marks_len`, the number of marks in
        // the ring's memory.
        unsafe { &*self.marks.add((chunk % self.marks_len) as usize) }
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Hands the ring to a new producer thread. The ring must be fully drained.
    pub(crate) fn adopt(&self, owner: Owner) -> (Cursor, u64) {
        let header = &self.ctl().header.0;
        header.thread_id.store(owner.thread_id, Ordering::Relaxed);
        let name = owner.name.as_deref().unwrap_or("").as_bytes();
        let mut len = name.len().min(layout::NAME_MAX);
        while std::str::from_utf8(&name[..len]).is_err() {
            len -= 1;
        }
        for (slot, byte) in header.name.iter().zip(&name[..len]) {
            slot.store(*byte, Ordering::Relaxed);
        }
        header.name_len.store(len as u16, Ordering::Relaxed);
        *self.owner.lock().unwrap_or_else(|p| p.into_inner()) = Some(owner);
        self.closed.store(false, Ordering::Relaxed);
        self.superseded.store(false, Ordering::Relaxed);
        let line = &self.ctl().producer.0;
        let tail = line.tail.load(Ordering::Relaxed);
        let ticks = line.tail_ticks.load(Ordering::Relaxed);
        let counted = line.tail_seq.load(Ordering::Relaxed);
        let mut cursor = Cursor {
            tail,
            head_cache: self.ctl().consumer.0.head.load(Ordering::Acquire),
            counted,
            next_check: 0,
            limit: 0,
        };
        let head = cursor.head_cache;
        self.set_head_cache(&mut cursor, head);
        (cursor, ticks)
    }

    pub(crate) fn owner(&self) -> Option<Owner> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn thread_id(&self) -> u32 {
        self.ctl().header.0.thread_id.load(Ordering::Relaxed)
    }

    /// The contiguous free space at the producer's tail.
    ///
    /// # Safety
    /// Only the ring's owner thread may call this, and it must not hold two
    /// returned slices at once.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn writable(&self, cursor: &Cursor) -> &mut [u8] {
        let physical = cursor.tail & (self.capacity - 1);
        let len = cursor.limit - cursor.tail;
        // SAFETY: `[tail, limit)` is free (`limit <= head + capacity`: the
        // consumer reads only `[head, tail)`, and the caller is the only
        // producer) and within one lap (`limit` <= the lap's end), so
        // `physical + len <= capacity`.
        unsafe { std::slice::from_raw_parts_mut(self.buf.add(physical as usize), len as usize) }
    }

    /// Sets the producer's copy of the consumer's head, and what depends on
    /// it and on the tail.
    fn set_head_cache(&self, cursor: &mut Cursor, head: u64) {
        cursor.head_cache = head;
        let lap_end = (cursor.tail | (self.capacity - 1)) + 1;
        cursor.limit = lap_end.min(head + self.capacity);
        cursor.next_check = self.next_check(cursor);
    }

    /// Publishes one record of `len` bytes written at the tail, taken at
    /// `ticks`. Returns true when the tail reached `cursor.next_check`: the
    /// producer then checks how full the ring is and calls
    /// [`next_check`](Self::next_check) (a chunk mark, if the record ended in
    /// a new chunk, is already written).
    #[inline(always)]
    pub(crate) fn commit(&self, cursor: &mut Cursor, len: usize, ticks: u64) -> bool {
        let start = cursor.tail;
        cursor.tail += len as u64;
        cursor.counted = cursor.counted.wrapping_add(len as u64 + ONE_RECORD);
        let check = cursor.tail >= cursor.next_check;
        if check {
            self.mark_if_new_chunk(start, cursor, ticks);
        }
        self.publish(cursor, ticks);
        check
    }

    /// The tail at which the producer next leaves the fast path.
    pub(crate) fn next_check(&self, cursor: &Cursor) -> u64 {
        let next_chunk = (cursor.tail | (CHUNK - 1)) + 1;
        next_chunk.min(cursor.head_cache + self.capacity / 2 + 1)
    }

    /// Publishes the cursor's tail (records or padding) and its count.
    #[inline(always)]
    fn publish(&self, cursor: &Cursor, ticks: u64) {
        let line = &self.ctl().producer.0;
        line.tail_seq.store(cursor.counted, Ordering::Relaxed);
        fence(Ordering::Release);
        line.tail_ticks.store(ticks, Ordering::Relaxed);
        // No software prefetch ahead of the tail: on the machine the
        // benchmarks run on it cost 0.3–0.6 ns a record and did not change
        // the paced tail (BENCHMARKS.md); the hardware prefetcher follows
        // the sequential writes.
        line.tail.store(cursor.tail, Ordering::Release);
    }

    /// Marks where the chunk the tail entered starts, if the bytes from
    /// `start` crossed into a new one; before the tail that reveals them.
    #[cold]
    #[inline(never)]
    fn mark_if_new_chunk(&self, start: u64, cursor: &Cursor, ticks: u64) {
        if (start ^ cursor.tail) >> CHUNK_SHIFT == 0 {
            return;
        }
        let mark = self.mark(cursor.tail >> CHUNK_SHIFT);
        mark.packed.store(cursor.counted, Ordering::Relaxed);
        fence(Ordering::Release);
        mark.ticks.store(ticks, Ordering::Relaxed);
        mark.end.store(cursor.tail, Ordering::Release);
    }

    /// Counts an event taken at `ticks` that the owner could not place.
    #[cold]
    pub(crate) fn count_dropped(&self, ticks: u64) {
        let line = &self.ctl().producer.0;
        line.dropped_ticks.store(ticks, Ordering::Relaxed);
        line.dropped.store(line.dropped.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Ticks of the latest event the owner dropped.
    pub(crate) fn dropped_ticks(&self) -> u64 {
        self.ctl().producer.0.dropped_ticks.load(Ordering::Relaxed)
    }

    /// Drops not yet reported: `(reported, total)`. Either side may report
    /// them, the owner in its next record or the writer after a drain, by
    /// [`claim_drops`](Self::claim_drops).
    pub(crate) fn unreported_drops(&self) -> (u64, u64) {
        let reported = self.ctl().consumer.0.dropped_reported.load(Ordering::Acquire);
        (reported, self.ctl().producer.0.dropped.load(Ordering::Relaxed))
    }

    /// Claims the drops from `reported` to `total` for one report; false if
    /// the other side claimed some first.
    pub(crate) fn claim_drops(&self, reported: u64, total: u64) -> bool {
        self.ctl()
            .consumer
            .0
            .dropped_reported
            .compare_exchange(reported, total, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Called after a record did not fit in [`Ring::writable`]: skips to the
    /// next lap or refreshes the consumer's head. `Ok` means try again.
    #[cold]
    pub(crate) fn make_room(&self, cursor: &mut Cursor) -> Result<(), NoRoom> {
        let mask = self.capacity - 1;
        if ((cursor.tail | mask) + 1).min(cursor.head_cache + self.capacity) > cursor.limit {
            // Records ended exactly at the lap's end: the next lap's space.
            let head = cursor.head_cache;
            self.set_head_cache(cursor, head);
            return Ok(());
        }
        let physical = cursor.tail & mask;
        let contiguous = self.capacity - physical;
        let free = cursor.head_cache + self.capacity - cursor.tail;
        if contiguous <= free && physical != 0 {
            // The record was cut short by the physical end: pad to the next lap.
            let line = &self.ctl().producer.0;
            line.pad_start.store(cursor.tail, Ordering::Relaxed);
            let ticks = line.tail_ticks.load(Ordering::Relaxed);
            let start = cursor.tail;
            cursor.tail += contiguous;
            cursor.counted = cursor.counted.wrapping_add(contiguous);
            self.mark_if_new_chunk(start, cursor, ticks);
            self.publish(cursor, ticks);
            let head = cursor.head_cache;
            self.set_head_cache(cursor, head);
            return Ok(());
        }
        if physical == 0 && free == self.capacity {
            return Err(NoRoom::TooBig);
        }
        let head = self.ctl().consumer.0.head.load(Ordering::Acquire);
        if head != cursor.head_cache {
            self.set_head_cache(cursor, head);
            return Ok(());
        }
        Err(NoRoom::Full)
    }

    /// Re-reads the consumer's head; returns the bytes still in the ring.
    pub(crate) fn refresh_head(&self, cursor: &mut Cursor) -> u64 {
        self.set_head_cache(cursor, self.ctl().consumer.0.head.load(Ordering::Acquire));
        cursor.tail - cursor.head_cache
    }

    /// Marks the ring as abandoned by its thread (after its last commit).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Marks the ring as left for a bigger one by its thread (after its
    /// last commit here).
    pub(crate) fn supersede(&self) {
        self.superseded.store(true, Ordering::Relaxed);
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the owner left for a bigger ring rather than exiting.
    pub(crate) fn is_superseded(&self) -> bool {
        self.superseded.load(Ordering::Acquire)
    }

    /// Whether the owner has exited (or moved to a bigger ring).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// A consistent reading of the tail, its ticks and record count.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let line = &self.ctl().producer.0;
        read_consistent(&line.tail, &line.tail_ticks, &line.tail_seq)
    }

    /// Where the writer's next drain starts: the end of what it drained,
    /// the ticks of the record before it and the records before it.
    pub(crate) fn drained(&self) -> Snapshot {
        Snapshot {
            tail: self.drained.load(Ordering::Relaxed),
            tail_ticks: self.drained_ticks.load(Ordering::Relaxed),
            records: self.drained_records.load(Ordering::Relaxed) as u32,
        }
    }

    /// Hands what was drained back to the producer, once the sink has it
    /// (or its loss is counted): until then a process death leaves it in
    /// the staging file for recovery.
    pub(crate) fn release(&self) {
        let consumer = &self.ctl().consumer.0;
        let drained = self.drained();
        consumer.head_ticks.store(drained.tail_ticks, Ordering::Relaxed);
        consumer.head_records.store(u64::from(drained.records), Ordering::Relaxed);
        consumer.head.store(drained.tail, Ordering::Release);
    }

    /// Records before the producer's head.
    pub(crate) fn released_records(&self) -> u32 {
        self.ctl().consumer.0.head_records.load(Ordering::Relaxed) as u32
    }

    /// The producer's head: everything before it was released.
    pub(crate) fn released(&self) -> u64 {
        self.ctl().consumer.0.head.load(Ordering::Relaxed)
    }

    /// Cuts `[head, snapshot.tail)` into chunks of about [`CHUNK`] bytes at
    /// record boundaries: appends to `out` the end of each (the last is
    /// `snapshot` itself). Read before draining: a mark the producer may
    /// overwrite (one lap on) is recognised and skipped, which only makes
    /// that chunk longer.
    pub(crate) fn chunks(&self, snapshot: Snapshot, out: &mut Vec<Snapshot>) {
        let head = self.drained.load(Ordering::Relaxed);
        if snapshot.tail > head {
            for chunk in (head >> CHUNK_SHIFT) + 1..=snapshot.tail >> CHUNK_SHIFT {
                let mark = self.mark(chunk);
                let end = read_consistent(&mark.end, &mark.ticks, &mark.packed);
                if end.tail >> CHUNK_SHIFT == chunk && end.tail > head && end.tail < snapshot.tail {
                    out.push(end);
                }
            }
        }
        out.push(snapshot);
    }

    /// Passes the committed bytes `[drained, snapshot.tail)` to `sink` in
    /// at most two slices, without the padding; [`release`](Self::release)
    /// frees them.
    ///
    /// Only the writer thread may call this.
    pub(crate) fn drain(&self, snapshot: Snapshot, mut sink: impl FnMut(&[u8])) {
        let mask = self.capacity - 1;
        let mut pos = self.drained.load(Ordering::Relaxed);
        while pos < snapshot.tail {
            let lap_end = (pos | mask) + 1;
            let end = if snapshot.tail < lap_end {
                snapshot.tail
            } else {
                let pad = self.ctl().producer.0.pad_start.load(Ordering::Relaxed);
                if pad >= pos && pad < lap_end {
                    pad
                } else {
                    lap_end
                }
            };
            // SAFETY: `[pos, end)` lies within one lap and below the tail the
            // producer published with Release (we loaded it with Acquire), so
            // the bytes are initialised and the producer will not touch them
            // until `release` moves `head` past them.
            let bytes =
                unsafe { std::slice::from_raw_parts(self.buf.add((pos & mask) as usize), (end - pos) as usize) };
            if !bytes.is_empty() {
                sink(bytes);
            }
            pos = if end == snapshot.tail { end } else { lap_end };
        }
        self.drained_ticks.store(snapshot.tail_ticks, Ordering::Relaxed);
        self.drained_records.store(u64::from(snapshot.records), Ordering::Relaxed);
        self.drained.store(snapshot.tail, Ordering::Relaxed);
    }
}

/// Reads an `(offset, ticks, packed)` triple written as [`Ring::publish`]
/// writes the tail: `packed` first, then `ticks`, then `offset` with
/// Release. If `ticks` came from a later write, that write's `packed` store
/// is visible after the Acquire fence and no longer matches `offset`.
fn read_consistent(offset: &AtomicU64, ticks: &AtomicU64, packed: &AtomicU64) -> Snapshot {
    loop {
        let tail = offset.load(Ordering::Acquire);
        let tail_ticks = ticks.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let counted = packed.load(Ordering::Relaxed).wrapping_sub(tail);
        if counted & OFFSET_MASK == 0 {
            return Snapshot { tail, tail_ticks, records: (counted >> RECORD_SHIFT) as u32 };
        }
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Writes `count` variable-length records `[len, seq bytes...]` from a
    /// producer thread and checks the consumer sees them all, in order,
    /// intact, across many wraps.
    fn stress(capacity: usize, count: u32) {
        let ring = Arc::new(Ring::new(capacity));
        let producer_ring = ring.clone();
        let producer = std::thread::spawn(move || {
            let (mut cursor, _) = producer_ring.adopt(Owner { thread_id: 1, name: None });
            for seq in 0..count {
                let len = 1 + (seq % 23) as usize;
                loop {
                    // SAFETY: this thread is the ring's only producer.
                    let region = unsafe { producer_ring.writable(&cursor) };
                    if region.len() > len {
                        region[0] = len as u8;
                        for b in &mut region[1..=len] {
                            *b = seq as u8;
                        }
                        if producer_ring.commit(&mut cursor, len + 1, seq as u64) {
                            cursor.next_check = producer_ring.next_check(&cursor);
                        }
                        break;
                    }
                    match producer_ring.make_room(&mut cursor) {
                        Ok(()) => {}
                        Err(NoRoom::Full) => std::thread::yield_now(),
                        Err(NoRoom::TooBig) => panic!("record of {len} bytes too big"),
                    }
                }
            }
            producer_ring.close();
        });
        let mut expected = 0u32;
        let mut pending = Vec::new();
        loop {
            let closed = ring.is_closed();
            let snapshot = ring.snapshot();
            // Drained chunk by chunk: each chunk ends at a record boundary
            // and carries the count of records before it.
            let mut ends = Vec::new();
            ring.chunks(snapshot, &mut ends);
            for end in ends {
                ring.drain(end, |bytes| pending.extend_from_slice(bytes));
                let mut i = 0;
                while i < pending.len() {
                    let len = pending[i] as usize;
                    assert_eq!(len, 1 + (expected % 23) as usize, "record {expected}");
                    assert!(pending[i + 1..=i + len].iter().all(|&b| b == expected as u8));
                    i += len + 1;
                    expected += 1;
                }
                assert_eq!(i, pending.len(), "a chunk ends inside a record");
                assert_eq!(u64::from(end.records), u64::from(expected) % RECORDS_MODULUS);
                pending.clear();
            }
            ring.release();
            if expected > 0 && snapshot.tail_ticks != u64::from(expected - 1) {
                panic!("snapshot ticks {} after record {}", snapshot.tail_ticks, expected - 1);
            }
            if closed && ring.snapshot() == snapshot {
                break;
            }
            std::thread::yield_now();
        }
        producer.join().unwrap();
        assert_eq!(expected, count);
    }

    #[test]
    fn spsc_stress_small_ring() {
        stress(64, 20_000);
    }

    #[test]
    fn spsc_stress_larger_ring() {
        stress(4096, 100_000);
    }

    #[test]
    fn spsc_stress_ring_of_several_chunks() {
        stress(4 * CHUNK as usize, 300_000);
    }

    #[test]
    fn too_big_is_reported() {
        let ring = Ring::new(64);
        let (mut cursor, _) = ring.adopt(Owner { thread_id: 1, name: None });
        // SAFETY: single-threaded test; this is the only producer.
        assert_eq!(unsafe { ring.writable(&cursor) }.len(), 64);
        assert_eq!(ring.make_room(&mut cursor), Err(NoRoom::TooBig));
    }
}
