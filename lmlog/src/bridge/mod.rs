//! Bridges from the `log` and `tracing` crates: their records become lmlog
//! events, in the same stream as `lm_event!`'s.
//!
//! A bridged call site is not known at compile time: the bridges register
//! one at run time (a leaked `'static` [`Callsite`] and [`EventSchema`], as
//! the macros would have built), so the filter, the registry and the
//! writer treat it like any other. The site's module is the record's
//! *target* (so `LMLOG=info,hyper=warn` filters dependencies by target),
//! its file and line the record's (the original location, not the
//! bridge's); the function is empty (neither crate records it), the
//! column 0.
//!
//! Bridged events have the event type `log` or `tracing`, the message
//! template `{message}` (the decoder's `message` is the formatted message),
//! and fields of the self-describing `json` type (a number stays a number,
//! a string a string, anything else its `Debug` or `Display` text), since
//! their types are known only at run time.
//!
//! After warm-up a record takes no lock and allocates nothing: each thread
//! caches the sites it used (a map keyed by addresses); the registries behind
//! the caches are locked only when a thread meets a site for the first
//! time.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};

use lmlog_format::{FieldDesc, Level, TypeDesc};

use crate::callsite::{Callsite, CallsiteMeta};
use crate::event::EventSchema;

#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "tracing")]
pub mod tracing;

/// The message template of every bridged event.
const MESSAGE_TEMPLATE: &str = "{message}";
/// The field holding the formatted message.
const MESSAGE: &str = "message";

/// `&'static` text for a schema or call site that lives as long as the
/// process (one per call site: bounded by the program's call sites).
fn leak_str(s: &str) -> &'static str {
    Box::leak(s.into())
}

/// A call site registered at run time for `module` (a target), `file` and
/// `line`.
fn new_callsite(module: &str, file: &str, line: u32) -> &'static Callsite {
    let meta = Box::leak(Box::new(CallsiteMeta {
        module: leak_str(module),
        file: leak_str(file),
        line,
        column: 0,
        function: || "",
    }));
    Box::leak(Box::new(Callsite::new(meta)))
}

/// A schema built at run time: event type `name` at `level`, with fields
/// `fields` (names and types); the template `{message}` if one is named
/// [`MESSAGE`].
fn new_schema(name: &'static str, level: Level, fields: Vec<FieldDesc>) -> &'static EventSchema {
    let fields: &'static [FieldDesc] = Box::leak(fields.into_boxed_slice());
    let message = fields.iter().any(|f| f.name == MESSAGE).then_some(MESSAGE_TEMPLATE);
    Box::leak(Box::new(EventSchema {
        name,
        level,
        message,
        fields,
        fingerprint: EventSchema::compute_fingerprint(name, level, message, fields),
        metrics: &[],
    }))
}

/// A field of the bridges' run-time-typed values.
fn json_field(name: &str) -> FieldDesc {
    FieldDesc { name: leak_str(name), ty: &TypeDesc::Json, redacted: false }
}

/// The formatted message field.
fn message_field() -> FieldDesc {
    FieldDesc { name: MESSAGE, ty: &TypeDesc::Str, redacted: false }
}

/// Where a `log` record (or a `tracing` event made from one) was logged:
/// what identifies its call site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Location<'a> {
    target: &'a str,
    file: Option<&'a str>,
    line: u32,
    level: Level,
}

impl Location<'_> {
    /// The per-thread caches' key: the addresses and lengths of the target
    /// and file (`log`'s macros pass `'static` text, the same each time),
    /// the line and the level; cheap to compute, and checked against the
    /// text of the cached site's location (different text at one address
    /// is a miss, never a wrong site).
    fn cache_key(&self) -> u64 {
        let text = |s: &str| (s.as_ptr() as u64).rotate_left(16) ^ s.len() as u64;
        text(self.target).rotate_left(21) ^ self.file.map_or(0, text) ^ u64::from(self.line) << 3 ^ self.level as u64
    }

    fn to_owned(self) -> Location<'static> {
        Location { target: leak_str(self.target), file: self.file.map(leak_str), line: self.line, level: self.level }
    }
}

/// A call site registered for one [`Location`], with the schemas its
/// records used (one per set of key-value names, usually one).
#[derive(Debug)]
struct LocatedSite {
    location: Location<'static>,
    callsite: &'static Callsite,
    /// Appended under the lock, never removed.
    schemas: Mutex<Vec<&'static EventSchema>>,
}

impl LocatedSite {
    /// The schema of event type `name` that `keys_match`, registered on
    /// first use with the message and the fields `keys` names.
    fn schema(
        &self,
        name: &'static str,
        keys_match: impl Fn(&EventSchema) -> bool,
        keys: impl FnOnce() -> Vec<String>,
    ) -> &'static EventSchema {
        let mut schemas = lock(&self.schemas);
        if let Some(schema) = schemas.iter().find(|s| s.name == name && keys_match(s)) {
            return schema;
        }
        let fields = std::iter::once(message_field()).chain(keys().iter().map(|k| json_field(k))).collect();
        let schema = new_schema(name, self.location.level, fields);
        schemas.push(schema);
        schema
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every [`LocatedSite`], by location.
static LOCATED: Mutex<Option<HashMap<Location<'static>, &'static LocatedSite>>> = Mutex::new(None);

/// The site of `location`, registered on first use (takes the lock).
fn located_site(location: Location<'_>) -> &'static LocatedSite {
    let mut sites = lock(&LOCATED);
    let sites = sites.get_or_insert_with(HashMap::new);
    if let Some(site) = sites.get(&location) {
        return site;
    }
    let location = location.to_owned();
    let callsite = new_callsite(location.target, location.file.unwrap_or(""), location.line);
    let site: &'static LocatedSite =
        Box::leak(Box::new(LocatedSite { location, callsite, schemas: Mutex::new(Vec::new()) }));
    sites.insert(location, site);
    site
}

/// A hasher for one `u64` key (an address, or a mix of them): one
/// multiplication spreads it over the bits the map uses.
#[derive(Default)]
struct MixU64(u64);

impl Hasher for MixU64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A thread's cache of the sites (and schemas) it used, keyed by addresses:
/// after warm-up a record finds its site here, without a lock or an
/// allocation. It holds at most [`CACHED_SITES`] entries (records whose
/// target is built at run time have a new address each time): when full,
/// it starts again empty.
type ThreadCache<V> = std::cell::RefCell<HashMap<u64, V, BuildHasherDefault<MixU64>>>;

/// Entries of a [`ThreadCache`].
const CACHED_SITES: usize = 4096;

/// Caches `value` under `key` in `cache`, unless it is in use.
fn cache_insert<V>(cache: &'static std::thread::LocalKey<ThreadCache<V>>, key: u64, value: V) {
    let _ = cache.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            if cache.len() >= CACHED_SITES && !cache.contains_key(&key) {
                cache.clear();
            }
            cache.insert(key, value);
        }
    });
}

const fn new_thread_cache<V>() -> ThreadCache<V> {
    std::cell::RefCell::new(HashMap::with_hasher(BuildHasherDefault::new()))
}

thread_local! {
    /// This thread's located sites, with the schema it used last at each.
    static LOCATED_CACHE: ThreadCache<(&'static LocatedSite, &'static EventSchema)> = const { new_thread_cache() };
}

/// The site and schema of a `log`-like record at `location` whose
/// key-values `keys_match` a schema's fields after the message (`keys`
/// names them for a new schema): from this thread's cache, else from the
/// registry (and then cached). Never re-entrant on the cache: a record
/// logged while the cache is borrowed goes to the registry.
fn located(
    name: &'static str,
    location: Location<'_>,
    keys_match: impl Fn(&EventSchema) -> bool,
    keys: impl FnOnce() -> Vec<String>,
) -> (&'static LocatedSite, &'static EventSchema) {
    let key = location.cache_key();
    let cached = LOCATED_CACHE
        .try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            let &(site, schema) = cache.get(&key)?;
            (site.location == location && schema.name == name && keys_match(schema)).then_some((site, schema))
        })
        .ok()
        .flatten();
    if let Some(found) = cached {
        return found;
    }
    let site = located_site(location);
    let schema = site.schema(name, keys_match, keys);
    cache_insert(&LOCATED_CACHE, key, (site, schema));
    (site, schema)
}
