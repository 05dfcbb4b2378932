//! Procedural macros of [lmlog]: `#[derive(LogEvent)]`, `#[derive(LogValue)]`
//! and `lm_event!`.
//!
//! Use them through `lmlog`, which re-exports them (`lmlog::{LogEvent,
//! LogValue, lm_event}`); the expansions only refer to `::lmlog::__private`.
//! Everything a schema holds — names, levels, message templates, type
//! descriptors and the fingerprint — is computed at compile time, and
//! templates are checked with the same parser the decoder renders them with
//! (`lmlog_format::template`).
//!
//! [lmlog]: https://docs.rs/lmlog
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod attrs;
mod derive_event;
mod derive_value;
mod event_macro;
mod fn_attrs;
mod sampling;
mod util;

/// Derives `LogEvent` for a struct with named fields (or a unit struct).
///
/// Type attributes, `#[lmlog(...)]`:
/// - `name = "payment_failed"`: the event type, a name without spaces or
///   braces; defaults to the type's name in snake case.
/// - `level = "warn"`: one of `trace`, `debug`, `info` (the default), `warn`
///   (or `warning`) and `error`.
/// - `message = "payment of {amount} failed"`: a message template; every
///   `{placeholder}` must name a logged field (`{{` and `}}` are literal
///   braces).
/// - `sample = 0.1`: each call site keeps an event of this type with this
///   probability, in (0, 1].
/// - `rate_limit = 100`: each call site keeps at most this many events of
///   this type per second (whole process), at least 1. Events either option
///   turns away are counted and reported as `lmlog.sampled_out` events.
///
/// Field attributes, `#[lmlog(...)]`:
/// - `skip`: the field is not logged (its type needs no `LogValue` impl).
/// - `rename = "user"`: the name the field is logged under.
/// - `redact`: the field is listed in the schema but its value is never
///   written; it decodes as `"<redacted>"` (its type needs no `LogValue` impl).
/// - `display` / `debug`: the field is written as its `Display` / `Debug`
///   text, formatted on the calling thread (its type needs no `LogValue`
///   impl): the way out for another crate's type.
/// - `with = path::to::function`: the field is written as what the function
///   returns for it, `fn(&FieldType) -> R` with `R: LogValue` (an owned
///   value, or a `'static` borrow).
/// - `metric` / `metric = "ms"` (an integer or float field): with `lmlog`'s
///   `otel-metrics` feature, the writer records the field's values in the
///   OpenTelemetry histogram `lmlog.field.<name>` (with that unit); the log
///   is the same either way. Another type is a compile error at `metric`.
///
/// Every other field's type must implement `LogValue`; type parameters used
/// in those fields get a `LogValue` bound. One that does not is one compile
/// error at the field, naming the type and these ways out.
///
/// ```
/// use lmlog::{Level, LogEvent};
///
/// struct RetryHandle;
///
/// #[derive(LogEvent)]
/// #[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id}")]
/// struct PaymentFailed<'a> {
///     user_id: u64,
///     amount: f64,
///     reason: &'a str,
///     #[lmlog(redact)]
///     card_number: &'a str,
///     #[lmlog(skip)]
///     _retry: RetryHandle,
///     #[lmlog(display)]
///     attempt: std::num::NonZeroU8,
///     #[lmlog(with = String::len)]
///     note_len: String,
/// }
///
/// let schema = PaymentFailed::SCHEMA;
/// assert_eq!((schema.name, schema.level), ("payment_failed", Level::Warn));
/// assert_eq!(schema.fields.len(), 6);
/// assert!(schema.fields[3].redacted);
/// ```
#[proc_macro_derive(LogEvent, attributes(lmlog))]
pub fn derive_log_event(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_event::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives `LogValue` for a struct or enum, so it can be a field of an event.
///
/// The encoding is exactly postcard's for the equivalent
/// `#[derive(serde::Serialize)]` type: a struct writes its fields in order,
/// a newtype struct writes its content, and an enum writes the variant's
/// index (a varint, counting from 0 in declaration order) and then its
/// content. The type descriptor is a `Struct` (named fields), the content's
/// own descriptor (newtype structs), a `Tuple` (other tuple structs), `Unit`
/// (unit structs) or an `Enum`.
///
/// Attributes, `#[lmlog(...)]`: `skip` on any field (leave it out, like
/// `#[serde(skip)]`), `display`, `debug` and `with = path` on any field (as
/// for `LogEvent`), `rename = ".."` and `redact` on named fields (as for
/// `LogEvent`; a redacted field writes nothing), `rename = ".."` on enum
/// variants. Type parameters used in written fields get a `LogValue` bound.
///
/// A type cannot contain itself (`enum Tree { Node(Box<Tree>) }`): its
/// descriptor is a compile-time constant and would be infinite.
///
/// ```
/// use lmlog::{Encoder, LogValue};
///
/// #[derive(LogValue)]
/// enum Payment<'a> {
///     Cash,
///     Card {
///         last4: &'a str,
///         #[lmlog(redact)]
///         cvc: u16,
///     },
///     Voucher(u64),
/// }
///
/// let mut buf = [0u8; 16];
/// let mut enc = Encoder::new(&mut buf);
/// Payment::Card { last4: "4242", cvc: 123 }.encode(&mut enc);
/// // Variant index 1, then the length-prefixed string; the CVC is not written.
/// assert_eq!(enc.written(), &[1, 4, b'4', b'2', b'4', b'2']);
/// ```
#[proc_macro_derive(LogValue, attributes(lmlog))]
pub fn derive_log_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_value::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Logs an event.
///
/// ```
/// use lmlog::{lm_event, LogEvent};
///
/// #[derive(LogEvent)]
/// #[lmlog(level = "warn")]
/// struct PaymentFailed<'a> {
///     user_id: u64,
///     reason: &'a str,
/// }
///
/// // level, event type, fields
/// lm_event!(info, "cache_miss", key = "user:7", latency_us = 130u32);
/// // level, event type, message template, fields (`city` is short for `city = city`)
/// let city = "Oslo";
/// lm_event!(debug, "order_shipped", "order {order_id} shipped to {city}", order_id = 42u64, city);
/// // `%` formats with Display, `?` with Debug; dotted and string keys
/// let err = std::io::Error::other("disk full");
/// lm_event!(error, "write_failed", %err, kind = ?err.kind(), http.status = 500u16, "retry.after" = 3u8);
/// // a value whose type implements LogEvent, by value or by reference
/// lm_event!(PaymentFailed { user_id: 7, reason: "card_declined" });
/// let event = PaymentFailed { user_id: 8, reason: "expired" };
/// lm_event!(&event);
/// // options, after the event type (and message), before the fields
/// lm_event!(info, "cache_miss", sample: 0.1, key = "user:7");
/// lm_event!(warn, "retry", "retry {n}", rate_limit: 100, n = 3u8);
/// ```
///
/// Options, `name: literal`: `sample: p` keeps each event with probability
/// `p` in (0, 1]; `rate_limit: n` keeps at most `n` events of the call site
/// per second, whole process (consecutive one-second windows), at least 1;
/// with both, the rate limit counts what `sample` kept. Every event they
/// turn away is counted and reported as an `lmlog.sampled_out` event that
/// names the call site. A call site without options has no sampling check.
///
/// The level is one of the identifiers `trace`, `debug`, `info`, `warn`,
/// `error`; the event type is a non-empty string literal naming the event,
/// without spaces or braces (`"order_done"`, not `"order {} done"`: the
/// message comes after it, `lm_event!(info, "order_done", "order {id} done",
/// id)`). Template placeholders name fields; format specifications
/// (`{amount:.2}`) are not supported: the decoder shows each value as it is.
/// Fields, separated by commas (a trailing comma is fine):
/// - `key = value`: the value is borrowed and written with its `LogValue`
///   impl.
/// - `key = %value` / `key = ?value`: the value is formatted with `Display` /
///   `Debug` (on the calling thread, without allocating for short text).
/// - `key`, `%key`, `?key`: shorthand for `key = key` and so on; `a.b` is
///   shorthand for `a.b = a.b`.
/// - keys are identifiers, dotted identifiers (`http.status = 200`) or string
///   literals (`"http.status" = 200`); each may appear once.
///
/// Template placeholders must name keys. Nothing is evaluated unless the
/// level is compiled in (see `lmlog::STATIC_MAX_LEVEL`) and the call site is
/// enabled; then each value is evaluated exactly once, in order. This
/// includes the value form: `lm_event!(make_event())` does not call
/// `make_event` when the event's level is disabled.
#[proc_macro]
pub fn lm_event(input: TokenStream) -> TokenStream {
    event_macro::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Logs an `exception` event at `error` for each `Err` the function returns
/// (as `lm_exception!` does: `exception_type`, `exception_message`,
/// `sources`, `backtrace`, plus `function` and `module`) and for each panic
/// that leaves it (`exception_type` `"panic"`, then the panic goes on). The
/// error is returned unchanged. Works on `fn` and `async fn` returning any
/// `Result`.
///
/// ```
/// #[lmlog::capture_errors]
/// fn charge(cents: u64) -> Result<u64, std::io::Error> {
///     if cents == 0 {
///         return Err(std::io::Error::other("nothing to charge"));
///     }
///     Ok(cents)
/// }
/// # assert!(charge(0).is_err());
/// ```
#[proc_macro_attribute]
pub fn capture_errors(args: TokenStream, item: TokenStream) -> TokenStream {
    fn_attrs::capture_errors(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Logs a `performance_issue` at `warn` (`function`, `duration_ms`,
/// `threshold_ms`, `module`) when a call takes longer than `threshold_ms`;
/// with `log_all`, a `performance_info` at `info` for the other calls. The
/// clock is read only when one of them is recorded. Works on `fn` and
/// `async fn` (an `async fn` is timed from its first poll to its end,
/// waiting included).
///
/// ```
/// #[lmlog::log_performance(threshold_ms = 100)]
/// fn render(page: u32) -> String {
///     format!("page {page}")
/// }
/// # assert_eq!(render(2), "page 2");
/// ```
#[proc_macro_attribute]
pub fn log_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    fn_attrs::log_performance(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Logs `function_entry` when the function is called and `function_exit`
/// when it returns, or `function_exit_error` (with the error's text as
/// `error`) when it returns an `Err`; each with `function` and `module`.
///
/// Options: `include_args` (each argument under its name, if its type is a
/// `LogValue`; `null` otherwise), `include_result` (the returned value, or a
/// `Result`'s `Ok` value, likewise), `log_entry = false`, `log_exit =
/// false`, `level = "debug"` (default `info`). Works on `fn`, `async fn`
/// and methods.
///
/// ```
/// #[lmlog::log_calls(include_args, include_result, level = "debug")]
/// fn add(a: u32, b: u32) -> u32 {
///     a + b
/// }
/// # assert_eq!(add(2, 3), 5);
/// ```
#[proc_macro_attribute]
pub fn log_calls(args: TokenStream, item: TokenStream) -> TokenStream {
    fn_attrs::log_calls(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Whether events at a level are recorded at this place, registering it as
/// a call site: `level_enabled!(warn)`. Not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn level_enabled(input: TokenStream) -> TokenStream {
    event_macro::level_enabled(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
