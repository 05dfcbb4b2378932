//! [`Config::from_file`]: every [`Config`] setting from a TOML or JSON file,
//! under the builder's names.
//!
//! Each setting is one entry of [`SETTINGS`]: its key and how its value
//! turns into a call of the builder method of the same name. A new setting
//! of [`Config`] that can be written in a file gets its entry there.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::config::{Compression, Config, Overflow};
#[cfg(feature = "jsonl")]
use crate::sink::FileOptions;

/// Why [`Config::from_file`] failed: the file, and the key if one is at
/// fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        source: std::io::Error,
    },
    /// The file's extension is neither `.toml` nor `.json`.
    #[error("{}: the file must end in .toml or .json", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid TOML or JSON (or its top level is not a table).
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the parser said, with the line and column.
        message: String,
    },
    /// A key that is not a setting of [`Config`].
    #[error("{}: unknown key `{key}`{}", path.display(), did_you_mean(key, suggestion))]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key, with its table (`jsonl_file_options.truncate`).
        key: String,
        /// The setting it resembles, if one does.
        suggestion: Option<&'static str>,
    },
    /// A setting whose value does not fit.
    #[error("{}: `{key}`: expected {expected}", path.display())]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The key, with its table.
        key: String,
        /// What the setting takes.
        expected: String,
    },
}

fn did_you_mean(_key: &str, suggestion: &Option<&'static str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

/// A value that does not fit its setting: what the setting takes.
struct Expected(String);

impl Expected {
    fn new(what: impl fmt::Display) -> Expected {
        Expected(what.to_string())
    }
}

type Apply = fn(Config, &Value) -> Result<Config, Expected>;
#[cfg(feature = "jsonl")]
type ApplyFileOption = fn(FileOptions, &Value) -> Result<FileOptions, Expected>;

/// Every setting a file can hold: the builder method's name and how to call
/// it with the file's value.
const SETTINGS: &[(&str, Apply)] = &[
    ("output", |c, v| Ok(c.output(string(v, "a path")?))),
    #[cfg(feature = "jsonl")]
    ("output_jsonl", |c, v| Ok(c.output_jsonl(string(v, "a path")?))),
    #[cfg(feature = "jsonl")]
    ("jsonl_file_options", |c, v| Ok(c.jsonl_file_options(file_options(v)?))),
    #[cfg(feature = "console")]
    ("console", |c, v| Ok(c.console(boolean(v)?))),
    ("filter", |c, v| {
        const FILTER: &str = "a filter such as \"info,my_crate::db=debug\"";
        let filter = string(v, FILTER)?;
        filter.parse::<crate::Filter>().map_err(|e| Expected::new(format!("{FILTER}: {e}")))?;
        Ok(c.filter(filter))
    }),
    ("env_filter", |c, v| Ok(c.env_filter(boolean(v)?))),
    ("buffer_capacity", |c, v| Ok(c.buffer_capacity(usize::try_from(bytes(v)?).unwrap_or(usize::MAX)))),
    ("overflow", |c, v| {
        Ok(c.overflow(match string(v, OVERFLOW)?.as_str() {
            "block" => Overflow::Block,
            "drop" => Overflow::Drop,
            _ => return Err(Expected::new(OVERFLOW)),
        }))
    }),
    ("flush_interval", |c, v| Ok(c.flush_interval(duration(v)?))),
    ("rotate", |c, v| {
        let table = table(v, ROTATE)?;
        let (mut max_bytes, mut keep) = (None, None);
        for (key, value) in table {
            match key.as_str() {
                "max_bytes" => max_bytes = Some(bytes(value)?),
                "keep" => keep = Some(count(value)?),
                _ => return Err(Expected::new(ROTATE)),
            }
        }
        match (max_bytes, keep) {
            (Some(max_bytes), Some(keep)) => Ok(c.rotate(max_bytes, keep)),
            _ => Err(Expected::new(ROTATE)),
        }
    }),
    ("rotate_every", |c, v| Ok(c.rotate_every(duration(v)?))),
    ("retain_max_files", |c, v| Ok(c.retain_max_files(count(v)?))),
    ("retain_max_age", |c, v| Ok(c.retain_max_age(duration(v)?))),
    ("retain_max_bytes", |c, v| Ok(c.retain_max_bytes(bytes(v)?))),
    ("truncate", |c, v| Ok(c.truncate(boolean(v)?))),
    ("file_mode", |c, v| Ok(c.file_mode(mode(v)?))),
    ("service_name", |c, v| {
        let mut config = c.service_name(string(v, "a string")?);
        config.env_overrides_service_name = true;
        Ok(config)
    }),
    ("service_version", |c, v| Ok(c.service_version(string(v, "a string")?))),
    ("service_instance_id", |c, v| Ok(c.service_instance_id(string(v, "a string")?))),
    ("baggage_keys", |c, v| {
        const KEYS: &str = "a list of baggage keys, such as [\"tenant\"]";
        let keys = v.as_array().ok_or_else(|| Expected::new(KEYS))?;
        let keys: Option<Vec<&str>> = keys.iter().map(Value::as_str).collect();
        Ok(c.baggage_keys(keys.ok_or_else(|| Expected::new(KEYS))?))
    }),
    ("resource", |c, v| {
        let mut config = c;
        for (key, value) in table(v, RESOURCE)? {
            config = config.resource(key.as_str(), scalar_text(value).ok_or_else(|| Expected::new(RESOURCE))?);
        }
        Ok(config)
    }),
    ("global_context", |c, v| {
        let mut config = c;
        for (key, value) in table(v, GLOBAL_CONTEXT)? {
            config =
                config.global_context(key.as_str(), context_value(value).ok_or_else(|| Expected::new(GLOBAL_CONTEXT))?);
        }
        Ok(config)
    }),
    ("flush_on_panic", |c, v| Ok(c.flush_on_panic(boolean(v)?))),
    ("compression", |c, v| {
        Ok(c.compression(match string(v, COMPRESSION)?.as_str() {
            "off" => Compression::Off,
            "adaptive" => Compression::Adaptive,
            "always" => Compression::Always,
            _ => return Err(Expected::new(COMPRESSION)),
        }))
    }),
    ("crash_recovery", |c, v| Ok(c.crash_recovery(boolean(v)?))),
    ("spill_capacity", |c, v| Ok(c.spill_capacity(usize::try_from(bytes(v)?).unwrap_or(usize::MAX)))),
    ("flight_recorder", |c, v| Ok(c.flight_recorder(count(v)? as usize))),
    ("sample_level", |c, v| {
        let mut config = c;
        for (level, p) in table(v, SAMPLE_LEVEL)? {
            let level = crate::Level::from_name(level).ok_or_else(|| Expected::new(SAMPLE_LEVEL))?;
            let p = p.as_f64().filter(|p| (0.0..=1.0).contains(p)).ok_or_else(|| Expected::new(SAMPLE_LEVEL))?;
            config = config.sample_level(level, p);
        }
        Ok(config)
    }),
    ("max_events_per_second", |c, v| {
        Ok(c.max_events_per_second(v.as_u64().ok_or_else(|| Expected::new("a whole number of events per second"))?))
    }),
    ("trace_consistent_sampling", |c, v| Ok(c.trace_consistent_sampling(boolean(v)?))),
];

/// The settings of a `jsonl_file_options` table: [`FileOptions`]' builder.
#[cfg(feature = "jsonl")]
const FILE_OPTIONS: &[(&str, ApplyFileOption)] = &[
    ("max_file_bytes", |o, v| Ok(o.max_file_bytes(bytes(v)?))),
    ("rotate_every", |o, v| Ok(o.rotate_every(duration(v)?))),
    ("retain_max_files", |o, v| Ok(o.retain_max_files(count(v)?))),
    ("retain_max_age", |o, v| Ok(o.retain_max_age(duration(v)?))),
    ("retain_max_bytes", |o, v| Ok(o.retain_max_bytes(bytes(v)?))),
    ("truncate", |o, v| Ok(o.truncate(boolean(v)?))),
    ("mode", |o, v| Ok(o.mode(mode(v)?))),
];

const OVERFLOW: &str = "\"block\" or \"drop\"";
const SAMPLE_LEVEL: &str = "a table of levels and keep rates from 0 to 1, such as { debug = 0.1, info = 0.5 }";
const COMPRESSION: &str = "\"off\", \"adaptive\" or \"always\"";
const ROTATE: &str = "a table { max_bytes = SIZE, keep = COUNT }";
const RESOURCE: &str = "a table of attributes, such as { \"deployment.environment\" = \"prod\" }";
const GLOBAL_CONTEXT: &str = "a table of keys with text, number or boolean values, such as { region = \"eu-west-1\" }";
const DURATION: &str =
    "a duration: a number of seconds, or a number with a unit (ns, us, ms, s, m, h, d) such as \"250ms\" or \"7d\"";
const BYTES: &str =
    "a size: a number of bytes, or a number with a unit (B, KB, MB, GB, KiB, MiB, GiB) such as \"64 MiB\"";

/// Fills a `jsonl_file_options` table into [`FileOptions`].
#[cfg(feature = "jsonl")]
fn file_options(value: &Value) -> Result<FileOptions, Expected> {
    // Keys of the nested table are checked by `apply_table` (which knows
    // the file and the key's path); here every key is known.
    let mut options = FileOptions::new();
    for (key, value) in table(value, "a table of file options")? {
        let (_, apply) = FILE_OPTIONS.iter().find(|(name, _)| name == key).expect("checked by apply_table");
        options = apply(options, value)?;
    }
    Ok(options)
}

fn string(value: &Value, what: &str) -> Result<String, Expected> {
    value.as_str().map(str::to_owned).ok_or_else(|| Expected::new(what))
}

fn boolean(value: &Value) -> Result<bool, Expected> {
    value.as_bool().ok_or_else(|| Expected::new("true or false"))
}

fn count(value: &Value) -> Result<u32, Expected> {
    value.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| Expected::new("a whole number"))
}

fn table<'a>(value: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>, Expected> {
    value.as_object().ok_or_else(|| Expected::new(what))
}

/// A resource attribute's value: text, a number or a boolean, as text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A global-context value: text, a number or a boolean, keeping its type.
fn context_value(value: &Value) -> Option<crate::global_context::ContextValue> {
    use crate::global_context::ContextValue;
    match value {
        Value::String(s) => Some(ContextValue::Str(s.clone())),
        Value::Number(n) => n
            .as_u64()
            .map(ContextValue::U64)
            .or_else(|| n.as_i64().map(ContextValue::I64))
            .or_else(|| n.as_f64().map(ContextValue::F64)),
        Value::Bool(b) => Some(ContextValue::Bool(*b)),
        _ => None,
    }
}

/// Permission bits: a number (TOML's `0o640`) or octal text (`"640"`,
/// `"0640"`, `"0o640"`), as JSON has no octal numbers.
fn mode(value: &Value) -> Result<u32, Expected> {
    const MODE: &str = "permission bits: a number such as 0o640 (TOML) or octal text such as \"0640\"";
    let mode = match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => u32::from_str_radix(s.strip_prefix("0o").unwrap_or(s), 8).ok(),
        _ => None,
    };
    mode.filter(|m| *m <= 0o7777).ok_or_else(|| Expected::new(MODE))
}

/// A number with an optional unit, split: `"64 MiB"` is `(64.0, "MiB")`.
fn number_and_unit(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(text.len());
    let number: f64 = text[..split].replace('_', "").parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some((number, text[split..].trim()))
}

/// A duration: seconds as a number, or text with a unit.
fn duration(value: &Value) -> Result<Duration, Expected> {
    let seconds = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => number_and_unit(s).and_then(|(n, unit)| {
            let scale = match unit {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                "d" => 86_400.0,
                _ => return None,
            };
            Some(n * scale)
        }),
        _ => None,
    };
    seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()).ok_or_else(|| Expected::new(DURATION))
}

/// A size in bytes: a number, or text with a unit.
fn bytes(value: &Value) -> Result<u64, Expected> {
    let size = match value {
        Value::Number(n) => n.as_u64().map(|n| n as f64),
        Value::String(s) => number_and_unit(s).and_then(|(n, unit)| {
            let scale = match unit {
                "" | "B" => 1u64,
                "KB" | "kB" => 1_000,
                "MB" => 1_000_000,
                "GB" => 1_000_000_000,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                _ => return None,
            };
            Some(n * scale as f64)
        }),
        _ => None,
    };
    size.filter(|s| *s <= u64::MAX as f64).map(|s| s as u64).ok_or_else(|| Expected::new(BYTES))
}

/// The setting whose name is closest to `key`, if one is close (two edits at
/// most): for a typo's error message.
fn closest(key: &str, names: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut previous = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let substituted = previous + usize::from(ca != *cb);
                previous = row[j + 1];
                row[j + 1] = substituted.min(row[j] + 1).min(row[j + 1] + 1);
            }
        }
        row[b.len()]
    }
    names
        .map(|name| (distance(key, name), name))
        .filter(|(d, name)| *d <= 2 || (key.len() >= 3 && name.contains(key)))
        .min()
        .map(|(_, name)| name)
}

impl Config {
    /// A configuration read from a TOML (`.toml`) or JSON (`.json`) file
    /// whose keys are the builder's method names: every setting that can
    /// be written down (a custom [`sink`](Config::sink) or
    /// [`sampler`](Config::sampler) is code).
    ///
    /// Durations are seconds or text with a unit (`"250ms"`, `"7d"`),
    /// sizes bytes or text with a unit (`"64 MiB"`), `rotate` a table with
    /// `max_bytes` and `keep`, `resource` and `global_context` tables,
    /// `file_mode` a number (`0o640` in TOML) or octal text,
    /// `jsonl_file_options` a table of [`FileOptions`]' settings (`mode`
    /// for the permission bits). Settings apply in the order [`Config`] documents its methods,
    /// whatever their order in the file, so `retain_max_files` overrides
    /// the `keep` of `rotate`. An unknown key or a value that does not
    /// fit is an error naming the file and the key. The environment still
    /// overrides the file: `LMLOG` its `filter` (unless `env_filter =
    /// false`), `OTEL_SERVICE_NAME` its `service_name`. The result is a
    /// [`Config`] like any other: call more builder methods on it.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("lmlog-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("lmlog.toml");
    /// std::fs::write(&path, r#"
    /// output = "app.lmlog"
    /// filter = "info,my_crate::db=debug"
    /// flush_interval = "50ms"
    /// rotate = { max_bytes = "64 MiB", keep = 4 }
    /// retain_max_age = "7d"
    /// service_name = "checkout"
    /// resource = { "deployment.environment" = "prod" }
    /// "#)?;
    /// let config = lmlog::Config::from_file(&path)?.flush_on_panic(false);
    /// # drop(config);
    ///
    /// std::fs::write(&path, "outptu = \"app.lmlog\"\n")?;
    /// let error = lmlog::Config::from_file(&path).unwrap_err();
    /// assert!(error.to_string().ends_with("lmlog.toml: unknown key `outptu` (did you mean `output`?)"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigFileError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read { path: path.to_owned(), source })?;
        let syntax = |message: String| ConfigFileError::Syntax { path: path.to_owned(), message };
        let value: Value = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => toml::from_str(&text).map_err(|e| syntax(e.to_string().trim_end().to_owned()))?,
            Some("json") => serde_json::from_str(&text).map_err(|e| syntax(e.to_string()))?,
            _ => return Err(ConfigFileError::UnknownFormat { path: path.to_owned() }),
        };
        let Value::Object(settings) = value else {
            return Err(syntax("the top level must be a table of settings".to_owned()));
        };
        if let Some(key) = settings.keys().find(|key| !SETTINGS.iter().any(|(name, _)| name == key)) {
            return Err(ConfigFileError::UnknownKey {
                path: path.to_owned(),
                key: key.clone(),
                suggestion: closest(key, SETTINGS.iter().map(|(name, _)| *name)),
            });
        }
        #[cfg(feature = "jsonl")]
        if let Some(options) = settings.get("jsonl_file_options") {
            check_file_option_keys(path, options)?;
        }
        // In the order of `SETTINGS`, not of the file (which a parsed table
        // does not keep): the more specific setting comes later and wins.
        let mut config = Config::new();
        for (key, apply) in SETTINGS {
            let Some(value) = settings.get(*key) else { continue };
            config = apply(config, value).map_err(|Expected(expected)| ConfigFileError::BadValue {
                path: path.to_owned(),
                key: key.to_string(),
                expected,
            })?;
        }
        Ok(config)
    }
}

/// Names a `jsonl_file_options` key that is not a file option.
#[cfg(feature = "jsonl")]
fn check_file_option_keys(path: &Path, value: &Value) -> Result<(), ConfigFileError> {
    let Some(table) = value.as_object() else { return Ok(()) };
    match table.keys().find(|key| !FILE_OPTIONS.iter().any(|(name, _)| name == key)) {
        Some(key) => Err(ConfigFileError::UnknownKey {
            path: path.to_owned(),
            key: format!("jsonl_file_options.{key}"),
            suggestion: closest(key, FILE_OPTIONS.iter().map(|(name, _)| *name)),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` to a file named `name` in a fresh directory and reads
    /// it back as a configuration.
    fn load(name: &str, text: &str) -> Result<Config, ConfigFileError> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lmlog-config-file-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let config = Config::from_file(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        config
    }

    fn error(name: &str, text: &str) -> String {
        let message = load(name, text).expect_err("an error").to_string();
        let file = message.find(name).expect("the message names the file");
        message[file..].to_owned()
    }

    #[test]
    fn every_setting_is_read_under_the_builders_name() {
        let toml = r#"
            output = "app.lmlog"
            filter = "info,my_crate::db=debug"
            env_filter = false
            buffer_capacity = "256 KiB"
            overflow = "drop"
            flush_interval = "50ms"
            rotate = { max_bytes = "64 MiB", keep = 4 }
            rotate_every = "1h"
            retain_max_files = 9
            retain_max_age = "7d"
            retain_max_bytes = 1_000_000_000
            truncate = true
            file_mode = 0o600
            service_name = "checkout"
            service_version = "1.4.0"
            service_instance_id = "replica-2"
            baggage_keys = ["tenant"]
            resource = { "deployment.environment" = "prod", "shard" = 3 }
            global_context = { region = "eu-west-1", replicas = 3, offset = -2, ratio = 0.5, beta = true }
            flush_on_panic = false
            compression = "always"
            crash_recovery = false
            spill_capacity = "16MiB"
            flight_recorder = 64
        "#;
        let config = load("lmlog.toml", toml).unwrap();
        assert!(matches!(&config.output, Some(crate::config::Output::File(p)) if p == Path::new("app.lmlog")));
        assert_eq!(config.filter.as_deref(), Some("info,my_crate::db=debug"));
        assert!(!config.use_env_filter);
        assert_eq!(config.buffer_capacity, 256 << 10);
        assert_eq!(config.overflow, Overflow::Drop);
        assert_eq!(config.flush_interval, Duration::from_millis(50));
        let file = crate::sink::FileOptions::new()
            .max_file_bytes(64 << 20)
            .retain_max_files(4)
            .rotate_every(Duration::from_secs(3600))
            .retain_max_files(9)
            .retain_max_age(Duration::from_secs(7 * 86_400))
            .retain_max_bytes(1_000_000_000)
            .truncate(true)
            .mode(0o600);
        assert_eq!(format!("{:?}", config.file), format!("{file:?}"));
        assert_eq!(config.service_name.as_deref(), Some("checkout"));
        assert!(config.env_overrides_service_name);
        assert_eq!(config.service_version.as_deref(), Some("1.4.0"));
        assert_eq!(config.service_instance_id.as_deref(), Some("replica-2"));
        assert_eq!(config.baggage_keys, Some(vec!["tenant".to_owned()]));
        assert_eq!(
            config.resource,
            [("deployment.environment".to_owned(), "prod".to_owned()), ("shard".to_owned(), "3".to_owned())]
        );
        let mut context = config.global_context.clone();
        context.sort_by(|a, b| a.0.cmp(&b.0));
        use crate::global_context::ContextValue;
        assert_eq!(
            context,
            [
                ("beta".to_owned(), ContextValue::Bool(true)),
                ("offset".to_owned(), ContextValue::I64(-2)),
                ("ratio".to_owned(), ContextValue::F64(0.5)),
                ("region".to_owned(), ContextValue::Str("eu-west-1".into())),
                ("replicas".to_owned(), ContextValue::U64(3)),
            ]
        );
        assert!(!config.panic_hook);
        assert_eq!(config.compression, Compression::Always);
        assert!(!config.crash_recovery);
        assert_eq!(config.spill_capacity, 16 << 20);
        assert_eq!(config.flight_recorder, 64);

        // The same in JSON reads the same.
        let json = r#"{"output": "app.lmlog", "filter": "info,my_crate::db=debug", "env_filter": false,
            "buffer_capacity": 262144, "overflow": "drop", "flush_interval": 0.05,
            "rotate": {"max_bytes": 67108864, "keep": 4}, "rotate_every": 3600, "retain_max_files": 9,
            "retain_max_age": "7d", "retain_max_bytes": "1 GB", "truncate": true, "file_mode": "0600",
            "service_name": "checkout", "service_version": "1.4.0", "service_instance_id": "replica-2", "baggage_keys": ["tenant"], "resource": {"deployment.environment": "prod", "shard": 3},
            "global_context": {"region": "eu-west-1", "replicas": 3, "offset": -2, "ratio": 0.5, "beta": true},
            "flush_on_panic": false, "compression": "always", "crash_recovery": false,
            "spill_capacity": 16777216, "flight_recorder": 64}"#;
        let from_json = load("lmlog.json", json).unwrap();
        assert_eq!(format!("{from_json:?}"), format!("{config:?}"));
    }

    #[cfg(all(feature = "jsonl", feature = "console"))]
    #[test]
    fn the_live_outputs_and_their_file_options() {
        let config = load(
            "lmlog.toml",
            "output_jsonl = \"app.jsonl\"\nconsole = true\n[jsonl_file_options]\nmax_file_bytes = \"1 MiB\"\nmode = \"640\"\n",
        )
        .unwrap();
        assert_eq!(config.jsonl.as_deref(), Some(Path::new("app.jsonl")));
        assert!(config.console);
        let options = FileOptions::new().max_file_bytes(1 << 20).mode(0o640);
        assert_eq!(format!("{:?}", config.jsonl_file), format!("{:?}", Some(options)));
        assert_eq!(
            error("lmlog.toml", "[jsonl_file_options]\nmax_fle_bytes = 1\n"),
            "lmlog.toml: unknown key `jsonl_file_options.max_fle_bytes` (did you mean `max_file_bytes`?)"
        );
    }

    #[test]
    fn the_sampling_settings() {
        let toml = "sample_level = { debug = 0.1, error = 1 }\nmax_events_per_second = 1000\ntrace_consistent_sampling = false\n";
        let config = load("lmlog.toml", toml).unwrap();
        let expected = Config::new()
            .sample_level(crate::Level::Debug, 0.1)
            .sample_level(crate::Level::Error, 1.0)
            .max_events_per_second(1000)
            .trace_consistent_sampling(false);
        assert_eq!(format!("{config:?}"), format!("{expected:?}"));
        let json = r#"{"sample_level": {"debug": 0.1, "error": 1}, "max_events_per_second": 1000,
            "trace_consistent_sampling": false}"#;
        assert_eq!(format!("{:?}", load("lmlog.json", json).unwrap()), format!("{expected:?}"));
        for bad in ["sample_level = { debug = 1.5 }\n", "sample_level = { verbose = 0.5 }\n", "sample_level = 0.5\n"] {
            assert_eq!(error("a.toml", bad), format!("a.toml: `sample_level`: expected {SAMPLE_LEVEL}"), "{bad}");
        }
        assert_eq!(
            error("a.toml", "max_events_per_second = -3\n"),
            "a.toml: `max_events_per_second`: expected a whole number of events per second"
        );
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        assert_eq!(error("a.toml", "outptu = \"x\"\n"), "a.toml: unknown key `outptu` (did you mean `output`?)");
        assert_eq!(error("a.json", r#"{"sink": "x"}"#), "a.json: unknown key `sink`");
        assert_eq!(
            error("a.toml", "flush_interval = \"soon\"\n"),
            format!("a.toml: `flush_interval`: expected {DURATION}")
        );
        assert_eq!(error("a.toml", "overflow = \"spill\"\n"), format!("a.toml: `overflow`: expected {OVERFLOW}"));
        assert_eq!(error("a.toml", "rotate = { max_bytes = 10 }\n"), format!("a.toml: `rotate`: expected {ROTATE}"));
        assert_eq!(
            error("a.toml", "spill_capacity = \"9 parsecs\"\n"),
            format!("a.toml: `spill_capacity`: expected {BYTES}")
        );
        assert_eq!(error("a.toml", "truncate = \"yes\"\n"), "a.toml: `truncate`: expected true or false");
        assert!(error("a.toml", "flight_recorder = -1\n").starts_with("a.toml: `flight_recorder`: expected"));
        assert_eq!(error("a.json", r#"{"file_mode": "rw-r-----"}"#).split(':').nth(1), Some(" `file_mode`"));
        let filter = error("a.toml", "filter = \"app[x]=debug\"\n");
        assert!(filter.starts_with("a.toml: `filter`: expected a filter such as"), "{filter}");
        assert!(filter.ends_with("invalid filter directive `app[x]=debug`: span and field filters (`target[span{field}]`) are not supported; use `target=level`"), "{filter}");
        assert!(error("a.toml", "output = \n").starts_with("a.toml: "), "a syntax error names the file");
        assert_eq!(error("a.json", "[1]"), "a.json: the top level must be a table of settings");
        assert_eq!(error("a.yaml", "output: x"), "a.yaml: the file must end in .toml or .json");
        let missing = Config::from_file("/nonexistent/lmlog.toml").unwrap_err();
        assert!(matches!(missing, ConfigFileError::Read { .. }), "{missing}");
    }
}
