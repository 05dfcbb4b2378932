//! The one owner of process-wide runtime state: the call-site registry and
//! filter, the staging rings, the settings the hot path's slow branches
//! read, the writer's handle and the loss counter.
//!
//! Everything lives in one `static` [`State`]. Dependencies run one way:
//! the public API (`runtime`), the writer thread (`writer`) and the calling
//! threads (`producer`) use this module; it uses only plain data types
//! (`callsite`, `ring`, `filter`) and never calls back into them. The framer
//! and the sink driver never touch it: the writer hands them what they need,
//! so both are testable without `init`.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::thread::{JoinHandle, Thread, ThreadId};

use lmlog_format::{FrameKind, Level};

use crate::callsite::{Callsite, CallsiteState, Detour, Interned, MAX_ID};
use crate::config::{Config, Overflow};
use crate::event::EventSchema;
use crate::filter::Filter;
use crate::global_context::ContextLog;
use crate::ring::{Owner, Ring, Snapshot};
use crate::sampling::{SampledLedger, Sampling, SiteInfo, SitePolicy, ThreadCounts};
use crate::staging::Run;
use crate::stats::StatsCounters;
use crate::status::SinkHealth;

/// The process's runtime state; see the module documentation.
pub(crate) static STATE: State = State::new();

/// Requests from application threads to the writer thread.
pub(crate) enum Command {
    /// Drain, write, flush the sink, then acknowledge.
    Flush(flume::Sender<()>),
    /// Drain, write, end the stream, flush, acknowledge and exit.
    Shutdown(flume::Sender<()>),
}

/// The running writer, as the application threads see it.
pub(crate) struct Control {
    pub commands: flume::Sender<Command>,
    pub writer: Thread,
    pub join: Option<JoinHandle<()>>,
}

impl Control {
    /// The writer thread's id (it must never wait for itself).
    pub fn writer_id(&self) -> ThreadId {
        self.writer.id()
    }
}

/// See the module documentation.
pub(crate) struct State {
    /// Between `init` and shutdown.
    active: AtomicBool,
    /// [`Overflow::Drop`] is configured.
    overflow_drop: AtomicBool,
    /// Bytes a producer's ring grows to.
    buffer_capacity: AtomicUsize,
    /// The running writer, if any. Held while starting and stopping it.
    control: Mutex<Option<Control>>,
    /// The running writer's thread, for producers to wake it without a
    /// lock. A handle is never freed (one small allocation per `init`), so
    /// a producer that loaded the pointer just before shutdown still holds
    /// a valid handle; unparking an exited thread does nothing.
    writer_thread: AtomicPtr<Thread>,
    panic_hook: Once,
    registry: Mutex<Registry>,
    /// Number of interned (call site, schema) pairs, published after the
    /// schema is in the registry and before any record with the new id is
    /// committed.
    interned_count: AtomicU32,
    rings: Mutex<Rings>,
    /// The run directory whose files hold the rings (file outputs on Unix).
    run: Mutex<Option<Arc<Run>>>,
    /// Events that could not even be counted in a ring (emitted during
    /// thread teardown or re-entrantly from inside an encoder); the writer
    /// reports them.
    lost_events: AtomicU64,
    next_thread_id: AtomicU32,
    /// The writer thread is alive (set before it starts, cleared when it
    /// exits, even by a panic): producers wait for room only while it is.
    writer_running: AtomicBool,
    /// The sink driver's published state, for `lmlog::sink_status`.
    sink_health: SinkHealth,
    /// Each producer thread's counts (from its first event sampling turned
    /// away, drop report or wait, until the writer has read its final
    /// counts).
    sampled: Mutex<Vec<Arc<ThreadCounts>>>,
    /// What the writer publishes for `lmlog::stats`.
    stats: StatsCounters,
    /// `lmlog::global_context`: its keys and the changes not framed yet.
    global_context: Mutex<ContextLog>,
    /// Events the flight recorder keeps per thread
    /// (`Config::flight_recorder`); 0: off.
    flight_records: AtomicUsize,
}

/// Size of a new thread's ring: small, so that short-lived and quiet
/// threads cost little; a busy thread's ring doubles up to the configured
/// capacity.
pub(crate) const INITIAL_RING_CAPACITY: u64 = 64 << 10;

/// Drained rings of exited threads kept for new threads; more are freed.
const POOLED_RINGS: usize = 32;

/// Call sites, their ids and the filter that decides their interest.
struct Registry {
    /// The running runtime's filter; `None` records nothing.
    filter: Option<Filter>,
    /// Every call site that has been reached, for re-filtering.
    callsites: Vec<&'static Callsite>,
    /// Interned (call site, schema) pairs; id `n` is at index `n - 1`.
    interned: Vec<Interned>,
    /// Where new schemas are recorded for crash recovery.
    run: Option<Arc<Run>>,
}

/// Rings with an owner or still holding records (`active`, drained by the
/// writer) and drained rings of exited threads (`pool`, reused by new ones).
struct Rings {
    active: Vec<Arc<Ring>>,
    pool: Vec<Arc<Ring>>,
}

/// One ring as a drain sees it.
pub(crate) struct RingSnapshot {
    pub ring: Arc<Ring>,
    /// The owner had exited when the snapshot was taken: no commits follow.
    pub closed: bool,
    pub snapshot: Snapshot,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    const fn new() -> State {
        State {
            active: AtomicBool::new(false),
            overflow_drop: AtomicBool::new(false),
            buffer_capacity: AtomicUsize::new(Config::DEFAULT_BUFFER_CAPACITY),
            control: Mutex::new(None),
            writer_thread: AtomicPtr::new(std::ptr::null_mut()),
            panic_hook: Once::new(),
            registry: Mutex::new(Registry { filter: None, callsites: Vec::new(), interned: Vec::new(), run: None }),
            interned_count: AtomicU32::new(0),
            rings: Mutex::new(Rings { active: Vec::new(), pool: Vec::new() }),
            run: Mutex::new(None),
            lost_events: AtomicU64::new(0),
            next_thread_id: AtomicU32::new(1),
            writer_running: AtomicBool::new(false),
            sink_health: SinkHealth::new(),
            sampled: Mutex::new(Vec::new()),
            stats: StatsCounters::new(),
            global_context: Mutex::new(ContextLog::new()),
            flight_records: AtomicUsize::new(0),
        }
    }

    // --- The runtime's life cycle (used by `runtime`). ---

    /// The writer's control block; `None` when no runtime runs.
    pub fn control(&self) -> MutexGuard<'_, Option<Control>> {
        lock(&self.control)
    }

    /// The control block if it is free, without waiting (`None` if another
    /// thread holds it); for the panic hook, which may run inside `init`.
    pub fn try_control(&self) -> Option<MutexGuard<'_, Option<Control>>> {
        match self.control.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Starts recording: settings, the writer's handle, the filter; then
    /// re-decides every known call site's interest.
    pub fn start(&self, control: &mut Option<Control>, new: Control, filter: Filter, config: &Config) {
        self.buffer_capacity.store(config.buffer_capacity, Ordering::Relaxed);
        self.overflow_drop.store(config.overflow == Overflow::Drop, Ordering::Relaxed);
        self.flight_records.store(config.flight_recorder, Ordering::Relaxed);
        self.writer_thread.store(Box::into_raw(Box::new(new.writer.clone())), Ordering::Release);
        *control = Some(new);
        self.active.store(true, Ordering::Release);
        crate::sampling::configure(&config.sampling);
        self.refresh_policies();
        self.set_filter(Some(filter));
    }

    /// Stops recording: call sites are disabled and producers stop
    /// waiting for room; returns the writer's control block.
    pub fn stop(&self, control: &mut Option<Control>) -> Option<Control> {
        let stopped = control.take()?;
        self.active.store(false, Ordering::Release);
        self.writer_thread.store(std::ptr::null_mut(), Ordering::Release);
        self.flight_records.store(0, Ordering::Relaxed);
        self.set_filter(None);
        crate::sampling::configure(&Default::default());
        Some(stopped)
    }

    /// Runs `install` once per process.
    pub fn install_panic_hook_once(&self, install: impl FnOnce()) {
        self.panic_hook.call_once(install);
    }

    /// Between `init` and shutdown.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn overflow_policy(&self) -> Overflow {
        if self.overflow_drop.load(Ordering::Relaxed) {
            Overflow::Drop
        } else {
            Overflow::Block
        }
    }

    /// Asks the writer to drain now (a producer's ring is filling up).
    /// Takes no lock: producers call it.
    pub fn wake_writer(&self) {
        let writer = self.writer_thread.load(Ordering::Acquire);
        if !writer.is_null() {
            // SAFETY: non-null values come from `Box::into_raw` in `start`
            // and are never freed.
            unsafe { (*writer).unpark() };
        }
    }

    // --- Call sites (used by `producer`'s slow path and the writer). ---

    /// Replaces the filter and re-decides every registered call site's
    /// interest.
    fn set_filter(&self, filter: Option<Filter>) {
        let mut registry = lock(&self.registry);
        registry.filter = filter;
        let Registry { filter, callsites, .. } = &*registry;
        for callsite in callsites {
            let ceiling = ceiling(filter.as_ref(), callsite);
            callsite.set_ceiling(ceiling, self.detour(filter.as_ref(), callsite, ceiling));
        }
    }

    /// Asks the running [`Sampler`](crate::Sampler) again for the policy of
    /// every interned (call site, schema), outside the registry's lock (a
    /// sampler may log).
    fn refresh_policies(&self) {
        let interned = lock(&self.registry).interned.clone();
        for Interned { callsite, schema } in interned {
            if let Some((_, slot)) = callsite.known(schema.fingerprint) {
                slot.set(crate::sampling::policy_for(&site_info(callsite, schema)));
            }
        }
    }

    /// Registers `callsite` (if it is not yet) and returns its interest:
    /// for call sites that only ask whether a level is recorded.
    pub fn register(&self, callsite: &'static Callsite) -> CallsiteState {
        let mut registry = lock(&self.registry);
        if callsite.mark_registered() {
            let ceiling = ceiling(registry.filter.as_ref(), callsite);
            registry.callsites.push(callsite);
            callsite.set_ceiling(ceiling, self.detour(registry.filter.as_ref(), callsite, ceiling));
        }
        callsite.load()
    }

    /// The id records of `schema` carry at `callsite` and the sampler's
    /// policy for them, registering both as needed; `None` if the filter
    /// rejects the event.
    pub fn resolve(
        &self,
        callsite: &'static Callsite,
        schema: &'static EventSchema,
    ) -> Option<(u32, &'static SitePolicy)> {
        let filtered = callsite.load_filtered();
        if filtered.enables(schema.level) {
            if let Some(known) = callsite.known(schema.fingerprint) {
                return Some(known);
            }
        } else if filtered.is_decided() {
            // Only a detoured site's events get here without the filter
            // enabling them (the flight recorder's): no lock for them.
            return None;
        }
        // Asked before the lock is taken: a sampler may log.
        let policy = crate::sampling::policy_for(&site_info(callsite, schema));
        let mut registry = lock(&self.registry);
        let ceiling = ceiling(registry.filter.as_ref(), callsite);
        if callsite.mark_registered() {
            registry.callsites.push(callsite);
            callsite.set_ceiling(ceiling, self.detour(registry.filter.as_ref(), callsite, ceiling));
        }
        if ceiling.is_none_or(|max| schema.level > max) {
            return None;
        }
        Some(self.intern(&mut registry, callsite, schema, ceiling, policy))
    }

    /// The id of an event the flight recorder kept, whatever the filter
    /// says of its level: interned (its schema reaches the stream) only
    /// when the recorder writes it, before an error. Its sampler's policy
    /// is kept for the site's later events; the recorded event itself is
    /// not sampled (the filter turned it away, the error brings it back).
    pub fn resolve_recorded(&self, callsite: &'static Callsite, schema: &'static EventSchema) -> u32 {
        if let Some((id, _)) = callsite.known(schema.fingerprint) {
            return id;
        }
        // Asked before the lock is taken: a sampler may log.
        let policy = crate::sampling::policy_for(&site_info(callsite, schema));
        let mut registry = lock(&self.registry);
        let ceiling = ceiling(registry.filter.as_ref(), callsite);
        self.intern(&mut registry, callsite, schema, ceiling, policy).0
    }

    /// The id of (`callsite`, `schema`) and its sampler's policy, interning
    /// the pair (with `policy`) if it is new.
    fn intern(
        &self,
        registry: &mut Registry,
        callsite: &'static Callsite,
        schema: &'static EventSchema,
        ceiling: Option<Level>,
        policy: Sampling,
    ) -> (u32, &'static SitePolicy) {
        if let Some(known) = callsite.known(schema.fingerprint) {
            return known;
        }
        registry.interned.push(Interned { callsite, schema });
        let id = registry.interned.len() as u32;
        assert!(id <= MAX_ID, "more than {MAX_ID} call sites");
        if let Some(run) = &registry.run {
            // Before any record with the id exists: recovery can decode it.
            run.append_meta(FrameKind::Schema, &Interned { callsite, schema }.encode_schema(id));
        }
        let slot = callsite.add_id(schema, id, policy);
        callsite.set_ceiling(ceiling, self.detour(registry.filter.as_ref(), callsite, ceiling));
        self.interned_count.store(id, Ordering::Release);
        (id, slot)
    }

    /// What `callsite`, whose `ceiling` the running `filter` decided,
    /// publishes: the flight recorder's detour while a filter runs and the
    /// recorder is on (every site, so that the events the filter turns
    /// away reach it and every `error` event writes what it holds), else
    /// process-wide sampling's when it applies to the site
    /// ([`needs_detour`]), else the fast path.
    fn detour(&self, filter: Option<&Filter>, callsite: &Callsite, ceiling: Option<Level>) -> Detour {
        if filter.is_some() && self.flight_records() > 0 {
            Detour::Flight
        } else if needs_detour(callsite, ceiling) {
            Detour::Sampling
        } else {
            Detour::None
        }
    }

    /// Events the flight recorder keeps per thread; 0 when it is off.
    pub fn flight_records(&self) -> usize {
        self.flight_records.load(Ordering::Relaxed)
    }

    /// The most verbose level the running filter records anywhere; `None`
    /// when nothing is recorded (the bridges' `log::max_level` and
    /// level hint).
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub fn max_level(&self) -> Option<Level> {
        lock(&self.registry).filter.as_ref().and_then(Filter::most_verbose)
    }

    /// Whether the running filter records `level` from `module`.
    #[cfg(feature = "log")]
    pub fn filter_enabled(&self, module: &str, level: Level) -> bool {
        lock(&self.registry).filter.as_ref().is_some_and(|f| f.enabled(module, level))
    }

    /// Number of interned (call site, schema) pairs; load it after loading
    /// ring tails so every id a drained record carries is covered.
    pub fn interned_count(&self) -> u32 {
        self.interned_count.load(Ordering::Acquire)
    }

    /// The interned pairs with ids `from + 1 ..= to`, copied out of the lock.
    pub fn interned(&self, from: u32, to: u32) -> Vec<Interned> {
        lock(&self.registry).interned[from as usize..to as usize].to_vec()
    }

    // --- Rings (used by `producer` and the writer). ---

    /// The size a producer's ring grows to.
    pub fn ring_capacity(&self) -> u64 {
        self.buffer_capacity.load(Ordering::Relaxed).next_power_of_two() as u64
    }

    /// A ring for a new producer thread: a small one (pooled if one is
    /// free) that grows while the thread keeps it busy; registered for
    /// draining.
    pub fn adopt_ring(&self, thread_name: Option<String>) -> (Arc<Ring>, crate::ring::Cursor, u64) {
        let owner = Owner { thread_id: self.next_thread_id.fetch_add(1, Ordering::Relaxed), name: thread_name };
        let capacity = INITIAL_RING_CAPACITY.min(self.ring_capacity());
        let mut rings = lock(&self.rings);
        let ring = match rings.pool.iter().position(|r| r.capacity() == capacity) {
            Some(i) => rings.pool.swap_remove(i),
            None => Arc::new(self.new_ring(capacity)),
        };
        let (cursor, last_ticks) = ring.adopt(owner);
        rings.active.push(ring.clone());
        (ring, cursor, last_ticks)
    }

    /// Moves `old`'s owner to a new ring twice the size (at most
    /// [`ring_capacity`](Self::ring_capacity)), registered after `old` so
    /// the writer drains `old` first.
    pub fn grow_ring(&self, old: &Arc<Ring>) -> (Arc<Ring>, crate::ring::Cursor, u64) {
        let owner = old.owner().unwrap_or(Owner { thread_id: old.thread_id(), name: None });
        let capacity = (old.capacity() * 2).min(self.ring_capacity());
        // Allocated (and its pages touched) outside the lock.
        let ring = Arc::new(self.new_ring(capacity));
        let (cursor, last_ticks) = ring.adopt(owner);
        old.supersede();
        lock(&self.rings).active.push(ring.clone());
        (ring, cursor, last_ticks)
    }

    /// Snapshots every active ring into `out` (cleared first).
    pub fn snapshot_rings(&self, out: &mut Vec<RingSnapshot>) {
        out.clear();
        let rings = lock(&self.rings);
        for ring in &rings.active {
            // `closed` is read before the tail: a ring seen closed has no
            // commits after this snapshot.
            let closed = ring.is_closed();
            let snapshot = ring.snapshot();
            out.push(RingSnapshot { ring: ring.clone(), closed, snapshot });
        }
    }

    /// Takes `ring` (closed by its thread and fully drained) out of the
    /// drain list: into the pool if it has the size new threads start
    /// with and the pool has room, else it is freed.
    pub fn retire_ring(&self, ring: &Arc<Ring>) {
        let mut rings = lock(&self.rings);
        if let Some(i) = rings.active.iter().position(|r| Arc::ptr_eq(r, ring)) {
            // `remove`, not `swap_remove`: a thread's rings stay in the
            // order it used them.
            let ring = rings.active.remove(i);
            let initial = INITIAL_RING_CAPACITY.min(self.ring_capacity());
            if ring.capacity() == initial && rings.pool.len() < POOLED_RINGS {
                rings.pool.push(ring);
            }
        }
    }

    // --- Crash survival (used by `runtime` and the writer). ---

    /// Keeps new rings in `run`'s files and records every schema there,
    /// starting with those interned so far.
    pub fn attach_run(&self, run: Arc<Run>) {
        let mut registry = lock(&self.registry);
        for (i, interned) in registry.interned.iter().enumerate() {
            run.append_meta(FrameKind::Schema, &interned.encode_schema(i as u32 + 1));
        }
        registry.run = Some(run.clone());
        *lock(&self.run) = Some(run);
    }

    /// Stops keeping rings in the run's files (after the writer drained
    /// everything) and frees the pooled ones; returns the run to remove.
    pub fn detach_run(&self) -> Option<Arc<Run>> {
        lock(&self.registry).run = None;
        let run = lock(&self.run).take();
        if run.is_some() {
            lock(&self.rings).pool.clear();
        }
        run
    }

    /// Events committed to the rings but never released (written), and
    /// events dropped but never reported: what a dead writer left behind.
    pub fn unwritten(&self) -> (u64, u64) {
        let rings = lock(&self.rings);
        let (mut staged, mut dropped) = (0, 0);
        for ring in &rings.active {
            staged += crate::ring::records_between(ring.released_records(), ring.snapshot().records);
            let (reported, total) = ring.unreported_drops();
            dropped += total - reported;
        }
        (staged, dropped)
    }

    /// The current run directory, if rings survive the process.
    pub fn run(&self) -> Option<Arc<Run>> {
        lock(&self.run).clone()
    }

    /// A new ring: in the run directory when there is one (on the heap if
    /// that fails: logging goes on without crash survival).
    fn new_ring(&self, capacity: u64) -> Ring {
        if let Some(run) = self.run() {
            match run.ring(capacity as usize) {
                Ok(ring) => return ring,
                Err(e) => {
                    static REPORTED: Once = Once::new();
                    REPORTED.call_once(|| {
                        eprintln!("lmlog: cannot create a staging file ({e}); events of this thread are not crash-safe")
                    });
                }
            }
        }
        Ring::new(capacity as usize)
    }

    // --- Sampling (producers count, the writer reports). ---

    /// A new table for a producer thread's counts, read by the writer from
    /// now on.
    pub fn thread_counts(&self) -> Arc<ThreadCounts> {
        let table = Arc::new(ThreadCounts::new());
        lock(&self.sampled).push(table.clone());
        table
    }

    /// Has `ledger` read every thread's sampled-out counts; appends the
    /// increments to `out`. Call it before loading
    /// [`interned_count`](Self::interned_count): every id a count names is
    /// then covered.
    pub fn collect_sampled(&self, ledger: &mut SampledLedger, out: &mut Vec<lmlog_format::SampledCount>) {
        ledger.collect(&mut lock(&self.sampled), out);
    }

    // --- Global context (applications change it, the writer frames it). ---

    /// Applies a change of the global context, stamped with the clock
    /// while the lock is held, so changes are in tick order.
    pub fn change_global_context(&self, op: lmlog_format::ContextOp) {
        let mut log = lock(&self.global_context);
        log.change(crate::clock::now(), op);
    }

    /// Moves the global-context changes not framed yet to `out`.
    pub fn take_global_context_changes(&self, out: &mut Vec<lmlog_format::ContextChange>) {
        lock(&self.global_context).take_pending(out);
    }

    /// The global context now, for a new writer's first file (the changes
    /// not framed yet are in it and are not framed again).
    pub fn restart_global_context(&self) -> std::collections::BTreeMap<String, lmlog_format::ContextValue> {
        lock(&self.global_context).restart()
    }

    // --- Loss (producers count, the writer reports). ---

    /// Counts events that could not be written to any ring.
    pub fn count_lost(&self, events: u64) {
        self.lost_events.fetch_add(events, Ordering::Relaxed);
    }

    /// Events counted by [`count_lost`](Self::count_lost) so far.
    pub fn lost_events(&self) -> u64 {
        self.lost_events.load(Ordering::Relaxed)
    }
}

/// The writer thread's liveness and the sink's health (the writer sets
/// them, producers and `lmlog::sink_status` read them).
impl State {
    /// The writer thread is about to start (`true`) or has exited,
    /// normally or by a panic (`false`).
    pub fn set_writer_running(&self, running: bool) {
        self.writer_running.store(running, Ordering::Release);
    }

    /// Whether the writer thread is alive (it may still be shutting down).
    pub fn writer_running(&self) -> bool {
        self.writer_running.load(Ordering::Acquire)
    }

    /// Whether a producer whose ring is full may wait for the writer to
    /// make room: a runtime runs and its writer thread is alive.
    pub fn writer_drains(&self) -> bool {
        self.is_active() && self.writer_running()
    }

    /// Where the sink driver publishes its state.
    pub fn sink_health(&self) -> &SinkHealth {
        &self.sink_health
    }

    /// Where the writer publishes its statistics.
    pub fn stats(&self) -> &StatsCounters {
        &self.stats
    }
}

/// The most verbose level `filter` records for `callsite`'s module; the
/// runtime's own events (`crate::diagnostics`) always.
fn ceiling(filter: Option<&Filter>, callsite: &Callsite) -> Option<Level> {
    let (filter, module) = (filter?, callsite.meta().module);
    if module == crate::diagnostics::MODULE {
        return Some(Level::Trace);
    }
    filter.ceiling(module)
}

/// Whether `callsite`, whose `ceiling` the filter decided, must send its
/// events to the producer's slow path (publish id 0 in its state word)
/// although the filter lets them through: when its first event type's
/// level is subject to a process-wide rate (`Config::sample_level`,
/// `Config::max_events_per_second`) or the sampler gave it a policy that
/// can turn events away. Further event types of a generic site take the
/// slow path anyway. Sites it leaves alone keep the fast path, whose cost
/// does not change.
fn needs_detour(callsite: &Callsite, ceiling: Option<Level>) -> bool {
    let (Some(level), Some(max)) = (callsite.primary_level(), ceiling) else {
        return false;
    };
    level <= max && (crate::sampling::level_is_sampled(level) || !callsite.primary_policy().get().keeps_all())
}

/// What a [`Sampler`](crate::Sampler) is told of a (call site, schema).
fn site_info(callsite: &Callsite, schema: &EventSchema) -> SiteInfo {
    let meta = callsite.meta();
    SiteInfo { module: meta.module, event_type: schema.name, level: schema.level, file: meta.file, line: meta.line }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::callsite::CallsiteMeta;
    use crate::event::test_schema as schema;

    /// The only test of this crate that uses the process's `STATE`.
    #[test]
    fn a_generic_site_resolves_each_type_by_its_level_and_known_types_without_the_lock() {
        static META: CallsiteMeta =
            CallsiteMeta { module: "generic", file: "state.rs", line: 1, column: 1, function: || "generic::emit" };
        static SITE: Callsite = Callsite::new(&META);
        let (debug, info, warn) =
            (schema("debug_ev", Level::Debug), schema("info_ev", Level::Info), schema("warn_ev", Level::Warn));
        // Before a runtime runs nothing is recorded.
        assert!(STATE.resolve(&SITE, info).is_none());
        STATE.set_filter(Some("info".parse().unwrap()));
        // The disabled type first: it takes no id and disables nothing else.
        assert!(STATE.resolve(&SITE, debug).is_none());
        assert!(!SITE.load().enables(Level::Debug));
        let info_id = STATE.resolve(&SITE, info).expect("info is enabled").0;
        let warn_id = STATE.resolve(&SITE, warn).expect("warn is enabled").0;
        assert_ne!(info_id, warn_id);
        assert!(STATE.resolve(&SITE, debug).is_none());
        assert_eq!(STATE.interned(0, STATE.interned_count()).len(), 2);

        // Known types resolve while another thread holds the registry.
        let held = lock(&STATE.registry);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let id = |schema| STATE.resolve(&SITE, schema).map(|(id, _)| id);
            let _ = tx.send((id(info), id(warn)));
        });
        let resolved = rx.recv_timeout(Duration::from_secs(30));
        drop(held);
        assert_eq!(resolved, Ok((Some(info_id), Some(warn_id))));

        STATE.set_filter(None);
        assert!(!SITE.load().enables(Level::Error));
        assert_eq!(SITE.load().primary_id(), info_id);
    }
}
