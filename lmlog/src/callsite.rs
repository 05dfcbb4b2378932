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
//! A site can also be *detoured*: its published word carries id 0, so
//! its events take the slow path (`producer::emit_slow`), which finds the
//! id beside the word. A site whose events process-wide sampling must see
//! publishes its filter's ceiling with id 0 (see `state::needs_detour`);
//! while the flight recorder (`crate::flight`) runs, every site publishes a
//! ceiling that lets every level through, so that the events the filter
//! turns away reach it too, and the slow path decides by the filter's own
//! word (the real ceiling and id, kept beside it). Each (site, schema)
//! also holds its [`Sampler`](crate::Sampler)'s policy. A site that is not
//! detoured costs exactly what it did.
//!
//! This module only holds the data; registering a call site and deciding
//! its interest is the runtime state's job ([`crate::state`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

use lmlog_format::schema::CallsiteSchemaRef;
use lmlog_format::Level;

use crate::event::EventSchema;
use crate::sampling::{RateWindow, Sampling, SitePolicy};

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
/// Ceiling of a call site detoured for the flight recorder (see the module
/// documentation): above every level, so every event reaches `emit`, and
/// decided.
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

    /// The id of the site's first schema; 0 if it has none yet or the site
    /// is detoured.
    #[inline(always)]
    pub(crate) fn primary_id(self) -> u32 {
        self.0 >> CEILING_BITS
    }

    pub(crate) fn new(ceiling: Option<Level>, primary_id: u32) -> CallsiteState {
        debug_assert!(primary_id <= MAX_ID);
        CallsiteState(primary_id << CEILING_BITS | ceiling.map_or(0, |l| l as u32))
    }

    /// Whether the site is detoured for the flight recorder: every event
    /// takes the slow path.
    #[inline(always)]
    pub(crate) fn is_flight_detour(self) -> bool {
        self.0 == CEILING_DETOUR
    }
}

/// What a call site publishes beside its filter's word (see the module
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detour {
    /// The filter's ceiling and the primary id: the fast path.
    None,
    /// The filter's ceiling and id 0: process-wide sampling sees every
    /// event the filter lets through.
    Sampling,
    /// Every level and id 0: the flight recorder also sees the events the
    /// filter turns away.
    Flight,
}

/// A schema beyond a call site's first, with its id.
#[derive(Debug)]
struct Variant {
    fingerprint: u64,
    id: u32,
    policy: SitePolicy,
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
    /// The primary id, also while the state word leaves it out (a
    /// detoured site); 0 until assigned.
    primary_id: AtomicU32,
    /// The primary schema's level; 0 until the id is assigned.
    primary_level: AtomicU8,
    /// The sampler's policy for the primary schema.
    policy: SitePolicy,
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
            primary_id: AtomicU32::new(0),
            primary_level: AtomicU8::new(0),
            policy: SitePolicy::new(),
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

    /// The id of `schema` if it is this site's second schema (a generic
    /// site), the site is not detoured, and no process-wide rule samples
    /// it (its level's rate and its sampler's policy keep every event): the
    /// decision the slow path would reach without a draw, in a few loads.
    #[inline(always)]
    pub(crate) fn unsampled_variant_id(&self, state: CallsiteState, schema: &EventSchema) -> Option<u32> {
        if state.primary_id() == 0 {
            return None;
        }
        let variant = self.variants.get()?;
        (variant.fingerprint == schema.fingerprint
            && variant.policy.get().keeps_all()
            && crate::sampling::level_keeps_all(schema.level))
        .then_some(variant.id)
    }

    /// The id of a schema seen at this site before and its sampler's
    /// policy, without a lock.
    #[inline]
    pub(crate) fn known(&'static self, fingerprint: u64) -> Option<(u32, &'static SitePolicy)> {
        let id = self.primary_id.load(Ordering::Acquire);
        if id != 0 && self.primary_fingerprint.load(Ordering::Relaxed) == fingerprint {
            return Some((id, &self.policy));
        }
        let mut next = self.variants.get();
        while let Some(variant) = next {
            if variant.fingerprint == fingerprint {
                return Some((variant.id, &variant.policy));
            }
            next = variant.next.get();
        }
        None
    }

    /// The level of the site's first schema, once it has an id.
    pub(crate) fn primary_level(&self) -> Option<Level> {
        Level::from_u8(self.primary_level.load(Ordering::Relaxed))
    }

    /// The sampler's policy for the site's first schema.
    pub(crate) fn primary_policy(&self) -> &SitePolicy {
        &self.policy
    }

    /// Marks the site registered; true the first time.
    pub(crate) fn mark_registered(&self) -> bool {
        !self.registered.swap(true, Ordering::Relaxed)
    }

    /// Stores the filter's ceiling and the primary id, and publishes them,
    /// or the `detour` (see the module documentation).
    pub(crate) fn set_ceiling(&self, ceiling: Option<Level>, detour: Detour) {
        let filtered = CallsiteState::new(ceiling, self.primary_id.load(Ordering::Relaxed));
        self.filter_state.store(filtered.0, Ordering::Release);
        let published = match detour {
            Detour::None => filtered,
            Detour::Sampling => CallsiteState::new(ceiling, 0),
            Detour::Flight => CallsiteState(CEILING_DETOUR),
        };
        self.state.store(published.0, Ordering::Release);
    }

    /// Records `id` for `schema` at this site, with its sampler's `policy`,
    /// and returns the policy's slot. Only the registry calls it, under its
    /// lock, once per (site, schema); a first id reaches the state word by
    /// the next [`set_ceiling`](Self::set_ceiling).
    pub(crate) fn add_id(&'static self, schema: &EventSchema, id: u32, policy: Sampling) -> &'static SitePolicy {
        if self.primary_id.load(Ordering::Relaxed) == 0 {
            // The fingerprint is stored before the id is published: a
            // reader that sees the id sees this fingerprint, or the initial
            // 0 (then it takes the slow path, which finds the id).
            self.policy.set(policy);
            self.primary_fingerprint.store(schema.fingerprint, Ordering::Relaxed);
            self.primary_level.store(schema.level as u8, Ordering::Relaxed);
            self.primary_id.store(id, Ordering::Release);
            return &self.policy;
        }
        let policy_slot = SitePolicy::new();
        policy_slot.set(policy);
        let variant: &'static Variant = Box::leak(Box::new(Variant {
            fingerprint: schema.fingerprint,
            id,
            policy: policy_slot,
            next: OnceLock::new(),
        }));
        let mut slot = &self.variants;
        while let Some(existing) = slot.get() {
            slot = &existing.next;
        }
        // The registry lock makes this thread the only one appending.
        let _ = slot.set(variant);
        &variant.policy
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
        let site: &'static Callsite = Box::leak(Box::new(Callsite::new(&META)));
        for level in Level::ALL {
            assert!(site.load().enables(level));
        }
        assert!(site.known(1).is_none());
    }

    #[test]
    fn the_ceiling_decides_every_type_and_ids_are_per_schema() {
        let site: &'static Callsite = Box::leak(Box::new(Callsite::new(&META)));
        let (a, b, c) = (schema("a", Level::Debug), schema("b", Level::Info), schema("c", Level::Error));
        site.set_ceiling(Some(Level::Info), Detour::None);
        assert!(!site.load().enables(Level::Debug));
        assert!(site.load().enables(Level::Info));
        assert!(site.load().enables(Level::Error));
        site.add_id(b, 7, Sampling::NONE);
        site.add_id(c, 9, Sampling::NONE);
        site.add_id(a, 11, Sampling::NONE);
        assert_eq!(site.primary_id_for(site.load(), b.fingerprint), None, "published by set_ceiling");
        site.set_ceiling(Some(Level::Info), Detour::None);
        assert_eq!(site.primary_id_for(site.load(), b.fingerprint), Some(7));
        assert_eq!(site.primary_id_for(site.load(), c.fingerprint), None);
        let known = |fingerprint| site.known(fingerprint).map(|(id, _)| id);
        assert_eq!(known(b.fingerprint), Some(7));
        assert_eq!(known(c.fingerprint), Some(9));
        assert_eq!(known(a.fingerprint), Some(11));
        site.set_ceiling(None, Detour::None);
        assert!(!site.load().enables(Level::Error));
        assert_eq!(site.load().primary_id(), 7, "refiltering keeps the id");
        // A detoured site publishes id 0 and still knows its ids.
        site.set_ceiling(Some(Level::Info), Detour::Sampling);
        assert_eq!(site.primary_id_for(site.load(), b.fingerprint), None);
        assert!(site.load().enables(Level::Info));
        assert_eq!(known(b.fingerprint), Some(7));
        assert_eq!(site.primary_level(), Some(Level::Info));
        site.set_ceiling(Some(Level::Info), Detour::None);
        assert_eq!(site.primary_id_for(site.load(), b.fingerprint), Some(7));
    }

    #[test]
    fn a_flight_detoured_site_sends_every_event_to_the_slow_path_and_keeps_its_ids() {
        let site: &'static Callsite = Box::leak(Box::new(Callsite::new(&META)));
        let (debug, info) = (schema("d", Level::Debug), schema("i", Level::Info));
        site.add_id(info, 3, Sampling::NONE);
        site.set_ceiling(Some(Level::Info), Detour::Flight);
        let published = site.load();
        assert!(published.is_flight_detour() && published.is_decided());
        for level in Level::ALL {
            assert!(published.enables(level), "{level:?} reaches emit");
        }
        assert_eq!(site.primary_id_for(published, info.fingerprint), None, "no fast path");
        let known = |fingerprint| site.known(fingerprint).map(|(id, _)| id);
        assert_eq!(known(info.fingerprint), Some(3), "the slow path finds the id");
        let filtered = site.load_filtered();
        assert!(!filtered.is_flight_detour() && filtered.enables(Level::Info) && !filtered.enables(Level::Debug));
        site.add_id(debug, 4, Sampling::NONE);
        assert_eq!(known(debug.fingerprint), Some(4));
        site.set_ceiling(Some(Level::Info), Detour::None);
        assert!(!site.load().is_flight_detour());
        assert_eq!(site.primary_id_for(site.load(), info.fingerprint), Some(3), "the fast path again");
    }
}
