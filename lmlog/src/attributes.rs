//! What the function attributes (`#[capture_errors]`, `#[log_performance]`,
//! `#[log_calls]`) expand to besides `lm_event!`: catching a panic in an
//! `async fn`, a panic's message, and choosing at compile time how to log a
//! value whose type the attribute cannot see (an argument, a result).

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that turns a panic while it is polled into `Err(payload)`, as
/// `catch_unwind` does for a closure; the attribute logs the panic and
/// resumes unwinding.
pub struct CatchUnwind<F>(F);

impl<F: Future> CatchUnwind<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> CatchUnwind<F> {
        CatchUnwind(future)
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the inner future is structurally pinned: it is never
        // moved out of `self`, and `CatchUnwind` has no `Drop` and is
        // `Unpin` only when `F` is.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The message a panic was started with (`panic!("...")`), or a
/// placeholder for a payload of another type.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<a panic payload that is not text>")
}

/// A value whose type an attribute cannot see, taken apart by the best
/// means its type has. Each trait is implemented on a different number of
/// references to [`returned::Returned`]; a method call on `&&&Returned(&value)` (with
/// the traits in scope) finds the first that applies, at compile time.
pub mod returned {
    use std::fmt::Display;

    use crate::value::{Encoder, LogValue};
    use lmlog_format::TypeDesc;

    /// A value an attribute logs if it can.
    pub struct Returned<'a, T: ?Sized>(pub &'a T);

    /// A value that cannot be logged: decoded as `null`.
    pub struct NotLogged;

    impl LogValue for NotLogged {
        const TYPE: &'static TypeDesc = &TypeDesc::Unit;
        fn encode(&self, _: &mut Encoder<'_>) {}
    }

    /// A `Result` whose `Ok` type is a `LogValue`: that value (`null` for
    /// an `Err`).
    pub trait OkLogValue<'a, T> {
        /// The `Ok` value.
        fn log_value(&self) -> Option<&'a T>;
    }
    impl<'a, T: LogValue, E> OkLogValue<'a, T> for &&Returned<'a, Result<T, E>> {
        fn log_value(&self) -> Option<&'a T> {
            self.0.as_ref().ok()
        }
    }

    /// A `LogValue`: itself.
    pub trait IsLogValue<'a, T: ?Sized> {
        /// The value.
        fn log_value(&self) -> &'a T;
    }
    impl<'a, T: LogValue + ?Sized> IsLogValue<'a, T> for &Returned<'a, T> {
        fn log_value(&self) -> &'a T {
            self.0
        }
    }

    /// Anything else: `null`.
    pub trait NotLogValue {
        /// Nothing.
        fn log_value(&self) -> NotLogged;
    }
    impl<T: ?Sized> NotLogValue for Returned<'_, T> {
        fn log_value(&self) -> NotLogged {
            NotLogged
        }
    }

    /// A `Result` whose error is `Display`: the error, if it is one.
    pub trait IsResult<'a> {
        /// The error.
        fn error_of(&self) -> Option<&'a dyn Display>;
    }
    impl<'a, T, E: Display> IsResult<'a> for &Returned<'a, Result<T, E>> {
        fn error_of(&self) -> Option<&'a dyn Display> {
            self.0.as_ref().err().map(|e| e as &dyn Display)
        }
    }

    /// Anything else: never an error.
    pub trait NotResult<'a> {
        /// `None`.
        fn error_of(&self) -> Option<&'a dyn Display>;
    }
    impl<'a, T: ?Sized> NotResult<'a> for Returned<'a, T> {
        fn error_of(&self) -> Option<&'a dyn Display> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::returned::*;
    use super::*;

    // The references are the point: they are what the macros write.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn values_are_taken_apart_by_the_best_means_their_type_has() {
        let ok: Result<u32, String> = Ok(7);
        let err: Result<u32, String> = Err("declined".into());
        let opaque = std::time::Instant::now();
        assert_eq!((&&&Returned(&ok)).log_value(), Some(&7));
        assert_eq!((&&&Returned(&err)).log_value(), None);
        assert_eq!(*(&&&Returned(&5u8)).log_value(), 5);
        let NotLogged = (&&&Returned(&opaque)).log_value();
        assert_eq!((&&Returned(&err)).error_of().map(|e| e.to_string()).as_deref(), Some("declined"));
        assert!((&&Returned(&ok)).error_of().is_none());
        assert!((&&Returned(&5u8)).error_of().is_none());
    }

    #[test]
    fn panics_are_caught_from_futures_and_their_message_read() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut future = std::pin::pin!(CatchUnwind::new(async { panic!("boom {}", 7) }));
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let polled = future.as_mut().poll(&mut cx);
        std::panic::set_hook(hook);
        let Poll::Ready(Err(payload)) = polled else { panic!("the panic was not caught") };
        assert_eq!(panic_message(&*payload), "boom 7");
        let mut fine = std::pin::pin!(CatchUnwind::new(async { 3 }));
        assert!(matches!(fine.as_mut().poll(&mut cx), Poll::Ready(Ok(3))));
        assert_eq!(panic_message(&12u8), "<a panic payload that is not text>");
        assert_eq!(panic_message(&"static"), "static");
    }
}
