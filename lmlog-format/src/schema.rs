//! The payloads of metadata frames: session header, clock anchors, call-site
//! schemas, thread descriptions and writer-side loss reports.

use serde::{Deserialize, Serialize};

use crate::level::Level;

use crate::types::{Field, FieldDesc};
use crate::wire::{WireError, WireReader, WireWriter};

/// Everything the stream records about one call site (the payload of a
/// schema frame), in owned form.
#[derive(Debug, Clone, PartialEq)]
pub struct CallsiteSchema {
    /// Interned id used by records in this stream. Never 0.
    pub id: u32,
    /// Stable fingerprint of the call site's static description.
    pub fingerprint: u64,
    /// Event type name (`event_type` in JSON).
    pub event_type: String,
    /// Severity.
    pub level: Level,
    /// Message template with `{field}` placeholders, if any.
    pub message: Option<String>,
    /// `module_path!()` of the call site.
    pub module: String,
    /// `file!()` of the call site.
    pub file: String,
    /// Line of the call site.
    pub line: u32,
    /// Column of the call site.
    pub column: u32,
    /// Enclosing function's path.
    pub function: String,
    /// Fields in record order.
    pub fields: Vec<Field>,
}

/// The static parts of a call site from which a schema frame is written.
#[derive(Debug, Clone, Copy)]
pub struct CallsiteSchemaRef<'a> {
    /// See [`CallsiteSchema::id`].
    pub id: u32,
    /// See [`CallsiteSchema::fingerprint`].
    pub fingerprint: u64,
    /// See [`CallsiteSchema::event_type`].
    pub event_type: &'a str,
    /// See [`CallsiteSchema::level`].
    pub level: Level,
    /// See [`CallsiteSchema::message`].
    pub message: Option<&'a str>,
    /// See [`CallsiteSchema::module`].
    pub module: &'a str,
    /// See [`CallsiteSchema::file`].
    pub file: &'a str,
    /// See [`CallsiteSchema::line`].
    pub line: u32,
    /// See [`CallsiteSchema::column`].
    pub column: u32,
    /// See [`CallsiteSchema::function`].
    pub function: &'a str,
    /// See [`CallsiteSchema::fields`].
    pub fields: &'a [FieldDesc],
}

impl CallsiteSchemaRef<'_> {
    /// Encodes the schema frame payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = WireWriter::new();
        w.varint(self.id as u64);
        w.u64_le(self.fingerprint);
        w.str(self.event_type);
        w.byte(self.level as u8);
        w.opt_str(self.message);
        w.str(self.module);
        w.str(self.file);
        w.varint(self.line as u64);
        w.varint(self.column as u64);
        w.str(self.function);
        w.fields(self.fields);
        w.buf
    }
}

impl CallsiteSchema {
    /// Decodes a schema frame payload.
    pub fn decode(payload: &[u8]) -> Result<CallsiteSchema, WireError> {
        let mut r = WireReader::new(payload);
        let id = r.varint_u32("call-site id")?;
        let fingerprint = r.u64_le()?;
        let event_type = r.str()?.to_owned();
        let level_at = r.position();
        let level_byte = r.byte()?;
        let level = Level::from_u8(level_byte).ok_or(WireError::Invalid {
            what: "level",
            value: level_byte as u64,
            offset: level_at,
        })?;
        let message = r.opt_str()?.map(str::to_owned);
        let module = r.str()?.to_owned();
        let file = r.str()?.to_owned();
        let line = r.varint_u32("line")?;
        let column = r.varint_u32("column")?;
        let function = r.str()?.to_owned();
        let fields = r.fields()?;
        Ok(CallsiteSchema { id, fingerprint, event_type, level, message, module, file, line, column, function, fields })
    }
}

/// How the record timestamps ("ticks") relate to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockSource {
    /// The CPU's invariant time-stamp counter.
    Tsc,
    /// Nanoseconds of a monotonic clock since an arbitrary origin.
    MonotonicNanos,
}

/// A simultaneous reading of the tick clock and the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockAnchor {
    /// Tick clock reading.
    pub ticks: u64,
    /// Nanoseconds since the Unix epoch (UTC) at the same moment.
    pub unix_nanos: u64,
}

/// The payload of a clock frame: a newer [`ClockAnchor`], then (appended
/// by lmlog 0.2 on; absent from older payloads) the tick rate the writer
/// measured since the process started, which replaces the session's from
/// this frame on.
///
/// A reader that knows only [`ClockAnchor`] decodes its prefix and ignores
/// the rest (postcard ignores trailing bytes):
///
/// ```
/// use lmlog_format::schema::{from_payload, to_payload};
/// use lmlog_format::{ClockAnchor, ClockUpdate};
///
/// let anchor = ClockAnchor { ticks: 5_000, unix_nanos: 1_795_612_990_000_000_000 };
/// let payload = to_payload(&ClockUpdate { anchor, ticks_per_second: Some(2.6e9) });
/// assert_eq!(from_payload::<ClockAnchor>(&payload)?, anchor);
/// assert_eq!(ClockUpdate::decode(&payload)?.ticks_per_second, Some(2.6e9));
/// // An old payload decodes without the rate.
/// assert_eq!(ClockUpdate::decode(&to_payload(&anchor))?.ticks_per_second, None);
/// # Ok::<(), postcard::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockUpdate {
    /// The fields every version writes.
    pub anchor: ClockAnchor,
    /// The appended tick rate; `None` in payloads written before it.
    pub ticks_per_second: Option<f64>,
}

impl ClockUpdate {
    /// Decodes a clock frame's payload of any version: the [`ClockAnchor`]
    /// prefix, then the rate if the payload goes on. Bytes after the
    /// fields known here (appended by a later writer) are ignored.
    pub fn decode(payload: &[u8]) -> Result<ClockUpdate, postcard::Error> {
        let (anchor, rest) = postcard::take_from_bytes::<ClockAnchor>(payload)?;
        let ticks_per_second = match rest {
            [] => None,
            rest => Some(postcard::take_from_bytes::<f64>(rest)?.0),
        };
        Ok(ClockUpdate { anchor, ticks_per_second })
    }
}

impl Serialize for ClockUpdate {
    /// The fields of [`ClockAnchor`], then the rate if any: postcard writes
    /// a tuple's elements back to back.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(1 + usize::from(self.ticks_per_second.is_some()))?;
        tuple.serialize_element(&self.anchor)?;
        if let Some(rate) = &self.ticks_per_second {
            tuple.serialize_element(rate)?;
        }
        tuple.end()
    }
}

/// Calibration of the tick clock, in the session header.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockInfo {
    /// What the ticks count.
    pub source: ClockSource,
    /// Measured tick rate.
    pub ticks_per_second: f64,
    /// A reading of both clocks taken when the file was started.
    pub anchor: ClockAnchor,
}

/// Who wrote the stream: the payload of the session frame that opens every file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Version of the `lmlog` crate that wrote the file.
    pub writer_version: String,
    /// Tick clock calibration.
    pub clock: ClockInfo,
    /// Process id.
    pub pid: u32,
    /// Path of the executable, if known.
    pub executable: Option<String>,
    /// Host name, if known.
    pub hostname: Option<String>,
    /// Service name (OpenTelemetry `service.name`), if configured.
    pub service_name: Option<String>,
    /// Extra resource attributes given in the configuration.
    pub resource: Vec<(String, String)>,
    /// Position of this file in a rotated series, starting at 0.
    pub file_index: u32,
}

/// Describes a producer thread: the payload of a thread frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadInfo {
    /// Small id, unique within the process, used by records frames.
    pub id: u32,
    /// The thread's name, if it has one.
    pub name: Option<String>,
}

/// Data the writer itself could not deliver, reported by a loss frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterLoss {
    /// Frames that could not be written.
    pub frames: u64,
    /// Bytes that could not be written.
    pub bytes: u64,
    /// Why, in words.
    pub reason: String,
    /// Wall-clock time of the first loss (ns since the Unix epoch).
    pub first_unix_nanos: u64,
    /// Wall-clock time of the last loss (ns since the Unix epoch).
    pub last_unix_nanos: u64,
}

/// Fields appended to a loss frame's [`WriterLoss`] (written from lmlog
/// 0.2 on; older payloads end before them). See [`LossReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LossDetail {
    /// Events that could not be kept: those of the records frames counted
    /// in [`WriterLoss::frames`], plus those counted by reports the lost
    /// frames held (an event here is one the application emitted).
    pub events: u64,
    /// Which end of the writer's spill buffer lost records when it
    /// overflowed ([`DroppedEnd::None`] when nothing was dropped).
    pub dropped_end: DroppedEnd,
    /// Sink calls that failed (returned an error or panicked) since the
    /// previous report.
    pub failed_writes: u64,
    /// Events the writer held in memory while the sink failed and wrote
    /// late, before this report.
    pub delayed_events: u64,
}

/// Which end of the writer's spill buffer gave way when it overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DroppedEnd {
    /// Nothing was dropped.
    #[default]
    None,
    /// The newest records were dropped: what was held is the start of the
    /// outage, and the lost events are the last ones before the sink
    /// recovered (what this crate's writer does).
    Newest,
    /// The oldest records were dropped: what was held is the end of the
    /// outage.
    Oldest,
}

impl DroppedEnd {
    /// `"none"`, `"newest"` or `"oldest"`: the name in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            DroppedEnd::None => "none",
            DroppedEnd::Newest => "newest",
            DroppedEnd::Oldest => "oldest",
        }
    }
}

/// The payload of a loss frame: a [`WriterLoss`], then, appended, a
/// [`LossDetail`] (absent from payloads written before it existed).
///
/// A reader that knows only [`WriterLoss`] decodes its prefix and ignores
/// the rest (postcard ignores trailing bytes):
///
/// ```
/// use lmlog_format::schema::{from_payload, to_payload};
/// use lmlog_format::{DroppedEnd, LossDetail, LossReport, WriterLoss};
///
/// let loss = WriterLoss { frames: 2, bytes: 90, reason: "disk full".into(), first_unix_nanos: 1, last_unix_nanos: 2 };
/// let detail = LossDetail { events: 40, dropped_end: DroppedEnd::Newest, failed_writes: 5, delayed_events: 900 };
/// let payload = to_payload(&LossReport { loss: loss.clone(), detail: Some(detail) });
/// assert_eq!(from_payload::<WriterLoss>(&payload)?, loss);
/// assert_eq!(LossReport::decode(&payload)?.detail, Some(detail));
/// // An old payload decodes without the detail.
/// assert_eq!(LossReport::decode(&to_payload(&loss))?.detail, None);
/// # Ok::<(), postcard::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossReport {
    /// The fields every version writes.
    pub loss: WriterLoss,
    /// The appended fields; `None` in payloads written before them.
    pub detail: Option<LossDetail>,
}

impl LossReport {
    /// Decodes a loss frame's payload of any version: the [`WriterLoss`]
    /// prefix, then the [`LossDetail`] if the payload goes on. Bytes after
    /// the fields known here (appended by a later writer) are ignored.
    pub fn decode(payload: &[u8]) -> Result<LossReport, postcard::Error> {
        let (loss, rest) = postcard::take_from_bytes::<WriterLoss>(payload)?;
        let detail = match rest {
            [] => None,
            rest => Some(postcard::take_from_bytes::<LossDetail>(rest)?.0),
        };
        Ok(LossReport { loss, detail })
    }
}

impl Serialize for LossReport {
    /// The fields of [`WriterLoss`], then those of [`LossDetail`] if any:
    /// postcard writes a tuple's elements back to back.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(1 + usize::from(self.detail.is_some()))?;
        tuple.serialize_element(&self.loss)?;
        if let Some(detail) = &self.detail {
            tuple.serialize_element(detail)?;
        }
        tuple.end()
    }
}

/// Why a stream ended: the payload of the end frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndInfo {
    /// [`EndInfo::SHUTDOWN`] or [`EndInfo::ROTATED`].
    pub reason: String,
    /// Wall-clock time when the stream ended (ns since the Unix epoch).
    pub unix_nanos: u64,
}

impl EndInfo {
    /// The reason of the end frame of the application's last file: it stopped.
    pub const SHUTDOWN: &'static str = "shutdown";
    /// The reason of the end frame of a file the writer rotated away from:
    /// the next file of the series goes on with the same process and clock.
    pub const ROTATED: &'static str = "rotated";
}

/// The payload of a watermark frame (format version 2 on): every record
/// with ticks below `ticks` that the writer will ever write to this file
/// has been written before this frame.
///
/// A record is written after a watermark it is older than only if its
/// thread was suspended, between reading the clock and committing the
/// record, for longer than the time between two drains; readers that merge
/// threads by time print such a late record as soon as they see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// Tick clock reading (the same clock as the records').
    pub ticks: u64,
}

/// The payload of a sampled frame: how many events each call site's
/// sampling or rate limit turned away since the previous report (the
/// writer sums every thread's counts). A call site that turned nothing
/// away is not listed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SampledReport {
    /// Tick clock reading when the counts were taken (the same clock as
    /// the records').
    pub ticks: u64,
    /// The call sites, by id, each with its increment.
    pub sites: Vec<SampledCount>,
}

/// One call site's increment in a [`SampledReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledCount {
    /// The call-site id its schema frame gave it.
    pub id: u32,
    /// Events turned away since the previous report that listed it.
    pub count: u64,
}

/// The payload of a global-context frame: changes of the process's global
/// context (`lmlog::global_context`), in the order they were made, each
/// with the tick count at which it took effect. Events whose ticks are at
/// or after a change's carry the context it left.
///
/// At the start of a file (`snapshot`), the whole context in effect, as
/// [`ContextOp::Insert`]s at ticks 0: a reader that has no history of the
/// process yet starts from it; one that has (it read the previous file of
/// a rotation) ignores it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GlobalContextReport {
    /// The whole context at the start of a file, rather than changes.
    pub snapshot: bool,
    /// The changes, oldest first.
    pub changes: Vec<ContextChange>,
}

/// One change in a [`GlobalContextReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextChange {
    /// Tick clock reading when it was made (the same clock as the records').
    pub ticks: u64,
    /// What changed.
    pub op: ContextOp,
}

/// What a [`ContextChange`] does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContextOp {
    /// Sets `key` to `value`.
    Insert {
        /// The key.
        key: String,
        /// Its new value.
        value: ContextValue,
    },
    /// Removes `key`.
    Remove {
        /// The key.
        key: String,
    },
    /// Removes every key.
    Clear,
}

/// A value of the global context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContextValue {
    /// Text.
    Str(String),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A floating-point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        ContextValue::Str(v.to_owned())
    }
}

impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        ContextValue::Str(v)
    }
}

impl From<bool> for ContextValue {
    fn from(v: bool) -> Self {
        ContextValue::Bool(v)
    }
}

macro_rules! context_value_from {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for ContextValue {
            fn from(v: $t) -> Self {
                ContextValue::$variant(<$wide>::from(v))
            }
        }
    )*};
}
context_value_from!(I64 as i64: i8, i16, i32, i64);
context_value_from!(U64 as u64: u8, u16, u32, u64);
context_value_from!(F64 as f64: f32, f64);

impl From<usize> for ContextValue {
    fn from(v: usize) -> Self {
        ContextValue::U64(v as u64)
    }
}

impl From<isize> for ContextValue {
    fn from(v: isize) -> Self {
        ContextValue::I64(v as i64)
    }
}

/// Encodes a metadata payload with postcard.
pub fn to_payload<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("metadata payloads always serialize")
}

/// Decodes a metadata payload with postcard.
pub fn from_payload<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Type, TypeDesc, VariantDesc, VariantKindDesc};

    static INNER: [FieldDesc; 2] = [
        FieldDesc { name: "x", ty: &TypeDesc::I32, redacted: false },
        FieldDesc { name: "y", ty: &TypeDesc::Option(&TypeDesc::Str), redacted: true },
    ];
    static VARIANTS: [VariantDesc; 3] = [
        VariantDesc { name: "A", kind: VariantKindDesc::Unit },
        VariantDesc { name: "B", kind: VariantKindDesc::Tuple(&[TypeDesc::U8, TypeDesc::Char]) },
        VariantDesc { name: "C", kind: VariantKindDesc::Struct(&INNER) },
    ];
    static FIELDS: [FieldDesc; 10] = [
        FieldDesc { name: "p", ty: &TypeDesc::Struct("P", &INNER), redacted: false },
        FieldDesc { name: "e", ty: &TypeDesc::Enum("E", &VARIANTS), redacted: false },
        FieldDesc { name: "m", ty: &TypeDesc::Map(&TypeDesc::Str, &TypeDesc::Seq(&TypeDesc::F64)), redacted: false },
        FieldDesc { name: "a", ty: &TypeDesc::Array(3, &TypeDesc::Bytes), redacted: false },
        FieldDesc { name: "t", ty: &TypeDesc::Timestamp, redacted: false },
        FieldDesc { name: "ip", ty: &TypeDesc::IpAddr, redacted: false },
        FieldDesc { name: "peer", ty: &TypeDesc::SocketAddr, redacted: false },
        FieldDesc { name: "id", ty: &TypeDesc::Uuid, redacted: false },
        FieldDesc { name: "d", ty: &TypeDesc::Quantity("ns", &TypeDesc::U128), redacted: false },
        FieldDesc { name: "j", ty: &TypeDesc::Json, redacted: false },
    ];

    #[test]
    fn schema_round_trips() {
        let r = CallsiteSchemaRef {
            id: 300,
            fingerprint: 0xdead_beef_0123_4567,
            event_type: "payment_failed",
            level: Level::Warn,
            message: Some("payment of {amount} failed"),
            module: "app",
            file: "src/main.rs",
            line: 9,
            column: 5,
            function: "app::main",
            fields: &FIELDS,
        };
        let bytes = r.encode();
        let s = CallsiteSchema::decode(&bytes).unwrap();
        assert_eq!(s.id, 300);
        assert_eq!(s.level, Level::Warn);
        assert_eq!(s.message.as_deref(), Some("payment of {amount} failed"));
        assert_eq!(s.fields.len(), FIELDS.len());
        for (got, want) in s.fields.iter().zip(&FIELDS) {
            assert_eq!(got.ty, want.ty.to_owned_type());
        }
        assert_eq!(s.fields[8].ty, Type::Quantity("ns".into(), Box::new(Type::U128)));
        assert_eq!(s.fields[0].ty, FIELDS[0].ty.to_owned_type());
        assert_eq!(s.fields[1].ty, FIELDS[1].ty.to_owned_type());
        assert_eq!(s.fields[2].ty, Type::Map(Box::new(Type::Str), Box::new(Type::Seq(Box::new(Type::F64)))));
        assert_eq!(s.fields[3].ty, Type::Array(3, Box::new(Type::Bytes)));
        // Every truncation is an error, never a panic.
        for cut in 0..bytes.len() {
            assert!(CallsiteSchema::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn clock_updates_read_old_and_newer_payloads() {
        let anchor = ClockAnchor { ticks: 123_456_789, unix_nanos: 1_795_612_990_000_000_000 };
        let update = ClockUpdate { anchor, ticks_per_second: Some(2_596_141_000.5) };
        let old = to_payload(&anchor);
        let new = to_payload(&update);
        assert_eq!(&new[..old.len()], old, "the rate is appended, the prefix is the old payload");
        assert_eq!(new.len(), old.len() + 8);
        assert_eq!(ClockUpdate::decode(&old).unwrap(), ClockUpdate { anchor, ticks_per_second: None });
        assert_eq!(to_payload(&ClockUpdate { anchor, ticks_per_second: None }), old);
        assert_eq!(ClockUpdate::decode(&new).unwrap(), update);
        // A later writer's further appended fields are ignored.
        let mut later = new.clone();
        later.extend_from_slice(&[9, 9, 9]);
        assert_eq!(ClockUpdate::decode(&later).unwrap(), update);
        // A rate cut short is an error, never a panic or a guess.
        for cut in old.len() + 1..new.len() {
            assert!(ClockUpdate::decode(&new[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn loss_reports_read_old_and_newer_payloads() {
        let loss =
            WriterLoss { frames: 3, bytes: 300, reason: "disk full".into(), first_unix_nanos: 10, last_unix_nanos: 20 };
        let detail = LossDetail { events: 77, dropped_end: DroppedEnd::Newest, failed_writes: 4, delayed_events: 5 };
        let old = to_payload(&loss);
        let new = to_payload(&LossReport { loss: loss.clone(), detail: Some(detail) });
        assert_eq!(&new[..old.len()], old, "the detail is appended, the prefix is the old payload");
        assert_eq!(LossReport::decode(&old).unwrap(), LossReport { loss: loss.clone(), detail: None });
        assert_eq!(to_payload(&LossReport { loss: loss.clone(), detail: None }), old);
        // A later writer's further appended fields are ignored.
        let mut later = new.clone();
        later.extend_from_slice(&[9, 9, 9]);
        assert_eq!(LossReport::decode(&later).unwrap().detail, Some(detail));
        // A detail cut short is an error, never a panic or a guess.
        for cut in old.len() + 1..new.len() {
            assert!(LossReport::decode(&new[..cut]).is_err(), "cut at {cut}");
        }
        for (end, name) in [(DroppedEnd::None, "none"), (DroppedEnd::Newest, "newest"), (DroppedEnd::Oldest, "oldest")]
        {
            assert_eq!(end.name(), name);
        }
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        // 10_000 nested Option tags: must fail with TooDeep, not overflow the stack.
        let mut w = WireWriter::new();
        w.varint(1);
        w.u64_le(0);
        w.str("e");
        w.byte(3);
        w.opt_str(None);
        w.str("m");
        w.str("f");
        w.varint(1);
        w.varint(1);
        w.str("fun");
        w.varint(1);
        w.str("x");
        w.byte(0);
        for _ in 0..10_000 {
            w.varint(17);
        }
        let err = CallsiteSchema::decode(&w.buf).unwrap_err();
        assert!(matches!(err, WireError::TooDeep { .. }), "{err}");
        // A huge field count is rejected without allocating.
        let mut w = WireWriter::new();
        w.varint(1);
        w.u64_le(0);
        w.str("e");
        w.byte(3);
        w.opt_str(None);
        w.str("m");
        w.str("f");
        w.varint(1);
        w.varint(1);
        w.str("fun");
        w.varint(u64::MAX >> 1);
        assert!(CallsiteSchema::decode(&w.buf).is_err());
    }
}
