//! The `otel-metrics` feature end to end: an SDK meter provider with the
//! in-memory exporter is the global provider before `lmlog::init`; known
//! events go through the real writer; the exported counters and
//! histograms are checked value by value. A test binary of its own, so
//! `init` runs once in its process.

use std::collections::BTreeMap;

use lmlog::{lm_event, lm_operation, Config, LogEvent, Overflow};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

#[derive(LogEvent)]
#[lmlog(name = "request_done", level = "info")]
struct RequestDone<'a> {
    route: &'a str,
    #[lmlog(metric = "ms")]
    duration_ms: f64,
    status: u16,
}

#[derive(LogEvent)]
#[lmlog(name = "request_failed", level = "warn")]
struct RequestFailed<'a> {
    #[lmlog(redact)]
    token: &'a str,
    errors: Vec<&'a str>,
    #[lmlog(metric = "ms")]
    duration_ms: u32,
    #[lmlog(metric)]
    retries: i8,
}

#[derive(LogEvent)]
#[lmlog(name = "cache_probe", level = "debug")]
struct CacheProbe {
    key: u64,
}

/// An exported data point's attributes, sorted.
type Attributes = Vec<(String, String)>;
/// Attribute set → value of one exported sum.
type Points = BTreeMap<Attributes, u64>;
/// Attribute set → count, sum, min and max of one exported histogram.
type Distributions = BTreeMap<Attributes, (u64, f64, f64, f64)>;

fn attributes<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> Attributes {
    let mut out: Attributes = kvs.map(|kv| (kv.key.to_string(), kv.value.to_string())).collect();
    out.sort();
    out
}

fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    let mut out: Attributes = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.sort();
    out
}

/// The latest export's metric `name` of the `lmlog` scope.
fn metric<'a>(exports: &'a [ResourceMetrics], name: &str) -> &'a opentelemetry_sdk::metrics::data::Metric {
    let latest = exports.last().expect("an export");
    latest
        .scope_metrics()
        .filter(|scope| scope.scope().name() == "lmlog")
        .flat_map(|scope| scope.metrics())
        .find(|metric| metric.name() == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn sum(exports: &[ResourceMetrics], name: &str) -> Points {
    let metric = metric(exports, name);
    assert_eq!(metric.unit(), "{event}", "{name}");
    match metric.data() {
        AggregatedMetrics::U64(MetricData::Sum(sum)) => {
            assert!(sum.is_monotonic(), "{name} is a counter");
            sum.data_points().map(|p| (attributes(p.attributes()), p.value())).collect()
        }
        other => panic!("{name} is not a u64 sum: {other:?}"),
    }
}

/// (count, sum, min, max) of the histogram `name` per attribute set.
fn histogram(exports: &[ResourceMetrics], name: &str, unit: &str) -> Distributions {
    let metric = metric(exports, name);
    assert_eq!(metric.unit(), unit, "{name}");
    match metric.data() {
        AggregatedMetrics::F64(MetricData::Histogram(histogram)) => histogram
            .data_points()
            .map(|p| {
                let (min, max) = (p.min().expect("min"), p.max().expect("max"));
                (attributes(p.attributes()), (p.count(), p.sum(), min, max))
            })
            .collect(),
        other => panic!("{name} is not an f64 histogram: {other:?}"),
    }
}

#[test]
fn the_writer_records_counters_and_histograms_through_the_global_meter_provider() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(exporter.clone()).build()).build();
    opentelemetry::global::set_meter_provider(provider.clone());

    let dir = std::env::temp_dir().join(format!("lmlog-otel-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let guard = lmlog::init(
        Config::new()
            .output(dir.join("app.lmlog"))
            .filter("trace")
            .env_filter(false)
            .crash_recovery(false)
            .buffer_capacity(64 << 10)
            .overflow(Overflow::Drop),
    )
    .expect("init");

    for (route, duration_ms) in [("/a", 12.5), ("/b", 40.0), ("/a", 7.5)] {
        lm_event!(RequestDone { route, duration_ms, status: 200 });
    }
    {
        // Records with an extension block (the operation), and the
        // operation's own events.
        let _operation = lm_operation!("checkout");
        lm_event!(RequestDone { route: "/pay", duration_ms: 100.25, status: 201 });
    }
    for (duration_ms, retries) in [(250u32, 3i8), (1_000, -1)] {
        lm_event!(RequestFailed { token: "secret", errors: vec!["timeout", "reset"], duration_ms, retries });
    }
    for key in 0..5u64 {
        lm_event!(CacheProbe { key });
    }
    let probes = 2_000u32;
    for key in 0..probes {
        lm_event!(debug, "cache_lookup", sample: 0.25, key = key);
    }
    // Larger than the largest staging buffer: dropped and counted.
    let huge = "x".repeat(1 << 20);
    lm_event!(info, "blob", data = huge.as_str());
    lmlog::flush();
    let stats = lmlog::stats();
    provider.force_flush().expect("the provider exports");
    let exports = exporter.get_finished_metrics().expect("exports");

    let events = sum(&exports, "lmlog.events");
    let sampled_out = stats.sampled_out;
    assert!(sampled_out > 0 && sampled_out < u64::from(probes), "sampling turned some away: {stats:?}");
    let expected: Points = [
        (attrs(&[("event_type", "request_done"), ("level", "info")]), 4),
        (attrs(&[("event_type", "request_failed"), ("level", "warn")]), 2),
        (attrs(&[("event_type", "cache_probe"), ("level", "debug")]), 5),
        (attrs(&[("event_type", "cache_lookup"), ("level", "debug")]), u64::from(probes) - sampled_out),
        (attrs(&[("event_type", "operation_start"), ("level", "info")]), 1),
        (attrs(&[("event_type", "operation_end"), ("level", "info")]), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(events, expected);
    assert_eq!(events.values().sum::<u64>(), stats.written, "every written event is counted: {stats:?}");

    assert_eq!(
        sum(&exports, "lmlog.sampled_out"),
        [(attrs(&[("event_type", "cache_lookup"), ("level", "debug")]), sampled_out)].into_iter().collect()
    );
    assert_eq!(stats.dropped, 1, "{stats:?}");
    assert_eq!(sum(&exports, "lmlog.dropped"), [(Vec::new(), 1)].into_iter().collect());

    let durations = histogram(&exports, "lmlog.field.duration_ms", "ms");
    let expected = [
        (attrs(&[("event_type", "request_done")]), (4, 12.5 + 40.0 + 7.5 + 100.25, 7.5, 100.25)),
        (attrs(&[("event_type", "request_failed")]), (2, 1_250.0, 250.0, 1_000.0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(durations, expected);
    let retries = histogram(&exports, "lmlog.field.retries", "");
    assert_eq!(retries, [(attrs(&[("event_type", "request_failed")]), (2, 2.0, -1.0, 3.0))].into_iter().collect());

    // The log itself is unchanged by the feature: the same events decode.
    drop(guard);
    let mut decoded = Vec::new();
    lmlog_decode::decode_file(dir.join("app.lmlog"), &mut decoded).expect("decodes");
    let lines: Vec<serde_json::Value> =
        String::from_utf8(decoded).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of_type = |name: &str| lines.iter().filter(|l| l["event_type"] == name).count() as u64;
    assert_eq!(of_type("request_done"), 4);
    assert_eq!(of_type("cache_lookup"), u64::from(probes) - sampled_out);
    std::fs::remove_dir_all(&dir).unwrap();
}
