// Standard-library functions have no derivative in nabla.
use nabla::differentiable;

#[differentiable]
fn widen(x: f32) -> f64 {
    f64::from(x) * 2.0
}

#[differentiable]
fn wrapped(x: f64) -> f64 {
    std::convert::identity(x) + 1.0
}

fn main() {}
