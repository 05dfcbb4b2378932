//! The calling thread's side: encode one record into this thread's ring.
//!
//! Per event this is a clock read, an optional trace-context read, and a
//! copy of the fields into memory only this thread writes. No locks, no
//! allocation, no shared cache line is written.

use std::cell::Cell;
use std::sync::Arc;

use lmlog_format::frame::{RecordHeader, DROP_REPORT_ID, EXTENSION_OPERATION, RECORD_HAS_EXTENSIONS};
use lmlog_format::Level;

use crate::callsite::{Callsite, CallsiteState};
use crate::config::Overflow;
use crate::event::{EventSchema, LogEvent};
use crate::ring::{Cursor, NoRoom, Ring};
use crate::sampling::ThreadCounts;
use crate::state::STATE;
use crate::value::{Encoder, Prechecked};

/// Records `event` at `callsite`, whose state the caller loaded and found
/// to enable the event's level. The entry point of every `lm_event!`.
///
/// The sampling check is compiled only for event types whose
/// [`LogEvent::SAMPLING`] turns events away (`sample:`, `rate_limit:`);
/// an event it rejects is counted for its call site. The site's first
/// event type, and its second when no process-wide rule applies to it,
/// are written here; anything else goes through `emit_slow`.
#[inline(always)]
pub fn emit<E: LogEvent>(callsite: &'static Callsite, state: CallsiteState, event: &E) {
    let schema = if E::LEVEL_VARIES {
        // The caller tested the most severe of the type's levels.
        let schema = event.schema();
        if !(crate::__private::static_enabled(schema.level) && state.enables(schema.level)) {
            return;
        }
        schema
    } else {
        E::SCHEMA
    };
    let id = match callsite.primary_id_for(state, schema.fingerprint) {
        Some(id) => id,
        // A generic site's second event type, when nothing but the filter
        // applies to it, takes the same path as its first: a few loads
        // here cost a plain site less than the call out of line costs a
        // generic one (BENCHMARKS.md).
        None => match callsite.unsampled_variant_id(state, schema) {
            Some(id) => id,
            None => return emit_slow(callsite, schema, event),
        },
    };
    if E::SAMPLING.keeps_all() || E::SAMPLING.keeps(callsite.rate_window()) {
        write_event(id, event)
    } else {
        count_sampled_out(id)
    }
}

/// What a record carries after its header: a [`LogEvent`]'s fields, or
/// those of a bridged `log` / `tracing` record, whose schema is built at run
/// time. Encoding must be a pure function of the value: a record that does
/// not fit is encoded again into more room.
pub(crate) trait EncodeFields {
    fn encode_fields(&self, enc: &mut Encoder<'_>);

    /// As [`LogEvent::PRECHECKED`].
    const PRECHECKED: bool = false;

    /// As [`LogEvent::encoded_len_bound`].
    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        usize::MAX
    }

    /// As [`LogEvent::encode_fields_prechecked`].
    ///
    /// # Safety
    /// As [`LogEvent::encode_fields_prechecked`].
    #[inline(always)]
    unsafe fn encode_fields_prechecked(&self, enc: &mut Prechecked<'_>) {
        self.encode_fields(enc.checked())
    }
}

impl<E: LogEvent> EncodeFields for E {
    #[inline(always)]
    fn encode_fields(&self, enc: &mut Encoder<'_>) {
        LogEvent::encode_fields(self, enc)
    }

    const PRECHECKED: bool = E::PRECHECKED;

    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        LogEvent::encoded_len_bound(self)
    }

    #[inline(always)]
    unsafe fn encode_fields_prechecked(&self, enc: &mut Prechecked<'_>) {
        // SAFETY: the caller's guarantee, for the same value.
        unsafe { LogEvent::encode_fields_prechecked(self, enc) }
    }
}

/// Records `fields` of `schema` (built at run time) at `callsite` if the
/// filter lets the schema's level through: the bridges' entry point.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn emit_dynamic<F: EncodeFields>(callsite: &'static Callsite, schema: &'static EventSchema, fields: &F) {
    let state = callsite.load();
    if !state.enables(schema.level) {
        return;
    }
    match callsite.primary_id_for(state, schema.fingerprint) {
        Some(id) => write_event(id, fields),
        None => {
            if let Some((id, policy)) = STATE.resolve(callsite, schema) {
                let sampling = policy.get();
                if crate::sampling::keeps_process_wide(schema.level, sampling)
                    && crate::sampling::admits(sampling, policy)
                {
                    write_event(id, fields)
                } else {
                    count_sampled_out(id)
                }
            }
        }
    }
}

/// A call site's first event, an event of a schema that is not the
/// site's first (generic call sites), or an event of a detoured site:
/// process-wide sampling or a sampler's policy applies to it, and every
/// sampling rule must agree to keep it (see [`crate::sampling`]); or the
/// flight recorder runs ([`crate::flight`]), which keeps the events the
/// filter turns away and writes them before an `error` event.
#[cold]
#[inline(never)]
fn emit_slow<E: LogEvent>(callsite: &'static Callsite, schema: &'static EventSchema, event: &E) {
    // A detoured site's known schema is found without a call into the
    // registry, once the filter's own word (not the published one, which
    // lets every level through while the flight recorder runs) lets its
    // level through.
    let known = if callsite.load_filtered().enables(schema.level) { callsite.known(schema.fingerprint) } else { None };
    match known.or_else(|| STATE.resolve(callsite, schema)) {
        Some((id, policy)) => {
            let sampling = policy.get();
            if crate::sampling::keeps_process_wide(schema.level, sampling)
                && (E::SAMPLING.keeps_all() || E::SAMPLING.keeps(callsite.rate_window()))
                && crate::sampling::admits(sampling, policy)
            {
                if schema.level == Level::Error && callsite.load().is_flight_detour() {
                    write_flight_records();
                }
                write_event(id, event)
            } else {
                count_sampled_out(id)
            }
        }
        None if callsite.load().is_flight_detour() => crate::flight::record(callsite, schema, event),
        None => {}
    }
}

/// Writes the events this thread's flight recorder kept into its ring,
/// oldest first, each with its own time and the flight mark: just before
/// an `error` event. If they cannot be written (the event is logged from
/// inside an encoder, or during the thread's teardown) they are counted
/// lost, as the error itself is.
#[cold]
#[inline(never)]
fn write_flight_records() {
    if !crate::flight::has_records() {
        return;
    }
    let written = with_producer(|producer| {
        crate::flight::drain(|record| {
            let id = STATE.resolve_recorded(record.callsite, record.schema);
            producer.write_recorded(id, record);
        });
    });
    if !written {
        STATE.count_lost(crate::flight::drain(|_| {}) as u64);
    }
}

/// Runs `write` with this thread's producer (created if need be), as
/// [`write_event`] does; false, without running it, while an event is
/// being written (an encoder logging) or once the thread's teardown began.
fn with_producer(write: impl FnOnce(&mut Producer)) -> bool {
    let producer = ACTIVE.get();
    if !producer.is_null() {
        ACTIVE.set(std::ptr::null_mut());
        let _reactivate = Reactivate(producer);
        // SAFETY: as in `write_event`: `ACTIVE` handed out this thread's
        // live producer and is null until `_reactivate` puts it back.
        write(unsafe { &mut *producer });
        return true;
    }
    match OWNER.try_with(|owner| owner.0.get()) {
        Ok(owned) if owned.is_null() => {
            let producer = install_producer();
            let _reactivate = Reactivate(producer);
            // SAFETY: as in `write_event_slow`: just created, owned by
            // `OWNER`, the only reference until `_reactivate` sets `ACTIVE`.
            write(unsafe { &mut *producer });
            true
        }
        _ => false,
    }
}

/// Counts an event of call site `id` that sampling turned away, in this
/// thread's table: a thread-local load, a load of the site's slot and a
/// store, inlined into the call site (the rejected path of a sampled site
/// is its common one). Before the thread's first event the table is made
/// with its producer; after the thread's teardown began the event is
/// counted lost instead: still counted, in events.
#[inline(always)]
fn count_sampled_out(id: u32) {
    let counts = COUNTS.get();
    if counts.is_null() {
        return count_sampled_out_slow(id);
    }
    // SAFETY: a non-null `COUNTS` points to the table this thread's live
    // producer holds (an `Arc`): it is set when `OWNER` takes the producer
    // and nulled before `OWNER` frees it. Only shared references to the
    // table exist; its counters are atomics only this thread writes.
    unsafe { &*counts }.count(id);
}

#[cold]
#[inline(never)]
fn count_sampled_out_slow(id: u32) {
    match OWNER.try_with(|owner| owner.0.get()) {
        Ok(owned) if owned.is_null() => {
            let producer = install_producer();
            ACTIVE.set(producer);
            // SAFETY: `producer` was just created and is owned by `OWNER`;
            // nothing writes with it yet, so a shared borrow is sound.
            unsafe { &*producer }.counts.count(id);
        }
        _ => STATE.count_lost(1),
    }
}

/// Creates this thread's producer and hands it to [`OWNER`] (which frees
/// it at the thread's exit), publishing its counts table in [`COUNTS`].
/// [`ACTIVE`] is left to the caller.
#[cold]
fn install_producer() -> *mut Producer {
    let producer = Box::into_raw(Box::new(Producer::acquire()));
    OWNER.with(|owner| owner.0.set(producer));
    // SAFETY: just created and not yet shared: reading its field is sound.
    COUNTS.set(Arc::as_ptr(unsafe { &(*producer).counts }));
    producer
}

/// The most bytes a record writes before its fields: the header and the
/// tick delta (varints), a trace context and an operation block copied
/// whole (`tag_bytes`).
const RECORD_PREFIX_BOUND: usize =
    2 * lmlog_format::varint::MAX_VARINT_U64 + lmlog_format::frame::TRACE_CONTEXT_LEN + crate::operation::TAG_CAPACITY;

struct Producer {
    ring: Arc<Ring>,
    cursor: Cursor,
    last_ticks: u64,
    /// This thread dropped events that may not be reported yet.
    dropped: bool,
    /// The writer has been woken for the current fill of the ring.
    woke_writer: bool,
    /// The operation of the record being written, if it has one.
    operation: crate::operation::Current,
    /// A record's extension block, when it has more than an operation.
    extensions: Vec<u8>,
    /// This thread's counts (events sampling turned away, drop reports,
    /// time blocked), created with the producer, not at the thread's first
    /// wait or drop report: a thread in steady state never allocates.
    counts: Arc<ThreadCounts>,
}

thread_local! {
    /// This thread's producer, while no event is being written with it:
    /// null before the thread's first event, while an event is being
    /// written (an event logged from inside an encoder finds it null and is
    /// counted lost) and once the thread's teardown has begun. No
    /// destructor and a constant initialiser: reading it is one
    /// thread-local load, with no state check.
    static ACTIVE: Cell<*mut Producer> = const { Cell::new(std::ptr::null_mut()) };
    /// Owns the producer; its destructor, at thread exit, closes the ring.
    static OWNER: ProducerOwner = const { ProducerOwner(Cell::new(std::ptr::null_mut())) };
    /// The counts table of this thread's producer, from the producer's
    /// creation until the thread's teardown begins (null otherwise): the
    /// rejected path of a sampled call site counts through it without
    /// touching the producer. Also valid while an event is being written,
    /// so an event an encoder logs and sampling rejects is still counted
    /// for its site.
    static COUNTS: Cell<*const ThreadCounts> = const { Cell::new(std::ptr::null()) };
}

/// See [`OWNER`].
struct ProducerOwner(Cell<*mut Producer>);

impl Drop for ProducerOwner {
    fn drop(&mut self) {
        let producer = self.0.replace(std::ptr::null_mut());
        if !producer.is_null() {
            ACTIVE.set(std::ptr::null_mut());
            COUNTS.set(std::ptr::null());
            // SAFETY: `producer` came from `Box::into_raw` in
            // `install_producer` and is freed only here, once; `ACTIVE` no
            // longer hands it out, and no event is being written with it
            // (this thread is running its destructors).
            drop(unsafe { Box::from_raw(producer) });
        }
    }
}

/// Puts the producer back in [`ACTIVE`] when the write ends, also by an
/// encoder's panic.
struct Reactivate(*mut Producer);

impl Drop for Reactivate {
    #[inline(always)]
    fn drop(&mut self) {
        ACTIVE.set(self.0);
    }
}

/// Writes one record for call site `id`.
#[inline(always)]
fn write_event<E: EncodeFields>(id: u32, event: &E) {
    let producer = ACTIVE.get();
    if producer.is_null() {
        return write_event_slow(id, event);
    }
    ACTIVE.set(std::ptr::null_mut());
    let _reactivate = Reactivate(producer);
    // SAFETY: a non-null `ACTIVE` points to this thread's live producer
    // (owned by `OWNER`, freed only after `ACTIVE` is nulled), and nulling
    // `ACTIVE` above makes this the only reference until `_reactivate`
    // puts it back.
    unsafe { (*producer).write(id, event) };
}

/// The thread's first event (creates its producer), an event logged from
/// inside an encoder, or one logged during the thread's teardown (both
/// counted lost).
#[cold]
#[inline(never)]
fn write_event_slow<E: EncodeFields>(id: u32, event: &E) {
    match OWNER.try_with(|owner| owner.0.get()) {
        Ok(owned) if owned.is_null() => {
            let producer = install_producer();
            let _reactivate = Reactivate(producer);
            // SAFETY: just created, owned by `OWNER`; `ACTIVE` is null until
            // `_reactivate` sets it, so this is the only reference.
            unsafe { (*producer).write(id, event) };
        }
        _ => STATE.count_lost(1),
    }
}

impl Producer {
    #[cold]
    fn acquire() -> Producer {
        let name = std::thread::current().name().map(str::to_string);
        let (ring, cursor, last_ticks) = STATE.adopt_ring(name);
        Producer {
            ring,
            cursor,
            last_ticks,
            dropped: false,
            woke_writer: false,
            operation: crate::operation::Current::NONE,
            extensions: Vec::new(),
            counts: STATE.thread_counts(),
        }
    }

    #[inline(always)]
    fn write<E: EncodeFields>(&mut self, id: u32, event: &E) {
        let ticks = crate::clock::now();
        #[cfg(feature = "otel")]
        let trace = crate::trace::current();
        #[cfg(not(feature = "otel"))]
        let trace: Option<[u8; lmlog_format::frame::TRACE_CONTEXT_LEN]> = None;
        #[cfg(feature = "otel")]
        let extras = trace.is_some() && crate::trace::has_extras();
        #[cfg(not(feature = "otel"))]
        let extras = false;
        // One thread-local load when the event has no operation. An
        // operation's records after its first copy its encoded block; its
        // first (which names it) and records with baggage or a trace state
        // assemble theirs.
        let tag = if extras { crate::operation::ASSEMBLE } else { crate::operation::tag_len() };
        if self.dropped {
            self.write_drop_report(ticks);
        }
        let mut header = RecordHeader::encode(id, trace.is_some());
        if tag != 0 {
            header |= RECORD_HAS_EXTENSIONS;
            if tag == crate::operation::ASSEMBLE {
                self.assemble_extensions(extras);
            }
        }
        loop {
            // SAFETY: this thread owns the ring (it is in this thread's
            // `PRODUCER`) and the slice is dropped before the next call.
            let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
            let delta = ticks.wrapping_sub(self.last_ticks) as i64;
            // One room check for the whole record when its size is bounded
            // (an assembled extension block is not): the writes below it
            // make none.
            if E::PRECHECKED
                && tag != crate::operation::ASSEMBLE
                && event.encoded_len_bound().saturating_add(RECORD_PREFIX_BOUND) <= enc.room()
            {
                // SAFETY: the room left holds the prefix's bound and the
                // fields' (just checked), which bound every write here.
                unsafe {
                    let mut fast = Prechecked::new(enc);
                    fast.write_varint(header);
                    fast.write_signed(delta);
                    if let Some(trace) = &trace {
                        fast.write_bytes(trace);
                    }
                    if tag != 0 {
                        fast.write_prefix(&crate::operation::tag_bytes::<E>(), usize::from(tag));
                    }
                    event.encode_fields_prechecked(&mut fast);
                    enc = fast.into_inner();
                }
            } else {
                enc.write_varint(header);
                enc.write_signed(delta);
                if let Some(trace) = &trace {
                    enc.write_bytes(trace);
                }
                if tag == crate::operation::ASSEMBLE {
                    enc.out_of_line(|enc| self.with_extensions(enc));
                } else if tag != 0 {
                    enc.write_prefix(&crate::operation::tag_bytes::<E>(), usize::from(tag));
                }
                event.encode_fields(&mut enc);
            }
            if !enc.overflowed() {
                let len = enc.position();
                self.commit(len, ticks);
                return;
            }
            if !self.make_room(enc.required()) {
                self.ring.count_dropped(ticks);
                self.dropped = true;
                if tag == crate::operation::ASSEMBLE && self.operation.name.is_some() {
                    crate::operation::restore_name(self.operation);
                }
                return;
            }
        }
    }

    /// Writes an event the flight recorder kept, as call site `id`'s, with
    /// its own ticks (the tick delta may be negative: the ring's records
    /// need not be in time order). A record that does not fit is dropped
    /// and counted like any other; the next record reports it.
    #[cold]
    fn write_recorded(&mut self, id: u32, record: &crate::flight::Recorded) {
        let header = RecordHeader::encode(id, record.trace.is_some()) | RECORD_HAS_EXTENSIONS;
        loop {
            // SAFETY: as in `write`.
            let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
            enc.write_varint(header);
            enc.write_signed(record.ticks.wrapping_sub(self.last_ticks) as i64);
            if let Some(trace) = &record.trace {
                enc.write_bytes(trace);
            }
            record.write_body(&mut enc);
            if !enc.overflowed() {
                let len = enc.position();
                self.commit(len, record.ticks);
                return;
            }
            if !self.make_room(enc.required()) {
                self.ring.count_dropped(record.ticks);
                self.dropped = true;
                return;
            }
        }
    }

    /// Builds the extension block of a record that does not copy
    /// [`crate::operation::tag_bytes`]': the first of an operation (which
    /// names it), one whose operation ids are too large to copy, or one
    /// with baggage or a trace state in its OpenTelemetry context
    /// (`extras`). Takes the thread's current operation into `operation`.
    #[inline(never)]
    fn assemble_extensions(&mut self, extras: bool) {
        let operation = crate::operation::take_current();
        self.operation = operation;
        self.extensions.clear();
        if operation.id != 0 {
            let mut item = Vec::with_capacity(24);
            lmlog_format::varint::push_u64(&mut item, operation.id);
            lmlog_format::varint::push_u64(&mut item, operation.parent);
            if let Some(name) = operation.name {
                lmlog_format::varint::push_u64(&mut item, name.len() as u64);
                item.extend_from_slice(name.as_bytes());
            }
            lmlog_format::varint::push_u64(&mut self.extensions, EXTENSION_OPERATION);
            lmlog_format::varint::push_u64(&mut self.extensions, item.len() as u64);
            self.extensions.extend_from_slice(&item);
        }
        #[cfg(feature = "otel")]
        if extras {
            crate::trace::write_extras(&mut self.extensions);
        }
        #[cfg(not(feature = "otel"))]
        let _ = extras;
    }

    /// Writes the extension block [`Producer::assemble_extensions`] built,
    /// out of line and by value (see `Encoder::out_of_line`).
    #[inline(never)]
    fn with_extensions<'b>(&self, mut enc: Encoder<'b>) -> Encoder<'b> {
        enc.write_varint(self.extensions.len() as u64);
        enc.write_bytes(&self.extensions);
        enc
    }

    #[inline(always)]
    fn commit(&mut self, len: usize, ticks: u64) {
        // Before the checkpoint: a ring it grows into starts its own tick
        // deltas (from the new ring's base), which this must not overwrite.
        self.last_ticks = ticks;
        if self.ring.commit(&mut self.cursor, len, ticks) {
            self.checkpoint();
        }
    }

    /// The tail reached the cursor's next check (a chunk boundary, or half
    /// the ring past the head it last saw): wake or grow if the ring is
    /// half full, then set the next check.
    #[cold]
    #[inline(never)]
    fn checkpoint(&mut self) {
        if self.cursor.tail - self.cursor.head_cache > self.ring.capacity() / 2 {
            self.maybe_wake_writer();
        }
        self.cursor.next_check = self.ring.next_check(&self.cursor);
    }

    /// When the ring passes half full: a ring below the configured size
    /// grows (a busy thread soon has a full-size ring, a quiet one keeps a
    /// small one); a full-size one wakes the writer once per fill, so a
    /// busy thread does not wait for the periodic drain.
    #[cold]
    fn maybe_wake_writer(&mut self) {
        if self.ring.refresh_head(&mut self.cursor) <= self.ring.capacity() / 2 {
            self.woke_writer = false;
        } else if self.ring.capacity() < STATE.ring_capacity() {
            self.grow();
        } else if !self.woke_writer {
            self.woke_writer = true;
            STATE.wake_writer();
        }
    }

    /// Makes room for a record of `len` bytes; returns false when the
    /// event must be dropped.
    #[cold]
    fn make_room(&mut self, len: usize) -> bool {
        let mut blocked_since = None;
        let room = self.wait_for_room(len, &mut blocked_since);
        if let Some(since) = blocked_since {
            let ticks = crate::clock::now().wrapping_sub(since);
            self.counts.blocked(ticks);
        }
        room
    }

    /// [`make_room`](Self::make_room)'s loop; sets `blocked_since` when it
    /// starts waiting for the writer.
    fn wait_for_room(&mut self, len: usize, blocked_since: &mut Option<u64>) -> bool {
        let mut spins = 0u32;
        loop {
            if len as u64 > self.ring.capacity() {
                // Never fits this ring: a bigger one, or a drop right away
                // (no padding, no wait for a drain that cannot help).
                if self.ring.capacity() < STATE.ring_capacity() {
                    self.grow();
                    return true;
                }
                return false;
            }
            match self.ring.make_room(&mut self.cursor) {
                Ok(()) => {
                    // The writer has freed room since: a new fill of the
                    // ring begins, and the writer is woken again when it
                    // passes half (not only once this thread waits).
                    self.woke_writer = false;
                    return true;
                }
                Err(_) if self.ring.capacity() < STATE.ring_capacity() => {
                    self.grow();
                    return true;
                }
                Err(NoRoom::TooBig) => return false,
                Err(NoRoom::Full) => {
                    if STATE.overflow_policy() == Overflow::Drop || !STATE.writer_drains() {
                        return false;
                    }
                    if spins == 0 {
                        *blocked_since = Some(crate::clock::now());
                        STATE.wake_writer();
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

    /// Reports the drops nobody has reported yet in a record before this
    /// event's, so that the report sits where the drops happened. The
    /// writer reports what is left after a drain instead, if this thread
    /// logs nothing more; the ring's claim decides which side counts what.
    #[cold]
    fn write_drop_report(&mut self, ticks: u64) {
        loop {
            let (reported, total) = self.ring.unreported_drops();
            if total == reported {
                self.dropped = false;
                return;
            }
            // SAFETY: as in `write`.
            let mut enc = Encoder::new(unsafe { self.ring.writable(&self.cursor) });
            enc.write_varint(RecordHeader::encode(DROP_REPORT_ID, false));
            enc.write_signed(ticks.wrapping_sub(self.last_ticks) as i64);
            enc.write_varint(total - reported);
            if enc.overflowed() {
                return; // No room: reported later, by this thread or the writer.
            }
            let len = enc.position();
            // Committed only if the claim holds: uncommitted bytes are never read.
            if self.ring.claim_drops(reported, total) {
                self.commit(len, ticks);
                self.counts.drop_report(total - reported);
                self.dropped = false;
                return;
            }
        }
    }

    /// Moves this thread to a ring twice the size; the writer drains the
    /// old one first and then frees or pools it.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let (ring, cursor, last_ticks) = STATE.grow_ring(&self.ring);
        self.ring = ring;
        self.cursor = cursor;
        self.last_ticks = last_ticks;
        self.woke_writer = false;
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.counts.close();
        self.ring.close();
    }
}
