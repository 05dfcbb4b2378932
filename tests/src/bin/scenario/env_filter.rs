//! `lmlog-scenario env-filter FILE`: the filter given in code is
//! `lmlog_scenario::env_filter=warn,lmlog_scenario::env_filter::app::db=debug`
//! (nothing else, so not `lmlog`'s own modules either), and `LMLOG` (set by the test, or not)
//! may override it. One event per level from each of `app`,
//! `app::db` and `hyper` (under `lmlog_scenario::env_filter`), each with `site` naming
//! where it comes from (`app.info`, `db.debug`, ...); and from `app` a
//! `PerformanceIssue` over its threshold (`app.slow`, warn) and one within
//! it (`app.fast`, info).
//!
//! Before the real `init`, it checks that a bad filter given in code is an
//! `init` error (whatever `LMLOG` says), and prints `code filter refused`.

use std::path::Path;

mod app {
    use lmlog::events::PerformanceIssue;
    use lmlog::lm_event;

    pub fn run() {
        lm_event!(error, "app_event", site = "app.error");
        lm_event!(warn, "app_event", site = "app.warn");
        lm_event!(info, "app_event", site = "app.info");
        lm_event!(debug, "app_event", site = "app.debug");
        lm_event!(trace, "app_event", site = "app.trace");
        // One event type, warn over the threshold and info within it.
        lm_event!(PerformanceIssue { operation: "app.slow", duration_ms: 50.0, threshold_ms: 10.0 });
        lm_event!(PerformanceIssue { operation: "app.fast", duration_ms: 1.0, threshold_ms: 10.0 });
        db::run();
    }

    pub mod db {
        use lmlog::lm_event;

        pub fn run() {
            lm_event!(error, "db_event", site = "db.error");
            lm_event!(warn, "db_event", site = "db.warn");
            lm_event!(info, "db_event", site = "db.info");
            lm_event!(debug, "db_event", site = "db.debug");
            lm_event!(trace, "db_event", site = "db.trace");
        }
    }
}

mod hyper {
    use lmlog::lm_event;

    pub fn run() {
        lm_event!(error, "hyper_event", site = "hyper.error");
        lm_event!(warn, "hyper_event", site = "hyper.warn");
        lm_event!(info, "hyper_event", site = "hyper.info");
        lm_event!(debug, "hyper_event", site = "hyper.debug");
        lm_event!(trace, "hyper_event", site = "hyper.trace");
    }
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    match lmlog::init(lmlog::Config::new().output(path).filter("app[checkout]=debug")) {
        Err(lmlog::InitError::Filter(error)) => println!("code filter refused: {error}"),
        other => return Err(format!("a bad filter in code must be an init error, not {other:?}").into()),
    }
    let _guard = lmlog::init(
        lmlog::Config::new()
            .output(path)
            .filter("lmlog_scenario::env_filter=warn,lmlog_scenario::env_filter::app::db=debug"),
    )?;
    app::run();
    hyper::run();
    Ok(())
}
