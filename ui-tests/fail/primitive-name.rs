// The items generated beside a function named like a primitive type would hide the type.
use nabla::differentiable;

#[differentiable]
#[allow(non_snake_case)]
fn f64(x: f64) -> f64 {
    x * x
}

fn main() {}
