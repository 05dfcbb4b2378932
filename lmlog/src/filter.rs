//! Run-time level filter: `info,my_crate::db=debug,noisy=off`.

use std::fmt;
use std::str::FromStr;

use lmlog_format::Level;

/// Which levels are recorded, per module path prefix.
///
/// The syntax is the part of `tracing_subscriber::EnvFilter`'s that depends
/// only on where an event comes from: a comma-separated list of directives.
/// A bare level sets the default; `target=level` sets the level for a
/// module path (or a bridged record's target) and everything below it (the
/// longest matching prefix wins); a bare `target` records every level
/// there, as `target=trace`; `off` disables. Targets not named are
/// recorded at the bare level, or not at all if there is none (an empty
/// filter records everything). Levels are `off`, `error`,
/// `warn`, `info`, `debug`, `trace` in any case, or `0` to `5` as
/// `EnvFilter` reads them. The directives `EnvFilter` has beyond these,
/// span and field filters (`target[span{field=value}]=level`) and
/// patterns, are refused with an error naming the directive, rather than
/// accepted and matching nothing.
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

impl Filter {
    /// The most verbose level recorded from any module; `None` if the
    /// filter records nothing.
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn most_verbose(&self) -> Option<Level> {
        self.directives.iter().map(|(_, ceiling)| *ceiling).chain([self.default]).flatten().max()
    }
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::all()
    }
}

fn parse_level(s: &str, directive: &str) -> Result<Option<Level>, FilterError> {
    level_name(s).ok_or_else(|| FilterError {
        directive: directive.to_string(),
        reason: "level must be one of off, error, warn, info, debug, trace (or 0 to 5)",
    })
}

/// A level of `EnvFilter`'s syntax: a name in any case or a digit from `0`
/// (off) to `5` (trace). `Some(None)` is `off`.
fn level_name(s: &str) -> Option<Option<Level>> {
    if s.eq_ignore_ascii_case("off") || s == "0" {
        return Some(None);
    }
    match s.parse::<u8>() {
        Ok(n) => Level::from_u8(n).map(Some),
        Err(_) => Level::parse(s).map(Some),
    }
}

/// Checks that `target` is a module path or a target name: what a prefix
/// match can honour. `EnvFilter`'s span and field filters and anything that
/// looks like a pattern are refused, naming what to write instead.
fn check_target(target: &str, directive: &str) -> Result<(), FilterError> {
    let refuse = |reason| Err(FilterError { directive: directive.to_string(), reason });
    if target.is_empty() {
        return refuse("expected `target=level`");
    }
    if target.contains(['[', ']', '{', '}']) {
        return refuse("span and field filters (`target[span{field}]`) are not supported; use `target=level`");
    }
    if target.contains(['*', '?', '^', '$', '(', ')', '|', '+', '\\']) {
        return refuse("patterns are not supported: a target matches itself and the paths below it");
    }
    if target.contains(char::is_whitespace) || target.contains('=') {
        return refuse("a target has no spaces or `=`; expected `target=level`");
    }
    Ok(())
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        let mut filter = Filter { default: Some(Level::Trace), directives: Vec::new() };
        let mut default_given = false;
        for directive in s.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let (target, level) = match directive.rsplit_once('=') {
                // `EnvFilter` reads a bare level as the default and a bare
                // target as every level of that target.
                None => match level_name(directive) {
                    Some(level) => {
                        filter.default = level;
                        default_given = true;
                        continue;
                    }
                    None => (directive, Some(Level::Trace)),
                },
                Some((target, level)) => (target.trim(), parse_level(level.trim(), directive)?),
            };
            check_target(target, directive)?;
            filter.directives.retain(|(m, _)| m != target);
            filter.directives.push((target.to_string(), level));
        }
        if !default_given && !filter.directives.is_empty() {
            // As in `EnvFilter` and `env_logger`: naming targets records
            // those, and nothing else unless a bare level says so.
            filter.default = None;
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
        // Not a level: a target, as `EnvFilter` reads it; naming only
        // targets records nothing else.
        let f: Filter = "loud".parse().unwrap();
        assert_eq!(f.ceiling("loud"), Some(Level::Trace));
        assert_eq!(f.ceiling("quiet"), None);
        assert_eq!("a=info,debug".parse::<Filter>().unwrap().ceiling("b"), Some(Level::Debug));
        assert!("=info".parse::<Filter>().is_err());
        assert!("a=verbose".parse::<Filter>().is_err());
        assert_eq!("".parse::<Filter>().unwrap(), Filter::all());
    }

    #[test]
    fn reads_the_env_filter_directives_it_can_honour() {
        let f: Filter = "WARN,app::db=Debug,hyper=2,noisy=0,chatty".parse().unwrap();
        assert_eq!(f.ceiling("other"), Some(Level::Warn));
        assert_eq!(f.ceiling("app::db::pool"), Some(Level::Debug));
        assert_eq!(f.ceiling("hyper::proto"), Some(Level::Warn));
        assert_eq!(f.ceiling("noisy"), None);
        // A bare target is every level of it, as in `EnvFilter`.
        assert_eq!(f.ceiling("chatty::x"), Some(Level::Trace));
        assert_eq!("3".parse::<Filter>().unwrap().ceiling("a"), Some(Level::Info));
        assert_eq!("off,app=info".parse::<Filter>().unwrap().ceiling("b"), None);
    }

    #[test]
    fn refuses_span_field_and_pattern_directives_naming_them() {
        for (spec, directive, says) in [
            ("info,app[checkout]=debug", "app[checkout]=debug", "span and field filters"),
            ("app[{user=1}]=trace", "app[{user=1}]=trace", "span and field filters"),
            ("[span]=debug", "[span]=debug", "span and field filters"),
            ("app::.*=debug", "app::.*=debug", "patterns are not supported"),
            ("app|db", "app|db", "patterns are not supported"),
            ("my app=info", "my app=info", "no spaces"),
            ("app=info=debug", "app=info=debug", "expected `target=level`"),
            ("=info", "=info", "expected `target=level`"),
            ("app=loud", "app=loud", "level must be one of"),
        ] {
            let error = spec.parse::<Filter>().unwrap_err();
            assert_eq!(error.directive, directive, "{spec}");
            assert!(error.to_string().contains(says), "{spec}: {error}");
            assert!(error.to_string().contains(directive), "{spec}: {error}");
        }
    }
}
