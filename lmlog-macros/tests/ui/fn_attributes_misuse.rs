// Misuse of the function attributes: each is one error at the offending
// token, saying what the attribute takes.

#[lmlog::capture_errors]
fn returns_nothing() {}

#[lmlog::capture_errors]
fn returns_a_number() -> u32 {
    1
}

#[lmlog::capture_errors(verbose)]
fn with_arguments() -> Result<(), std::io::Error> {
    Ok(())
}

#[lmlog::log_performance]
fn without_threshold() {}

#[lmlog::log_performance(threshold_ms = "fast")]
fn threshold_not_a_number() {}

#[lmlog::log_performance(threshold_ms = 100, sample)]
fn unknown_performance_option() {}

#[lmlog::log_calls(include_everything)]
fn unknown_calls_option() {}

#[lmlog::log_calls(level = "loud")]
fn unknown_level() {}

#[lmlog::log_calls(include_args)]
fn pattern_argument((x, y): (u32, u32)) -> u32 {
    x + y
}

#[lmlog::log_calls]
const fn constant() -> u32 {
    1
}

#[lmlog::log_calls]
struct NotAFunction;

fn main() {}
