//! The calling thread's side: encode one record into this thread's ring.
//!
//! Per event this is a clock read, an optional trace-context read, and a
//! copy of the fields into memory only this thread writes. No locks, no
//! allocation, no shared cache line is written.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lmlog_format::frame::{DROP_REPORT_ID, RECORD_HAS_TRACE};

use crate::config::Overflow;
use crate::event::LogEvent;
use crate::ring::{Cursor, NoRoom, Owner, Ring};
use crate::value::Encoder;
use crate::{clock, runtime};

/// Rings with an owner or still holding records; the writer drains these.
pub(crate) static ACTIVE_RINGS: Mutex<Vec<Arc<Ring>>> = Mutex::new(Vec::new());
/// Drained rings of exited threads, reused by new threads.
pub(crate) static RING_POOL: Mutex<Vec<Arc<Ring>>> = Mutex::new(Vec::new());
/// Events that could not even be counted in a ring (emitted during thread
/// teardown or re-entrantly from inside an encoder); the writer reports them.
pub(crate) static LOST_EVENTS: AtomicU64 = AtomicU64::new(0);
static NEXT_THREAD_ID: AtomicU32 = AtomicU32::new(1);

struct Producer {
    ring: Arc<Ring>,
    cursor: Cursor,
    last_ticks: u64,
    /// Events dropped since the last drop report.
    dropped: u64,
    /// The writer has been woken for the current fill of the ring.
    woke_writer: bool,
}

thread_local! {
    static PRODUCER: RefCell<Option<Producer>> = const { RefCell::new(None) };
}

/// Writes one record for call site `id`.
#[inline(always)]
pub(crate) fn write_event<E: LogEvent>(id: u32, event: &E) {
    let written = PRODUCER.try_with(|slot| match slot.try_borrow_mut() {
        Ok(mut slot) => {
            let producer = match &mut *slot {
                Some(p) => p,
                None => slot.insert(Producer::acquire()),
            };
            producer.write(id, event);
            true
        }
        Err(_) => false,
    });
    if written != Ok(true) {
        LOST_EVENTS.fetch_add(1, Ordering::Relaxed);
    }
}

impl Producer {
    #[cold]
    fn acquire() -> Producer {
        let thread = std::thread::current();
        let owner = Owner {
            thread_id: NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed),
            name: thread.name().map(str::to_string),
        };
        let pooled = RING_POOL.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let capacity = runtime::buffer_capacity();
        let ring = match pooled {
            Some(ring) if ring.capacity() == capacity as u64 => ring,
            _ => Arc::new(Ring::new(capacity)),
        };
        let (cursor, last_ticks) = ring.adopt(owner);
        ACTIVE_RINGS.lock().unwrap_or_else(|p| p.into_inner()).push(ring.clone());
        Producer { ring, cursor, last_ticks, dropped: 0, woke_writer: false }
    }

    #[inline(always)]
    fn write<E: LogEvent>(&mut self, id: u32, event: &E) {
        let ticks = clock::now();
        #[cfg(feature = "otel")]
        let trace = crate::trace::current();
        #[cfg(not(feature = "otel"))]
        let trace: Option<[u8; lmlog_format::frame::TRACE_CONTEXT_LEN]> = None;
        if self.dropped != 0 {
            self.write_drop_report(ticks);
        }
        let header = (u64::from(id) << 1) | if trace.is_some() { RECORD_HAS_TRACE } else { 0 };
        loop {
            // SAFETY: this thread owns the ring (it is in this thread's
            // `PRODUCER`) and the slice is dropped before the next call.
            let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
            enc.write_varint(header);
            enc.write_signed(ticks.wrapping_sub(self.last_ticks) as i64);
            if let Some(trace) = &trace {
                enc.write_bytes(trace);
            }
            event.encode_fields(&mut enc);
            if !enc.overflowed() {
                let len = enc.position();
                self.commit(len, ticks);
                return;
            }
            if !self.make_room() {
                self.dropped += 1;
                return;
            }
        }
    }

    #[inline(always)]
    fn commit(&mut self, len: usize, ticks: u64) {
        self.ring.commit(&mut self.cursor, len, ticks);
        self.last_ticks = ticks;
        if self.cursor.tail - self.cursor.head_cache > self.ring.capacity() / 2 {
            self.maybe_wake_writer();
        }
    }

    /// Wakes the writer once per fill when the ring passes half full, so a
    /// busy thread does not wait for the periodic drain.
    #[cold]
    fn maybe_wake_writer(&mut self) {
        if self.ring.refresh_head(&mut self.cursor) <= self.ring.capacity() / 2 {
            self.woke_writer = false;
        } else if !self.woke_writer {
            self.woke_writer = true;
            runtime::wake_writer();
        }
    }

    /// Returns false when the event must be dropped.
    #[cold]
    fn make_room(&mut self) -> bool {
        let mut spins = 0u32;
        loop {
            match self.ring.make_room(&mut self.cursor) {
                Ok(()) => return true,
                Err(NoRoom::TooBig) => return false,
                Err(NoRoom::Full) => {
                    if runtime::overflow_policy() == Overflow::Drop || !runtime::is_active() {
                        return false;
                    }
                    if spins == 0 {
                        runtime::wake_writer();
                    }
                    spins += 1;
                    if spins < 64 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                }
            }
        }
    }

    #[cold]
    fn write_drop_report(&mut self, ticks: u64) {
        // SAFETY: as in `write`.
        let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
        enc.write_varint(u64::from(DROP_REPORT_ID) << 1);
        enc.write_signed(ticks.wrapping_sub(self.last_ticks) as i64);
        enc.write_varint(self.dropped);
        if !enc.overflowed() {
            let len = enc.position();
            self.commit(len, ticks);
            self.dropped = 0;
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if self.dropped != 0 {
            LOST_EVENTS.fetch_add(self.dropped, Ordering::Relaxed);
        }
        self.ring.close();
    }
}
