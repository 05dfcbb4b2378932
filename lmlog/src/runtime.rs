//! Process-wide runtime state: [`init`], [`flush`], the [`Guard`], and the
//! few settings the hot path's slow branches consult.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, Once, RwLock};
use std::thread::{JoinHandle, Thread, ThreadId};
use std::time::Duration;

use lmlog_format::Level;

use crate::config::{Config, Output, Overflow};
use crate::filter::{Filter, FilterError};
use crate::sink::{FileSink, Sink};
use crate::writer::{Command, Writer};

static ACTIVE: AtomicBool = AtomicBool::new(false);
static OVERFLOW_DROP: AtomicBool = AtomicBool::new(false);
static BUFFER_CAPACITY: AtomicUsize = AtomicUsize::new(Config::DEFAULT_BUFFER_CAPACITY);
static FILTER: RwLock<Option<Filter>> = RwLock::new(None);
static CONTROL: Mutex<Option<Control>> = Mutex::new(None);
static PANIC_HOOK: Once = Once::new();
/// The running writer's handle, for producers to wake it without taking a
/// lock. Set by `init`, cleared by shutdown. A handle is never freed (one
/// small allocation per `init`), so a producer that loaded the pointer just
/// before shutdown still holds a valid handle; unparking an exited thread
/// does nothing.
static WRITER_THREAD: AtomicPtr<Thread> = AtomicPtr::new(std::ptr::null_mut());

struct Control {
    commands: flume::Sender<Command>,
    writer: Thread,
    writer_id: ThreadId,
    join: Option<JoinHandle<()>>,
}

/// Why [`init`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A runtime is already running in this process; drop its [`Guard`] first.
    #[error("lmlog is already initialised in this process")]
    AlreadyInitialized,
    /// The filter (from [`Config::filter`] or `LMLOG`) does not parse.
    #[error("invalid lmlog filter: {0}")]
    Filter(#[from] FilterError),
    /// The output could not be opened.
    #[error("cannot open lmlog output {}: {source}", path.display())]
    Open {
        /// The path that was being opened.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the lmlog writer thread: {0}")]
    Spawn(io::Error),
}

/// Keeps the runtime alive. Dropping it writes every pending event, ends
/// the stream, and joins the writer thread; call sites are disabled until
/// the next [`init`].
#[must_use = "dropping the guard stops logging"]
#[derive(Debug)]
pub struct Guard {
    _private: (),
}

impl Drop for Guard {
    fn drop(&mut self) {
        shutdown();
    }
}

/// Starts the runtime: opens the output and starts the writer thread.
///
/// ```no_run
/// let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog"))?;
/// # Ok::<(), lmlog::InitError>(())
/// ```
pub fn init(mut config: Config) -> Result<Guard, InitError> {
    let mut control = CONTROL.lock().unwrap_or_else(|p| p.into_inner());
    if control.is_some() {
        return Err(InitError::AlreadyInitialized);
    }
    let filter = config.resolved_filter()?;
    let sink: Box<dyn Sink> = match std::mem::replace(&mut config.output, Output::File(PathBuf::new())) {
        Output::File(path) => {
            let sink = FileSink::create(&path).map_err(|source| InitError::Open { path: path.clone(), source })?;
            match config.rotate {
                Some((max, keep)) => Box::new(sink.with_rotation(max, keep)),
                None => Box::new(sink),
            }
        }
        #[cfg(feature = "jsonl")]
        Output::Jsonl(path) => Box::new(
            crate::sink::JsonlSink::create(&path).map_err(|source| InitError::Open { path: path.clone(), source })?,
        ),
        Output::Sink(sink) => sink,
    };
    crate::clock::source();
    BUFFER_CAPACITY.store(config.buffer_capacity, Ordering::Relaxed);
    OVERFLOW_DROP.store(config.overflow == Overflow::Drop, Ordering::Relaxed);
    let (commands, receiver) = flume::unbounded();
    let clock = crate::clock::calibrated();
    let writer = Writer::new(
        sink,
        clock,
        receiver,
        config.flush_interval,
        config.compression,
        config.service_name,
        config.resource,
    );
    let join = std::thread::Builder::new()
        .name("lmlog-writer".into())
        .spawn(move || writer.run())
        .map_err(InitError::Spawn)?;
    let thread = join.thread().clone();
    WRITER_THREAD.store(Box::into_raw(Box::new(thread.clone())), Ordering::Release);
    *control = Some(Control { commands, writer_id: thread.id(), writer: thread, join: Some(join) });
    *FILTER.write().unwrap_or_else(|p| p.into_inner()) = Some(filter.clone());
    ACTIVE.store(true, Ordering::Release);
    drop(control);
    crate::callsite::refilter(|module, level| filter.enabled(module, level));
    if config.panic_hook {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                flush_within(Duration::from_secs(2));
                previous(info);
            }));
        });
    }
    Ok(Guard { _private: () })
}

fn shutdown() {
    let Some(mut control) = CONTROL.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return;
    };
    ACTIVE.store(false, Ordering::Release);
    WRITER_THREAD.store(std::ptr::null_mut(), Ordering::Release);
    *FILTER.write().unwrap_or_else(|p| p.into_inner()) = None;
    crate::callsite::refilter(|_, _| false);
    let (ack, done) = flume::bounded(1);
    if control.commands.send(Command::Shutdown(ack)).is_ok() {
        control.writer.unpark();
        let _ = done.recv();
    }
    if let Some(join) = control.join.take() {
        if std::thread::current().id() != control.writer_id {
            let _ = join.join();
        }
    }
}

/// Returns once every event emitted (by any thread) before the call has been
/// handed to the sink and the sink flushed. Does nothing when the runtime is
/// not running.
pub fn flush() {
    flush_inner(None);
}

/// [`flush`] that gives up after `timeout` (used by the panic hook, which
/// must not hang a panicking program).
fn flush_within(timeout: Duration) {
    flush_inner(Some(timeout));
}

fn flush_inner(timeout: Option<Duration>) {
    let (commands, writer) = {
        let control = match CONTROL.try_lock() {
            Ok(control) => control,
            // Held by init/shutdown on this or another thread: wait for it
            // unless we might be inside it (a panic during init).
            Err(std::sync::TryLockError::WouldBlock) if timeout.is_some() => return,
            Err(std::sync::TryLockError::WouldBlock) => CONTROL.lock().unwrap_or_else(|p| p.into_inner()),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        match &*control {
            // The writer cannot wait for itself.
            Some(c) if c.writer_id != std::thread::current().id() => (c.commands.clone(), c.writer.clone()),
            _ => return,
        }
    };
    let (ack, done) = flume::bounded(1);
    if commands.send(Command::Flush(ack)).is_err() {
        return;
    }
    writer.unpark();
    let _ = match timeout {
        Some(t) => done.recv_timeout(t).map_err(|_| ()),
        None => done.recv().map_err(|_| ()),
    };
}

/// Whether a runtime is running (between [`init`] and dropping its guard).
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// Whether the running runtime records `level` events from `module`.
pub(crate) fn enabled(module: &str, level: Level) -> bool {
    FILTER.read().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|f| f.enabled(module, level))
}

pub(crate) fn overflow_policy() -> Overflow {
    if OVERFLOW_DROP.load(Ordering::Relaxed) {
        Overflow::Drop
    } else {
        Overflow::Block
    }
}

pub(crate) fn buffer_capacity() -> usize {
    BUFFER_CAPACITY.load(Ordering::Relaxed)
}

/// Asks the writer to drain now (a producer's ring is filling up). Takes
/// no lock: producers call it.
pub(crate) fn wake_writer() {
    let writer = WRITER_THREAD.load(Ordering::Acquire);
    if !writer.is_null() {
        // SAFETY: non-null values come from `Box::into_raw` in `init` and
        // are never freed.
        unsafe { (*writer).unpark() };
    }
}
