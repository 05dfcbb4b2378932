//! Workloads shared by lmlog's criterion benchmarks and the `compare`
//! harness, so every figure measures the same event.

use lmlog::LogEvent;

/// The 8-field event of the derived-struct scenarios: integers of three
/// widths, a float, a bool, two strings and an `Option`.
#[derive(LogEvent, Clone, Copy, Debug)]
#[lmlog(name = "order", level = "info", message = "order {id} for {customer}")]
pub struct Order<'a> {
    /// Order number.
    pub id: u64,
    /// Customer name.
    pub customer: &'a str,
    /// Total.
    pub amount: f64,
    /// Line items.
    pub items: u32,
    /// Express shipping.
    pub express: bool,
    /// Shipping region.
    pub region: &'a str,
    /// Discount rate, if any.
    pub discount: Option<f32>,
    /// Payment retries (negative: refunds).
    pub retries: i16,
}

/// The 3-field `cache_miss` event as a derived type: one of the two event
/// types the generic-call-site scenario logs through one `lm_event!`.
#[derive(LogEvent, Clone, Copy, Debug)]
#[lmlog(name = "cache_miss", level = "info")]
pub struct CacheMiss<'a> {
    /// Cache key.
    pub key: &'a str,
    /// Shard number.
    pub shard: u32,
    /// Lookup latency.
    pub latency_ms: f64,
}

/// The same fields as [`CacheMiss`], another event type: the second type
/// through the generic call site.
#[derive(LogEvent, Clone, Copy, Debug)]
#[lmlog(name = "cache_miss_retry", level = "info")]
pub struct CacheMissRetry<'a> {
    /// Cache key.
    pub key: &'a str,
    /// Shard number.
    pub shard: u32,
    /// Lookup latency.
    pub latency_ms: f64,
}
