// Other operations with zero or no derivative: `signum`, bit reinterpretation, `copysign`.
use nabla::differentiable;

#[differentiable]
fn sign(x: f64) -> f64 {
    x.signum() * 2.0
}

#[differentiable]
fn bits(x: f32) -> f64 {
    f64::from(x.to_bits())
}

#[differentiable]
fn mirrored(x: f64, #[no_grad] s: f64) -> f64 {
    x.copysign(s)
}

fn main() {}
