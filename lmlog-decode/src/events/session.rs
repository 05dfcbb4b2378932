//! Per-session decoding state: call sites by id, thread names and the
//! tick clock.

use std::collections::HashMap;
use std::sync::Arc;

use lmlog_format::{ClockAnchor, ClockInfo, ThreadInfo};

/// Call-site ids below this are looked up in a vector, others in a map.
const DENSE_IDS: u32 = 1 << 16;

/// Call sites by id.
#[derive(Debug)]
pub(crate) struct SchemaTable<T> {
    dense: Vec<Option<Box<T>>>,
    sparse: HashMap<u32, Box<T>>,
}

impl<T> Default for SchemaTable<T> {
    fn default() -> Self {
        SchemaTable { dense: Vec::new(), sparse: HashMap::new() }
    }
}

impl<T> SchemaTable<T> {
    /// The schema for `id`, if one was seen.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&T> {
        if id < DENSE_IDS {
            self.dense.get(id as usize).and_then(|s| s.as_deref())
        } else {
            self.sparse.get(&id).map(|s| &**s)
        }
    }

    /// The schema for `id`, if one was seen, for updating what an output
    /// prepared for it.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        if id < DENSE_IDS {
            self.dense.get_mut(id as usize).and_then(|s| s.as_deref_mut())
        } else {
            self.sparse.get_mut(&id).map(|s| &mut **s)
        }
    }

    /// Adds or replaces the schema for `id`.
    pub fn insert(&mut self, id: u32, schema: T) {
        if id < DENSE_IDS {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize_with(i + 1, || None);
            }
            self.dense[i] = Some(Box::new(schema));
        } else {
            self.sparse.insert(id, Box::new(schema));
        }
    }

    /// Forgets every schema.
    pub fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
    }
}

/// Converts record ticks into nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Clock {
    anchor: ClockAnchor,
    nanos_per_tick: f64,
}

impl Default for Clock {
    /// Before any session frame: ticks are taken as Unix nanoseconds.
    fn default() -> Self {
        Clock { anchor: ClockAnchor { ticks: 0, unix_nanos: 0 }, nanos_per_tick: 1.0 }
    }
}

impl Clock {
    /// The clock of a session; `None` if its tick rate is unusable (then
    /// ticks are taken as nanoseconds from the anchor).
    pub fn from_info(info: &ClockInfo) -> (Clock, bool) {
        let nanos_per_tick = nanos_per_tick(info.ticks_per_second);
        (Clock { anchor: info.anchor, nanos_per_tick: nanos_per_tick.unwrap_or(1.0) }, nanos_per_tick.is_some())
    }

    /// Moves the anchor to a newer simultaneous reading of both clocks.
    pub fn set_anchor(&mut self, anchor: ClockAnchor) {
        self.anchor = anchor;
    }

    /// Converts with a newer measurement of the tick rate (a clock frame's);
    /// returns `false`, and keeps the rate in force, if it is unusable.
    pub fn set_rate(&mut self, ticks_per_second: f64) -> bool {
        match nanos_per_tick(ticks_per_second) {
            Some(nanos_per_tick) => {
                self.nanos_per_tick = nanos_per_tick;
                true
            }
            None => false,
        }
    }

    /// Unix nanoseconds at `ticks` (may be negative or beyond `u64` for
    /// nonsense input; the formatter copes with both).
    #[inline]
    pub fn unix_nanos(&self, ticks: u64) -> i128 {
        let anchor = self.anchor.ticks;
        if self.nanos_per_tick == 1.0 {
            return self.anchor.unix_nanos as i128 + (ticks as i128 - anchor as i128);
        }
        // Stay clear of 128-bit integer/float conversions, which are slow.
        let diff = if ticks >= anchor { (ticks - anchor) as f64 } else { -((anchor - ticks) as f64) };
        let delta = diff * self.nanos_per_tick;
        // Round half away from zero without a libm call.
        let delta = delta + 0.5f64.copysign(delta);
        let delta = if delta.abs() < 9e18 { delta as i64 as i128 } else { delta as i128 };
        (self.anchor.unix_nanos as i128).saturating_add(delta)
    }
}

/// Nanoseconds per tick at `ticks_per_second`, if that is a usable rate.
fn nanos_per_tick(ticks_per_second: f64) -> Option<f64> {
    let nanos_per_tick = 1e9 / ticks_per_second;
    (ticks_per_second.is_finite() && ticks_per_second > 0.0 && nanos_per_tick.is_finite()).then_some(nanos_per_tick)
}

/// A thread as its latest description gives it.
#[derive(Debug, Clone)]
pub(crate) struct ThreadDesc {
    /// Its name (`None`: described without one, or not described).
    pub name: Option<Arc<str>>,
    /// [`Thread::key`](super::Thread::key): new for every description.
    pub key: u64,
}

/// Per-session state, reset by every preamble.
#[derive(Debug)]
pub(crate) struct Session<T> {
    pub schemas: SchemaTable<T>,
    /// Threads by id.
    threads: HashMap<u32, ThreadDesc>,
    pub clock: Clock,
    /// The last thread key handed out; keys stay unique across sessions.
    last_key: u64,
}

impl<T> Default for Session<T> {
    fn default() -> Self {
        Session { schemas: SchemaTable::default(), threads: HashMap::new(), clock: Clock::default(), last_key: 0 }
    }
}

impl<T> Session<T> {
    /// Forgets everything (a new file starts).
    pub fn reset(&mut self) {
        self.schemas.clear();
        self.threads.clear();
        self.clock = Clock::default();
    }

    /// Records a thread description.
    pub fn add_thread(&mut self, info: ThreadInfo) {
        self.last_key += 1;
        self.threads.insert(info.id, ThreadDesc { name: info.name.map(Arc::from), key: self.last_key });
    }

    /// Thread `id` as described (with a key of its own if it never was).
    #[inline]
    pub fn thread(&mut self, id: u32) -> &ThreadDesc {
        let last_key = &mut self.last_key;
        self.threads.entry(id).or_insert_with(|| {
            *last_key += 1;
            ThreadDesc { name: None, key: *last_key }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_conversion() {
        let info = ClockInfo {
            source: lmlog_format::ClockSource::Tsc,
            ticks_per_second: 2e9,
            anchor: ClockAnchor { ticks: 1_000, unix_nanos: 5_000_000_000 },
        };
        let (mut c, ok) = Clock::from_info(&info);
        assert!(ok);
        assert_eq!(c.unix_nanos(1_000), 5_000_000_000);
        assert_eq!(c.unix_nanos(3_000), 5_000_001_000);
        assert_eq!(c.unix_nanos(0), 4_999_999_500);
        assert_eq!(c.unix_nanos(u64::MAX), 5_000_000_000 + ((u64::MAX - 1_000) as f64 / 2.0).round() as i128);
        c.set_anchor(ClockAnchor { ticks: u64::MAX, unix_nanos: 0 });
        assert!(c.unix_nanos(0) < 0);
        let bad = ClockInfo { ticks_per_second: f64::NAN, ..info };
        let (c, ok) = Clock::from_info(&bad);
        assert!(!ok);
        assert_eq!(c.unix_nanos(1_010), 5_000_000_010);
        let tiny = ClockInfo { ticks_per_second: f64::MIN_POSITIVE, ..info };
        assert!(!Clock::from_info(&tiny).1);
        // Absurd but finite rates saturate instead of overflowing.
        let slow = ClockInfo { ticks_per_second: 1e-200, ..info };
        let (c, ok) = Clock::from_info(&slow);
        assert!(ok);
        assert_eq!(c.unix_nanos(u64::MAX), i128::MAX);
        assert!(c.unix_nanos(0) < 0);
        let mut out = Vec::new();
        // A clock frame's rate replaces the session's; an unusable one is refused.
        let (mut c, _) = Clock::from_info(&info);
        assert!(c.set_rate(4e9));
        assert_eq!(c.unix_nanos(5_000), 5_000_001_000);
        for unusable in [f64::NAN, 0.0, -1.0, f64::INFINITY, f64::MIN_POSITIVE] {
            assert!(!c.set_rate(unusable), "{unusable}");
            assert_eq!(c.unix_nanos(5_000), 5_000_001_000);
        }
        crate::json::TimestampFormatter::new().write(&mut out, c.unix_nanos(u64::MAX));
        crate::json::TimestampFormatter::new().write(&mut out, c.unix_nanos(0));
    }
}
