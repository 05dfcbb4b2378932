//! After warm-up, a record through the `log` bridge or an event through the
//! `tracing` layer (with key-values or fields, a formatted message, and a
//! span) performs no heap allocation on the calling thread.
#![cfg(all(feature = "log", feature = "tracing"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::layer::SubscriberExt;

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
    let _guard = lmlog::init(lmlog::Config::new().sink(lmlog::WriteSink(std::io::sink()))).unwrap();
    lmlog::bridge::log::init().unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lmlog::bridge::tracing::layer()))
        .unwrap();
    let span = tracing::info_span!("checkout", region = "eu");
    // Long enough for this thread's staging ring to have grown to its
    // full size and the bridges' caches to hold every call site.
    for i in 0..100_000 {
        log_records(i);
        tracing_events(&span, i);
    }
    lmlog::flush();
    COUNTING.with(|c| c.set(true));
    for i in 0..100_000 {
        log_records(i);
        tracing_events(&span, i);
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "heap allocations on the emitting thread");
}
