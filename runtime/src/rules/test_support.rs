//! Central finite differences for the rule tests.

/// Relative error as ADBench measures it: |a - b| / max(1, |a| + |b|).
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// d/dx f at x by a fourth-order central difference.
pub fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-3 * x.abs().max(1e-2);
    (-f(x + 2.0 * h) + 8.0 * f(x + h) - 8.0 * f(x - h) + f(x - 2.0 * h)) / (12.0 * h)
}

#[track_caller]
pub fn assert_close(rule: f64, fd: f64, what: &str) {
    assert!(
        rel_err(rule, fd) < 1e-7,
        "{what}: rule gives {rule}, finite differences {fd}"
    );
}
