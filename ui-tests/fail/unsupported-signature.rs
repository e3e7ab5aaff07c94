// Signatures the macro does not differentiate.
use nabla::differentiable;

#[differentiable]
async fn later(x: f64) -> f64 {
    x * 2.0
}

#[differentiable]
fn in_place(x: &mut f64) -> f64 {
    *x * 2.0
}

#[differentiable]
fn nothing_to_differentiate(#[no_grad] x: f64, n: usize) -> f64 {
    x * n as f64
}

#[differentiable]
struct NotAFunction;

fn main() {}
