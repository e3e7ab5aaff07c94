// A method nabla knows no derivative for, on a value that carries gradient (TF: leaving the
// framework through NumPy gives `None` gradients).
use nabla::differentiable;
use nalgebra::SVector;

trait Soft {
    fn soft(self) -> f64;
}
impl Soft for f64 {
    fn soft(self) -> f64 {
        self.max(0.0)
    }
}

#[differentiable]
fn activation(x: f64) -> f64 {
    x.soft() + 1.0
}

#[differentiable]
fn volume(v: &SVector<f64, 3>) -> f64 {
    v.variance()
}

// A reduction to one element: the error names `reduce`, where the derivative is lost, not the
// adaptors before it or the `unwrap` after it, and gives the fold that is differentiated.
#[differentiable]
fn largest(w: &[f64]) -> f64 {
    w.iter().copied().reduce(f64::max).unwrap()
}

#[differentiable]
fn smallest(w: &[f64]) -> f64 {
    *w.iter().min_by(|a, b| a.total_cmp(b)).unwrap()
}

fn main() {}
