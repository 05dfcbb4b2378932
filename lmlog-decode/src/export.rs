//! `--otlp` and `--otlp-endpoint`: the events sent to an OpenTelemetry
//! Collector instead of printed (`lmlog_decode::otlp`), then the final
//! line with the counts.

use std::path::PathBuf;

use lmlog_decode::filter::Filter;
use lmlog_decode::otlp::{self, ConfigError, ExportConfig, OtlpExporter};

use crate::{Args, Fatal, Source};

/// The generic endpoint variable; the logs endpoint is it plus `/v1/logs`.
const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The logs endpoint variable, used as it is.
const LOGS_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// Headers for every signal, then for logs (which win for the same name).
const HEADER_VARS: [&str; 2] = ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"];

/// The export flags.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("export").args(["otlp", "otlp_endpoint"])))]
#[command(next_help_heading = "OTLP export (to an OpenTelemetry Collector; nothing is written to standard output)")]
pub struct ExportArgs {
    /// Send the events to the OTLP endpoint of the environment instead of printing them.
    ///
    /// The endpoint is `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` as it is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/logs`; with neither set it
    /// is an error (exit 2). The variables alone never switch export on.
    /// See `--otlp-endpoint` for what is sent. Example:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 lmlog-decode --otlp app.lmlog`.
    #[arg(long, conflicts_with_all = ["otlp_endpoint", "output", "format", "color", "resource"])]
    otlp: bool,
    /// Send the events to this OTLP/HTTP logs endpoint instead of printing them.
    ///
    /// URL is `http://HOST:4318` or `https://…`: `/v1/logs` is added
    /// unless the URL has a path. Events go as OTLP protobuf
    /// (gzip) in batches of up to 512 (or 1 MiB; with `--follow`, at least
    /// every second), retried with back-off on connection failures and 429,
    /// 502, 503, 504 (honouring `Retry-After`; up to 8 attempts or 2 minutes
    /// a batch); other refusals reject the batch. Standard output gets
    /// nothing; standard error ends with a line such as `sent 3000 events to
    /// URL (0 rejected, 2 retries)`. Exit status 1 if any event was
    /// rejected, 2 if the export gave up. Filters apply; `--follow` makes a
    /// shipper. Example: `lmlog-decode --otlp-endpoint http://localhost:4318 app.lmlog`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["output", "format", "color", "resource"])]
    otlp_endpoint: Option<String>,
    /// Send this header with every export request (repeatable).
    ///
    /// Added to (and for the same name, replacing) those of
    /// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_LOGS_HEADERS`
    /// (`k=v,k2=v2`, percent-encoded values). Values are never printed.
    /// Example: `lmlog-decode --otlp --otlp-header "authorization=Bearer $TOKEN" app.lmlog`.
    #[arg(long, value_name = "KEY=VALUE", requires = "export")]
    otlp_header: Vec<String>,
    /// Trust the CA certificates of this PEM file for an https:// endpoint, instead of the system's.
    ///
    /// Example: `lmlog-decode --otlp-endpoint https://collector:4318 --otlp-ca ca.pem app.lmlog`.
    #[arg(long, value_name = "FILE", requires = "export")]
    otlp_ca: Option<PathBuf>,
}

impl ExportArgs {
    /// The endpoint to export to, if export was asked for.
    pub fn endpoint(&self) -> Result<Option<String>, ConfigError> {
        if let Some(url) = &self.otlp_endpoint {
            return Ok(Some(with_logs_path(url)));
        }
        if !self.otlp {
            return Ok(None);
        }
        let var = |name| std::env::var(name).ok();
        otlp::endpoint_from_env(var(LOGS_ENDPOINT_VAR).as_deref(), var(ENDPOINT_VAR).as_deref())
            .map(Some)
            .ok_or(ConfigError::NoEndpoint)
    }

    /// The exporter's settings for `endpoint`: headers from the
    /// environment, then from the flags; the CA file.
    fn config(&self, endpoint: String) -> Result<ExportConfig, ConfigError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: String| {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value));
        };
        for var in HEADER_VARS {
            if let Ok(text) = std::env::var(var) {
                for (name, value) in otlp::parse_headers(&text)? {
                    add(&name, value);
                }
            }
        }
        for pair in &self.otlp_header {
            let (name, value) = otlp::split_header(pair)?;
            add(name, value.to_owned());
        }
        let mut config = ExportConfig::new(endpoint);
        for (name, value) in headers {
            config = config.header(name, value)?;
        }
        if let Some(ca) = &self.otlp_ca {
            config = config.ca_file(ca);
        }
        Ok(config)
    }
}

/// `url` with `/v1/logs` if it has no path (`http://host:4318` or
/// `http://host:4318/`), else as it is.
fn with_logs_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) if after_scheme[i..] != *"/" => url.to_owned(),
        _ => format!("{}{}", url.trim_end_matches('/'), otlp::LOGS_PATH),
    }
}

/// Decodes `source` into an exporter to `endpoint`, then prints the final
/// line. Returns whether the input was clean and every event accepted.
pub fn run(
    export: &ExportArgs,
    endpoint: String,
    filter: Filter,
    source: &Source<'_>,
    args: &Args,
) -> Result<bool, Fatal> {
    let mut exporter = OtlpExporter::new(export.config(endpoint)?)?;
    // Several applications' logs go one after the other, each with its
    // own resource: the collector orders by time.
    let decoded = crate::filtered(&mut exporter, filter, source, args);
    let report = exporter.finish();
    match (&report.gave_up, &decoded) {
        // Decoding stopped, if it had not ended, because of this.
        (Some(why), _) => eprintln!("lmlog-decode: {why}"),
        (None, Err(e)) => eprintln!("lmlog-decode: {e}"),
        (None, Ok(_)) => {}
    }
    eprintln!("lmlog-decode: {report}");
    match decoded {
        Ok(clean) if report.gave_up.is_none() => Ok(clean && report.is_complete()),
        _ => Err(Fatal::Reported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_path_gets_the_logs_path() {
        assert_eq!(with_logs_path("http://localhost:4318"), "http://localhost:4318/v1/logs");
        assert_eq!(with_logs_path("http://localhost:4318/"), "http://localhost:4318/v1/logs");
        assert_eq!(with_logs_path("https://c.example/otlp/v1/logs"), "https://c.example/otlp/v1/logs");
    }
}
