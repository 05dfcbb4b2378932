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

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

/// Keeps a value on its own cache lines (128 bytes covers adjacent-line
/// prefetching on x86).
#[repr(align(128))]
#[derive(Debug, Default)]
struct CachePadded<T>(T);

#[derive(Debug, Default)]
struct ProducerLine {
    /// End of the last committed record (or padding).
    tail: AtomicU64,
    /// Copy of `tail` written before `tail_ticks`; see [`Ring::snapshot`].
    tail_seq: AtomicU64,
    /// Ticks of the last committed record.
    tail_ticks: AtomicU64,
    /// Where the padding before the most recent lap boundary starts
    /// (`u64::MAX` before the first padding).
    pad_start: AtomicU64,
}

#[derive(Debug, Default)]
struct ConsumerLine {
    /// Everything before it has been copied out.
    head: AtomicU64,
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
}

/// Why a record could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRoom {
    /// The consumer has not freed enough space yet.
    Full,
    /// The record is larger than the whole ring.
    TooBig,
}

/// What one drain saw: the committed range and the ticks of its last record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub tail: u64,
    pub tail_ticks: u64,
}

pub(crate) struct Ring {
    buf: *mut u8,
    capacity: u64,
    producer: CachePadded<ProducerLine>,
    consumer: CachePadded<ConsumerLine>,
    /// Set by the owner when its thread exits, after its last commit.
    closed: AtomicBool,
    /// Ticks of the record just before `head` (consumer-owned).
    head_ticks: AtomicU64,
    thread_id: AtomicU32,
    owner: Mutex<Option<Owner>>,
}

// SAFETY: the buffer is only accessed through `writable` (the producer, which
// by construction is one thread at a time: the ring's owner) and `drain` (the
// consumer, one writer thread); the atomics order their disjoint regions.
unsafe impl Send for Ring {}
// SAFETY: as above.
unsafe impl Sync for Ring {}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity)
            .field("producer", &self.producer)
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `buf` came from `Box::into_raw` of a slice of `capacity`
        // bytes in `Ring::new` and is freed only here.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.buf, self.capacity as usize)) });
    }
}

impl Ring {
    /// A ring of `capacity` bytes, rounded up to a power of two.
    pub(crate) fn new(capacity: usize) -> Ring {
        let capacity = capacity.max(64).next_power_of_two();
        let mut bytes = vec![0u8; capacity].into_boxed_slice();
        // The zeroed allocation is mapped lazily: without touching every page
        // now, the first lap would take a page fault (~1 µs) every 4 KiB of
        // records, in the calling thread.
        for page in bytes.chunks_mut(4096) {
            // SAFETY: `page` is a valid, exclusive, non-empty slice; a volatile
            // store is used only so the compiler cannot drop a store of the
            // value the allocation already holds.
            unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 0) };
        }
        let buf = Box::into_raw(bytes) as *mut u8;
        Ring {
            buf,
            capacity: capacity as u64,
            // No padding yet: a value no position can equal.
            producer: CachePadded(ProducerLine { pad_start: AtomicU64::new(u64::MAX), ..ProducerLine::default() }),
            consumer: CachePadded::default(),
            closed: AtomicBool::new(false),
            head_ticks: AtomicU64::new(0),
            thread_id: AtomicU32::new(0),
            owner: Mutex::new(None),
        }
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Hands the ring to a new producer thread. The ring must be fully drained.
    pub(crate) fn adopt(&self, owner: Owner) -> (Cursor, u64) {
        self.thread_id.store(owner.thread_id, Ordering::Relaxed);
        *self.owner.lock().unwrap_or_else(|p| p.into_inner()) = Some(owner);
        self.closed.store(false, Ordering::Relaxed);
        let tail = self.producer.0.tail.load(Ordering::Relaxed);
        let ticks = self.producer.0.tail_ticks.load(Ordering::Relaxed);
        (Cursor { tail, head_cache: self.consumer.0.head.load(Ordering::Acquire) }, ticks)
    }

    pub(crate) fn owner(&self) -> Option<Owner> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn thread_id(&self) -> u32 {
        self.thread_id.load(Ordering::Relaxed)
    }

    /// The contiguous free space at the producer's tail.
    ///
    /// # Safety
    /// Only the ring's owner thread may call this, and it must not hold two
    /// returned slices at once.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn writable(&self, cursor: &Cursor) -> &mut [u8] {
        let mask = self.capacity - 1;
        let physical = cursor.tail & mask;
        let free = cursor.head_cache + self.capacity - cursor.tail;
        let len = (self.capacity - physical).min(free);
        // SAFETY: `[tail, head + capacity)` is free: the consumer reads only
        // `[head, tail)` and the caller is the only producer. `physical + len`
        // never exceeds `capacity`.
        unsafe { std::slice::from_raw_parts_mut(self.buf.add(physical as usize), len as usize) }
    }

    /// Publishes `len` bytes written at the tail as committed records, the
    /// last of which was taken at `ticks`.
    #[inline(always)]
    pub(crate) fn commit(&self, cursor: &mut Cursor, len: usize, ticks: u64) {
        cursor.tail += len as u64;
        let line = &self.producer.0;
        line.tail_seq.store(cursor.tail, Ordering::Relaxed);
        fence(Ordering::Release);
        line.tail_ticks.store(ticks, Ordering::Relaxed);
        line.tail.store(cursor.tail, Ordering::Release);
        self.prefetch_ahead(cursor.tail);
    }

    /// Asks for the cache line a few records ahead of the tail, for writing,
    /// so the next records do not wait for it: the writer has read it since
    /// the last lap, or it has left the cache.
    #[inline(always)]
    fn prefetch_ahead(&self, tail: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            const AHEAD: u64 = 4 * 64;
            let physical = (tail + AHEAD) & (self.capacity - 1);
            // SAFETY: `physical < capacity`, so the address is inside the
            // buffer; a prefetch has no architectural effect and never faults.
            unsafe {
                use core::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
                _mm_prefetch::<_MM_HINT_ET0>(self.buf.add(physical as usize) as *const i8);
            }
        }
    }

    /// Called after a record did not fit in [`Ring::writable`]: skips to the
    /// next lap or refreshes the consumer's head. `Ok` means try again.
    #[cold]
    pub(crate) fn make_room(&self, cursor: &mut Cursor) -> Result<(), NoRoom> {
        let mask = self.capacity - 1;
        let physical = cursor.tail & mask;
        let contiguous = self.capacity - physical;
        let free = cursor.head_cache + self.capacity - cursor.tail;
        if contiguous <= free && physical != 0 {
            // The record was cut short by the physical end: pad to the next lap.
            let line = &self.producer.0;
            line.pad_start.store(cursor.tail, Ordering::Relaxed);
            let ticks = line.tail_ticks.load(Ordering::Relaxed);
            self.commit(cursor, contiguous as usize, ticks);
            return Ok(());
        }
        if physical == 0 && free == self.capacity {
            return Err(NoRoom::TooBig);
        }
        let head = self.consumer.0.head.load(Ordering::Acquire);
        if head != cursor.head_cache {
            cursor.head_cache = head;
            return Ok(());
        }
        Err(NoRoom::Full)
    }

    /// Re-reads the consumer's head; returns the bytes still in the ring.
    pub(crate) fn refresh_head(&self, cursor: &mut Cursor) -> u64 {
        cursor.head_cache = self.consumer.0.head.load(Ordering::Acquire);
        cursor.tail - cursor.head_cache
    }

    /// Marks the ring as abandoned by its thread (after its last commit).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the owner has exited.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// A consistent reading of the tail and its ticks.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let line = &self.producer.0;
        loop {
            let tail = line.tail.load(Ordering::Acquire);
            let tail_ticks = line.tail_ticks.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            // If `tail_ticks` came from a later commit, that commit's
            // `tail_seq` store is visible here and differs from `tail`.
            if line.tail_seq.load(Ordering::Relaxed) == tail {
                return Snapshot { tail, tail_ticks };
            }
            std::hint::spin_loop();
        }
    }

    /// The consumer's head and the ticks of the record before it.
    pub(crate) fn head(&self) -> (u64, u64) {
        (self.consumer.0.head.load(Ordering::Relaxed), self.head_ticks.load(Ordering::Relaxed))
    }

    /// Passes the committed bytes `[head, snapshot.tail)` to `sink` in at
    /// most two slices, without the padding, then frees them.
    ///
    /// Only the writer thread may call this.
    pub(crate) fn drain(&self, snapshot: Snapshot, mut sink: impl FnMut(&[u8])) {
        let mask = self.capacity - 1;
        let mut pos = self.consumer.0.head.load(Ordering::Relaxed);
        while pos < snapshot.tail {
            let lap_end = (pos | mask) + 1;
            let end = if snapshot.tail < lap_end {
                snapshot.tail
            } else {
                let pad = self.producer.0.pad_start.load(Ordering::Relaxed);
                if pad >= pos && pad < lap_end {
                    pad
                } else {
                    lap_end
                }
            };
            // SAFETY: `[pos, end)` lies within one lap and below the tail the
            // producer published with Release (we loaded it with Acquire), so
            // the bytes are initialised and the producer will not touch them
            // until `head` moves past them below.
            let bytes =
                unsafe { std::slice::from_raw_parts(self.buf.add((pos & mask) as usize), (end - pos) as usize) };
            if !bytes.is_empty() {
                sink(bytes);
            }
            pos = if end == snapshot.tail { end } else { lap_end };
        }
        self.head_ticks.store(snapshot.tail_ticks, Ordering::Relaxed);
        self.consumer.0.head.store(snapshot.tail, Ordering::Release);
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
                        producer_ring.commit(&mut cursor, len + 1, seq as u64);
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
            ring.drain(snapshot, |bytes| pending.extend_from_slice(bytes));
            let mut i = 0;
            while i < pending.len() {
                let len = pending[i] as usize;
                assert_eq!(len, 1 + (expected % 23) as usize, "record {expected}");
                assert!(pending[i + 1..=i + len].iter().all(|&b| b == expected as u8));
                i += len + 1;
                expected += 1;
            }
            pending.clear();
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
    fn too_big_is_reported() {
        let ring = Ring::new(64);
        let (mut cursor, _) = ring.adopt(Owner { thread_id: 1, name: None });
        // SAFETY: single-threaded test; this is the only producer.
        assert_eq!(unsafe { ring.writable(&cursor) }.len(), 64);
        assert_eq!(ring.make_room(&mut cursor), Err(NoRoom::TooBig));
    }
}
