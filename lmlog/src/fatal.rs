//! Best-effort flush on fatal signals (`SIGSEGV`, `SIGBUS`, `SIGILL`,
//! `SIGFPE`, `SIGABRT`), for outputs whose staging buffers are not in
//! staging files (a custom sink, `Config::crash_recovery(false)`, or no
//! room for staging files): what a crash would otherwise lose is written
//! first, when the writer can do it in time.
//!
//! The handler does only what is safe in a signal handler: it bumps an
//! atomic request counter, unparks the writer thread (an atomic swap and a
//! futex wake), and sleeps in short `nanosleep`s until the writer reports
//! that it drained and flushed after the request (at most
//! [`WAIT`] milliseconds). Then it restores the previous disposition and
//! lets the signal take its course: a fault the kernel raised re-executes
//! the faulting instruction, any other signal is raised again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use crate::state::STATE;

/// Longest time the handler waits for the writer, in milliseconds.
const WAIT: u64 = 2000;

const SIGNALS: [libc::c_int; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGABRT];

/// Flushes asked for by signal handlers.
static REQUESTED: AtomicU64 = AtomicU64::new(0);
/// Requests the writer has served (drained and flushed after).
static SERVED: AtomicU64 = AtomicU64::new(0);

/// The dispositions the handler replaced, restored before it returns.
static mut PREVIOUS: [std::mem::MaybeUninit<libc::sigaction>; 5] = [std::mem::MaybeUninit::uninit(); 5];
static INSTALL: Once = Once::new();

/// Installs the handler for the fatal signals (once per process).
pub(crate) fn install_once() {
    INSTALL.call_once(|| {
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: `action` is fully initialised before use; `PREVIOUS` is
            // written only here, inside `Once`, before the handler that
            // reads it is installed for this signal.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (&raw mut PREVIOUS[i]).cast::<libc::sigaction>();
                libc::sigaction(signal, &action, previous);
            }
        }
    });
}

/// The request the writer should serve, if any: call before draining.
pub(crate) fn pending() -> Option<u64> {
    let requested = REQUESTED.load(Ordering::Acquire);
    (requested > SERVED.load(Ordering::Relaxed)).then_some(requested)
}

/// The writer drained and flushed after `request` was made.
pub(crate) fn served(request: u64) {
    SERVED.fetch_max(request, Ordering::Release);
}

extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    if STATE.writer_running() {
        let request = REQUESTED.fetch_add(1, Ordering::AcqRel) + 1;
        STATE.wake_writer();
        let pause = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000 };
        for _ in 0..WAIT {
            if SERVED.load(Ordering::Acquire) >= request || !STATE.writer_running() {
                break;
            }
            // SAFETY: nanosleep is async-signal-safe; `pause` is valid.
            unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
        }
    }
    if let Some(i) = SIGNALS.iter().position(|&s| s == signal) {
        // SAFETY: `PREVIOUS[i]` was initialised by `install_once` before
        // this handler was installed for `signal`; sigaction and raise are
        // async-signal-safe; `info` is the kernel's (valid) siginfo.
        unsafe {
            libc::sigaction(signal, (&raw const PREVIOUS[i]).cast::<libc::sigaction>(), std::ptr::null_mut());
            // A fault from the kernel happens again when we return, now
            // handled as before; a sent or raised signal is raised again.
            if (*info).si_code > 0 && signal != libc::SIGABRT {
                return;
            }
            libc::raise(signal);
        }
    }
}
