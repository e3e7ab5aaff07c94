// `vec![..]` of values that carry gradient.
use nabla::differentiable;

#[differentiable]
fn stack(x: f64, y: f64) -> f64 {
    let v = vec![x, y];
    v[0] * v[1]
}

fn main() {}
