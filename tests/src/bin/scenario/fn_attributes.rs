//! `lmlog-scenario fn-attributes FILE`: the function attributes on sync and
//! `async` functions and on a method, each call numbered in the order the
//! test expects its events:
//!
//! 1. `charge(0)` → `Ok`: nothing from `#[capture_errors]`;
//!    `charge(3)` → `Err`: an `exception` (`function` `charge`);
//! 2. `explode()` panics: an `exception` of type `panic`, and the panic goes
//!    on (caught here);
//! 3. `async fetch(false)` → `Err` after a real suspension: an `exception`;
//!    `async explode_later()`: a `panic` exception;
//! 4. `slow()` (30 ms, threshold 5): `performance_issue`; `quick()`
//!    (threshold 10 000, `log_all`): `performance_info`;
//! 5. `add(2, opaque, 3)` with `include_args, include_result`:
//!    `function_entry` {a: 2, opaque: null, b: 3} then `function_exit`
//!    {result: 5}; `parse("x")` → `function_exit_error`; `Meter::read`
//!    (a method, `level = "debug"`) entry and exit with its `Ok` value.
//!
//! The filter records `info` and above, and `debug` for `Meter`'s module;
//! `hidden()` logs its calls at `trace`, which nothing records.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use lmlog::{capture_errors, log_calls, log_performance};

#[derive(Debug)]
struct Declined(u32);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "card declined ({} attempts)", self.0)
    }
}

impl std::error::Error for Declined {}

#[capture_errors]
fn charge(attempts: u32) -> Result<u64, Declined> {
    if attempts > 0 {
        return Err(Declined(attempts));
    }
    Ok(42)
}

#[capture_errors]
fn explode() -> Result<(), Declined> {
    panic!("ledger out of balance")
}

/// Returns `Pending` once (after waking its task), then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[capture_errors]
async fn fetch(available: bool) -> Result<&'static str, std::io::Error> {
    YieldOnce(false).await;
    if !available {
        Err(std::io::Error::other("upstream timed out"))?;
    }
    Ok("data")
}

#[capture_errors]
async fn explode_later() -> Result<(), std::io::Error> {
    YieldOnce(false).await;
    panic!("async ledger out of balance")
}

#[log_performance(threshold_ms = 5)]
fn slow() -> u32 {
    std::thread::sleep(Duration::from_millis(30));
    1
}

#[log_performance(threshold_ms = 10000, log_all)]
fn quick() -> u32 {
    2
}

/// Not a `LogValue`: recorded as `null`.
struct Opaque;

#[log_calls(include_args, include_result)]
fn add(a: u32, opaque: Opaque, b: u32) -> u32 {
    let _ = opaque;
    a + b
}

#[log_calls]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[log_calls(level = "trace")]
fn hidden() {}

mod meter {
    pub struct Meter {
        pub reading: f64,
    }

    impl Meter {
        #[lmlog::log_calls(include_result, level = "debug")]
        pub fn read(&self) -> Result<f64, String> {
            Ok(self.reading)
        }
    }
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: std::sync::Arc<Self>) {}
}

fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(NoopWake));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let filter = "info,lmlog_scenario::fn_attributes::meter=debug";
    let _guard = lmlog::init(lmlog::Config::new().output(path).filter(filter).env_filter(false))?;
    std::panic::set_hook(Box::new(|_| {}));
    assert_eq!(charge(0).map_err(|e| e.to_string())?, 42);
    assert!(charge(3).is_err());
    assert!(std::panic::catch_unwind(explode).is_err(), "the panic goes on");
    assert_eq!(block_on(fetch(true))?, "data");
    assert!(block_on(fetch(false)).is_err());
    assert!(std::panic::catch_unwind(|| block_on(explode_later())).is_err());
    assert_eq!(slow() + quick(), 3);
    assert_eq!(add(2, Opaque, 3), 5);
    assert!(parse("x").is_err());
    hidden();
    assert_eq!(meter::Meter { reading: 1.5 }.read()?, 1.5);
    Ok(())
}
