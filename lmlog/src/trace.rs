//! Reads the active OpenTelemetry span's context on the calling thread.

use lmlog_format::frame::TRACE_CONTEXT_LEN;
use opentelemetry::trace::TraceContextExt;

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
