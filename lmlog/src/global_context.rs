//! The process's global context: key-value pairs that every event carries
//! while they are set (Python LMLog's `add_global_context`), such as a
//! region, a deployment or a feature flag.
//!
//! ```
//! lmlog::global_context::insert("region", "eu-west-1");
//! lmlog::global_context::insert("replicas", 3);
//! lmlog::lm_event!(info, "started"); // "global_context": {"region": "eu-west-1", "replicas": 3}
//! lmlog::global_context::remove("replicas");
//! lmlog::global_context::clear(); // events no longer carry "global_context"
//! ```
//!
//! Events pay nothing for it: a change takes a lock and reads the clock,
//! and the writer records the changes in the stream (a global-context
//! frame, FORMAT.md) with the tick count at which each was made. The
//! decoder gives every event the context in effect at its own tick count,
//! whichever thread changed it and whenever the writer framed the change.
//! Each file starts with the whole context, so a rotated file decodes on
//! its own. A change made less than a flush interval before the process
//! dies without a drain is lost with the records of that interval that
//! only the staging files hold (recovered records carry the context of
//! the last drain).

use std::collections::BTreeMap;

pub use lmlog_format::ContextValue;
use lmlog_format::{ContextChange, ContextOp};

use crate::state::STATE;

/// Sets `key` to `value` for every event from now on, in every thread.
///
/// ```
/// lmlog::global_context::insert("deployment", "canary");
/// lmlog::global_context::insert("build", 4127u32);
/// lmlog::global_context::insert("beta", true);
/// ```
pub fn insert(key: impl Into<String>, value: impl Into<ContextValue>) {
    STATE.change_global_context(ContextOp::Insert { key: key.into(), value: value.into() });
}

/// Removes `key` from the global context.
pub fn remove(key: &str) {
    STATE.change_global_context(ContextOp::Remove { key: key.to_owned() });
}

/// Removes every key: events no longer carry a global context.
pub fn clear() {
    STATE.change_global_context(ContextOp::Clear);
}

/// The global context as the runtime holds it: what it is now, and the
/// changes the writer has not framed yet.
#[derive(Debug, Default)]
pub(crate) struct ContextLog {
    current: BTreeMap<String, ContextValue>,
    pending: Vec<ContextChange>,
}

impl ContextLog {
    pub(crate) const fn new() -> ContextLog {
        ContextLog { current: BTreeMap::new(), pending: Vec::new() }
    }

    /// Applies `op`, made at `ticks`.
    pub(crate) fn change(&mut self, ticks: u64, op: ContextOp) {
        apply(&mut self.current, &op);
        self.pending.push(ContextChange { ticks, op });
    }

    /// Moves the changes not framed yet to `out`.
    pub(crate) fn take_pending(&mut self, out: &mut Vec<ContextChange>) {
        out.append(&mut self.pending);
    }

    /// The context now; forgets the pending changes (a new writer starts
    /// its first file from this).
    pub(crate) fn restart(&mut self) -> BTreeMap<String, ContextValue> {
        self.pending.clear();
        self.current.clone()
    }
}

/// Applies `op` to `context`: the one definition of what a change does,
/// for the runtime's copy and the writer's.
pub(crate) fn apply(context: &mut BTreeMap<String, ContextValue>, op: &ContextOp) {
    match op {
        ContextOp::Insert { key, value } => {
            context.insert(key.clone(), value.clone());
        }
        ContextOp::Remove { key } => {
            context.remove(key);
        }
        ContextOp::Clear => context.clear(),
    }
}

/// What a file starts with: the whole context, as inserts at ticks 0.
pub(crate) fn snapshot(context: &BTreeMap<String, ContextValue>) -> lmlog_format::GlobalContextReport {
    lmlog_format::GlobalContextReport {
        snapshot: true,
        changes: context
            .iter()
            .map(|(key, value)| ContextChange {
                ticks: 0,
                op: ContextOp::Insert { key: key.clone(), value: value.clone() },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_in_order_and_are_taken_once() {
        let mut log = ContextLog::new();
        log.change(5, ContextOp::Insert { key: "region".into(), value: "eu".into() });
        log.change(6, ContextOp::Insert { key: "replicas".into(), value: 3u32.into() });
        log.change(7, ContextOp::Remove { key: "region".into() });
        let mut taken = Vec::new();
        log.take_pending(&mut taken);
        assert_eq!(taken.iter().map(|c| c.ticks).collect::<Vec<_>>(), [5, 6, 7]);
        log.take_pending(&mut taken);
        assert_eq!(taken.len(), 3);
        let now = log.restart();
        assert_eq!(now.into_iter().collect::<Vec<_>>(), [("replicas".to_string(), ContextValue::U64(3))]);
        log.change(8, ContextOp::Clear);
        let snap = snapshot(&log.restart());
        assert!(snap.snapshot && snap.changes.is_empty());
    }
}
