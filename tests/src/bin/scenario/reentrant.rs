//! `lmlog-scenario reentrant FILE`: events whose fields log events of
//! their own while they are being logged, [`ROUNDS`] times each way:
//!
//! - `outer_value`: a field whose `LogValue::encode` logs
//!   `from_inside_encoder`. It runs while the thread's staging buffer is
//!   being written, so the inner event cannot be written and is counted as
//!   lost.
//! - `outer_display`: a `%` field whose `Display` logs
//!   `from_inside_display`. `%` values are formatted before the record is
//!   written, so the inner event is an ordinary event, written first.
//! - `plain`: an ordinary event after each pair.

use std::fmt;
use std::path::Path;

use lmlog::{lm_event, Encoder, LogValue};

/// How many times each kind of event is logged.
pub const ROUNDS: u32 = 50;

/// A value whose encoder logs.
struct LogsWhileEncoded(u32);

impl LogValue for LogsWhileEncoded {
    const TYPE: &'static lmlog_format::TypeDesc = <u32 as LogValue>::TYPE;
    fn encode(&self, enc: &mut Encoder<'_>) {
        lm_event!(warn, "from_inside_encoder", n = self.0);
        self.0.encode(enc);
    }
}

/// A value whose `Display` logs.
struct LogsWhileFormatted(u32);

impl fmt::Display for LogsWhileFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        lm_event!(warn, "from_inside_display", n = self.0);
        write!(f, "shown-{}", self.0)
    }
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).env_filter(false))?;
    for i in 0..ROUNDS {
        lm_event!(info, "outer_value", i, inner = LogsWhileEncoded(i));
        lm_event!(info, "outer_display", i, shown = %LogsWhileFormatted(i));
        lm_event!(info, "plain", i);
    }
    Ok(())
}
