//! Random-program differential test: generated `#[differentiable]` programs (straight-line code,
//! float methods, compound assignment, branches on values that carry gradient, loops with
//! carried accumulators, local buffers, calls), each `NAME_grad` against central finite
//! differences at a few points where the program is smooth (relative error
//! `|a-b|/max(1,|a|+|b|) < 1e-6`).
//!
//! The programs are in `random_programs/corpus.rs`, written by the generator in `tests/progen`;
//! its header gives the command and seed that regenerate it.

#[path = "random_programs/check.rs"]
mod check;
mod common;
// Generated: kept exactly as the generator writes it, so that regenerating it reproduces it.
#[rustfmt::skip]
#[path = "random_programs/corpus.rs"]
mod corpus;

#[test]
fn generated_programs_match_finite_differences() {
    let report = check::run(corpus::CASES);
    println!("{report}");
    assert!(report.failures.is_empty(), "{report}");
}
