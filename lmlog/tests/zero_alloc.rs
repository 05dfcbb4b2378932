//! After warm-up, emitting an event performs no heap allocation on the
//! calling thread.

use lmlog::{lm_event, LogEvent};

mod counting_alloc;

#[derive(LogEvent)]
#[lmlog(name = "payment_failed", level = "warn", message = "payment of {amount} failed for user {user_id}")]
struct PaymentFailed<'a> {
    user_id: u64,
    amount: f64,
    reason: &'a str,
    tags: &'a [&'a str],
}

fn emit_all(i: u32) {
    lm_event!(info, "cache_miss", key = "user:7", latency_us = i, ratio = 0.5f64);
    lm_event!(PaymentFailed { user_id: 7, amount: 12.5, reason: "card_declined", tags: &["eu", "visa"] });
    lm_event!(debug, "formatted", "value {v}", v = %i);
}

#[test]
fn steady_state_emits_do_not_allocate() {
    let _guard = lmlog::init(lmlog::Config::new().sink(lmlog::WriteSink(std::io::sink()))).unwrap();
    // Long enough for this thread's staging ring to have grown to its
    // full size (a bounded number of allocations in a thread's life).
    for i in 0..100_000 {
        emit_all(i);
    }
    lmlog::flush();
    let allocations = counting_alloc::allocations_during(|| {
        for i in 0..100_000 {
            emit_all(i);
        }
    });
    assert_eq!(allocations, 0, "heap allocations on the emitting thread");
}
