//! Scalar activations: `sigmoid`, `log_sigmoid`, `softplus`, `relu`.
//!
//! The logistic functions are all computed from `e = e^-|x|`, which lies in `(0, 1]` and so can
//! neither overflow nor make a denominator vanish. The textbook forms `1 / (1 + e^-x)` and
//! `ln(1 + e^x)` evaluate `e^+|x|` on one side, which overflows to `inf` past |x| ≈ 709 in `f64`
//! (≈ 88 in `f32`) and then yields `inf`, `inf/inf = NaN` or `ln 0 = -inf`.

use crate::Real;

/// `(σ(x), σ(-x))` from a single exponential: with `e = e^-|x|`, `σ(|x|) = 1/(1+e)` and
/// `σ(-|x|) = e/(1+e)`. Computing `σ(-x)` directly, rather than as `1 - σ(x)`, keeps its full
/// relative precision where `σ(x)` rounds to 1 (x ≳ 37 in `f64`).
#[inline]
pub(crate) fn sigmoid_pair<T: Real>(x: T) -> (T, T) {
    let e = (-x.abs()).exp();
    let big = T::ONE / (T::ONE + e);
    let small = e / (T::ONE + e);
    // `NaN >= 0` is false, so a NaN input gives NaN in both (`e` is NaN).
    if x >= T::ZERO {
        (big, small)
    } else {
        (small, big)
    }
}

/// `ln(1 + e^-|x|)`: the correction term shared by `softplus`, `log_sigmoid` and
/// `bce_with_logits`. `ln_1p` keeps it exact when `e^-|x|` is tiny.
#[inline]
pub(crate) fn log1p_exp_neg_abs<T: Real>(x: T) -> T {
    (-x.abs()).exp().ln_1p()
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^-x)`, finite and accurate for every finite `x`.
///
/// Computed from `e^-|x|` only, so it never overflows, and `σ(x)` for large negative `x` keeps
/// full relative precision (`σ(-40) ≈ 4.25e-18`, not 0). Its derivative `σ(x)·σ(-x)` is computed
/// the same way. Also available as `nabla::sigmoid`, and differentiable inside
/// `#[differentiable]` functions.
///
/// ```
/// use nabla_runtime::sigmoid;
///
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(1e4), 1.0);      // the naive e^x / (1 + e^x) gives NaN here
/// assert_eq!(sigmoid(-1e4), 0.0);
/// assert!((sigmoid(-40.0f64) - 4.248354255291589e-18).abs() < 1e-32);
/// assert!((sigmoid(2.0f32) - 0.880797).abs() < 1e-6);
/// ```
#[inline]
pub fn sigmoid<T: Real>(x: T) -> T {
    sigmoid_pair(x).0
}

companion! {
    sigmoid: fn __vjp<T: Real>(x: T, cotangent: T) -> (T, (T,)) {
        // σ'(x) = σ(x)(1 - σ(x)) = σ(x)σ(-x).
        let (s, s_neg) = sigmoid_pair(x);
        (s, (cotangent * s * s_neg,))
    }
}

/// `ln σ(x) = -ln(1 + e^-x)`, finite for every finite `x`.
///
/// Uses `ln σ(x) = min(x, 0) - ln(1 + e^-|x|)`: the naive `ln(1 / (1 + e^-x))` is `ln 0 = -inf`
/// once `e^-x` overflows (x ≲ -709), and loses all precision for large positive `x`, where
/// `σ(x)` rounds to 1. The derivative is `σ(-x)`. This is `-softplus(-x)`.
///
/// ```
/// use nabla_runtime::log_sigmoid;
///
/// assert_eq!(log_sigmoid(-1e4), -1e4); // the naive form gives -inf
/// assert!((log_sigmoid(0.0f64) + std::f64::consts::LN_2).abs() < 1e-16);
/// assert!((log_sigmoid(40.0f64) + 4.248354255291589e-18).abs() < 1e-32);
/// ```
#[inline]
pub fn log_sigmoid<T: Real>(x: T) -> T {
    x.min(T::ZERO) - log1p_exp_neg_abs(x)
}

companion! {
    log_sigmoid: fn __vjp<T: Real>(x: T, cotangent: T) -> (T, (T,)) {
        // d/dx ln σ(x) = σ'(x)/σ(x) = σ(-x).
        let (_, s_neg) = sigmoid_pair(x);
        (log_sigmoid(x), (cotangent * s_neg,))
    }
}

/// `softplus(x) = ln(1 + e^x)`, a smooth `max(x, 0)`, finite for every finite `x`.
///
/// Uses `ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)`: the naive form overflows to `inf` for
/// x ≳ 709 (`f64`) and rounds to 0 for x ≲ -37, where the true value is ≈ `e^x`. The derivative
/// is `σ(x)`.
///
/// ```
/// use nabla_runtime::softplus;
///
/// assert_eq!(softplus(1e4), 1e4); // the naive ln(1 + e^x) gives inf
/// assert!((softplus(0.0f64) - std::f64::consts::LN_2).abs() < 1e-16);
/// assert!((softplus(-40.0f64) - 4.248354255291589e-18).abs() < 1e-32);
/// ```
#[inline]
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::ZERO) + log1p_exp_neg_abs(x)
}

companion! {
    softplus: fn __vjp<T: Real>(x: T, cotangent: T) -> (T, (T,)) {
        let (s, _) = sigmoid_pair(x);
        (softplus(x), (cotangent * s,))
    }
}

/// The rectifier `max(x, 0)`.
///
/// `NaN` passes through (as in PyTorch), rather than being silently turned into 0 as
/// `x.max(0.0)` would. At the kink `x = 0` the derivative is taken as 0, the convention of
/// PyTorch, JAX and TensorFlow.
///
/// ```
/// use nabla_runtime::relu;
///
/// assert_eq!(relu(2.5), 2.5);
/// assert_eq!(relu(-1e4), 0.0);
/// assert!(relu(f64::NAN).is_nan());
/// ```
#[inline]
pub fn relu<T: Real>(x: T) -> T {
    if x < T::ZERO {
        T::ZERO
    } else {
        x
    }
}

companion! {
    relu: fn __vjp<T: Real>(x: T, cotangent: T) -> (T, (T,)) {
        let slope = if x > T::ZERO { cotangent } else { T::ZERO };
        (relu(x), (slope,))
    }
}

#[cfg(test)]
// References are quoted to 20 digits as computed; the rounding to f64 is part of the test.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::primitives::test_support::{assert_matches_fd, assert_ulps, POINTS};

    // Naive textbook formulas, to show where they break.
    fn naive_sigmoid(x: f64) -> f64 {
        x.exp() / (1.0 + x.exp())
    }
    fn naive_sigmoid_derivative(x: f64) -> f64 {
        (-x).exp() / (1.0 + (-x).exp()).powi(2)
    }
    fn naive_softplus(x: f64) -> f64 {
        (1.0 + x.exp()).ln()
    }
    fn naive_log_sigmoid(x: f64) -> f64 {
        (1.0 / (1.0 + (-x).exp())).ln()
    }
    /// d/dx ln σ(x) by the chain rule through the naive σ: σ'(x) / σ(x).
    fn naive_log_sigmoid_derivative(x: f64) -> f64 {
        naive_sigmoid_derivative(x) / (1.0 / (1.0 + (-x).exp()))
    }

    #[test]
    fn naive_formulas_overflow_where_ours_stay_finite() {
        assert!(naive_sigmoid(1e4).is_nan()); // inf / inf
        assert!(naive_sigmoid_derivative(-1e4).is_nan()); // inf / inf
        assert_eq!(naive_softplus(1e4), f64::INFINITY);
        assert_eq!(naive_log_sigmoid(-1e4), f64::NEG_INFINITY);
        assert!(naive_log_sigmoid_derivative(-1e4).is_nan());

        assert_eq!(sigmoid(1e4), 1.0);
        assert_eq!(sigmoid(-1e4), 0.0);
        assert_eq!(sigmoid::__vjp(-1e4, 1.0).1 .0, 0.0);
        assert_eq!(softplus(1e4), 1e4);
        assert_eq!(softplus::__vjp(1e4, 1.0).1 .0, 1.0);
        assert_eq!(log_sigmoid(-1e4), -1e4);
        assert_eq!(log_sigmoid::__vjp(-1e4, 1.0).1 .0, 1.0);
        for x in [-1e4, 1e4] {
            for (v, (g,)) in [
                sigmoid::__vjp(x, 1.0),
                log_sigmoid::__vjp(x, 1.0),
                softplus::__vjp(x, 1.0),
                relu::__vjp(x, 1.0),
            ] {
                assert!(v.is_finite() && g.is_finite(), "at {x}: {v}, {g}");
            }
        }
    }

    #[test]
    fn f32_stays_finite_past_its_exp_overflow() {
        // e^x overflows f32 past x ≈ 88.7.
        assert_eq!((100.0f32).exp(), f32::INFINITY);
        for x in [-1e4f32, -100.0, 100.0, 1e4] {
            for (v, (g,)) in [
                sigmoid::__vjp(x, 1.0),
                log_sigmoid::__vjp(x, 1.0),
                softplus::__vjp(x, 1.0),
            ] {
                assert!(v.is_finite() && g.is_finite(), "at {x}: {v}, {g}");
            }
        }
        assert_eq!(softplus(1e4f32), 1e4);
        assert_eq!(log_sigmoid(-1e4f32), -1e4);
    }

    #[test]
    fn values_match_high_precision_references() {
        // (x, σ(x), softplus(x)) to 20 digits (mpmath, 80 digits working precision);
        // ln σ(x) = -softplus(-x).
        let table = [
            (-40.0, 4.2483542552915889773e-18, 4.2483542552915889863e-18),
            (-3.0, 0.047425873177566780879, 0.048587351573742058759),
            (-0.5, 0.37754066879814543536, 0.47407698418010668087),
            (0.25, 0.56217650088579810403, 0.82593941987884356221),
            (2.0, 0.88079707797788244406, 2.1269280110429724964),
            (20.0, 0.99999999793884638181, 20.00000000206115362),
            (40.0, 0.99999999999999999575, 40.000000000000000004),
        ];
        for (x, s, sp) in table {
            assert_ulps(sigmoid(x), s, &format!("sigmoid({x})"));
            assert_ulps(softplus(x), sp, &format!("softplus({x})"));
            assert_ulps(log_sigmoid(-x), -sp, &format!("log_sigmoid({})", -x));
        }
        // Derivatives in the tails keep their relative precision, where the naive σ(1 - σ)
        // rounds to 0.
        let s40 = 4.2483542552915889773e-18;
        let naive = sigmoid(40.0) * (1.0 - sigmoid(40.0));
        assert_eq!(naive, 0.0);
        assert!((sigmoid::__vjp(40.0, 1.0).1 .0 - s40).abs() < 1e-15 * s40);
        assert!((log_sigmoid::__vjp(40.0, 1.0).1 .0 - s40).abs() < 1e-15 * s40);
        assert!((softplus::__vjp(-40.0, 1.0).1 .0 - s40).abs() < 1e-15 * s40);
    }

    #[test]
    fn gradients_match_finite_differences() {
        type Primal = fn(f64) -> f64;
        type Pullback = fn(f64, f64) -> (f64, (f64,));
        let rules: [(&str, Primal, Pullback); 4] = [
            ("sigmoid", sigmoid, sigmoid::__vjp),
            ("log_sigmoid", log_sigmoid, log_sigmoid::__vjp),
            ("softplus", softplus, softplus::__vjp),
            ("relu", relu, relu::__vjp),
        ];
        for (name, f, vjp) in rules {
            for x in POINTS {
                if name == "relu" && x == 0.0 {
                    continue; // the kink: the convention is tested below
                }
                let (value, (g,)) = vjp(x, 1.0);
                assert_eq!(value, f(x), "{name}: the pullback's value");
                assert_matches_fd(name, |v| f(v[0]), &[x], &[g]);
                // The pullback is linear in the cotangent.
                let scaled = vjp(x, -2.5).1 .0;
                assert!((scaled + 2.5 * g).abs() <= 1e-15 * g.abs(), "{name} at {x}");
            }
        }
        assert_eq!(relu::__vjp(0.0, 1.0), (0.0, (0.0,)));
    }

    #[test]
    fn nan_propagates() {
        for v in [
            sigmoid(f64::NAN),
            log_sigmoid(f64::NAN),
            softplus(f64::NAN),
            relu(f64::NAN),
        ] {
            assert!(v.is_nan());
        }
    }
}
