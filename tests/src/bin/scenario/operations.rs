//! `lmlog-scenario operations FILE`: operations as a service uses them.
//!
//! 1. `checkout` (`user_type` premium) with an event inside, and inside it
//!    `payment`, which fails (`op.fail`);
//! 2. an event outside any operation;
//! 3. `report`, dropped by a panic (caught here);
//! 4. `export`, instrumented around a future that is polled once on this
//!    thread and finished on another, logging on both; meanwhile this
//!    thread logs outside it.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use lmlog::{lm_event, lm_operation};

/// `Pending` once, then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: std::sync::Arc<Self>) {}
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    {
        let _checkout = lm_operation!("checkout", user_type = "premium");
        lm_event!(info, "cart_loaded", items = 3u32);
        let mut payment = lm_operation!("payment");
        lm_event!(warn, "card_declined", attempt = 1u32);
        payment.fail(&std::io::Error::other("card declined"));
    }
    lm_event!(info, "idle");
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = std::panic::catch_unwind(|| {
        let _report = lm_operation!("report");
        panic!("report template missing");
    });
    assert!(panicked.is_err());

    let mut export = Box::pin(lm_operation!("export", format = "csv").instrument(async {
        lm_event!(info, "export_started");
        YieldOnce(false).await;
        lm_event!(info, "export_resumed");
    }));
    lm_event!(info, "outside_before_poll");
    let waker = Waker::from(std::sync::Arc::new(NoopWake));
    assert!(export.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    lm_event!(info, "outside_while_pending");
    std::thread::Builder::new()
        .name("executor-2".into())
        .spawn(move || {
            let waker = Waker::from(std::sync::Arc::new(NoopWake));
            assert!(export.as_mut().poll(&mut Context::from_waker(&waker)).is_ready());
        })?
        .join()
        .map_err(|_| "the executor thread panicked")?;
    lm_event!(info, "done");
    Ok(())
}
