//! Where and how to export: the endpoint, the headers, the certificates,
//! and how they are read from the OpenTelemetry environment variables.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The path an OTLP/HTTP logs endpoint has when it is derived from a base
/// endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`).
pub const LOGS_PATH: &str = "/v1/logs";

/// Where to send logs and how: the settings of an [`OtlpExporter`](super::OtlpExporter).
///
/// ```
/// use lmlog_decode::otlp::ExportConfig;
/// let config = ExportConfig::new("http://localhost:4318/v1/logs")
///     .header("authorization", "Bearer secret")
///     .unwrap();
/// assert_eq!(config.endpoint(), "http://localhost:4318/v1/logs");
/// // Header values are never shown.
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ExportConfig {
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) batch: BatchLimits,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
}

impl fmt::Debug for ExportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are credentials: only their names are shown.
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExportConfig")
            .field("endpoint", &self.endpoint)
            .field("headers", &names)
            .field("ca_file", &self.ca_file)
            .field("batch", &self.batch)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// When a batch of records is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchLimits {
    /// A batch holding this many records is sent.
    pub max_records: usize,
    /// A batch whose records encode to about this many bytes (before gzip) is sent.
    pub max_bytes: usize,
    /// A batch is sent, at the next flush, once its first record waited
    /// this long (what keeps `--follow` near real time).
    pub max_delay: Duration,
}

impl Default for BatchLimits {
    /// 512 records, 1 MiB, 1 second.
    fn default() -> Self {
        BatchLimits { max_records: 512, max_bytes: 1 << 20, max_delay: Duration::from_secs(1) }
    }
}

/// How a batch is retried after a connection failure or a 429, 502, 503 or
/// 504 response.
///
/// The wait before retry `n` (from 0) is `initial_backoff · 2ⁿ`, at most
/// `max_backoff`, of which a random part up to half is taken off (jitter,
/// so that many shippers do not retry in step); a `Retry-After` header in
/// seconds replaces it (at most `max_backoff`). After `max_attempts`
/// attempts, or when the next wait would end later than `max_elapsed`
/// after the first attempt, the exporter gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The first wait.
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
    /// Attempts of one batch, the first included.
    pub max_attempts: u32,
    /// The longest time spent on one batch.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 0.5 s doubling up to 30 s, 8 attempts, 2 minutes.
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_attempts: 8,
            max_elapsed: Duration::from_secs(120),
        }
    }
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--otlp` without an endpoint in the environment.
    #[error("--otlp needs an endpoint: set OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, or give --otlp-endpoint")]
    NoEndpoint,
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("the OTLP endpoint `{0}` is not an http:// or https:// URL")]
    BadEndpoint(String),
    /// A header is not `KEY=VALUE`, or its name or value cannot be sent in HTTP.
    /// Only the name is kept: values are credentials.
    #[error("the OTLP header `{name}` is not valid: {reason}")]
    BadHeader {
        /// The header's name (or what stood before `=`).
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The certificate file cannot be read or holds no certificate.
    #[error("cannot use the CA file {}: {reason}", path.display())]
    Ca {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl ExportConfig {
    /// Logs sent to `endpoint` (the full URL, `/v1/logs` included), with
    /// the default batches and retries, no headers, the system's root
    /// certificates for `https://`.
    pub fn new(endpoint: impl Into<String>) -> ExportConfig {
        ExportConfig {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            ca_file: None,
            batch: BatchLimits::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(10),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Adds a header sent with every request (authentication, tenant).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Result<ExportConfig, ConfigError> {
        let (name, value) = (name.into(), value.into());
        check_header(&name, &value)?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// Trusts the certificates of this PEM file for `https://` instead of
    /// the system's (a private CA, a self-signed collector).
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> ExportConfig {
        self.ca_file = Some(path.as_ref().to_owned());
        self
    }

    /// Sets when batches are sent.
    pub fn batch(mut self, limits: BatchLimits) -> ExportConfig {
        self.batch = limits;
        self
    }

    /// Sets how failed requests are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> ExportConfig {
        self.retry = policy;
        self
    }

    /// Sets how long one request may take (connecting, sending, the response).
    pub fn request_timeout(mut self, timeout: Duration) -> ExportConfig {
        self.request_timeout = timeout;
        self
    }
}

/// Checks that a header can be sent, naming only the header in errors.
fn check_header(name: &str, value: &str) -> Result<(), ConfigError> {
    let bad = |reason| ConfigError::BadHeader { name: name.to_owned(), reason };
    if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(bad("not a valid header name"));
    }
    if ureq::http::HeaderValue::from_str(value).is_err() {
        return Err(bad("its value holds characters a header cannot"));
    }
    Ok(())
}

/// The logs endpoint the OpenTelemetry environment variables give, as the
/// specification says: `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` as it is, else
/// `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/logs` appended; empty values
/// count as unset.
///
/// ```
/// use lmlog_decode::otlp::endpoint_from_env;
/// assert_eq!(endpoint_from_env(Some("http://a:4318/custom"), Some("http://b:4318")).as_deref(), Some("http://a:4318/custom"));
/// assert_eq!(endpoint_from_env(None, Some("http://b:4318/")).as_deref(), Some("http://b:4318/v1/logs"));
/// assert_eq!(endpoint_from_env(None, None), None);
/// ```
pub fn endpoint_from_env(logs_endpoint: Option<&str>, endpoint: Option<&str>) -> Option<String> {
    match (logs_endpoint.filter(|s| !s.is_empty()), endpoint.filter(|s| !s.is_empty())) {
        (Some(logs), _) => Some(logs.to_owned()),
        (None, Some(base)) => Some(format!("{}{LOGS_PATH}", base.trim_end_matches('/'))),
        (None, None) => None,
    }
}

/// Reads `OTEL_EXPORTER_OTLP_HEADERS`-style text: `key=value` pairs
/// separated by commas, blanks around them ignored, values
/// percent-decoded (the W3C Baggage format the specification names).
///
/// ```
/// use lmlog_decode::otlp::parse_headers;
/// let headers = parse_headers("api-key=abc, authorization=Basic%20dXNlcg%3D%3D").unwrap();
/// assert_eq!(headers, [("api-key".to_owned(), "abc".to_owned()), ("authorization".to_owned(), "Basic dXNlcg==".to_owned())]);
/// ```
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut headers = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = split_header(pair)?;
        let value = percent_decode(value).ok_or_else(|| ConfigError::BadHeader {
            name: name.to_owned(),
            reason: "its value is not valid percent-encoded UTF-8",
        })?;
        check_header(name, &value)?;
        headers.push((name.to_owned(), value));
    }
    Ok(headers)
}

/// Splits `KEY=VALUE` (blanks around the key and the value ignored), as
/// `--otlp-header` takes it.
pub fn split_header(pair: &str) -> Result<(&str, &str), ConfigError> {
    match pair.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value.trim())),
        // Without `=`, what was given may be a bare secret: name nothing of it.
        _ => Err(ConfigError::BadHeader { name: String::new(), reason: "expected KEY=VALUE" }),
    }
}

/// Decodes `%XX` escapes; `None` if one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_bad_ones_are_refused() {
        assert_eq!(percent_decode("a%2Cb%3d").as_deref(), Some("a,b="));
        assert_eq!(percent_decode("%e2%82%ac").as_deref(), Some("€"));
        assert_eq!(percent_decode("50%"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn header_errors_never_hold_the_value() {
        let e = parse_headers("authorization=Bearer top%0Asecret").unwrap_err();
        assert!(e.to_string().contains("authorization"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = split_header("topsecret").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        let e = parse_headers("x-key=%zzsecret").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        assert_eq!(endpoint_from_env(Some(""), Some("http://b")).as_deref(), Some("http://b/v1/logs"));
        assert_eq!(endpoint_from_env(Some(""), Some("")), None);
        assert!(parse_headers(" , ").unwrap().is_empty());
    }
}
