//! The resource a process records (detected, from `OTEL_*` variables and
//! the configuration) as `lmlog-decode --resource` and the OpenTelemetry
//! output show it, for one file and for two processes' files decoded
//! together.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{decode_command, TempDir};

/// Runs the `config-file` scenario configured to write `log` as `service`,
/// with these variables.
fn write_log(dir: &Path, log: &Path, service: &str, env: &[(&str, &str)]) {
    let config = dir.join(format!("{service}.toml"));
    let toml = format!(
        "output = {:?}\nservice_name = {service:?}\nservice_version = \"1.4.0\"\nresource = {{ \"deployment.environment\" = \"prod\" }}\n",
        log.to_str().unwrap()
    );
    std::fs::write(&config, toml).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"));
    command.args(["config-file", config.to_str().unwrap()]);
    for var in ["OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "K8S_POD_NAME", "POD_NAME", "KUBERNETES_SERVICE_HOST"]
    {
        command.env_remove(var);
    }
    let output = command.envs(env.iter().copied()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn decode(args: &[&str], files: &[&Path]) -> Vec<Value> {
    let output = decode_command().args(args).args(files).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn every_line_carries_the_resource_of_the_process_that_wrote_it() {
    let dir = TempDir::new("resource");
    let (a, b) = (dir.path().join("a.lmlog"), dir.path().join("b.lmlog"));
    // The variables override the file's `service_name`; the file's
    // `resource` overrides the variables' attributes.
    let attributes = ("OTEL_RESOURCE_ATTRIBUTES", "team=pay%2Cments,deployment.environment=dev,service.name=checkout");
    write_log(dir.path(), &a, "from-file", &[attributes, ("K8S_POD_NAME", "checkout-7d9f")]);
    write_log(dir.path(), &b, "billing", &[]);

    let lines = decode(&["--resource"], &[&a]);
    assert_eq!(lines.len(), 5);
    let resource = &lines[0]["resource"];
    assert!(lines.iter().all(|l| &l["resource"] == resource), "the same resource on every line");
    for (key, value) in [
        ("service.name", json!("checkout")),
        ("service.version", json!("1.4.0")),
        ("deployment.environment", json!("prod")),
        ("team", json!("pay,ments")),
        ("k8s.pod.name", json!("checkout-7d9f")),
        ("telemetry.sdk.name", json!("lmlog")),
        ("telemetry.sdk.language", json!("rust")),
        ("process.executable.name", json!("lmlog-scenario")),
    ] {
        assert_eq!(resource[key], value, "{key} in {resource}");
    }
    for key in ["host.name", "host.arch", "os.type", "os.version", "telemetry.sdk.version", "service.instance.id"] {
        assert!(resource[key].as_str().is_some_and(|v| !v.is_empty()), "{key} in {resource}");
    }
    assert!(resource["process.pid"].as_u64().is_some_and(|pid| pid > 0));
    // Without the flag, no resource.
    assert!(decode(&[], &[&a]).iter().all(|l| l.get("resource").is_none()));

    // Two processes' logs together: each line names its own.
    let both = decode(&["--resource"], &[&a, &b]);
    assert_eq!(both.len(), 10);
    let services: Vec<&str> = both.iter().map(|l| l["resource"]["service.name"].as_str().unwrap()).collect();
    assert_eq!(services.iter().filter(|s| **s == "checkout").count(), 5, "{services:?}");
    assert_eq!(services.iter().filter(|s| **s == "billing").count(), 5, "{services:?}");
    let billing = both.iter().find(|l| l["resource"]["service.name"] == "billing").unwrap();
    assert_ne!(billing["resource"]["process.pid"], resource["process.pid"]);
    assert_ne!(billing["resource"]["service.instance.id"], resource["service.instance.id"]);
    assert!(billing["resource"].get("team").is_none());

    // The OpenTelemetry output has the same resource.
    let otel = decode(&["--format", "otel-json"], &[&a]);
    let attrs = otel[0]["resourceLogs"][0]["resource"]["attributes"].as_array().unwrap();
    let otel_keys: Vec<&str> = attrs.iter().map(|a| a["key"].as_str().unwrap()).collect();
    let jsonl_keys: Vec<&str> = resource.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = otel_keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, jsonl_keys, "serde_json's map sorts its keys");

    let refused = decode_command().args(["--resource", "--format", "pretty"]).arg(&a).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resource"));
}
