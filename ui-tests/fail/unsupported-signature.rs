// Signatures the macro does not differentiate.
use nabla::{differentiable, Parameters};

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

// A method's one-letter result type is read as the `impl`'s float type parameter: here it is a
// struct's name, and the body does not build the struct where the macro can see it.
#[derive(Parameters, Clone)]
struct M {
    w: f64,
}

impl M {
    #[differentiable]
    fn new_scaled(w: f64) -> M {
        Self::from_weight(w * 2.0)
    }

    #[differentiable]
    fn from_weight(w: f64) -> Self {
        M { w }
    }
}

fn main() {}
