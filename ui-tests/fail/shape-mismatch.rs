// nalgebra's static shapes: a dot product of a 3-vector with a 2-vector is rustc's type error,
// at the user's expression.
use nabla::differentiable;
use nalgebra::SVector;

#[differentiable]
fn score(w: &SVector<f64, 3>, #[no_grad] x: &SVector<f64, 2>) -> f64 {
    w.dot(x)
}

fn main() {}
