//! Step values — comparisons, masks, signs — that only scale values carrying gradient, also
//! through arithmetic with constants (`a * (1.0 + m)`): piecewise, the gradient is the one each
//! piece has. Every gradient against central finite differences away from the steps, and
//! closed forms.

mod common;

use common::check_fd;
use nabla::differentiable;

/// A weight raised by one where the label passes a threshold.
#[differentiable]
fn boosted(a: f64, y: f64) -> f64 {
    let m = if y > 0.5 { 1.0 } else { 0.0 };
    a * (1.0 + m) + y * y
}

/// Leaky ReLU written with a mask: the slope is `0.99 · mask + 0.01`.
#[differentiable]
fn leaky(x: f64) -> f64 {
    let slope = 0.99 * ((x > 0.0) as i32 as f64) + 0.01;
    slope * x
}

#[test]
fn steps_through_arithmetic_with_constants_scale() {
    for [a, y] in [[2.0, 1.0], [2.0, 0.2], [-0.7, 3.0]] {
        let (value, (da, dy)) = boosted_grad(a, y);
        let m = if y > 0.5 { 1.0 } else { 0.0 };
        assert_eq!(value, a * (1.0 + m) + y * y);
        assert_eq!((da, dy), (1.0 + m, 2.0 * y));
        check_fd(|[a, y]| boosted(a, y), [a, y], [da, dy], "boosted");
    }
    for x in [-2.0, 0.5, 3.0] {
        let (value, dx) = leaky_grad(x);
        let slope = if x > 0.0 { 1.0 } else { 0.01 };
        assert!((value - slope * x).abs() < 1e-15);
        assert!((dx - slope).abs() < 1e-15);
        check_fd(|[x]| leaky(x), [x], [dx], "leaky");
    }
}
