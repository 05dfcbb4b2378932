//! The universal event types of LMLog's vocabulary: what goes wrong in most
//! services, named the same way everywhere, so that a person or a language
//! model reading the log of an unfamiliar service knows what each event
//! means.
//!
//! Each is a [`LogEvent`]: log it with
//! [`lm_event!`](crate::lm_event), like an event type of your own. Fields
//! that name what the event is about are `entity_type` (`"order"`,
//! `"user"`) and `entity_id`; values the vocabulary compares (`before` and
//! `after`, `expected` and `actual`) take any [`LogValue`](crate::LogValue).
//! An error is recorded with [`lm_exception!`](crate::lm_exception) or as an
//! [`Exception`].
//!
//! ```
//! use lmlog::events::{BusinessRuleViolation, StateChange};
//! use lmlog::lm_event;
//!
//! lm_event!(StateChange {
//!     entity_type: "order",
//!     entity_id: "order_456",
//!     field: "status",
//!     before: "pending",
//!     after: "completed",
//!     trigger: Some("payment_received"),
//! });
//! lm_event!(BusinessRuleViolation {
//!     entity_type: "user",
//!     entity_id: "123",
//!     rule: "payment_limit_exceeded",
//!     expected: 1000,
//!     actual: 1500,
//! });
//! ```

use std::error::Error;

use crate::LogEvent;

/// A field of an entity changed (`info`): `state_change`.
///
/// `before` and `after` take any field type (`&str`, numbers, an enum with
/// `#[derive(LogValue)]`, ...).
#[derive(LogEvent)]
#[lmlog(
    name = "state_change",
    level = "info",
    message = "{entity_type} {entity_id}: {field} changed from {before} to {after}"
)]
pub struct StateChange<'a, B, A> {
    /// What kind of entity changed (`"order"`).
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: &'a str,
    /// The field that changed (`"status"`).
    pub field: &'a str,
    /// Its value before.
    pub before: B,
    /// Its value after.
    pub after: A,
    /// What caused the change, if known (`"payment_received"`).
    pub trigger: Option<&'a str>,
}

/// An operation took long (`performance_issue`): at `warn` when
/// `duration_ms` is over `threshold_ms`, at `info` otherwise (one event
/// type, its level chosen by the value; a call site's filter is tested
/// with `warn` before the value is built, then with the value's level).
///
/// ```
/// use lmlog::events::PerformanceIssue;
/// lmlog::lm_event!(PerformanceIssue { operation: "database_query", duration_ms: 5000.0, threshold_ms: 1000.0 });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PerformanceIssue<'a> {
    /// What was slow (`"database_query"`).
    pub operation: &'a str,
    /// How long it took.
    pub duration_ms: f64,
    /// How long it may take.
    pub threshold_ms: f64,
}

/// The fields and schemas of [`PerformanceIssue`] at its two levels.
mod performance {
    use crate::LogEvent;

    #[derive(LogEvent)]
    #[lmlog(
        name = "performance_issue",
        level = "warn",
        message = "{operation} took {duration_ms} ms, over its {threshold_ms} ms"
    )]
    pub(super) struct OverThreshold<'a> {
        pub operation: &'a str,
        pub duration_ms: f64,
        pub threshold_ms: f64,
    }

    #[derive(LogEvent)]
    #[lmlog(
        name = "performance_issue",
        level = "info",
        message = "{operation} took {duration_ms} ms, within its {threshold_ms} ms"
    )]
    pub(super) struct WithinThreshold<'a> {
        pub operation: &'a str,
        pub duration_ms: f64,
        pub threshold_ms: f64,
    }
}

impl LogEvent for PerformanceIssue<'_> {
    const SCHEMA: &'static crate::EventSchema = <performance::OverThreshold<'static> as LogEvent>::SCHEMA;
    const LEVEL_VARIES: bool = true;

    fn schema(&self) -> &'static crate::EventSchema {
        if self.duration_ms > self.threshold_ms {
            <performance::OverThreshold<'static> as LogEvent>::SCHEMA
        } else {
            <performance::WithinThreshold<'static> as LogEvent>::SCHEMA
        }
    }

    fn encode_fields(&self, enc: &mut crate::Encoder<'_>) {
        // Both schemas list the same fields.
        let PerformanceIssue { operation, duration_ms, threshold_ms } = *self;
        performance::OverThreshold { operation, duration_ms, threshold_ms }.encode_fields(enc);
    }
}

/// A value is not what it should be: an unexpected value, a failed
/// validation (`warn`): `data_anomaly`.
#[derive(LogEvent)]
#[lmlog(
    name = "data_anomaly",
    level = "warn",
    message = "{entity_type} {entity_id}: {field} is {actual}, expected {expected}"
)]
pub struct DataAnomaly<'a, E, A> {
    /// What kind of entity holds the value.
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: &'a str,
    /// The field or measurement (`"balance"`).
    pub field: &'a str,
    /// What it should be (a value, a bound, a pattern).
    pub expected: E,
    /// What it is.
    pub actual: A,
}

/// A business rule was broken (`warn`): `business_rule_violation`.
#[derive(LogEvent)]
#[lmlog(
    name = "business_rule_violation",
    level = "warn",
    message = "{entity_type} {entity_id} broke {rule}: {actual} where {expected} holds"
)]
pub struct BusinessRuleViolation<'a, E, A> {
    /// What kind of entity broke it.
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: &'a str,
    /// The rule (`"payment_limit_exceeded"`).
    pub rule: &'a str,
    /// What the rule allows (`1000`).
    pub expected: E,
    /// What happened (`1500`).
    pub actual: A,
}

/// A call to another service failed (`error`): `integration_failure`.
#[derive(LogEvent)]
#[lmlog(
    name = "integration_failure",
    level = "error",
    message = "{service} {operation} failed after {attempts} attempt(s): {error}"
)]
pub struct IntegrationFailure<'a> {
    /// The other service (`"payments-api"`).
    pub service: &'a str,
    /// What was asked of it (`"POST /charges"`).
    pub operation: &'a str,
    /// Why it failed, in its words.
    pub error: &'a str,
    /// The protocol's status, if there was a response (`503`).
    pub status_code: Option<u16>,
    /// How many attempts were made, retries included.
    pub attempts: u32,
}

/// A sign-in or permission problem (`warn`): `authentication_issue`.
#[derive(LogEvent)]
#[lmlog(
    name = "authentication_issue",
    level = "warn",
    message = "{entity_type} {entity_id}: {method} refused: {reason}"
)]
pub struct AuthenticationIssue<'a> {
    /// What tried (`"user"`, `"api_key"`).
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: &'a str,
    /// How (`"password"`, `"oauth"`, `"mtls"`).
    pub method: &'a str,
    /// Why it was refused (`"expired_token"`, `"missing_scope"`).
    pub reason: &'a str,
}

/// Behaviour of a user that matters for security or abuse
/// (`warn`): `user_behavior_anomaly`.
#[derive(LogEvent)]
#[lmlog(
    name = "user_behavior_anomaly",
    level = "warn",
    message = "{entity_type} {entity_id}: {behavior} ({observed} against a usual {baseline})"
)]
pub struct UserBehaviorAnomaly<'a, O, B> {
    /// Who (`"user"`, `"session"`).
    pub entity_type: &'a str,
    /// Which one.
    pub entity_id: &'a str,
    /// What they did (`"login_burst"`, `"impossible_travel"`).
    pub behavior: &'a str,
    /// What was observed (`42` attempts, a country).
    pub observed: O,
    /// What is usual for them.
    pub baseline: B,
}

/// An error (`error`): `exception`, with the error's type, its message, the
/// messages of its `source()` chain and, when backtraces are enabled
/// (`RUST_BACKTRACE` or `RUST_LIB_BACKTRACE`), where it was recorded.
///
/// [`lm_exception!`](crate::lm_exception) builds and logs one, with fields
/// of your own (such as `operation`); [`Exception::of`] builds one to log
/// with [`lm_event!`](crate::lm_event).
#[derive(LogEvent)]
#[lmlog(name = "exception", level = "error", message = "{exception_type}: {exception_message}")]
pub struct Exception<'a> {
    /// The error's type (`"std::io::error::Error"`; `"dyn core::error::Error"`
    /// for a trait object, whose type is not known).
    pub exception_type: &'static str,
    /// Its `Display` text.
    pub exception_message: crate::FormattedStr,
    /// The messages of its `source()` chain.
    pub sources: crate::ErrorSources<'a>,
    /// The backtrace, if backtraces are enabled.
    pub backtrace: Option<String>,
    /// What was being done (`"charge"`).
    pub operation: &'a str,
}

impl<'a> Exception<'a> {
    /// An exception of `error` (any `Error` type, or `dyn Error`), in
    /// `operation`.
    ///
    /// ```
    /// let error = std::io::Error::other("disk full");
    /// lmlog::lm_event!(lmlog::events::Exception::of(&error, "save"));
    /// ```
    pub fn of<E: ErrorLike + ?Sized>(error: &'a E, operation: &'a str) -> Exception<'a> {
        let dyn_error = error.as_dyn_error();
        Exception {
            exception_type: error.error_type_name(),
            exception_message: crate::FormattedStr::display(dyn_error),
            sources: crate::ErrorSources(dyn_error),
            backtrace: captured_backtrace(),
            operation,
        }
    }
}

/// What [`Exception::of`] and [`lm_exception!`](crate::lm_exception) take:
/// any `Error` type, or a `dyn Error` trait object (`&*boxed` for a
/// `Box<dyn Error>`).
pub trait ErrorLike {
    /// The error as a trait object.
    fn as_dyn_error(&self) -> &(dyn Error + '_);
    /// The name of its type.
    fn error_type_name(&self) -> &'static str;
}

impl<E: Error> ErrorLike for E {
    fn as_dyn_error(&self) -> &(dyn Error + '_) {
        self
    }
    fn error_type_name(&self) -> &'static str {
        std::any::type_name::<E>().trim_start_matches('&')
    }
}

macro_rules! dyn_error_like {
    ($($t:ty),*) => {$(
        impl ErrorLike for $t {
            fn as_dyn_error(&self) -> &(dyn Error + '_) {
                self
            }
            fn error_type_name(&self) -> &'static str {
                std::any::type_name::<$t>()
            }
        }
    )*};
}
dyn_error_like!(dyn Error + '_, dyn Error + Send + '_, dyn Error + Send + Sync + '_);

/// An error, taken apart once for the fields of an `exception` event:
/// what [`lm_exception!`](crate::lm_exception) and `#[capture_errors]`
/// record.
#[doc(hidden)]
pub struct ExceptionOf<'a> {
    pub type_name: &'static str,
    pub message: &'a (dyn std::fmt::Display + 'a),
    /// The error, if it is one: its `source()` chain is recorded.
    pub error: Option<&'a (dyn Error + 'a)>,
}

impl<'a> ExceptionOf<'a> {
    #[doc(hidden)]
    pub fn new<E: ErrorLike + ?Sized>(error: &'a E) -> ExceptionOf<'a> {
        let dyn_error = error.as_dyn_error();
        ExceptionOf { type_name: error.error_type_name(), message: dyn_error, error: Some(dyn_error) }
    }
}

/// Takes apart whatever a function returns as its error, by the best means
/// its type has: an `Error` (or `dyn Error`) with its source chain; a
/// pointer to one (`Box<dyn Error>`, `anyhow::Error`), the same through
/// the pointer; anything `Display`, its text alone. Chosen at compile time
/// by method resolution on `(&&&ExceptionSource(&error)).exception_of()`
/// (each step of auto-dereferencing tries the next means), with the three
/// traits in scope.
#[doc(hidden)]
pub mod exception_source {
    use std::fmt::Display;
    use std::ops::Deref;

    use super::{ErrorLike, ExceptionOf};

    pub struct ExceptionSource<'a, T: ?Sized>(pub &'a T);

    pub trait AsErrorLike<'a> {
        fn exception_of(&self) -> ExceptionOf<'a>;
    }
    impl<'a, T: ErrorLike + ?Sized> AsErrorLike<'a> for &&ExceptionSource<'a, T> {
        fn exception_of(&self) -> ExceptionOf<'a> {
            ExceptionOf::new(self.0)
        }
    }

    pub trait ThroughPointer<'a> {
        fn exception_of(&self) -> ExceptionOf<'a>;
    }
    impl<'a, T: Deref + ?Sized> ThroughPointer<'a> for &ExceptionSource<'a, T>
    where
        T::Target: ErrorLike,
    {
        fn exception_of(&self) -> ExceptionOf<'a> {
            ExceptionOf { type_name: std::any::type_name::<T>(), ..ExceptionOf::new(&**self.0) }
        }
    }

    pub trait AsDisplay<'a> {
        fn exception_of(&self) -> ExceptionOf<'a>;
    }
    impl<'a, T: Display + 'a> AsDisplay<'a> for ExceptionSource<'a, T> {
        fn exception_of(&self) -> ExceptionOf<'a> {
            ExceptionOf { type_name: std::any::type_name::<T>(), message: self.0, error: None }
        }
    }
}

/// The messages of the `source()` chain of an error, if there is one: an
/// empty sequence for a value that is only `Display`.
#[doc(hidden)]
pub struct MaybeSources<'a>(pub Option<&'a (dyn Error + 'a)>);

impl crate::LogValue for MaybeSources<'_> {
    const TYPE: &'static lmlog_format::TypeDesc = <crate::ErrorSources<'static> as crate::LogValue>::TYPE;
    fn encode(&self, enc: &mut crate::Encoder<'_>) {
        match self.0 {
            Some(error) => crate::ErrorSources(error).encode(enc),
            None => enc.write_varint(0),
        }
    }
}

/// The backtrace of the calling thread, if backtraces are enabled.
#[doc(hidden)]
pub fn captured_backtrace() -> Option<String> {
    let backtrace = std::backtrace::Backtrace::capture();
    (backtrace.status() == std::backtrace::BacktraceStatus::Captured).then(|| backtrace.to_string())
}
