// Parameters whose gradient would always be zero (TF: a layer that never reaches the loss gets
// `None` gradients).
use nabla::{differentiable, stop_gradient};

#[differentiable]
fn unused(w: f64, b: f64, #[no_grad] x: f64) -> f64 {
    b * x
}

#[differentiable]
fn only_in_condition(w: f64, temperature: f64) -> f64 {
    if temperature > 1.0 {
        w * 2.0
    } else {
        w
    }
}

#[differentiable]
fn only_stopped(w: f64, scale: f64) -> f64 {
    w * stop_gradient(scale)
}

/// Data that decides a count by which a weight is scaled, left without `#[no_grad]`.
#[differentiable]
fn counted_above(x: &[f64], w: f64) -> f64 {
    let mut n = 0.0;
    for &v in x {
        if v > w {
            n += 1.0;
        }
    }
    n * w + w * w
}

fn main() {}
