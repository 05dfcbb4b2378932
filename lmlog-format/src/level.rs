//! Severity levels: the one definition of their names, wire values and
//! OpenTelemetry severity numbers, used by the macros, the runtime's filter
//! and the decoder.

use serde::{Deserialize, Serialize};

/// Severity of an event. The numeric values are the wire encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something unexpected that the program handled.
    Warn = 2,
    /// Normal operation worth recording.
    Info = 3,
    /// Detail for diagnosing problems.
    Debug = 4,
    /// Very fine detail.
    Trace = 5,
}

impl Level {
    /// All levels, most severe first.
    pub const ALL: [Level; 5] = [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace];

    /// The level names, least severe first, for messages that list them:
    /// `"trace, debug, info, warn, error"`.
    pub const NAMES: &'static str = "trace, debug, info, warn, error";

    /// Lower-case name as used in JSON output, filters and `lm_event!`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// The level whose [`as_str`](Self::as_str) is exactly `name`.
    ///
    /// ```
    /// use lmlog_format::Level;
    /// assert_eq!(Level::from_name("warn"), Some(Level::Warn));
    /// assert_eq!(Level::from_name("Warn"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// Parses a level name leniently: case-insensitive, and `warning` is
    /// accepted for `warn`.
    ///
    /// ```
    /// use lmlog_format::Level;
    /// assert_eq!(Level::parse("WARNING"), Some(Level::Warn));
    /// assert_eq!(Level::parse("Info"), Some(Level::Info));
    /// assert_eq!(Level::parse("loud"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Level> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "warning" => Some(Level::Warn),
            name => Level::from_name(name),
        }
    }

    /// Decodes the wire value.
    pub const fn from_u8(v: u8) -> Option<Level> {
        Some(match v {
            1 => Level::Error,
            2 => Level::Warn,
            3 => Level::Info,
            4 => Level::Debug,
            5 => Level::Trace,
            _ => return None,
        })
    }

    /// OpenTelemetry severity number (the first of each level's range).
    pub const fn otel_severity_number(self) -> u8 {
        match self {
            Level::Trace => 1,
            Level::Debug => 5,
            Level::Info => 9,
            Level::Warn => 13,
            Level::Error => 17,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_listed() {
        for level in Level::ALL {
            assert_eq!(Level::from_name(level.as_str()), Some(level));
            assert_eq!(Level::from_u8(level as u8), Some(level));
            assert!(Level::NAMES.split(", ").any(|n| n == level.as_str()));
        }
        assert_eq!(Level::NAMES.split(", ").count(), Level::ALL.len());
    }
}
