//! The runtime's own events: what it has to say about itself goes into
//! the log beside the application's events.
//!
//! Their call sites are in this module, which the filter never turns away
//! (see `state::ceiling`): a user's filter chooses among the application's
//! events, not whether lmlog may say that it ignored a setting.

use crate::config::RefusedEnvFilter;
use crate::{lm_event, LogEvent};

/// The module of the runtime's own call sites.
pub(crate) const MODULE: &str = module_path!();

/// A setting from the environment that `init` did not take.
#[derive(LogEvent)]
#[lmlog(name = "lmlog.config_warning", level = "warn", message = "ignored {setting}={value}: {error}")]
struct ConfigWarning<'a> {
    /// The environment variable.
    setting: &'a str,
    value: &'a str,
    error: String,
}

/// Says on stderr, once, that `LMLOG` was refused, and records it in the
/// log: a bad environment variable must not stop the application.
pub(crate) fn refused_env_filter(refused: &RefusedEnvFilter) {
    eprintln!("lmlog: ignoring LMLOG={:?}: {}; the filter given in code stays in force", refused.value, refused.error);
    lm_event!(ConfigWarning { setting: "LMLOG", value: &refused.value, error: refused.error.to_string() });
}
