//! Reads the active OpenTelemetry span's context, baggage and trace state
//! on the calling thread.

use std::sync::RwLock;

use lmlog_format::frame::{EXTENSION_BAGGAGE, EXTENSION_TRACE_STATE, TRACE_CONTEXT_LEN};
use lmlog_format::varint;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;

/// The baggage keys recorded (`Config::baggage_keys`); `None`: all.
static BAGGAGE_KEYS: RwLock<Option<Vec<String>>> = RwLock::new(None);

/// Sets the baggage keys recorded (`None`: all), at `init`.
pub(crate) fn set_baggage_keys(keys: Option<Vec<String>>) {
    *BAGGAGE_KEYS.write().unwrap_or_else(|e| e.into_inner()) = keys;
}

/// Trace id, span id and flags of the current span, if one is active and
/// valid.
#[inline(always)]
pub(crate) fn current() -> Option<[u8; TRACE_CONTEXT_LEN]> {
    opentelemetry::Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return None;
        }
        let mut out = [0u8; TRACE_CONTEXT_LEN];
        out[..16].copy_from_slice(&context.trace_id().to_bytes());
        out[16..24].copy_from_slice(&context.span_id().to_bytes());
        out[24] = context.trace_flags().to_u8();
        Some(out)
    })
}

/// The trace id of the current span, if one is active and valid: what
/// trace-consistent sampling draws from.
#[inline]
pub(crate) fn current_trace_id() -> Option<u128> {
    opentelemetry::Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let context = span.span_context();
        context.is_valid().then(|| u128::from_be_bytes(context.trace_id().to_bytes()))
    })
}

/// Whether the context of the current span has baggage or the span a trace
/// state, for [`write_extras`]. Asked only for events in a span: the
/// look-up costs about as much as the rest of an event, and an event
/// outside any span must not pay it.
#[inline(never)]
pub(crate) fn has_extras() -> bool {
    opentelemetry::Context::map_current(|cx| {
        !cx.baggage().is_empty() || cx.span().span_context().trace_state().into_iter().len() != 0
    })
}

/// Appends the extension items of the thread's baggage (the keys
/// `Config::baggage_keys` allows) and of its span's trace state, when
/// non-empty.
#[cold]
pub(crate) fn write_extras(out: &mut Vec<u8>) {
    let keys = BAGGAGE_KEYS.read().unwrap_or_else(|e| e.into_inner());
    opentelemetry::Context::map_current(|cx| {
        let mut item = Vec::new();
        for (key, (value, _)) in cx.baggage() {
            if keys.as_ref().is_none_or(|keys| keys.iter().any(|k| k == key.as_str())) {
                let value = value.as_str();
                varint::push_u64(&mut item, key.as_str().len() as u64);
                item.extend_from_slice(key.as_str().as_bytes());
                varint::push_u64(&mut item, value.len() as u64);
                item.extend_from_slice(value.as_bytes());
            }
        }
        push_item(out, EXTENSION_BAGGAGE, &item);
        let span = cx.span();
        let state = span.span_context().trace_state();
        item.clear();
        for (i, (key, value)) in state.into_iter().enumerate() {
            if i > 0 {
                item.push(b',');
            }
            item.extend_from_slice(key.as_bytes());
            item.push(b'=');
            item.extend_from_slice(value.as_bytes());
        }
        push_item(out, EXTENSION_TRACE_STATE, &item);
    })
}

/// Appends one extension item, unless it is empty.
fn push_item(out: &mut Vec<u8>, tag: u64, bytes: &[u8]) {
    if !bytes.is_empty() {
        varint::push_u64(out, tag);
        varint::push_u64(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}
