// A step value that enters the result as a term of its own, or is the only way a parameter
// reaches the result, has gradient zero: still an error (Keras's `loss + cast(pred > 0.5)`).
use nabla::differentiable;

#[differentiable]
fn loss_with_penalty(pred: f64, #[no_grad] target: f64) -> f64 {
    let e = pred - target;
    let over = (pred > 0.5) as i32 as f64;
    e * e + over
}

#[differentiable]
fn gate_only(x: f64, y: f64) -> f64 {
    let s = if x > 0.0 { 1.0 } else { -1.0 };
    s * y
}

#[differentiable]
fn sign_only(x: f64, y: f64) -> f64 {
    y * x.signum()
}

// A step as the exponent of a constant: the only way `x` reaches the result.
#[differentiable]
fn exponent_only(x: f64) -> f64 {
    let k = (x * 2.0) as i32;
    2.0f64.powi(k)
}

// The help's example computes with the compared value, `x`, not the whole parameter `w`.
#[differentiable]
fn element(w: [f64; 2]) -> f64 {
    let x = w[0];
    if x > 0.5 {
        1.0
    } else {
        0.0
    }
}

fn main() {}
