//! The filter's values as the command line writes them, and their errors.

use std::str::FromStr;

use lmlog_format::Level;

/// A filter value that does not parse; the message names the command-line
/// flag it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// `--level`: not a level name.
    #[error("--level: unknown level `{0}` (expected one of {names})", names = Level::NAMES)]
    Level(String),
    /// `--event`: an empty pattern.
    #[error("--event: `{0}` holds an empty pattern (expected globs separated by commas, like `payment_*,cache_miss`)")]
    Event(String),
    /// `--module`: not a module path.
    #[error("--module: `{0}` is not a module path (like `app::db::pool`)")]
    Module(String),
    /// `--thread`: empty.
    #[error("--thread: expected a thread name or id, got nothing")]
    Thread,
    /// `--since` or `--until`: neither an RFC 3339 time nor a duration.
    #[error("{flag}: `{value}` is neither an RFC 3339 time (like 2026-11-30T12:00:00Z) nor a time before now (like 30s, 15m, 2h, 1d)")]
    Time {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
    },
    /// `--trace-id`: not 32 hexadecimal digits.
    #[error("--trace-id: `{0}` is not a trace id (32 hexadecimal digits)")]
    TraceId(String),
    /// `--where`: not a condition.
    #[error("--where: `{value}`: {reason} (expected a condition like `latency_us>100` or `order.customer.id=7`)")]
    Where {
        /// What was given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl FilterError {
    /// The command-line flag the value was given to (`--level`...).
    pub fn flag(&self) -> &'static str {
        match self {
            FilterError::Level(_) => "--level",
            FilterError::Event(_) => "--event",
            FilterError::Module(_) => "--module",
            FilterError::Thread => "--thread",
            FilterError::Time { flag, .. } => flag,
            FilterError::TraceId(_) => "--trace-id",
            FilterError::Where { .. } => "--where",
        }
    }
}

/// A minimum level (`--level warn`), parsed leniently
/// ([`Level::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelFilter(pub Level);

impl FromStr for LevelFilter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<LevelFilter, FilterError> {
        Level::parse(s.trim()).map(LevelFilter).ok_or_else(|| FilterError::Level(s.to_owned()))
    }
}

/// Event-type patterns separated by commas, any of which may match: `*`
/// stands for any run of characters, `?` for one character.
///
/// ```
/// use lmlog_decode::filter::Glob;
/// let g: Glob = "payment_*,cache_?iss".parse().unwrap();
/// assert!(g.matches("payment_failed") && g.matches("cache_miss"));
/// assert!(!g.matches("cache_misses") && !g.matches("payment"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    patterns: Vec<Vec<char>>,
}

impl Glob {
    /// Whether `name` matches one of the patterns.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        self.patterns.iter().any(|p| glob_match(p, &name))
    }
}

impl FromStr for Glob {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Glob, FilterError> {
        let patterns: Vec<Vec<char>> = s.split(',').map(|p| p.trim().chars().collect()).collect();
        if patterns.iter().any(Vec::is_empty) {
            return Err(FilterError::Event(s.to_owned()));
        }
        Ok(Glob { patterns })
    }
}

/// Whether `name` matches `pattern` (`*` and `?`), with the usual
/// backtracking to the last star.
fn glob_match(pattern: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A module path (`--module db::pool`): it and its submodules match
/// (`db::pool::conn`, not `db::poolx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulePath(pub String);

impl FromStr for ModulePath {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<ModulePath, FilterError> {
        let path = s.trim();
        let segment_ok = |seg: &str| !seg.is_empty() && !seg.contains([':', ' ', ',']);
        if !path.split("::").all(segment_ok) {
            return Err(FilterError::Module(s.to_owned()));
        }
        Ok(ModulePath(path.to_owned()))
    }
}

/// A thread, by name, or by the writer's id if all digits (`--thread 3`
/// also matches a thread named `3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadFilter {
    name: String,
    id: Option<u32>,
}

impl ThreadFilter {
    /// Whether a thread with this id and name is the one.
    pub fn matches(&self, id: u32, name: Option<&str>) -> bool {
        self.id == Some(id) || name == Some(self.name.as_str())
    }
}

impl FromStr for ThreadFilter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<ThreadFilter, FilterError> {
        if s.is_empty() {
            return Err(FilterError::Thread);
        }
        let id = if s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None };
        Ok(ThreadFilter { name: s.to_owned(), id })
    }
}

/// A trace id: 32 hexadecimal digits (`--trace-id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

impl FromStr for TraceId {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<TraceId, FilterError> {
        let err = || FilterError::TraceId(s.to_owned());
        let digits = s.trim().as_bytes();
        if digits.len() != 32 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(err());
        }
        let mut id = [0u8; 16];
        for (byte, pair) in id.iter_mut().zip(digits.chunks_exact(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| err())?;
            *byte = u8::from_str_radix(hex, 16).map_err(|_| err())?;
        }
        Ok(TraceId(id))
    }
}

/// An instant given to `--since` or `--until` (`flag`): an RFC 3339 time
/// (`2026-11-30T12:00:00Z`, `2026-11-30T13:00:00.5+01:00`) or a time before
/// `now_nanos` (`30s`, `15m`, `2h`, `1d`); in nanoseconds since the Unix
/// epoch.
///
/// ```
/// use lmlog_decode::filter::parse_time;
/// assert_eq!(parse_time("--since", "1970-01-01T00:01:00Z", 0), Ok(60_000_000_000));
/// assert_eq!(parse_time("--since", "15m", 3_600_000_000_000), Ok(2_700_000_000_000));
/// assert!(parse_time("--until", "yesterday", 0).is_err());
/// ```
pub fn parse_time(flag: &'static str, value: &str, now_nanos: i128) -> Result<i128, FilterError> {
    let s = value.trim();
    relative(s)
        .map(|ago| now_nanos - ago)
        .or_else(|| rfc3339(s))
        .ok_or_else(|| FilterError::Time { flag, value: value.to_owned() })
}

/// `30s`, `15m`, `2h`, `1d`, `1w` in nanoseconds.
fn relative(s: &str) -> Option<i128> {
    let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(unit_at);
    let n: i128 = n.parse().ok()?;
    let secs: i128 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs * 1_000_000_000)
}

/// An RFC 3339 date-time in nanoseconds since the Unix epoch.
fn rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = i128::from(days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs);
    Some(secs * 1_000_000_000 + nanos)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
