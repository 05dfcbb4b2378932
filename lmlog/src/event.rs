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
}
