// Rounding has derivative zero wherever it is defined.
use nabla::differentiable;

#[differentiable]
fn rounded(x: f64) -> f64 {
    x.round() + x.round_ties_even() + x.floor() + x.ceil() + x.trunc() + f64::floor(x * 2.0)
}

fn main() {}
