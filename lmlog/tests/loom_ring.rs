//! A `loom` model of the staging ring's protocol (`src/ring.rs`): the
//! producer's commit (record bytes, then the packed `tail_seq`, a Release
//! fence, `tail_ticks`, and `tail` with Release), the writer's consistent
//! snapshot, drain and later release of `head`, the producer reusing space
//! only below the released `head`, and the drop count both sides claim by
//! compare-and-swap. loom runs every interleaving its memory model allows
//! and fails on a data race on the ring's bytes, so the model checks that
//! the writer never reads a byte the producer has not finished (or is
//! rewriting), that a snapshot's ticks belong to its tail, and that every
//! drop is reported exactly once.
//!
//! The model mirrors the ring's orderings one for one, on a ring of a few
//! bytes; keep it in step with `src/ring.rs`. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p lmlog --test loom_ring --release`.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;

const CAPACITY: u64 = 2;
const RECORD_SHIFT: u32 = 40;
const OFFSET_MASK: u64 = (1 << RECORD_SHIFT) - 1;

/// Explores interleavings with up to three preemptions (loom's advice for
/// models with spin loops: the full space does not finish).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

struct Ring {
    bytes: [UnsafeCell<u8>; CAPACITY as usize],
    tail: AtomicU64,
    tail_seq: AtomicU64,
    tail_ticks: AtomicU64,
    head: AtomicU64,
    dropped: AtomicU64,
    dropped_reported: AtomicU64,
}

struct Snapshot {
    tail: u64,
    ticks: u64,
    records: u64,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            bytes: std::array::from_fn(|_| UnsafeCell::new(0)),
            tail: AtomicU64::new(0),
            tail_seq: AtomicU64::new(0),
            tail_ticks: AtomicU64::new(0),
            head: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            dropped_reported: AtomicU64::new(0),
        }
    }

    /// `Ring::commit`/`publish`: one record of one byte, `value`, whose
    /// ticks are `value` too (so a snapshot can check them).
    fn commit(&self, tail: &mut u64, counted: &mut u64, value: u8) {
        let pos = (*tail % CAPACITY) as usize;
        self.bytes[pos].with_mut(|b| unsafe { *b = value });
        *tail += 1;
        *counted = counted.wrapping_add(1 + (1 << RECORD_SHIFT));
        self.tail_seq.store(*counted, Ordering::Relaxed);
        fence(Ordering::Release);
        self.tail_ticks.store(u64::from(value), Ordering::Relaxed);
        self.tail.store(*tail, Ordering::Release);
    }

    /// `Ring::make_room`'s refresh of the released head.
    fn has_room(&self, tail: u64) -> bool {
        tail < self.head.load(Ordering::Acquire) + CAPACITY
    }

    /// `read_consistent`.
    fn snapshot(&self) -> Snapshot {
        loop {
            let tail = self.tail.load(Ordering::Acquire);
            let ticks = self.tail_ticks.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            let counted = self.tail_seq.load(Ordering::Relaxed).wrapping_sub(tail);
            if counted & OFFSET_MASK == 0 {
                return Snapshot { tail, ticks, records: counted >> RECORD_SHIFT };
            }
            thread::yield_now();
        }
    }

    /// `Ring::drain` then `Ring::release` (after the sink took the bytes).
    fn drain_and_release(&self, drained: &mut u64, out: &mut Vec<u8>) -> Snapshot {
        let snapshot = self.snapshot();
        while *drained < snapshot.tail {
            out.push(self.bytes[(*drained % CAPACITY) as usize].with(|b| unsafe { *b }));
            *drained += 1;
        }
        self.head.store(*drained, Ordering::Release);
        snapshot
    }

    /// `unreported_drops` + `claim_drops`: returns the drops this side reports.
    fn claim(&self) -> u64 {
        loop {
            let reported = self.dropped_reported.load(Ordering::Acquire);
            let total = self.dropped.load(Ordering::Relaxed);
            if total <= reported {
                return 0;
            }
            if self.dropped_reported.compare_exchange(reported, total, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return total - reported;
            }
        }
    }
}

/// Three one-byte records through a two-byte ring: the producer reuses
/// space only once it is released, the writer sees whole records in order
/// with the ticks and count of its snapshot's tail.
#[test]
fn records_pass_in_order_and_space_is_reused_only_after_release() {
    model(|| {
        let ring = Arc::new(Ring::new());
        let producer = {
            let ring = ring.clone();
            thread::spawn(move || {
                let (mut tail, mut counted) = (0, 0);
                for value in 1..=3u8 {
                    while !ring.has_room(tail) {
                        thread::yield_now();
                    }
                    ring.commit(&mut tail, &mut counted, value);
                }
            })
        };
        let (mut drained, mut out) = (0, Vec::new());
        while out.len() < 3 {
            let snapshot = ring.drain_and_release(&mut drained, &mut out);
            assert_eq!(snapshot.records, snapshot.tail, "one record per byte");
            if snapshot.tail > 0 {
                assert_eq!(snapshot.ticks, snapshot.tail, "the ticks of the record at the tail");
            }
            thread::yield_now();
        }
        producer.join().unwrap();
        assert_eq!(out, [1, 2, 3]);
    });
}

/// Drops counted by the owner are reported once, by whichever side claims
/// them: the owner before its next record or the writer after a drain.
#[test]
fn every_drop_is_claimed_exactly_once() {
    model(|| {
        let ring = Arc::new(Ring::new());
        let owner = {
            let ring = ring.clone();
            thread::spawn(move || {
                let mut reported = 0;
                for _ in 0..2 {
                    let dropped = &ring.dropped;
                    dropped.store(dropped.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                    reported += ring.claim();
                }
                reported
            })
        };
        let by_writer = ring.claim();
        let by_owner = owner.join().unwrap();
        let late = ring.claim();
        assert_eq!(by_writer + by_owner + late, 2);
    });
}
