//! `LogValue` for other crates' types, each behind the cargo feature of
//! the same name: `uuid`, `chrono`, `time`, `serde_json`.

#[cfg(feature = "uuid")]
mod uuid_impl {
    use lmlog_format::TypeDesc;

    use crate::value::{Encoder, LogValue};

    /// A UUID is its 16 bytes; it decodes as hyphenated lower-case text.
    impl LogValue for uuid::Uuid {
        const TYPE: &'static TypeDesc = &TypeDesc::Uuid;
        #[inline]
        fn encode(&self, enc: &mut Encoder<'_>) {
            enc.write_bytes(self.as_bytes());
        }
    }
}

#[cfg(feature = "chrono")]
mod chrono_impl {
    use lmlog_format::TypeDesc;

    use crate::value::{Encoder, LogValue};

    /// A date-time is its instant, in nanoseconds since the Unix epoch; it
    /// decodes as RFC 3339 text in UTC (the time zone is not recorded).
    impl<Tz: chrono::TimeZone> LogValue for chrono::DateTime<Tz> {
        const TYPE: &'static TypeDesc = &TypeDesc::Timestamp;
        #[inline]
        fn encode(&self, enc: &mut Encoder<'_>) {
            let nanos = i128::from(self.timestamp()) * 1_000_000_000 + i128::from(self.timestamp_subsec_nanos());
            enc.write_signed_i128(nanos);
        }
    }
}

#[cfg(feature = "time")]
mod time_impl {
    use lmlog_format::TypeDesc;

    use crate::value::{Encoder, LogValue};

    /// A date-time is its instant, in nanoseconds since the Unix epoch; it
    /// decodes as RFC 3339 text in UTC (the offset is not recorded).
    impl LogValue for time::OffsetDateTime {
        const TYPE: &'static TypeDesc = &TypeDesc::Timestamp;
        #[inline]
        fn encode(&self, enc: &mut Encoder<'_>) {
            enc.write_signed_i128(self.unix_timestamp_nanos());
        }
    }

    /// Like [`time::OffsetDateTime`].
    impl LogValue for time::UtcDateTime {
        const TYPE: &'static TypeDesc = &TypeDesc::Timestamp;
        #[inline]
        fn encode(&self, enc: &mut Encoder<'_>) {
            enc.write_signed_i128(self.unix_timestamp_nanos());
        }
    }
}

#[cfg(feature = "serde_json")]
mod serde_json_impl {
    use lmlog_format::types::MAX_JSON_DEPTH;
    use lmlog_format::TypeDesc;
    use serde_json::{Map, Value};

    use crate::value::{json, Encoder, LogValue};

    /// A JSON value is recorded as it is, in a compact self-describing form
    /// (FORMAT.md, "JSON values"), and decodes as itself. Arrays and objects
    /// nested deeper than the decoder reads (64 levels) are recorded as
    /// their JSON text, a string.
    impl LogValue for Value {
        const TYPE: &'static TypeDesc = &TypeDesc::Json;
        fn encode(&self, enc: &mut Encoder<'_>) {
            encode_value(self, enc, 0);
        }
    }

    /// A JSON object, recorded as a [`Value::Object`].
    impl LogValue for Map<String, Value> {
        const TYPE: &'static TypeDesc = &TypeDesc::Json;
        fn encode(&self, enc: &mut Encoder<'_>) {
            encode_object(self, enc, 0);
        }
    }

    fn encode_object(map: &Map<String, Value>, enc: &mut Encoder<'_>, depth: usize) {
        json::object(enc, map.len());
        for (key, value) in map {
            json::key(enc, key);
            encode_value(value, enc, depth + 1);
        }
    }

    fn encode_value(value: &Value, enc: &mut Encoder<'_>, depth: usize) {
        match value {
            Value::Null => json::null(enc),
            Value::Bool(v) => json::bool(enc, *v),
            Value::Number(n) => {
                if let Some(v) = n.as_u64() {
                    json::u64(enc, v);
                } else if let Some(v) = n.as_i64() {
                    json::i64(enc, v);
                } else if let Some(v) = n.as_f64().filter(|v| v.is_finite()) {
                    json::f64(enc, v);
                } else {
                    // Only with serde_json's `arbitrary_precision`: keep the text.
                    json::str(enc, &n.to_string());
                }
            }
            Value::String(s) => json::str(enc, s),
            Value::Array(_) | Value::Object(_) if depth + 1 >= MAX_JSON_DEPTH => {
                json::str(enc, &value.to_string());
            }
            Value::Array(items) => {
                json::array(enc, items.len());
                for item in items {
                    encode_value(item, enc, depth + 1);
                }
            }
            Value::Object(map) => encode_object(map, enc, depth),
        }
    }
}

#[cfg(all(test, any(feature = "uuid", feature = "chrono", feature = "time", feature = "serde_json")))]
mod tests {
    use crate::value::tests::encode;
    #[cfg(any(feature = "chrono", feature = "time"))]
    const NANOS: i128 = 1_796_042_096_123_456_789;

    #[cfg(feature = "uuid")]
    #[test]
    fn uuids_are_their_bytes() {
        let id = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        assert_eq!(encode(&id), id.as_bytes());
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_date_times_are_their_instant() {
        let utc = chrono::DateTime::from_timestamp_nanos(NANOS as i64);
        let offset = utc.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
        let expected = postcard::to_allocvec(&NANOS).unwrap();
        assert_eq!(encode(&utc), expected);
        assert_eq!(encode(&offset), expected, "the offset is not part of the value");
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_date_times_are_their_instant() {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(NANOS).unwrap();
        let expected = postcard::to_allocvec(&NANOS).unwrap();
        assert_eq!(encode(&at.to_offset(time::UtcOffset::from_hms(-5, 0, 0).unwrap())), expected);
        assert_eq!(encode(&time::UtcDateTime::from_unix_timestamp_nanos(NANOS).unwrap()), expected);
    }

    #[cfg(feature = "serde_json")]
    #[test]
    fn json_values_are_self_describing() {
        use lmlog_format::JsonKind as K;
        let value = serde_json::json!({"a": [null, true, -2, 2.5], "b": "x"});
        let mut expected = vec![K::Object as u8, 2, 1, b'a', K::Array as u8, 4, K::Null as u8, K::True as u8];
        expected.extend([K::I64 as u8, 3, K::F64 as u8]);
        expected.extend(2.5f64.to_le_bytes());
        expected.extend([1, b'b', K::String as u8, 1, b'x']);
        assert_eq!(encode(&value), expected);
    }

    #[cfg(feature = "serde_json")]
    #[test]
    fn json_nested_past_the_bound_is_recorded_as_text() {
        use lmlog_format::types::MAX_JSON_DEPTH;
        use lmlog_format::JsonKind as K;
        let mut value = serde_json::json!([]);
        for _ in 0..MAX_JSON_DEPTH {
            value = serde_json::json!([value]);
        }
        let bytes = encode(&value);
        // 63 arrays of one element, then the rest as a string.
        let arrays = [K::Array as u8, 1].repeat(MAX_JSON_DEPTH - 1);
        assert_eq!(&bytes[..arrays.len()], &arrays[..]);
        assert_eq!(bytes[arrays.len()], K::String as u8);
        assert!(bytes.ends_with(b"[[]]"));
    }
}
