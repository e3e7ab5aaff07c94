// Tests of a value (`is_sign_negative`), orderings (`total_cmp`) and tests of elements by a
// closure (`any`, `position`) are steps, like comparisons.
use nabla::differentiable;
use std::cmp::Ordering;

#[differentiable]
fn hinge(x: f64) -> f64 {
    let negative = x.is_sign_negative() as i32 as f64;
    negative * 2.0 + x * x
}

#[differentiable]
fn order(x: f64, y: f64) -> f64 {
    x.total_cmp(&y) as i32 as f64
}

#[differentiable]
fn ordered(x: f64, y: f64) -> f64 {
    match x.partial_cmp(&y) {
        Some(Ordering::Less) => 1.0,
        _ => 0.0,
    }
}

#[differentiable]
fn counted(w: &[f64], x: f64) -> f64 {
    let first = w.iter().position(|v| *v < 0.0).unwrap_or(0);
    x * x + first as f64 + w.iter().any(|&v| v > x) as i32 as f64
}

fn main() {}
