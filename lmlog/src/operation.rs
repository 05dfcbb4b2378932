//! Operations: [`lm_operation!`](crate::lm_operation) and the
//! [`Operation`] guard it returns.
//!
//! An operation is a named piece of work (`checkout`, `nightly_export`).
//! While its guard lives, every event of the thread carries the operation's
//! id and its parent's in its record (an extension item, FORMAT.md); the
//! thread's current operation is a thread-local pair read once per event,
//! so an untagged event costs one thread-local load more and a tagged one a
//! few bytes. The operation's name travels once, in its first record. The
//! start, end and error events are ordinary events at the `lm_operation!`
//! call site (their call sites are generated there), so they carry its
//! source and obey its module's filter.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use crate::FormattedStr;

/// The operation an event is emitted in, as its record carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Current {
    /// 0 when there is none.
    pub id: u64,
    /// 0 when there is none.
    pub parent: u64,
    /// Written with the operation's next record, then cleared.
    pub name: Option<&'static str>,
}

impl Current {
    pub const NONE: Current = Current { id: 0, parent: 0, name: None };
}

thread_local! {
    /// This thread's current operation.
    static CURRENT: Cell<Current> = const { Cell::new(Current::NONE) };
    /// The length of [`TAG_BYTES`], what every record reads: 0 when the
    /// thread has no operation, [`ASSEMBLE`] while its name still has to
    /// be written (or its ids are too large to be copied). A constant initialiser and no destructor make that
    /// one thread-local load.
    static TAG_LEN: Cell<u8> = const { Cell::new(0) };
    /// The extension block of the current operation's records after its
    /// first (the name written), encoded once when it becomes current, so
    /// that a tagged record only copies it.
    static TAG_BYTES: Cell<[u8; TAG_CAPACITY]> = const { Cell::new([0; TAG_CAPACITY]) };
}

/// The size of [`TAG_BYTES`]; the blocks it holds are shorter (block
/// length, item tag and item length, a byte each, and two ids below 2³⁵,
/// 5-byte varints, are 13 bytes), and copied as two words. Longer blocks
/// (larger ids) are assembled.
pub(crate) const TAG_CAPACITY: usize = 16;

/// [`tag_len`] of an operation whose records assemble their block
/// (through [`take_current`]): its next record must carry its name, or its
/// ids do not fit [`TAG_CAPACITY`].
pub(crate) const ASSEMBLE: u8 = u8::MAX;

/// What the calling thread's records carry for its operation: 0 for
/// nothing, [`ASSEMBLE`], or the length of the block [`tag_bytes`]
/// holds.
#[inline(always)]
pub(crate) fn tag_len() -> u8 {
    TAG_LEN.with(Cell::get)
}

/// The current operation's encoded extension block, its first
/// [`tag_len`] bytes meaningful (when that is neither 0 nor [`ASSEMBLE`]),
/// by value: the record's encoder copies it without its address leaving
/// the record's writer (see `Encoder::out_of_line`).
///
/// Out of line: inlined, its set-up is hoisted onto every record's path,
/// tagged or not. Generic over the record's event type `E` only so that it
/// is compiled in the application's crate, where the thread-local is one
/// load (in this library crate it is a call that saves registers).
#[inline(never)]
#[allow(clippy::extra_unused_type_parameters)] // `E` places the instance; see above
pub(crate) fn tag_bytes<E: ?Sized>() -> [u8; TAG_CAPACITY] {
    TAG_BYTES.with(Cell::get)
}

/// Makes `current` the thread's current operation.
fn set_current(current: Current) -> Current {
    publish_tag(current);
    CURRENT.with(|cell| cell.replace(current))
}

/// Encodes what records of `current` carry into [`TAG_BYTES`] /
/// [`TAG_LEN`].
fn publish_tag(current: Current) {
    use lmlog_format::frame::EXTENSION_OPERATION;
    use lmlog_format::varint::{len_u64, write_u64};
    if current.id == 0 {
        return TAG_LEN.set(0);
    }
    if current.name.is_some() {
        return TAG_LEN.set(ASSEMBLE);
    }
    let item_len = len_u64(current.id) + len_u64(current.parent);
    let block_len = len_u64(EXTENSION_OPERATION) + len_u64(item_len as u64) + item_len;
    let mut bytes = [0; TAG_CAPACITY];
    let mut at = 0;
    for v in [block_len as u64, EXTENSION_OPERATION, item_len as u64, current.id, current.parent] {
        match write_u64(&mut bytes[at..TAG_CAPACITY - 1], v) {
            Some(len) => at += len,
            None => return TAG_LEN.set(ASSEMBLE),
        }
    }
    TAG_BYTES.set(bytes);
    TAG_LEN.set(at as u8);
}

/// The current operation of the calling thread, taking the name it still
/// has to write: what the producer puts in a record that has an operation
/// and is not a plain copy of [`tag_bytes`]' block.
#[inline(never)]
pub(crate) fn take_current() -> Current {
    CURRENT.with(|current| {
        let value = current.get();
        if value.name.is_some() {
            let named = Current { name: None, ..value };
            current.set(named);
            publish_tag(named);
        }
        value
    })
}

/// Gives back a name [`take_current`] took for a record that was not
/// written after all (dropped for lack of room).
#[cold]
pub(crate) fn restore_name(taken: Current) {
    CURRENT.with(|current| {
        if current.get().id == taken.id {
            current.set(taken);
            publish_tag(taken);
        }
    });
}

/// The current operation of the calling thread, leaving the name it still
/// has to write in place: for the flight recorder, whose records may never
/// be written.
pub(crate) fn peek_current() -> Current {
    CURRENT.with(Cell::get)
}

/// Ids of operations, unique within the process; 0 is "none".
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// What an operation's end is told: the fields of `operation_end` and
/// `operation_error`.
#[doc(hidden)]
pub struct OperationEnd<'a> {
    pub name: &'static str,
    pub duration_ms: f64,
    /// `"ok"`, `"error"` or `"panic"`.
    pub outcome: &'static str,
    /// The error's text (`fail`) or the panic's.
    pub error: &'a str,
}

/// The call sites of an operation's end, generated at its `lm_operation!`
/// so that they carry its source and obey its module's filter.
#[doc(hidden)]
pub struct OperationSites {
    pub end: fn(&OperationEnd<'_>),
    pub error: fn(&OperationEnd<'_>),
}

/// A running operation, returned by [`lm_operation!`](crate::lm_operation):
/// the events of this thread carry it until it is dropped, which logs
/// `operation_end` (`duration_ms`, `outcome` `"ok"`), or `operation_error`
/// (`outcome` `"error"` with the error given to [`Operation::fail`], or
/// `"panic"` when dropped by a panic).
///
/// ```
/// let op = lmlog::lm_operation!("checkout", user_type = "premium");
/// lmlog::lm_event!(info, "cart_loaded", items = 3u32); // in "checkout"
/// drop(op); // operation_end, with duration_ms
/// ```
#[must_use = "the operation ends when this guard is dropped"]
pub struct Operation {
    id: u64,
    parent: u64,
    name: &'static str,
    start: Instant,
    sites: &'static OperationSites,
    failure: Option<FormattedStr>,
    /// The thread's current operation before this one began, put back when
    /// it ends; `None` while an [`Instrumented`] future owns it (its poll
    /// sets and restores the current operation instead).
    previous: Option<Current>,
}

impl Operation {
    /// Starts an operation named `name` on this thread, inside the current
    /// one (its parent). `lm_operation!` calls this, then logs
    /// `operation_start`.
    #[doc(hidden)]
    pub fn begin(name: &'static str, sites: &'static OperationSites) -> Operation {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let previous = CURRENT.with(|current| current.get());
        set_current(Current { id, parent: previous.id, name: Some(name) });
        Operation {
            id,
            parent: previous.id,
            name,
            start: Instant::now(),
            sites,
            failure: None,
            previous: Some(previous),
        }
    }

    /// The operation's id, unique within the process (what decoded events
    /// carry as `operation.id`).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The id of the operation this one runs in, if any.
    pub fn parent_id(&self) -> Option<u64> {
        (self.parent != 0).then_some(self.parent)
    }

    /// Marks the operation failed with `error` (its `Display` text, formatted
    /// now): it ends with `operation_error` instead of `operation_end`.
    ///
    /// ```
    /// # fn charge() -> Result<(), std::io::Error> { Err(std::io::Error::other("card declined")) }
    /// let mut op = lmlog::lm_operation!("checkout");
    /// if let Err(err) = charge() {
    ///     op.fail(&err);
    /// }
    /// ```
    pub fn fail<E: std::fmt::Display + ?Sized>(&mut self, error: &E) {
        self.failure = Some(FormattedStr::display(error));
    }

    /// Runs `future` inside this operation: its events carry the operation
    /// on whichever thread polls it, across `.await`s, and the operation
    /// ends when the future completes (or is dropped). For async code,
    /// where a guard on the stack would tag whatever else the thread runs
    /// meanwhile.
    ///
    /// ```
    /// # async fn load_cart() {}
    /// async fn checkout() {
    ///     lmlog::lm_operation!("checkout").instrument(async {
    ///         load_cart().await;
    ///         lmlog::lm_event!(info, "cart_loaded");
    ///     }).await
    /// }
    /// ```
    pub fn instrument<F: Future>(mut self, future: F) -> Instrumented<F> {
        // The thread goes back to what it ran before `lm_operation!`.
        if let Some(previous) = self.previous.take() {
            set_current(previous);
        }
        Instrumented { operation: Some(self), future }
    }

    /// The pair records carry while this operation is current.
    fn as_current(&self) -> Current {
        Current { id: self.id, parent: self.parent, name: None }
    }

    /// Logs the end, while the operation is still current.
    fn log_end(&mut self) {
        let duration_ms = self.start.elapsed().as_secs_f64() * 1e3;
        let mut end = OperationEnd { name: self.name, duration_ms, outcome: "ok", error: "" };
        if std::thread::panicking() {
            end.outcome = "panic";
            end.error = "panicked while the operation ran";
            (self.sites.error)(&end);
        } else if let Some(failure) = &self.failure {
            end.outcome = "error";
            end.error = failure.as_str();
            (self.sites.error)(&end);
        } else {
            (self.sites.end)(&end);
        }
    }
}

impl Drop for Operation {
    fn drop(&mut self) {
        self.log_end();
        if let Some(previous) = self.previous {
            set_current(previous);
        }
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

/// A future running inside an operation: see [`Operation::instrument`].
#[derive(Debug)]
pub struct Instrumented<F> {
    operation: Option<Operation>,
    future: F,
}

/// Puts the thread's current operation back when a poll ends, by a panic
/// too.
struct Restore(Current);

impl Drop for Restore {
    fn drop(&mut self) {
        set_current(self.0);
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out of
        // `self`); `operation` is not (it is moved out, never pinned).
        // `Instrumented`'s `Drop` does not move `future`.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(operation) = &this.operation else {
            panic!("an instrumented future polled after it completed");
        };
        let _restore = Restore(set_current(operation.as_current()));
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let poll = future.poll(cx);
        if poll.is_ready() {
            // Ends inside the poll: its end is tagged with it.
            this.operation = None;
        }
        poll
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        if let Some(operation) = &self.operation {
            let _restore = Restore(set_current(operation.as_current()));
            self.operation = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlog_format::frame::{record_extensions, EXTENSION_OPERATION};

    /// The block a record copies, decoded as a reader would.
    fn copied_block() -> Option<(u64, u64)> {
        let len = tag_len();
        if len == 0 || len == ASSEMBLE {
            return None;
        }
        let mut buf = [0u8; 64];
        let mut enc = crate::value::Encoder::new(&mut buf);
        enc.write_prefix(&tag_bytes::<()>(), usize::from(len));
        let written = enc.written();
        let mut block = lmlog_format::wire::WireReader::new(written);
        let items = block.len_prefixed().ok()?;
        assert!(block.is_empty(), "the block is all the {len} bytes copied");
        let mut items = record_extensions(items);
        let (tag, item) = items.next()?.ok()?;
        assert_eq!(tag, EXTENSION_OPERATION);
        assert!(items.next().is_none());
        let mut r = lmlog_format::wire::WireReader::new(item);
        Some((r.varint().ok()?, r.varint().ok()?))
    }

    #[test]
    fn records_copy_the_current_operations_block_once_it_is_named() {
        set_current(Current { id: 7, parent: 3, name: Some("checkout") });
        assert_eq!(tag_len(), ASSEMBLE, "the first record names the operation");
        let first = take_current();
        assert_eq!(first.name, Some("checkout"));
        assert_eq!(copied_block(), Some((7, 3)));
        restore_name(first);
        assert_eq!(tag_len(), ASSEMBLE, "a dropped first record leaves the name to the next");
        take_current();
        // Ids whose varints do not fit the copied block are assembled.
        set_current(Current { id: u64::MAX, parent: 1 << 40, name: None });
        assert_eq!(tag_len(), ASSEMBLE);
        set_current(Current { id: (1 << 35) - 1, parent: (1 << 35) - 1, name: None });
        assert_eq!(copied_block(), Some(((1 << 35) - 1, (1 << 35) - 1)));
        set_current(Current::NONE);
        assert_eq!(tag_len(), 0);
    }
}
