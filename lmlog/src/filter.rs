//! Run-time level filter: `info,my_crate::db=debug,noisy=off`.

use std::fmt;
use std::str::FromStr;

use lmlog_format::Level;

/// Which levels are recorded, per module path prefix.
///
/// The syntax is a comma-separated list of directives. A bare level sets the
/// default; `path=level` sets the level for a module and everything below
/// it (the longest matching prefix wins); `off` disables.
///
/// ```
/// use lmlog::{Filter, Level};
/// let f: Filter = "info,my_crate::db=debug,my_crate::db::pool=off".parse().unwrap();
/// assert!(f.enabled("app", Level::Info));
/// assert!(!f.enabled("app", Level::Debug));
/// assert!(f.enabled("my_crate::db::query", Level::Debug));
/// assert!(!f.enabled("my_crate::db::pool", Level::Error));
/// assert!(!f.enabled("my_crate::dbx", Level::Debug));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    default: Option<Level>,
    /// `(module prefix, ceiling)`, longest prefix first.
    directives: Vec<(String, Option<Level>)>,
}

/// A filter string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter directive `{directive}`: {reason}")]
pub struct FilterError {
    /// The offending directive.
    pub directive: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Filter {
    /// Records every level everywhere.
    pub fn all() -> Filter {
        Filter { default: Some(Level::Trace), directives: Vec::new() }
    }

    /// Whether an event at `level` from `module` is recorded.
    pub fn enabled(&self, module: &str, level: Level) -> bool {
        self.ceiling(module).is_some_and(|max| level <= max)
    }

    /// The most verbose level recorded from `module`; `None` if it is off.
    ///
    /// ```
    /// use lmlog::{Filter, Level};
    /// let f: Filter = "warn,app::db=debug,noisy=off".parse().unwrap();
    /// assert_eq!(f.ceiling("app::db::pool"), Some(Level::Debug));
    /// assert_eq!(f.ceiling("app"), Some(Level::Warn));
    /// assert_eq!(f.ceiling("noisy"), None);
    /// ```
    pub fn ceiling(&self, module: &str) -> Option<Level> {
        self.directives
            .iter()
            .find(|(prefix, _)| {
                module.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
            .map_or(self.default, |(_, ceiling)| *ceiling)
    }
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::all()
    }
}

fn parse_level(s: &str, directive: &str) -> Result<Option<Level>, FilterError> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    Level::parse(s).map(Some).ok_or_else(|| FilterError {
        directive: directive.to_string(),
        reason: "level must be one of off, error, warn, info, debug, trace",
    })
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        let mut filter = Filter { default: Some(Level::Trace), directives: Vec::new() };
        for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match directive.split_once('=') {
                None => filter.default = parse_level(directive, directive)?,
                Some((module, level)) => {
                    let module = module.trim();
                    if module.is_empty() || module.contains(char::is_whitespace) {
                        return Err(FilterError {
                            directive: directive.to_string(),
                            reason: "expected `module::path=level`",
                        });
                    }
                    let level = parse_level(level.trim(), directive)?;
                    filter.directives.retain(|(m, _)| m != module);
                    filter.directives.push((module.to_string(), level));
                }
            }
        }
        filter.directives.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
        Ok(filter)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |l: Option<Level>| l.map_or("off", Level::as_str);
        write!(f, "{}", name(self.default))?;
        for (module, level) in &self.directives {
            write!(f, ",{module}={}", name(*level))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_longest_prefix() {
        let f: Filter = "warn, a=trace ,a::b=error".parse().unwrap();
        assert!(f.enabled("x", Level::Warn));
        assert!(!f.enabled("x", Level::Info));
        assert!(f.enabled("a::c", Level::Trace));
        assert!(!f.enabled("a::b::c", Level::Warn));
        assert!(f.enabled("a::b", Level::Error));
        assert_eq!(f.to_string(), "warn,a::b=error,a=trace");
        assert_eq!(f.to_string().parse::<Filter>().unwrap(), f);
    }

    #[test]
    fn off_and_errors() {
        let f: Filter = "off".parse().unwrap();
        assert!(!f.enabled("a", Level::Error));
        assert!("loud".parse::<Filter>().is_err());
        assert!("=info".parse::<Filter>().is_err());
        assert!("a=verbose".parse::<Filter>().is_err());
        assert_eq!("".parse::<Filter>().unwrap(), Filter::all());
    }
}
