//! The circuit breaker: whether the sink driver may call the sink now.
//!
//! Pure state over the instants it is given, so its unit tests run without
//! a clock or a sink.

use std::time::{Duration, Instant};

use crate::status::BreakerState;

/// Failures in a row that open the breaker. Fewer are retried at the next
/// drain without waiting: one failed write (a pipe momentarily full, an
/// interrupted call) should not cost a back-off, three in a row say the
/// sink is down.
pub(crate) const FAILURES_TO_OPEN: u32 = 3;
/// The first back-off after the breaker opens; each failed trial doubles it.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest back-off: a recovered sink waits at most this long.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    consecutive_failures: u32,
    /// Set while the breaker is open.
    open: Option<Open>,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    /// When the next trial is due.
    trial_at: Instant,
    /// The back-off that led to it.
    backoff: Duration,
}

impl Breaker {
    /// Closed or open (the driver itself shows a trial as
    /// [`BreakerState::HalfOpen`] while it runs).
    pub(crate) fn state(&self) -> BreakerState {
        if self.open.is_some() {
            BreakerState::Open
        } else {
            BreakerState::Closed
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Whether the sink may be called at `now`: the breaker is closed, or
    /// its back-off is over (the call is the trial).
    pub(crate) fn allows(&self, now: Instant) -> bool {
        self.open.is_none_or(|open| now >= open.trial_at)
    }

    /// How long from `now` until the next trial (zero if it is due);
    /// `None` while closed.
    pub(crate) fn trial_in(&self, now: Instant) -> Option<Duration> {
        self.open.map(|open| open.trial_at.saturating_duration_since(now))
    }

    /// A sink call succeeded: closed, with a fresh back-off for next time.
    pub(crate) fn succeeded(&mut self) {
        self.consecutive_failures = 0;
        self.open = None;
    }

    /// A sink call failed at `now`: the [`FAILURES_TO_OPEN`]th failure in a
    /// row opens the breaker for [`FIRST_BACKOFF`], a failed trial doubles
    /// the back-off up to [`MAX_BACKOFF`].
    pub(crate) fn failed(&mut self, now: Instant) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let backoff = match self.open {
            Some(open) => (open.backoff * 2).min(MAX_BACKOFF),
            None if self.consecutive_failures >= FAILURES_TO_OPEN => FIRST_BACKOFF,
            None => return,
        };
        self.open = Some(Open { trial_at: now + backoff, backoff });
    }

    /// Makes a trial due at `now` whatever is left of the back-off (the
    /// last chance at shutdown); a failed trial still doubles the back-off.
    pub(crate) fn expedite(&mut self, now: Instant) {
        if let Some(open) = &mut self.open {
            open.trial_at = open.trial_at.min(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_in_a_row_open_it_and_a_success_closes_it() {
        let t0 = Instant::now();
        let mut breaker = Breaker::default();
        assert!(breaker.allows(t0) && breaker.state() == BreakerState::Closed);
        assert_eq!(breaker.trial_in(t0), None);
        breaker.failed(t0);
        breaker.failed(t0);
        assert_eq!(breaker.state(), BreakerState::Closed, "two failures are retried at once");
        assert!(breaker.allows(t0));
        assert_eq!(breaker.consecutive_failures(), 2);
        // A success in between starts the count again.
        breaker.succeeded();
        breaker.failed(t0);
        breaker.failed(t0);
        assert!(!breaker.is_open());
        breaker.failed(t0);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!breaker.allows(t0));
        assert!(!breaker.allows(t0 + FIRST_BACKOFF - Duration::from_nanos(1)));
        assert!(breaker.allows(t0 + FIRST_BACKOFF), "the trial is due after the first back-off");
        assert_eq!(breaker.trial_in(t0), Some(FIRST_BACKOFF));
        assert_eq!(breaker.trial_in(t0 + Duration::from_secs(1)), Some(Duration::ZERO));
        breaker.succeeded();
        assert_eq!((breaker.state(), breaker.consecutive_failures()), (BreakerState::Closed, 0));
    }

    #[test]
    fn each_failed_trial_doubles_the_back_off_up_to_five_seconds() {
        let mut now = Instant::now();
        let mut breaker = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN {
            breaker.failed(now);
        }
        let mut backoffs = vec![breaker.trial_in(now).unwrap()];
        for _ in 0..12 {
            now += breaker.trial_in(now).unwrap();
            assert!(breaker.allows(now));
            breaker.failed(now);
            backoffs.push(breaker.trial_in(now).unwrap());
        }
        let ms: Vec<u128> = backoffs.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5000, 5000, 5000, 5000]);
        // A recovered sink that fails again starts from the first back-off.
        breaker.succeeded();
        for _ in 0..FAILURES_TO_OPEN {
            breaker.failed(now);
        }
        assert_eq!(breaker.trial_in(now), Some(FIRST_BACKOFF));
    }

    #[test]
    fn an_expedited_trial_is_due_at_once_and_keeps_the_back_off_growing() {
        let now = Instant::now();
        let mut breaker = Breaker::default();
        breaker.expedite(now);
        assert_eq!(breaker.state(), BreakerState::Closed, "nothing to expedite while closed");
        for _ in 0..FAILURES_TO_OPEN {
            breaker.failed(now);
        }
        breaker.expedite(now);
        assert!(breaker.allows(now));
        breaker.failed(now);
        assert_eq!(breaker.trial_in(now), Some(FIRST_BACKOFF * 2));
    }
}
