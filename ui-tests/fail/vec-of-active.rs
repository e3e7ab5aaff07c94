// `vec![x; n]` of a value that carries gradient: the list form `vec![x, y]` is differentiated.
use nabla::differentiable;

#[differentiable]
fn stack(x: f64, y: f64) -> f64 {
    let v = vec![x * y; 2];
    v[0] * v[1]
}

fn main() {}
