//! The OpenTelemetry resource of this process: who wrote the log.
//!
//! Detected once, in `init`, and written into every file's session frame:
//! `service.name` and the host name and pid have fields of their own there;
//! every other attribute is one of the session's resource pairs (FORMAT.md,
//! "Session"). Precedence, lowest first: what is detected, then
//! `OTEL_RESOURCE_ATTRIBUTES`, then [`Config::resource`](crate::Config::resource)
//! and the `Config::service_*` settings; `service.name` comes from
//! `Config::service_name`, else `OTEL_SERVICE_NAME`, else
//! `OTEL_RESOURCE_ATTRIBUTES` (a name from a configuration file yields to
//! the variables).

/// The resource attributes besides `service.name`, host name and pid, and
/// the service name, from the configuration and the environment.
pub(crate) struct Resource {
    pub service_name: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// What the configuration says of the resource.
pub(crate) struct Configured {
    pub service_name: Option<String>,
    /// Whether `OTEL_SERVICE_NAME` wins over `service_name` (a file set it).
    pub env_overrides_service_name: bool,
    pub service_version: Option<String>,
    pub service_instance_id: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// The keys the session frame has fields for: never duplicated as pairs.
const IN_SESSION_FIELDS: [&str; 4] = ["service.name", "host.name", "process.pid", "process.executable.path"];

/// Detects the resource, reading the environment through `var`.
pub(crate) fn detect(configured: Configured, var: &dyn Fn(&str) -> Option<String>) -> Resource {
    let mut attributes: Vec<(String, String)> = Vec::new();
    let mut set = |key: &str, value: String| {
        if IN_SESSION_FIELDS.contains(&key) || value.is_empty() {
            return;
        }
        match attributes.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => attributes.push((key.to_owned(), value)),
        }
    };
    set("service.instance.id", random_instance_id());
    set("host.arch", host_arch().to_owned());
    set("os.type", os_type().to_owned());
    if let Some(version) = os_version() {
        set("os.version", version);
    }
    set("telemetry.sdk.name", "lmlog".to_owned());
    set("telemetry.sdk.language", "rust".to_owned());
    set("telemetry.sdk.version", env!("CARGO_PKG_VERSION").to_owned());
    if let Some(pod) = var("K8S_POD_NAME").or_else(|| var("POD_NAME")).or_else(|| {
        // In a pod (the API server's address is set), the host name is the pod's name.
        var("KUBERNETES_SERVICE_HOST").and_then(|_| var("HOSTNAME"))
    }) {
        set("k8s.pod.name", pod);
    }
    if let Some(namespace) = var("K8S_NAMESPACE").or_else(|| var("POD_NAMESPACE")).or_else(|| {
        std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            .ok()
            .map(|n| n.trim().to_owned())
    }) {
        set("k8s.namespace.name", namespace);
    }
    let mut env_service_name = None;
    for (key, value) in var("OTEL_RESOURCE_ATTRIBUTES").as_deref().map(parse_resource_attributes).unwrap_or_default() {
        if key == "service.name" {
            env_service_name = Some(value);
        } else {
            set(&key, value);
        }
    }
    if let Some(version) = configured.service_version {
        set("service.version", version);
    }
    if let Some(id) = configured.service_instance_id {
        set("service.instance.id", id);
    }
    for (key, value) in configured.attributes {
        set(&key, value);
    }
    let env_name = || var("OTEL_SERVICE_NAME").filter(|n| !n.is_empty()).or(env_service_name.clone());
    let service_name = match configured.service_name {
        Some(name) if configured.env_overrides_service_name => env_name().or(Some(name)),
        Some(name) => Some(name),
        None => env_name(),
    };
    Resource { service_name, attributes }
}

/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, the
/// values percent-encoded (the OpenTelemetry specification); a pair without
/// `=` is skipped, as the specification allows.
fn parse_resource_attributes(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), percent_decode(value.trim())))
        .filter(|(key, _)| !key.is_empty())
        .collect()
}

/// Undoes `%XX` escapes; a malformed escape stays as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A random UUID (version 4) naming this run of the service, as the
/// specification recommends for `service.instance.id`.
fn random_instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // `RandomState` is seeded from the operating system's randomness.
    let word = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    let bits = (u128::from(word()) << 64 | u128::from(word())) & !(0xf000 << 64) & !(0xc000 << 48);
    let bits = bits | 0x4000 << 64 | 0x8000 << 48;
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `host.arch` in the specification's words.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// `os.type` in the specification's words.
fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" | "ios" => "darwin",
        other => other,
    }
}

/// The kernel release, where the system says it without a system call.
fn os_version() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured() -> Configured {
        Configured {
            service_name: None,
            env_overrides_service_name: false,
            service_version: None,
            service_instance_id: None,
            attributes: Vec::new(),
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn get<'a>(resource: &'a Resource, key: &str) -> Option<&'a str> {
        resource.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn detects_the_process_and_its_sdk() {
        let resource = detect(configured(), &env(&[]));
        assert_eq!(get(&resource, "telemetry.sdk.name"), Some("lmlog"));
        assert_eq!(get(&resource, "telemetry.sdk.language"), Some("rust"));
        assert_eq!(get(&resource, "telemetry.sdk.version"), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(get(&resource, "host.arch"), Some(host_arch()));
        assert_eq!(get(&resource, "os.type"), Some(os_type()));
        let id = get(&resource, "service.instance.id").unwrap();
        assert_eq!((id.len(), &id[14..15], id.matches('-').count()), (36, "4", 4), "{id}");
        assert!("89ab".contains(&id[19..20]), "{id}");
        assert_ne!(Some(id), get(&detect(configured(), &env(&[])), "service.instance.id"));
        assert_eq!(get(&resource, "k8s.pod.name"), None);
        assert_eq!(resource.service_name, None);
    }

    #[test]
    fn the_environment_then_the_configuration_take_precedence() {
        let vars = [
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs, deployment.environment=prod,team=a%2Cb,bad,os.type=plan9",
            ),
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("HOSTNAME", "checkout-7d9f-abcde"),
            ("POD_NAMESPACE", "shop"),
        ];
        let resource = detect(configured(), &env(&vars));
        assert_eq!(resource.service_name.as_deref(), Some("from-attrs"));
        assert_eq!(get(&resource, "deployment.environment"), Some("prod"));
        assert_eq!(get(&resource, "team"), Some("a,b"));
        assert_eq!(get(&resource, "os.type"), Some("plan9"));
        assert_eq!(get(&resource, "k8s.pod.name"), Some("checkout-7d9f-abcde"));
        assert_eq!(get(&resource, "k8s.namespace.name"), Some("shop"));
        assert!(resource.attributes.iter().all(|(k, _)| k != "service.name"));

        let with_env_name = [("OTEL_SERVICE_NAME", "from-env"), vars[0]];
        let in_code = Configured {
            service_name: Some("in-code".into()),
            service_version: Some("1.2.3".into()),
            service_instance_id: Some("replica-1".into()),
            attributes: vec![("deployment.environment".into(), "staging".into())],
            ..configured()
        };
        let resource = detect(in_code, &env(&with_env_name));
        assert_eq!(resource.service_name.as_deref(), Some("in-code"));
        assert_eq!(get(&resource, "service.version"), Some("1.2.3"));
        assert_eq!(get(&resource, "service.instance.id"), Some("replica-1"));
        assert_eq!(get(&resource, "deployment.environment"), Some("staging"));
        let from_file =
            Configured { service_name: Some("file".into()), env_overrides_service_name: true, ..configured() };
        assert_eq!(detect(from_file, &env(&with_env_name)).service_name.as_deref(), Some("from-env"));
    }

    #[test]
    fn percent_escapes_decode_and_malformed_ones_stay() {
        assert_eq!(percent_decode("a%20b%2c%zz%4"), "a b,%zz%4");
    }
}
