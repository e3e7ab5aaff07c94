//! The Gaussian-process likelihood that `tests/linalg_solve.rs` checks against finite
//! differences and `benches/language.rs` times: one definition for both.

use nabla::differentiable;
use nalgebra::{DMatrix, DVector};

/// The negative log marginal likelihood of a Gaussian process with a squared-exponential
/// kernel: `½ yᵀK⁻¹y + ½ ln det K`, both through one Cholesky factor's uses.
#[differentiable]
pub fn gp_nll(
    length: f64,
    signal: f64,
    noise: f64,
    #[no_grad] xs: &[f64],
    #[no_grad] y: &DVector<f64>,
) -> f64 {
    let n = xs.len();
    let mut k = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let d = (xs[i] - xs[j]) / length;
            k[(i, j)] = signal * signal * (-0.5 * d * d).exp();
        }
        k[(i, i)] += noise * noise;
    }
    let chol = k
        .cholesky()
        .expect("the kernel matrix is positive definite");
    let alpha = chol.solve(y);
    0.5 * y.dot(&alpha) + 0.5 * chol.ln_determinant()
}
