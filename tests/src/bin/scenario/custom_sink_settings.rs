//! `lmlog-scenario custom-sink-settings`: calls `init` with a custom sink
//! and each file setting in turn, printing one line per attempt: the
//! setting and `init`'s error (`ok` if it started). Then starts a runtime
//! with the custom sink alone, and prints `plain: ok` if it ran.

use std::time::Duration;

use lmlog::{Config, InitError, WriteSink};

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let with_sink = || Config::new().sink(WriteSink(std::io::sink())).env_filter(false);
    let attempts = [
        ("rotate", with_sink().rotate(1 << 20, 4)),
        ("rotate_every", with_sink().rotate_every(Duration::from_secs(3600))),
        ("retain_max_files", with_sink().retain_max_files(3)),
        ("retain_max_age", with_sink().retain_max_age(Duration::from_secs(60))),
        ("retain_max_bytes", with_sink().retain_max_bytes(1 << 30)),
        ("truncate", with_sink().truncate(true)),
        ("file_mode", with_sink().file_mode(0o600)),
        // Set before the sink is chosen: refused all the same.
        ("rotate then sink", Config::new().rotate(1 << 20, 4).sink(WriteSink(std::io::sink()))),
    ];
    for (name, config) in attempts {
        match lmlog::init(config) {
            Ok(_guard) => println!("{name}: ok"),
            Err(e @ InitError::FileSettingWithCustomSink { setting }) => println!("{name}: refused {setting}: {e}"),
            Err(e) => println!("{name}: other error: {e}"),
        }
    }
    let _guard = lmlog::init(with_sink())?;
    println!("plain: ok");
    Ok(())
}
