//! `Config::from_file` in a real process: a TOML or JSON file configures
//! the runtime, the environment (`LMLOG`, `OTEL_SERVICE_NAME`) still
//! overrides it, and a bad file is an error naming the file and the key.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{decode_command, decode_lines, TempDir};

fn scenario(config: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"));
    command.args(["config-file", config.to_str().unwrap()]).env_remove("LMLOG").env_remove("OTEL_SERVICE_NAME");
    command.envs(env.iter().copied());
    command.output().unwrap()
}

/// The `n` of each event kept, and the session's `service.name`.
fn kept_and_service(log: &Path) -> (Vec<u64>, String) {
    let (lines, summary) = decode_lines(log);
    assert!(summary.is_clean());
    let kept = lines.iter().filter(|l| l["event_type"] == "level_event").map(|l| l["fields"]["n"].as_u64().unwrap());
    let otel = decode_command().args(["--format", "otel-json"]).arg(log).output().unwrap();
    assert!(otel.status.success());
    let first: Value = serde_json::from_slice(otel.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let resource = first["resourceLogs"][0]["resource"]["attributes"].as_array().unwrap().clone();
    let service = resource.iter().find(|a| a["key"] == "service.name").expect("service.name")["value"]["stringValue"]
        .as_str()
        .unwrap()
        .to_owned();
    (kept.collect(), service)
}

#[test]
fn a_toml_or_json_file_configures_the_runtime_and_the_environment_overrides_it() {
    let dir = TempDir::new("config-file");
    let log = dir.path().join("app.lmlog");
    let toml = dir.path().join("lmlog.toml");
    std::fs::write(
        &toml,
        format!(
            "output = {:?}\nfilter = \"warn\"\nflush_interval = \"20ms\"\nservice_name = \"from-file\"\nrotate = {{ max_bytes = \"1 MiB\", keep = 2 }}\n",
            log.to_str().unwrap()
        ),
    )
    .unwrap();
    let output = scenario(&toml, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(kept_and_service(&log), (vec![1, 2], "from-file".to_owned()));

    std::fs::remove_file(&log).unwrap();
    let output = scenario(&toml, &[("LMLOG", "debug"), ("OTEL_SERVICE_NAME", "from-env")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(kept_and_service(&log), (vec![1, 2, 3, 4], "from-env".to_owned()));

    // The same settings in JSON, with `env_filter` off: `LMLOG` no longer applies.
    std::fs::remove_file(&log).unwrap();
    let json = dir.path().join("lmlog.json");
    let settings = serde_json::json!({"output": log, "filter": "info", "env_filter": false, "service_name": "json"});
    std::fs::write(&json, settings.to_string()).unwrap();
    let output = scenario(&json, &[("LMLOG", "trace")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(kept_and_service(&log), (vec![1, 2, 3], "json".to_owned()));
}

#[test]
fn a_bad_file_is_one_error_naming_the_file_and_the_key() {
    let dir = TempDir::new("config-file-bad");
    let toml = dir.path().join("lmlog.toml");
    for (text, says) in [
        ("outptu = \"x.lmlog\"\n", "lmlog.toml: unknown key `outptu` (did you mean `output`?)"),
        ("output = \"x.lmlog\"\nflush_interval = \"often\"\n", "lmlog.toml: `flush_interval`: expected a duration"),
        ("output = [\n", "lmlog.toml: "),
    ] {
        std::fs::write(&toml, text).unwrap();
        let output = scenario(&toml, &[]);
        assert!(!output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(&format!("{}", dir.path().join(says).display())), "{text:?}: {stderr}");
        assert!(!dir.path().join("x.lmlog").exists(), "nothing is written when the file is refused");
    }
}
