//! Frames → sink: the writer thread's I/O half.
//!
//! The [`SinkDriver`] owns the sink and decides when to call it:
//!
//! - Every call is made under `catch_unwind`: a sink that panics is a sink
//!   that failed, and the writer thread lives on.
//! - A [`Breaker`] counts failures in a row. Fewer than
//!   [`FAILURES_TO_OPEN`](breaker::FAILURES_TO_OPEN) (3) are retried at the
//!   next drain; then it opens and the sink is left alone for a back-off
//!   (10 ms, doubling after each failed trial up to 5 s) before one trial
//!   write.
//! - What the sink does not take goes to the [`Spill`], in order, up to its
//!   capacity; the writer keeps draining the staging rings into it, so
//!   producers never wait on a broken sink. A batch the spill does not take
//!   is dropped whole and counted (frames, bytes, and events: its records
//!   and the counts of loss reports it held), and the writer has the framer
//!   describe again the schemas and threads it described.
//! - When a trial succeeds, the spill is written first, in order, then the
//!   outage's [`LossReport`] heads the next batch (the writer frames it
//!   there): exact counts of what was lost, which end of the spill gave
//!   way, the failed calls, the events written late, the first failure and
//!   the recovery. No batch is written while a report is pending unless it
//!   carries it, so the report is always the first frame after the frames it
//!   counts: the one gap in the file's frame numbers (see [`spill`]).
//! - A file is never rotated while the spill holds frames of it.
//!
//! It holds no global state (it publishes a [`SinkStatus`] into the
//! [`SinkHealth`] it is given), so it is tested in-process with failing
//! sinks.

mod breaker;
mod spill;

use std::any::Any;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use lmlog_format::frame::{FrameHeader, FRAME_HEADER_LEN, PREAMBLE_LEN};
use lmlog_format::{DroppedEnd, FrameKind, LossDetail, LossReport, WriterLoss, FORMAT_VERSION, MAGIC};

use breaker::Breaker;
use spill::Spill;

use crate::clock::unix_nanos;
use crate::framer::Batch;
use crate::sink::Sink;
use crate::status::{BreakerState, SinkHealth, SinkStatus};

/// What became of a batch handed to [`SinkDriver::write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The sink took it.
    Written,
    /// Held in the spill: the sink gets it, in order, before anything later.
    Spilled,
    /// Neither: counted in the pending loss report. What it described
    /// (schemas, threads, a file's start) must be described again.
    Dropped,
}

/// See the module documentation.
pub(crate) struct SinkDriver {
    sink: GuardedSink,
    spill: Spill,
    /// The record of the current outage: pending until a batch carrying it
    /// is written, or held in the spill (which writes it in its turn).
    report: Option<LossReport>,
    /// Totals since the driver started, for [`SinkStatus`].
    lost_events: u64,
    lost_frames: u64,
}

impl SinkDriver {
    /// Drives `sink`, holding at most `spill_capacity` bytes while it fails
    /// (0: nothing is held, a batch the sink does not take is dropped), and
    /// publishing its state in `health`.
    pub(crate) fn new(sink: Box<dyn Sink>, spill_capacity: usize, health: &'static SinkHealth) -> SinkDriver {
        let driver = SinkDriver {
            sink: GuardedSink { sink, breaker: Breaker::default(), failed_calls: 0, health },
            spill: Spill::new(spill_capacity),
            report: None,
            lost_events: 0,
            lost_frames: 0,
        };
        driver.publish();
        driver
    }

    /// Writes what the spill holds, if the breaker allows a call now: the
    /// writer calls it at the start of every drain, before it frames
    /// anything, so that the loss report can follow the spilled frames.
    pub(crate) fn retry(&mut self) {
        if self.spill.is_empty() || !self.sink.breaker.allows(Instant::now()) {
            return;
        }
        while let Some(bytes) = self.spill.next() {
            match self.sink.call(Call::Write, |sink| sink.write_all(bytes)) {
                Ok(()) => self.spill.pop(),
                Err(reason) => {
                    self.note_failure(reason);
                    break;
                }
            }
        }
        self.publish();
    }

    /// The loss report to frame at the head of the next batch: there is
    /// one, nothing is held before it, and the breaker lets that batch be
    /// tried. Its last instant is now.
    pub(crate) fn loss_report(&mut self) -> Option<&LossReport> {
        if !self.spill.is_empty() || !self.sink.breaker.allows(Instant::now()) {
            return None;
        }
        let report = self.report.as_mut()?;
        report.loss.last_unix_nanos = unix_nanos();
        Some(report)
    }

    /// Writes a batch, or holds it, or drops it; `carries_report` says it
    /// begins with the current [`loss_report`](Self::loss_report).
    pub(crate) fn write(&mut self, batch: Batch<'_>, carries_report: bool) -> Delivery {
        if batch.bytes.is_empty() {
            return Delivery::Written;
        }
        let mut failure = None;
        let in_turn = self.spill.is_empty() && (self.report.is_none() || carries_report);
        if in_turn && self.sink.breaker.allows(Instant::now()) {
            match self.sink.call(Call::Write, |sink| sink.write_all(batch.bytes)) {
                Ok(()) => {
                    self.spill.sink_recovered();
                    if carries_report {
                        self.report_delivered();
                    }
                    self.publish();
                    return Delivery::Written;
                }
                Err(reason) => failure = Some(reason),
            }
        }
        let delivery = self.keep(&batch, carries_report);
        if let Some(reason) = failure {
            self.note_failure(reason);
        }
        self.publish();
        delivery
    }

    /// Flushes the sink, unless it is failing (frames wait in the spill, or
    /// the breaker is open): then there is nothing it could flush.
    pub(crate) fn flush(&mut self) {
        if !self.may_rotate() {
            return;
        }
        if let Err(reason) = self.sink.call(Call::Flush, |sink| sink.flush()) {
            self.note_failure(reason);
            self.publish();
        }
    }

    /// Whether the sink wants a new file before the next write (never while
    /// the spill holds frames of the current one).
    pub(crate) fn wants_rotation(&mut self) -> bool {
        self.may_rotate() && self.call_or(Call::WantsRotation, false, |sink| Ok(sink.wants_rotation()))
    }

    /// Starts a new file; on failure the sink keeps the current one and
    /// the failure is reported with the next batch. Refused, without a
    /// failure, while the spill holds frames of the current file.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        if !self.may_rotate() {
            return Err(io::Error::other("rotation waits until the sink has taken the spilled frames"));
        }
        self.sink.call(Call::Rotate, |sink| sink.rotate()).map_err(|reason| {
            self.note_failure(reason.clone());
            self.publish();
            io::Error::other(reason)
        })
    }

    /// Bytes the sink's current file may still take before it must rotate
    /// (`None`: no size limit, or none while the sink fails: a file is not
    /// rotated while the spill holds frames of it).
    pub(crate) fn room(&mut self) -> Option<u64> {
        if !self.may_rotate() {
            return None;
        }
        self.call_or(Call::Room, None, |sink| Ok(sink.room()))
    }

    /// Index of the sink's current file in its rotated series.
    pub(crate) fn file_index(&mut self) -> u32 {
        self.call_or(Call::FileIndex, 0, |sink| Ok(sink.file_index()))
    }

    /// How long the writer may sleep before a trial is due (zero if it is),
    /// while something waits for one; `None` otherwise.
    pub(crate) fn trial_in(&self) -> Option<Duration> {
        if self.spill.is_empty() && self.report.is_none() {
            return None;
        }
        self.sink.breaker.trial_in(Instant::now())
    }

    /// Makes a trial due now, whatever is left of the back-off: the last
    /// chance before shutdown.
    pub(crate) fn expedite(&mut self) {
        self.sink.breaker.expedite(Instant::now());
    }

    /// The runtime stops: what was never written (held in the spill, or
    /// counted in a report that never reached the sink) is lost. Says so on
    /// standard error with exact counts, and in the published status.
    pub(crate) fn finish(&mut self) {
        let held = self.spill.held();
        let (reason, mut events, mut frames, mut bytes) = match &self.report {
            Some(report) => {
                let events = report.detail.map_or(0, |d| d.events);
                (report.loss.reason.as_str(), events, report.loss.frames, report.loss.bytes)
            }
            None if held.frames > 0 => ("", 0, 0, 0),
            None => return,
        };
        events += held.events;
        frames += held.frames;
        bytes += held.bytes;
        eprintln!(
            "lmlog: the sink still fails at shutdown ({reason}): {events} events ({frames} frames, {bytes} bytes) \
             were never written"
        );
        self.lost_events += held.events;
        self.lost_frames += held.frames;
        self.spill.clear();
        self.report = None;
        self.publish();
    }

    /// Whether the sink may get calls other than writes: it is not
    /// failing (nothing held, breaker not open).
    fn may_rotate(&self) -> bool {
        self.spill.is_empty() && !self.sink.breaker.is_open()
    }

    /// `op` on the sink, or `fallback` if it fails (counted).
    fn call_or<T>(&mut self, call: Call, fallback: T, op: impl FnOnce(&mut dyn Sink) -> io::Result<T>) -> T {
        match self.sink.call(call, op) {
            Ok(value) => value,
            Err(reason) => {
                self.note_failure(reason);
                self.publish();
                fallback
            }
        }
    }

    /// A batch the sink did not take: held if the spill has room, else
    /// dropped and counted.
    fn keep(&mut self, batch: &Batch<'_>, carries_report: bool) -> Delivery {
        if self.spill.hold(batch) {
            if carries_report {
                // The report travels in the spill; what follows is counted
                // in a new one.
                self.report = None;
            }
            self.outage().detail.get_or_insert_default().delayed_events += batch.events;
            return Delivery::Spilled;
        }
        let inner = loss_reports_in(batch.bytes, carries_report);
        let report = self.outage();
        report.loss.frames += batch.frames + inner.frames;
        report.loss.bytes += batch.bytes.len() as u64 + inner.bytes;
        let detail = report.detail.get_or_insert_default();
        detail.events += batch.events + inner.events;
        detail.dropped_end = DroppedEnd::Newest;
        self.lost_events += batch.events + inner.events;
        self.lost_frames += batch.frames;
        Delivery::Dropped
    }

    /// The current outage's report, started now if there is none.
    fn outage(&mut self) -> &mut LossReport {
        self.report.get_or_insert_with(|| {
            let now = unix_nanos();
            LossReport {
                loss: WriterLoss {
                    frames: 0,
                    bytes: 0,
                    reason: String::new(),
                    first_unix_nanos: now,
                    last_unix_nanos: now,
                },
                detail: Some(LossDetail::default()),
            }
        })
    }

    /// Counts a failed sink call in the outage's report; the first failure
    /// of an outage gives its reason and is said on standard error.
    fn note_failure(&mut self, reason: String) {
        let capacity = self.spill.capacity();
        let report = self.outage();
        report.detail.get_or_insert_default().failed_writes += 1;
        if report.loss.reason.is_empty() {
            let held = if capacity > 0 {
                format!("events are held in memory (up to {capacity} bytes) until it takes data again")
            } else {
                "batches it does not take are dropped".to_string()
            };
            eprintln!("lmlog: {reason}; {held}, and what is lost is counted in the stream");
            report.loss.reason = reason;
        }
    }

    /// A batch carrying the report was written.
    fn report_delivered(&mut self) {
        if let Some(LossReport { detail: Some(detail), .. }) = self.report.take() {
            eprintln!(
                "lmlog: the sink takes data again after {} failed calls: {} events lost, {} written late",
                detail.failed_writes, detail.events, detail.delayed_events
            );
        }
    }

    fn publish(&self) {
        let held = self.spill.held();
        self.sink.health.publish(&SinkStatus {
            breaker: self.sink.breaker.state(),
            consecutive_failures: self.sink.breaker.consecutive_failures(),
            failed_writes: self.sink.failed_calls,
            spilled_bytes: held.bytes,
            spilled_events: held.events,
            lost_events: self.lost_events,
            lost_frames: self.lost_frames,
        });
    }
}

/// The sink behind the circuit breaker.
struct GuardedSink {
    sink: Box<dyn Sink>,
    breaker: Breaker,
    /// Calls that failed, since the driver started.
    failed_calls: u64,
    health: &'static SinkHealth,
}

/// A call into the sink.
#[derive(Debug, Clone, Copy)]
enum Call {
    Write,
    Flush,
    Rotate,
    WantsRotation,
    Room,
    FileIndex,
}

impl Call {
    /// The [`Sink`] method.
    fn method(self) -> &'static str {
        match self {
            Call::Write => "write_all",
            Call::Flush => "flush",
            Call::Rotate => "rotate",
            Call::WantsRotation => "wants_rotation",
            Call::Room => "room",
            Call::FileIndex => "file_index",
        }
    }

    /// What failed, in a report's reason.
    fn noun(self) -> &'static str {
        match self {
            Call::Write => "write",
            Call::Flush => "flush",
            Call::Rotate => "rotation",
            Call::WantsRotation | Call::Room | Call::FileIndex => self.method(),
        }
    }
}

impl GuardedSink {
    /// Calls `op` on the sink; an error or a panic is a failure, counted
    /// by the breaker and returned as the reason. A successful write closes
    /// the breaker. A call while the breaker is open is its trial, shown as
    /// [`BreakerState::HalfOpen`] while it runs.
    fn call<T>(&mut self, call: Call, op: impl FnOnce(&mut dyn Sink) -> io::Result<T>) -> Result<T, String> {
        let trial = self.breaker.is_open();
        if trial {
            self.health.publish_breaker(BreakerState::HalfOpen);
        }
        let sink = &mut *self.sink;
        let result = match panic::catch_unwind(AssertUnwindSafe(|| op(sink))) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(format!("{} failed: {e}", call.noun())),
            Err(payload) => Err(format!("the sink panicked in {}: {}", call.method(), panic_message(&*payload))),
        };
        match &result {
            Ok(_) if matches!(call, Call::Write) => self.breaker.succeeded(),
            Ok(_) => {}
            Err(_) => {
                self.breaker.failed(Instant::now());
                self.failed_calls += 1;
            }
        }
        if trial {
            self.health.publish_breaker(self.breaker.state());
        }
        result
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    match payload.downcast_ref::<&str>() {
        Some(message) => message,
        None => payload.downcast_ref::<String>().map_or("(a panic payload that is not text)", String::as_str),
    }
}

/// What the loss reports among a batch's frames count (all but its first
/// frame when that is the driver's own report, which stays pending): when
/// the batch is dropped, their counts join the driver's report.
#[derive(Debug, Default, PartialEq, Eq)]
struct InnerLoss {
    frames: u64,
    bytes: u64,
    events: u64,
}

fn loss_reports_in(bytes: &[u8], skip_first: bool) -> InnerLoss {
    let mut inner = InnerLoss::default();
    let mut at = 0;
    let mut first = true;
    while at < bytes.len() {
        if bytes[at..].starts_with(&MAGIC) {
            at += PREAMBLE_LEN;
            continue;
        }
        let Some(header) = FrameHeader::parse(&bytes[at..], FORMAT_VERSION) else {
            break;
        };
        let payload = &bytes[at + FRAME_HEADER_LEN..at + FRAME_HEADER_LEN + header.len as usize];
        if header.kind == FrameKind::Loss as u8 && !(first && skip_first) {
            if let Ok(report) = LossReport::decode(payload) {
                inner.frames += report.loss.frames;
                inner.bytes += report.loss.bytes;
                inner.events += report.detail.map_or(0, |d| d.events);
            }
        }
        first = false;
        at += FRAME_HEADER_LEN + header.len as usize;
    }
    inner
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use lmlog_decode::DiagnosticKind;
    use lmlog_format::frame::{preamble, push_frame, RecordHeader, DROP_REPORT_ID};
    use lmlog_format::schema::to_payload;
    use lmlog_format::varint::push_u64;
    use lmlog_format::{EndInfo, RecordsHeader};

    use super::*;

    /// What a [`Scripted`] sink does and has done.
    #[derive(Default)]
    struct Script {
        /// Every write fails while set.
        failing: bool,
        /// The next call of this method panics.
        panic_in: Option<&'static str>,
        wants_rotation: bool,
        written: Vec<u8>,
        /// Calls of each kind, in order.
        calls: Vec<&'static str>,
        rotations: u32,
    }

    /// A sink run by a [`Script`] the test holds too.
    struct Scripted(Arc<Mutex<Script>>);

    impl Scripted {
        fn enter(&self, method: &'static str) -> std::sync::MutexGuard<'_, Script> {
            let mut script = self.0.lock().unwrap_or_else(|p| p.into_inner());
            script.calls.push(method);
            if script.panic_in == Some(method) {
                script.panic_in = None;
                drop(script);
                panic!("scripted panic in {method}");
            }
            script
        }
    }

    impl Sink for Scripted {
        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            let mut script = self.enter("write_all");
            if script.failing {
                return Err(io::Error::other("no space left (scripted)"));
            }
            script.written.extend_from_slice(bytes);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            let script = self.enter("flush");
            if script.failing {
                return Err(io::Error::other("flush refused (scripted)"));
            }
            Ok(())
        }
        fn wants_rotation(&self) -> bool {
            self.enter("wants_rotation").wants_rotation
        }
        fn rotate(&mut self) -> io::Result<()> {
            let mut script = self.enter("rotate");
            script.rotations += 1;
            script.wants_rotation = false;
            Ok(())
        }
    }

    fn driver(spill_capacity: usize) -> (SinkDriver, Arc<Mutex<Script>>, &'static SinkHealth) {
        let script = Arc::new(Mutex::new(Script::default()));
        let health = Box::leak(Box::new(SinkHealth::new()));
        (SinkDriver::new(Box::new(Scripted(script.clone())), spill_capacity, health), script, health)
    }

    fn set(script: &Arc<Mutex<Script>>, change: impl FnOnce(&mut Script)) {
        change(&mut script.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn writes(script: &Arc<Mutex<Script>>) -> usize {
        script.lock().unwrap().calls.iter().filter(|&&c| c == "write_all").count()
    }

    /// Frames numbered as a framer numbers them. Records frames hold one
    /// drop report each, so they decode without schemas and count events.
    #[derive(Default)]
    struct Frames {
        seq: u32,
        out: Vec<u8>,
        frames: u64,
        events: u64,
    }

    impl Frames {
        fn start_file(&mut self) -> &mut Self {
            self.out.extend_from_slice(&preamble());
            self.seq = 0;
            self.frame(FrameKind::Session, &to_payload(&crate::framer::test_session()))
        }

        fn frame(&mut self, kind: FrameKind, payload: &[u8]) -> &mut Self {
            push_frame(&mut self.out, kind, self.seq, payload);
            self.seq += 1;
            self.frames += 1;
            self
        }

        /// A records frame reporting `events` dropped events.
        fn records(&mut self, events: u64) -> &mut Self {
            let mut payload = Vec::new();
            RecordsHeader { thread_id: 1, base_ticks: 5 }.encode(&mut payload);
            push_u64(&mut payload, RecordHeader::encode(DROP_REPORT_ID, false));
            push_u64(&mut payload, 0);
            push_u64(&mut payload, events);
            self.events += events;
            self.frame(FrameKind::Records, &payload)
        }

        fn report(&mut self, report: &LossReport) -> &mut Self {
            self.frame(FrameKind::Loss, &to_payload(report))
        }

        fn end(&mut self) -> &mut Self {
            self.frame(FrameKind::End, &to_payload(&EndInfo { reason: "shutdown".into(), unix_nanos: 0 }))
        }

        /// Hands the frames so far to `driver` and starts a new batch.
        fn send(&mut self, driver: &mut SinkDriver, carries_report: bool) -> Delivery {
            let batch = Batch { bytes: &self.out, frames: self.frames, events: self.events };
            let delivery = driver.write(batch, carries_report);
            self.out.clear();
            self.frames = 0;
            self.events = 0;
            delivery
        }

        /// As the writer does at the start of a drain: the report, if due.
        fn frame_report(&mut self, driver: &mut SinkDriver) -> bool {
            match driver.loss_report().cloned() {
                Some(report) => {
                    self.report(&report);
                    true
                }
                None => false,
            }
        }
    }

    /// The decoded lines and summary of what the sink took.
    fn decoded(script: &Arc<Mutex<Script>>) -> (Vec<serde_json::Value>, lmlog_decode::DecodeSummary) {
        let written = script.lock().unwrap().written.clone();
        let mut out = Vec::new();
        let summary = lmlog_decode::decode_reader(written.as_slice(), &mut out).unwrap();
        let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, summary)
    }

    /// Events the decoded lines account for: delivered (the drop reports'
    /// counts) and reported lost.
    fn accounted(lines: &[serde_json::Value]) -> (u64, u64) {
        let sum = |event: &str, field: &str| -> u64 {
            lines.iter().filter(|l| l["event_type"] == event).map(|l| l["fields"][field].as_u64().unwrap()).sum()
        };
        (sum("lmlog.dropped", "count"), sum("lmlog.writer_loss", "events"))
    }

    fn gaps(summary: &lmlog_decode::DecodeSummary) -> Vec<(u32, bool)> {
        summary
            .diagnostics
            .iter()
            .filter_map(|d| match d.kind {
                DiagnosticKind::MissingFrames { expected, found, reported_by_writer } => {
                    Some((found - expected, reported_by_writer))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_sink_that_recovers_gets_every_held_batch_in_order_then_the_outage_report() {
        let (mut driver, script, health) = driver(1 << 20);
        let mut frames = Frames::default();
        frames.start_file().records(5);
        assert_eq!(frames.send(&mut driver, false), Delivery::Written);
        set(&script, |s| s.failing = true);
        // The first failure: held, retried at the next drain.
        frames.records(7);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        let status = health.read();
        assert_eq!((status.breaker, status.consecutive_failures, status.spilled_events), (BreakerState::Closed, 1, 7));
        for (drain, events) in [(2, 11), (3, 13)] {
            driver.retry();
            assert!(!frames.frame_report(&mut driver), "no report while frames are held");
            frames.records(events);
            assert_eq!(frames.send(&mut driver, false), Delivery::Spilled, "drain {drain}");
        }
        let status = health.read();
        assert_eq!((status.breaker, status.consecutive_failures), (BreakerState::Open, 3));
        assert_eq!((status.spilled_events, status.failed_writes, status.lost_events), (31, 3, 0));
        // While frames are held the sink never gets a batch out of turn.
        let before = writes(&script);
        set(&script, |s| s.failing = false);
        frames.records(17);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        assert_eq!(writes(&script), before);
        // The trial: the held batches, then the report heads the next batch.
        driver.expedite();
        driver.retry();
        assert_eq!(writes(&script), before + 4, "one write per held batch");
        let status = health.read();
        assert_eq!((status.breaker, status.spilled_bytes, status.spilled_events), (BreakerState::Closed, 0, 0));
        assert!(frames.frame_report(&mut driver));
        frames.records(19).end();
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);
        assert!(driver.loss_report().is_none(), "delivered");

        let (lines, summary) = decoded(&script);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        let counts: Vec<u64> = lines.iter().filter_map(|l| l["fields"]["count"].as_u64()).collect();
        assert_eq!(counts, [5, 7, 11, 13, 17, 19], "every batch, in order");
        let loss = lines.iter().find(|l| l["event_type"] == "lmlog.writer_loss").unwrap();
        let fields = &loss["fields"];
        assert_eq!((fields["events"].as_u64(), fields["frames"].as_u64()), (Some(0), Some(0)));
        assert_eq!((fields["failed_writes"].as_u64(), fields["delayed_events"].as_u64()), (Some(3), Some(48)));
        assert_eq!(fields["dropped_end"], "none");
        assert_eq!(fields["reason"], "write failed: no space left (scripted)");
        assert_eq!(lines.iter().position(|l| l == loss), Some(5), "after the held batches, before the next");
    }

    #[test]
    fn an_overflowing_spill_drops_the_newest_batches_and_its_report_explains_the_gap() {
        let mut frames = Frames::default();
        frames.start_file().records(1);
        let first = frames.out.len();
        frames.records(2).records(3);
        let held = frames.out.len() - first;
        // Room for the second batch and one more records frame, not two.
        let (mut driver, script, health) = driver(held + 30);
        let mut frames = Frames::default();
        frames.start_file().records(1);
        assert_eq!(frames.send(&mut driver, false), Delivery::Written);
        set(&script, |s| s.failing = true);
        frames.records(2).records(3);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        // Too big for what is left: dropped, with the count of another
        // loss report it held.
        let exit_loss = LossReport {
            loss: WriterLoss {
                frames: 0,
                bytes: 0,
                reason: "thread exit".into(),
                first_unix_nanos: 0,
                last_unix_nanos: 0,
            },
            detail: Some(LossDetail { events: 4, ..LossDetail::default() }),
        };
        frames.records(100).records(200).report(&exit_loss).records(300);
        let dropped_frames = frames.frames;
        assert_eq!(frames.send(&mut driver, false), Delivery::Dropped);
        // Small enough to fit, but the spill takes nothing more until written.
        frames.records(5);
        assert_eq!(frames.send(&mut driver, false), Delivery::Dropped);
        let status = health.read();
        assert_eq!((status.lost_events, status.lost_frames, status.spilled_events), (609, dropped_frames + 1, 5));
        // A batch held after the drops carries the frames numbered after them.
        set(&script, |s| s.failing = false);
        driver.expedite();
        driver.retry();
        assert!(frames.frame_report(&mut driver));
        frames.records(6).end();
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);

        let (lines, summary) = decoded(&script);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        let loss = &lines.iter().find(|l| l["event_type"] == "lmlog.writer_loss").unwrap()["fields"];
        assert_eq!(loss["frames"].as_u64(), Some(dropped_frames + 1));
        assert_eq!(loss["events"].as_u64(), Some(100 + 200 + 300 + 4 + 5));
        assert_eq!(loss["dropped_end"], "newest");
        assert_eq!(loss["failed_writes"].as_u64(), Some(1), "only the first batch was tried");
        assert_eq!(gaps(&summary), [(dropped_frames as u32 + 1, true)], "one gap, right before the report");
        let (delivered, lost) = accounted(&lines);
        assert_eq!(delivered + lost, 1 + 2 + 3 + 600 + 4 + 5 + 6);
        assert_eq!(summary.writer_lost_events, lost);
    }

    #[test]
    fn without_a_spill_a_failed_batch_is_dropped_and_its_report_waits_for_a_batch_that_carries_it() {
        let (mut driver, script, health) = driver(0);
        let mut frames = Frames::default();
        frames.start_file().records(1);
        assert_eq!(frames.send(&mut driver, false), Delivery::Written);
        set(&script, |s| s.failing = true);
        frames.records(2);
        assert_eq!(frames.send(&mut driver, false), Delivery::Dropped);
        // The next batch carries the report and fails too: both counted.
        assert!(frames.frame_report(&mut driver));
        frames.records(3);
        assert_eq!(frames.send(&mut driver, true), Delivery::Dropped);
        set(&script, |s| s.failing = false);
        // A batch that does not carry the pending report is not written.
        let before = writes(&script);
        frames.records(4);
        assert_eq!(frames.send(&mut driver, false), Delivery::Dropped);
        assert_eq!(writes(&script), before);
        assert!(frames.frame_report(&mut driver));
        frames.records(5);
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);
        assert_eq!(health.read().lost_events, 9);
        // A failed flush is reported too.
        set(&script, |s| s.failing = true);
        driver.flush();
        assert_eq!(driver.loss_report().unwrap().loss.reason, "flush failed: flush refused (scripted)");
        set(&script, |s| s.failing = false);
        assert!(frames.frame_report(&mut driver));
        frames.end();
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);

        let (lines, summary) = decoded(&script);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        let losses: Vec<_> = lines.iter().filter(|l| l["event_type"] == "lmlog.writer_loss").collect();
        assert_eq!(losses.len(), 2);
        assert_eq!(losses[0]["fields"]["events"].as_u64(), Some(2 + 3 + 4));
        assert_eq!(losses[0]["fields"]["failed_writes"].as_u64(), Some(2));
        assert_eq!(losses[1]["fields"]["events"].as_u64(), Some(0));
        let (delivered, lost) = accounted(&lines);
        assert_eq!((delivered, lost), (1 + 5, 9));
        assert_eq!(gaps(&summary).len(), 1);
    }

    #[test]
    fn a_panicking_sink_is_a_failing_sink() {
        let (mut driver, script, health) = driver(1 << 20);
        let mut frames = Frames::default();
        set(&script, |s| s.panic_in = Some("write_all"));
        frames.start_file().records(3);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        assert_eq!(health.read().failed_writes, 1);
        // The next drain writes what was held.
        driver.retry();
        assert!(frames.frame_report(&mut driver));
        let report = driver.loss_report().unwrap().clone();
        assert_eq!(report.loss.reason, "the sink panicked in write_all: scripted panic in write_all");
        frames.records(4);
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);
        // Panics in the other calls are failures too, and change nothing else.
        set(&script, |s| s.panic_in = Some("flush"));
        driver.flush();
        set(&script, |s| s.panic_in = Some("wants_rotation"));
        assert!(!driver.wants_rotation());
        set(&script, |s| s.panic_in = Some("rotate"));
        assert!(driver.rotate().is_err());
        let status = health.read();
        assert_eq!((status.failed_writes, status.consecutive_failures, status.breaker), (4, 3, BreakerState::Open));
        let report = driver.report.as_ref().unwrap();
        assert_eq!(report.loss.reason, "the sink panicked in flush: scripted panic in flush");
        assert_eq!(report.detail.unwrap().failed_writes, 3);
        driver.expedite();
        assert!(frames.frame_report(&mut driver));
        frames.end();
        assert_eq!(frames.send(&mut driver, true), Delivery::Written);
        let (lines, summary) = decoded(&script);
        assert!(summary.is_clean(), "{:?}", summary.diagnostics);
        assert_eq!(accounted(&lines), (7, 0));
    }

    #[test]
    fn a_file_is_not_rotated_while_frames_of_it_are_held() {
        let (mut driver, script, _) = driver(1 << 20);
        let mut frames = Frames::default();
        set(&script, |s| {
            s.wants_rotation = true;
            s.failing = true;
        });
        frames.start_file().records(1);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        assert!(!driver.wants_rotation());
        assert!(driver.rotate().is_err());
        let status_failures = driver.sink.failed_calls;
        assert_eq!(status_failures, 1, "a deferred rotation is no failure");
        set(&script, |s| s.failing = false);
        driver.retry();
        assert!(driver.wants_rotation());
        assert!(driver.rotate().is_ok());
        assert_eq!(script.lock().unwrap().rotations, 1);
        let calls = script.lock().unwrap().calls.clone();
        assert_eq!(calls, ["write_all", "write_all", "wants_rotation", "rotate"], "not even asked while held");
    }

    #[test]
    fn what_is_never_written_is_counted_at_shutdown() {
        let mut frames = Frames::default();
        frames.start_file().records(10);
        let (mut driver, script, health) = driver(frames.out.len() + 40);
        let mut frames = Frames::default();
        set(&script, |s| s.failing = true);
        frames.start_file().records(10);
        assert_eq!(frames.send(&mut driver, false), Delivery::Spilled);
        frames.records(20).records(30).records(40).records(50);
        assert_eq!(frames.send(&mut driver, false), Delivery::Dropped);
        driver.expedite();
        driver.retry();
        driver.finish();
        let status = health.read();
        assert_eq!((status.lost_events, status.spilled_events, status.spilled_bytes), (150, 0, 0));
        assert_eq!(status.lost_frames, 2 + 4);
        assert!(script.lock().unwrap().written.is_empty());
        assert!(driver.loss_report().is_none() && driver.trial_in().is_none(), "nothing is left to write");
    }

    #[test]
    fn loss_reports_inside_a_batch_are_found_but_for_the_one_it_carries() {
        let report = |events| LossReport {
            loss: WriterLoss { frames: 2, bytes: 9, reason: "r".into(), first_unix_nanos: 0, last_unix_nanos: 0 },
            detail: Some(LossDetail { events, ..LossDetail::default() }),
        };
        let mut frames = Frames::default();
        frames.start_file().report(&report(100)).records(1).report(&report(5));
        let found = loss_reports_in(&frames.out, false);
        assert_eq!(found, InnerLoss { frames: 4, bytes: 18, events: 105 });
        let mut carried = Frames::default();
        carried.report(&report(100)).records(1).report(&report(5));
        assert_eq!(loss_reports_in(&carried.out, true), InnerLoss { frames: 2, bytes: 9, events: 5 });
    }
}
