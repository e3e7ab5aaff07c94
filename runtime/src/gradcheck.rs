//! Finite-difference gradient check for users, like `torch.autograd.gradcheck`.
//!
//! [`check_gradient`] compares a gradient you computed (with `NAME_grad`, a custom pullback or by
//! hand) against derivatives estimated numerically from function values alone, coordinate by
//! coordinate, and reports the worst disagreement in a [`GradientReport`].
//!
//! The numeric derivatives use Ridders' method: central differences at a sequence of shrinking
//! steps, extrapolated to step zero (Richardson extrapolation), keeping the estimate whose own
//! error estimate is smallest. So there is no step size to tune: large steps lose to truncation
//! error and tiny steps to rounding error, and the method picks the step between the two for each
//! coordinate. Steps that land outside the function's domain (`NaN`) or across a kink are
//! outvoted by the clean smaller ones. For smooth `f64` functions the estimates are typically
//! good to 1e-10 or better.
//!
//! The limit of any finite-difference check is rounding in `f` itself: an estimate carries an
//! error of about `ε·|f(x)| / h`, so a derivative of order 1 beside a function value of order
//! 1e8 is resolved only to about 1e-5. Check at points where `f` is not huge compared with its
//! derivatives, or leave a large constant term out of `f`.

use core::fmt;

use crate::parameters::Parameters;
use crate::Real;

/// The outcome of [`check_gradient`]: the coordinate where the given gradient and the numeric
/// estimate disagree most.
///
/// Errors are relative in ADBench's sense, `|a - b| / max(1, |a| + |b|)`: absolute for small
/// derivatives, relative for large ones. A non-finite derivative on either side counts as an
/// infinite error.
///
/// ```
/// use nabla_runtime::check_gradient;
///
/// let report = check_gradient(|x| x[0] * x[1], &[2.0, 3.0], &[3.0, 2.0]);
/// assert!(report.worst_error < 1e-9);
/// report.assert_below(1e-6);
/// println!("{report}"); // "gradient check: worst relative error 1.2e-13 at coordinate 0 ..."
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientReport {
    /// The largest relative error over all coordinates (0 when there are none).
    pub worst_error: f64,
    /// The coordinate where it occurs.
    pub worst_index: usize,
    /// The given (analytic) derivative at that coordinate.
    pub analytic: f64,
    /// The numeric estimate at that coordinate.
    pub numeric: f64,
}

impl GradientReport {
    /// Whether every coordinate agrees to within `tolerance` (a non-finite error never does).
    ///
    /// ```
    /// use nabla_runtime::check_gradient;
    ///
    /// // d/dx x² is 2x, not x: the check fails.
    /// let report = check_gradient(|x| x[0] * x[0], &[3.0], &[3.0]);
    /// assert!(!report.passes(1e-6));
    /// ```
    #[must_use]
    pub fn passes(&self, tolerance: f64) -> bool {
        // Written so that a NaN error fails.
        self.worst_error <= tolerance
    }

    /// Panics, naming the coordinate and both derivatives, unless every coordinate agrees to
    /// within `tolerance`. About 1e-6 suits `f64` functions; `f32` ones need about 1e-2 to 1e-3.
    ///
    /// ```should_panic
    /// use nabla_runtime::check_gradient;
    ///
    /// // gradient check failed at coordinate 1: analytic 0e0, numeric 2e0, ...
    /// check_gradient(|x| x[0] + 2.0 * x[1], &[1.0, 1.0], &[1.0, 0.0]).assert_below(1e-6);
    /// ```
    #[track_caller]
    pub fn assert_below(&self, tolerance: f64) {
        assert!(
            self.passes(tolerance),
            "gradient check failed at coordinate {}: analytic {:e}, numeric {:e}, relative error {:.3e} exceeds the tolerance {:e}",
            self.worst_index,
            self.analytic,
            self.numeric,
            self.worst_error,
            tolerance,
        );
    }
}

impl fmt::Display for GradientReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient check: worst relative error {:.3e} at coordinate {} (analytic {:e}, numeric {:e})",
            self.worst_error, self.worst_index, self.analytic, self.numeric
        )
    }
}

/// The relative error of ADBench, `|a - b| / max(1, |a| + |b|)`; infinite when either side is
/// not finite.
fn relative_error(a: f64, b: f64) -> f64 {
    if a.is_finite() && b.is_finite() {
        (a - b).abs() / (a.abs() + b.abs()).max(1.0)
    } else {
        f64::INFINITY
    }
}

/// Checks `gradient` against finite differences of `f` at `x`.
///
/// `f` takes the point as a slice; flatten structured parameters into one slice (and the
/// gradient likewise, in the same order). Works for `f64` and `f32`; the numbers in the report
/// are `f64`. Each coordinate costs up to 24 evaluations of `f` (usually 8 to 12).
///
/// # Panics
///
/// If `x` and `gradient` have different lengths.
///
/// # Example
///
/// A hand-written gradient of `f(x, y) = sin(x·y) + x`, checked at a point:
///
/// ```
/// use nabla_runtime::check_gradient;
///
/// let f = |v: &[f64]| (v[0] * v[1]).sin() + v[0];
/// let grad = |x: f64, y: f64| [y * (x * y).cos() + 1.0, x * (x * y).cos()];
///
/// let x = [0.5, -2.0];
/// let report = check_gradient(f, &x, &grad(x[0], x[1]));
/// report.assert_below(1e-6);
///
/// // A wrong gradient (the `+ 1.0` forgotten) is caught, at coordinate 0:
/// let wrong = [x[1] * (x[0] * x[1]).cos(), x[0] * (x[0] * x[1]).cos()];
/// let report = check_gradient(f, &x, &wrong);
/// assert!(!report.passes(1e-6));
/// assert_eq!(report.worst_index, 0);
/// ```
///
/// With a gradient generated by `#[differentiable]` (in a crate depending on `nabla`):
///
/// ```text
/// let (_, (dx, dy)) = f_grad(0.5, -2.0);
/// nabla::check_gradient(|v| f(v[0], v[1]), &[0.5, -2.0], &[dx, dy]).assert_below(1e-6);
/// ```
pub fn check_gradient<T, F>(f: F, x: &[T], gradient: &[T]) -> GradientReport
where
    T: Real,
    F: Fn(&[T]) -> T,
{
    assert_eq!(
        x.len(),
        gradient.len(),
        "check_gradient: the point has {} coordinates but the gradient has {}",
        x.len(),
        gradient.len()
    );
    let numeric = numeric_gradient(f, x);
    let mut report = GradientReport {
        worst_error: 0.0,
        worst_index: 0,
        analytic: gradient.first().map_or(0.0, |g| g.to_f64()),
        numeric: numeric.first().copied().unwrap_or(0.0),
    };
    for (i, (&a, &n)) in gradient.iter().zip(&numeric).enumerate() {
        let a = a.to_f64();
        let error = relative_error(a, n);
        if error > report.worst_error {
            report = GradientReport {
                worst_error: error,
                worst_index: i,
                analytic: a,
                numeric: n,
            };
        }
    }
    report
}

/// [`check_gradient`] for any [`Parameters`] value: a model struct deriving `Parameters`, a
/// tuple, a matrix. Checks `gradient` against central differences of `f` in every float of
/// `params`, in the order an optimizer walks them (which [`GradientReport::worst_index`] counts
/// in). A gradient whose shape does not match the parameters' is reported as an infinite error.
///
/// ```
/// use nabla_runtime::check_parameters;
/// use nalgebra::Vector2;
///
/// let loss = |p: &(f64, Vector2<f64>)| p.0 * p.1.norm_squared();
/// let p = (2.0, Vector2::new(1.0, -3.0));
/// let gradient = (10.0, Vector2::new(4.0, -12.0)); // (|v|², 2·s·v)
/// check_parameters(loss, &p, &gradient).assert_below(1e-8);
/// ```
pub fn check_parameters<P, F>(f: F, params: &P, gradient: &P::Gradient) -> GradientReport
where
    P: Parameters + Clone,
    F: Fn(&P) -> f64,
{
    let Some((x, g)) = crate::flat::flatten(params, gradient) else {
        return GradientReport {
            worst_error: f64::INFINITY,
            worst_index: 0,
            analytic: f64::NAN,
            numeric: f64::NAN,
        };
    };
    let at = |values: &[f64]| {
        let mut point = params.clone();
        crate::flat::write_flat(&mut point, gradient, values);
        f(&point)
    };
    check_gradient(at, &x, &g)
}

/// The gradient of `f` at `x` estimated from function values alone (Ridders' method, see the
/// [module documentation](self)), as `f64` whatever `T` is.
///
/// ```
/// use nabla_runtime::numeric_gradient;
///
/// let g = numeric_gradient(|v: &[f64]| v[0].exp() * v[1], &[0.0, 3.0]);
/// assert!((g[0] - 3.0).abs() < 1e-10);
/// assert!((g[1] - 1.0).abs() < 1e-10);
/// ```
pub fn numeric_gradient<T, F>(f: F, x: &[T]) -> Vec<f64>
where
    T: Real,
    F: Fn(&[T]) -> T,
{
    let mut point = x.to_vec();
    (0..x.len()).map(|i| ridders(&f, &mut point, i)).collect()
}

/// Levels of the extrapolation tableau: steps from the first one down to 1/2048 of it.
const LEVELS: usize = 12;

/// Ridders' method (Numerical Recipes `dfridr`) for ∂f/∂x_i, restoring `point[i]` afterwards.
fn ridders<T: Real, F: Fn(&[T]) -> T>(f: &F, point: &mut [T], i: usize) -> f64 {
    // Halving the step each level makes the Richardson factors powers of 4.
    const SHRINK: f64 = 2.0;
    // Stop once the diagonal moves away by this many times the best error estimate so far:
    // rounding error has started to dominate.
    const SAFE: f64 = 2.0;

    let x = point[i];
    // The first step, ε^(1/5) (7e-4 in f64, 0.04 in f32), is the optimal step of a fourth-order
    // difference: coarse enough that rounding error is small, and extrapolation removes its
    // truncation error. It is absolute, because the scale on which f varies need not grow with
    // x, until |x|·√ε makes it poorly resolved (|x| ≳ 7e7 in f64, 3e3 in f32).
    let eps = T::EPSILON.to_f64();
    let mut h = eps.powf(0.2) * (x.to_f64().abs() * eps.sqrt()).max(1.0);

    let mut central = |h: f64| -> f64 {
        // Evaluate at representable points and divide by the step actually taken.
        let plus = x + T::from_f64(h);
        let minus = x - T::from_f64(h);
        point[i] = plus;
        let f_plus = f(point);
        point[i] = minus;
        let f_minus = f(point);
        point[i] = x;
        (f_plus - f_minus).to_f64() / (plus - minus).to_f64()
    };

    let mut table = [[0.0f64; LEVELS]; LEVELS];
    table[0][0] = central(h);
    let mut smallest_step = table[0][0];
    let mut best = f64::NAN;
    let mut best_error = f64::INFINITY;
    for level in 1..LEVELS {
        h /= SHRINK;
        table[0][level] = central(h);
        smallest_step = table[0][level];
        let mut factor = SHRINK * SHRINK;
        for order in 1..=level {
            table[order][level] =
                (table[order - 1][level] * factor - table[order - 1][level - 1]) / (factor - 1.0);
            factor *= SHRINK * SHRINK;
            let error = (table[order][level] - table[order - 1][level])
                .abs()
                .max((table[order][level] - table[order - 1][level - 1]).abs());
            // NaN estimates (steps outside the domain) never compare as better.
            if error <= best_error {
                best_error = error;
                best = table[order][level];
            }
        }
        if (table[level][level] - table[level - 1][level - 1]).abs() >= SAFE * best_error {
            break;
        }
    }
    if best.is_nan() {
        // Only when no two consecutive estimates were finite: report the one at the smallest
        // step taken (NaN or infinite, most likely), rather than hide the problem.
        best = smallest_step;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_functions_are_estimated_to_near_machine_precision() {
        type Scalar = fn(f64) -> f64;
        let cases: [(Scalar, Scalar, &[f64]); 4] = [
            (f64::exp, f64::exp, &[-3.0, 0.0, 2.5, 20.0]),
            (f64::sin, f64::cos, &[-2.0, 0.0, 1e-3, 7.0]),
            (|x| x.powi(3), |x| 3.0 * x * x, &[-4.0, 0.0, 0.5, 1e4]),
            (f64::ln, |x| 1.0 / x, &[1e-3, 0.5, 3.0, 1e6]),
        ];
        for (f, df, points) in cases {
            for &x in points {
                let n = numeric_gradient(|v: &[f64]| f(v[0]), &[x])[0];
                assert!(
                    relative_error(n, df(x)) < 1e-9,
                    "at {x}: numeric {n}, exact {}",
                    df(x)
                );
            }
        }
    }

    #[test]
    fn kinks_away_from_the_point_do_not_spoil_the_estimate() {
        // The first step (7.4e-4) straddles the kink at 0; the smaller ones win.
        let n = numeric_gradient(|v: &[f64]| v[0].abs() * 3.0, &[5e-4])[0];
        assert!(relative_error(n, 3.0) < 1e-12, "{n}");
    }

    #[test]
    fn a_correct_gradient_passes_and_a_wrong_one_is_located() {
        let f = |v: &[f64]| v[0] * v[1].exp() + v[2] * v[2];
        let x = [1.5, -0.5, 2.0];
        let good = [(-0.5f64).exp(), 1.5 * (-0.5f64).exp(), 4.0];
        let report = check_gradient(f, &x, &good);
        report.assert_below(1e-9);

        let mut bad = good;
        bad[2] = 2.0;
        let report = check_gradient(f, &x, &bad);
        assert_eq!(report.worst_index, 2);
        assert_eq!(report.analytic, 2.0);
        assert!((report.numeric - 4.0).abs() < 1e-9);
        assert!((report.worst_error - 2.0 / 6.0).abs() < 1e-9);
        assert!(!report.passes(1e-6));
    }

    #[test]
    fn the_failure_message_names_the_coordinate() {
        let result = std::panic::catch_unwind(|| {
            check_gradient(|v: &[f64]| v[0] + 2.0 * v[1], &[1.0, 1.0], &[1.0, 0.0])
                .assert_below(1e-6);
        });
        let payload = result.expect_err("a wrong gradient must fail");
        let message = payload
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(
            message.contains("coordinate 1") && message.contains("analytic 0e0"),
            "{message}"
        );
    }

    #[test]
    fn non_finite_gradients_fail() {
        let report = check_gradient(|v: &[f64]| v[0], &[1.0], &[f64::NAN]);
        assert_eq!(report.worst_error, f64::INFINITY);
        assert!(!report.passes(1e-6));
        let report = check_gradient(|v: &[f64]| v[0].sqrt(), &[-1.0], &[0.0]);
        assert!(!report.passes(1e-6));
    }

    #[test]
    fn the_edge_of_the_domain_gives_nan_not_an_invented_number() {
        // √x at 0: every step reaches x < 0, so no estimate is finite.
        let n = numeric_gradient(|v: &[f64]| v[0].sqrt(), &[0.0])[0];
        assert!(n.is_nan(), "{n}");
        assert!(!check_gradient(|v: &[f64]| v[0].sqrt(), &[0.0], &[1e300]).passes(1e-6));
    }

    #[test]
    fn f32_functions_are_checked_too() {
        let report = check_gradient(
            |v: &[f32]| v[0] * v[0] + v[1].sin(),
            &[1.5f32, 0.3],
            &[3.0, 0.3f32.cos()],
        );
        report.assert_below(1e-3);
    }

    #[test]
    fn empty_points_report_no_error() {
        let report = check_gradient(|_: &[f64]| 1.0, &[], &[]);
        assert_eq!(report.worst_error, 0.0);
        report.assert_below(0.0);
    }

    #[test]
    #[should_panic(expected = "the point has 2 coordinates but the gradient has 1")]
    fn length_mismatch_panics() {
        let _ = check_gradient(|v: &[f64]| v[0], &[1.0, 2.0], &[1.0]);
    }
}
