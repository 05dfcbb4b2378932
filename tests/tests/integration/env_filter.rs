//! The `LMLOG` filter in a real process: `EnvFilter`'s target and level
//! directives are honoured, the ones it cannot honour are refused, and a
//! refused `LMLOG` leaves the filter given in code in force, says so once on
//! stderr and in the log, and never stops the application.

use std::process::Command;

use crate::support::{decode_lines, TempDir};

const SCOPE: &str = "lmlog_scenario::env_filter";

/// Runs the scenario with `LMLOG` set to `lmlog` (or unset): the `site` of
/// every `*_event` kept, the `lmlog.config_warning` events' fields, and the
/// scenario's stderr.
fn run(lmlog: Option<&str>) -> (Vec<String>, Vec<serde_json::Value>, String) {
    let dir = TempDir::new("env-filter");
    let path = dir.path().join("app.lmlog");
    let mut command = Command::new(env!("CARGO_BIN_EXE_lmlog-scenario"));
    command.args(["env-filter", path.to_str().unwrap()]);
    match lmlog {
        Some(value) => command.env("LMLOG", value),
        None => command.env_remove("LMLOG"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{}: {stderr}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("code filter refused: invalid filter directive `app[checkout]=debug`"), "{stdout}");
    let (lines, summary) = decode_lines(&path);
    assert!(summary.is_clean());
    let sites = lines
        .iter()
        .filter_map(|l| match l["event_type"].as_str().unwrap() {
            "performance_issue" => l["fields"]["operation"].as_str(),
            t if t.ends_with("_event") => l["fields"]["site"].as_str(),
            _ => None,
        })
        .map(str::to_string)
        .collect();
    let warnings = lines.iter().filter(|l| l["event_type"] == "lmlog.config_warning").cloned().collect();
    (sites, warnings, stderr)
}

fn sites(expected: &str) -> Vec<String> {
    expected.split_whitespace().map(str::to_string).collect()
}

#[test]
fn without_lmlog_the_filter_given_in_code_applies() {
    let (kept, warnings, stderr) = run(None);
    assert_eq!(kept, sites("app.error app.warn app.slow db.error db.warn db.info db.debug hyper.error hyper.warn"));
    assert!(warnings.is_empty());
    assert!(!stderr.contains("lmlog:"), "{stderr}");
}

#[test]
fn lmlog_takes_env_filter_target_and_level_directives() {
    let (kept, warnings, _) = run(Some(&format!("INFO,{SCOPE}::hyper=1,{SCOPE}::app::db=off")));
    assert_eq!(kept, sites("app.error app.warn app.info app.slow app.fast hyper.error"));
    assert!(warnings.is_empty());
    // A bare target is every level of it; targets not named, nothing.
    let (kept, _, _) = run(Some(&format!("{SCOPE}::hyper")));
    assert_eq!(kept, sites("hyper.error hyper.warn hyper.info hyper.debug hyper.trace"));
    let (kept, _, _) = run(Some("off"));
    assert!(kept.is_empty(), "{kept:?}");
}

#[test]
fn a_bad_lmlog_keeps_the_code_filter_warns_once_and_is_recorded() {
    for (value, directive, says) in [
        ("app[checkout]=debug", "app[checkout]=debug", "span and field filters"),
        ("info,app::.*=debug", "app::.*=debug", "patterns are not supported"),
        ("info,app=loud", "app=loud", "level must be one of"),
    ] {
        let (kept, warnings, stderr) = run(Some(value));
        assert_eq!(
            kept,
            sites("app.error app.warn app.slow db.error db.warn db.info db.debug hyper.error hyper.warn"),
            "{value}"
        );
        let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("lmlog:")).collect();
        assert_eq!(said.len(), 1, "{value}: {stderr}");
        assert!(said[0].contains(&format!("ignoring LMLOG=\"{value}\"")), "{}", said[0]);
        assert!(said[0].contains(&format!("`{directive}`")) && said[0].contains(says), "{}", said[0]);
        assert_eq!(warnings.len(), 1, "{value}");
        let warning = &warnings[0];
        assert_eq!(warning["level"], "warn");
        assert_eq!(warning["fields"]["setting"], "LMLOG");
        assert_eq!(warning["fields"]["value"], value);
        let error = warning["fields"]["error"].as_str().unwrap();
        assert!(error.contains(&format!("`{directive}`")) && error.contains(says), "{error}");
        assert!(warning["message"].as_str().unwrap().starts_with(&format!("ignored LMLOG={value}: ")), "{warning}");
    }
}
