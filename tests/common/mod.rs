//! Shared helpers for the integration tests: central finite differences and ADBench's
//! relative-error measure.
//!
//! Each test binary includes this module with `mod common;` and uses only part of it.
#![allow(dead_code)]

/// ADBench's relative error: `|a - b| / max(1, |a| + |b|)`.
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

/// The step for a central difference at `x`: relative to `x`, but never so small that rounding
/// dominates near zero.
fn step(x: f64) -> f64 {
    1e-3 * x.abs().clamp(1e-2, 1.0)
}

/// Central finite difference of `f` at `x`, with one Richardson extrapolation step
/// (truncation error O(h^4)).
pub fn diff(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = step(x);
    let d = |h: f64| (f(x + h) - f(x - h)) / (2.0 * h);
    (4.0 * d(h / 2.0) - d(h)) / 3.0
}

/// Finite-difference gradient of `f` at `x`, one coordinate at a time.
pub fn grad<const N: usize>(f: impl Fn([f64; N]) -> f64, x: [f64; N]) -> [f64; N] {
    let mut g = [0.0; N];
    for (i, gi) in g.iter_mut().enumerate() {
        *gi = diff(
            |t| {
                let mut y = x;
                y[i] = t;
                f(y)
            },
            x[i],
        );
    }
    g
}

/// Asserts `rel_err(got, want) < tol`, naming what was compared.
#[track_caller]
pub fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
    let e = rel_err(got, want);
    assert!(
        e < tol,
        "{what}: got {got:e}, want {want:e} (relative error {e:e} >= {tol:e})"
    );
}

/// Asserts two gradients agree component-wise to `tol`.
#[track_caller]
pub fn assert_grad_close<const N: usize>(got: [f64; N], want: [f64; N], tol: f64, what: &str) {
    for i in 0..N {
        assert_close(got[i], want[i], tol, &format!("{what}, component {i}"));
    }
}

/// Tolerance for f64 gradients against finite differences.
pub const FD_TOL: f64 = 1e-6;
/// Tolerance for f64 gradients against hand-derived closed forms.
pub const EXACT_TOL: f64 = 1e-12;
/// Tolerance for `NAME_vjp(.., c)` against `c * NAME_grad(..)`: equal up to rounding.
pub const VJP_TOL: f64 = 1e-13;
/// Tolerance for f32 gradients against f64 references.
pub const F32_TOL: f64 = 1e-4;

/// Checks an f64 gradient against finite differences of `f` at `x`.
#[track_caller]
pub fn check_fd<const N: usize>(
    f: impl Fn([f64; N]) -> f64,
    x: [f64; N],
    got: [f64; N],
    what: &str,
) {
    let want = grad(f, x);
    assert_grad_close(
        got,
        want,
        FD_TOL,
        &format!("{what} at {x:?} vs finite differences"),
    );
}

/// Checks an f64 gradient against a closed form at `x`.
#[track_caller]
pub fn check_exact<const N: usize>(got: [f64; N], want: [f64; N], x: [f64; N], what: &str) {
    assert_grad_close(
        got,
        want,
        EXACT_TOL,
        &format!("{what} at {x:?} vs closed form"),
    );
}

/// Checks an f32 gradient against finite differences of the f64 version of the same function
/// (`f64_twin`), evaluated at the same (f32-representable) point.
#[track_caller]
pub fn check_f32<const N: usize>(
    f64_twin: impl Fn([f64; N]) -> f64,
    x: [f32; N],
    got: [f32; N],
    what: &str,
) {
    let want = grad(f64_twin, x.map(f64::from));
    assert_grad_close(
        got.map(f64::from),
        want,
        F32_TOL,
        &format!("{what} (f32) at {x:?} vs f64 finite differences"),
    );
}

/// Checks that a vector-Jacobian product with cotangent `c` is `c` times the gradient `g`.
#[track_caller]
pub fn check_vjp(vjp: f64, c: f64, g: f64, what: &str) {
    assert_close(
        vjp,
        c * g,
        VJP_TOL,
        &format!("{what}: vjp with cotangent {c}"),
    );
}

/// A point of six coordinates for functions of a slice.
pub const SIX_POINT: [f64; 6] = [0.7, -1.3, 0.4, 1.1, 0.9, -0.6];

/// Checks at [`SIX_POINT`] and at a second point that `grad` returns `f`'s value and a gradient
/// of the right length that agrees with central finite differences.
pub fn check_value_and_gradient(
    f: impl Fn(&[f64]) -> f64,
    grad: impl Fn(&[f64]) -> (f64, Vec<f64>),
    what: &str,
) {
    for w in [SIX_POINT, [1.5, 0.2, -0.8, 0.3, -1.1, 0.5]] {
        let (value, g) = grad(&w);
        assert_eq!(value, f(&w), "{what}: value");
        assert_eq!(g.len(), w.len(), "{what}: gradient length");
        nabla::check_gradient(&f, &w, &g).assert_below(1e-7);
    }
}
