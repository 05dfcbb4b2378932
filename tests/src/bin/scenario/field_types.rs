//! `lmlog-scenario field-types FILE`: one event with a field of each type
//! that decodes to something other than its postcard shape (times,
//! addresses, paths, errors, durations, UUIDs, date-times, JSON values) and
//! the derive's `display`, `debug` and `with` fields, through a derived
//! event and `lm_event!`.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lmlog::{lm_event, LogEvent, LogValue};

/// 2026-11-30T12:34:56.123456789Z.
pub const INSTANT_NANOS: i128 = 1_796_042_096_123_456_789;

/// A type with only a `Display` and a `Debug` impl.
#[derive(Debug)]
pub struct Money {
    pub cents: i64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "€{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

fn cents(money: &Money) -> i64 {
    money.cents
}

#[derive(Debug)]
struct ConfigError {
    source: std::io::Error,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("loading the config failed")
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(LogValue)]
struct Price(#[lmlog(display)] Money);

#[derive(LogEvent)]
#[lmlog(name = "field_types", message = "{peer} took {elapsed} at {at}")]
struct FieldTypes<'a> {
    at: SystemTime,
    before_epoch: SystemTime,
    elapsed: Duration,
    longest: Duration,
    ip4: Ipv4Addr,
    ip6: Ipv6Addr,
    ip: IpAddr,
    peer: SocketAddr,
    peer6: SocketAddr,
    path: &'a Path,
    path_buf: PathBuf,
    error: &'a (dyn Error + 'static),
    boxed: Box<dyn Error + Send + Sync>,
    io: std::io::Error,
    id: uuid::Uuid,
    chrono_at: chrono::DateTime<chrono::FixedOffset>,
    time_at: time::OffsetDateTime,
    json: serde_json::Value,
    #[lmlog(display)]
    shown: Money,
    #[lmlog(debug)]
    debugged: Money,
    #[lmlog(with = cents)]
    amount_cents: Money,
    price: Price,
}

pub fn run(path: &Path) -> Result<(), Box<dyn Error>> {
    let _guard = lmlog::init(lmlog::Config::new().output(path).truncate(true))?;
    let at = UNIX_EPOCH + Duration::from_nanos(INSTANT_NANOS as u64);
    let config_error = ConfigError { source: std::io::Error::other("disk full") };
    let chrono_at = chrono::DateTime::from_timestamp_nanos(INSTANT_NANOS as i64)
        .with_timezone(&chrono::FixedOffset::east_opt(3600).ok_or("offset")?);
    let time_at =
        time::OffsetDateTime::from_unix_timestamp_nanos(INSTANT_NANOS)?.to_offset(time::UtcOffset::from_hms(-5, 0, 0)?);
    let event = FieldTypes {
        at,
        before_epoch: UNIX_EPOCH - Duration::from_millis(1500),
        elapsed: Duration::from_micros(31_808),
        longest: Duration::MAX,
        ip4: Ipv4Addr::new(192, 168, 1, 20),
        ip6: "2001:db8::1".parse()?,
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        peer: "10.0.0.7:8443".parse()?,
        peer6: "[::1]:9000".parse()?,
        path: Path::new("/var/log/app.lmlog"),
        path_buf: PathBuf::from("relative/dir"),
        error: &config_error,
        boxed: Box::new(ConfigError { source: std::io::Error::other("permission denied") }),
        io: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        id: uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
        chrono_at,
        time_at,
        json: serde_json::json!({"a": [1, -2, 2.5, "x", null, true], "b": {"c": false}}),
        shown: Money { cents: 1250 },
        debugged: Money { cents: 5 },
        amount_cents: Money { cents: 999 },
        price: Price(Money { cents: 100 }),
    };
    lm_event!(&event);
    let elapsed = Duration::from_nanos(1_500);
    let peer: SocketAddr = "10.0.0.7:8443".parse()?;
    let money = Money { cents: 1 };
    lm_event!(info, "request_done", "{peer} in {elapsed}", peer, elapsed, err = &config_error as &dyn Error,
        %money, debug_money = ?money, at);
    lmlog::flush();
    Ok(())
}
