//! Losses: `bce_with_logits`, `softmax_cross_entropy`, `mse`.
//!
//! The cross-entropies take logits rather than probabilities: fusing `ln` with the sigmoid or
//! softmax lets the `ln` cancel the `exp` analytically, which is what keeps them finite (the
//! separate `ln(σ(z))` is `ln 0 = -inf` once `σ(z)` rounds to 0 or 1).

use super::activation::{log1p_exp_neg_abs, sigmoid_pair};
use super::reduce::shift;
use super::RealVector;
use crate::Real;

/// Binary cross-entropy of the logit `z` against the target probability `t`:
/// `-(t·ln σ(z) + (1 - t)·ln(1 - σ(z)))`, finite for every finite `z`.
///
/// Uses the identity `max(z, 0) - z·t + ln(1 + e^-|z|)`, which never evaluates `ln` of a rounded
/// probability: the naive form is `inf` once `σ(z)` rounds to 1 with `t < 1` (already at z ≈ 37
/// in `f64`). `t` is usually 0 or 1 but any value in `[0, 1]` (label smoothing, soft targets)
/// works, and the target gets a gradient too. Gradients: `∂/∂z = σ(z) - t`, `∂/∂t = -z`.
/// The same as PyTorch's `binary_cross_entropy_with_logits` and TensorFlow's
/// `sigmoid_cross_entropy_with_logits`. Also available as `nabla::bce_with_logits`, and
/// differentiable inside `#[differentiable]` functions.
///
/// ```
/// use nabla_runtime::bce_with_logits;
///
/// assert_eq!(bce_with_logits(0.0, 1.0), std::f64::consts::LN_2);
/// assert_eq!(bce_with_logits(1e4, 0.0), 1e4);   // confidently wrong: naive gives inf
/// assert_eq!(bce_with_logits(1e4, 1.0), 0.0);   // confidently right
/// assert!((bce_with_logits(1.5f64, 0.3) - 1.2514132779827524).abs() < 1e-15);
/// ```
#[inline]
pub fn bce_with_logits<T: Real>(logit: T, target: T) -> T {
    logit.max(T::ZERO) - logit * target + log1p_exp_neg_abs(logit)
}

companion! {
    bce_with_logits: fn __vjp<T: Real>(logit: T, target: T, cotangent: T) -> (T, (T, T)) {
        // σ(z) - t, written so that the small one of σ(z), σ(-z) enters directly: for z ≥ 0,
        // σ(z) - t = (1 - t) - σ(-z), exact as σ(-z) → 0 when t = 1.
        let (s, s_neg) = sigmoid_pair(logit);
        let dz = if logit >= T::ZERO {
            (T::ONE - target) - s_neg
        } else {
            s - target
        };
        (
            bce_with_logits(logit, target),
            (cotangent * dz, -cotangent * logit),
        )
    }
}

/// The shift, `Σ_{j≠label} e^(zⱼ-m)`, `e^(z_label-m)` and `z_label`, one pass, no allocation.
#[inline]
fn cross_entropy_parts<X: RealVector + ?Sized>(logits: &X, label: usize) -> [X::Elem; 4] {
    check_label(logits, label);
    let m = shift(logits);
    let (mut others, mut e_label, mut z_label) = (X::Elem::ZERO, X::Elem::ZERO, X::Elem::ZERO);
    for (j, z) in logits.elements().enumerate() {
        let e = (z - m).exp();
        if j == label {
            (e_label, z_label) = (e, z);
        } else {
            others += e;
        }
    }
    [m, others, e_label, z_label]
}

/// `log_sum_exp(z) - z[label]`, keeping full relative precision when the loss is tiny.
#[inline]
fn cross_entropy_value<T: Real>(m: T, others: T, e_label: T, z_label: T) -> T {
    // When the label holds the largest logit, e_label = e^0 = 1 exactly and m - z_label = 0,
    // so the loss is ln(1 + others): `ln_1p` keeps a confident correct prediction's loss
    // (say 1e-20) instead of rounding it to 0.
    let log_sum = if e_label == T::ONE {
        others.ln_1p()
    } else {
        (e_label + others).ln()
    };
    (m - z_label) + log_sum
}

#[track_caller]
fn check_label<X: RealVector + ?Sized>(logits: &X, label: usize) {
    let n = logits.element_count();
    assert!(
        label < n,
        "softmax_cross_entropy: label {label} is out of range for {n} logits"
    );
}

/// Cross-entropy of `softmax(logits)` against the class `label`: `-ln softmax(logits)[label]`,
/// finite for any finite logits.
///
/// Computed as `log_sum_exp(logits) - logits[label]` with the max shift, never as the `ln` of a
/// probability: the naive form is `ln 0 = inf` or `NaN` as soon as the logits are large (≈ 709 in
/// `f64`) or far apart. The gradient with respect to the logits is `softmax(logits) - onehot(label)`
/// (in the owned form of the input, see [`RealVector`]); the label gets none. The same as
/// PyTorch's `cross_entropy` on one sample. Also available as `nabla::softmax_cross_entropy`,
/// and differentiable inside `#[differentiable]` functions (mark the label `#[no_grad]` or leave
/// it an integer).
///
/// # Panics
///
/// If `label` is not an index into `logits`.
///
/// ```
/// use nabla_runtime::softmax_cross_entropy;
/// use nalgebra::Vector3;
///
/// let logits = [1.0f64, 2.0, 3.0];
/// assert!((softmax_cross_entropy(&logits[..], 2) - 0.40760596444438).abs() < 1e-13);
/// assert_eq!(softmax_cross_entropy(&[1e4, 0.0][..], 1), 1e4); // naive: NaN
/// assert_eq!(softmax_cross_entropy(&Vector3::new(0.0f32, 0.0, 0.0), 0), 3.0f32.ln());
/// ```
#[inline]
#[track_caller]
pub fn softmax_cross_entropy<X: RealVector + ?Sized>(logits: &X, label: usize) -> X::Elem {
    let [m, others, e_label, z_label] = cross_entropy_parts(logits, label);
    cross_entropy_value(m, others, e_label, z_label)
}

companion! {
    softmax_cross_entropy: fn __vjp<X: RealVector + ?Sized>(
        logits: &X,
        label: usize,
        cotangent: X::Elem,
    ) -> (X::Elem, (X::Owned, ())) {
        check_label(logits, label);
        let m = shift(logits);
        let mut g = logits.map_owned(|z| (z - m).exp());
        let gs = X::owned_slice_mut(&mut g);
        let (e_label, z_label) = (gs[label], logits.elements().nth(label).unwrap_or(m));
        let mut others = X::Elem::ZERO;
        for (j, &e) in gs.iter().enumerate() {
            if j != label {
                others += e;
            }
        }
        let sum = e_label + others;
        // ∂/∂zⱼ = softmaxⱼ - [j = label]. For the label, softmax - 1 = -others/sum, computed
        // as such to avoid the cancellation in p - 1 when p ≈ 1.
        let scale = cotangent / sum;
        for (j, gj) in gs.iter_mut().enumerate() {
            *gj = if j == label { -others * scale } else { *gj * scale };
        }
        (cross_entropy_value(m, others, e_label, z_label), (g, ()))
    }
}

/// Mean squared error `Σ (predᵢ - targetᵢ)² / n` over all entries.
///
/// `pred` and `target` may be any [`RealVector`]s of the same length (for example an nalgebra
/// prediction against a slice of targets); both get gradients, `±2(predᵢ - targetᵢ)/n`, in the
/// owned form of each. Empty inputs give `NaN` (0/0), like NumPy and PyTorch. Also available as
/// `nabla::mse`, and differentiable inside `#[differentiable]` functions.
///
/// # Panics
///
/// If the lengths differ.
///
/// ```
/// use nabla_runtime::mse;
/// use nalgebra::Vector2;
///
/// assert_eq!(mse(&[1.0, 2.0][..], &[0.0, 4.0][..]), 2.5); // (1 + 4) / 2
/// assert_eq!(mse(&Vector2::new(1.0, 2.0), &[0.0, 4.0][..]), 2.5);
/// assert_eq!(mse(&[1e4f32][..], &[-1e4f32][..]), 4e8);
/// ```
#[inline]
#[track_caller]
pub fn mse<P, Q>(pred: &P, target: &Q) -> P::Elem
where
    P: RealVector + ?Sized,
    Q: RealVector<Elem = P::Elem> + ?Sized,
{
    let n = check_lengths(pred, target);
    let mut sum = P::Elem::ZERO;
    for (p, t) in pred.elements().zip(target.elements()) {
        let e = p - t;
        sum += e * e;
    }
    sum / P::Elem::from_usize(n)
}

#[track_caller]
fn check_lengths<P: RealVector + ?Sized, Q: RealVector + ?Sized>(pred: &P, target: &Q) -> usize {
    let (n, m) = (pred.element_count(), target.element_count());
    assert_eq!(
        n, m,
        "mse: the prediction has {n} entries but the target has {m}"
    );
    n
}

companion! {
    mse: fn __vjp<P, Q>(pred: &P, target: &Q, cotangent: P::Elem) -> (P::Elem, (P::Owned, Q::Owned))
    where
        P: RealVector + ?Sized,
        Q: RealVector<Elem = P::Elem> + ?Sized,
    {
        let value = mse(pred, target);
        let k = P::Elem::TWO * cotangent / P::Elem::from_usize(pred.element_count());
        let mut gp = pred.map_owned(|p| p);
        for (g, t) in P::owned_slice_mut(&mut gp).iter_mut().zip(target.elements()) {
            *g = k * (*g - t);
        }
        let mut gt = target.map_owned(|t| t);
        for (g, &d) in Q::owned_slice_mut(&mut gt).iter_mut().zip(P::owned_slice(&gp)) {
            *g = -d;
        }
        (value, (gp, gt))
    }
}

#[cfg(test)]
// References are quoted to 20 digits as computed; the rounding to f64 is part of the test.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::primitives::test_support::{assert_matches_fd, assert_ulps, POINTS};
    use nalgebra::{DVector, Vector3};

    fn naive_bce(z: f64, t: f64) -> f64 {
        let s = 1.0 / (1.0 + (-z).exp());
        -(t * s.ln() + (1.0 - t) * (1.0 - s).ln())
    }
    /// ∂/∂z of the naive form by the chain rule, as a tape-based framework computes it.
    fn naive_bce_dz(z: f64, t: f64) -> f64 {
        let s = 1.0 / (1.0 + (-z).exp());
        let ds = s * (1.0 - s);
        -(t * ds / s - (1.0 - t) * ds / (1.0 - s))
    }
    fn naive_cross_entropy(z: &[f64], label: usize) -> f64 {
        let sum: f64 = z.iter().map(|z| z.exp()).sum();
        -(z[label].exp() / sum).ln()
    }

    #[test]
    fn naive_formulas_overflow_where_ours_stay_finite() {
        assert_eq!(naive_bce(1e4, 0.3), f64::INFINITY);
        assert!(naive_bce_dz(1e4, 0.3).is_nan()); // 0/0
        assert_eq!(naive_bce(-1e4, 0.3), f64::INFINITY);
        assert!(naive_cross_entropy(&[1e4, 0.0], 0).is_nan()); // inf/inf
        assert_eq!(naive_cross_entropy(&[-1e4, 0.0], 0), f64::INFINITY);

        for z in [-1e4, 1e4] {
            for t in [0.0, 0.3, 1.0] {
                let (v, (dz, dt)) = bce_with_logits::__vjp(z, t, 1.0);
                assert!(v.is_finite() && dz.is_finite() && dt.is_finite());
            }
        }
        assert_eq!(bce_with_logits(1e4, 0.3), 0.7e4);
        assert_eq!(bce_with_logits(-1e4, 0.3), 0.3e4);

        for (z, label, expected) in [
            (vec![1e4, 0.0], 0, 0.0),
            (vec![1e4, 0.0], 1, 1e4),
            (vec![-1e4, 0.0], 0, 1e4),
            (vec![1e4, 1e4], 1, 2f64.ln()),
        ] {
            let (v, (g, ())) = softmax_cross_entropy::__vjp(&z[..], label, 1.0);
            assert_eq!(v, expected, "{z:?} {label}");
            assert!(g.iter().all(|g| g.is_finite()));
        }

        let (v, (gp, gt)) = mse::__vjp(&[1e4, -1e4][..], &[-1e4, 1e4][..], 1.0);
        assert_eq!(v, 4e8);
        assert_eq!((gp, gt), (vec![2e4, -2e4], vec![-2e4, 2e4]));
    }

    #[test]
    fn values_match_high_precision_references() {
        // mpmath, 80 digits.
        assert_ulps(
            bce_with_logits(1.5, 0.3),
            1.2514132779827524095,
            "bce(1.5, 0.3)",
        );
        assert_ulps(
            bce_with_logits(-2.0, 0.8),
            1.7269280110429724964,
            "bce(-2, 0.8)",
        );
        assert_ulps(
            bce_with_logits(-40.0, 1.0),
            40.000000000000000004,
            "bce(-40, 1)",
        );
        // softplus(-40) = 4.2483542552915889863e-18: a confident correct prediction keeps
        // its tiny loss instead of rounding to 0.
        assert_ulps(
            bce_with_logits(40.0, 1.0),
            4.2483542552915889863e-18,
            "bce(40, 1)",
        );
        let z = [-1.5, 0.5, 2.0, -0.25];
        assert_ulps(
            softmax_cross_entropy(&z[..], 2),
            0.30654806133663192509,
            "ce label 2",
        );
        // -ln softmax(40, 0, 0)[0] = ln(1 + 2e^-40) = 8.4967085105831779546e-18.
        assert_ulps(
            softmax_cross_entropy(&[40.0, 0.0, 0.0][..], 0),
            8.4967085105831779546e-18,
            "ce confident",
        );
        let (v, (g, ())) = softmax_cross_entropy::__vjp(&[40.0, 0.0, 0.0][..], 0, 1.0);
        assert_ulps(v, 8.4967085105831779546e-18, "ce pullback value");
        assert_ulps(-g[0], 8.4967085105831779546e-18, "ce label gradient");
        assert_eq!(
            mse(&[0.1, 0.2, 0.3][..], &[0.0, 0.0, 0.0][..]),
            (0.01 + 0.04 + 0.09) / 3.0
        );
    }

    #[test]
    fn bce_gradients_match_finite_differences() {
        for z in POINTS {
            for t in [0.0, 0.3, 1.0] {
                let (value, (dz, dt)) = bce_with_logits::__vjp(z, t, 1.0);
                assert_eq!(value, bce_with_logits(z, t));
                let f = |v: &[f64]| bce_with_logits(v[0], v[1]);
                assert_matches_fd("bce_with_logits", f, &[z, t], &[dz, dt]);
                let (_, (dz2, dt2)) = bce_with_logits::__vjp(z, t, -0.5);
                assert!((dz2 + 0.5 * dz).abs() <= 1e-16 * dz.abs().max(1.0));
                assert_eq!(dt2, -0.5 * dt);
            }
        }
    }

    #[test]
    fn cross_entropy_gradients_match_finite_differences() {
        let cases: [&[f64]; 7] = [
            &[1.0, 2.0, 3.0],
            &[-1.5, 0.5, 2.0, -0.25],
            &[1e-3, -1e-3, 0.0],
            &[40.0, -40.0, 0.0],
            &[1e4, 1e4 - 1.0, 1e4 + 0.5],
            &[-1e4, -1e4 + 2.0, -1e4 - 0.5],
            &[1e4, -1e4, 0.0],
        ];
        for z in cases {
            for label in 0..z.len() {
                let (value, (g, ())) = softmax_cross_entropy::__vjp(z, label, 1.0);
                assert_eq!(value, softmax_cross_entropy(z, label));
                let f = |v: &[f64]| softmax_cross_entropy(v, label);
                assert_matches_fd("softmax_cross_entropy", f, z, &g);
                // The gradient sums to zero (softmax sums to 1).
                assert!(g.iter().sum::<f64>().abs() < 1e-15);
            }
        }
    }

    #[test]
    fn mse_gradients_match_finite_differences() {
        let cases: [(&[f64], &[f64]); 4] = [
            (&[1.0, 2.0, 3.0], &[0.5, -1.0, 3.5]),
            (&[1e-3, -1e-3], &[0.0, 2e-3]),
            // Large entries (f ≈ 1e8): every derivative is large too, so finite differences
            // resolve it (a derivative of order 1 beside f ≈ 1e8 would drown in rounding).
            (&[1e4, -1e4, 5e3], &[-1e4, 0.0, -5e3]),
            (&[-0.25], &[0.75]),
        ];
        for (p, t) in cases {
            let (value, (gp, gt)) = mse::__vjp(p, t, 1.0);
            assert_eq!(value, mse(p, t));
            let n = p.len();
            let joined: Vec<f64> = p.iter().chain(t).copied().collect();
            let gradient: Vec<f64> = gp.iter().chain(&gt).copied().collect();
            let f = |v: &[f64]| mse(&v[..n], &v[n..]);
            assert_matches_fd("mse", f, &joined, &gradient);
        }
    }

    #[test]
    fn nalgebra_inputs_give_nalgebra_gradients() {
        let z = Vector3::new(0.5, -1.0, 2.0);
        let (v, (g, ())) = softmax_cross_entropy::__vjp(&z, 1, 2.0);
        let (sv, (sg, ())) = softmax_cross_entropy::__vjp(z.as_slice(), 1, 2.0);
        assert_eq!(v, sv);
        assert_eq!(g.as_slice(), sg.as_slice());

        let p = DVector::from_vec(vec![1.0, 2.0]);
        let t = [0.0, 4.0];
        let (v, (gp, gt)): (f64, (DVector<f64>, Vec<f64>)) = mse::__vjp(&p, &t[..], 1.0);
        assert_eq!(v, 2.5);
        assert_eq!(gp, DVector::from_vec(vec![1.0, -2.0]));
        assert_eq!(gt, vec![-1.0, 2.0]);
    }

    #[test]
    fn f32_stays_finite() {
        for z in [-1e4f32, -100.0, 100.0, 1e4] {
            let (v, (dz, dt)) = bce_with_logits::__vjp(z, 0.3f32, 1.0);
            assert!(v.is_finite() && dz.is_finite() && dt.is_finite());
        }
        let (v, (g, ())) = softmax_cross_entropy::__vjp(&[1e4f32, 0.0, -1e4][..], 2, 1.0);
        assert_eq!(v, 2e4);
        assert!(g.iter().all(|g| g.is_finite()));
    }

    #[test]
    #[should_panic(expected = "label 3 is out of range for 3 logits")]
    fn out_of_range_labels_panic() {
        let _ = softmax_cross_entropy(&[1.0, 2.0, 3.0][..], 3);
    }

    #[test]
    #[should_panic(expected = "mse: the prediction has 2 entries but the target has 1")]
    fn mse_lengths_must_agree() {
        let _ = mse(&[1.0, 2.0][..], &[1.0][..]);
    }
}
