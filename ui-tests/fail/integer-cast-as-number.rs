// Quantizing with an integer cast: the cast is a step, and its result comes back as a float.
use nabla::differentiable;

#[differentiable]
fn quantize(x: f64) -> f64 {
    let q = (x * 10.0) as i64;
    q as f64 / 10.0
}

fn main() {}
