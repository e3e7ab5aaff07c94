//! Reductions over vectors: `log_sum_exp` and `softmax`.
//!
//! Both rest on the shift identity `Σ e^xᵢ = e^m · Σ e^(xᵢ - m)`: with `m = max xᵢ` every
//! exponent is `≤ 0`, so no term overflows, and the largest term is exactly 1, so the sum lies in
//! `[1, n]` and neither underflows nor divides by zero. The naive forms overflow to `inf` once an
//! entry passes ≈ 709 (`f64`) or ≈ 88 (`f32`), and give `0/0 = NaN` or `ln 0 = -inf` once all
//! entries are below ≈ -745.

use super::RealVector;
use crate::Real;

/// The shift `m` of the max trick: the largest entry, or 0 when that is not finite.
///
/// With no entries, or all of them `-inf`, the sum of `e^(xᵢ - 0)` is 0 and `ln 0 = -inf` is the
/// right answer; with a `+inf` entry the sum is `inf`, again right. Shifting by an infinite `m`
/// instead would produce `inf - inf = NaN`. (`max` ignores NaN entries; they still reach the sum
/// and make it NaN, as they should.)
#[inline]
pub(crate) fn shift<X: RealVector + ?Sized>(xs: &X) -> X::Elem {
    let m = xs.elements().fold(-X::Elem::INFINITY, Real::max);
    if m.is_finite() {
        m
    } else {
        X::Elem::ZERO
    }
}

/// `e^(xᵢ - m)` for every entry, and their sum, in storage order.
#[inline]
fn shifted_exps<X: RealVector + ?Sized>(xs: &X, m: X::Elem) -> (X::Owned, X::Elem) {
    let e = xs.map_owned(|x| (x - m).exp());
    let mut sum = X::Elem::ZERO;
    for &ei in X::owned_slice(&e) {
        sum += ei;
    }
    (e, sum)
}

/// `ln Σ exp(xᵢ)`, finite for any finite entries however large.
///
/// Computed as `m + ln Σ exp(xᵢ - m)` with `m = max xᵢ`, which cannot overflow (the naive form is
/// `inf` as soon as one entry exceeds ≈ 709 in `f64`). Accepts slices, `Vec`s, arrays and nalgebra
/// vectors and matrices (see [`RealVector`]). An empty input gives `-inf` (the log of an empty
/// sum). The gradient is [`softmax`](fn@softmax)`(xs)`, returned in the owned form of the input
/// (`Vec<T>` for slices, `OMatrix` for nalgebra). Also available as `nabla::log_sum_exp`, and
/// differentiable inside `#[differentiable]` functions.
///
/// ```
/// use nabla_runtime::log_sum_exp;
/// use nalgebra::{DVector, Vector3};
///
/// let xs = [1e4, 1e4];
/// assert_eq!(log_sum_exp(&xs[..]), 1e4 + std::f64::consts::LN_2); // naive: inf
/// assert!((log_sum_exp(&vec![1.0f64, 2.0, 3.0]) - 3.4076059644443803).abs() < 1e-15);
/// assert_eq!(log_sum_exp(&Vector3::new(0.0f32, 0.0, 0.0)), 3.0f32.ln());
/// assert_eq!(log_sum_exp(&DVector::from_element(4, -1e4)), -1e4 + 4.0f64.ln());
/// ```
#[inline]
pub fn log_sum_exp<X: RealVector + ?Sized>(xs: &X) -> X::Elem {
    let m = shift(xs);
    let mut sum = X::Elem::ZERO;
    for x in xs.elements() {
        sum += (x - m).exp();
    }
    m + sum.ln()
}

companion! {
    log_sum_exp: fn __vjp<X: RealVector + ?Sized>(
        xs: &X,
        cotangent: X::Elem,
    ) -> (X::Elem, (X::Owned,)) {
        // ∂/∂xᵢ = e^xᵢ / Σ e^xⱼ = e^(xᵢ-m) / Σ e^(xⱼ-m): reuse the shifted exponentials, one exp
        // per entry for value and gradient together.
        let m = shift(xs);
        let (mut g, sum) = shifted_exps(xs, m);
        let scale = cotangent / sum;
        for gi in X::owned_slice_mut(&mut g) {
            *gi *= scale;
        }
        (m + sum.ln(), (g,))
    }
}

/// `softmax(xs)ᵢ = exp(xᵢ) / Σ exp(xⱼ)`, finite for any finite entries however large.
///
/// Shifted by `max xⱼ` before exponentiating, so no term overflows and the denominator is at
/// least 1 (the naive form gives `inf/inf = NaN` past ≈ 709 in `f64`). The result has the owned
/// form of the input: `Vec<T>` for slices and `Vec`s, `[T; N]` for arrays, `OMatrix` for nalgebra
/// (a matrix is normalized over all its entries). Also available as `nabla::softmax`, and
/// differentiable inside `#[differentiable]` functions; the pullback takes a cotangent of the
/// result's type.
///
/// ```
/// use nabla_runtime::softmax;
/// use nalgebra::Vector2;
///
/// assert_eq!(softmax(&[1e4, 1e4][..]), vec![0.5, 0.5]); // naive: NaN
/// let p = softmax(&Vector2::new(0.0, 2.0f64.ln()));
/// assert!((p - Vector2::new(1.0 / 3.0, 2.0 / 3.0)).norm() < 1e-15);
/// ```
#[inline]
pub fn softmax<X: RealVector + ?Sized>(xs: &X) -> X::Owned {
    let m = shift(xs);
    let (mut e, sum) = shifted_exps(xs, m);
    for ei in X::owned_slice_mut(&mut e) {
        *ei /= sum;
    }
    e
}

companion! {
    softmax: fn __vjp<X: RealVector + ?Sized>(
        xs: &X,
        cotangent: X::Owned,
    ) -> (X::Owned, (X::Owned,)) {
        // With y = softmax(x): ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ - yⱼ), so the pullback of d is
        // gⱼ = yⱼ (dⱼ - Σᵢ dᵢ yᵢ). It is written into the cotangent's own buffer.
        let y = softmax(xs);
        let mut g = cotangent;
        let (ys, ds) = (X::owned_slice(&y), X::owned_slice_mut(&mut g));
        assert_eq!(
            ds.len(),
            ys.len(),
            "softmax: the cotangent has {} entries but the input has {}",
            ds.len(),
            ys.len()
        );
        let mut dot = X::Elem::ZERO;
        for (&d, &yi) in ds.iter().zip(ys) {
            dot += d * yi;
        }
        for (d, &yi) in ds.iter_mut().zip(ys) {
            *d = yi * (*d - dot);
        }
        (y, (g,))
    }
}

#[cfg(test)]
// References are quoted to 20 digits as computed; the rounding to f64 is part of the test.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::primitives::test_support::{assert_matches_fd, assert_ulps, rel_err};
    use nalgebra::{DVector, Matrix2, SVector};

    fn naive_log_sum_exp(xs: &[f64]) -> f64 {
        xs.iter().map(|x| x.exp()).sum::<f64>().ln()
    }
    fn naive_softmax(xs: &[f64]) -> Vec<f64> {
        let sum: f64 = xs.iter().map(|x| x.exp()).sum();
        xs.iter().map(|x| x.exp() / sum).collect()
    }

    /// Inputs at moderate, large positive and large negative scale.
    fn cases() -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 2.0, 3.0],
            vec![-1.5, 0.5, 2.0, -0.25],
            vec![0.0],
            vec![1e-3, -1e-3, 0.0, 2e-3],
            vec![40.0, -40.0, 0.0],
            vec![1e4, 1e4 - 1.0, 1e4 + 0.5],
            vec![-1e4, -1e4 + 2.0, -1e4 - 0.5, -1e4 + 0.1],
            vec![1e4, -1e4, 0.0],
        ]
    }

    #[test]
    fn naive_formulas_overflow_where_ours_stay_finite() {
        let big = [1e4, 1e4 - 1.0];
        let tiny = [-1e4, -1e4 + 1.0];
        assert_eq!(naive_log_sum_exp(&big), f64::INFINITY);
        assert_eq!(naive_log_sum_exp(&tiny), f64::NEG_INFINITY);
        assert!(naive_softmax(&big).iter().all(|p| p.is_nan()));
        assert!(naive_softmax(&tiny).iter().all(|p| p.is_nan()));

        for xs in [&big[..], &tiny[..]] {
            let (v, (g,)) = log_sum_exp::__vjp(xs, 1.0);
            assert!(v.is_finite() && g.iter().all(|g| g.is_finite()));
            let p = softmax(xs);
            assert!(p.iter().all(|p| p.is_finite()));
            let (_, (g,)) = softmax::__vjp(xs, vec![1.0, -2.0]);
            assert!(g.iter().all(|g| g.is_finite()));
        }
        // ln(e^a + e^(a-1)) = a + ln(1 + 1/e).
        let exact = 1e4 + (1.0 + (-1.0f64).exp()).ln();
        assert_eq!(log_sum_exp(&big[..]), exact);
        // f32 overflows e^x past 88.7.
        let v = log_sum_exp(&[100.0f32, 99.0][..]);
        assert!((v - (100.0 + (1.0 + (-1.0f32).exp()).ln())).abs() < 1e-5);
    }

    #[test]
    fn values_match_high_precision_references() {
        // mpmath, 80 digits.
        assert_ulps(
            log_sum_exp(&[1.0, 2.0, 3.0][..]),
            3.4076059644443803045,
            "lse(1, 2, 3)",
        );
        let p = softmax(&[1.0, 2.0, 3.0][..]);
        let reference = [
            0.090030573170380457998,
            0.24472847105479765247,
            0.66524095577482188953,
        ];
        for (&p, r) in p.iter().zip(reference) {
            assert_ulps(p, r, "softmax(1, 2, 3)");
        }
        let xs = [-1.5, 0.5, 2.0, -0.25];
        assert_ulps(log_sum_exp(&xs[..]), 2.3065480613366319251, "lse");
        let reference = [
            0.022224765221797128356,
            0.1642200370094218766,
            0.73598314499563852905,
            0.077572052773142465993,
        ];
        for (&p, r) in softmax(&xs[..]).iter().zip(reference) {
            assert_ulps(p, r, "softmax");
        }
    }

    #[test]
    fn special_inputs() {
        let empty: &[f64] = &[];
        assert_eq!(log_sum_exp(empty), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp::__vjp(empty, 1.0).1 .0, Vec::<f64>::new());
        assert!(softmax(empty).is_empty());
        assert_eq!(
            log_sum_exp(&[f64::NEG_INFINITY, f64::NEG_INFINITY][..]),
            f64::NEG_INFINITY
        );
        // A -inf entry is a zero-probability entry, not an error.
        assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 0.0][..]), 0.0);
        assert_eq!(softmax(&[f64::NEG_INFINITY, 0.0][..]), vec![0.0, 1.0]);
        assert_eq!(log_sum_exp(&[f64::INFINITY, 0.0][..]), f64::INFINITY);
        assert!(log_sum_exp(&[f64::NAN, 0.0][..]).is_nan());
    }

    #[test]
    fn log_sum_exp_gradient_matches_finite_differences() {
        for xs in cases() {
            let (value, (g,)) = log_sum_exp::__vjp(&xs[..], 1.0);
            assert_eq!(value, log_sum_exp(&xs[..]));
            assert_matches_fd("log_sum_exp", log_sum_exp::<[f64]>, &xs, &g);
            // The gradient is the softmax.
            for (a, b) in g.iter().zip(softmax(&xs[..])) {
                assert!(rel_err(*a, b) < 1e-15);
            }
            let (_, (scaled,)) = log_sum_exp::__vjp(&xs[..], 3.0);
            for (a, b) in scaled.iter().zip(&g) {
                assert!(rel_err(*a, 3.0 * b) < 1e-15);
            }
        }
    }

    #[test]
    fn softmax_pullback_matches_finite_differences() {
        for xs in cases() {
            // <w, softmax(x)> for a fixed cotangent w: its gradient is the pullback of w.
            let w: Vec<f64> = (0..xs.len()).map(|i| 1.5 - i as f64).collect();
            let (value, (g,)) = softmax::__vjp(&xs[..], w.clone());
            assert_eq!(value, softmax(&xs[..]));
            let f = |v: &[f64]| softmax(v).iter().zip(&w).map(|(p, w)| p * w).sum::<f64>();
            assert_matches_fd("softmax", f, &xs, &g);
        }
    }

    #[test]
    fn nalgebra_inputs_give_nalgebra_gradients() {
        let v = DVector::from_vec(vec![0.5, -1.0, 2.0]);
        let (value, (g,)) = log_sum_exp::__vjp(&v, 1.0);
        let (sv, (sg,)) = log_sum_exp::__vjp(v.as_slice(), 1.0);
        assert_eq!(value, sv);
        assert_eq!(g, DVector::from_vec(sg));

        let s = SVector::<f64, 3>::new(0.5, -1.0, 2.0);
        let (_, (gs,)): (f64, (SVector<f64, 3>,)) = log_sum_exp::__vjp(&s, 1.0);
        assert_eq!(gs.as_slice(), g.as_slice());
        let p: SVector<f64, 3> = softmax(&s);
        assert_eq!(p.as_slice(), softmax(v.as_slice()).as_slice());
        let (_, (gp,)) = softmax::__vjp(&s, SVector::<f64, 3>::new(1.0, 0.0, -1.0));
        let (_, (gq,)) = softmax::__vjp(v.as_slice(), vec![1.0, 0.0, -1.0]);
        assert_eq!(gp.as_slice(), gq.as_slice());

        // A matrix is reduced over all its entries; a view works too.
        let m = Matrix2::new(1.0, 2.0, 3.0, 4.0);
        assert_eq!(log_sum_exp(&m), log_sum_exp(&[1.0, 3.0, 2.0, 4.0][..]));
        assert_eq!(log_sum_exp(&m.column(1)), log_sum_exp(&[2.0, 4.0][..]));
        let (_, (gm,)) = log_sum_exp::__vjp(&m, 1.0);
        assert!((gm.sum() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn arrays_and_f32() {
        let (v, (g,)): (f32, ([f32; 2],)) = log_sum_exp::__vjp(&[0.0f32, 0.0], 1.0);
        assert_eq!((v, g), (2.0f32.ln(), [0.5, 0.5]));
        let p: [f32; 2] = softmax(&[1e4f32, 1e4]);
        assert_eq!(p, [0.5, 0.5]);
    }

    #[test]
    #[should_panic(expected = "softmax: the cotangent has 1 entries but the input has 2")]
    fn softmax_cotangent_length_is_checked() {
        let _ = softmax::__vjp(&[1.0, 2.0][..], vec![1.0]);
    }
}
