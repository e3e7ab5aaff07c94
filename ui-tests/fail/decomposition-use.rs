// A decomposition bound to a name is differentiated through `.solve(..)` and
// `.ln_determinant()`; any other use of it is named as unsupported.
use nabla::differentiable;
use nalgebra::Matrix2;

#[differentiable]
fn factor(a: &Matrix2<f64>) -> f64 {
    let chol = a.cholesky().unwrap();
    chol.l()[(1, 0)]
}

fn main() {}
