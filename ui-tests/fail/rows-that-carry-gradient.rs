// Rows as `Vec`s carry no gradient: the parameter's error says what carries gradient instead.
use nabla::differentiable;

#[differentiable]
fn first_square(rows: &[Vec<f64>]) -> f64 {
    rows[0][0] * rows[0][0]
}

fn main() {}
