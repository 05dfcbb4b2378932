//! JSON text building blocks: string escaping, numbers, hex and RFC 3339
//! timestamps, all appending to a `Vec<u8>` without intermediate allocation.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// For every byte: 0 if it is copied as is, otherwise the character that
/// follows the backslash of its escape (`u` for `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends the escaped contents of a JSON string (without the quotes).
///
/// Quotes, backslashes and control characters are escaped, so the output
/// never contains a raw line break. `s` is expected to be UTF-8; other bytes
/// are copied unchanged.
#[inline]
pub fn write_str_contents(out: &mut Vec<u8>, s: &[u8]) {
    escape_into(out, s);
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes of `w` is a control character, `"` or `\`.
#[inline(always)]
fn word_needs_escape(w: u64) -> bool {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * b'\\' as u64);
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash) & HIGHS != 0
}

/// Escapes `s` into `out`; returns whether `s` is all ASCII.
#[inline]
fn escape_into(out: &mut Vec<u8>, s: &[u8]) -> bool {
    out.reserve(s.len() + 2);
    let mut start = 0;
    let mut i = 0;
    let mut high = 0u64;
    while i < s.len() {
        if let Some(chunk) = s.get(i..i + 8) {
            let w =
                u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
            high |= w;
            if !word_needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(s.len());
        for j in i..end {
            let b = s[j];
            high |= b as u64;
            let e = ESCAPE[b as usize];
            if e == 0 {
                continue;
            }
            out.extend_from_slice(&s[start..j]);
            if e == b'u' {
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            } else {
                out.extend_from_slice(&[b'\\', e]);
            }
            start = j + 1;
        }
        i = end;
    }
    out.extend_from_slice(&s[start..]);
    high & HIGHS == 0
}

/// Appends `bytes`, which must be UTF-8, as a quoted, escaped JSON string;
/// returns `false` (with unspecified output) if they are not UTF-8.
///
/// Cheaper than validating and then escaping: ASCII text, the common case,
/// is validated by the escaping pass itself.
#[inline]
pub fn write_utf8_str(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    out.push(b'"');
    let ascii = escape_into(out, bytes);
    out.push(b'"');
    ascii || std::str::from_utf8(bytes).is_ok()
}

/// Bytes of a word below `n` (all of them from 8 on).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        !0
    } else {
        (1u64 << (8 * n)) - 1
    }
}

/// [`write_utf8_str`] for `bytes` that are the start of `window`: a string
/// of at most 16 bytes that needs no escaping and is ASCII (most keys and
/// identifiers) is copied as the 16-byte window, cut back to its length.
#[inline]
pub(crate) fn write_utf8_str_in(out: &mut Vec<u8>, bytes: &[u8], window: Option<&[u8; 16]>) -> bool {
    let len = bytes.len();
    if let Some(w) = window.filter(|_| len <= 16) {
        debug_assert_eq!(&w[..len], bytes);
        let filler = ONES * b'a' as u64;
        let (lo_keep, hi_keep) = (low_bytes(len), low_bytes(len.saturating_sub(8)));
        let lo = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let hi = u64::from_le_bytes([w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]]);
        let lo = (lo & lo_keep) | (filler & !lo_keep);
        let hi = (hi & hi_keep) | (filler & !hi_keep);
        if (lo | hi) & HIGHS == 0 && !word_needs_escape(lo) && !word_needs_escape(hi) {
            let start = out.len();
            out.push(b'"');
            out.extend_from_slice(w);
            out.truncate(start + 1 + len);
            out.push(b'"');
            return true;
        }
    }
    write_utf8_str(out, bytes)
}

/// Pre-rendered JSON text (such as a field's `,"key":`), written with one
/// fixed-size copy when it is short.
#[derive(Debug)]
pub(crate) struct Run {
    text: Box<[u8]>,
    /// `text`, padded, if it fits.
    short: Option<[u8; RUN_SHORT]>,
}

/// Longest [`Run`] written with a fixed-size copy.
const RUN_SHORT: usize = 32;

impl Run {
    pub fn new(text: Vec<u8>) -> Run {
        let short = (text.len() <= RUN_SHORT).then(|| {
            let mut a = [0u8; RUN_SHORT];
            a[..text.len()].copy_from_slice(&text);
            a
        });
        Run { text: text.into(), short }
    }

    /// The text.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// Appends the text.
    #[inline]
    pub fn write(&self, out: &mut Vec<u8>) {
        match &self.short {
            Some(a) => {
                let len = out.len();
                out.extend_from_slice(a);
                out.truncate(len + self.text.len());
            }
            None => out.extend_from_slice(&self.text),
        }
    }
}

/// Appends `s` as a quoted, escaped JSON string.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_contents(out, s.as_bytes());
    out.push(b'"');
}

/// Appends `bytes` as lowercase hexadecimal digits (no quotes).
#[inline]
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.extend_from_slice(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
    }
}

/// Appends an integer in decimal (any primitive integer, 128-bit included).
#[inline]
pub fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

/// Appends a global-context value as JSON.
pub(crate) fn write_context_value(out: &mut Vec<u8>, value: &lmlog_format::ContextValue) {
    use lmlog_format::ContextValue;
    match value {
        ContextValue::Str(s) => write_str(out, s),
        ContextValue::I64(v) => write_int(out, *v),
        ContextValue::U64(v) => write_int(out, *v),
        ContextValue::F64(v) => write_f64(out, *v),
        ContextValue::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
    }
}

/// Appends an `f64` as a JSON value: finite values as the shortest text that
/// reads back to the same number (`12.0`, `0.1`, `1e300`), NaN and the
/// infinities as the strings `"NaN"`, `"inf"` and `"-inf"`.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if write_short_f64(out, v) {
        return;
    }
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(non_finite(v.is_nan(), v.is_sign_negative()));
    }
}

/// Powers of ten, all exactly representable as `f64`.
static POW10: [f64; 21] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
];

/// Magnitudes at or above this take the `ryu` path (2^51).
const SHORT_LIMIT: f64 = (1u64 << 51) as f64;

/// Writes `v` exactly as `ryu` would, for the common values whose shortest
/// decimal form has few digits and is printed in fixed notation (`0.0`,
/// `12.0`, `9.875`, `0.001`, `12.34`); returns `false`, writing nothing,
/// for every other value (which then takes the `ryu` path).
///
/// It looks for the fewest fractional digits `f` such that some decimal
/// `m / 10^f` reads back as `v`: `m` is `|v| * 10^f` rounded, and "reads
/// back" is checked exactly with one correctly rounded division (`m` and
/// `10^f` are exact). Below 2^51 (for `|v| * 10^f`) at most one decimal with
/// `f` fractional digits lies within half an ulp of `v`, and rounding the
/// product finds it, so the first `f` that reads back gives the same
/// decimal as `ryu`, which also removes as many digits as the rounding
/// interval allows. Values `ryu` prints in exponent notation (below 1e-5)
/// and non-finite values are declined.
#[inline]
fn write_short_f64(out: &mut Vec<u8>, v: f64) -> bool {
    let a = v.abs();
    if !a.is_finite() || a >= SHORT_LIMIT {
        return false;
    }
    if a == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0.0" } else { b"0.0" });
        return true;
    }
    // Adding and subtracting 2^52 rounds a value below 2^51 to an integer.
    const ROUND: f64 = (1u64 << 52) as f64;
    for (f, &p) in POW10.iter().enumerate() {
        let s = a * p;
        if s >= SHORT_LIMIT {
            return false;
        }
        let m = (s + ROUND) - ROUND;
        // A candidate that reads back lies within a few ulps of `s`; skip
        // the division for the rest.
        if (s - m).abs() > s * (1.0 / (1u64 << 50) as f64) || m / p != a {
            continue;
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(m as u64).as_bytes();
        let len = digits.len();
        // ryu's fixed notation stops at 4 zeros after the point.
        if f >= len + 5 {
            return false;
        }
        if v.is_sign_negative() {
            out.push(b'-');
        }
        if f == 0 {
            out.extend_from_slice(digits);
            out.extend_from_slice(b".0");
        } else if len > f {
            out.extend_from_slice(&digits[..len - f]);
            out.push(b'.');
            out.extend_from_slice(&digits[len - f..]);
        } else {
            out.extend_from_slice(&b"0.0000"[..2 + f - len]);
            out.extend_from_slice(digits);
        }
        return true;
    }
    false
}

/// Appends an `f32` as a JSON value, formatted as an `f32` (so `0.1f32` is
/// `0.1`, not `0.10000000149011612`); see [`write_f64`] for NaN and infinities.
#[inline]
pub fn write_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(non_finite(v.is_nan(), v.is_sign_negative()));
    }
}

fn non_finite(nan: bool, negative: bool) -> &'static [u8] {
    if nan {
        b"\"NaN\""
    } else if negative {
        b"\"-inf\""
    } else {
        b"\"inf\""
    }
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`; exact for the whole `i64` day range
/// that matters here (any `i64`/`u64` nanosecond timestamp).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats nanoseconds since the Unix epoch as RFC 3339 UTC text with nine
/// fractional digits (`2026-11-25T13:23:10.133324123Z`), caching the
/// date-and-second prefix so that consecutive timestamps in the same second
/// only format the fraction.
#[derive(Debug, Clone)]
pub struct TimestampFormatter {
    second: i64,
    prefix: [u8; 32],
    prefix_len: usize,
}

impl Default for TimestampFormatter {
    fn default() -> Self {
        Self::new()
    }
}

impl TimestampFormatter {
    /// A formatter with an empty cache.
    pub fn new() -> Self {
        TimestampFormatter { second: i64::MIN, prefix: [0; 32], prefix_len: 0 }
    }

    /// Appends the timestamp for `unix_nanos` (without quotes). Values
    /// before 1970 are allowed.
    #[inline]
    pub fn write(&mut self, out: &mut Vec<u8>, unix_nanos: i128) {
        let nanos = self.split(unix_nanos);
        out.extend_from_slice(&self.prefix[..self.prefix_len]);
        out.extend_from_slice(&fraction(nanos));
    }

    /// Appends `{"timestamp":"` and the timestamp, without its closing quote.
    #[inline]
    pub(crate) fn write_line_start(&mut self, out: &mut Vec<u8>, unix_nanos: i128) {
        const OPEN: &[u8; 14] = b"{\"timestamp\":\"";
        let nanos = self.split(unix_nanos);
        if self.prefix_len == 20 {
            // The common case (years 0 to 9999): one fixed-size copy.
            let mut text = [0u8; 44];
            text[..14].copy_from_slice(OPEN);
            text[14..34].copy_from_slice(&self.prefix[..20]);
            text[34..].copy_from_slice(&fraction(nanos));
            out.extend_from_slice(&text);
        } else {
            out.extend_from_slice(OPEN);
            out.extend_from_slice(&self.prefix[..self.prefix_len]);
            out.extend_from_slice(&fraction(nanos));
        }
    }

    /// Makes the cached prefix that of `unix_nanos`; returns the nanoseconds
    /// within its second.
    #[inline]
    fn split(&mut self, unix_nanos: i128) -> u32 {
        // 128-bit division is slow; every real timestamp fits in an i64.
        let (second, nanos) = match i64::try_from(unix_nanos) {
            Ok(n) => (n.div_euclid(1_000_000_000), n.rem_euclid(1_000_000_000) as u32),
            Err(_) => (
                unix_nanos.div_euclid(1_000_000_000).clamp(i64::MIN as i128 + 1, i64::MAX as i128) as i64,
                unix_nanos.rem_euclid(1_000_000_000) as u32,
            ),
        };
        if second != self.second || self.prefix_len == 0 {
            self.fill_prefix(second);
        }
        nanos
    }

    fn fill_prefix(&mut self, second: i64) {
        let days = second.div_euclid(86_400);
        let secs_of_day = second.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let mut p = Vec::with_capacity(32);
        if (0..10_000).contains(&year) {
            let y = year as u32;
            p.extend_from_slice(&[
                b'0' + (y / 1000) as u8,
                b'0' + (y / 100 % 10) as u8,
                b'0' + (y / 10 % 10) as u8,
                b'0' + (y % 10) as u8,
            ]);
        } else {
            // Outside RFC 3339's range; still unambiguous text.
            write_int(&mut p, year);
        }
        let two = |p: &mut Vec<u8>, sep: u8, v: u32| {
            p.extend_from_slice(&[sep, b'0' + (v / 10) as u8, b'0' + (v % 10) as u8])
        };
        two(&mut p, b'-', month);
        two(&mut p, b'-', day);
        two(&mut p, b'T', secs_of_day / 3600);
        two(&mut p, b':', secs_of_day / 60 % 60);
        two(&mut p, b':', secs_of_day % 60);
        p.push(b'.');
        let len = p.len().min(self.prefix.len());
        self.prefix[..len].copy_from_slice(&p[..len]);
        self.prefix_len = len;
        self.second = second;
    }
}

/// Three decimal digits of every number below 1000.
static DIGITS3: [[u8; 3]; 1000] = {
    let mut t = [[0u8; 3]; 1000];
    let mut i = 0;
    while i < 1000 {
        t[i] = [b'0' + (i / 100) as u8, b'0' + (i / 10 % 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The nine fractional digits of `nanos` (below 10⁹) and the `Z`.
#[inline]
fn fraction(nanos: u32) -> [u8; 10] {
    let [a, b, c] = DIGITS3[(nanos / 1_000_000 % 1000) as usize];
    let [d, e, f] = DIGITS3[(nanos / 1000 % 1000) as usize];
    let [g, h, i] = DIGITS3[(nanos % 1000) as usize];
    [a, b, c, d, e, f, g, h, i, b'Z']
}

/// Formats nanoseconds since the Unix epoch as RFC 3339 UTC text with nine
/// fractional digits, as the JSON Lines output writes timestamps (such as
/// [`Event::unix_nanos`](crate::Event::unix_nanos)).
///
/// ```
/// assert_eq!(lmlog_decode::format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
/// ```
pub fn format_timestamp(unix_nanos: i128) -> String {
    let mut out = Vec::with_capacity(32);
    TimestampFormatter::new().write(&mut out, unix_nanos);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain",
            "quote \" back \\ slash",
            "nl\ncr\rtab\t",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "ünïcødé ✓ 🦀",
            "a long ascii string without anything to escape",
            "0123456\"89abcdef\\0123456789\u{1}",
            "\"\"\"\"\"\"\"\"\"\"\\\\\\\\",
            "01234567ü",
        ] {
            assert_eq!(esc(s), serde_json::to_string(s).unwrap(), "{s:?}");
            let mut out = Vec::new();
            assert!(write_utf8_str(&mut out, s.as_bytes()));
            assert_eq!(out, esc(s).as_bytes());
        }
        // Every byte value, at every position of a word.
        for b in 0..=0x7fu8 {
            for pos in 0..12 {
                let mut s = vec![b'x'; 12];
                s[pos] = b;
                let s = String::from_utf8(s).unwrap();
                assert_eq!(esc(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
            }
        }
        let mut out = Vec::new();
        assert!(!write_utf8_str(&mut out, b"0123456789\xff"));
        assert!(!write_utf8_str(&mut out, b"\xc3"));
    }

    #[test]
    fn floats() {
        let f = |v: f64| {
            let mut o = Vec::new();
            write_f64(&mut o, v);
            String::from_utf8(o).unwrap()
        };
        assert_eq!(f(12.0), "12.0");
        assert_eq!(f(12.5), "12.5");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(f64::NAN), "\"NaN\"");
        assert_eq!(f(f64::INFINITY), "\"inf\"");
        assert_eq!(f(f64::NEG_INFINITY), "\"-inf\"");
        let mut o = Vec::new();
        write_f32(&mut o, 0.1f32);
        assert_eq!(o, b"0.1");
    }

    #[test]
    fn short_strings_from_a_window() {
        for len in 0..=16 {
            for b in 0..=0xffu8 {
                for pos in 0..len.max(1) {
                    // What follows the string in the window needs escaping.
                    let mut data: Vec<u8> = (0..16).map(|i| if i % 2 == 0 { b'"' } else { 0xff }).collect();
                    data[..len].fill(b'k');
                    if len > 0 {
                        data[pos] = b;
                    }
                    let s = &data[..len];
                    let window: &[u8; 16] = data[..16].try_into().unwrap();
                    let mut ours = b"x".to_vec();
                    let ok = write_utf8_str_in(&mut ours, s, Some(window));
                    let mut theirs = b"x".to_vec();
                    let ok2 = write_utf8_str(&mut theirs, s);
                    assert_eq!(ok, ok2, "{s:?}");
                    if ok {
                        assert_eq!(ours, theirs, "{s:?}");
                    }
                }
            }
        }
    }

    /// The short-decimal path of `write_f64` prints exactly what `ryu` does.
    #[test]
    fn short_floats_match_ryu() {
        fn check(v: f64) {
            let mut ours = Vec::new();
            write_f64(&mut ours, v);
            let theirs = if v.is_finite() {
                ryu::Buffer::new().format_finite(v).to_owned()
            } else {
                String::from_utf8(non_finite(v.is_nan(), v.is_sign_negative()).to_vec()).unwrap()
            };
            assert_eq!(String::from_utf8(ours).unwrap(), theirs, "{v:e} ({:#x})", v.to_bits());
        }
        fn around(v: f64) {
            let bits = v.abs().to_bits();
            for b in bits.saturating_sub(3)..=bits.saturating_add(3) {
                check(f64::from_bits(b));
                check(-f64::from_bits(b));
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for v in [0.0, -0.0, 1e-5, 9.999e-6, 1e-4, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.1 + 0.2, 123.456] {
            around(v);
        }
        for v in [f64::MIN_POSITIVE, f64::EPSILON, f64::MAX, f64::MIN, 5e-324, f64::NAN, f64::INFINITY] {
            around(v);
        }
        for e in -330..=310 {
            around(10f64.powi(e));
            around(format!("1e{e}").parse().unwrap());
        }
        for e in 0..=63 {
            around((1u64 << e) as f64);
            around(SHORT_LIMIT / (1u64 << e.min(51)) as f64 / 10f64.powi(e / 3));
        }
        for i in 0..100_000 {
            check(i as f64);
            check(i as f64 / 8.0);
            check(i as f64 / 1000.0);
            check(-(i as f64) / 100.0);
        }
        for _ in 0..200_000 {
            let r = next();
            // Short decimals with up to 17 significant digits at every scale.
            let digits = 1 + (r % 17) as u32;
            let m = next() % 10u64.pow(digits);
            let e = (r >> 8) % 30;
            let v: f64 = format!("{m}e-{e}").parse().unwrap();
            check(v);
            around(v);
            // Dyadic rationals.
            check((next() % (1 << 40)) as f64 / (1u64 << ((r >> 16) % 60)) as f64);
            // Any bit pattern.
            check(f64::from_bits(next()));
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format_timestamp(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
        // 2000-02-29 (leap day of a year divisible by 400).
        assert_eq!(format_timestamp(951_782_400 * 1_000_000_000), "2000-02-29T00:00:00.000000000Z");
        // 2024-02-29T12:34:56.789
        assert_eq!(format_timestamp(1_709_210_096_789_000_000), "2024-02-29T12:34:56.789000000Z");
        assert_eq!(format_timestamp(1_795_612_990_133_324_123), "2026-11-25T13:23:10.133324123Z");
        // 2100 is not a leap year: 2100-02-28 is followed by 2100-03-01.
        assert_eq!(format_timestamp(4_107_456_000 * 1_000_000_000), "2100-02-28T00:00:00.000000000Z");
        assert_eq!(format_timestamp(4_107_542_400 * 1_000_000_000), "2100-03-01T00:00:00.000000000Z");
        assert_eq!(format_timestamp(u64::MAX as i128), "2554-07-21T23:34:33.709551615Z");
        // The cache must not leak between seconds.
        let mut t = TimestampFormatter::new();
        let mut o = Vec::new();
        t.write(&mut o, 5_000_000_000);
        o.push(b' ');
        t.write(&mut o, 5_999_999_999);
        o.push(b' ');
        t.write(&mut o, 6_000_000_000);
        assert_eq!(
            String::from_utf8(o).unwrap(),
            "1970-01-01T00:00:05.000000000Z 1970-01-01T00:00:05.999999999Z 1970-01-01T00:00:06.000000000Z"
        );
    }

    #[test]
    fn civil_matches_brute_force() {
        // Walk day by day from 1900 to 2200 and compare with a naive calendar.
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mut days = -25_567; // 1900-01-01
        for year in 1900..2200 {
            for month in 1..=12u32 {
                let len = match month {
                    2 if leap(year) => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for day in 1..=len {
                    assert_eq!(civil_from_days(days), (year, month, day));
                    days += 1;
                }
            }
        }
    }
}
