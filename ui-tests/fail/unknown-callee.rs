// A call with a value that carries gradient to a function that is not #[differentiable] (nor
// #[custom_gradient]): rustc reports the missing derivative at the callee.
use nabla::differentiable;

fn plain_square(x: f64) -> f64 {
    x * x
}

mod layers {
    pub fn plain_relu(x: f64) -> f64 {
        x.max(0.0)
    }
}

#[differentiable]
fn loss(w: f64) -> f64 {
    plain_square(w) + layers::plain_relu(w)
}

fn main() {}
