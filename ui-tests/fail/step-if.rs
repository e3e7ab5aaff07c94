// An `if` that picks between constants on a condition that depends on a parameter: a step
// function "disguised as an innocuous conditional". Rejected wherever its value is used.
use nabla::differentiable;

#[differentiable]
fn gate(x: f64) -> f64 {
    if x.sin() > 0.5 {
        1.0
    } else {
        0.0
    }
}

#[differentiable]
fn scaled(x: f64, w: f64) -> f64 {
    let s = if x > w { 1.0 } else { -1.0 };
    s * 3.0
}

fn main() {}
