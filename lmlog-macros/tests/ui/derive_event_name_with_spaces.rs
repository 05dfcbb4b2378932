use lmlog::LogEvent;

#[derive(LogEvent)]
#[lmlog(name = "order done")]
struct OrderDone {
    id: u64,
}

fn main() {}
