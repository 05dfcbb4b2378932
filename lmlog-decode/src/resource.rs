//! The OpenTelemetry resource of a session: one mapping from the session
//! frame to attributes, for every output that shows it (`--resource` in
//! JSON Lines, the resource of the OpenTelemetry outputs).

use lmlog_format::schema::SessionInfo;

/// A resource attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceValue<'a> {
    /// Text.
    Str(&'a str),
    /// An integer (`process.pid`).
    Int(i64),
}

/// The resource attributes of `session`, in a stable order: `service.name`,
/// `host.name`, `process.pid`, `process.executable.name` and `.path` from
/// the session's own fields, then its resource pairs (what the writer
/// detected and was configured with: `service.version`,
/// `service.instance.id`, `host.arch`, `os.*`, `telemetry.sdk.*`, `k8s.*`,
/// ...), each key once.
///
/// ```
/// use lmlog_decode::{resource_attributes, ResourceValue};
/// use lmlog_format::schema::{ClockAnchor, ClockInfo, ClockSource, SessionInfo};
/// # let clock = ClockInfo { source: ClockSource::MonotonicNanos, ticks_per_second: 1e9, anchor: ClockAnchor { ticks: 0, unix_nanos: 0 } };
/// let session = SessionInfo {
///     writer_version: "0.1.0".into(), clock, pid: 42, executable: None,
///     hostname: Some("web-1".into()), service_name: Some("checkout".into()),
///     resource: vec![("service.version".into(), "1.4.0".into())], file_index: 0,
/// };
/// let attributes = resource_attributes(&session);
/// assert_eq!(attributes[0], ("service.name", ResourceValue::Str("checkout")));
/// assert!(attributes.contains(&("process.pid", ResourceValue::Int(42))));
/// assert!(attributes.contains(&("service.version", ResourceValue::Str("1.4.0"))));
/// ```
pub fn resource_attributes(session: &SessionInfo) -> Vec<(&str, ResourceValue<'_>)> {
    let mut attributes = Vec::with_capacity(5 + session.resource.len());
    if let Some(name) = &session.service_name {
        attributes.push(("service.name", ResourceValue::Str(name)));
    }
    if let Some(host) = &session.hostname {
        attributes.push(("host.name", ResourceValue::Str(host)));
    }
    attributes.push(("process.pid", ResourceValue::Int(i64::from(session.pid))));
    if let Some(path) = &session.executable {
        let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path);
        attributes.push(("process.executable.name", ResourceValue::Str(name)));
        attributes.push(("process.executable.path", ResourceValue::Str(path)));
    }
    for (key, value) in &session.resource {
        if !attributes.iter().any(|(k, _)| k == key) {
            attributes.push((key.as_str(), ResourceValue::Str(value)));
        }
    }
    attributes
}

/// Writes `,"resource":{...}` with `attributes` in their order: the
/// resource key of the JSON Lines shapes.
pub(crate) fn write_resource_key(out: &mut Vec<u8>, attributes: Vec<(&str, ResourceValue<'_>)>) {
    out.extend_from_slice(b",\"resource\":{");
    for (i, (key, value)) in attributes.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::json::write_str(out, key);
        out.push(b':');
        match value {
            ResourceValue::Str(v) => crate::json::write_str(out, v),
            ResourceValue::Int(v) => crate::json::write_int(out, v),
        }
    }
    out.push(b'}');
}
