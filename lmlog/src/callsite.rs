//! Call sites: the `static` each `lm_event!` expands to, with its cached
//! interest and the ids its records carry.
//!
//! A call site caches one word ([`CallsiteState`]): the most verbose level
//! the filter lets through for the site's module (its *ceiling*) and the id
//! of the first schema seen there. The filter depends only on the module
//! and the level, and the level is a constant of the event type, so one
//! relaxed load and a comparison with a constant decide interest for every
//! event type a site sees, including the several types of a call site in a
//! generic function. The ids of a generic site's further schemas sit in a
//! lock-free list beside it.
//!
//! A site can also be *detoured*: its published word then lets every level
//! through with no id, so every event reaches the slow path
//! (`producer::emit_slow`), which decides by the filter's own word (the
//! real ceiling and id, kept beside it). The flight recorder
//! (`crate::flight`) detours sites so that the events the filter turns
//! away reach it; a site that is not detoured costs exactly what it did.
//!
//! This module only holds the data; registering a call site and deciding
//! its interest is the runtime state's job ([`crate::state`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use lmlog_format::schema::CallsiteSchemaRef;
use lmlog_format::Level;

use crate::event::EventSchema;
use crate::sampling::RateWindow;

/// Where a call site is in the source. Built by the macros in a `static`.
#[derive(Debug)]
pub struct CallsiteMeta {
    /// `module_path!()`.
    pub module: &'static str,
    /// `file!()`.
    pub file: &'static str,
    /// `line!()`.
    pub line: u32,
    /// `column!()`.
    pub column: u32,
    /// Returns the enclosing function's path (`type_name` is not `const`).
    pub function: fn() -> &'static str,
}

/// Bits of the state word that hold the ceiling.
const CEILING_BITS: u32 = 3;
const CEILING_MASK: u32 = (1 << CEILING_BITS) - 1;
/// Ceiling of a call site not yet registered: lets every level through to
/// the slow path, which registers it.
const CEILING_UNKNOWN: u32 = CEILING_MASK;
/// Ceiling of a detoured call site (see the module documentation): above
/// every level, so every event reaches `emit`, and decided.
const CEILING_DETOUR: u32 = CEILING_UNKNOWN - 1;
/// Largest id the state word can hold.
pub(crate) const MAX_ID: u32 = u32::MAX >> CEILING_BITS;

/// A snapshot of a call site's cached interest and first id.
#[derive(Debug, Clone, Copy)]
pub struct CallsiteState(u32);

impl CallsiteState {
    /// Whether events at `level` may be recorded: the site's ceiling lets
    /// `level` through, or the site has not been registered yet (the slow
    /// path in [`crate::__private::emit`] then decides).
    #[inline(always)]
    pub fn enables(self, level: Level) -> bool {
        level as u32 <= self.0 & CEILING_MASK
    }

    /// Whether the filter has decided this state's ceiling (the site is
    /// registered), rather than letting every level through to the slow
    /// path.
    #[inline(always)]
    pub fn is_decided(self) -> bool {
        self.0 & CEILING_MASK != CEILING_UNKNOWN
    }

    /// The id of the site's first schema; 0 if it has none yet.
    #[inline(always)]
    pub(crate) fn primary_id(self) -> u32 {
        self.0 >> CEILING_BITS
    }

    pub(crate) fn new(ceiling: Option<Level>, primary_id: u32) -> CallsiteState {
        debug_assert!(primary_id <= MAX_ID);
        CallsiteState(primary_id << CEILING_BITS | ceiling.map_or(0, |l| l as u32))
    }

    /// Whether the site is detoured: every event takes the slow path.
    #[inline(always)]
    pub(crate) fn is_detoured(self) -> bool {
        self.0 == CEILING_DETOUR
    }
}

/// A schema beyond a call site's first, with its id.
#[derive(Debug)]
struct Variant {
    fingerprint: u64,
    id: u32,
    next: OnceLock<&'static Variant>,
}

/// One `lm_event!` call site.
#[derive(Debug)]
pub struct Callsite {
    meta: &'static CallsiteMeta,
    /// [`CallsiteState`]'s word, as the call site reads it.
    state: AtomicU32,
    /// The filter's own word (ceiling and primary id): the same as `state`
    /// unless the site is detoured.
    filter_state: AtomicU32,
    /// Fingerprint of the schema the primary id was assigned for; written
    /// once, before the id is published.
    primary_fingerprint: AtomicU64,
    /// Ids of further schemas (generic call sites), appended under the
    /// registry lock, read without a lock; never removed.
    variants: OnceLock<&'static Variant>,
    /// Set once the site is in the registry.
    registered: AtomicBool,
    /// The rate limit's window, used only by sites with `rate_limit`.
    rate: RateWindow,
}

impl Callsite {
    /// A call site that has not been used yet.
    pub const fn new(meta: &'static CallsiteMeta) -> Callsite {
        Callsite {
            meta,
            state: AtomicU32::new(CEILING_UNKNOWN),
            filter_state: AtomicU32::new(CEILING_UNKNOWN),
            primary_fingerprint: AtomicU64::new(0),
            variants: OnceLock::new(),
            registered: AtomicBool::new(false),
            rate: RateWindow::new(),
        }
    }

    /// The source location.
    pub fn meta(&self) -> &'static CallsiteMeta {
        self.meta
    }

    /// The rate limit's window of this site.
    #[inline(always)]
    pub(crate) fn rate_window(&self) -> &RateWindow {
        &self.rate
    }

    /// The cached interest: one relaxed load.
    #[inline(always)]
    pub fn load(&self) -> CallsiteState {
        CallsiteState(self.state.load(Ordering::Relaxed))
    }

    /// The filter's ceiling and the primary id, also when the site is
    /// detoured: what the slow path decides by.
    #[inline(always)]
    pub(crate) fn load_filtered(&self) -> CallsiteState {
        CallsiteState(self.filter_state.load(Ordering::Relaxed))
    }

    /// The id records of `fingerprint`'s schema carry at this site, if the
    /// site is registered and `state` (loaded from it) says the schema is
    /// its first: the fast path of every call.
    #[inline(always)]
    pub(crate) fn primary_id_for(&self, state: CallsiteState, fingerprint: u64) -> Option<u32> {
        let id = state.primary_id();
        (id != 0 && self.primary_fingerprint.load(Ordering::Relaxed) == fingerprint).then_some(id)
    }

    /// The id of a schema seen at this site before, without a lock.
    pub(crate) fn known_id(&self, fingerprint: u64) -> Option<u32> {
        let state = self.load_filtered();
        if let Some(id) = self.primary_id_for(state, fingerprint) {
            return Some(id);
        }
        let mut next = self.variants.get();
        while let Some(variant) = next {
            if variant.fingerprint == fingerprint {
                return Some(variant.id);
            }
            next = variant.next.get();
        }
        None
    }

    /// Marks the site registered; true the first time.
    pub(crate) fn mark_registered(&self) -> bool {
        !self.registered.swap(true, Ordering::Relaxed)
    }

    /// Stores the ceiling, keeping the primary id; a `detour`ed site
    /// publishes the detour instead (see the module documentation).
    pub(crate) fn set_ceiling(&self, ceiling: Option<Level>, detour: bool) {
        let id = self.load_filtered().primary_id();
        self.publish(CallsiteState::new(ceiling, id), detour, Ordering::Relaxed);
    }

    /// Stores the filter's word and publishes it, or the detour.
    fn publish(&self, filtered: CallsiteState, detour: bool, order: Ordering) {
        self.filter_state.store(filtered.0, order);
        let published = if detour { CallsiteState(CEILING_DETOUR) } else { filtered };
        self.state.store(published.0, order);
    }

    /// Records `id` for `schema` at this site. Only the registry calls it,
    /// under its lock, once per (site, schema).
    pub(crate) fn add_id(&self, schema: &EventSchema, id: u32, ceiling: Option<Level>, detour: bool) {
        if self.load_filtered().primary_id() == 0 {
            // The fingerprint is stored before the id is published: a
            // reader that sees the id sees this fingerprint, or the initial
            // 0 (then it takes the slow path, which finds the id).
            self.primary_fingerprint.store(schema.fingerprint, Ordering::Relaxed);
            self.publish(CallsiteState::new(ceiling, id), detour, Ordering::Release);
            return;
        }
        let variant: &'static Variant =
            Box::leak(Box::new(Variant { fingerprint: schema.fingerprint, id, next: OnceLock::new() }));
        let mut slot = &self.variants;
        while let Some(existing) = slot.get() {
            slot = &existing.next;
        }
        // The registry lock makes this thread the only one appending.
        let _ = slot.set(variant);
    }
}

/// An interned (call site, schema) pair: what a schema frame describes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interned {
    pub callsite: &'static Callsite,
    pub schema: &'static EventSchema,
}

impl Interned {
    /// The schema frame payload for id `id`.
    pub(crate) fn encode_schema(&self, id: u32) -> Vec<u8> {
        let meta = self.callsite.meta;
        let location = lmlog_format::fingerprint::Fingerprint::new()
            .str(meta.module)
            .str(meta.file)
            .u64(meta.line as u64)
            .u64(meta.column as u64)
            .u64(self.schema.fingerprint)
            .finish();
        CallsiteSchemaRef {
            id,
            fingerprint: location,
            event_type: self.schema.name,
            level: self.schema.level,
            message: self.schema.message,
            module: meta.module,
            file: meta.file,
            line: meta.line,
            column: meta.column,
            function: (meta.function)(),
            fields: self.schema.fields,
        }
        .encode()
    }
}

/// The enclosing function's path from the `type_name` of a function item the
/// macros define inside it (`app::main::__lmlog_function` → `app::main`).
pub fn function_name(item_path: &'static str) -> &'static str {
    let mut path = item_path.strip_suffix("::__lmlog_function").unwrap_or(item_path);
    while let Some(outer) = path.strip_suffix("::{{closure}}") {
        path = outer;
    }
    // An operation's end events: their call sites sit in a static the
    // `lm_operation!` declares in the function.
    path.strip_suffix("::__LMLOG_OPERATION_SITES").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_schema as schema;

    #[test]
    fn function_name_strips_the_helper_and_closures() {
        assert_eq!(function_name("app::main::__lmlog_function"), "app::main");
        assert_eq!(function_name("app::run::{{closure}}::{{closure}}::__lmlog_function"), "app::run");
        assert_eq!(function_name("weird"), "weird");
        let end_site = "app::checkout::__LMLOG_OPERATION_SITES::{{closure}}::__lmlog_function";
        assert_eq!(function_name(end_site), "app::checkout");
    }

    static META: CallsiteMeta = CallsiteMeta { module: "m", file: "f.rs", line: 1, column: 1, function: || "m::f" };

    #[test]
    fn an_unregistered_site_lets_every_level_through() {
        let site = Callsite::new(&META);
        for level in Level::ALL {
            assert!(site.load().enables(level));
        }
        assert_eq!(site.known_id(1), None);
    }

    #[test]
    fn the_ceiling_decides_every_type_and_ids_are_per_schema() {
        let site = Callsite::new(&META);
        let (a, b, c) = (schema("a", Level::Debug), schema("b", Level::Info), schema("c", Level::Error));
        site.set_ceiling(Some(Level::Info), false);
        assert!(!site.load().enables(Level::Debug));
        assert!(site.load().enables(Level::Info));
        assert!(site.load().enables(Level::Error));
        site.add_id(b, 7, Some(Level::Info), false);
        site.add_id(c, 9, Some(Level::Info), false);
        site.add_id(a, 11, Some(Level::Info), false);
        assert_eq!(site.primary_id_for(site.load(), b.fingerprint), Some(7));
        assert_eq!(site.primary_id_for(site.load(), c.fingerprint), None);
        assert_eq!(site.known_id(b.fingerprint), Some(7));
        assert_eq!(site.known_id(c.fingerprint), Some(9));
        assert_eq!(site.known_id(a.fingerprint), Some(11));
        site.set_ceiling(None, false);
        assert!(!site.load().enables(Level::Error));
        assert_eq!(site.load().primary_id(), 7, "refiltering keeps the id");
    }

    #[test]
    fn a_detoured_site_sends_every_event_to_the_slow_path_and_keeps_its_ids() {
        let site = Callsite::new(&META);
        let (debug, info) = (schema("d", Level::Debug), schema("i", Level::Info));
        site.add_id(info, 3, Some(Level::Info), true);
        let published = site.load();
        assert!(published.is_detoured() && published.is_decided());
        for level in Level::ALL {
            assert!(published.enables(level), "{level:?} reaches emit");
        }
        assert_eq!(site.primary_id_for(published, info.fingerprint), None, "no fast path");
        assert_eq!(site.known_id(info.fingerprint), Some(3), "the slow path finds the id");
        let filtered = site.load_filtered();
        assert!(!filtered.is_detoured() && filtered.enables(Level::Info) && !filtered.enables(Level::Debug));
        site.add_id(debug, 4, Some(Level::Info), true);
        assert_eq!(site.known_id(debug.fingerprint), Some(4));
        site.set_ceiling(Some(Level::Info), false);
        assert!(!site.load().is_detoured());
        assert_eq!(site.primary_id_for(site.load(), info.fingerprint), Some(3), "the fast path again");
    }
}
