// Tuples of values that carry gradient are not differentiated (destructuring right away is).
use nabla::differentiable;

#[differentiable]
fn pair(x: f64, y: f64) -> f64 {
    let t = (x, y);
    t.0 * t.1
}

fn main() {}
