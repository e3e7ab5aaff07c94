// Returning constants from a branch on a parameter makes the result a step function.
use nabla::differentiable;

#[differentiable]
fn threshold(x: f64) -> f64 {
    if x > 0.5 {
        return 1.0;
    }
    0.0
}

fn main() {}
