//! Products that are not matrix products: `a.dot(&b)`, `a.component_mul(&b)` and
//! `a.component_div(&b)`.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use crate::tangent::Tangent;
use crate::Real;

/// `y = a.dot(&b) = Σᵢⱼ aᵢⱼ bᵢⱼ`: `da = dy · b`, `db = dy · a`.
pub trait DotRule<Other: Tangent + ?Sized = Self>: Tangent {
    /// The type of `y`: the element type.
    type Output;
    fn dot_adjoint_self(&self, other: &Other, y: &Self::Output, d: &Self::Output) -> Self::Tangent;
    fn dot_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent;
}

/// `Y = a.component_mul(&b)`, `Yᵢⱼ = aᵢⱼ bᵢⱼ`: `da = dY ∘ b`, `db = dY ∘ a`.
pub trait ComponentMulRule<Other: Tangent + ?Sized = Self>: Tangent {
    /// The type of `Y`: an owned matrix, its own tangent type.
    type Output;
    fn component_mul_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent;
    fn component_mul_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent;
}

/// `Y = a.component_div(&b)`, `Yᵢⱼ = aᵢⱼ / bᵢⱼ`: `da = dY ⊘ b`,
/// `db = -dY ∘ a ⊘ b² = -dY ∘ Y ⊘ b`.
pub trait ComponentDivRule<Other: Tangent + ?Sized = Self>: Tangent {
    /// The type of `Y`: an owned matrix, its own tangent type.
    type Output;
    fn component_div_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent;
    fn component_div_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent;
}

impl<T, R, C, SA, SB> DotRule<Matrix<T, R, C, SB>> for Matrix<T, R, C, SA>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    SA: Storage<T, R, C>,
    SB: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;
    #[inline]
    fn dot_adjoint_self(&self, other: &Matrix<T, R, C, SB>, _: &T, d: &T) -> OMatrix<T, R, C> {
        other * *d
    }
    #[inline]
    fn dot_adjoint_other(&self, _: &Matrix<T, R, C, SB>, _: &T, d: &T) -> OMatrix<T, R, C> {
        self * *d
    }
}

impl<T, R, C, SA, SB> ComponentMulRule<Matrix<T, R, C, SB>> for Matrix<T, R, C, SA>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    SA: Storage<T, R, C>,
    SB: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn component_mul_adjoint_self(
        &self,
        other: &Matrix<T, R, C, SB>,
        _: &OMatrix<T, R, C>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        d.zip_map(other, |d, b| d * b)
    }
    #[inline]
    fn component_mul_adjoint_other(
        &self,
        _: &Matrix<T, R, C, SB>,
        _: &OMatrix<T, R, C>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        d.zip_map(self, |d, a| d * a)
    }
}

impl<T, R, C, SA, SB> ComponentDivRule<Matrix<T, R, C, SB>> for Matrix<T, R, C, SA>
where
    T: Real + RealField,
    R: Dim,
    C: Dim,
    SA: Storage<T, R, C>,
    SB: Storage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn component_div_adjoint_self(
        &self,
        other: &Matrix<T, R, C, SB>,
        _: &OMatrix<T, R, C>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        d.zip_map(other, |d, b| d / b)
    }
    // From the saved quotient `Y` rather than `a / b²`: no second division of `a`, and
    // `-(d·y)/b` stays finite where `b²` would overflow (as the scalar rule).
    #[inline]
    fn component_div_adjoint_other(
        &self,
        other: &Matrix<T, R, C, SB>,
        y: &OMatrix<T, R, C>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, C> {
        d.zip_zip_map(y, other, |d, y, b| -(d * y) / b)
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
        let a = sample(r, c, seed);
        // Keep the divisor away from zero: entries in [0.5, 2.5) in absolute value.
        let b = sample(r, c, seed + 1).map(|x| if x < 0.0 { x - 0.5 } else { x + 0.5 });
        let d = sample(r, c, seed + 2);
        let (ta, tb, td) = (
            lift::<T, _, _>(&a),
            lift::<T, _, _>(&b),
            lift::<T, _, _>(&d),
        );

        let s = lift::<T, _, _>(&d.map(|x| x * 0.5)).sum(); // any cotangent of a scalar
        let s64 = s.to_f64();
        let y = ta.dot(&tb);
        let fd = fd_gradient(|x| s64 * x.dot(&b), &a);
        assert_matrix_close(&ta.dot_adjoint_self(&tb, &y, &s), &fd, "dot self");
        let fd = fd_gradient(|x| s64 * a.dot(x), &b);
        assert_matrix_close(&ta.dot_adjoint_other(&tb, &y, &s), &fd, "dot other");

        let y = ta.component_mul(&tb);
        let fd = fd_gradient(|x| d.dot(&x.component_mul(&b)), &a);
        let rule = ta.component_mul_adjoint_self(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "component_mul self");
        let fd = fd_gradient(|x| d.dot(&a.component_mul(x)), &b);
        let rule = ta.component_mul_adjoint_other(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "component_mul other");

        let y = ta.component_div(&tb);
        let fd = fd_gradient(|x| d.dot(&x.component_div(&b)), &a);
        let rule = ta.component_div_adjoint_self(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "component_div self");
        let fd = fd_gradient(|x| d.dot(&a.component_div(x)), &b);
        let rule = ta.component_div_adjoint_other(&tb, &y, &td);
        assert_matrix_close(&rule, &fd, "component_div other");
    }

    #[test]
    fn products_match_finite_differences() {
        check::<f64, _, _>(Const::<4>, U1, 1);
        check::<f64, _, _>(Const::<3>, Const::<2>, 2);
        check::<f64, _, _>(Dyn(6), U1, 3);
        check::<f64, _, _>(Dyn(3), Dyn(4), 4);
        check::<f32, _, _>(Const::<4>, U1, 1);
        check::<f32, _, _>(Dyn(3), Dyn(4), 4);
    }

    #[test]
    fn products_accept_views() {
        let m = sample(Dyn(5), Dyn(5), 9);
        let (a, b) = (m.column(1), m.column(3));
        let d = 1.5;
        assert_eq!(a.dot_adjoint_self(&b, &a.dot(&b), &d), b * d);
        assert_eq!(a.dot_adjoint_other(&b, &a.dot(&b), &d), a * d);
    }
}
