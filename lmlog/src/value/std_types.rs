//! `LogValue` for the standard library's time, network, path and error
//! types.

use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lmlog_format::types::UNIT_NANOSECONDS;
use lmlog_format::{FieldDesc, TypeDesc};

use super::{Encoder, FormattedStr, LogValue};

/// A `Duration` is a number of nanoseconds (`u128`), its unit in the
/// schema; it decodes as that number.
impl LogValue for Duration {
    const TYPE: &'static TypeDesc = &TypeDesc::Quantity(UNIT_NANOSECONDS, &TypeDesc::U128);
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_varint_u128_fast(self.as_nanos());
    }
}

/// Nanoseconds since the Unix epoch (negative before it) of a point in time.
pub(crate) fn unix_nanos(time: &SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// A `SystemTime` decodes as RFC 3339 text with nanoseconds, like the
/// event's own timestamp.
impl LogValue for SystemTime {
    const TYPE: &'static TypeDesc = &TypeDesc::Timestamp;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_signed_i128(unix_nanos(self));
    }
}

impl LogValue for Ipv4Addr {
    const TYPE: &'static TypeDesc = &TypeDesc::IpAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(&self.octets());
    }
}

impl LogValue for Ipv6Addr {
    const TYPE: &'static TypeDesc = &TypeDesc::IpAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(&self.octets());
    }
}

impl LogValue for IpAddr {
    const TYPE: &'static TypeDesc = &TypeDesc::IpAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        match self {
            IpAddr::V4(ip) => ip.encode(enc),
            IpAddr::V6(ip) => ip.encode(enc),
        }
    }
}

/// The address and the port; an IPv6 socket address's flow information
/// and scope id are not recorded.
impl LogValue for SocketAddr {
    const TYPE: &'static TypeDesc = &TypeDesc::SocketAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.ip().encode(enc);
        enc.write_varint(u64::from(self.port()));
    }
}

impl LogValue for SocketAddrV4 {
    const TYPE: &'static TypeDesc = &TypeDesc::SocketAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.ip().encode(enc);
        enc.write_varint(u64::from(self.port()));
    }
}

/// See [`SocketAddr`]'s impl: flow information and scope id are left out.
impl LogValue for SocketAddrV6 {
    const TYPE: &'static TypeDesc = &TypeDesc::SocketAddr;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.ip().encode(enc);
        enc.write_varint(u64::from(self.port()));
    }
}

/// A path is its text, with invalid UTF-8 replaced by U+FFFD.
impl LogValue for Path {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.as_os_str().encode(enc);
    }
}

impl LogValue for PathBuf {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.as_os_str().encode(enc);
    }
}

/// An OS string is its text, with invalid UTF-8 replaced by U+FFFD.
impl LogValue for OsStr {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        enc.write_len_prefixed(self.to_string_lossy().as_bytes());
    }
}

impl LogValue for OsString {
    const TYPE: &'static TypeDesc = &TypeDesc::Str;
    #[inline]
    fn encode(&self, enc: &mut Encoder<'_>) {
        self.as_os_str().encode(enc);
    }
}

/// Most sources of an error recorded: a longer chain is cut there (a
/// `source()` that cycles would otherwise never end).
pub(crate) const MAX_ERROR_SOURCES: usize = 32;

/// How an error is described: `Error { message: str, sources: [str] }`,
/// decoded as `{"message": "...", "sources": ["...", ...]}`.
const ERROR_TYPE: &TypeDesc = &TypeDesc::Struct(
    "Error",
    &[
        FieldDesc { name: "message", ty: &TypeDesc::Str, redacted: false },
        FieldDesc { name: "sources", ty: &TypeDesc::Seq(&TypeDesc::Str), redacted: false },
    ],
);

/// Writes an error's `Display` text, then that of each error of its
/// `source()` chain (at most [`MAX_ERROR_SOURCES`]).
fn encode_error(error: &dyn Error, enc: &mut Encoder<'_>) {
    FormattedStr::display(error).encode(enc);
    ErrorSources(error).encode(enc);
}

/// The `Display` text of each error of `error`'s `source()` chain (at most
/// 32), not of `error` itself: a `seq<str>`, such as the
/// `sources` of an [`Exception`](crate::events::Exception).
///
/// ```
/// use lmlog::ErrorSources;
/// let error = std::io::Error::other("disk full");
/// lmlog::lm_event!(error, "save_failed", sources = ErrorSources(&error));
/// ```
#[derive(Clone, Copy)]
pub struct ErrorSources<'a>(pub &'a (dyn Error + 'a));

impl LogValue for ErrorSources<'_> {
    const TYPE: &'static TypeDesc = &TypeDesc::Seq(&TypeDesc::Str);
    fn encode(&self, enc: &mut Encoder<'_>) {
        let sources = || std::iter::successors(self.0.source(), |&e| e.source()).take(MAX_ERROR_SOURCES);
        enc.write_varint(sources().count() as u64);
        for source in sources() {
            FormattedStr::display(source).encode(enc);
        }
    }
}

macro_rules! error_impls {
    ($($t:ty),*) => {$(
        /// An error is its message and the messages of its `source()`
        /// chain, formatted on the calling thread.
        impl<'e> LogValue for $t {
            const TYPE: &'static TypeDesc = ERROR_TYPE;
            fn encode(&self, enc: &mut Encoder<'_>) {
                encode_error(self, enc);
            }
        }
    )*};
}
error_impls!(dyn Error + 'e, dyn Error + Send + 'e, dyn Error + Send + Sync + 'e);

/// Its message and its `source()` chain, like any error.
impl LogValue for std::io::Error {
    const TYPE: &'static TypeDesc = ERROR_TYPE;
    fn encode(&self, enc: &mut Encoder<'_>) {
        encode_error(self, enc);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::encode;
    use super::*;

    #[test]
    fn durations_are_nanoseconds() {
        assert_eq!(encode(&Duration::new(5, 7)), postcard::to_allocvec(&5_000_000_007u128).unwrap());
        assert_eq!(encode(&Duration::MAX), postcard::to_allocvec(&Duration::MAX.as_nanos()).unwrap());
        assert_eq!(encode(&Duration::ZERO), [0]);
    }

    #[test]
    fn system_times_are_signed_nanoseconds() {
        let after = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(encode(&after), postcard::to_allocvec(&1_700_000_000_000_000_005i128).unwrap());
        let before = UNIX_EPOCH - Duration::from_nanos(3);
        assert_eq!(encode(&before), postcard::to_allocvec(&-3i128).unwrap());
    }

    #[test]
    fn addresses_are_their_bytes() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(encode(&v4), [4, 10, 0, 0, 1]);
        let v6: Ipv6Addr = "::1".parse().unwrap();
        let mut expected = vec![16];
        expected.extend_from_slice(&v6.octets());
        assert_eq!(encode(&v6), expected);
        let socket: SocketAddr = "10.0.0.1:443".parse().unwrap();
        assert_eq!(encode(&socket), [4, 10, 0, 0, 1, 0xbb, 0x03]);
    }

    #[test]
    fn paths_are_lossy_text() {
        assert_eq!(encode(Path::new("/var/log")), postcard::to_allocvec("/var/log").unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let bad = Path::new(OsStr::from_bytes(b"a\xffb"));
            assert_eq!(encode(bad), postcard::to_allocvec("a\u{fffd}b").unwrap());
        }
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("loading the config failed")
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn errors_are_their_message_and_sources() {
        let error = Wrapped(std::io::Error::other("disk full"));
        let expected = postcard::to_allocvec(&("loading the config failed", vec!["disk full"])).unwrap();
        assert_eq!(encode(&error as &dyn Error), expected);
        let boxed: Box<dyn Error + Send + Sync> = Box::new(error);
        assert_eq!(encode(&boxed), expected);
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        assert_eq!(encode(&io), postcard::to_allocvec(&("no such file", Vec::<&str>::new())).unwrap());
    }
}
