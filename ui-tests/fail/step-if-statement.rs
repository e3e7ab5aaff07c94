// A statement `if` that sets a variable only to constants on a condition that depends on a
// parameter: the variable is a step function, rejected where it meets the computed value.
use nabla::differentiable;

#[differentiable]
fn leaky(x: f64) -> f64 {
    let mut scale = 1.0;
    if x < 0.0 {
        scale = 0.01;
    }
    scale * x
}

fn main() {}
