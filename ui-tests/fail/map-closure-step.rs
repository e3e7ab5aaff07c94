// The closure of an element-wise `map` is checked like a function body.
use nabla::differentiable;
use nalgebra::SVector;

#[differentiable]
fn active_count(v: &SVector<f64, 3>) -> f64 {
    v.map(|e| if e > 0.0 { 1.0 } else { 0.0 }).sum()
}

fn main() {}
