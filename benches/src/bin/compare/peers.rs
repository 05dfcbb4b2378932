//! Each logger under comparison, set up the way its users run it in
//! production: asynchronous, writing to a file, with nothing dropped unseen.
//!
//! Every peer logs the same three things: the 3-field `cache_miss` event, the
//! 8-field `Order` event and a call below the active level. The drivers in
//! `measure` are generic over [`Peer`], so each peer's calls are inlined into
//! the measured loop exactly like its users' code would be.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use lmlog::lm_event;
pub use lmlog_benches::Order;

/// The names the harness accepts, in the order the table shows them.
/// `lmlog-log` and `lmlog-tracing` are `log`'s and `tracing`'s macros
/// through lmlog's bridges, beside `tracing` (its JSON formatter) on the
/// same calls.
pub const NAMES: [&str; 7] = ["lmlog", "ticklog", "ftlog", "slog", "tracing", "lmlog-log", "lmlog-tracing"];

/// One logger, initialised for one run.
pub trait Peer: Sync + Sized {
    /// What the table calls it.
    const NAME: &'static str;
    /// The file in the run's directory the logger writes.
    const FILE: &'static str;
    /// The file is an lmlog file (decoded to be counted), not text.
    const BINARY: bool = false;
    /// Initialises the logger writing into `dir`.
    fn start(dir: &Path) -> Self;
    /// `cache_miss` with a ~10-byte `&str`, a `u32` and an `f64`.
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64);
    /// The 8-field event.
    fn order(&self, order: &Order<'_>);
    /// A call below the active level.
    fn disabled(&self, n: u32);
    /// Flushes everything and stops the logger's threads: when it returns,
    /// the file holds every event.
    fn finish(self) {
        drop(self);
    }
}

/// Lines of `path` that contain `needle`: the events that reached the file.
pub fn count_lines_containing(path: &Path, needle: &str) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut count = 0;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return count,
            Ok(_) => count += u64::from(finder.find(&line).is_some()),
        }
    }
}

pub struct Lmlog {
    _guard: lmlog::Guard,
}

/// lmlog as every peer here runs it: a file, `info`, nothing dropped.
fn start_lmlog(dir: &Path) -> lmlog::Guard {
    start_lmlog_with(dir, |config| config)
}

/// lmlog as [`start_lmlog`] runs it, with `adjust`'s settings on top (for
/// lmlog's own scenarios).
pub fn start_lmlog_with(dir: &Path, adjust: impl FnOnce(lmlog::Config) -> lmlog::Config) -> lmlog::Guard {
    let config = lmlog::Config::new()
        .output(dir.join(Lmlog::FILE))
        .filter("info")
        .env_filter(false)
        .overflow(lmlog::Overflow::Block)
        .flush_on_panic(false);
    lmlog::init(adjust(config)).expect("lmlog init")
}

impl Peer for Lmlog {
    const NAME: &'static str = "lmlog";
    const FILE: &'static str = "lmlog.lmlog";
    const BINARY: bool = true;

    fn start(dir: &Path) -> Self {
        Lmlog { _guard: start_lmlog(dir) }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        lm_event!(info, "cache_miss", key = key, shard = shard, latency_ms = latency_ms);
    }

    #[inline(always)]
    fn order(&self, order: &Order<'_>) {
        lm_event!(order);
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        lm_event!(debug, "verbose", n = n);
    }
}

pub struct Tracing {
    _guard: tracing_appender::non_blocking::WorkerGuard,
}

impl Peer for Tracing {
    const NAME: &'static str = "tracing";
    const FILE: &'static str = "tracing.log";

    fn start(dir: &Path) -> Self {
        let appender = tracing_appender::rolling::never(dir, Self::FILE);
        let (writer, guard) =
            tracing_appender::non_blocking::NonBlockingBuilder::default().lossy(false).finish(appender);
        let subscriber =
            tracing_subscriber::fmt().json().with_writer(writer).with_max_level(tracing::Level::INFO).finish();
        tracing::subscriber::set_global_default(subscriber).expect("tracing subscriber");
        Tracing { _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        Tracing::cache_miss_call(key, shard, latency_ms);
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        Tracing::order_call(o);
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        Tracing::disabled_call(n);
    }
}

/// The `tracing` calls, shared by the JSON formatter and lmlog's layer.
impl Tracing {
    #[inline(always)]
    fn cache_miss_call(key: &str, shard: u32, latency_ms: f64) {
        tracing::info!(key, shard, latency_ms, "cache_miss");
    }

    #[inline(always)]
    fn order_call(o: &Order<'_>) {
        tracing::info!(
            id = o.id,
            customer = o.customer,
            amount = o.amount,
            items = o.items,
            express = o.express,
            region = o.region,
            discount = ?o.discount,
            retries = o.retries,
            "order"
        );
    }

    #[inline(always)]
    fn disabled_call(n: u32) {
        tracing::debug!(n, "verbose");
    }
}

/// `log`'s macros through `lmlog::bridge::log`.
pub struct LogBridge {
    _guard: lmlog::Guard,
}

impl Peer for LogBridge {
    const NAME: &'static str = "lmlog-log";
    const FILE: &'static str = Lmlog::FILE;
    const BINARY: bool = true;

    fn start(dir: &Path) -> Self {
        let guard = start_lmlog(dir);
        lmlog::bridge::log::init().expect("lmlog's log bridge");
        LogBridge { _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        log::info!(key, shard, latency_ms; "cache_miss");
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        log::info!(
            id = o.id,
            customer = o.customer,
            amount = o.amount,
            items = o.items,
            express = o.express,
            region = o.region,
            discount:? = o.discount,
            retries = o.retries;
            "order"
        );
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        log::debug!(n; "verbose");
    }
}

/// `tracing`'s macros (the same calls as [`Tracing`]'s) through
/// `lmlog::bridge::tracing::layer()`.
pub struct TracingBridge {
    _guard: lmlog::Guard,
}

impl Peer for TracingBridge {
    const NAME: &'static str = "lmlog-tracing";
    const FILE: &'static str = Lmlog::FILE;
    const BINARY: bool = true;

    fn start(dir: &Path) -> Self {
        use tracing_subscriber::layer::SubscriberExt;
        let guard = start_lmlog(dir);
        let subscriber = tracing_subscriber::registry().with(lmlog::bridge::tracing::layer());
        tracing::subscriber::set_global_default(subscriber).expect("tracing subscriber");
        TracingBridge { _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        Tracing::cache_miss_call(key, shard, latency_ms);
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        Tracing::order_call(o);
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        Tracing::disabled_call(n);
    }
}

pub struct Slog {
    logger: slog::Logger,
    /// Dropped after `logger`: flushes the queue and joins the thread.
    _guard: slog_async::AsyncGuard,
}

impl Peer for Slog {
    const NAME: &'static str = "slog";
    const FILE: &'static str = "slog.log";

    fn start(dir: &Path) -> Self {
        use slog::Drain;
        let file = File::create(dir.join(Self::FILE)).expect("create slog file");
        let json = slog_json::Json::new(std::io::BufWriter::new(file)).add_default_keys().build().fuse();
        let (drain, guard) = slog_async::Async::new(json)
            .chan_size(64 * 1024)
            .overflow_strategy(slog_async::OverflowStrategy::Block)
            .build_with_guard();
        let drain = slog::LevelFilter::new(drain.fuse(), slog::Level::Info).fuse();
        Slog { logger: slog::Logger::root(drain, slog::o!()), _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        slog::info!(self.logger, "cache_miss"; "key" => key, "shard" => shard, "latency_ms" => latency_ms);
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        slog::info!(self.logger, "order";
            "id" => o.id, "customer" => o.customer, "amount" => o.amount, "items" => o.items,
            "express" => o.express, "region" => o.region, "discount" => ?o.discount, "retries" => o.retries);
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        // slog's own `debug!` is removed at compile time in release builds
        // (its default `release_max_level_info`), which would measure
        // nothing; `log!` with a run-time level goes through the filter.
        slog::log!(self.logger, slog::Level::Debug, "", "verbose"; "n" => n);
    }
}

pub struct Ftlog {
    _guard: ftlog::LoggerGuard,
}

impl Peer for Ftlog {
    const NAME: &'static str = "ftlog";
    const FILE: &'static str = "ftlog.log";

    fn start(dir: &Path) -> Self {
        let guard = ftlog::builder()
            .root(ftlog::appender::FileAppender::new(dir.join(Self::FILE)))
            .max_log_level(ftlog::LevelFilter::Info)
            .bounded(100_000, true)
            .try_init()
            .expect("ftlog init");
        Ftlog { _guard: guard }
    }

    #[inline(always)]
    fn cache_miss(&self, key: &str, shard: u32, latency_ms: f64) {
        log::info!("cache_miss key={} shard={} latency_ms={}", key, shard, latency_ms);
    }

    #[inline(always)]
    fn order(&self, o: &Order<'_>) {
        log::info!(
            "order id={} customer={} amount={} items={} express={} region={} discount={:?} retries={}",
            o.id,
            o.customer,
            o.amount,
            o.items,
            o.express,
            o.region,
            o.discount,
            o.retries
        );
    }

    #[inline(always)]
    fn disabled(&self, n: u32) {
        log::debug!("verbose n={}", n);
    }
}
