// Rows as `Vec`s or matrices carry no gradient: the parameter's error says what carries
// gradient instead, once, however often the body uses the rows.
use nabla::differentiable;
use nalgebra::DVector;

#[differentiable]
fn first_square(rows: &[Vec<f64>]) -> f64 {
    rows[0][0] * rows[0][0]
}

#[differentiable]
fn weighted(rows: &[Vec<f64>], w: f64) -> f64 {
    let mut s = 0.0;
    for row in rows {
        s += row[0] * w;
    }
    s
}

#[differentiable]
fn summed(vs: Vec<DVector<f64>>) -> f64 {
    vs.iter().map(|v| v.sum()).sum()
}

fn main() {}
