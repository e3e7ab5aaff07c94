//! Central finite differences for the rule tests.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage};

use crate::Real;

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

// ----- matrices -------------------------------------------------------------------------------

/// A deterministic test matrix, different for each `seed`, with entries in (-2, 2) that are odd
/// multiples of 1/64: exactly representable in `f32`, so an `f32` rule sees the very inputs the
/// `f64` finite differences were taken at, and never 0, where `abs` and `norm` have no
/// derivative.
pub fn sample<R: Dim, C: Dim>(rows: R, cols: C, seed: usize) -> OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    OMatrix::from_fn_generic(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (((state >> 33) % 127) as f64 - 63.5) / 32.0
    })
}

/// The same matrix in precision `T`.
pub fn lift<T: Real, R: Dim, C: Dim>(m: &OMatrix<f64, R, C>) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    m.map(T::from_f64)
}

/// The gradient of a scalar function of a matrix at `x`, one central difference per element.
pub fn fd_gradient<R: Dim, C: Dim>(
    f: impl Fn(&OMatrix<f64, R, C>) -> f64,
    x: &OMatrix<f64, R, C>,
) -> OMatrix<f64, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = x.clone();
    for k in 0..x.len() {
        g[k] = central_difference(
            |t| {
                let mut moved = x.clone();
                moved[k] = t;
                f(&moved)
            },
            x[k],
        );
    }
    g
}

/// What a rule computed in precision `T` may differ from an `f64` finite difference by: the
/// difference's own error for `f64`, the rounding of a few dozen `f32` operations for `f32`.
pub fn tolerance<T: Real>() -> f64 {
    if T::EPSILON.to_f64() > 1e-10 {
        2e-5
    } else {
        1e-7
    }
}

/// A scalar rule in precision `T` against an `f64` finite difference.
#[track_caller]
pub fn assert_close_in<T: Real>(rule: T, fd: f64, what: &str) {
    let rule = rule.to_f64();
    assert!(
        rel_err(rule, fd) < tolerance::<T>(),
        "{what}: rule gives {rule}, finite differences {fd}"
    );
}

/// A matrix rule in precision `T` against `f64` finite differences, element by element.
#[track_caller]
pub fn assert_matrix_close<T, R, C, S>(
    rule: &Matrix<T, R, C, S>,
    fd: &OMatrix<f64, R, C>,
    what: &str,
) where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    assert_eq!(rule.shape(), fd.shape(), "{what}: shape");
    for (k, (&r, &f)) in rule.iter().zip(fd.iter()).enumerate() {
        let r = r.to_f64();
        assert!(
            rel_err(r, f) < tolerance::<T>(),
            "{what}: element {k}: rule gives {r}, finite differences {f}"
        );
    }
}
