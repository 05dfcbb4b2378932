//! The writer thread: on each drain it takes what the runtime state holds
//! (ring snapshots, new call sites, loss counts), has the [`Framer`] turn it
//! into frames and the [`SinkDriver`] write them.
//!
//! It sleeps between drains (woken by the flush interval, a command, or a
//! producer whose ring passed half full), so producers' cache lines are left
//! alone between drains.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lmlog_format::{
    ClockAnchor, ClockInfo, ClockUpdate, ContextValue, EndInfo, FrameKind, GlobalContextReport, LossDetail, LossReport,
    SampledReport, SessionInfo, WriterLoss,
};

use crate::clock::{unix_nanos, RateRefiner, Startup};
use crate::compress_budget::{CompressBudget, DrainCost};
use crate::config::Compression;
use crate::driver::{Delivery, SinkDriver};
use crate::framer::{Drained, Framer};
use crate::ring::Ring;
use crate::sampling::{AdaptiveTarget, SampledLedger};
use crate::sink::Sink;
use crate::state::{Command, RingSnapshot, STATE};

/// How often a clock frame re-anchors ticks to wall time.
const ANCHOR_INTERVAL: Duration = Duration::from_secs(1);

/// What the writer needs from the configuration.
pub(crate) struct WriterSettings {
    pub flush_interval: Duration,
    pub compression: Compression,
    pub service_name: Option<String>,
    pub resource: Vec<(String, String)>,
    /// Source, provisional rate and first reading of the tick counter,
    /// taken by `init` over its own work; the writer refines the rate.
    pub clock: Startup,
    /// Bytes the sink driver holds while the sink fails.
    pub spill_capacity: usize,
    /// `Config::max_events_per_second`; 0: no adaptive target.
    pub max_events_per_second: u64,
}

impl WriterSettings {
    /// The session frame of a file with index `file_index`, its clock
    /// anchored at `anchor`.
    pub(crate) fn session(&self, file_index: u32, anchor: ClockAnchor) -> SessionInfo {
        SessionInfo {
            writer_version: env!("CARGO_PKG_VERSION").to_string(),
            clock: ClockInfo { anchor, ..self.clock.info },
            pid: std::process::id(),
            executable: std::env::current_exe().ok().map(|p| p.display().to_string()),
            hostname: hostname(),
            service_name: self.service_name.clone(),
            resource: self.resource.clone(),
            file_index,
        }
    }
}

pub(crate) struct Writer {
    settings: WriterSettings,
    framer: Framer,
    driver: SinkDriver,
    commands: flume::Receiver<Command>,
    /// Smoothed share of wall time the writer spends draining (for
    /// `lmlog::stats`).
    busy: f64,
    /// The share of records frames that [`Compression::Adaptive`]
    /// compresses, from what each drain cost.
    compress_budget: CompressBudget,
    /// When the previous drain started.
    last_drain: Instant,
    /// A ring was more than half full when the previous drain ended: its
    /// producer, which wakes the writer once each time its ring passes half
    /// full, has done so already, and would next wait for room. The writer
    /// drains again at once instead of sleeping.
    behind: bool,
    /// The clock reading the previous drain took before snapshotting the
    /// rings: the next watermark.
    last_drain_ticks: Option<u64>,
    last_anchor: Instant,
    /// The tick rate, refined over a growing baseline and published in
    /// clock frames.
    rate: RateRefiner,
    /// The shutdown's drain is under way: it publishes a clock frame, so
    /// that the last records convert between two readings.
    closing: bool,
    /// The anchor of the latest session or clock frame: a rotated file's
    /// session repeats it, so that ticks convert to the same times on both
    /// sides of the rotation (one drain's records can straddle it, and a
    /// time-ordered reader merges them).
    anchor: Option<ClockAnchor>,
    /// Scratch list of rings for one drain.
    rings: Vec<RingSnapshot>,
    lost_events_reported: u64,
    /// The framer's batch holds the driver's loss report.
    report_framed: bool,
    /// What the call sites' sampling turned away, and what was reported.
    sampled: SampledLedger,
    /// Scratch report of one drain.
    sampled_report: SampledReport,
    /// Ring records and bytes handed to the sink driver, for `lmlog::stats`.
    records_written: u64,
    bytes_written: u64,
    staging_high_water: u64,
    /// The global context before this drain's changes: what a new file
    /// starts with (then the drain's changes, `context_changes`).
    global_context: BTreeMap<String, ContextValue>,
    /// Scratch report of one drain's global-context changes.
    context_changes: GlobalContextReport,
    /// The OpenTelemetry instruments and this drain's tallies.
    #[cfg(feature = "otel-metrics")]
    metrics: crate::metrics::Metrics,
    /// The adaptive target's controller, fed the records written, and the
    /// writer's start (its clock).
    adaptive: Option<AdaptiveTarget>,
    started: Instant,
}

impl Writer {
    pub(crate) fn new(sink: Box<dyn Sink>, commands: flume::Receiver<Command>, settings: WriterSettings) -> Writer {
        // Before the thread starts: producers may wait for it from `init` on.
        STATE.set_writer_running(true);
        crate::sampling::set_ticks_per_second(settings.clock.info.ticks_per_second);
        let rate = RateRefiner::new(settings.clock);
        let spill_capacity = settings.spill_capacity;
        let adaptive =
            (settings.max_events_per_second > 0).then(|| AdaptiveTarget::new(settings.max_events_per_second, 0.0, 0));
        Writer {
            settings,
            framer: Framer::new(),
            driver: SinkDriver::new(sink, spill_capacity, STATE.sink_health()),
            commands,
            busy: 0.0,
            compress_budget: CompressBudget::default(),
            last_drain: Instant::now(),
            behind: false,
            last_drain_ticks: None,
            last_anchor: Instant::now(),
            rate,
            closing: false,
            anchor: None,
            rings: Vec::new(),
            lost_events_reported: STATE.lost_events(),
            report_framed: false,
            sampled: SampledLedger::default(),
            sampled_report: SampledReport::default(),
            records_written: 0,
            bytes_written: 0,
            staging_high_water: 0,
            global_context: STATE.restart_global_context(),
            context_changes: GlobalContextReport::default(),
            #[cfg(feature = "otel-metrics")]
            metrics: crate::metrics::Metrics::new(),
            adaptive,
            started: Instant::now(),
        }
    }

    /// Writes the start of the output (session, schemas so far) and has
    /// the sink flush it; `init` calls it before the thread starts. If the
    /// sink fails, the first drain starts the file again.
    pub(crate) fn start_output(&mut self) {
        self.start_file();
        self.write_out();
        self.driver.flush();
    }

    pub(crate) fn run(mut self) {
        let _exit = WriterExit;
        loop {
            // Wake for the sink's next trial if it comes before the next drain.
            let interval = self.settings.flush_interval;
            if !self.behind {
                std::thread::park_timeout(self.driver.trial_in().map_or(interval, |trial| trial.min(interval)));
            }
            #[cfg(unix)]
            let fatal_signal = crate::fatal::pending();
            self.drain();
            #[cfg(unix)]
            if let Some(request) = fatal_signal {
                // A thread is dying of a fatal signal: what it and the
                // others committed goes to the sink before it does.
                self.driver.flush();
                crate::fatal::served(request);
            }
            while let Ok(command) = self.commands.try_recv() {
                match command {
                    Command::Flush(ack) => {
                        self.drain();
                        self.driver.flush();
                        let _ = ack.send(());
                    }
                    Command::Shutdown(ack) => {
                        // A failing sink gets one last trial, whatever its back-off.
                        self.driver.expedite();
                        self.closing = true;
                        self.drain();
                        self.framer.meta(
                            FrameKind::End,
                            &EndInfo { reason: EndInfo::SHUTDOWN.into(), unix_nanos: unix_nanos() },
                        );
                        self.write_out();
                        self.driver.flush();
                        self.driver.finish();
                        let _ = ack.send(());
                        return;
                    }
                }
            }
        }
    }

    /// Frames the start of a file: session header and every schema so far.
    fn start_file(&mut self) {
        let anchor = match self.anchor {
            Some(anchor) => anchor,
            None => {
                self.last_anchor = Instant::now();
                *self.anchor.insert(crate::clock::anchor())
            }
        };
        let session = self.settings.session(self.driver.file_index(), anchor);
        let interned = STATE.interned(0, STATE.interned_count());
        self.framer.start_file(&session, &interned);
        // The session carries the provisional rate (the same in every file
        // of the process); a file decoded alone converts with the refined
        // one too.
        let ticks_per_second = self.rate.ticks_per_second();
        if ticks_per_second != session.clock.ticks_per_second {
            self.framer.meta(FrameKind::Clock, &ClockUpdate { anchor, ticks_per_second: Some(ticks_per_second) });
        }
        // The context before this drain, then the drain's changes with
        // their ticks: a rotation in the middle of a drain starts a file
        // whose records may be older than some of the changes.
        let mut snapshot = crate::global_context::snapshot(&self.global_context);
        snapshot.changes.extend_from_slice(&self.context_changes.changes);
        if !snapshot.changes.is_empty() {
            self.framer.meta(FrameKind::GlobalContext, &snapshot);
        }
    }

    /// Frames the global-context changes made since the previous drain, in
    /// front of this drain's records. Taken after the rings' tails: a
    /// record committed before a change is then framed with it or earlier,
    /// and the decoder, which looks changes up by tick count, never sees a
    /// record newer than a change before that change. They join
    /// `global_context` when the drain ends ([`Self::settle_global_context`]).
    fn frame_global_context(&mut self) {
        let report = &mut self.context_changes;
        STATE.take_global_context_changes(&mut report.changes);
        if report.changes.is_empty() {
            return;
        }
        self.framer.meta(FrameKind::GlobalContext, report);
        if let Some(run) = STATE.run() {
            run.append_meta(FrameKind::GlobalContext, &lmlog_format::schema::to_payload(report));
        }
    }

    /// The drain's records are framed: its global-context changes are what
    /// the next file starts from.
    fn settle_global_context(&mut self) {
        for change in self.context_changes.changes.drain(..) {
            crate::global_context::apply(&mut self.global_context, &change.op);
        }
    }

    fn drain(&mut self) {
        let started = Instant::now();
        self.drain_rings();
        let spent = started.elapsed().as_secs_f64();
        let period = started.duration_since(self.last_drain).as_secs_f64();
        self.last_drain = started;
        if period > 0.0 {
            self.busy = 0.7 * self.busy + 0.3 * (spent / period).min(1.0);
        }
        let tally = self.framer.take_compression_tally();
        if tally.records_bytes == 0 {
            // Behind only while draining makes progress: a drain that framed
            // nothing (a sink that holds everything back) sleeps as usual
            // rather than spin.
            self.behind = false;
        }
        self.compress_budget.observe(DrainCost { period_seconds: period, spent_seconds: spent, tally });
    }

    fn drain_rings(&mut self) {
        // Read before any ring: see `Framer::end_drain`.
        let drain_ticks = crate::clock::now();
        // Before anything is framed: the loss report must follow what the
        // spill held.
        self.driver.retry();
        if self.driver.wants_rotation() {
            self.rotate();
        }
        if self.framer.needs_file_start() {
            self.start_file();
        }
        self.frame_loss_report();
        let mut rings = std::mem::take(&mut self.rings);
        STATE.snapshot_rings(&mut rings);
        self.frame_global_context();
        let staged: u64 = rings.iter().map(|r| r.snapshot.tail - r.ring.released()).sum();
        self.staging_high_water = self.staging_high_water.max(staged);
        // Read before the number of call sites: covers every id they name.
        self.sampled_report.sites.clear();
        self.sampled_report.ticks = crate::clock::now();
        STATE.collect_sampled(&mut self.sampled, &mut self.sampled_report.sites);
        // Loaded after the tails: covers every id the drained records use.
        let written = self.framer.schemas_written();
        let count = STATE.interned_count();
        if count > written {
            self.framer.schemas(&STATE.interned(written, count));
        }
        #[cfg(feature = "otel-metrics")]
        if count > self.metrics.sites_known() {
            self.metrics.learn(&STATE.interned(self.metrics.sites_known(), count));
        }
        // After the rings' tails, before their records: the drain's records
        // convert between the start's reading and this one.
        if self.closing || self.rate.due() || self.last_anchor.elapsed() >= ANCHOR_INTERVAL {
            self.publish_clock();
        }
        let (share, spare_full_rings) = match self.settings.compression {
            Compression::Off => (0.0, false),
            Compression::Adaptive => (self.compress_budget.share(), true),
            Compression::Always => (1.0, false),
        };
        self.framer.compress_share(share, spare_full_rings);
        let mut room = self.driver.room();
        for (i, RingSnapshot { ring, snapshot, .. }) in rings.iter().enumerate() {
            loop {
                #[cfg(not(feature = "otel-metrics"))]
                let drained = self.framer.records(ring, *snapshot, room);
                #[cfg(feature = "otel-metrics")]
                let drained =
                    self.framer.records_observed(ring, *snapshot, room, |records| self.metrics.observe(records));
                match drained {
                    Drained::All => break,
                    Drained::FileFull => {
                        // Rotate before the chunk that would not fit; if
                        // rotating fails (or waits for the spill) the file
                        // goes on growing rather than stopping here.
                        let rotated = self.rotate();
                        room = if rotated && !self.framer.needs_file_start() { self.driver.room() } else { None };
                    }
                    Drained::BatchFull => {
                        self.write_out();
                        room = room.and(self.driver.room());
                    }
                }
                // What was written is handed back to its producers now.
                for RingSnapshot { ring, .. } in &rings[..=i] {
                    ring.release();
                }
            }
        }
        self.settle_global_context();
        if !self.sampled_report.sites.is_empty() {
            self.framer.meta(FrameKind::Sampled, &self.sampled_report);
        }
        let lost = STATE.lost_events();
        if lost > self.lost_events_reported {
            let now = unix_nanos();
            let count = lost - self.lost_events_reported;
            self.lost_events_reported = lost;
            self.framer.meta(
                FrameKind::Loss,
                &LossReport {
                    loss: WriterLoss {
                        frames: 0,
                        bytes: 0,
                        reason: format!(
                            "{count} events emitted during thread exit or from inside an encoder were dropped"
                        ),
                        first_unix_nanos: now,
                        last_unix_nanos: now,
                    },
                    detail: Some(LossDetail { events: count, ..LossDetail::default() }),
                },
            );
        }
        self.framer.end_drain(self.last_drain_ticks);
        self.last_drain_ticks = Some(drain_ticks);
        self.write_out();
        // Only now may producers reuse what was drained: until the sink has
        // it, a process death leaves it in the staging files.
        self.behind = false;
        for RingSnapshot { ring, closed, .. } in &rings {
            ring.release();
            self.behind |= ring.snapshot().tail - ring.released() > ring.capacity() / 2;
            if *closed {
                self.retire(ring);
            }
        }
        rings.clear();
        self.rings = rings;
        self.publish_stats();
        #[cfg(feature = "otel-metrics")]
        self.metrics.end_drain(&self.sampled_report.sites, crate::stats().dropped);
        if let Some(adaptive) = &mut self.adaptive {
            if let Some(p) = adaptive.observe(self.started.elapsed().as_secs_f64(), self.records_written) {
                crate::sampling::publish_adaptive(p);
            }
        }
    }

    /// Frames a clock frame: a fresh anchor and the rate measured from the
    /// process's first reading to now; the staging files get it too.
    fn publish_clock(&mut self) {
        let ticks_per_second = self.rate.refine();
        self.last_anchor = Instant::now();
        let anchor = crate::clock::anchor();
        self.anchor = Some(anchor);
        let update = ClockUpdate { anchor, ticks_per_second: Some(ticks_per_second) };
        self.framer.meta(FrameKind::Clock, &update);
        if let Some(run) = STATE.run() {
            run.append_meta(FrameKind::Clock, &lmlog_format::schema::to_payload(&update));
        }
    }

    /// Publishes what `lmlog::stats` reads. Producers' drop reports are
    /// records of the rings but not events.
    fn publish_stats(&self) {
        let totals = self.sampled.totals();
        let ticks_per_second = self.rate.ticks_per_second();
        STATE.stats().publish(&crate::stats::Stats {
            written: self.records_written.saturating_sub(totals.drop_reports),
            sampled_out: self.sampled.reported_total(),
            dropped: self.framer.drops_reported() + totals.drops_reported + STATE.lost_events(),
            bytes_written: self.bytes_written,
            blocked_nanos: (totals.blocked_ticks as f64 * 1e9 / ticks_per_second) as u64,
            writer_busy_permille: (self.busy * 1000.0) as u64,
            staging_high_water_bytes: self.staging_high_water,
            ..Default::default()
        });
    }

    /// Retires a drained ring of an exited thread (or one its thread left
    /// for a bigger ring).
    fn retire(&mut self, ring: &Arc<Ring>) {
        if ring.snapshot().tail == ring.released() {
            if !ring.is_superseded() {
                self.framer.forget_thread(ring.thread_id());
            }
            STATE.retire_ring(ring);
        }
    }

    /// Ends the file and starts a new one; returns whether it did (the
    /// sink may fail to, and the driver waits while it holds frames of the
    /// current file).
    fn rotate(&mut self) -> bool {
        // A pending loss report belongs to the file whose frames were lost.
        self.frame_loss_report();
        self.framer.meta(FrameKind::End, &EndInfo { reason: EndInfo::ROTATED.into(), unix_nanos: unix_nanos() });
        self.write_out();
        let rotated = self.driver.rotate().is_ok();
        if rotated {
            self.start_file();
        }
        rotated
    }

    /// Frames the sink driver's pending loss report, once per batch.
    fn frame_loss_report(&mut self) {
        if let (Some(report), false) = (self.driver.loss_report(), self.report_framed) {
            self.framer.meta(FrameKind::Loss, report);
            self.report_framed = true;
        }
    }

    /// Writes what the framer holds.
    fn write_out(&mut self) {
        if self.framer.is_empty() {
            return;
        }
        let (records, bytes) = (self.framer.batch_records(), self.framer.batch().bytes.len() as u64);
        match self.driver.write(self.framer.batch(), std::mem::take(&mut self.report_framed)) {
            // Held frames reach the sink before anything framed later, so
            // what they describe counts as described.
            Delivery::Written | Delivery::Spilled => {
                self.records_written += records;
                self.bytes_written += bytes;
                self.framer.delivered()
            }
            Delivery::Dropped => self.framer.lost(),
        }
    }
}

/// Lives as long as the writer thread's `run`: when it ends, by a panic
/// too, producers stop waiting for room and drop (and count) what does not
/// fit instead of hanging.
struct WriterExit;

impl Drop for WriterExit {
    fn drop(&mut self) {
        STATE.set_writer_running(false);
        if std::thread::panicking() {
            eprintln!(
                "lmlog: the writer thread panicked; events are no longer written, and producers whose staging \
                 buffer is full drop them instead of waiting"
            );
        }
    }
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|h| !h.is_empty())
}
