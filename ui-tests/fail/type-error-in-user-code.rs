// rustc's own type errors in user code point at the user's expression, once.
use nabla::differentiable;

#[differentiable]
fn shifted(x: f64) -> f64 {
    x + 1
}

fn main() {}
