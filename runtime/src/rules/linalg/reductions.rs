//! Reductions of a whole matrix to one element: `m.sum()`, `m.trace()`, `m.max()`, `m.min()`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::tangent::Tangent;
use crate::Real;

/// `y = m.sum() = Σ mᵢⱼ`: `dm = dy` in every element.
pub trait SumRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn sum_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.trace() = Σ mᵢᵢ`: `dm = dy · I`.
pub trait TraceRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn trace_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.max()`, the largest element: `dm = dy` at that element, 0 elsewhere.
///
/// At a tie the whole of `dy` goes to the first maximal element in storage (column-major)
/// order, so the gradient is always one of the one-sided derivatives; an element that is NaN
/// never gets gradient (nalgebra's `max` skips NaNs).
pub trait MaxRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn max_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.min()`, the smallest element: `dm = dy` at that element, 0 elsewhere; ties and NaNs
/// as for [`MaxRule`].
pub trait MinRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn min_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

impl<T, R, C, S> SumRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn sum_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        let (rows, cols) = self.shape_generic();
        OMatrix::from_element_generic(rows, cols, *d)
    }
}

// nalgebra defines `trace` for square shapes only (`Matrix<T, D, D, S>`), and so does the rule.
impl<T, D, S> TraceRule for Matrix<T, D, D, S>
where
    T: Real + RealField,
    D: Dim,
    S: Storage<T, D, D>,
    DefaultAllocator: Allocator<D, D>,
{
    type Output = T;
    #[inline]
    fn trace_adjoint(&self, _: &T, d: &T) -> OMatrix<T, D, D> {
        let (rows, cols) = self.shape_generic();
        OMatrix::from_diagonal_element_generic(rows, cols, *d)
    }
}

/// `d` at the first element equal to the selected value `y`, zero elsewhere.
#[inline]
fn at_first<T, R, C, S>(m: &Matrix<T, R, C, S>, y: T, d: T) -> OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = m.zero_tangent();
    // `iter` walks the storage in column-major order, the order of `g`'s linear index.
    if let Some(k) = m.iter().position(|&x| x == y) {
        g[k] = d;
    }
    g
}

impl<T, R, C, S> MaxRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn max_adjoint(&self, y: &T, d: &T) -> OMatrix<T, R, C> {
        at_first(self, *y, *d)
    }
}

impl<T, R, C, S> MinRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn min_adjoint(&self, y: &T, d: &T) -> OMatrix<T, R, C> {
        at_first(self, *y, *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, DMatrix, Dyn, Matrix2x3, U1};

    fn check<T, R, C>(r: R, c: C, seed: usize)
    where
        T: Real + RealField,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C>,
    {
        // Distinct elements, so that max and min are differentiable: `k ↦ 7k + seed mod n` is a
        // permutation for every `n` used here (none is a multiple of 7).
        let n = r.value() * c.value();
        let mut m = sample(r, c, seed);
        for (k, x) in m.iter_mut().enumerate() {
            *x = ((7 * k + seed) % n) as f64 * 0.25 - 1.0;
        }
        let tm = lift::<T, _, _>(&m);
        let s = 1.75;
        let ts = <T as Real>::from_f64(s);

        let fd = fd_gradient(|x| s * x.sum(), &m);
        assert_matrix_close(&tm.sum_adjoint(&tm.sum(), &ts), &fd, "sum");
        let fd = fd_gradient(|x| s * x.max(), &m);
        assert_matrix_close(&tm.max_adjoint(&tm.max(), &ts), &fd, "max");
        let fd = fd_gradient(|x| s * x.min(), &m);
        assert_matrix_close(&tm.min_adjoint(&tm.min(), &ts), &fd, "min");
    }

    fn check_trace<T, D>(n: D, seed: usize)
    where
        T: Real + RealField,
        D: Dim,
        DefaultAllocator: Allocator<D, D>,
    {
        let m = sample(n, n, seed);
        let tm = lift::<T, _, _>(&m);
        let s = -0.5;
        let fd = fd_gradient(|x| s * x.trace(), &m);
        let rule = tm.trace_adjoint(&tm.trace(), &<T as Real>::from_f64(s));
        assert_matrix_close(&rule, &fd, "trace");
    }

    #[test]
    fn reductions_match_finite_differences() {
        check::<f64, _, _>(Const::<3>, Const::<3>, 1);
        check::<f64, _, _>(Const::<2>, Const::<4>, 2);
        check::<f64, _, _>(Const::<5>, U1, 3);
        check::<f64, _, _>(Dyn(4), Dyn(4), 4);
        check::<f64, _, _>(Dyn(6), U1, 5);
        check::<f32, _, _>(Const::<3>, Const::<3>, 1);
        check::<f32, _, _>(Dyn(4), Dyn(4), 4);
        check_trace::<f64, _>(Const::<3>, 1);
        check_trace::<f64, _>(Dyn(5), 2);
        check_trace::<f32, _>(Const::<4>, 3);
        check_trace::<f32, _>(Dyn(2), 4);
    }

    #[test]
    fn max_and_min_ties_go_to_the_first_element() {
        // Column-major: the storage order is (0,0), (1,0), (0,1), (1,1), (0,2), (1,2).
        let m = Matrix2x3::new(1.0, 5.0, -2.0, 5.0, 0.0, -2.0);
        let g = m.max_adjoint(&m.max(), &1.0);
        assert_eq!(g, Matrix2x3::new(0.0, 0.0, 0.0, 1.0, 0.0, 0.0));
        let g = m.min_adjoint(&m.min(), &1.0);
        assert_eq!(g, Matrix2x3::new(0.0, 0.0, 1.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn nan_elements_get_no_gradient() {
        let m = DMatrix::from_row_slice(1, 3, &[f64::NAN, 2.0, 1.0]);
        let g = m.max_adjoint(&m.max(), &1.0);
        assert_eq!(g.as_slice(), &[0.0, 1.0, 0.0]);
    }
}
