//! Calls between `#[differentiable]` functions (same module, another module by path, imported
//! with `use`), `#[custom_gradient]`, `stop_gradient`, and generated functions used from other
//! modules.

mod common;

use common::{check_exact, check_fd, check_vjp};
use nabla::{custom_gradient, differentiable, stop_gradient};

// ---------------------------------------------------------------------------------------------
// Calls within one module.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn square_plus_sin(a: f64, b: f64) -> f64 {
    a * a + b.sin()
}

#[differentiable]
fn calls_same_module(x: f64, y: f64) -> f64 {
    let u = square_plus_sin(x * y, x);
    let v = square_plus_sin(u, y); // the same function twice
    v + u * x
}

#[test]
fn a_call_in_the_same_module() {
    // u = x²y² + sin x, v = u² + sin y, f = v + u x
    for [x, y] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gx, gy)) = calls_same_module_grad(x, y);
        assert_eq!(v.to_bits(), calls_same_module(x, y).to_bits());
        let (u, (du_da, du_db)) = square_plus_sin_grad(x * y, x);
        check_exact(
            [du_da, du_db],
            [2.0 * x * y, x.cos()],
            [x * y, x],
            "square_plus_sin",
        );
        let (du_dx, du_dy) = (2.0 * x * y * y + x.cos(), 2.0 * x * x * y);
        let dx = 2.0 * u * du_dx + du_dx * x + u;
        let dy = 2.0 * u * du_dy + y.cos() + du_dy * x;
        check_exact([gx, gy], [dx, dy], [x, y], "calls_same_module");
        check_fd(
            |[x, y]| calls_same_module(x, y),
            [x, y],
            [gx, gy],
            "calls_same_module",
        );
        for c in [-0.5, 3.0] {
            let (_, (vx, vy)) = calls_same_module_vjp(x, y, c);
            check_vjp(vx, c, gx, "calls_same_module, x");
            check_vjp(vy, c, gy, "calls_same_module, y");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls into other modules: by path, through `use`, and `_grad` used from elsewhere.
// ---------------------------------------------------------------------------------------------

mod physics {
    use nabla::differentiable;

    /// Energy of an anharmonic oscillator of mass 2.
    #[differentiable]
    pub fn energy(q: f64, p: f64) -> f64 {
        kinetic(p, 2.0) + potential(q)
    }

    #[differentiable]
    pub fn kinetic(p: f64, #[no_grad] m: f64) -> f64 {
        p * p / (2.0 * m)
    }

    #[differentiable]
    pub fn potential(q: f64) -> f64 {
        1.5 * q * q + 0.1 * q.powi(4)
    }

    pub mod springs {
        use nabla::differentiable;

        /// The Morse potential `d (1 - e^{-a (r - r0)})²`.
        #[differentiable]
        pub fn morse(r: f64, d: f64, a: f64, #[no_grad] r0: f64) -> f64 {
            let e = (-a * (r - r0)).exp();
            d * (1.0 - e).powi(2)
        }
    }
}

/// ∂E/∂q, ∂E/∂p of `physics::energy`, by hand.
fn energy_gradient(q: f64, p: f64) -> [f64; 2] {
    [3.0 * q + 0.4 * q.powi(3), p / 2.0]
}

/// ∂/∂(r, d, a) of `physics::springs::morse`, by hand.
fn morse_gradient(r: f64, d: f64, a: f64, r0: f64) -> [f64; 3] {
    let e = (-a * (r - r0)).exp();
    let s = 1.0 - e;
    [2.0 * d * s * e * a, s * s, 2.0 * d * s * e * (r - r0)]
}

#[differentiable]
fn total_energy(q: f64, p: f64) -> f64 {
    physics::energy(q, p) * 2.0 + q * p
}

#[test]
fn a_call_into_a_nested_module_by_path() {
    for [q, p] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.0]] {
        let (v, (gq, gp)) = total_energy_grad(q, p);
        assert_eq!(v.to_bits(), total_energy(q, p).to_bits());
        let [eq, ep] = energy_gradient(q, p);
        check_exact(
            [gq, gp],
            [2.0 * eq + p, 2.0 * ep + q],
            [q, p],
            "total_energy",
        );
        check_fd(
            |[q, p]| total_energy(q, p),
            [q, p],
            [gq, gp],
            "total_energy",
        );
    }
}

use physics::kinetic;
use physics::springs::morse;

#[differentiable]
fn via_use(p: f64, r: f64) -> f64 {
    // `p` reaches the result through both callees; `r0` of `morse` is `#[no_grad]`.
    kinetic(p, 1.5) + morse(r, 2.0, p, 1.0)
}

#[test]
fn calls_imported_with_use() {
    for [p, r] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, 1.002], [-2.0, -0.5]] {
        let (v, (gp, gr)) = via_use_grad(p, r);
        assert_eq!(v.to_bits(), via_use(p, r).to_bits());
        let [dr, _, da] = morse_gradient(r, 2.0, p, 1.0);
        check_exact([gp, gr], [p / 1.5 + da, dr], [p, r], "via_use");
        check_fd(|[p, r]| via_use(p, r), [p, r], [gp, gr], "via_use");
    }
    for [r, d, a] in [[1.5, 2.0, 0.7], [0.2, 0.5, -1.1]] {
        let (_, (gr, gd, ga)) = physics::springs::morse_grad(r, d, a, 1.0);
        check_exact(
            [gr, gd, ga],
            morse_gradient(r, d, a, 1.0),
            [r, d, a],
            "morse",
        );
    }
}

#[differentiable]
fn via_absolute_paths(q: f64, d: f64) -> f64 {
    crate::physics::potential(q * 2.0 + 1.0) + self::physics::springs::morse(q, d, 1.0, 0.5)
}

#[test]
fn calls_through_crate_and_self_paths() {
    for [q, d] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3]] {
        let (_, (gq, gd)) = via_absolute_paths_grad(q, d);
        let s = q * 2.0 + 1.0;
        let [mr, md, _] = morse_gradient(q, d, 1.0, 0.5);
        let dq = 2.0 * (3.0 * s + 0.4 * s.powi(3)) + mr;
        check_exact([gq, gd], [dq, md], [q, d], "via_absolute_paths");
        check_fd(
            |[q, d]| via_absolute_paths(q, d),
            [q, d],
            [gq, gd],
            "via_absolute_paths",
        );
    }
}

mod simulation {
    use super::physics::energy_grad;

    /// Hamilton's equations: `(dq/dt, dp/dt) = (∂H/∂p, -∂H/∂q)`, using the generated
    /// `energy_grad` of a `pub fn` in another module.
    pub fn hamiltonian_flow(q: f64, p: f64) -> (f64, f64) {
        let (_, (dh_dq, dh_dp)) = energy_grad(q, p);
        (dh_dp, -dh_dq)
    }

    /// One symplectic Euler step, through the path form `super::physics::kinetic_grad`.
    pub fn symplectic_euler(q: f64, p: f64, dt: f64) -> (f64, f64) {
        let (_, dv) = super::physics::potential_grad(q);
        let p = p - dt * dv;
        let (_, dk) = super::physics::kinetic_grad(p, 2.0);
        (q + dt * dk, p)
    }
}

#[test]
fn generated_functions_of_a_pub_fn_are_usable_from_other_modules() {
    for [q, p] in [[0.5, 2.0], [-1.3, 0.7], [1e-3, -2e-3]] {
        let (dq, dp) = simulation::hamiltonian_flow(q, p);
        let [eq, ep] = energy_gradient(q, p);
        check_exact([dq, dp], [ep, -eq], [q, p], "hamiltonian_flow");
    }
    // Symplectic Euler keeps the energy of the oscillator bounded over many steps.
    let (mut q, mut p) = (1.0, 0.0);
    let e0 = physics::energy(q, p);
    for _ in 0..10_000 {
        (q, p) = simulation::symplectic_euler(q, p, 1e-3);
    }
    let drift = (physics::energy(q, p) - e0).abs() / e0;
    assert!(drift < 1e-2, "energy drift {drift}");
}

// ---------------------------------------------------------------------------------------------
// `#[custom_gradient]`: bodies that are not differentiable (a table lookup, a library-style
// iterative routine) with a hand-written pullback.
// ---------------------------------------------------------------------------------------------

/// Samples of `x³` at 0, 1, 2, 3, 4.
const CUBES: [f64; 5] = [0.0, 1.0, 8.0, 27.0, 64.0];

/// Piecewise-linear interpolation in `CUBES`: `floor` and an index, so the body itself could
/// not be `#[differentiable]`.
#[custom_gradient(lookup_pullback)]
fn lookup(x: f64) -> f64 {
    let i = (x.floor().max(0.0) as usize).min(3);
    let t = x - i as f64;
    CUBES[i] * (1.0 - t) + CUBES[i + 1] * t
}

fn lookup_pullback(x: f64, cotangent: f64) -> f64 {
    let i = (x.floor().max(0.0) as usize).min(3);
    (CUBES[i + 1] - CUBES[i]) * cotangent
}

/// The error function by its Taylor series, summed until the terms stop mattering: a loop, so
/// an opaque routine as far as the macro is concerned.
#[custom_gradient(erf_pullback)]
fn erf(x: f64) -> f64 {
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= -x * x / n;
        sum += term / (2.0 * n + 1.0);
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

fn erf_pullback(x: f64, cotangent: f64) -> f64 {
    cotangent * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp()
}

/// `sqrt(a² + b²)` by Newton's method on `r² = a² + b²`, with two active parameters and one
/// `#[no_grad]` tolerance.
#[custom_gradient(newton_norm_pullback)]
fn newton_norm(a: f64, b: f64, #[no_grad] tol: f64) -> f64 {
    let s = a * a + b * b;
    let mut r = s.max(1.0);
    loop {
        let next = 0.5 * (r + s / r);
        if (r - next).abs() <= tol * next {
            return next;
        }
        r = next;
    }
}

fn newton_norm_pullback(a: f64, b: f64, tol: f64, cotangent: f64) -> (f64, f64) {
    let r = newton_norm(a, b, tol);
    (cotangent * a / r, cotangent * b / r)
}

#[test]
fn custom_gradient_functions_have_grad_and_vjp() {
    assert!((erf(0.5) - 0.520_499_877_813_046_5).abs() < 1e-15);
    for x in [-2.0, -0.3, 1e-3, 0.8, 2.5] {
        let (v, g) = erf_grad(x);
        assert_eq!(v.to_bits(), erf(x).to_bits());
        check_exact([g], [erf_pullback(x, 1.0)], [x], "erf");
        check_fd(|[x]| erf(x), [x], [g], "erf");
        let (_, gv) = erf_vjp(x, -2.0);
        check_vjp(gv, -2.0, g, "erf");
    }
    for x in [0.5, 1.5, 2.25, 3.75] {
        let (v, g) = lookup_grad(x);
        assert_eq!(v.to_bits(), lookup(x).to_bits());
        check_fd(|[x]| lookup(x), [x], [g], "lookup");
    }
    for [a, b] in [[3.0, 4.0], [-0.3, 1e-3], [1e-3, -2e-3]] {
        let (v, (ga, gb)) = newton_norm_grad(a, b, 1e-15);
        assert!((v - a.hypot(b)).abs() < 1e-14 * v.max(1.0));
        check_exact([ga, gb], [a / v, b / v], [a, b], "newton_norm");
        check_fd(
            |[a, b]| newton_norm(a, b, 1e-15),
            [a, b],
            [ga, gb],
            "newton_norm",
        );
    }
}

#[differentiable]
fn uses_custom(x: f64, y: f64) -> f64 {
    let g = erf(x * y);
    let t = lookup(y * y + 1.0);
    g * t + newton_norm(x, g, 1e-15)
}

#[test]
fn differentiable_code_calls_custom_gradients() {
    for [x, y] in [[0.5, 1.2], [-1.3, 0.7], [1e-3, -0.5], [-0.4, -1.5]] {
        let (v, (gx, gy)) = uses_custom_grad(x, y);
        assert_eq!(v.to_bits(), uses_custom(x, y).to_bits());
        let g = erf(x * y);
        let dg = std::f64::consts::FRAC_2_SQRT_PI * (-x * x * y * y).exp(); // erf'
        let t = lookup(y * y + 1.0);
        let dt = lookup_pullback(y * y + 1.0, 1.0);
        let r = x.hypot(g);
        let (dr_dx, dr_dg) = (x / r, g / r);
        let dx = dg * y * t + dr_dx + dr_dg * dg * y;
        let dy = dg * x * t + g * dt * 2.0 * y + dr_dg * dg * x;
        // the Newton iteration matches sqrt only to its tolerance
        check_exact([gx, gy], [dx, dy], [x, y], "uses_custom");
        check_fd(|[x, y]| uses_custom(x, y), [x, y], [gx, gy], "uses_custom");
    }
}

// ---------------------------------------------------------------------------------------------
// `stop_gradient`.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn stopped(x: f64, y: f64) -> f64 {
    // The stopped expressions may compare and round: they are exempt from the checks.
    let sign = stop_gradient(if x > 0.0 { 1.0 } else { -1.0 });
    let scale = stop_gradient(x.abs() + y.round());
    sign * x * scale + nabla::stop_gradient(x * y) * y
}

#[test]
fn stop_gradient_treats_its_value_as_a_constant() {
    // f = s x (|x| + round y) + (x y) y with s, |x| + round y and x y held constant
    for [x, y] in [[0.5, 2.2], [-1.3, 0.7], [1e-3, -2e-3], [-2.0, -3.4]] {
        let (v, (gx, gy)) = stopped_grad(x, y);
        assert_eq!(v.to_bits(), stopped(x, y).to_bits());
        let s = x.signum();
        let scale = x.abs() + y.round();
        check_exact([gx, gy], [s * scale, x * y], [x, y], "stopped");
    }
}

#[differentiable]
fn normalized(x: f64, y: f64) -> f64 {
    // The "straight-through" normalization: the norm is a constant in the backward pass.
    let n = stop_gradient(x.hypot(y).max(1e-12));
    (x / n) * 3.0 + (y / n).sin()
}

#[test]
fn stop_gradient_around_a_norm() {
    for [x, y] in [[3.0, 4.0], [-1.3, 0.7], [1e-3, -2e-3]] {
        let (v, (gx, gy)) = normalized_grad(x, y);
        assert_eq!(v.to_bits(), normalized(x, y).to_bits());
        let n = x.hypot(y).max(1e-12);
        check_exact([gx, gy], [3.0 / n, (y / n).cos() / n], [x, y], "normalized");
    }
}

// ---------------------------------------------------------------------------------------------
// Functions that return tuples, destructured by their callers.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn polar(x: f64, y: f64) -> (f64, f64) {
    let r = (x * x + y * y).sqrt();
    (r, y.atan2(x))
}

/// The tuple comes out of an `if`: each arm's items receive the cotangent's.
#[differentiable]
fn ordered(x: f64, y: f64) -> (f64, f64) {
    if x < y {
        (x, y * y)
    } else {
        (y * y, x)
    }
}

#[differentiable]
fn scaled(x: f64, v: &nalgebra::Vector2<f64>) -> (f64, nalgebra::Vector2<f64>) {
    (x * v.norm(), v * x)
}

#[differentiable]
fn through_tuples(x: f64, y: f64) -> f64 {
    let (r, theta) = polar(x, y);
    let (a, b) = ordered(x, r);
    let (s, w) = scaled(a, &nalgebra::Vector2::new(b, theta));
    r * theta.sin() + a * b.exp() + s + w.sum()
}

#[test]
fn tuples_returned_and_destructured() {
    for (x, y) in [(0.6, -0.8), (0.3, 0.9), (1.2, -0.4)] {
        let (value, (dx, dy)) = through_tuples_grad(x, y);
        assert_eq!(value, through_tuples(x, y));
        check_fd(
            |p| through_tuples(p[0], p[1]),
            [x, y],
            [dx, dy],
            "through tuples",
        );
    }
    // The vector-Jacobian product of a tuple result: the cotangent is a tuple too.
    let ((r, theta), (dx, dy)) = polar_vjp(0.6, -0.8, (1.0, 0.5));
    assert_eq!((r, theta), polar(0.6, -0.8));
    // dr/dx = x/r, dθ/dx = -y/r², dr/dy = y/r, dθ/dy = x/r² at r = 1.
    assert!((dx - (0.6 + 0.5 * 0.8)).abs() < 1e-12, "{dx}");
    assert!((dy - (-0.8 + 0.5 * 0.6)).abs() < 1e-12, "{dy}");
}

/// A generic function over `T: Real` that returns a tuple, for `f32` and `f64`.
#[differentiable]
fn generic_pair<T: nabla::Real>(x: T, y: T) -> (T, T) {
    let r = (x * x + y * y).sqrt();
    (r, x.sin() * y)
}

#[differentiable]
fn through_generic_pair<T: nabla::Real>(x: T, y: T) -> T {
    let (r, s) = generic_pair(x, y);
    r * s.sin()
}

#[test]
fn generic_tuple_results() {
    let (value, (dx, dy)) = through_generic_pair_grad(0.6f64, -0.8);
    assert_eq!(value, through_generic_pair(0.6f64, -0.8));
    check_fd(
        |p| through_generic_pair(p[0], p[1]),
        [0.6, -0.8],
        [dx, dy],
        "generic tuple result",
    );
    let (_, (dx32, dy32)) = through_generic_pair_grad(0.6f32, -0.8);
    assert!((dx32 as f64 - dx).abs() < 1e-5 && (dy32 as f64 - dy).abs() < 1e-5);
}
