//! Reads the active OpenTelemetry span's context, baggage and trace state
//! on the calling thread.

use std::sync::RwLock;

use lmlog_format::frame::{EXTENSION_BAGGAGE, EXTENSION_TRACE_STATE, TRACE_CONTEXT_LEN};
use lmlog_format::varint;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;

/// What a record takes from the OpenTelemetry context.
pub(crate) struct Captured {
    /// Trace id, span id and flags of the current span, if one is active
    /// and valid.
    pub span: Option<[u8; TRACE_CONTEXT_LEN]>,
    /// Baggage or a trace state is present: [`write_extras`] writes them.
    pub extras: bool,
}

/// The baggage keys recorded (`Config::baggage_keys`); `None`: all.
static BAGGAGE_KEYS: RwLock<Option<Vec<String>>> = RwLock::new(None);

/// Sets the baggage keys recorded (`None`: all), at `init`.
pub(crate) fn set_baggage_keys(keys: Option<Vec<String>>) {
    *BAGGAGE_KEYS.write().unwrap_or_else(|e| e.into_inner()) = keys;
}

/// The current span's context, and whether baggage or a trace state is
/// there to record: one look at the thread's context.
#[inline(always)]
pub(crate) fn current() -> Captured {
    opentelemetry::Context::map_current(|cx| {
        let extras = !cx.baggage().is_empty();
        if !cx.has_active_span() {
            return Captured { span: None, extras };
        }
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return Captured { span: None, extras };
        }
        let mut out = [0u8; TRACE_CONTEXT_LEN];
        out[..16].copy_from_slice(&context.trace_id().to_bytes());
        out[16..24].copy_from_slice(&context.span_id().to_bytes());
        out[24] = context.trace_flags().to_u8();
        let extras = extras || context.trace_state().into_iter().len() != 0;
        Captured { span: Some(out), extras }
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
