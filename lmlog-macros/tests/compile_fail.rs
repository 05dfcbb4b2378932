//! Misuse of the macros is a compile error pointing at the offending tokens.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
