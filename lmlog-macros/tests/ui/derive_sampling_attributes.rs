use lmlog::LogEvent;

#[derive(LogEvent)]
#[lmlog(name = "a", sample = 0)]
struct A {
    key: u32,
}

#[derive(LogEvent)]
#[lmlog(name = "b", sample = 1.01)]
struct B {
    key: u32,
}

#[derive(LogEvent)]
#[lmlog(name = "c", rate_limit = 0)]
struct C {
    key: u32,
}

#[derive(LogEvent)]
#[lmlog(name = "d", rate_limit = 10, rate_limit = 20)]
struct D {
    key: u32,
}

fn main() {}
