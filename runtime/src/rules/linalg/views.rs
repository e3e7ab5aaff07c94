//! Read-only blocks of a matrix: `m.rows(i, n)`, `m.columns(j, n)`, `m.fixed_rows::<N>(i)`,
//! `m.fixed_columns::<N>(j)`, `m.view((i, j), (r, c))` and `m.fixed_view::<R, C>(i, j)`.
//!
//! Each forward is nalgebra's own method, returning a view into `m`. The view's cotangent `d` is
//! an owned matrix of the view's shape, and `m`'s gradient is `d` placed at the view's start in
//! a zero matrix of `m`'s shape: the elements outside the block do not enter `y`. The view `y`
//! itself is not needed, so its type is left free, as in [`super::ColumnRule`]; `d`'s
//! dimensions are left free too (`Dyn` for `rows`/`columns`/`view`, `Const` for the fixed
//! forms), the block's place and extent being given by the start and by `d`'s shape.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, Scalar};

use crate::tangent::Tangent;
use crate::Real;

/// The rules of the block methods, one method each: `dm = dy` in the block, 0 elsewhere. `d` is
/// the block's cotangent, of any dimensions (the fixed forms' `N`, `R × C` are its shape).
pub trait ViewRule: Tangent {
    /// The element type, shared by the view's cotangent.
    type Element: Scalar;
    /// `y = m.rows(i, n)`: rows `i..i + n`.
    fn rows_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        i: &usize,
        n: &usize,
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
    /// `y = m.columns(j, n)`: columns `j..j + n`.
    fn columns_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        j: &usize,
        n: &usize,
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
    /// `y = m.fixed_rows::<N>(i)`: rows `i..i + N`.
    fn fixed_rows_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        i: &usize,
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
    /// `y = m.fixed_columns::<N>(j)`: columns `j..j + N`.
    fn fixed_columns_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        j: &usize,
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
    /// `y = m.view((i, j), (r, c))`: the `r × c` block at `(i, j)`.
    fn view_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        start: &(usize, usize),
        shape: &(usize, usize),
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
    /// `y = m.fixed_view::<R, C>(i, j)`: the `R × C` block at `(i, j)`.
    fn fixed_view_adjoint<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<Self::Element, R2, C2>>(
        &self,
        i: &usize,
        j: &usize,
        y: &Y,
        d: &Matrix<Self::Element, R2, C2, S2>,
    ) -> Self::Tangent;
}

/// `d` written into a zero matrix of `m`'s shape with its first element at `start`.
///
/// The contribution must be a whole matrix of `m`'s shape (the generated code adds it to `m`'s
/// adjoint), so the zeros around the block cannot be avoided here. A block that does not fit
/// panics, as the forward view would have.
#[inline]
fn placed<T, R, C, S, R2, C2, S2>(
    m: &Matrix<T, R, C, S>,
    start: (usize, usize),
    d: &Matrix<T, R2, C2, S2>,
) -> OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    R2: Dim,
    C2: Dim,
    S2: RawStorage<T, R2, C2>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = m.zero_tangent();
    g.generic_view_mut(start, d.shape_generic()).copy_from(d);
    g
}

/// Every method places `d` at the block's start, which its arguments give.
macro_rules! view_methods {
    ($($method:ident($($arg:ident: $ty:ty),*) => $start:expr;)*) => {
        impl<T, R, C, S> ViewRule for Matrix<T, R, C, S>
        where
            T: Real,
            R: Dim,
            C: Dim,
            S: RawStorage<T, R, C>,
            DefaultAllocator: Allocator<R, C>,
        {
            type Element = T;
            $(
                #[inline]
                fn $method<Y: ?Sized, R2: Dim, C2: Dim, S2: RawStorage<T, R2, C2>>(
                    &self,
                    $($arg: $ty,)*
                    _: &Y,
                    d: &Matrix<T, R2, C2, S2>,
                ) -> OMatrix<T, R, C> {
                    placed(self, $start, d)
                }
            )*
        }
    };
}

view_methods! {
    rows_adjoint(i: &usize, _n: &usize) => (*i, 0);
    columns_adjoint(j: &usize, _n: &usize) => (0, *j);
    fixed_rows_adjoint(i: &usize) => (*i, 0);
    fixed_columns_adjoint(j: &usize) => (0, *j);
    view_adjoint(start: &(usize, usize), _shape: &(usize, usize)) => *start;
    fixed_view_adjoint(i: &usize, j: &usize) => (*i, *j);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, DMatrix, Dyn};

    /// Every block of every kind that fits in an `r × c` matrix (at least 3 × 3).
    fn check<T, R, C>(r: R, c: C, seed: usize)
    where
        T: Real,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C>
            + Allocator<Dyn, C>
            + Allocator<R, Dyn>
            + Allocator<Const<2>, C>
            + Allocator<R, Const<2>>,
    {
        let (nr, nc) = (r.value(), c.value());
        let m = sample(r, c, seed);
        let tm = lift::<T, _, _>(&m);

        for i in 0..nr {
            for n in 0..=nr - i {
                let d = sample(Dyn(n), c, seed + 1);
                let fd = fd_gradient(|x| d.dot(&x.rows(i, n)), &m);
                let rule = ViewRule::rows_adjoint(&tm, &i, &n, &tm.rows(i, n), &lift(&d));
                assert_matrix_close(&rule, &fd, "rows");
            }
        }
        for j in 0..nc {
            for n in 0..=nc - j {
                let d = sample(r, Dyn(n), seed + 2);
                let fd = fd_gradient(|x| d.dot(&x.columns(j, n)), &m);
                let rule = ViewRule::columns_adjoint(&tm, &j, &n, &tm.columns(j, n), &lift(&d));
                assert_matrix_close(&rule, &fd, "columns");
            }
        }
        let d = sample(Const::<2>, c, seed + 3);
        for i in 0..=nr - 2 {
            let fd = fd_gradient(|x| d.dot(&x.fixed_rows::<2>(i)), &m);
            let y = tm.fixed_rows::<2>(i);
            let rule = ViewRule::fixed_rows_adjoint(&tm, &i, &y, &lift(&d));
            assert_matrix_close(&rule, &fd, "fixed_rows");
        }
        let d = sample(r, Const::<2>, seed + 4);
        for j in 0..=nc - 2 {
            let fd = fd_gradient(|x| d.dot(&x.fixed_columns::<2>(j)), &m);
            let y = tm.fixed_columns::<2>(j);
            let rule = ViewRule::fixed_columns_adjoint(&tm, &j, &y, &lift(&d));
            assert_matrix_close(&rule, &fd, "fixed_columns");
        }
        for (start, shape) in [((0, 0), (nr, nc)), ((1, 1), (2, 2)), ((nr - 1, 0), (1, nc))] {
            let d = sample::<Dyn, Dyn>(Dyn(shape.0), Dyn(shape.1), seed + 5);
            let fd = fd_gradient(|x| d.dot(&x.view(start, shape)), &m);
            let y = tm.view(start, shape);
            let rule = ViewRule::view_adjoint(&tm, &start, &shape, &y, &lift(&d));
            assert_matrix_close(&rule, &fd, "view");
        }
        let d = sample::<Const<2>, Const<3>>(Const, Const, seed + 6);
        for (i, j) in [(0, 0), (nr - 2, nc - 3), (1, 0)] {
            let fd = fd_gradient(|x| d.dot(&x.fixed_view::<2, 3>(i, j)), &m);
            let y = tm.fixed_view::<2, 3>(i, j);
            let rule = ViewRule::fixed_view_adjoint(&tm, &i, &j, &y, &lift(&d));
            assert_matrix_close(&rule, &fd, "fixed_view");
        }
    }

    #[test]
    fn views_match_finite_differences() {
        check::<f64, _, _>(Const::<4>, Const::<3>, 1);
        check::<f64, _, _>(Const::<3>, Const::<5>, 2);
        check::<f64, _, _>(Dyn(5), Dyn(4), 3);
        check::<f32, _, _>(Const::<4>, Const::<3>, 4);
        check::<f32, _, _>(Dyn(3), Dyn(6), 5);
    }

    #[test]
    fn views_of_views_place_the_cotangent_in_the_receiver() {
        // The receiver is itself a view (columns 1..4 of a larger matrix): the gradient has the
        // receiver's shape, not the underlying matrix's.
        let big = DMatrix::<f64>::from_fn(5, 6, |i, j| (i * 6 + j) as f64);
        let m = big.columns(1, 3);
        let d = DMatrix::from_element(2, 2, 1.5);
        let g = ViewRule::view_adjoint(&m, &(3, 1), &(2, 2), &m.view((3, 1), (2, 2)), &d);
        let mut expected = DMatrix::zeros(5, 3);
        expected.view_mut((3, 1), (2, 2)).fill(1.5);
        assert_eq!(g, expected);
    }
}
