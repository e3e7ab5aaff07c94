// A Cholesky factor bound to a name is differentiated through `.solve(..)`,
// `.ln_determinant()` and `.l()`; its other methods (`inverse()`) have no derivative rule.
use nabla::differentiable;
use nalgebra::Matrix2;

#[differentiable]
fn factor(a: &Matrix2<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    chol.inverse()[(1, 0)]
}

fn main() {}
