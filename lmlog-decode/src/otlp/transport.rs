//! Sending one encoded request: gzip, HTTP POST over a pooled connection,
//! the response read, retries with back-off.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::config::{ConfigError, ExportConfig, RetryPolicy};

/// What became of one request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The collector took it; it says how many records it rejected (partial
    /// success) and why.
    Accepted { rejected: u64, message: Option<String> },
    /// The collector refused it with a status that retrying cannot change.
    Refused { status: u16 },
    /// Every attempt failed; the last failure.
    GaveUp { attempts: u32, last: String },
}

/// One attempt's failure.
struct Failure {
    /// What happened (never a header value).
    what: String,
    /// Whether a retry may cure it (a connection failure, 429, 502, 503,
    /// 504), unlike a certificate the endpoint's roots do not trust.
    transient: bool,
    /// The wait the collector asked for (`Retry-After`, in seconds).
    retry_after: Option<Duration>,
}

/// An HTTP client bound to one endpoint.
pub(crate) struct Transport {
    agent: ureq::Agent,
    endpoint: String,
    headers: Vec<(String, String)>,
    retry: RetryPolicy,
    /// State of the jitter's random numbers (xorshift).
    jitter: u64,
    /// Retries made, all requests together.
    pub retries: u64,
}

impl Transport {
    /// A client for `config`: checks the endpoint and loads the certificates.
    pub fn new(config: &ExportConfig) -> Result<Transport, ConfigError> {
        let endpoint = config.endpoint.trim();
        let is_https = endpoint.starts_with("https://");
        let valid = (is_https || endpoint.starts_with("http://")) && endpoint.parse::<ureq::http::Uri>().is_ok();
        if !valid {
            return Err(ConfigError::BadEndpoint(endpoint.to_owned()));
        }
        let roots = match &config.ca_file {
            Some(path) => {
                let ca_err = |reason: String| ConfigError::Ca { path: path.clone(), reason };
                let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
                let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| ca_err(e.to_string()))?;
                if certs.is_empty() {
                    return Err(ca_err("no PEM certificate in it".to_owned()));
                }
                RootCerts::Specific(Arc::new(certs))
            }
            None if is_https => system_roots(),
            // Plain HTTP: no certificate is ever read.
            None => RootCerts::WebPki,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.request_timeout))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .user_agent(concat!("lmlog-decode/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Ok(Transport {
            agent,
            endpoint: endpoint.to_owned(),
            headers: config.headers.clone(),
            retry: config.retry,
            jitter: (seed ^ u64::from(std::process::id()).rotate_left(32)) | 1,
            retries: 0,
        })
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends `body` (an encoded `ExportLogsServiceRequest`), gzipped,
    /// retrying as the policy says.
    pub fn send(&mut self, body: &[u8]) -> Outcome {
        let gzipped = gzip(body);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(&gzipped) {
                Ok(outcome) => return outcome,
                Err(failure) => failure,
            };
            let backoff = self.backoff(attempt - 1);
            let wait = failure.retry_after.map_or(backoff, |w| w.min(self.retry.max_backoff));
            let out_of_time = started.elapsed() + wait > self.retry.max_elapsed;
            if !failure.transient || attempt >= self.retry.max_attempts || out_of_time {
                return Outcome::GaveUp { attempts: attempt, last: failure.what };
            }
            std::thread::sleep(wait);
            self.retries += 1;
        }
    }

    /// One POST.
    fn attempt(&self, gzipped: &[u8]) -> Result<Outcome, Failure> {
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "gzip");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = match request.send(gzipped) {
            Ok(response) => response,
            // ureq's errors name the host, the I/O error, the TLS alert:
            // never a header.
            Err(e) => {
                let transient = match &e {
                    // rustls reports a certificate or handshake failure as invalid data.
                    ureq::Error::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
                    ureq::Error::Timeout(_)
                    | ureq::Error::HostNotFound
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::Protocol(_) => true,
                    _ => false,
                };
                return Err(Failure { what: e.to_string(), transient, retry_after: None });
            }
        };
        let status = response.status().as_u16();
        // Read whatever the status, so that the connection can be used again.
        let body = response.body_mut().with_config().limit(1 << 20).read_to_vec().unwrap_or_default();
        match status {
            200..=299 => {
                // A body that does not decode (or an empty one) is a full success.
                let partial = ExportLogsServiceResponse::decode(body.as_slice()).ok().and_then(|r| r.partial_success);
                Ok(match partial {
                    Some(p) => Outcome::Accepted {
                        rejected: u64::try_from(p.rejected_log_records).unwrap_or(0),
                        message: Some(p.error_message).filter(|m| !m.is_empty()),
                    },
                    None => Outcome::Accepted { rejected: 0, message: None },
                })
            }
            429 | 502 | 503 | 504 => {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Err(Failure { what: format!("HTTP status {status}"), transient: true, retry_after })
            }
            _ => Ok(Outcome::Refused { status }),
        }
    }

    /// The wait before retry `n` (from 0): exponential, with jitter.
    fn backoff(&mut self, n: u32) -> Duration {
        let full = self.retry.initial_backoff.saturating_mul(1 << n.min(20)).min(self.retry.max_backoff);
        // xorshift64: enough randomness to keep shippers out of step.
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let fraction = (self.jitter >> 11) as f64 / (1u64 << 53) as f64;
        full.mul_f64(1.0 - fraction / 2.0)
    }
}

/// The system's root certificates (`rustls-native-certs`: the platform's
/// store, or `SSL_CERT_FILE` / `SSL_CERT_DIR`); the bundled Mozilla roots
/// if none can be read.
fn system_roots() -> RootCerts {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<Certificate<'static>> =
        found.certs.iter().map(|der| Certificate::from_der(der).to_owned()).collect();
    if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::Specific(Arc::new(certs))
    }
}

/// `body` gzipped.
fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4 + 64), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_at_most_half_taken_off() {
        let config = ExportConfig::new("http://127.0.0.1:1/v1/logs");
        let mut t = Transport::new(&config).unwrap();
        for n in 0..12 {
            let full = Duration::from_millis(500).saturating_mul(1 << n).min(Duration::from_secs(30));
            let wait = t.backoff(n);
            assert!(wait <= full && wait >= full / 2, "retry {n}: {wait:?} against {full:?}");
        }
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let body = b"lmlog".repeat(100);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gzip(&body).as_slice()).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        for bad in ["localhost:4318", "ftp://x/v1/logs", "http://bad host/"] {
            assert!(matches!(Transport::new(&ExportConfig::new(bad)), Err(ConfigError::BadEndpoint(_))), "{bad}");
        }
    }
}
