use lmlog::LogEvent;

#[derive(LogEvent)]
#[lmlog(name = "cache_miss", level = "verbose")]
struct CacheMiss {
    key: u64,
}

fn main() {}
