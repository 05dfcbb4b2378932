//! `lmlog-scenario oversized FILE (block|drop) (middle|last)`: events
//! larger than the 4 KiB staging buffer (a 100 KiB string), under either
//! overflow policy. Each is dropped and must be counted in the stream.
//!
//! Both variants first log `before`, an `oversized` event, `after` (which
//! carries the main thread's drop report), `nearly_full` (a 3,000-byte
//! string: it fits the buffer only when the buffer is empty, so under
//! `block` the thread waits for the writer), and then, on a thread of its
//! own that exits right away, one more `oversized` event.
//!
//! - `middle`: one last ordinary event, `end`, before shutdown.
//! - `last`: an `oversized` event on the main thread is the last event
//!   before shutdown: no later event of the thread carries its count.

use std::path::Path;

use lmlog::{lm_event, Overflow};

/// Bytes of the oversized string.
pub const OVERSIZED: usize = 100 << 10;
/// Bytes of the string that nearly fills the staging buffer.
pub const NEARLY_FULL: usize = 3000;

pub fn run(path: &Path, policy: &str, variant: &str) -> Result<(), Box<dyn std::error::Error>> {
    let overflow = match policy {
        "block" => Overflow::Block,
        "drop" => Overflow::Drop,
        other => return Err(format!("the policy is block or drop, not {other}").into()),
    };
    let last = match variant {
        "middle" => false,
        "last" => true,
        other => return Err(format!("the variant is middle or last, not {other}").into()),
    };
    let config = lmlog::Config::new().output(path).env_filter(false).buffer_capacity(4096).overflow(overflow);
    let _guard = lmlog::init(config)?;
    let huge = "x".repeat(OVERSIZED);
    lm_event!(info, "before", n = 0u32);
    lm_event!(info, "oversized", on = "main", payload = huge.as_str());
    lm_event!(info, "after", n = 1u32);
    // Room for it only in an empty buffer: drained first, so that under the
    // drop policy too it is written.
    lmlog::flush();
    lm_event!(info, "nearly_full", payload = "y".repeat(NEARLY_FULL));
    let exiting = huge.clone();
    std::thread::Builder::new()
        .name("exits-after-oversized".into())
        .spawn(move || lm_event!(info, "oversized", on = "exiting thread", payload = exiting.as_str()))?
        .join()
        .map_err(|_| "the exiting thread panicked")?;
    if last {
        lm_event!(info, "oversized", on = "main, last", payload = huge.as_str());
    } else {
        lm_event!(info, "end", n = 2u32);
    }
    Ok(())
}
