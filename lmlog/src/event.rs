//! Event types: the static schema of an event and how its fields are written.

use lmlog_format::fingerprint::Fingerprint;
use lmlog_format::{FieldDesc, Level};

use crate::value::Encoder;

/// The static description of an event type: everything the decoder needs
/// to turn a record back into JSON, fixed at compile time.
#[derive(Debug, Clone, Copy)]
pub struct EventSchema {
    /// Event type name (`event_type` in JSON).
    pub name: &'static str,
    /// Severity.
    pub level: Level,
    /// Message template with `{field}` placeholders.
    pub message: Option<&'static str>,
    /// Fields in the order [`LogEvent::encode_fields`] writes them.
    pub fields: &'static [FieldDesc],
    /// Fingerprint of all of the above, see [`EventSchema::compute_fingerprint`].
    pub fingerprint: u64,
    /// The fields marked `#[lmlog(metric)]`, in field order: with the
    /// `otel-metrics` feature the writer records their values in
    /// histograms. Known to the running process only (not written into
    /// the stream, not part of the fingerprint).
    pub metrics: &'static [MetricField],
}

/// A numeric field of an event type marked `#[lmlog(metric)]` (or
/// `#[lmlog(metric = "unit")]`): see [`EventSchema::metrics`].
///
/// ```
/// use lmlog::LogEvent;
///
/// #[derive(LogEvent)]
/// #[lmlog(name = "request_done")]
/// struct RequestDone<'a> {
///     route: &'a str,
///     #[lmlog(metric = "ms")]
///     duration_ms: f64,
/// }
///
/// let metrics = <RequestDone as LogEvent>::SCHEMA.metrics;
/// assert_eq!(metrics.len(), 1);
/// assert_eq!((metrics[0].field, metrics[0].unit), (1, "ms"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricField {
    /// The field's index in [`EventSchema::fields`].
    pub field: u16,
    /// Its unit (UCUM, as OpenTelemetry names units: `"ms"`, `"By"`),
    /// empty when none was given.
    pub unit: &'static str,
}

impl EventSchema {
    /// Fingerprint of a schema's name, level, template and fields, for use in
    /// `const` initialisers.
    pub const fn compute_fingerprint(name: &str, level: Level, message: Option<&str>, fields: &[FieldDesc]) -> u64 {
        let fp = Fingerprint::new().str(name).u64(level as u64);
        let fp = match message {
            Some(m) => fp.u64(1).str(m),
            None => fp.u64(0),
        };
        fp.fields(fields).finish()
    }
}

/// The types a `#[lmlog(metric)]` field may have: integers and floats,
/// which the writer reads back as numbers. The derive checks the bound at
/// the attribute.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[lmlog(metric)]` needs a numeric field, not `{Self}`",
    label = "not an integer or a float",
    note = "a metric field's values go into a histogram: use it on an integer (`u8`..`u128`, `i8`..`i128`, \
            `usize`, `isize`) or float (`f32`, `f64`) field, or remove `metric`"
)]
pub trait MetricValue {}

macro_rules! metric_values {
    ($($ty:ty),*) => { $(impl MetricValue for $ty {})* };
}
metric_values!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);
impl<T: MetricValue + ?Sized> MetricValue for &T {}

/// Compiles only for a [`MetricValue`]: what the derive calls, spanned at
/// `#[lmlog(metric)]`, so that a field of another type is an error there.
#[doc(hidden)]
#[inline(always)]
pub const fn metric_field<T: MetricValue + ?Sized>() {}

/// A field-less schema named `name` at `level`, leaked, for tests that need
/// `&'static` schemas without defining event types.
#[cfg(test)]
pub(crate) fn test_schema(name: &'static str, level: Level) -> &'static EventSchema {
    Box::leak(Box::new(EventSchema {
        name,
        level,
        message: None,
        fields: &[],
        fingerprint: EventSchema::compute_fingerprint(name, level, None, &[]),
        metrics: &[],
    }))
}

/// An event that can be logged with [`lm_event!`](crate::lm_event).
///
/// Derive it with `#[derive(LogEvent)]`:
///
/// ```
/// use lmlog::{LogEvent, Level};
///
/// #[derive(LogEvent)]
/// #[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id}")]
/// struct PaymentFailed<'a> {
///     user_id: u64,
///     amount: f64,
///     reason: &'a str,
///     #[lmlog(redact)]
///     card_number: &'a str,
/// }
///
/// let schema = <PaymentFailed as LogEvent>::SCHEMA;
/// assert_eq!(schema.name, "payment_failed");
/// assert_eq!(schema.level, Level::Warn);
/// assert_eq!(schema.fields.len(), 4);
/// assert!(schema.fields[3].redacted);
/// ```
pub trait LogEvent {
    /// The event's static schema.
    const SCHEMA: &'static EventSchema;

    /// The call sites' sampling policy, from the derive's `sample` and
    /// `rate_limit` attributes (or `lm_event!`'s `sample:` and
    /// `rate_limit:` options); by default every event is kept.
    #[doc(hidden)]
    const SAMPLING: crate::sampling::Sampling = crate::sampling::Sampling::NONE;

    /// Whether [`LogEvent::schema`] chooses among schemas by the value (the
    /// schemas differ only in their level): then [`Self::SCHEMA`] is the
    /// most severe of them, which call sites test interest with before the
    /// value is built, and the value's own is tested after. `false` (the
    /// default, and what the derive generates) compiles the choice away.
    #[doc(hidden)]
    const LEVEL_VARIES: bool = false;

    /// The schema this value is recorded with: [`Self::SCHEMA`], unless
    /// [`Self::LEVEL_VARIES`].
    #[doc(hidden)]
    #[inline(always)]
    fn schema(&self) -> &'static EventSchema {
        Self::SCHEMA
    }

    /// Writes the fields listed in [`Self::SCHEMA`] (redacted fields write
    /// nothing) in postcard's encoding.
    fn encode_fields(&self, enc: &mut Encoder<'_>);

    /// Whether every written field's type has a bounded size
    /// ([`LogValue`](crate::LogValue)'s hidden `BOUNDED`): then a
    /// record of this event checks its room once, against
    /// [`Self::encoded_len_bound`], and writes its fields with
    /// [`Self::encode_fields_prechecked`]. The derive and `lm_event!` set
    /// it; `false` by default.
    #[doc(hidden)]
    const PRECHECKED: bool = false;

    /// The most bytes [`Self::encode_fields`] writes for this value: the
    /// sum of its fields' bounds (meaningful only when
    /// [`Self::PRECHECKED`]).
    #[doc(hidden)]
    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        usize::MAX
    }

    /// Writes what [`Self::encode_fields`] writes, into room the caller
    /// checked.
    ///
    /// # Safety
    /// The encoder has room for [`Self::encoded_len_bound`] more bytes, and
    /// [`Self::PRECHECKED`] holds.
    #[doc(hidden)]
    #[inline(always)]
    unsafe fn encode_fields_prechecked(&self, enc: &mut crate::value::Prechecked<'_>) {
        self.encode_fields(enc.checked())
    }
}

/// A reference logs as the event it points to, so `lm_event!(event_ref)`
/// works for a `&E` as well as an `E`.
impl<E: LogEvent + ?Sized> LogEvent for &E {
    const SCHEMA: &'static EventSchema = E::SCHEMA;
    const SAMPLING: crate::sampling::Sampling = E::SAMPLING;
    const LEVEL_VARIES: bool = E::LEVEL_VARIES;

    #[inline(always)]
    fn schema(&self) -> &'static EventSchema {
        (**self).schema()
    }

    #[inline(always)]
    fn encode_fields(&self, enc: &mut Encoder<'_>) {
        (**self).encode_fields(enc)
    }

    const PRECHECKED: bool = E::PRECHECKED;

    #[inline(always)]
    fn encoded_len_bound(&self) -> usize {
        (**self).encoded_len_bound()
    }

    #[inline(always)]
    unsafe fn encode_fields_prechecked(&self, enc: &mut crate::value::Prechecked<'_>) {
        // SAFETY: the caller's guarantee, for the same value.
        unsafe { (**self).encode_fields_prechecked(enc) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Prechecked;
    use crate::LogEvent;

    #[derive(LogEvent)]
    struct Bounded<'a, T> {
        id: u64,
        user: &'a str,
        #[lmlog(redact)]
        secret: &'a str,
        price: Option<f64>,
        extra: T,
    }

    #[derive(LogEvent)]
    struct WithText<'a> {
        id: u64,
        #[lmlog(display)]
        addr: &'a std::net::Ipv4Addr,
    }

    fn checked<E: LogEvent>(event: &E) -> Vec<u8> {
        let mut buf = vec![0u8; 1024];
        let mut enc = Encoder::new(&mut buf);
        event.encode_fields(&mut enc);
        assert!(!enc.overflowed());
        enc.written().to_vec()
    }

    fn prechecked<E: LogEvent>(event: &E) -> Vec<u8> {
        assert!(E::PRECHECKED);
        let bound = event.encoded_len_bound();
        let mut buf = vec![0xEEu8; bound + 8];
        let (room, guard) = buf.split_at_mut(bound);
        // SAFETY: the room is the event's bound and `E::PRECHECKED` holds.
        let enc = unsafe {
            let mut fast = Prechecked::new(Encoder::new(room));
            event.encode_fields_prechecked(&mut fast);
            fast.into_inner()
        };
        let written = enc.written().to_vec();
        assert!(guard.iter().all(|&b| b == 0xEE), "wrote past the bound");
        written
    }

    /// A derived event whose fields all have bounded sizes is written with
    /// one room check, and writes the bytes its checked encoding writes
    /// (redacted fields write nothing either way); one with a field
    /// written as text keeps the checked encoding.
    #[test]
    fn derived_events_check_their_room_once_when_their_fields_are_bounded() {
        let long = "u".repeat(300);
        for user in ["", "alice", long.as_str()] {
            let event = Bounded { id: u64::MAX, user, secret: "hidden", price: Some(1.5), extra: -7i32 };
            assert_eq!(prechecked(&event), checked(&event));
            assert_eq!(prechecked(&&event), checked(&event), "a reference logs as its event");
            let none = Bounded { id: 1, user, secret: "", price: None, extra: "text" };
            assert_eq!(prechecked(&none), checked(&none));
        }
        const {
            assert!(!<Bounded<'_, Vec<u8>>>::PRECHECKED, "a field type without a bound");
        }
        const {
            assert!(!<WithText<'_>>::PRECHECKED, "a field written as text");
        }
        let addr = std::net::Ipv4Addr::LOCALHOST;
        assert!(!checked(&WithText { id: 1, addr: &addr }).is_empty());
    }
}
