//! Rules for operands the generated code holds by reference: a row of a slice of vectors read
//! in a loop (`for x in xs { x.dot(&w) }`) or through a reference (`let r = &xs[0];`). Each
//! one is the rule of what is referred to.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RealField, Storage};

use super::arith::MulRule;
use super::linalg::{ComponentDivRule, ComponentMulRule, DotRule};
use super::map::MapRule;
use crate::tangent::{Accumulate, Tangent};
use crate::Real;

impl<Rhs: Tangent + ?Sized, L: MulRule<Rhs> + ?Sized> MulRule<Rhs> for &L {
    type Output = L::Output;
    #[inline(always)]
    fn mul_adjoint_lhs(&self, rhs: &Rhs, d: &Self::Output) -> Self::Tangent {
        (**self).mul_adjoint_lhs(rhs, d)
    }
    #[inline(always)]
    fn mul_adjoint_rhs(&self, rhs: &Rhs, d: &Self::Output) -> Rhs::Tangent {
        (**self).mul_adjoint_rhs(rhs, d)
    }
    #[inline(always)]
    fn mul_accumulate_lhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Self::Tangent)
    where
        Self::Tangent: Accumulate,
    {
        (**self).mul_accumulate_lhs(rhs, d, acc)
    }
    #[inline(always)]
    fn mul_accumulate_rhs(&self, rhs: &Rhs, d: &Self::Output, acc: &mut Rhs::Tangent)
    where
        Rhs::Tangent: Accumulate,
    {
        (**self).mul_accumulate_rhs(rhs, d, acc)
    }
}

/// `Y = A · B` where `B` is held by reference: an element of a slice of vectors read in a loop
/// (`for x in xs { w * x }`), which the generated code keeps as the reference it is.
impl<'b, T, R, K, C, SA, SB> MulRule<&'b Matrix<T, K, C, SB>> for Matrix<T, R, K, SA>
where
    T: Real + RealField,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: Storage<T, R, K>,
    SB: Storage<T, K, C>,
    DefaultAllocator: Allocator<R, K> + Allocator<K, C> + Allocator<R, C>,
{
    type Output = OMatrix<T, R, C>;
    #[inline]
    fn mul_adjoint_lhs(
        &self,
        rhs: &&'b Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, R, K> {
        MulRule::<Matrix<T, K, C, SB>>::mul_adjoint_lhs(self, *rhs, d)
    }
    #[inline]
    fn mul_adjoint_rhs(
        &self,
        rhs: &&'b Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
    ) -> OMatrix<T, K, C> {
        MulRule::<Matrix<T, K, C, SB>>::mul_adjoint_rhs(self, *rhs, d)
    }
    #[inline]
    fn mul_accumulate_lhs(
        &self,
        rhs: &&'b Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, R, K>,
    ) {
        MulRule::<Matrix<T, K, C, SB>>::mul_accumulate_lhs(self, *rhs, d, acc)
    }
    #[inline]
    fn mul_accumulate_rhs(
        &self,
        rhs: &&'b Matrix<T, K, C, SB>,
        d: &OMatrix<T, R, C>,
        acc: &mut OMatrix<T, K, C>,
    ) {
        MulRule::<Matrix<T, K, C, SB>>::mul_accumulate_rhs(self, *rhs, d, acc)
    }
}

/// `s * x` with the matrix borrowed.
macro_rules! scalar_times_borrowed {
    ($($t:ty)*) => {$(
        impl<'b, R: Dim, C: Dim, S: Storage<$t, R, C>> MulRule<&'b Matrix<$t, R, C, S>> for $t
        where
            DefaultAllocator: Allocator<R, C>,
        {
            type Output = OMatrix<$t, R, C>;
            #[inline(always)]
            fn mul_adjoint_lhs(&self, rhs: &&'b Matrix<$t, R, C, S>, d: &Self::Output) -> $t {
                MulRule::<Matrix<$t, R, C, S>>::mul_adjoint_lhs(self, *rhs, d)
            }
            #[inline(always)]
            fn mul_adjoint_rhs(
                &self,
                rhs: &&'b Matrix<$t, R, C, S>,
                d: &Self::Output,
            ) -> OMatrix<$t, R, C> {
                MulRule::<Matrix<$t, R, C, S>>::mul_adjoint_rhs(self, *rhs, d)
            }
        }
    )*};
}
scalar_times_borrowed!(f32 f64);

impl<Other: Tangent + ?Sized, M: DotRule<Other> + ?Sized> DotRule<Other> for &M {
    type Output = M::Output;
    #[inline(always)]
    fn dot_adjoint_self(&self, other: &Other, y: &Self::Output, d: &Self::Output) -> Self::Tangent {
        (**self).dot_adjoint_self(other, y, d)
    }
    #[inline(always)]
    fn dot_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent {
        (**self).dot_adjoint_other(other, y, d)
    }
}

impl<Other: Tangent + ?Sized, M: ComponentMulRule<Other> + ?Sized> ComponentMulRule<Other> for &M {
    type Output = M::Output;
    #[inline(always)]
    fn component_mul_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent {
        (**self).component_mul_adjoint_self(other, y, d)
    }
    #[inline(always)]
    fn component_mul_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent {
        (**self).component_mul_adjoint_other(other, y, d)
    }
}

impl<Other: Tangent + ?Sized, M: ComponentDivRule<Other> + ?Sized> ComponentDivRule<Other> for &M {
    type Output = M::Output;
    #[inline(always)]
    fn component_div_adjoint_self(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Self::Tangent {
        (**self).component_div_adjoint_self(other, y, d)
    }
    #[inline(always)]
    fn component_div_adjoint_other(
        &self,
        other: &Other,
        y: &Self::Output,
        d: &Self::Output,
    ) -> Other::Tangent {
        (**self).component_div_adjoint_other(other, y, d)
    }
}

impl<T, M: MapRule<T> + ?Sized> MapRule<T> for &M {
    type Tangent = M::Tangent;
    #[inline(always)]
    fn map_adjoint<F: FnMut(T, T, T) -> T>(
        &self,
        y: &Self::Tangent,
        d: &Self::Tangent,
        pullback: F,
    ) -> Self::Tangent {
        (**self).map_adjoint(y, d, pullback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector2;

    #[test]
    fn a_borrowed_operand_has_its_referent_rule() {
        let (x, w) = (Vector2::new(1.0f64, 2.0), Vector2::new(3.0f64, -1.0));
        let borrowed = &x;
        let d = 1.5;
        assert_eq!(
            DotRule::dot_adjoint_self(&borrowed, &w, &1.0, &d),
            DotRule::dot_adjoint_self(&x, &w, &1.0, &d)
        );
        let dy = Vector2::new(0.5, 2.0);
        assert_eq!(
            MulRule::mul_adjoint_rhs(&2.0f64, &borrowed, &dy),
            MulRule::mul_adjoint_rhs(&2.0f64, &x, &dy)
        );
        assert_eq!(
            MulRule::mul_adjoint_lhs(&borrowed, &2.0f64, &dy),
            MulRule::mul_adjoint_lhs(&x, &2.0f64, &dy)
        );
        let y = x.component_mul(&w);
        assert_eq!(
            ComponentMulRule::component_mul_adjoint_self(&borrowed, &w, &y, &dy),
            ComponentMulRule::component_mul_adjoint_self(&x, &w, &y, &dy)
        );
        let twice = |_: f64, _: f64, d: f64| 2.0 * d;
        assert_eq!(
            MapRule::map_adjoint(&borrowed, &x, &dy, twice),
            MapRule::map_adjoint(&x, &x, &dy, twice)
        );
    }
}
