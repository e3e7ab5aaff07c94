//! The Euclidean (Frobenius, for matrices) norm: `m.norm()`, `m.norm_squared()`,
//! `m.normalize()`; and the entrywise p-norm, `m.lp_norm(p)`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::rules::scalar::abs_adjoint;
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

/// `y = m.lp_norm(p) = (Σ |mᵢⱼ|ᵖ)^(1/p)`, entrywise, `p: i32` as nalgebra takes it:
/// `dm = dy · sign(m) ∘ |m|^(p-1) / y^(p-1)`.
///
/// At `y = 0` (every element 0, or for `p < 0` any element 0) the gradient is 0, a subgradient
/// as for [`NormRule`]. For `p = 1` an element that is 0 gets 0 (the subgradient of `|x|` at
/// 0 that `abs` uses). `p = 0` is not a norm: nalgebra's value `n^(1/0)` does not vary with `m`
/// and the gradient is 0. `p` carries no gradient.
pub trait LpNormRule: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn lp_norm_adjoint(&self, p: &i32, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
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

impl<T, R, C, S> LpNormRule for Matrix<T, R, C, S>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    S: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    // `(|m|/y)^(p-1)` rather than `|m|^(p-1) / y^(p-1)`: the ratio is at most 1, so a large `p`
    // cannot overflow the numerator and denominator separately.
    #[inline]
    fn lp_norm_adjoint(&self, p: &i32, y: &T, d: &T) -> OMatrix<T, R, C> {
        let (p, y, d) = (*p, *y, *d);
        if p == 0 || y == T::ZERO {
            return self.zero_tangent();
        }
        self.map(|x| {
            let a = Real::abs(x);
            abs_adjoint(x, a, d * Real::powi(a / y, p - 1))
        })
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

        // `sample` never gives 0, so `p = 1` is differentiable here.
        for p in [1, 2, 3, 4] {
            let fd = fd_gradient(|x| s * x.lp_norm(p), &m);
            let rule = tm.lp_norm_adjoint(&p, &tm.lp_norm(p), &ts);
            assert_matrix_close(&rule, &fd, "lp_norm");
        }
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
        for p in [1, 2, 3] {
            assert_eq!(z.lp_norm_adjoint(&p, &z.lp_norm(p), &1.0), z);
        }
    }

    #[test]
    fn lp_norm_at_zero_elements_and_p_zero() {
        let m = nalgebra::Vector3::new(-2.0, 0.0, 3.0);
        // p = 1: the sign of each element, and 0 for the element that is 0.
        let g = m.lp_norm_adjoint(&1, &m.lp_norm(1), &1.0);
        assert_eq!(g, nalgebra::Vector3::new(-1.0, 0.0, 1.0));
        // p = 2 agrees with the Euclidean norm's rule.
        let g = m.lp_norm_adjoint(&2, &m.lp_norm(2), &1.0);
        assert!((g - m.norm_adjoint(&m.norm(), &1.0)).amax() < 1e-15);
        assert_eq!(m.lp_norm_adjoint(&0, &m.lp_norm(0), &1.0), m * 0.0);
    }
}
