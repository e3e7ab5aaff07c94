// A local buffer of vectors that carry gradient: nabla differentiates pushes onto buffers of
// floats, and says so at the push and at the buffer.
use nabla::differentiable;
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn activations(w: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
    let mut hs = Vec::new();
    let mut h = x.clone();
    for _ in 0..3 {
        h = (w * &h).map(|t| t.tanh());
        hs.push(h.clone());
    }
    let mut s = 0.0;
    for a in &hs {
        s += a.norm_squared();
    }
    s
}

fn main() {}
