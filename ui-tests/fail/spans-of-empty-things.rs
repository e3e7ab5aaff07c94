// Errors about things that have no tokens of their own still point at the user's code: an
// empty parameter list at its parentheses, an opaque result type at the type.
use nabla::differentiable;

#[differentiable]
fn constant() -> f64 {
    1.0
}

#[differentiable]
fn opaque(x: f64) -> impl Into<f64> {
    x * x
}

fn main() {}
