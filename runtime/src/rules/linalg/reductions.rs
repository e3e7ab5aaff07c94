//! Reductions of a whole matrix to one element: `m.sum()`, `m.trace()`, `m.max()`, `m.min()`,
//! `m.amax()`, `m.amin()`, `m.product()`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::rules::scalar::abs_adjoint;
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

/// `y = m.amax()`, the largest absolute value: `dm = dy · sign(mₖ)` at the element `k` that
/// nalgebra selected, 0 elsewhere.
///
/// At a tie the whole of `dy` goes to the first such element in storage (column-major) order,
/// as for [`MaxRule`]; if the selected element is 0 (`m` is all zeros) the gradient is 0, the
/// subgradient of `|x|` at 0 that `abs` uses.
///
/// NaNs: nalgebra folds with `if acc >= |x| { acc } else { |x| }`, which is false whenever
/// either side is NaN, so a NaN element replaces the running value and the next element
/// replaces the NaN. The result is the largest `|mₖ|` among the elements after the last NaN
/// (NaN if the last element is NaN); the rule follows the same fold, so the gradient goes to
/// the element whose value `y` is, and a NaN `y` gives no gradient.
pub trait AmaxRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn amax_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.amin()`, the smallest absolute value: `dm = dy · sign(mₖ)` at the element `k` that
/// nalgebra selected, 0 elsewhere; ties, zeros and NaNs as for [`AmaxRule`] (nalgebra's fold is
/// `if acc <= |x| { acc } else { |x| }`). A zero element, when it is the smallest, gets 0.
pub trait AminRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn amin_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.product() = Π mᵢⱼ`: `dmₖ = dy · Π_{l≠k} mₗ`.
///
/// The products of the other elements are formed from prefix and suffix products, never as
/// `y / mₖ`: exact where elements are 0 (with one zero element, only it gets a nonzero
/// gradient; with two or more, the gradient is 0), and finite where `y` underflows or
/// overflows but the partial products do not.
pub trait ProductRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn product_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
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

/// `d · sign(mₖ)` at the element nalgebra's `amax` (`keep = ≥`) or `amin` (`keep = ≤`) fold
/// selects, zero elsewhere. The fold is replayed rather than searched for `y`, so that the
/// element found is the one nalgebra returned even when NaNs restart the fold.
#[inline]
fn at_selected_abs<T, R, C, S>(
    m: &Matrix<T, R, C, S>,
    keep: impl Fn(T, T) -> bool,
    d: T,
) -> OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    let mut g = m.zero_tangent();
    let mut elements = m.iter().map(|&x| Real::abs(x)).enumerate();
    if let Some((mut k, mut acc)) = elements.next() {
        for (l, a) in elements {
            if !keep(acc, a) {
                (k, acc) = (l, a);
            }
        }
        // `abs_adjoint` gives 0 for a selected 0 and for a selected NaN.
        g[k] = abs_adjoint(m[k], acc, d);
    }
    g
}

impl<T, R, C, S> AmaxRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn amax_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        at_selected_abs(self, |acc, a| acc >= a, *d)
    }
}

impl<T, R, C, S> AminRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn amin_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        at_selected_abs(self, |acc, a| acc <= a, *d)
    }
}

impl<T, R, C, S> ProductRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn product_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        let mut g = self.zero_tangent();
        // Forward: gₖ = Π_{l<k} mₗ. Backward: gₖ ·= Π_{l>k} mₗ, with `d` folded into the
        // suffix's seed so that it costs no extra pass.
        let mut prefix = T::ONE;
        for (gk, &x) in g.iter_mut().zip(self.iter()) {
            *gk = prefix;
            prefix *= x;
        }
        let mut suffix = *d;
        for (gk, &x) in g.iter_mut().rev().zip(self.iter().rev()) {
            *gk *= suffix;
            suffix *= x;
        }
        g
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

        // Distinct, nonzero absolute values of both signs, for amax and amin.
        for (k, x) in m.iter_mut().enumerate() {
            let sign = if (k * 5 + seed) % 3 == 0 { -1.0 } else { 1.0 };
            *x = sign * (((7 * k + seed) % n) as f64 * 0.25 + 0.5);
        }
        let tm = lift::<T, _, _>(&m);
        let fd = fd_gradient(|x| s * x.amax(), &m);
        assert_matrix_close(&tm.amax_adjoint(&tm.amax(), &ts), &fd, "amax");
        let fd = fd_gradient(|x| s * x.amin(), &m);
        assert_matrix_close(&tm.amin_adjoint(&tm.amin(), &ts), &fd, "amin");

        // Elements near ±1, so that the product stays of order 1 whatever the size.
        let m = sample(r, c, seed).map(|x| 1.0 + x / 8.0);
        let tm = lift::<T, _, _>(&m);
        let fd = fd_gradient(|x| s * x.product(), &m);
        let rule = tm.product_adjoint(&tm.product(), &ts);
        assert_matrix_close(&rule, &fd, "product");
        // One element 0: the product is linear in each element, so the differences stay exact.
        let mut m = m;
        m[n / 2] = 0.0;
        let tm = lift::<T, _, _>(&m);
        let fd = fd_gradient(|x| s * x.product(), &m);
        let rule = tm.product_adjoint(&tm.product(), &ts);
        assert_matrix_close(&rule, &fd, "product with a zero");
        assert!(rule.iter().filter(|&&g| g != <T as Real>::ZERO).count() <= 1);
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
    fn amax_and_amin_ties_go_to_the_first_element_with_its_sign() {
        // Storage order: 1, 5, -2, -5, 0.5, 2.
        let m = Matrix2x3::new(1.0, -2.0, 0.5, 5.0, -5.0, 2.0);
        let g = m.amax_adjoint(&m.amax(), &1.0);
        assert_eq!(g, Matrix2x3::new(0.0, 0.0, 0.0, 1.0, 0.0, 0.0));
        let m = Matrix2x3::new(1.0, -0.5, 3.0, 4.0, 0.5, 2.0);
        let g = m.amin_adjoint(&m.amin(), &2.0);
        assert_eq!(g, Matrix2x3::new(0.0, -2.0, 0.0, 0.0, 0.0, 0.0));
        // A zero element that is the smallest, and an all-zero matrix, give no gradient.
        let m = Matrix2x3::new(1.0, 0.0, 3.0, 4.0, 0.5, 2.0);
        assert_eq!(m.amin_adjoint(&m.amin(), &1.0), Matrix2x3::zeros());
        let z = Matrix2x3::<f64>::zeros();
        assert_eq!(z.amax_adjoint(&z.amax(), &1.0), z);
    }

    #[test]
    fn amax_and_amin_follow_nalgebras_fold_through_nans() {
        // nalgebra's fold: a NaN replaces the running value and the next element replaces it.
        let m = DMatrix::from_row_slice(1, 4, &[-5.0, f64::NAN, -1.0, 0.5]);
        assert_eq!(m.amax(), 1.0);
        assert_eq!(
            m.amax_adjoint(&m.amax(), &1.0).as_slice(),
            &[0.0, 0.0, -1.0, 0.0]
        );
        let m = DMatrix::from_row_slice(1, 4, &[0.25, -3.0, f64::NAN, 2.0]);
        assert_eq!(m.amin(), 2.0);
        assert_eq!(
            m.amin_adjoint(&m.amin(), &1.0).as_slice(),
            &[0.0, 0.0, 0.0, 1.0]
        );
        // A NaN last: the result is NaN, and no element gets gradient.
        let m = DMatrix::from_row_slice(1, 3, &[1.0, 2.0, f64::NAN]);
        assert!(m.amax().is_nan());
        assert_eq!(m.amax_adjoint(&m.amax(), &1.0).as_slice(), &[0.0; 3]);
        // A NaN first is skipped.
        let m = DMatrix::from_row_slice(1, 3, &[f64::NAN, -2.0, 1.0]);
        assert_eq!(m.amax(), 2.0);
        assert_eq!(
            m.amax_adjoint(&m.amax(), &1.0).as_slice(),
            &[0.0, -1.0, 0.0]
        );
    }

    #[test]
    fn product_with_zeros_is_exact() {
        let m = Matrix2x3::new(2.0, 0.0, 3.0, -1.0, 4.0, 0.5);
        // Only the zero element gets gradient: the product of the others.
        let g = m.product_adjoint(&m.product(), &1.0);
        assert_eq!(g, Matrix2x3::new(0.0, -12.0, 0.0, 0.0, 0.0, 0.0));
        // Two zeros: every product of all-but-one contains a zero.
        let m = Matrix2x3::new(2.0, 0.0, 3.0, -1.0, 0.0, 0.5);
        assert_eq!(m.product_adjoint(&m.product(), &1.0), Matrix2x3::zeros());
        // The empty product is 1 and has no elements to differentiate.
        let e = DMatrix::<f64>::zeros(0, 3);
        assert_eq!(e.product_adjoint(&e.product(), &1.0).len(), 0);
    }

    #[test]
    fn nan_elements_get_no_gradient() {
        let m = DMatrix::from_row_slice(1, 3, &[f64::NAN, 2.0, 1.0]);
        let g = m.max_adjoint(&m.max(), &1.0);
        assert_eq!(g.as_slice(), &[0.0, 1.0, 0.0]);
    }
}
