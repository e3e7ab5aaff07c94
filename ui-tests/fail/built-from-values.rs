// A repeat array, a range of floats and an untyped sum over a range of indices, built from
// values that carry gradient: nabla has no derivative for them, and says how to write them.
use nabla::differentiable;

#[differentiable]
fn repeated(x: f64) -> f64 {
    let a = [x; 4];
    let b = x..2.0 * x;
    a[0] + b.start
}

// (Ending the function itself, the sum would take the result type, `f64`.)
#[differentiable]
fn untyped_sum(w: &[f64]) -> f64 {
    let n = w.len();
    let total = (0..n).map(|i| w[i] * w[i]).sum();
    total
}

// A range whose end is a count copied from a field of a value that carries gradient: the
// message names the count as written.
#[derive(nabla::Parameters)]
struct Schedule {
    rate: f64,
    #[no_grad]
    steps: usize,
}

#[differentiable]
fn scheduled(s: &Schedule) -> f64 {
    let n = s.steps;
    let all: Vec<usize> = (0..n).collect();
    s.rate * all.len() as f64
}

fn main() {}
