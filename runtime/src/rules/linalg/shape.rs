//! Rearranging and reading parts: `m.transpose()`, `m.column(j)`, `m.row(i)`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, U1};

use crate::tangent::Tangent;
use crate::Real;

/// `Y = m.transpose()`: `dm = dYᵀ`.
pub trait TransposeRule: Tangent {
    /// The type of `Y`: an owned matrix, its own tangent type.
    type Output;
    fn transpose_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.column(j)`: `dm = dy` in column `j`, 0 elsewhere.
///
/// `y` is a view into `m`; its cotangent is an owned column, `ColumnTangent`. The view itself is
/// not needed, so its type is left free.
pub trait ColumnRule: Tangent {
    /// The tangent of one column, `OMatrix<T, R, U1>`.
    type ColumnTangent;
    fn column_adjoint<Y: ?Sized>(&self, j: &usize, y: &Y, d: &Self::ColumnTangent)
        -> Self::Tangent;
}

/// `y = m.row(i)`: `dm = dy` in row `i`, 0 elsewhere; as [`ColumnRule`].
pub trait RowRule: Tangent {
    /// The tangent of one row, `OMatrix<T, U1, C>`.
    type RowTangent;
    fn row_adjoint<Y: ?Sized>(&self, i: &usize, y: &Y, d: &Self::RowTangent) -> Self::Tangent;
}

impl<T, R, C, S> TransposeRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C> + Allocator<C, R>,
{
    type Output = OMatrix<T, C, R>;
    #[inline]
    fn transpose_adjoint(&self, _: &OMatrix<T, C, R>, d: &OMatrix<T, C, R>) -> OMatrix<T, R, C> {
        d.transpose()
    }
}

impl<T, R, C, S> ColumnRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C> + Allocator<R, U1>,
{
    type ColumnTangent = OMatrix<T, R, U1>;
    // The contribution must be a whole matrix of `m`'s shape (the generated code adds it to
    // `m`'s adjoint), so the zeros around the column cannot be avoided here.
    #[inline]
    fn column_adjoint<Y: ?Sized>(
        &self,
        j: &usize,
        _: &Y,
        d: &OMatrix<T, R, U1>,
    ) -> OMatrix<T, R, C> {
        let mut g = self.zero_tangent();
        g.set_column(*j, d);
        g
    }
}

impl<T, R, C, S> RowRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C> + Allocator<U1, C>,
{
    type RowTangent = OMatrix<T, U1, C>;
    #[inline]
    fn row_adjoint<Y: ?Sized>(&self, i: &usize, _: &Y, d: &OMatrix<T, U1, C>) -> OMatrix<T, R, C> {
        let mut g = self.zero_tangent();
        g.set_row(*i, d);
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, Dyn};

    fn check<T, R, C>(r: R, c: C, seed: usize)
    where
        T: Real,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C> + Allocator<C, R> + Allocator<R, U1> + Allocator<U1, C>,
    {
        let m = sample(r, c, seed);
        let tm = lift::<T, _, _>(&m);

        let d = sample(c, r, seed + 1);
        let fd = fd_gradient(|x| d.dot(&x.transpose()), &m);
        let rule = tm.transpose_adjoint(&tm.transpose(), &lift(&d));
        assert_matrix_close(&rule, &fd, "transpose");

        let d = sample(r, U1, seed + 2);
        for j in 0..c.value() {
            let fd = fd_gradient(|x| d.dot(&x.column(j)), &m);
            let rule = tm.column_adjoint(&j, &tm.column(j), &lift(&d));
            assert_matrix_close(&rule, &fd, "column");
        }
        let d = sample(U1, c, seed + 3);
        for i in 0..r.value() {
            let fd = fd_gradient(|x| d.dot(&x.row(i)), &m);
            let rule = tm.row_adjoint(&i, &tm.row(i), &lift(&d));
            assert_matrix_close(&rule, &fd, "row");
        }
    }

    #[test]
    fn shape_rules_match_finite_differences() {
        check::<f64, _, _>(Const::<3>, Const::<2>, 1);
        check::<f64, _, _>(Const::<1>, Const::<4>, 2);
        check::<f64, _, _>(Dyn(2), Dyn(5), 3);
        check::<f32, _, _>(Const::<3>, Const::<2>, 1);
        check::<f32, _, _>(Dyn(4), Dyn(3), 4);
    }
}
