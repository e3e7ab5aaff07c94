//! Rules for the `f32`/`f64` math methods.
//!
//! Every rule has the form `fn rule(operands.., y, d) -> T`: the operands in call order (the
//! receiver first), the method's result `y` and its cotangent `d`; it returns the contribution to
//! one operand's adjoint. Methods of one operand have one rule `NAME_adjoint`; methods of several
//! have one per operand, suffixed by the operand (`atan2_adjoint_self`, `atan2_adjoint_other`).
//!
//! At points where a function is not differentiable the rules return a one-sided or averaged
//! derivative, as the major frameworks do (noted on each rule).

use crate::tangent::Tangent;
use crate::Real;

macro_rules! unary_rules {
    ($($(#[$doc:meta])* $name:ident($x:ident, $y:ident, $d:ident) = $body:expr;)*) => {$(
        $(#[$doc])*
        #[inline(always)]
        #[allow(unused_variables)]
        pub fn $name<T: Real>($x: T, $y: T, $d: T) -> T {
            $body
        }
    )*};
}

unary_rules! {
    /// `y = x.exp()`: `dy/dx = y`.
    exp_adjoint(x, y, d) = d * y;
    /// `y = x.exp2()`: `dy/dx = y ln 2`.
    exp2_adjoint(x, y, d) = d * y * T::LN_2;
    /// `y = x.exp_m1()`: `dy/dx = y + 1`.
    exp_m1_adjoint(x, y, d) = d * (y + T::ONE);
    /// `y = x.ln()`: `dy/dx = 1/x`.
    ln_adjoint(x, y, d) = d / x;
    /// `y = x.log2()`: `dy/dx = 1/(x ln 2)`.
    log2_adjoint(x, y, d) = d / (x * T::LN_2);
    /// `y = x.log10()`: `dy/dx = 1/(x ln 10)`.
    log10_adjoint(x, y, d) = d / (x * T::LN_10);
    /// `y = x.ln_1p()`: `dy/dx = 1/(1 + x)`.
    ln_1p_adjoint(x, y, d) = d / (T::ONE + x);
    /// `y = x.sqrt()`: `dy/dx = 1/(2y)`.
    sqrt_adjoint(x, y, d) = d / (T::TWO * y);
    /// `y = x.cbrt()`: `dy/dx = 1/(3y²)`.
    cbrt_adjoint(x, y, d) = d / (T::from_f64(3.0) * y * y);
    /// `y = x.sin()`: `dy/dx = cos x`.
    sin_adjoint(x, y, d) = d * x.cos();
    /// `y = x.cos()`: `dy/dx = -sin x`.
    cos_adjoint(x, y, d) = -d * x.sin();
    /// `y = x.tan()`: `dy/dx = 1 + y²`.
    tan_adjoint(x, y, d) = d * (T::ONE + y * y);
    /// `y = x.asin()`: `dy/dx = 1/√(1 - x²)`.
    asin_adjoint(x, y, d) = d / (T::ONE - x * x).sqrt();
    /// `y = x.acos()`: `dy/dx = -1/√(1 - x²)`.
    acos_adjoint(x, y, d) = -d / (T::ONE - x * x).sqrt();
    /// `y = x.atan()`: `dy/dx = 1/(1 + x²)`.
    atan_adjoint(x, y, d) = d / (T::ONE + x * x);
    /// `y = x.sinh()`: `dy/dx = cosh x`.
    sinh_adjoint(x, y, d) = d * x.cosh();
    /// `y = x.cosh()`: `dy/dx = sinh x`.
    cosh_adjoint(x, y, d) = d * x.sinh();
    /// `y = x.tanh()`: `dy/dx = 1 - y²`.
    tanh_adjoint(x, y, d) = d * (T::ONE - y * y);
    /// `y = x.asinh()`: `dy/dx = 1/√(x² + 1)`.
    asinh_adjoint(x, y, d) = d / (x * x + T::ONE).sqrt();
    /// `y = x.acosh()`: `dy/dx = 1/√(x² - 1)`.
    acosh_adjoint(x, y, d) = d / (x * x - T::ONE).sqrt();
    /// `y = x.atanh()`: `dy/dx = 1/(1 - x²)`.
    atanh_adjoint(x, y, d) = d / (T::ONE - x * x);
    /// `y = x.abs()`: `dy/dx = sign x`, and 0 at 0 (as PyTorch and JAX).
    abs_adjoint(x, y, d) = if x > T::ZERO { d } else if x < T::ZERO { -d } else { T::ZERO };
    /// `y = x.recip()`: `dy/dx = -y²`.
    recip_adjoint(x, y, d) = -d * y * y;
    /// `y = x.to_degrees()`: a constant factor.
    to_degrees_adjoint(x, y, d) = d * T::from_f64(180.0 / core::f64::consts::PI);
    /// `y = x.to_radians()`: a constant factor.
    to_radians_adjoint(x, y, d) = d * T::from_f64(core::f64::consts::PI / 180.0);
    /// `y = x.fract()`: slope 1 between the integers.
    fract_adjoint(x, y, d) = d;
}

/// `y = x.powi(n)`: `dy/dx = n x^(n-1)`.
#[inline(always)]
pub fn powi_adjoint<T: Real>(x: T, n: i32, _y: T, d: T) -> T {
    if n == 0 {
        T::ZERO
    } else {
        d * T::from_i32(n) * x.powi(n - 1)
    }
}

/// `y = x.powf(e)` with respect to `x`: `e x^(e-1)`.
#[inline(always)]
pub fn powf_adjoint_self<T: Real>(x: T, e: T, _y: T, d: T) -> T {
    if e == T::ZERO {
        T::ZERO
    } else {
        d * e * x.powf(e - T::ONE)
    }
}

/// `y = x.powf(e)` with respect to `e`: `y ln x`, taken as 0 where `y` is 0 (the limit for x → 0⁺).
#[inline(always)]
pub fn powf_adjoint_other<T: Real>(x: T, _e: T, y: T, d: T) -> T {
    if y == T::ZERO {
        T::ZERO
    } else {
        d * y * x.ln()
    }
}

/// `y = x.log(b)` with respect to `x`: `1/(x ln b)`.
#[inline(always)]
pub fn log_adjoint_self<T: Real>(x: T, b: T, _y: T, d: T) -> T {
    d / (x * b.ln())
}

/// `y = x.log(b)` with respect to the base `b`: `-y/(b ln b)`.
#[inline(always)]
pub fn log_adjoint_other<T: Real>(_x: T, b: T, y: T, d: T) -> T {
    -d * y / (b * b.ln())
}

/// `y = self.atan2(other)` with respect to `self`: `other/(self² + other²)`.
#[inline(always)]
pub fn atan2_adjoint_self<T: Real>(s: T, o: T, _y: T, d: T) -> T {
    d * o / (s * s + o * o)
}

/// `y = self.atan2(other)` with respect to `other`: `-self/(self² + other²)`.
#[inline(always)]
pub fn atan2_adjoint_other<T: Real>(s: T, o: T, _y: T, d: T) -> T {
    -d * s / (s * s + o * o)
}

/// `y = self.hypot(other)` with respect to `self`: `self/y` (0 at the origin).
#[inline(always)]
pub fn hypot_adjoint_self<T: Real>(s: T, _o: T, y: T, d: T) -> T {
    if y == T::ZERO {
        T::ZERO
    } else {
        d * s / y
    }
}

/// `y = self.hypot(other)` with respect to `other`: `other/y` (0 at the origin).
#[inline(always)]
pub fn hypot_adjoint_other<T: Real>(_s: T, o: T, y: T, d: T) -> T {
    if y == T::ZERO {
        T::ZERO
    } else {
        d * o / y
    }
}

/// Share of the cotangent that `max`/`min` pass to the operand `s` when the result is `y`:
/// all of it when `s` alone is the result, half at a tie (so `x.max(x)` has derivative 1), none
/// otherwise. A NaN operand is ignored by `max`/`min`, and so it gets no gradient.
#[inline(always)]
fn selected_share<T: Real>(s: T, o: T, y: T, d: T) -> T {
    if s.is_nan() || s != y {
        T::ZERO
    } else if o == s {
        d * T::HALF
    } else {
        d
    }
}

/// `y = self.max(other)` with respect to `self`.
#[inline(always)]
pub fn max_adjoint_self<T: Real>(s: T, o: T, y: T, d: T) -> T {
    selected_share(s, o, y, d)
}

/// `y = self.max(other)` with respect to `other`.
#[inline(always)]
pub fn max_adjoint_other<T: Real>(s: T, o: T, y: T, d: T) -> T {
    selected_share(o, s, y, d)
}

/// `y = self.min(other)` with respect to `self`.
#[inline(always)]
pub fn min_adjoint_self<T: Real>(s: T, o: T, y: T, d: T) -> T {
    selected_share(s, o, y, d)
}

/// `y = self.min(other)` with respect to `other`.
#[inline(always)]
pub fn min_adjoint_other<T: Real>(s: T, o: T, y: T, d: T) -> T {
    selected_share(o, s, y, d)
}

/// `y = x.clamp(lo, hi)` with respect to `x`: 1 inside the interval, 0 where a bound is active.
#[inline(always)]
pub fn clamp_adjoint_self<T: Real>(x: T, lo: T, hi: T, _y: T, d: T) -> T {
    if x < lo || x > hi {
        T::ZERO
    } else {
        d
    }
}

/// `y = x.clamp(lo, hi)` with respect to `lo`.
#[inline(always)]
pub fn clamp_adjoint_lo<T: Real>(x: T, lo: T, _hi: T, _y: T, d: T) -> T {
    if x < lo {
        d
    } else {
        T::ZERO
    }
}

/// `y = x.clamp(lo, hi)` with respect to `hi`.
#[inline(always)]
pub fn clamp_adjoint_hi<T: Real>(x: T, _lo: T, hi: T, _y: T, d: T) -> T {
    if x > hi {
        d
    } else {
        T::ZERO
    }
}

/// `y = x.mul_add(a, b) = x * a + b` with respect to `x`.
#[inline(always)]
pub fn mul_add_adjoint_self<T: Real>(_x: T, a: T, _b: T, _y: T, d: T) -> T {
    d * a
}

/// `y = x.mul_add(a, b)` with respect to `a`.
#[inline(always)]
pub fn mul_add_adjoint_a<T: Real>(x: T, _a: T, _b: T, _y: T, d: T) -> T {
    d * x
}

/// `y = x.mul_add(a, b)` with respect to `b`.
#[inline(always)]
pub fn mul_add_adjoint_b<T: Real>(_x: T, _a: T, _b: T, _y: T, d: T) -> T {
    d
}

/// `y = x.abs()`, for scalars and (element-wise, in `linalg`) for matrices: `dy/dx = sign x`,
/// and 0 at 0 (as PyTorch and JAX).
///
/// `abs` exists on floats and on nalgebra matrices alike, so the macro dispatches it through
/// this trait; the scalar implementation is [`abs_adjoint`] itself.
pub trait AbsRule: Tangent {
    /// The type of `y`: `Self` for scalars, an owned matrix for matrices.
    type Output;
    fn abs_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

macro_rules! scalar_abs {
    ($($t:ty)*) => {$(
        impl AbsRule for $t {
            type Output = $t;
            #[inline(always)]
            fn abs_adjoint(&self, y: &$t, d: &$t) -> $t {
                abs_adjoint(*self, *y, *d)
            }
        }
    )*};
}
scalar_abs!(f32 f64);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_close, central_difference};

    type Unary = (
        &'static str,
        fn(f64) -> f64,
        fn(f64, f64, f64) -> f64,
        &'static [f64],
    );

    const EVERYWHERE: &[f64] = &[-2.5, -0.7, -1e-3, 1e-3, 0.4, 1.9];
    const POSITIVE: &[f64] = &[1e-2, 0.4, 1.9, 7.5];
    const UNIT: &[f64] = &[-0.9, -0.3, 1e-3, 0.6];
    const ABOVE_ONE: &[f64] = &[1.1, 2.0, 9.0];

    const UNARY: &[Unary] = &[
        ("exp", f64::exp, exp_adjoint, EVERYWHERE),
        ("exp2", f64::exp2, exp2_adjoint, EVERYWHERE),
        ("exp_m1", f64::exp_m1, exp_m1_adjoint, EVERYWHERE),
        ("ln", f64::ln, ln_adjoint, POSITIVE),
        ("log2", f64::log2, log2_adjoint, POSITIVE),
        ("log10", f64::log10, log10_adjoint, POSITIVE),
        ("ln_1p", f64::ln_1p, ln_1p_adjoint, UNIT),
        ("sqrt", f64::sqrt, sqrt_adjoint, POSITIVE),
        ("cbrt", f64::cbrt, cbrt_adjoint, EVERYWHERE),
        ("sin", f64::sin, sin_adjoint, EVERYWHERE),
        ("cos", f64::cos, cos_adjoint, EVERYWHERE),
        ("tan", f64::tan, tan_adjoint, UNIT),
        ("asin", f64::asin, asin_adjoint, UNIT),
        ("acos", f64::acos, acos_adjoint, UNIT),
        ("atan", f64::atan, atan_adjoint, EVERYWHERE),
        ("sinh", f64::sinh, sinh_adjoint, EVERYWHERE),
        ("cosh", f64::cosh, cosh_adjoint, EVERYWHERE),
        ("tanh", f64::tanh, tanh_adjoint, EVERYWHERE),
        ("asinh", f64::asinh, asinh_adjoint, EVERYWHERE),
        ("acosh", f64::acosh, acosh_adjoint, ABOVE_ONE),
        ("atanh", f64::atanh, atanh_adjoint, UNIT),
        ("abs", f64::abs, abs_adjoint, EVERYWHERE),
        ("recip", f64::recip, recip_adjoint, EVERYWHERE),
        (
            "to_degrees",
            f64::to_degrees,
            to_degrees_adjoint,
            EVERYWHERE,
        ),
        (
            "to_radians",
            f64::to_radians,
            to_radians_adjoint,
            EVERYWHERE,
        ),
        ("fract", f64::fract, fract_adjoint, &[0.3, 1.6, -2.2]),
    ];

    #[test]
    fn unary_rules_match_finite_differences() {
        for &(name, f, rule, points) in UNARY {
            for &x in points {
                let d = -1.3;
                let fd = d * central_difference(f, x);
                assert_close(rule(x, f(x), d), fd, name);
            }
        }
    }

    type Binary = (
        &'static str,
        fn(f64, f64) -> f64,
        [fn(f64, f64, f64, f64) -> f64; 2],
    );

    #[test]
    fn binary_rules_match_finite_differences() {
        let rules: &[Binary] = &[
            ("powf", f64::powf, [powf_adjoint_self, powf_adjoint_other]),
            ("log", f64::log, [log_adjoint_self, log_adjoint_other]),
            (
                "atan2",
                f64::atan2,
                [atan2_adjoint_self, atan2_adjoint_other],
            ),
            (
                "hypot",
                f64::hypot,
                [hypot_adjoint_self, hypot_adjoint_other],
            ),
            ("max", f64::max, [max_adjoint_self, max_adjoint_other]),
            ("min", f64::min, [min_adjoint_self, min_adjoint_other]),
        ];
        for &(name, f, [lhs, rhs]) in rules {
            for (a, b) in [(1.7, 2.3), (0.4, 3.1), (2.9, 0.6), (5.0, 1.5)] {
                let (y, d) = (f(a, b), 0.8);
                assert_close(
                    lhs(a, b, y, d),
                    d * central_difference(|x| f(x, b), a),
                    name,
                );
                assert_close(
                    rhs(a, b, y, d),
                    d * central_difference(|x| f(a, x), b),
                    name,
                );
            }
        }
    }

    #[test]
    fn powi_matches_finite_differences() {
        for n in [-3, -1, 0, 1, 2, 5] {
            for x in [-1.5, 0.3, 2.2] {
                let fd = 2.0 * central_difference(|x| x.powi(n), x);
                assert_close(powi_adjoint(x, n, x.powi(n), 2.0), fd, "powi");
            }
        }
    }

    #[test]
    fn ternary_rules_match_finite_differences() {
        for (x, lo, hi) in [(0.5, -1.0, 1.0), (-2.0, -1.0, 1.0), (3.0, -1.0, 1.0)] {
            let f = |x: f64, lo: f64, hi: f64| x.clamp(lo, hi);
            let y = f(x, lo, hi);
            let fd = |g: &dyn Fn(f64) -> f64, at| central_difference(g, at);
            assert_close(
                clamp_adjoint_self(x, lo, hi, y, 1.0),
                fd(&|t| f(t, lo, hi), x),
                "clamp",
            );
            assert_close(
                clamp_adjoint_lo(x, lo, hi, y, 1.0),
                fd(&|t| f(x, t, hi), lo),
                "clamp lo",
            );
            assert_close(
                clamp_adjoint_hi(x, lo, hi, y, 1.0),
                fd(&|t| f(x, lo, t), hi),
                "clamp hi",
            );
        }
        let (x, a, b) = (1.3, -0.4, 2.0);
        let f = |x: f64, a: f64, b: f64| x.mul_add(a, b);
        let y = f(x, a, b);
        assert_close(
            mul_add_adjoint_self(x, a, b, y, 1.0),
            central_difference(|t| f(t, a, b), x),
            "mul_add",
        );
        assert_close(
            mul_add_adjoint_a(x, a, b, y, 1.0),
            central_difference(|t| f(x, t, b), a),
            "mul_add a",
        );
        assert_close(
            mul_add_adjoint_b(x, a, b, y, 1.0),
            central_difference(|t| f(x, a, t), b),
            "mul_add b",
        );
    }

    #[test]
    fn ties_and_kinks() {
        // x.max(x) = x: the two halves add up to the derivative 1.
        assert_eq!(
            max_adjoint_self(2.0, 2.0, 2.0, 1.0) + max_adjoint_other(2.0, 2.0, 2.0, 1.0),
            1.0
        );
        assert_eq!(max_adjoint_self(f64::NAN, 1.0, 1.0, 1.0), 0.0);
        assert_eq!(max_adjoint_other(f64::NAN, 1.0, 1.0, 1.0), 1.0);
        assert_eq!(abs_adjoint(0.0, 0.0, 1.0), 0.0);
        assert_eq!(powf_adjoint_other(0.0, 2.0, 0.0, 1.0), 0.0);
        assert_eq!(hypot_adjoint_self(0.0f32, 0.0, 0.0, 1.0), 0.0);
    }

    #[test]
    fn abs_trait_is_the_scalar_rule() {
        for x in [-2.5f64, -1e-3, 0.0, 0.4] {
            let d = 0.7;
            assert_eq!(
                AbsRule::abs_adjoint(&x, &x.abs(), &d),
                abs_adjoint(x, x.abs(), d)
            );
            let x = x as f32;
            assert_eq!(
                AbsRule::abs_adjoint(&x, &x.abs(), &0.7),
                abs_adjoint(x, x.abs(), 0.7)
            );
        }
    }
}
