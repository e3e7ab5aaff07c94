// Closures passed to calls nabla keeps as written: a value that carries gradient read through a
// field named like a size query (`s.len`), and variables of the function changed inside, in
// every form of assignment. Each would give a wrong gradient without a word.
use nabla::{differentiable, Parameters};
use nalgebra::DMatrix;

#[derive(Clone, Debug, Parameters)]
pub struct Spring {
    pub len: f64,
    pub k: f64,
}

#[differentiable]
fn energy(s: &Spring, #[no_grad] pos: &[f64]) -> f64 {
    let n = pos.len();
    let d = DMatrix::from_fn(n, n, |i, j| ((pos[i] - pos[j]).abs() - s.len).powi(2));
    0.5 * s.k * d.sum()
}

#[differentiable]
fn fibonacci(w: f64, #[no_grad] x: &[f64]) -> f64 {
    let mut prev = 1.0;
    let mut cur = 1.0;
    let y = w * prev * cur;
    x.iter().for_each(|_| {
        let next = prev + cur;
        (prev, cur) = (cur, next);
    });
    y * y + cur
}

#[differentiable]
fn counted(w: f64, #[no_grad] x: &[f64], #[no_grad] k: i32) -> f64 {
    let mut total = 1.0;
    let y = w * total;
    x.iter().for_each(|v| {
        let m = k | 1;
        total += v * m as f64;
    });
    x.iter().for_each(|v| (total) += v);
    y * y + total
}

fn main() {}
