// Comparisons, casts, rounding and calls nabla cannot differentiate are fine on values that carry
// no gradient, and anything inside `stop_gradient(..)` is exempt; the fixes the error messages
// suggest compile and differentiate.
use nabla::{differentiable, sigmoid, stop_gradient};

/// Not differentiable: fine on constants and data.
fn ln_gamma(x: f64) -> f64 {
    // Stirling, good enough for a test
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln()
}

#[differentiable]
fn student_t(x: f64, #[no_grad] df: f64, #[no_grad] n: usize) -> f64 {
    let norm = ln_gamma(0.5 * (df + 1.0)) - ln_gamma(0.5 * df);
    let scale = n as f64;
    norm * scale - 0.5 * (df + 1.0) * (1.0 + x * x / df).ln()
}

#[differentiable]
fn weighted_by_label(pred: f64, #[no_grad] target: f64) -> f64 {
    let positive = (target > 0.5) as i32 as f64;
    let bucket = target.round();
    positive * (pred - 1.0).powi(2) + bucket * pred
}

#[differentiable]
fn stopped(x: f64, w: f64) -> f64 {
    let hard = stop_gradient((x > 0.5) as i32 as f64);
    let bin = stop_gradient(x.floor());
    let other = stop_gradient(ln_gamma(w));
    hard * w + bin * w + other + x * w
}

#[differentiable]
fn straight_through(x: f64) -> f64 {
    // rounds in the forward pass, passes the gradient straight through
    let q = x + stop_gradient(x.round() - x);
    q * q
}

#[differentiable]
fn soft_indicator(pred: f64) -> f64 {
    sigmoid(10.0 * (pred - 0.5))
}

#[differentiable]
fn wrapped_phase(t: f64) -> f64 {
    let r = t - stop_gradient((t / 1.0).trunc()) * 1.0;
    2.0 * r
}

#[differentiable]
fn lookup(table: &[f64], x: f64) -> f64 {
    let i = (x.abs() * 2.0) as usize;
    table[i] * x
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs() + b.abs())
}

fn main() {
    let (_, dx) = student_t_grad(1.0, 3.0, 2);
    assert!(close(dx, -0.5 * 4.0 * (2.0 / 3.0) / (1.0 + 1.0 / 3.0)));
    assert_eq!(weighted_by_label_grad(2.0, 1.0).1, 2.0 + 1.0);
    assert_eq!(weighted_by_label_grad(2.0, 0.0).1, 0.0);
    let (_, (dx, dw)) = stopped_grad(1.5, 2.0);
    assert_eq!(dx, 2.0);
    assert_eq!(dw, 1.0 + 1.0 + 1.5);
    let (value, d) = straight_through_grad(1.3);
    assert_eq!(value, 1.0);
    assert_eq!(d, 2.0);
    let (_, d) = soft_indicator_grad(0.5);
    assert!(close(d, 10.0 * 0.25));
    assert_eq!(wrapped_phase_grad(3.25).1, 2.0);
    let table = [1.0, 2.0, 3.0];
    let (value, (dtable, dx)) = lookup_grad(&table, 0.75);
    assert_eq!(value, 2.0 * 0.75);
    assert_eq!(dtable, vec![0.0, 0.75, 0.0]);
    assert_eq!(dx, 2.0);
}
