// A Cholesky factor bound to a name is differentiated through `.solve(..)` and
// `.ln_determinant()`; its other methods (`l()`) have no derivative rule.
use nabla::differentiable;
use nalgebra::Matrix2;

#[differentiable]
fn factor(a: &Matrix2<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    chol.l()[(1, 0)]
}

fn main() {}
