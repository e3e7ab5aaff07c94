//! The Euclidean (Frobenius, for matrices) norm: `m.norm()`, `m.norm_squared()`,
//! `m.normalize()`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::tangent::Tangent;
use crate::Real;

/// `y = m.norm() = √(Σ mᵢⱼ²)`: `dm = dy · m / y`, and 0 at `m = 0` (a subgradient; PyTorch
/// and JAX give the same), where the norm has no derivative.
pub trait NormRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn norm_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `y = m.norm_squared() = Σ mᵢⱼ²`: `dm = 2 dy · m`.
pub trait NormSquaredRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn norm_squared_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

/// `Y = m.normalize() = m / ‖m‖`: `dm = (dY - Y ⟨Y, dY⟩) / ‖m‖`, the cotangent with its
/// component along `Y` removed (scaling `m` does not change `Y`), divided by the norm.
pub trait NormalizeRule: Tangent {
    /// The type of `Y`: an owned matrix, its own tangent type.
    type Output;
    fn normalize_adjoint(&self, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
}

impl<T, R, C, S> NormRule for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn norm_adjoint(&self, y: &T, d: &T) -> OMatrix<T, R, C> {
        if *y == T::ZERO {
            self.zero_tangent()
        } else {
            self * (*d / *y)
        }
    }
}

impl<T, R, C, S> NormSquaredRule for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn norm_squared_adjoint(&self, _: &T, d: &T) -> OMatrix<T, R, C> {
        self * (T::TWO * *d)
    }
}

impl<T, R, C, S> NormalizeRule for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    // ‖m‖ is not saved by the forward sweep (the user wrote `normalize`, not `norm`): it is
    // recomputed here as ⟨m, Y⟩, one pass like `m.norm()` but without the square root.
    #[inline]
    fn normalize_adjoint(&self, y: &OMatrix<T, R, C>, d: &OMatrix<T, R, C>) -> OMatrix<T, R, C> {
        let norm = self.dot(y);
        let along = y.dot(d);
        d.zip_map(y, |d, y| (d - y * along) / norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{assert_matrix_close, fd_gradient, lift, sample};
    use nalgebra::{Const, Dyn, U1};

    fn check<T, R, C>(r: R, c: C, seed: usize)
    where
        T: Real + RealField,
        R: Dim,
        C: Dim,
        DefaultAllocator: Allocator<R, C>,
    {
        let (m, d) = (sample(r, c, seed), sample(r, c, seed + 1));
        let (tm, td) = (lift::<T, _, _>(&m), lift::<T, _, _>(&d));
        let s = -0.625;
        let ts = <T as Real>::from_f64(s);

        let fd = fd_gradient(|x| s * x.norm(), &m);
        assert_matrix_close(&tm.norm_adjoint(&tm.norm(), &ts), &fd, "norm");
        let fd = fd_gradient(|x| s * x.norm_squared(), &m);
        let rule = tm.norm_squared_adjoint(&tm.norm_squared(), &ts);
        assert_matrix_close(&rule, &fd, "norm_squared");
        let fd = fd_gradient(|x| d.dot(&x.normalize()), &m);
        let rule = tm.normalize_adjoint(&tm.normalize(), &td);
        assert_matrix_close(&rule, &fd, "normalize");
    }

    #[test]
    fn norms_match_finite_differences() {
        check::<f64, _, _>(Const::<3>, U1, 1);
        check::<f64, _, _>(Const::<2>, Const::<3>, 2);
        check::<f64, _, _>(Dyn(7), U1, 3);
        check::<f64, _, _>(Dyn(3), Dyn(2), 4);
        check::<f32, _, _>(Const::<3>, U1, 1);
        check::<f32, _, _>(Dyn(3), Dyn(2), 4);
    }

    #[test]
    fn norm_of_zero_has_zero_gradient() {
        let z = nalgebra::Vector3::<f64>::zeros();
        assert_eq!(z.norm_adjoint(&0.0, &1.0), z);
    }
}
