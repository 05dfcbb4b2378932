//! The global context (`lmlog::global_context`) of a stream: the changes
//! of its global-context frames, kept as a history by tick count so that
//! every event, in whatever order it is decoded, gets the context in effect
//! when it was emitted.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use lmlog_format::{ContextOp, ContextValue, GlobalContextReport};

/// The global context an event was emitted with: keys in order, with
/// their values. Never empty (an event emitted without one has none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GlobalContext {
    entries: BTreeMap<Box<str>, ContextValue>,
}

impl GlobalContext {
    /// The keys and values, keys in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(key, value)| (&**key, value))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(key)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no keys (never, for an event's).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn apply(&mut self, op: &ContextOp) {
        match op {
            ContextOp::Insert { key, value } => {
                self.entries.insert(key.as_str().into(), value.clone());
            }
            ContextOp::Remove { key } => {
                self.entries.remove(key.as_str());
            }
            ContextOp::Clear => self.entries.clear(),
        }
    }
}

/// Changes kept at most: the context of events emitted before the oldest
/// kept change (held longer than that many changes, which only an
/// application changing its context thousands of times per drain makes
/// happen) is the oldest kept one.
const MAX_HISTORY: usize = 4096;

/// A stream's global context over time.
#[derive(Debug, Default)]
pub(crate) struct ContextHistory {
    /// (ticks from which it holds, the context then), oldest first.
    entries: VecDeque<(u64, Arc<GlobalContext>)>,
}

impl ContextHistory {
    /// Takes in a global-context frame. A file's snapshot is the history's
    /// start when it has none (the file is decoded on its own), and is
    /// ignored when it has one (the previous file of a rotation was read).
    pub fn apply(&mut self, report: &GlobalContextReport) {
        if report.snapshot && !self.entries.is_empty() {
            return;
        }
        for change in &report.changes {
            let mut next = self.entries.back().map_or_else(GlobalContext::default, |(_, c)| (**c).clone());
            next.apply(&change.op);
            // Changes come in tick order; one at the same tick replaces.
            match self.entries.back_mut() {
                Some((ticks, context)) if *ticks >= change.ticks => *context = Arc::new(next),
                _ => self.entries.push_back((change.ticks, Arc::new(next))),
            }
            if self.entries.len() > MAX_HISTORY {
                self.entries.pop_front();
            }
        }
    }

    /// The context in effect at `ticks`, if it is not empty.
    pub fn at(&self, ticks: u64) -> Option<&GlobalContext> {
        let after = self.entries.partition_point(|(from, _)| *from <= ticks);
        let (_, context) = self.entries.get(after.checked_sub(1)?)?;
        (!context.is_empty()).then_some(&**context)
    }

    /// A new process's stream starts: its context is its own.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlog_format::ContextChange;

    fn insert(ticks: u64, key: &str, value: impl Into<ContextValue>) -> ContextChange {
        ContextChange { ticks, op: ContextOp::Insert { key: key.into(), value: value.into() } }
    }

    fn keys(context: Option<&GlobalContext>) -> Vec<String> {
        context.map_or_else(Vec::new, |c| c.iter().map(|(k, v)| format!("{k}={v:?}")).collect())
    }

    #[test]
    fn events_get_the_context_of_their_ticks() {
        let mut history = ContextHistory::default();
        history.apply(&GlobalContextReport {
            snapshot: false,
            changes: vec![
                insert(10, "region", "eu"),
                insert(20, "replicas", 3u32),
                ContextChange { ticks: 30, op: ContextOp::Remove { key: "region".into() } },
                ContextChange { ticks: 40, op: ContextOp::Clear },
            ],
        });
        assert!(history.at(9).is_none());
        assert_eq!(keys(history.at(10)), ["region=Str(\"eu\")"]);
        assert_eq!(keys(history.at(25)), ["region=Str(\"eu\")", "replicas=U64(3)"]);
        assert_eq!(keys(history.at(30)), ["replicas=U64(3)"]);
        assert!(history.at(40).is_none(), "cleared: no context at all");
        assert!(history.at(u64::MAX).is_none());
    }

    #[test]
    fn a_snapshot_starts_a_history_and_is_ignored_after_one() {
        let mut history = ContextHistory::default();
        let snapshot = GlobalContextReport { snapshot: true, changes: vec![insert(0, "region", "eu")] };
        history.apply(&snapshot);
        assert_eq!(keys(history.at(0)), ["region=Str(\"eu\")"]);
        history.apply(&GlobalContextReport { snapshot: false, changes: vec![insert(50, "region", "us")] });
        // The next file of a rotation repeats the whole context: nothing changes.
        history.apply(&GlobalContextReport { snapshot: true, changes: vec![insert(0, "region", "us")] });
        assert_eq!(keys(history.at(49)), ["region=Str(\"eu\")"]);
        assert_eq!(keys(history.at(50)), ["region=Str(\"us\")"]);
        history.reset();
        assert!(history.at(50).is_none());
    }

    #[test]
    fn the_history_is_bounded() {
        let mut history = ContextHistory::default();
        let changes = (0..MAX_HISTORY as u64 + 10).map(|t| insert(t, "n", t)).collect();
        history.apply(&GlobalContextReport { snapshot: false, changes });
        assert_eq!(history.entries.len(), MAX_HISTORY);
        assert_eq!(keys(history.at(u64::MAX)), [format!("n=U64({})", MAX_HISTORY + 9)]);
    }
}
