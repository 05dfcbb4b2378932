//! Call sites: the `static` each `lm_event!` expands to, its cached interest
//! and its interned id.
//!
//! The hot path reads one word ([`Callsite::load`]). Everything else —
//! registering the call site, deciding interest from the filter, assigning
//! an id and publishing the schema for the writer — happens once, on the
//! slow path, under a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use lmlog_format::schema::CallsiteSchemaRef;
use lmlog_format::Level;

use crate::event::{EventSchema, LogEvent};

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

const ENABLED: u32 = 1;
const KNOWN: u32 = 2;
const ID_SHIFT: u32 = 2;

/// A snapshot of a call site's cached interest and id.
#[derive(Debug, Clone, Copy)]
pub struct CallsiteState(u32);

impl CallsiteState {
    /// True when the call site is enabled, or its interest is not known yet
    /// (the slow path in [`Callsite::emit`] then decides).
    #[inline(always)]
    pub fn is_interested(self) -> bool {
        self.0 & ENABLED != 0 || self.0 & KNOWN == 0
    }
}

/// One `lm_event!` call site.
#[derive(Debug)]
pub struct Callsite {
    meta: &'static CallsiteMeta,
    /// `ENABLED | KNOWN | id << ID_SHIFT`; 0 until first use.
    state: AtomicU32,
    /// Fingerprint of the schema the id was assigned for; a call site in a
    /// generic function may see several.
    schema_fingerprint: AtomicU64,
    /// Level of the event, recorded at registration for re-filtering.
    level: AtomicU8,
}

impl Callsite {
    /// A call site that has not been used yet.
    pub const fn new(meta: &'static CallsiteMeta) -> Callsite {
        Callsite { meta, state: AtomicU32::new(0), schema_fingerprint: AtomicU64::new(0), level: AtomicU8::new(0) }
    }

    /// The source location.
    pub fn meta(&self) -> &'static CallsiteMeta {
        self.meta
    }

    /// The cached interest: one relaxed load.
    #[inline(always)]
    pub fn load(&self) -> CallsiteState {
        CallsiteState(self.state.load(Ordering::Relaxed))
    }

    /// Records `event` if this call site is enabled.
    #[inline(always)]
    pub fn emit<E: LogEvent>(&'static self, state: CallsiteState, event: &E) {
        let s = state.0;
        if s & (ENABLED | KNOWN) == ENABLED | KNOWN
            && self.schema_fingerprint.load(Ordering::Relaxed) == E::SCHEMA.fingerprint
        {
            crate::producer::write_event(s >> ID_SHIFT, event);
        } else if s & KNOWN == 0 || s & ENABLED != 0 {
            self.emit_slow(event);
        }
    }

    #[cold]
    #[inline(never)]
    fn emit_slow<E: LogEvent>(&'static self, event: &E) {
        if let Some(id) = self.register(E::SCHEMA) {
            crate::producer::write_event(id, event);
        }
    }

    /// Registers the call site, decides its interest and, when enabled,
    /// returns the id records for `schema` carry.
    fn register(&'static self, schema: &'static EventSchema) -> Option<u32> {
        let mut registry = registry();
        // A stored level means the call site is already in the registry.
        if self.level.load(Ordering::Relaxed) == 0 {
            self.level.store(schema.level as u8, Ordering::Relaxed);
            registry.callsites.push(self);
        }
        let enabled = crate::runtime::enabled(self.meta.module, schema.level);
        let mut id = self.state.load(Ordering::Relaxed) >> ID_SHIFT;
        let mut result = None;
        if enabled {
            if id == 0 {
                id = registry.intern(self, schema);
                self.schema_fingerprint.store(schema.fingerprint, Ordering::Relaxed);
            }
            result = Some(if self.schema_fingerprint.load(Ordering::Relaxed) == schema.fingerprint {
                id
            } else {
                registry.intern_variant(self, schema)
            });
        }
        self.state.store(KNOWN | u32::from(enabled) | id << ID_SHIFT, Ordering::Relaxed);
        result
    }
}

/// A call site with an id: what the writer needs to write its schema frame.
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

#[derive(Default)]
pub(crate) struct Registry {
    /// Every call site that has been reached, for re-filtering.
    callsites: Vec<&'static Callsite>,
    /// Interned call sites; id `n` is at index `n - 1`.
    interned: Vec<Interned>,
    /// Ids of (call site, schema) pairs beyond a call site's first schema.
    variants: HashMap<(usize, u64), u32>,
}

impl Registry {
    fn intern(&mut self, callsite: &'static Callsite, schema: &'static EventSchema) -> u32 {
        self.interned.push(Interned { callsite, schema });
        let id = self.interned.len() as u32;
        assert!(id < u32::MAX >> ID_SHIFT, "more than 2^30 call sites");
        INTERNED_COUNT.store(id, Ordering::Release);
        id
    }

    fn intern_variant(&mut self, callsite: &'static Callsite, schema: &'static EventSchema) -> u32 {
        let key = (callsite as *const Callsite as usize, schema.fingerprint);
        if let Some(&id) = self.variants.get(&key) {
            return id;
        }
        let id = self.intern(callsite, schema);
        self.variants.insert(key, id);
        id
    }

    /// Interned call sites with ids in `from + 1 ..= to`.
    pub(crate) fn interned_range(&self, from: u32, to: u32) -> &[Interned] {
        &self.interned[from as usize..to as usize]
    }
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
/// Number of interned call sites, published after the schema is in the
/// registry and before any record with the new id is committed.
static INTERNED_COUNT: AtomicU32 = AtomicU32::new(0);

pub(crate) struct RegistryGuard(MutexGuard<'static, Option<Registry>>);

impl std::ops::Deref for RegistryGuard {
    type Target = Registry;
    fn deref(&self) -> &Registry {
        self.0.as_ref().expect("registry initialised by registry()")
    }
}

impl std::ops::DerefMut for RegistryGuard {
    fn deref_mut(&mut self) -> &mut Registry {
        self.0.as_mut().expect("registry initialised by registry()")
    }
}

pub(crate) fn registry() -> RegistryGuard {
    let mut guard = REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.get_or_insert_with(Registry::default);
    RegistryGuard(guard)
}

/// Number of interned call sites; load it after loading ring tails so every
/// id a drained record carries is covered.
pub(crate) fn interned_count() -> u32 {
    INTERNED_COUNT.load(Ordering::Acquire)
}

/// Re-decides every registered call site's interest, after the runtime
/// started or stopped or the filter changed.
pub(crate) fn refilter(enabled: impl Fn(&str, Level) -> bool) {
    let registry = registry();
    for callsite in &registry.callsites {
        let level = Level::from_u8(callsite.level.load(Ordering::Relaxed)).unwrap_or(Level::Trace);
        let on = enabled(callsite.meta.module, level);
        let id = callsite.state.load(Ordering::Relaxed) >> ID_SHIFT;
        // An enabled call site without an id goes through the slow path once
        // more to get one.
        let state = if on && id == 0 { 0 } else { KNOWN | u32::from(on) | id << ID_SHIFT };
        callsite.state.store(state, Ordering::Relaxed);
    }
}

/// The enclosing function's path from the `type_name` of a function item the
/// macros define inside it (`app::main::__lmlog_function` → `app::main`).
pub fn function_name(item_path: &'static str) -> &'static str {
    let mut path = item_path.strip_suffix("::__lmlog_function").unwrap_or(item_path);
    while let Some(outer) = path.strip_suffix("::{{closure}}") {
        path = outer;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_name_strips_the_helper_and_closures() {
        assert_eq!(function_name("app::main::__lmlog_function"), "app::main");
        assert_eq!(function_name("app::run::{{closure}}::{{closure}}::__lmlog_function"), "app::run");
        assert_eq!(function_name("weird"), "weird");
    }
}
