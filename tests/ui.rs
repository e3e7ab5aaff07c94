//! The diagnostics `#[differentiable]` promises, checked with trybuild: every program in
//! `ui-tests/fail/` is rejected with exactly the errors in its `.stderr` (each spanned at the
//! user's tokens, naming the construct and ending with a fix), and every program in
//! `ui-tests/pass/` compiles, runs, and asserts its gradients. The catalogue of the errors is
//! `docs/errors.md`.
//!
//! Regenerate the expectations after changing a message with
//! `TRYBUILD=overwrite cargo test --test ui`, then read every changed `.stderr` as a user would.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui-tests/fail/*.rs");
    cases.pass("ui-tests/pass/*.rs");
}
