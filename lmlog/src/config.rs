//! [`Config`]: where events go and how the runtime behaves.

use std::path::PathBuf;
use std::time::Duration;

use crate::filter::{Filter, FilterError};
use crate::sampling::Sampler;
use crate::sink::{FileOptions, Sink};
use crate::Level;

/// What a producer does when its staging buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for the writer to make room: nothing is lost (the default).
    #[default]
    Block,
    /// Drop the event and count it; the count is written into the stream
    /// as an `lmlog.dropped` event as soon as there is room again.
    Drop,
}

/// Whether the writer LZ4-compresses records frames. Compression runs on the
/// writer thread, never on the calling thread; it costs the writer about
/// 0.8–1.5 ns per byte and typically shrinks records two to four times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Store records as encoded.
    Off,
    /// Compress the share of records frames the writer can afford (the
    /// default): everything while it has the time; when producers outrun
    /// it, as many as keep it busy 80 % of the wall time, spread evenly
    /// over the stream, and none from a staging buffer three quarters
    /// full, so producers do not wait for compression.
    #[default]
    Adaptive,
    /// Compress every records frame, even when producers then wait for room.
    Always,
}

/// Where the binary stream goes.
pub(crate) enum Output {
    File(PathBuf),
    Sink(Box<dyn Sink>),
}

/// Runtime configuration for [`init`](crate::init).
///
/// ```
/// use std::time::Duration;
/// let config = lmlog::Config::new()
///     .output("app.lmlog")
///     .filter("info,my_crate::db=debug")
///     .flush_interval(Duration::from_millis(50))
///     .rotate(64 << 20, 4)
///     .retain_max_age(Duration::from_secs(7 * 24 * 3600))
///     .service_name("checkout");
/// # drop(config);
/// ```
pub struct Config {
    /// The binary output; `None` until [`Config::output`] or
    /// [`Config::sink`] chooses one (see [`Config::new`] for the default).
    pub(crate) output: Option<Output>,
    #[cfg(feature = "jsonl")]
    pub(crate) jsonl: Option<PathBuf>,
    /// The JSON Lines file's own settings; `None`: those of [`Config::file`].
    #[cfg(feature = "jsonl")]
    pub(crate) jsonl_file: Option<FileOptions>,
    #[cfg(feature = "console")]
    pub(crate) console: bool,
    pub(crate) filter: Option<String>,
    pub(crate) use_env_filter: bool,
    pub(crate) buffer_capacity: usize,
    pub(crate) overflow: Overflow,
    pub(crate) flush_interval: Duration,
    pub(crate) file: FileOptions,
    pub(crate) service_name: Option<String>,
    /// Whether `OTEL_SERVICE_NAME` takes precedence over `service_name`:
    /// yes when a configuration file set it (the environment overrides
    /// files), no when code did.
    pub(crate) env_overrides_service_name: bool,
    pub(crate) service_version: Option<String>,
    /// The baggage keys recorded; `None`: all.
    pub(crate) baggage_keys: Option<Vec<String>>,
    pub(crate) service_instance_id: Option<String>,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) global_context: Vec<(String, crate::global_context::ContextValue)>,
    pub(crate) panic_hook: bool,
    pub(crate) compression: Compression,
    pub(crate) crash_recovery: bool,
    pub(crate) spill_capacity: usize,
    /// Events the flight recorder keeps per thread; 0: off.
    pub(crate) flight_recorder: usize,
    /// Level rates, the adaptive target, the sampler.
    pub(crate) sampling: crate::sampling::ProcessSampling,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let output = match &self.output {
            Some(Output::File(p)) => format!("file {}", p.display()),
            Some(Output::Sink(_)) => "custom sink".to_string(),
            None => "default".to_string(),
        };
        let mut debug = f.debug_struct("Config");
        debug.field("output", &output);
        #[cfg(feature = "jsonl")]
        debug.field("jsonl", &self.jsonl).field("jsonl_file", &self.jsonl_file);
        #[cfg(feature = "console")]
        debug.field("console", &self.console);
        debug
            .field("filter", &self.filter)
            .field("use_env_filter", &self.use_env_filter)
            .field("buffer_capacity", &self.buffer_capacity)
            .field("overflow", &self.overflow)
            .field("flush_interval", &self.flush_interval)
            .field("file", &self.file)
            .field("service_name", &self.service_name)
            .field("env_overrides_service_name", &self.env_overrides_service_name)
            .field("service_version", &self.service_version)
            .field("baggage_keys", &self.baggage_keys)
            .field("service_instance_id", &self.service_instance_id)
            .field("resource", &self.resource)
            .field("global_context", &self.global_context)
            .field("flush_on_panic", &self.panic_hook)
            .field("compression", &self.compression)
            .field("crash_recovery", &self.crash_recovery)
            .field("spill_capacity", &self.spill_capacity)
            .field("flight_recorder", &self.flight_recorder)
            .field("sampling", &self.sampling)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// Default staging buffer per producer thread.
    pub const DEFAULT_BUFFER_CAPACITY: usize = 1 << 20;
    /// Default longest time between an event and its write to the sink.
    pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(100);

    /// The binary log written when no output is chosen.
    pub const DEFAULT_OUTPUT: &'static str = "app.lmlog";

    /// Binary output to [`Config::DEFAULT_OUTPUT`] (`app.lmlog`) in the
    /// working directory, every level recorded (unless `LMLOG` says
    /// otherwise), blocking when full, written at least every
    /// [`Config::DEFAULT_FLUSH_INTERVAL`].
    ///
    /// The default binary file is written only when no output at all is
    /// chosen: [`Config::output_jsonl`] alone writes only JSON Lines, and
    /// [`Config::console`] alone only writes to standard error, nothing to
    /// disk.
    pub fn new() -> Config {
        Config {
            output: None,
            #[cfg(feature = "jsonl")]
            jsonl: None,
            #[cfg(feature = "jsonl")]
            jsonl_file: None,
            #[cfg(feature = "console")]
            console: false,
            filter: None,
            use_env_filter: true,
            buffer_capacity: Config::DEFAULT_BUFFER_CAPACITY,
            overflow: Overflow::Block,
            flush_interval: Config::DEFAULT_FLUSH_INTERVAL,
            file: FileOptions::new(),
            service_name: None,
            env_overrides_service_name: false,
            service_version: None,
            baggage_keys: None,
            service_instance_id: None,
            resource: Vec::new(),
            global_context: Vec::new(),
            panic_hook: true,
            compression: Compression::Adaptive,
            crash_recovery: true,
            spill_capacity: Config::DEFAULT_SPILL_CAPACITY,
            flight_recorder: 0,
            sampling: Default::default(),
        }
    }

    /// Writes the binary log to `path`, appending to what an earlier run
    /// left there (see [`Config::truncate`]). The file settings below
    /// (rotation, retention, truncation, mode) apply to it. Replaces a
    /// [`Config::sink`]; combines with [`Config::output_jsonl`] and
    /// [`Config::console`].
    pub fn output(mut self, path: impl Into<PathBuf>) -> Config {
        self.output = Some(Output::File(path.into()));
        self
    }

    /// Writes JSON Lines to `path`, decoding on a background thread (the
    /// same output `lmlog-decode` would give for the binary log). The file
    /// is appended to and rotates like the binary log (sizes count JSON
    /// bytes, and files are closed between lines, so a file overshoots its
    /// limit by at most one line). Lines are written through whenever the
    /// decoder has caught up with the writer, so `tail -f` shows each
    /// drain's events within the flush interval and a process that dies
    /// leaves only whole lines.
    ///
    /// Alone, it is the only output (no binary file is written), and its
    /// staging files make it crash-safe like the binary log. With
    /// [`Config::output`] (or [`Config::sink`]) both are written: the
    /// binary log first, then the JSON Lines decoded from exactly what the
    /// binary output took, before the writer goes on (so it waits for the
    /// slower of the two). The binary log's staging files cover both: a
    /// process death leaves both files holding the same events, and the
    /// next run recovers what was staged into both. A JSON file that
    /// fails is said on standard error and stops; the binary log goes on.
    /// Each file rotates on its own sizes; [`Config::jsonl_file_options`]
    /// gives the JSON file settings of its own.
    ///
    /// ```
    /// // The compact binary log, and JSON Lines for a log shipper.
    /// let config = lmlog::Config::new().output("app.lmlog").output_jsonl("app.jsonl").rotate(64 << 20, 8);
    /// # drop(config);
    /// ```
    #[cfg(feature = "jsonl")]
    pub fn output_jsonl(mut self, path: impl Into<PathBuf>) -> Config {
        self.jsonl = Some(path.into());
        self
    }

    /// Rotation, retention, truncation and mode of the JSON Lines file
    /// ([`Config::output_jsonl`]) when it should differ from the binary
    /// log's (by default the file settings of this `Config` apply to both).
    /// The only way to set them next to a custom [`Config::sink`].
    ///
    /// ```
    /// use lmlog::FileOptions;
    /// let config = lmlog::Config::new()
    ///     .output("app.lmlog")
    ///     .rotate(64 << 20, 8)
    ///     .output_jsonl("app.jsonl")
    ///     .jsonl_file_options(FileOptions::new().max_file_bytes(256 << 20).retain_max_files(2));
    /// # drop(config);
    /// ```
    #[cfg(feature = "jsonl")]
    pub fn jsonl_file_options(mut self, options: FileOptions) -> Config {
        self.jsonl_file = Some(options);
        self
    }

    /// Writes every event to standard error as a readable line, the
    /// `lmlog-decode --format pretty` format (time, level, event type,
    /// message, `key=value` fields, thread, source), coloured when standard
    /// error is a terminal and `NO_COLOR` is unset or empty.
    ///
    /// The lines are decoded from the binary stream on a background thread,
    /// never on the calling thread, and come in time order across threads:
    /// each appears once the drains after it (see
    /// [`Config::flush_interval`]) show that no older event is still to
    /// come, so within about two flush intervals; the guard's drop writes
    /// out the rest.
    ///
    /// Alone (`Config::new().console(true)`), it is the only output:
    /// nothing is written to disk (and [`init`](crate::init) refuses the
    /// file settings, which would apply to nothing). With a file output (`.output(path)`,
    /// `.output_jsonl(path)`) or a custom [`Config::sink`], that output
    /// gets each batch first and the console shows what it took. A console
    /// that cannot keep up (a slow terminal, a pipe read late) never slows
    /// the writer: once 64 batches wait for it, it leaves out the events of
    /// the next batches (keeping the call sites, threads and clock it needs
    /// for later ones) until it catches up, then says on standard error how
    /// many frames of events it did not show; the file has them all. Alone,
    /// the console is the output: producers wait for room as they would for
    /// a slow file (the default: nothing is lost), or with
    /// [`Overflow::Drop`] drop events and count them.
    ///
    /// ```no_run
    /// // See events while developing, keep the binary log.
    /// let _guard = lmlog::init(lmlog::Config::new().output("app.lmlog").console(true))?;
    /// # Ok::<(), lmlog::InitError>(())
    /// ```
    #[cfg(feature = "console")]
    pub fn console(mut self, enabled: bool) -> Config {
        self.console = enabled;
        self
    }

    /// Writes the binary stream to a custom [`Sink`], instead of a file. A
    /// custom sink rotates itself through the [`Sink`] trait:
    /// [`init`](crate::init) refuses the file settings (rotation,
    /// retention, truncation, mode) with it.
    pub fn sink(mut self, sink: impl Sink + 'static) -> Config {
        self.output = Some(Output::Sink(Box::new(sink)));
        self
    }

    /// Which levels to record, as a [`Filter`] string such as
    /// `info,my_crate::db=debug` (the directives of `tracing`'s
    /// `EnvFilter` that depend on the target and level). The `LMLOG`
    /// environment variable, when set, takes precedence (see
    /// [`Config::env_filter`]).
    ///
    /// A filter given here that does not parse makes [`init`](crate::init)
    /// fail with [`InitError::Filter`](crate::InitError::Filter). A bad
    /// `LMLOG` does not: the filter given here stays in force, `init` prints
    /// one warning on stderr and records an `lmlog.config_warning` event
    /// (fields `setting`, `value`, `error`).
    pub fn filter(mut self, filter: impl Into<String>) -> Config {
        self.filter = Some(filter.into());
        self
    }

    /// Whether the `LMLOG` environment variable overrides [`Config::filter`]
    /// (default: yes).
    pub fn env_filter(mut self, use_env: bool) -> Config {
        self.use_env_filter = use_env;
        self
    }

    /// Largest size of each producer thread's staging buffer in bytes
    /// (rounded up to a power of two, at least 4 KiB, at most 8 MiB;
    /// default 1 MiB). A thread starts with 64 KiB (or this, if smaller) and
    /// its buffer doubles when the writer finds it half full, so quiet and
    /// short-lived threads stay small. An event larger than the largest
    /// buffer is dropped and counted.
    pub fn buffer_capacity(mut self, bytes: usize) -> Config {
        self.buffer_capacity = bytes.clamp(4 << 10, 8 << 20);
        self
    }

    /// What to do when a staging buffer is full.
    pub fn overflow(mut self, overflow: Overflow) -> Config {
        self.overflow = overflow;
        self
    }

    /// Longest time an event waits in a staging buffer before the writer
    /// writes it (also bounded below by 1 ms).
    pub fn flush_interval(mut self, interval: Duration) -> Config {
        self.flush_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Rotates by size: closes the live file before it exceeds `max_bytes`
    /// (at least 4 KiB) and keeps the newest `keep` closed files
    /// ([`Config::retain_max_files`]).
    ///
    /// The live file keeps its name; each closed file gets the live name
    /// plus its ten-digit index in the series (`app.lmlog.0000000000`,
    /// `app.lmlog.0000000001`, …), so `ls` and a glob list the series oldest
    /// first. A restart continues the series: the index goes on from the
    /// highest closed file present. Each binary file is self-contained: it
    /// repeats the session header, every schema and every thread
    /// description, and its session records its index.
    pub fn rotate(mut self, max_bytes: u64, keep: u32) -> Config {
        self.file = self.file.max_file_bytes(max_bytes).retain_max_files(keep);
        self
    }

    /// Rotates by time: closes the live file at every multiple of `period`
    /// since the Unix epoch (UTC), e.g. `Duration::from_secs(3600)` on the
    /// hour, `Duration::from_secs(86_400)` at midnight UTC; combines with
    /// [`Config::rotate`] (whichever comes first). Periods shorter than a
    /// second are for tests. A live file last written in an earlier period
    /// is closed when the next run opens it. The binary output rotates at
    /// the first drain after the boundary (an idle file is closed too);
    /// the JSON Lines output before the first line written after it, so a
    /// JSON file holds the lines written in its period.
    pub fn rotate_every(mut self, period: Duration) -> Config {
        self.file = self.file.rotate_every(period);
        self
    }

    /// Keeps at most `files` closed files of the series, deleting the
    /// oldest (the live file does not count). Checked when the output is
    /// opened and after each rotation, like every retention limit.
    pub fn retain_max_files(mut self, files: u32) -> Config {
        self.file = self.file.retain_max_files(files);
        self
    }

    /// Deletes closed files of the series last written more than `age` ago.
    pub fn retain_max_age(mut self, age: Duration) -> Config {
        self.file = self.file.retain_max_age(age);
        self
    }

    /// Keeps the closed files of the series together under `bytes`,
    /// deleting the oldest first; the live file comes on top (bounded by
    /// [`Config::rotate`]'s size).
    pub fn retain_max_bytes(mut self, bytes: u64) -> Config {
        self.file = self.file.retain_max_bytes(bytes);
        self
    }

    /// Whether to empty the output file when it is opened, as lmlog 0.1 did
    /// (default: no, append). With rotation, only the live file is
    /// emptied: the closed files of the series stay (retention still
    /// applies) and the index continues after them.
    pub fn truncate(mut self, truncate: bool) -> Config {
        self.file = self.file.truncate(truncate);
        self
    }

    /// Permission bits of the log files lmlog creates, binary or JSON Lines
    /// (Unix; default `0o640`: owner read/write, group read, narrowed by the
    /// process umask as any file creation is). A file that already exists
    /// keeps its mode.
    pub fn file_mode(mut self, mode: u32) -> Config {
        self.file = self.file.mode(mode);
        self
    }

    /// The OpenTelemetry `service.name` recorded in the session header
    /// (default: `OTEL_SERVICE_NAME` if set; a name given in code wins
    /// over the variable, one from [`Config::from_file`] does not).
    pub fn service_name(mut self, name: impl Into<String>) -> Config {
        self.service_name = Some(name.into());
        self.env_overrides_service_name = false;
        self
    }

    /// Records only these OpenTelemetry baggage entries with each event
    /// (default: all of them). With the `otel` feature, an event emitted in
    /// a span's context carries the context's baggage and the span's trace
    /// state when they are not empty, decoded as `trace.baggage` (an
    /// object) and `trace.trace_state` (text). Outside a span nothing is
    /// looked up, so an event there costs nothing more (the look-up costs
    /// about as much as the rest of an event). An empty list records no
    /// baggage.
    ///
    /// ```
    /// let config = lmlog::Config::new().baggage_keys(["tenant", "request.id"]);
    /// # drop(config);
    /// ```
    pub fn baggage_keys<K: Into<String>>(mut self, keys: impl IntoIterator<Item = K>) -> Config {
        self.baggage_keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// The OpenTelemetry `service.version` recorded in the session header
    /// (default: from `OTEL_RESOURCE_ATTRIBUTES`, if it says).
    ///
    /// ```
    /// let config = lmlog::Config::new().service_name("checkout").service_version(env!("CARGO_PKG_VERSION"));
    /// # drop(config);
    /// ```
    pub fn service_version(mut self, version: impl Into<String>) -> Config {
        self.service_version = Some(version.into());
        self
    }

    /// The OpenTelemetry `service.instance.id` recorded in the session
    /// header (default: from `OTEL_RESOURCE_ATTRIBUTES`, else a random
    /// UUID per process, as the specification recommends).
    pub fn service_instance_id(mut self, id: impl Into<String>) -> Config {
        self.service_instance_id = Some(id.into());
        self
    }

    /// An extra resource attribute for the session header, such as
    /// `deployment.environment`. It wins over `OTEL_RESOURCE_ATTRIBUTES`
    /// and over what lmlog detects: `host.arch`, `os.type`, `os.version`,
    /// `telemetry.sdk.*`, `k8s.pod.name` and `k8s.namespace.name` (from
    /// `K8S_POD_NAME`/`POD_NAME`, `K8S_NAMESPACE`/`POD_NAMESPACE`, or the
    /// pod's host name and service account). `lmlog-decode --resource`
    /// shows them on every line; its OpenTelemetry outputs use them as the
    /// resource.
    pub fn resource(mut self, key: impl Into<String>, value: impl Into<String>) -> Config {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// A key of the global context, set when [`init`](crate::init) starts
    /// the runtime, as [`global_context::insert`](crate::global_context::insert)
    /// would: every event carries it until it is removed.
    ///
    /// ```no_run
    /// let config = lmlog::Config::new().global_context("region", "eu-west-1").global_context("replicas", 3);
    /// let _guard = lmlog::init(config)?;
    /// # Ok::<(), lmlog::InitError>(())
    /// ```
    pub fn global_context(
        mut self,
        key: impl Into<String>,
        value: impl Into<crate::global_context::ContextValue>,
    ) -> Config {
        self.global_context.push((key.into(), value.into()));
        self
    }

    /// Whether to install a panic hook that flushes before the previous hook
    /// runs (default: yes).
    pub fn flush_on_panic(mut self, install: bool) -> Config {
        self.panic_hook = install;
        self
    }

    /// Whether the writer compresses records (default:
    /// [`Compression::Adaptive`]).
    pub fn compression(mut self, compression: Compression) -> Config {
        self.compression = compression;
        self
    }

    /// Whether a file output's staging buffers live in files that outlive
    /// the process (default: yes, on Unix), so that events committed before
    /// a SIGKILL, `abort`, a segfault or `exit` are recovered into the log
    /// by the next `init` on the same output (or `lmlog-decode --recover`).
    /// The files are owner-only, under `/dev/shm/lmlog-UID/` (memory, never
    /// written to disk) or, without `/dev/shm`, in `.lmlog-staging` beside
    /// the log.
    pub fn crash_recovery(mut self, enabled: bool) -> Config {
        self.crash_recovery = enabled;
        self
    }

    /// Whether the console is the only output: nothing is written to disk.
    #[cfg(feature = "console")]
    pub(crate) fn console_alone(&self) -> bool {
        #[cfg(feature = "jsonl")]
        let jsonl = self.jsonl.is_some();
        #[cfg(not(feature = "jsonl"))]
        let jsonl = false;
        self.console && self.output.is_none() && !jsonl
    }

    /// The filter in force: `LMLOG` if it is set (and allowed) and parses,
    /// else the filter given in code, else every level. A bad filter in
    /// code is an error; a bad `LMLOG` is not (an environment variable must
    /// not stop the application): the filter from code stays in force and
    /// the refused value comes back, for `init` to say.
    pub(crate) fn resolved_filter(&self) -> Result<(Filter, Option<RefusedEnvFilter>), crate::filter::FilterError> {
        let from_code = match self.filter.as_deref() {
            Some(spec) => spec.parse()?,
            None => Filter::all(),
        };
        let Some(env) = self.use_env_filter.then(|| std::env::var("LMLOG").ok()).flatten() else {
            return Ok((from_code, None));
        };
        match env.parse() {
            Ok(filter) => Ok((filter, None)),
            Err(error) => Ok((from_code, Some(RefusedEnvFilter { value: env, error }))),
        }
    }

    /// Default for [`Config::spill_capacity`]: 64 MiB.
    pub const DEFAULT_SPILL_CAPACITY: usize = 64 << 20;

    /// Most bytes of frames the writer holds in memory while the sink
    /// fails (default [`Config::DEFAULT_SPILL_CAPACITY`]; 0 holds nothing).
    ///
    /// After three failed writes in a row the writer stops calling the sink
    /// and tries again after a back-off (10 ms, doubling to 5 s; see
    /// [`sink_status`](crate::sink_status)). Meanwhile it goes on draining
    /// the staging buffers into this spill buffer, so producers never wait
    /// on a broken sink. When the sink takes data again the held frames are
    /// written in order, followed by an `lmlog.writer_loss` event with exact
    /// counts. If the spill fills up, the newest events are dropped (and
    /// counted) until it has been written: what is kept is the start of the
    /// outage, where its cause shows, complete and in order.
    ///
    /// ```
    /// let config = lmlog::Config::new().output("app.lmlog").spill_capacity(16 << 20);
    /// # drop(config);
    /// ```
    pub fn spill_capacity(mut self, bytes: usize) -> Config {
        self.spill_capacity = bytes;
        self
    }

    /// Keeps the last `events` events that the filter turns away, per
    /// thread, in memory, and writes them just before an `error` event of
    /// the same thread: the context before a failure, at no disk cost when
    /// nothing fails (default 0: off).
    ///
    /// The events written so keep their own event type, fields and
    /// timestamps, and carry a mark (`"flight_recorder": true` in JSON
    /// Lines). What the recorder held and never wrote (no error followed,
    /// or newer events overwrote it) is not a loss: the filter turned it
    /// away, and it counts nowhere in [`stats`](crate::stats); an event it
    /// writes counts as emitted and written. With the recorder on, every
    /// call site takes the runtime's slow path (a few nanoseconds more per
    /// event; see the README). It records events of `lm_event!` and the
    /// derived event types, not those of the `log` and `tracing` bridges.
    ///
    /// ```
    /// let config = lmlog::Config::new().output("app.lmlog").filter("info").flight_recorder(64);
    /// # drop(config);
    /// ```
    pub fn flight_recorder(mut self, events: usize) -> Config {
        self.flight_recorder = events;
        self
    }
}

/// Process-wide sampling: which events are kept, beside the call sites'
/// own `sample:` and `rate_limit:`. Every event turned away is counted per
/// call site in `lmlog.sampled_out` (kept + sampled out = emitted, for
/// every site) and in [`Stats::sampled_out`](crate::Stats::sampled_out).
///
/// The rules combine: an event is kept only when all agree. Probabilities
/// multiply (level rate × adaptive probability × the [`Sampler`]'s
/// probability, decided by one draw, then the site's `sample:`), and rate
/// limits count what the probabilities kept (the site's `rate_limit:`, then
/// the sampler's). A call site none of them touches keeps its fast path;
/// the others' events take a slow path that costs a few nanoseconds more.
impl Config {
    /// Keeps a share `p` of the events of `level` (clamped to [0, 1]; 0
    /// keeps none and 1 all, exactly), at every call site.
    ///
    /// `warn` and `error` are never sampled out unless asked for:
    /// `sample_level(Level::Error, 0.5)` is allowed and does what it says,
    /// it keeps about half the errors (and counts the others).
    ///
    /// ```
    /// use lmlog::Level;
    /// // The Python LMLog's level-based sampler.
    /// let config = lmlog::Config::new()
    ///     .sample_level(Level::Debug, 0.1)
    ///     .sample_level(Level::Info, 0.5)
    ///     .sample_level(Level::Warn, 0.8);
    /// # drop(config);
    /// ```
    pub fn sample_level(mut self, level: Level, p: f64) -> Config {
        self.sampling.level_rates[level as usize] = Some(if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) });
        self
    }

    /// An adaptive target: keep about `per_second` events a second under
    /// any load (0, the default: no target).
    ///
    /// The writer thread measures the events it writes; at most once a
    /// second, when that rate is more than 10 % away from the target, it
    /// multiplies the keep probability of `trace`, `debug` and `info`
    /// events by `target / measured`, clamped to [0.001, 1], and publishes
    /// it for the call sites to read with one relaxed load. A load that
    /// steps up or down is back within ±20 % of the target in two
    /// corrections (the first measure may straddle the change), so within
    /// 3 s. `warn` and `error` events are kept (unless
    /// [`Config::sample_level`] samples them) and count toward the
    /// measure: while they alone exceed the target, the others are kept
    /// at the floor of 0.1 %. The probability multiplies the level rates.
    ///
    /// ```
    /// let config = lmlog::Config::new().output("app.lmlog").max_events_per_second(1000);
    /// # drop(config);
    /// ```
    pub fn max_events_per_second(mut self, per_second: u64) -> Config {
        self.sampling.max_events_per_second = per_second;
        self
    }

    /// A [`Sampler`]: a rule asked once per call site and event type for a
    /// [`SamplePolicy`](crate::SamplePolicy) (keep, a probability, a rate
    /// limit, drop), cached beside the site, so it costs nothing per event.
    /// A closure `|site: &SiteInfo| -> SamplePolicy` is one. Code only: a
    /// configuration file cannot name one.
    pub fn sampler(mut self, sampler: impl Sampler) -> Config {
        self.sampling.sampler = Some(std::sync::Arc::new(sampler));
        self
    }

    /// Whether process-wide sampling decisions (level rates, the adaptive
    /// target, a [`Sampler`]'s probabilities) derive from the active
    /// OpenTelemetry span's trace id (default: yes, with the `otel`
    /// feature). Then, for a given probability, all events of a trace are
    /// kept or dropped together, in every thread and every process that
    /// uses lmlog with the same rates. Outside a span, and for a call
    /// site's own `sample:` (whose fast path does not read the trace
    /// context), each thread draws from its own generator.
    pub fn trace_consistent_sampling(mut self, enabled: bool) -> Config {
        self.sampling.trace_consistent = enabled;
        self
    }
}

/// A value of `LMLOG` that does not parse: `init` keeps the filter given in
/// code, says so on stderr and records an `lmlog.config_warning` event.
#[derive(Debug)]
pub(crate) struct RefusedEnvFilter {
    pub value: String,
    pub error: FilterError,
}
