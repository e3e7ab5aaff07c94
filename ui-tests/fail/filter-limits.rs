// A `filter` is tested on the elements of containers or of a range, and the pairs `zip` and
// `enumerate` make of them, as the last adaptor of its chain.
use nabla::differentiable;

#[differentiable]
fn first_two_positive(w: &[f64]) -> f64 {
    w.iter().filter(|v| **v > 0.0).take(2).sum()
}

#[differentiable]
fn later_positive(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in w.iter().filter(|v| **v > 0.0).skip(1) {
        s += v;
    }
    s
}

#[differentiable]
fn positive_pairs(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for p in w.chunks(2).filter(|p| p[0] > 0.0) {
        s += p[0] * p[1];
    }
    s
}

#[differentiable]
fn mapped_then_filtered(w: &[f64]) -> f64 {
    w.iter().map(|v| v * 2.0).filter(|v| *v > 0.0).sum::<f64>()
}

#[differentiable]
fn rising_pairs(w: &[f64]) -> f64 {
    w.windows(2).filter(|p| p[1] > p[0]).map(|p| p[1] - p[0]).sum::<f64>()
}

fn main() {}
