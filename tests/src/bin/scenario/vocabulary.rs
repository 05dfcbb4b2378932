//! `lmlog-scenario vocabulary FILE`: one event of each of `lmlog::events`'
//! types, then errors through `lm_exception!` (one with a source, a
//! `dyn Error`, a `Box<dyn Error>`, a `&str`) and `Exception::of`. Backtraces follow the
//! environment the test gives (`RUST_BACKTRACE`).

use std::error::Error;
use std::fmt;
use std::path::Path;

use lmlog::events::{
    AuthenticationIssue, BusinessRuleViolation, DataAnomaly, Exception, IntegrationFailure, PerformanceIssue,
    StateChange, UserBehaviorAnomaly,
};
use lmlog::{lm_event, lm_exception, LogValue};

#[derive(LogValue)]
enum Status {
    Pending,
    Paid,
}

/// An error with a `source()`: the vocabulary and lmlog-py scenarios'.
#[derive(Debug)]
pub struct ChargeError {
    pub source: std::io::Error,
}

impl fmt::Display for ChargeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "charge of order 42 failed")
    }
}

impl Error for ChargeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

pub fn run(path: &Path) -> Result<(), Box<dyn Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    lm_event!(StateChange {
        entity_type: "order",
        entity_id: "order_456",
        field: "status",
        before: "pending",
        after: "completed",
        trigger: Some("payment_received"),
    });
    lm_event!(StateChange {
        entity_type: "invoice",
        entity_id: "inv_9",
        field: "status",
        before: Status::Pending,
        after: Status::Paid,
        trigger: None,
    });
    lm_event!(DataAnomaly { entity_type: "user", entity_id: "user_123", field: "balance", expected: 100, actual: 0 });
    lm_event!(BusinessRuleViolation {
        entity_type: "user",
        entity_id: "123",
        rule: "payment_limit_exceeded",
        expected: 1000,
        actual: 1500,
    });
    lm_event!(IntegrationFailure {
        service: "payments-api",
        operation: "POST /charges",
        error: "503 Service Unavailable",
        status_code: Some(503),
        attempts: 3,
    });
    lm_event!(PerformanceIssue { operation: "database_query", duration_ms: 5000.0, threshold_ms: 1000.0 });
    lm_event!(PerformanceIssue { operation: "cache_lookup", duration_ms: 2.5, threshold_ms: 10.0 });
    lm_event!(AuthenticationIssue { entity_type: "user", entity_id: "u7", method: "oauth", reason: "expired_token" });
    lm_event!(UserBehaviorAnomaly {
        entity_type: "user",
        entity_id: "u7",
        behavior: "login_burst",
        observed: 42u32,
        baseline: 3u32,
    });

    let inner = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
    let io = std::io::Error::other(inner);
    let error = ChargeError { source: io };
    lm_exception!(&error, operation = "charge", order_id = 42u64);
    let boxed: Box<dyn Error + Send + Sync> = Box::new(std::io::Error::other("disk full"));
    lm_exception!(&*boxed);
    lm_event!(Exception::of(&error, "retry"));
    // A pointer to an error, and a value that is only `Display`.
    lm_exception!(&boxed);
    lm_exception!(&"quota exceeded", operation = "upload");
    Ok(())
}
