// A call of a function that is not #[differentiable] is reported in the same build as the
// function's other errors.
use nabla::differentiable;

fn my_abs(x: f64) -> f64 {
    x.abs()
}

#[differentiable]
fn f(x: f64) -> f64 {
    my_abs(x) + x.round()
}

fn main() {}
