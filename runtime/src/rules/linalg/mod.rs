//! Rules for nalgebra matrices and vectors, static and dynamic, owned and views, `f32` and `f64`.
//!
//! The operators (`+ - * /`, unary `-`) implement the traits of [`super::arith`]; the methods
//! (`a.dot(&b)`, `m.transpose()`, …) have one trait each, defined here, because the macro only
//! knows the method's name and dispatches on the operand types through the trait.
//!
//! Every rule returns the contribution to one operand's adjoint as an owned matrix of the
//! operand's shape (`OMatrix<T, R, C>`, the tangent of any `Matrix<T, R, C, S>`), whatever the
//! operand's storage: the gradient of a view is a fresh matrix, never a view.
//!
//! The generic bound `T: Real + RealField` admits exactly `f32` and `f64` ([`Real`] is sealed);
//! `RealField` brings the `Zero`/`One`/closed-arithmetic bounds nalgebra's products and norms
//! need. Both traits have `abs`/`max`/`min`/`sqrt` methods, so the rules call them as
//! `Real::abs(x)` to stay unambiguous.
//!
//! [`Real`]: crate::Real

mod abs;
mod arith;
mod broadcast;
mod eigen;
mod factor;
mod norms;
mod products;
mod reductions;
mod shape;
pub mod solve;
mod vector_products;
mod views;

pub use broadcast::{AddScalarRule, FromArrayRule, FromSliceRule, MeanRule};
pub use eigen::SymmetricEigenvaluesRule;
pub use factor::{
    CholeskyFactor, CholeskyFactorRule, FactorLRule, FactorLnDeterminantRule, FactorSolveRule,
};
pub use norms::{LpNormRule, NormRule, NormSquaredRule, NormalizeRule};
pub use products::{ComponentDivRule, ComponentMulRule, DotRule};
pub use reductions::{AmaxRule, AminRule, MaxRule, MinRule, ProductRule, SumRule, TraceRule};
pub use shape::{ColumnRule, RowRule, TransposeRule};
pub use solve::{
    CholeskyLRule, CholeskySolveRule, DeterminantRule, InverseRule, LnDeterminantRule, SolveRule,
};
pub use vector_products::{CrossRule, KroneckerRule};
pub use views::ViewRule;

use nalgebra::{Dim, Matrix, MatrixView, RawStorage, Scalar, ViewStorage};

/// `m`ᵀ as a view of `m`'s own elements: rows and columns swap by swapping the strides.
///
/// `dC · Bᵀ` then needs no transposed copy of `B`: nalgebra's `gemm` reads the right operand
/// element by element, and hands large dynamic products to `matrixmultiply`, which takes any
/// strides. The strides keep their types, so a static matrix's transpose has static strides.
///
/// Only put it on the *right* of a product: nalgebra 0.35's small-matrix `gemm` path runs past
/// the end of a left operand whose columns have a row stride ≠ 1 (`axcpy_uninit` passes the
/// strided slice's length as the element count).
#[inline]
pub(crate) fn transposed<T, R, C, S>(
    m: &Matrix<T, R, C, S>,
) -> MatrixView<'_, T, C, R, S::CStride, S::RStride>
where
    T: Scalar,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
{
    let (rows, cols) = m.shape_generic();
    let (row_stride, col_stride) = m.data.strides();
    // SAFETY: element (j, i) of the view lies at `ptr + j * col_stride + i * row_stride`, which is
    // element (i, j) of `m`: the view covers exactly `m`'s elements, read-only, and borrows `m`
    // for as long as it lives.
    unsafe {
        Matrix::from_data(ViewStorage::from_raw_parts(
            m.data.ptr(),
            (cols, rows),
            (col_stride, row_stride),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::transposed;
    use nalgebra::{DMatrix, SMatrix};

    #[test]
    fn transposed_view_matches_transpose() {
        let m = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i * 3 + j) as f64);
        assert_eq!(transposed(&m), m.transpose());
        let d = DMatrix::<f32>::from_fn(4, 7, |i, j| (i * 7 + j) as f32);
        assert_eq!(transposed(&d), d.transpose());
        // A view with non-unit strides: every other row of a larger matrix.
        let big = DMatrix::<f64>::from_fn(6, 5, |i, j| (i * 5 + j) as f64);
        let rows = big.rows_with_step(0, 3, 1);
        assert_eq!(transposed(&rows), rows.transpose());
        assert_eq!(transposed(&transposed(&rows)), rows.clone_owned());
    }
}
