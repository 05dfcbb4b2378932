//! The flight recorder ([`Config::flight_recorder`](crate::Config::flight_recorder)):
//! per thread, the last `n` events the filter turned away, kept in memory
//! and written just before an `error` event of the same thread.
//!
//! How events get here: while the recorder is on, every call site is
//! detoured (`state::State::detour`, `callsite`'s module
//! documentation), so every event reaches `producer::emit_slow`. The events
//! the filter refuses come to [`record`]; before an event at `error` is
//! written, the producer writes what [`drain`] hands it into the thread's
//! ring, each record with its own ticks and the
//! [`EXTENSION_FLIGHT_RECORDED`] item (FORMAT.md).
//!
//! A kept event is encoded as the producer would (same encoder, same
//! extension items) but without its call-site id: the id is resolved, and
//! the schema interned, only when the record is written, so a run without
//! errors adds nothing to the stream. The memory is per thread: `n`
//! buffers allocated at the thread's first kept event and reused (a
//! buffer grows to the largest event it held).

use std::cell::RefCell;

use lmlog_format::frame::{EXTENSION_FLIGHT_RECORDED, EXTENSION_OPERATION, TRACE_CONTEXT_LEN};
use lmlog_format::varint;

use crate::callsite::Callsite;
use crate::event::EventSchema;
use crate::producer::EncodeFields;
use crate::state::STATE;
use crate::value::Encoder;

/// Room a new buffer starts with: most events fit.
const INITIAL_BUFFER: usize = 128;

/// The extension item that marks a written record: tag, empty length.
const FLIGHT_ITEM: [u8; 2] = [EXTENSION_FLIGHT_RECORDED as u8, 0];

/// One event the recorder keeps.
pub(crate) struct Recorded {
    pub callsite: &'static Callsite,
    pub schema: &'static EventSchema,
    /// When it was emitted.
    pub ticks: u64,
    /// The span context that was active, if any.
    pub trace: Option<[u8; TRACE_CONTEXT_LEN]>,
    /// The record's extension items (operation, baggage, trace state), then
    /// its fields, in `buf[..len]`. The buffer is initialised once, as it
    /// grows, so an event is encoded into it without clearing it first.
    buf: Vec<u8>,
    len: usize,
    /// Bytes of extension items at the start of `buf`.
    extensions: usize,
}

impl Recorded {
    /// Writes what follows a record's header, tick delta and trace
    /// context: the extension block (the flight mark first) and the fields.
    pub fn write_body(&self, enc: &mut Encoder<'_>) {
        let (items, fields) = self.buf[..self.len].split_at(self.extensions);
        enc.write_varint((FLIGHT_ITEM.len() + items.len()) as u64);
        enc.write_bytes(&FLIGHT_ITEM);
        enc.write_bytes(items);
        enc.write_bytes(fields);
    }

    /// Encodes the extension items the producer would give an event now,
    /// then `event`'s fields; false when they fill the largest staging
    /// buffer, which could then never take the record.
    fn encode<E: EncodeFields>(&mut self, event: &E, extras: &mut Vec<u8>) -> bool {
        loop {
            let mut enc = Encoder::new(&mut self.buf);
            write_extension_items(&mut enc, self.trace.is_some(), extras);
            let extensions = enc.position();
            event.encode_fields(&mut enc);
            if !enc.overflowed() {
                (self.len, self.extensions) = (enc.position(), extensions);
                return true;
            }
            let required = enc.required();
            if required as u64 >= STATE.ring_capacity() {
                return false;
            }
            self.buf.resize(required.next_power_of_two(), 0);
        }
    }
}

/// A thread's recorder: a ring of at most `capacity` events.
struct Recorder {
    /// Buffers filled so far (at most `capacity`), reused in turn.
    slots: Vec<Recorded>,
    capacity: usize,
    /// The oldest event kept.
    start: usize,
    /// Events kept.
    len: usize,
    /// The baggage and trace state of an event in a span that has them.
    extras: Vec<u8>,
}

impl Recorder {
    fn new(capacity: usize) -> Recorder {
        Recorder { slots: Vec::with_capacity(capacity), capacity, start: 0, len: 0, extras: Vec::new() }
    }

    /// The index of the slot `offset` places after `start`.
    fn slot_index(&self, offset: usize) -> usize {
        let at = self.start + offset;
        if at >= self.capacity {
            at - self.capacity
        } else {
            at
        }
    }

    /// Takes the slot for a new event (the oldest one's, once full) and
    /// returns its index.
    #[inline]
    fn next_slot(&mut self, callsite: &'static Callsite, schema: &'static EventSchema) -> usize {
        let at = self.slot_index(self.len);
        if self.len == self.capacity {
            self.start = self.slot_index(1);
        } else {
            self.len += 1;
        }
        if at == self.slots.len() {
            // Events are kept at consecutive slots from 0 (`start` is 0
            // until the ring is full), so a new slot is always the next.
            self.slots.push(Recorded {
                callsite,
                schema,
                ticks: 0,
                trace: None,
                buf: vec![0; INITIAL_BUFFER],
                len: 0,
                extensions: 0,
            });
        }
        let slot = &mut self.slots[at];
        slot.callsite = callsite;
        slot.schema = schema;
        at
    }

    /// Forgets the newest event (it could not be encoded).
    fn forget_newest(&mut self) {
        self.len -= 1;
    }
}

thread_local! {
    /// This thread's recorder, from its first kept event.
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

/// Keeps `event` (of `schema`, at `callsite`), which the filter turned
/// away, in this thread's recorder, overwriting the oldest event once it
/// holds the configured number. Does nothing while the recorder is off, or
/// when called from inside the encoding of another kept event.
#[inline(never)]
pub(crate) fn record<E: EncodeFields>(callsite: &'static Callsite, schema: &'static EventSchema, event: &E) {
    let capacity = STATE.flight_records();
    if capacity == 0 {
        return;
    }
    let ticks = crate::clock::now();
    #[cfg(feature = "otel")]
    let trace = crate::trace::current();
    #[cfg(not(feature = "otel"))]
    let trace: Option<[u8; TRACE_CONTEXT_LEN]> = None;
    // After the thread's teardown began there is nothing to record into;
    // an event logged while a field of a kept event is encoded finds the
    // recorder borrowed. Either way the filter had turned it away.
    let _ = RECORDER.try_with(|recorder| {
        let Ok(mut recorder) = recorder.try_borrow_mut() else { return };
        if recorder.as_ref().is_none_or(|r| r.capacity != capacity) {
            *recorder = Some(Recorder::new(capacity));
        }
        let Some(recorder) = recorder.as_mut() else { return };
        let at = recorder.next_slot(callsite, schema);
        let Recorder { slots, extras, .. } = recorder;
        let slot = &mut slots[at];
        slot.ticks = ticks;
        slot.trace = trace;
        if !slot.encode(event, extras) {
            recorder.forget_newest();
        }
    });
}

/// Writes the extension items the producer would give an event now: its
/// operation (with the name if that is still to be written, which stays
/// to be written), and, in a span, the baggage and trace state (gathered
/// in `extras`).
#[inline(always)]
fn write_extension_items(enc: &mut Encoder<'_>, in_span: bool, extras: &mut Vec<u8>) {
    if crate::operation::tag_len() != 0 {
        let operation = crate::operation::peek_current();
        let name_len = operation.name.map_or(0, |name| varint::len_u64(name.len() as u64) + name.len());
        let item_len = varint::len_u64(operation.id) + varint::len_u64(operation.parent) + name_len;
        enc.write_varint(EXTENSION_OPERATION);
        enc.write_varint(item_len as u64);
        enc.write_varint(operation.id);
        enc.write_varint(operation.parent);
        if let Some(name) = operation.name {
            enc.write_varint(name.len() as u64);
            enc.write_bytes(name.as_bytes());
        }
    }
    #[cfg(feature = "otel")]
    if in_span && crate::trace::has_extras() {
        extras.clear();
        crate::trace::write_extras(extras);
        enc.write_bytes(extras);
    }
    #[cfg(not(feature = "otel"))]
    let _ = (in_span, extras);
}

/// Whether this thread's recorder holds events.
#[inline]
pub(crate) fn has_records() -> bool {
    RECORDER
        .try_with(|recorder| recorder.try_borrow().is_ok_and(|r| r.as_ref().is_some_and(|r| r.len > 0)))
        .unwrap_or(false)
}

/// Hands this thread's kept events to `write`, oldest first, and empties
/// the recorder (its buffers stay for the next events). Returns how many
/// it handed on.
pub(crate) fn drain(mut write: impl FnMut(&Recorded)) -> usize {
    RECORDER
        .try_with(|recorder| {
            let Ok(mut recorder) = recorder.try_borrow_mut() else { return 0 };
            let Some(recorder) = recorder.as_mut() else { return 0 };
            let len = recorder.len;
            for i in 0..len {
                write(&recorder.slots[recorder.slot_index(i)]);
            }
            recorder.start = 0;
            recorder.len = 0;
            len
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callsite::CallsiteMeta;
    use crate::event::test_schema;
    use lmlog_format::Level;

    static META: CallsiteMeta = CallsiteMeta { module: "m", file: "f.rs", line: 1, column: 1, function: || "m::f" };
    static SITE: Callsite = Callsite::new(&META);

    /// Fields of `len` bytes, each `byte`.
    struct Fields {
        len: usize,
        byte: u8,
    }

    impl EncodeFields for Fields {
        fn encode_fields(&self, enc: &mut Encoder<'_>) {
            enc.write_bytes(&vec![self.byte; self.len]);
        }
    }

    fn body(record: &Recorded) -> Vec<u8> {
        let mut buf = vec![0; 1 << 16];
        let mut enc = Encoder::new(&mut buf);
        record.write_body(&mut enc);
        let len = enc.position();
        buf.truncate(len);
        buf
    }

    #[test]
    fn the_ring_keeps_the_newest_events_in_order_and_reuses_its_buffers() {
        let schema = test_schema("kept", Level::Debug);
        let mut recorder = Recorder::new(3);
        let mut extras = Vec::new();
        for ticks in 1..=7u64 {
            let at = recorder.next_slot(&SITE, schema);
            recorder.slots[at].ticks = ticks;
            assert!(recorder.slots[at].encode(&Fields { len: 1, byte: ticks as u8 }, &mut extras));
        }
        assert_eq!(recorder.slots.len(), 3, "one buffer per kept event");
        let order: Vec<u64> = (0..recorder.len).map(|i| recorder.slots[recorder.slot_index(i)].ticks).collect();
        assert_eq!(order, [5, 6, 7]);
        // The block holds the flight mark alone (no operation here), then
        // the fields.
        let newest = &recorder.slots[recorder.slot_index(2)];
        assert_eq!(body(newest), [2, EXTENSION_FLIGHT_RECORDED as u8, 0, 7]);
        recorder.forget_newest();
        assert_eq!(recorder.len, 2);
    }

    #[test]
    fn fields_too_large_for_any_staging_buffer_are_not_kept() {
        let schema = test_schema("kept", Level::Debug);
        let mut recorder = Recorder::new(2);
        let mut extras = Vec::new();
        let at = recorder.next_slot(&SITE, schema);
        assert!(recorder.slots[at].encode(&Fields { len: 1000, byte: 7 }, &mut extras), "a buffer grows");
        let written = body(&recorder.slots[at]);
        assert_eq!(written.len(), 3 + 1000);
        assert!(written[3..].iter().all(|&b| b == 7));
        let limit = STATE.ring_capacity() as usize;
        assert!(!recorder.slots[at].encode(&Fields { len: limit, byte: 1 }, &mut extras));
    }
}
