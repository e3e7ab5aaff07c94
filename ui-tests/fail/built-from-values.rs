// A repeat array, a range of floats and an untyped sum over a range of indices, built from
// values that carry gradient: nabla has no derivative for them, and says how to write them.
use nabla::differentiable;

#[differentiable]
fn repeated(x: f64) -> f64 {
    let a = [x; 4];
    let b = x..2.0 * x;
    a[0] + b.start
}

#[differentiable]
fn untyped_sum(w: &[f64]) -> f64 {
    let n = w.len();
    (0..n).map(|i| w[i] * w[i]).sum()
}

fn main() {}
