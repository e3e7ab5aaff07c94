//! Helpers shared by the primitive tests.

use crate::gradcheck::check_gradient;

/// The points every scalar rule is checked at: negative, near zero, moderate and large.
pub const POINTS: [f64; 14] = [
    -1e4, -700.0, -40.0, -3.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 2.0, 20.0, 40.0, 700.0, 1e4,
];

/// The ADBench relative error, |a - b| / max(1, |a| + |b|).
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// Asserts that `value` equals the high-precision `reference` to a few ulps, relatively.
#[track_caller]
pub fn assert_ulps(value: f64, reference: f64, what: &str) {
    assert!(
        (value - reference).abs() <= 4.0 * f64::EPSILON * reference.abs(),
        "{what}: {value:e}, reference {reference:e}"
    );
}

/// Asserts that `gradient` matches finite differences of `f` at `x` (relative error < 1e-6).
#[track_caller]
pub fn assert_matches_fd(what: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], gradient: &[f64]) {
    let report = check_gradient(f, x, gradient);
    assert!(report.passes(1e-6), "{what} at {x:?}: {report}");
}
