//! Eigenvalues of a symmetric matrix: `m.symmetric_eigenvalues()`.
//!
//! nalgebra reads only the lower triangle (and the diagonal) of the matrix: the strict upper
//! triangle enters only through the overall scale factor `max |mᵢⱼ|` that the algorithm divides
//! out and multiplies back, which leaves the eigenvalues unchanged. So, as for the Cholesky
//! forms in `solve.rs`, the gradient is the one with respect to the lower triangle: the
//! symmetric gradient folded onto it.

use nalgebra::allocator::Allocator;
use nalgebra::{
    DefaultAllocator, DimDiff, DimSub, Matrix, OMatrix, OVector, RealField, Storage, U1,
};

use super::solve::onto_lower_triangle;
use super::transposed;
use crate::tangent::Tangent;
use crate::Real;

/// `λ = m.symmetric_eigenvalues()`, `m` symmetric with eigendecomposition `m = V·diag(λ)·Vᵀ`:
/// the symmetric gradient `V·diag(dλ)·Vᵀ` (`∂λₖ/∂m = vₖvₖᵀ`), folded onto the lower triangle
/// nalgebra reads (`2·Gᵢⱼ` below the diagonal, `Gᵢᵢ` on it, 0 above).
///
/// The eigenvalues come unsorted, in nalgebra's order; `V` is computed by the same algorithm
/// (`symmetric_eigen`), whose eigenvalues come out in the same order, so `dλₖ` meets its own
/// eigenvector.
///
/// This is the derivative where the eigenvalues are distinct. At a repeated eigenvalue the
/// individual eigenvalues are not differentiable; the expression is still the gradient of any
/// function symmetric in the repeated ones (`dλ` equal across the group, e.g. their sum), the
/// sum-invariant part JAX's and PyTorch's `eigvalsh` rules give, and otherwise depends on the
/// eigenbasis nalgebra happened to pick within the eigenspace.
pub trait SymmetricEigenvaluesRule: Tangent {
    /// The type of `λ`: an owned vector of the matrix's dimension.
    type Output;
    fn symmetric_eigenvalues_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

// The bounds are nalgebra's `symmetric_eigenvalues`'s (square, `D - 1` defined) plus the
// eigenvectors' allocators.
impl<T, D, S> SymmetricEigenvaluesRule for Matrix<T, D, D, S>
where
    T: Real + RealField,
    D: DimSub<U1>,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<DimDiff<D, U1>>,
{
    type Output = OVector<T, D>;
    fn symmetric_eigenvalues_adjoint(
        &self,
        _: &OVector<T, D>,
        d: &OVector<T, D>,
    ) -> OMatrix<T, D, D> {
        let v = self.clone_owned().symmetric_eigen().eigenvectors;
        // V·diag(dλ)·Vᵀ: the columns of V scaled by dλ, times Vᵀ.
        let mut scaled = v.clone();
        for (mut column, &dk) in scaled.column_iter_mut().zip(d.iter()) {
            column *= dk;
        }
        onto_lower_triangle(scaled * transposed(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, Dyn, Matrix2};

    /// A symmetric matrix with well separated eigenvalues: a random symmetric part plus a
    /// diagonal ramp wide enough to keep the eigenvalues apart.
    fn symmetric<D: DimSub<U1>>(n: D, seed: usize) -> OMatrix<f64, D, D>
    where
        DefaultAllocator: Allocator<D, D>,
    {
        let m = sample(n, n, seed);
        let mut s = &m + m.transpose();
        for i in 0..n.value() {
            s[(i, i)] += 3.0 * i as f64;
        }
        s
    }

    fn check<T, D>(n: D, seed: usize)
    where
        T: Real + RealField,
        D: DimSub<U1>,
        DefaultAllocator: Allocator<D, D> + Allocator<D> + Allocator<DimDiff<D, U1>>,
    {
        let m = symmetric(n, seed);
        let tm = lift::<T, _, _>(&m);
        let d = sample(n, U1, seed + 1);
        let y = tm.symmetric_eigenvalues();
        // The eigenvalues the rule pairs with eigenvectors come in the forward's order.
        assert_eq!(y, tm.clone().symmetric_eigen().eigenvalues);
        // Each element perturbed alone, as the program would: the upper triangle is not read
        // (its differences are 0 up to rounding), the lower one stands for both triangles.
        let fd = fd_gradient(|x| d.dot(&x.symmetric_eigenvalues()), &m);
        let rule = tm.symmetric_eigenvalues_adjoint(&y, &lift(&d));
        assert_matrix_close(&rule, &fd, "symmetric_eigenvalues");
    }

    #[test]
    fn symmetric_eigenvalues_match_finite_differences() {
        check::<f64, _>(Const::<1>, 1);
        check::<f64, _>(Const::<2>, 2);
        check::<f64, _>(Const::<4>, 3);
        check::<f64, _>(Dyn(5), 4);
        check::<f32, _>(Const::<3>, 5);
        check::<f32, _>(Dyn(4), 6);
    }

    #[test]
    fn the_gradient_of_the_trace_is_the_identity() {
        // Σλ = tr m even through a repeated eigenvalue: dλ = 1 gives V·Vᵀ = I whatever V.
        let m = Matrix2::new(2.0, 0.0, 0.0, 2.0);
        let g = m.symmetric_eigenvalues_adjoint(
            &m.symmetric_eigenvalues(),
            &nalgebra::Vector2::repeat(1.0),
        );
        assert!((g - Matrix2::identity()).amax() < 1e-15);
    }
}
