//! Products that are not matrix products: `a.dot(&b)`, `a.component_mul(&b)` and
//! `a.component_div(&b)`.

use nalgebra::allocator::{Allocator, SameShapeC, SameShapeR};
use nalgebra::constraint::{SameNumberOfColumns, SameNumberOfRows, ShapeConstraint};
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

// The operands' shapes are the same wherever a rule runs: nalgebra's own `dot`,
// `component_mul` and `component_div` in the forward sweep require it, statically for fixed
// shapes and by a panic for dynamic ones. The rules view the other operand (and the cotangent)
// at the shape they need, a view of its whole storage where the shapes agree, so that a fixed
// shape meets a dynamic one (`DVector` dotted with `SVector`) as nalgebra allows. `dot` takes
// any two shapes, so that a mismatch of fixed ones is reported once, by rustc at the user's
// expression; the component-wise products take the shapes nalgebra's result has one for.

impl<T, R1, C1, S1, R2, C2, S2> DotRule<Matrix<T, R2, C2, S2>> for Matrix<T, R1, C1, S1>
where
    T: Real + RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2>,
{
    type Output = T;
    #[inline]
    fn dot_adjoint_self(&self, other: &Matrix<T, R2, C2, S2>, _: &T, d: &T) -> OMatrix<T, R1, C1> {
        other.generic_view((0, 0), self.shape_generic()) * *d
    }
    #[inline]
    fn dot_adjoint_other(&self, other: &Matrix<T, R2, C2, S2>, _: &T, d: &T) -> OMatrix<T, R2, C2> {
        self.generic_view((0, 0), other.shape_generic()) * *d
    }
}

/// The shape of `a.component_mul(&b)` as nalgebra gives it: the fixed one where a fixed shape
/// meets a dynamic one.
type ComponentOutput<T, R1, C1, R2, C2> = OMatrix<T, SameShapeR<R1, R2>, SameShapeC<C1, C2>>;

impl<T, R1, C1, S1, R2, C2, S2> ComponentMulRule<Matrix<T, R2, C2, S2>> for Matrix<T, R1, C1, S1>
where
    T: Real + RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R1, R2> + SameNumberOfColumns<C1, C2>,
    DefaultAllocator:
        Allocator<R1, C1> + Allocator<R2, C2> + Allocator<SameShapeR<R1, R2>, SameShapeC<C1, C2>>,
{
    type Output = ComponentOutput<T, R1, C1, R2, C2>;
    #[inline]
    fn component_mul_adjoint_self(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R1, C1> {
        let shape = self.shape_generic();
        let b = other.generic_view((0, 0), shape);
        d.generic_view((0, 0), shape).zip_map(&b, |d, b| d * b)
    }
    #[inline]
    fn component_mul_adjoint_other(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R2, C2> {
        let shape = other.shape_generic();
        let a = self.generic_view((0, 0), shape);
        d.generic_view((0, 0), shape).zip_map(&a, |d, a| d * a)
    }
}

impl<T, R1, C1, S1, R2, C2, S2> ComponentDivRule<Matrix<T, R2, C2, S2>> for Matrix<T, R1, C1, S1>
where
    T: Real + RealField,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    S1: Storage<T, R1, C1>,
    S2: Storage<T, R2, C2>,
    ShapeConstraint: SameNumberOfRows<R1, R2> + SameNumberOfColumns<C1, C2>,
    DefaultAllocator:
        Allocator<R1, C1> + Allocator<R2, C2> + Allocator<SameShapeR<R1, R2>, SameShapeC<C1, C2>>,
{
    type Output = ComponentOutput<T, R1, C1, R2, C2>;
    #[inline]
    fn component_div_adjoint_self(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        _: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R1, C1> {
        let shape = self.shape_generic();
        let b = other.generic_view((0, 0), shape);
        d.generic_view((0, 0), shape).zip_map(&b, |d, b| d / b)
    }
    // From the saved quotient `Y` rather than `a / b²`: no second division of `a`, and
    // `-(d·y)/b` stays finite where `b²` would overflow (as the scalar rule).
    #[inline]
    fn component_div_adjoint_other(
        &self,
        other: &Matrix<T, R2, C2, S2>,
        y: &Self::Output,
        d: &Self::Output,
    ) -> OMatrix<T, R2, C2> {
        let shape = other.shape_generic();
        let (d, y) = (d.generic_view((0, 0), shape), y.generic_view((0, 0), shape));
        d.zip_zip_map(&y, other, |d, y, b| -(d * y) / b)
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

    /// A dynamic shape meeting a fixed one: each adjoint has its own operand's type.
    #[test]
    fn products_of_a_dynamic_and_a_fixed_shape() {
        let a = sample(Dyn(3), U1, 5);
        let b = nalgebra::Vector3::new(0.75, -1.5, 2.0);
        let d = nalgebra::Vector3::new(0.5, 1.0, -0.25);
        let da: nalgebra::DVector<f64> = a.dot_adjoint_self(&b, &a.dot(&b), &2.0);
        let db: nalgebra::Vector3<f64> = a.dot_adjoint_other(&b, &a.dot(&b), &2.0);
        assert_eq!(
            (da.as_slice(), db),
            ((b * 2.0).as_slice(), a.fixed_rows::<3>(0) * 2.0)
        );
        let y = a.component_mul(&b);
        let da: nalgebra::DVector<f64> = a.component_mul_adjoint_self(&b, &y, &d);
        let db: nalgebra::Vector3<f64> = a.component_mul_adjoint_other(&b, &y, &d);
        assert_eq!(da.as_slice(), d.component_mul(&b).as_slice());
        assert_eq!(db, d.component_mul(&a.fixed_rows::<3>(0)));
        let y = a.component_div(&b);
        let da: nalgebra::DVector<f64> = a.component_div_adjoint_self(&b, &y, &d);
        let db: nalgebra::Vector3<f64> = a.component_div_adjoint_other(&b, &y, &d);
        assert_eq!(da.as_slice(), d.component_div(&b).as_slice());
        let want = -d.component_mul(&y).component_div(&b);
        assert_eq!(db, want);
    }
}
