//! `m.abs()`, element-wise. The trait and its scalar implementation are in
//! [`crate::rules::scalar`]; each element's rule here is the scalar one.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, Storage};

use crate::rules::scalar::{abs_adjoint, AbsRule};
use crate::Real;

/// `Y = m.abs()`: `dmᵢⱼ = sign(mᵢⱼ) · dYᵢⱼ`, 0 where `mᵢⱼ = 0`.
impl<T, R, C, S> AbsRule for Matrix<T, R, C, S>
where
    T: Real,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn abs_adjoint(&self, y: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        self.zip_zip_map(y, d, abs_adjoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, Dyn, Vector3, U1};

    fn check<T: Real, R: Dim, C: Dim>(r: R, c: C, seed: usize)
    where
        DefaultAllocator: Allocator<R, C>,
    {
        // `sample` never gives 0, where `abs` has no derivative.
        let (m, d) = (sample(r, c, seed), sample(r, c, seed + 1));
        let (tm, td) = (lift::<T, _, _>(&m), lift::<T, _, _>(&d));
        let fd = fd_gradient(|x| d.dot(&x.abs()), &m);
        let y = tm.map(Real::abs);
        assert_matrix_close(&tm.abs_adjoint(&y, &td), &fd, "abs");
    }

    #[test]
    fn abs_matches_finite_differences() {
        check::<f64, _, _>(Const::<4>, U1, 1);
        check::<f64, _, _>(Const::<2>, Const::<3>, 2);
        check::<f64, _, _>(Dyn(5), Dyn(2), 3);
        check::<f32, _, _>(Const::<2>, Const::<3>, 2);
        check::<f32, _, _>(Dyn(6), U1, 4);
    }

    #[test]
    fn abs_of_zero_has_zero_gradient() {
        let m = Vector3::new(-2.0, 0.0, 3.0);
        assert_eq!(
            m.abs_adjoint(&m.abs(), &Vector3::repeat(1.0)),
            Vector3::new(-1.0, 0.0, 1.0)
        );
    }
}
