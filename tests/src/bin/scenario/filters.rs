//! `lmlog-scenario filters FILE`: eight numbered events (`n` = 1..8) for
//! the decoder's filters, written one thread after the other so that their
//! times rise with `n`:
//!
//! | n | thread   | module         | level | event type       | fields                                  |
//! |---|----------|----------------|-------|------------------|-----------------------------------------|
//! | 1 | main     | `db::pool`       | info  | `conn_acquired`  | latency_us 50, key `user:7`             |
//! | 2 | main     | `db::pool::conn` | warn  | `conn_slow`      | latency_us 150, key `user:8`            |
//! | 3 | main     | `db::poolx`      | error | `payment_failed` | latency_us 300, order.customer.id 9     |
//! | 4 | worker-1 | `filters`        | info  | `payment_ok`     | latency_us 80, order.customer.id 7      |
//! | 5 | worker-1 | `filters`        | warn  | `payment_failed` | latency_us 120, order.customer.id 8     |
//! | 6 | worker-1 | `filters`        | debug | `cache_miss`     | key `user:7`, latency_us 100.5          |
//! | 7 | worker-2 | `filters`        | info  | `cache_miss`     | key `user:9`, latency_us 10.0           |
//! | 8 | worker-2 | `filters`        | error | `payment_failed` | latency_us 500, order.customer.id 7, in trace 4bf92f3577b34da6a3ce929d0e0e4736 |
//!
//! Modules are under `lmlog_scenario::filters`.

use std::path::Path;

use lmlog::{lm_event, LogValue};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

#[derive(LogValue)]
struct Customer {
    id: u64,
}

#[derive(LogValue)]
struct Order {
    customer: Customer,
    total: f64,
}

mod db {
    pub mod pool {
        use lmlog::lm_event;

        pub fn run() {
            lm_event!(info, "conn_acquired", n = 1u32, latency_us = 50u64, key = "user:7");
            conn::run();
        }

        pub mod conn {
            use lmlog::lm_event;

            pub fn run() {
                lm_event!(warn, "conn_slow", n = 2u32, latency_us = 150u64, key = "user:8");
            }
        }
    }

    pub mod poolx {
        use lmlog::lm_event;

        use super::super::{Customer, Order};

        pub fn run() {
            let order = Order { customer: Customer { id: 9 }, total: 30.0 };
            lm_event!(error, "payment_failed", n = 3u32, latency_us = 300u64, order = order);
        }
    }
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).filter("trace").env_filter(false))?;
    db::pool::run();
    db::poolx::run();
    std::thread::Builder::new()
        .name("worker-1".into())
        .spawn(|| {
            let order = Order { customer: Customer { id: 7 }, total: 7.5 };
            lm_event!(info, "payment_ok", n = 4u32, latency_us = 80u64, order = order);
            let order = Order { customer: Customer { id: 8 }, total: 8.5 };
            lm_event!(warn, "payment_failed", n = 5u32, latency_us = 120u64, order = order);
            lm_event!(debug, "cache_miss", n = 6u32, key = "user:7", latency_us = 100.5f64);
        })?
        .join()
        .map_err(|_| "worker-1 panicked")?;
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736")?;
    let span_id = SpanId::from_hex("00f067aa0ba902b7")?;
    std::thread::Builder::new()
        .name("worker-2".into())
        .spawn(move || {
            lm_event!(info, "cache_miss", n = 7u32, key = "user:9", latency_us = 10.0f64);
            let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, true, TraceState::default());
            let _attached = Context::current().with_remote_span_context(span).attach();
            let order = Order { customer: Customer { id: 7 }, total: 70.0 };
            lm_event!(error, "payment_failed", n = 8u32, latency_us = 500u64, order = order);
        })?
        .join()
        .map_err(|_| "worker-2 panicked")?;
    Ok(())
}
