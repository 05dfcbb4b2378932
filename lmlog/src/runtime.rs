//! The runtime's public life cycle: [`init`], [`flush`] and the [`Guard`].
//! The state they start and stop lives in [`crate::state`].

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{Config, Output};
use crate::filter::FilterError;
use crate::sink::{FileSink, Sink};
use crate::state::{Command, Control, STATE};
use crate::status::SinkStatus;
use crate::writer::{Writer, WriterSettings};

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
    /// A background thread (the writer, or the console's decoder) could
    /// not be started.
    #[error("cannot start an lmlog thread: {0}")]
    Spawn(io::Error),
    /// A file setting (rotation, retention, truncation or file mode) was
    /// given together with a custom [`Config::sink`], which would ignore it.
    /// A custom sink rotates itself through [`Sink::wants_rotation`],
    /// [`Sink::room`] and [`Sink::rotate`].
    #[error(
        "Config::{setting} applies to lmlog's own file outputs, not to a custom sink \
         (a custom sink rotates itself through the Sink trait)"
    )]
    FileSettingWithCustomSink {
        /// The [`Config`] method that was called.
        setting: &'static str,
    },
    /// A file setting (rotation, retention, truncation or file mode) was
    /// given while the console is the only output
    /// (`Config::new().console(true)`), which writes no file.
    #[error(
        "Config::{setting} applies to lmlog's own files, and the console alone writes none \
         (add Config::output or Config::output_jsonl)"
    )]
    FileSettingWithoutFile {
        /// The [`Config`] method that was called.
        setting: &'static str,
    },
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
/// Once it returns, the output holds the file header (preamble and
/// session), so even a program that exits at once leaves a file that
/// decodes.
///
/// ```no_run
/// let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog"))?;
/// # Ok::<(), lmlog::InitError>(())
/// ```
pub fn init(mut config: Config) -> Result<Guard, InitError> {
    let mut control = STATE.control();
    if control.is_some() {
        return Err(InitError::AlreadyInitialized);
    }
    // The clock's provisional rate is measured over the work below.
    crate::clock::begin();
    let (filter, refused_env_filter) = config.resolved_filter()?;
    if let (Some(Output::Sink(_)), Some(setting)) = (&config.output, config.file.first_setting()) {
        return Err(InitError::FileSettingWithCustomSink { setting });
    }
    #[cfg(feature = "console")]
    if let (true, Some(setting)) = (config.console_alone(), config.file.first_setting()) {
        return Err(InitError::FileSettingWithoutFile { setting });
    }
    // `log_path`: the log a file output writes; its staging files survive a crash.
    let (mut sink, log_path) = open_outputs(&mut config)?;
    #[cfg(feature = "otel")]
    crate::trace::set_baggage_keys(config.baggage_keys.take());
    let resource = crate::resource::detect(
        crate::resource::Configured {
            service_name: config.service_name.take(),
            env_overrides_service_name: config.env_overrides_service_name,
            service_version: config.service_version.take(),
            service_instance_id: config.service_instance_id.take(),
            attributes: std::mem::take(&mut config.resource),
        },
        &|name| std::env::var(name).ok(),
    );
    for (key, value) in std::mem::take(&mut config.global_context) {
        crate::global_context::insert(key, value);
    }
    let settings = WriterSettings {
        flush_interval: config.flush_interval,
        compression: config.compression,
        service_name: resource.service_name,
        resource: resource.attributes,
        clock: crate::clock::started(),
        spill_capacity: config.spill_capacity,
        max_events_per_second: config.sampling.max_events_per_second,
    };
    let crash_safe = match (&log_path, config.crash_recovery) {
        (Some(path), true) => start_crash_survival(path, sink.as_mut(), &settings),
        _ => false,
    };
    // Beside another output, the console is added after the recovery: it
    // shows this run's events, not those an earlier process left.
    #[cfg(feature = "console")]
    if config.console {
        sink = Box::new(crate::sink::Tee::new(sink, crate::sink::LiveSink::console().map_err(InitError::Spawn)?));
    }
    #[cfg(unix)]
    if !crash_safe {
        // Without staging files, a crash loses what is staged: try to
        // write it first.
        crate::fatal::install_once();
    }
    let (commands, receiver) = flume::unbounded();
    let mut writer = Writer::new(sink, receiver, settings);
    // On this thread, not the writer's: a program that exits before the
    // first drain leaves a file that decodes, and `init` does not wait for
    // a new thread to be scheduled.
    writer.start_output();
    let join = std::thread::Builder::new()
        .name("lmlog-writer".into())
        .spawn(move || writer.run())
        .map_err(InitError::Spawn)?;
    let writer = join.thread().clone();
    STATE.start(&mut control, Control { commands, writer, join: Some(join) }, filter, &config);
    drop(control);
    #[cfg(unix)]
    {
        // `std::process::exit` drops no guard: flush in its atexit pass.
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        extern "C" fn flush_at_exit() {
            flush_within(Duration::from_secs(2));
        }
        // SAFETY: registers a plain `extern "C" fn` with no arguments.
        AT_EXIT.call_once(|| unsafe {
            libc::atexit(flush_at_exit);
        });
    }
    if config.panic_hook {
        STATE.install_panic_hook_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                flush_within(Duration::from_secs(2));
                previous(info);
            }));
        });
    }
    if let Some(refused) = refused_env_filter {
        crate::diagnostics::refused_env_filter(&refused);
    }
    Ok(Guard { _private: () })
}

/// Opens the outputs `config` chooses, but for a console beside another
/// output (`config.console` stays set then): the sink the writer writes to,
/// and the path of the log that keys its staging files, if it writes one.
///
/// The binary output comes first and a JSON Lines output beside it gets
/// what it took; a JSON Lines output or a console alone is the only output
/// (the console then writes nothing to disk); with none chosen, the binary
/// log goes to [`Config::DEFAULT_OUTPUT`].
fn open_outputs(config: &mut Config) -> Result<(Box<dyn Sink>, Option<PathBuf>), InitError> {
    let open_error = |path: &Path| {
        let path = path.to_owned();
        move |source| InitError::Open { path, source }
    };
    let mut log_path = None;
    let chosen: Option<Box<dyn Sink>> = match config.output.take() {
        Some(Output::File(path)) => {
            let sink = FileSink::open(&path, &config.file).map_err(open_error(&path))?;
            log_path = Some(path);
            Some(Box::new(sink))
        }
        Some(Output::Sink(sink)) => Some(sink),
        None => None,
    };
    #[cfg(feature = "jsonl")]
    let chosen: Option<Box<dyn Sink>> = match config.jsonl.take() {
        Some(path) => {
            let options = config.jsonl_file.as_ref().unwrap_or(&config.file);
            let json = crate::sink::LiveSink::json_lines(&path, options).map_err(open_error(&path))?;
            Some(match chosen {
                Some(binary) => Box::new(crate::sink::Tee::new(binary, json)),
                None => {
                    log_path = Some(path);
                    Box::new(json)
                }
            })
        }
        None => chosen,
    };
    if let Some(sink) = chosen {
        return Ok((sink, log_path));
    }
    #[cfg(feature = "console")]
    if std::mem::take(&mut config.console) {
        return Ok((Box::new(crate::sink::LiveSink::console().map_err(InitError::Spawn)?), None));
    }
    let path = PathBuf::from(Config::DEFAULT_OUTPUT);
    let sink = FileSink::open(&path, &config.file).map_err(open_error(&path))?;
    Ok((Box::new(sink), Some(path)))
}

fn shutdown() {
    let Some(mut control) = STATE.stop(&mut STATE.control()) else {
        return;
    };
    let (ack, done) = flume::bounded(1);
    let mut clean = false;
    if control.commands.send(Command::Shutdown(ack)).is_ok() {
        control.writer.unpark();
        clean = wait_for_writer(&done, None);
    }
    if let Some(join) = control.join.take() {
        if std::thread::current().id() != control.writer_id() {
            let _ = join.join();
            let run = STATE.detach_run();
            if clean {
                // Everything staged has reached the sink.
                if let Some(run) = run {
                    run.remove();
                }
            } else {
                report_unwritten(run.as_deref());
            }
        }
    }
}

/// The writer died before it wrote everything: says on stderr exactly how
/// many events it left (staged, and dropped once the staging buffers were
/// full), and where they wait for the next run on the same log.
fn report_unwritten(run: Option<&crate::staging::Run>) {
    let (staged, dropped) = STATE.unwritten();
    let kept = match run {
        Some(run) => format!("they stay in {} and the next run on this log recovers them", run.dir().display()),
        None => "they are lost".to_owned(),
    };
    eprintln!("lmlog: the writer stopped early: {staged} events staged and {dropped} dropped were not written; {kept}");
}

/// Recovers what earlier processes on the log at `path` staged and never
/// wrote (appending it to `sink` before this run's first frame), then keeps
/// this run's rings in staging files. Failures leave logging running
/// without crash survival, with one line on stderr.
/// Returns whether this run's rings are in staging files.
fn start_crash_survival(path: &std::path::Path, sink: &mut dyn Sink, settings: &WriterSettings) -> bool {
    let recovery = lmlog_format::staging::recover_dead_runs(path, crate::clock::unix_nanos(), |stream| {
        sink.write_all(&stream.bytes).and_then(|()| sink.flush())
    });
    for (dir, reason) in &recovery.failed {
        eprintln!("lmlog: cannot recover the staging files in {}: {reason}", dir.display());
    }
    for stream in &recovery.streams {
        eprintln!("lmlog: recovered {stream} of an earlier process into {}", path.display());
    }
    match crate::staging::Run::create(path, &settings.session(sink.file_index(), crate::clock::anchor())) {
        Ok(run) => {
            STATE.attach_run(std::sync::Arc::new(run));
            true
        }
        Err(e) => {
            eprintln!("lmlog: events are not crash-safe: cannot create staging files: {e}");
            false
        }
    }
}

/// Returns once every event emitted (by any thread) before the call has been
/// handed to the sink and the sink flushed. Does nothing when the runtime is
/// not running. While the sink fails, the events are held by the writer (or
/// counted as lost) instead, and `flush` does not wait for the sink: see
/// [`sink_status`].
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
        let control = match STATE.try_control() {
            Some(control) => control,
            // Held by init/shutdown on this or another thread: wait for it
            // unless we might be inside it (a panic during init).
            None if timeout.is_some() => return,
            None => STATE.control(),
        };
        match &*control {
            // The writer cannot wait for itself.
            Some(c) if c.writer_id() != std::thread::current().id() => (c.commands.clone(), c.writer.clone()),
            _ => return,
        }
    };
    let (ack, done) = flume::bounded(1);
    if commands.send(Command::Flush(ack)).is_err() {
        return;
    }
    writer.unpark();
    wait_for_writer(&done, timeout);
}

/// Waits for the writer to acknowledge a command, at most `timeout`, and
/// no longer than the writer thread lives: a writer that died (a panic
/// outside any sink call) never acknowledges what it did not read, and the
/// queued command keeps the acknowledgement channel open.
/// Returns whether the writer acknowledged.
fn wait_for_writer(done: &flume::Receiver<()>, timeout: Option<Duration>) -> bool {
    /// How often a waiter checks that the writer still runs.
    const LIVENESS_CHECK: Duration = Duration::from_millis(20);
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice =
            deadline.map_or(LIVENESS_CHECK, |d| d.saturating_duration_since(Instant::now()).min(LIVENESS_CHECK));
        match done.recv_timeout(slice) {
            Ok(()) => return true,
            Err(flume::RecvTimeoutError::Disconnected) => return false,
            Err(flume::RecvTimeoutError::Timeout) => {
                if !STATE.writer_running() || deadline.is_some_and(|d| Instant::now() >= d) {
                    return false;
                }
            }
        }
    }
}

/// Whether a runtime is running (between [`init`] and dropping its guard).
pub fn is_active() -> bool {
    STATE.is_active()
}

/// The writer's view of its sink: the circuit breaker's state, failures,
/// what it holds in memory and what it lost. Reading it takes no lock (a
/// few relaxed atomic loads), so it may be polled, e.g. by a health check.
///
/// ```
/// let status = lmlog::sink_status();
/// if status.breaker != lmlog::BreakerState::Closed {
///     eprintln!("logging is degraded: {} events held, {} lost", status.spilled_events, status.lost_events);
/// }
/// ```
pub fn sink_status() -> SinkStatus {
    STATE.sink_health().read()
}

/// What the runtime did so far: events emitted, written, sampled out and
/// dropped, bytes written, sink errors, and figures for an operator (time
/// producers waited for room, how busy the writer is, the staging
/// high-water mark). See [`Stats`](crate::Stats) for each field.
///
/// The writer adds the counts up at each drain (producers write no shared
/// counter); after [`flush`] returns they include every event the calling
/// thread emitted before it, and, while the sink takes every batch,
/// `written + sampled_out + dropped == emitted`.
///
/// ```no_run
/// let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog"))?;
/// lmlog::lm_event!(info, "cache_miss", sample: 0.5, key = 7u32);
/// lmlog::flush();
/// let stats = lmlog::stats();
/// assert_eq!(stats.written + stats.sampled_out + stats.dropped, stats.emitted);
/// # Ok::<(), lmlog::InitError>(())
/// ```
pub fn stats() -> crate::Stats {
    STATE.stats().read(&STATE.sink_health().read())
}
