//! After warm-up, a record through the `log` bridge or an event through the
//! `tracing` layer (with key-values or fields, a formatted message, and a
//! span) performs no heap allocation on the calling thread.
#![cfg(all(feature = "log", feature = "tracing"))]

use tracing_subscriber::layer::SubscriberExt;

mod counting_alloc;

fn log_records(i: u32) {
    log::info!(order_id = i, user = "ada", total = 12.5, paid = true; "order {} paid by {}", i, "ada");
    log::warn!(target: "payments", attempt = 3; "retrying");
}

fn tracing_events(span: &tracing::Span, i: u32) {
    let _entered = span.enter();
    tracing::info!(order_id = i, user = "ada", total = 12.5, paid = true, "order {} paid by {}", i, "ada");
    tracing::warn!(target: "payments", attempt = 3u64, "retrying");
}

#[test]
fn steady_state_bridged_records_do_not_allocate() {
    // A staging ring of the size a thread starts with: it never grows, so
    // the warm-up needs no luck with the writer's pace.
    let config = lmlog::Config::new().sink(lmlog::WriteSink(std::io::sink())).buffer_capacity(64 << 10);
    let _guard = lmlog::init(config).unwrap();
    lmlog::bridge::log::init().unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lmlog::bridge::tracing::layer()))
        .unwrap();
    let span = tracing::info_span!("checkout", region = "eu");
    // Long enough for the bridges' caches to hold every call site (and
    // for the producer to have waited for room: a wait allocates nothing).
    for i in 0..100_000 {
        log_records(i);
        tracing_events(&span, i);
    }
    lmlog::flush();
    let allocations = counting_alloc::allocations_during(|| {
        for i in 0..100_000 {
            log_records(i);
            tracing_events(&span, i);
        }
    });
    assert_eq!(allocations, 0, "heap allocations on the emitting thread");
}
