//! How generated code passes the operands of `+ - * /` in the forward sweep: by value where the
//! type is `Copy` (floats, static nalgebra matrices), by reference otherwise (`DMatrix`,
//! `DVector`). The macro cannot see types, and neither form alone works for every operand pair:
//! nalgebra has `f64 * &DMatrix` and `&DMatrix * &DVector` but not `&f64 * &Matrix`.
//!
//! The choice is made by method resolution ("autoref specialization"):
//! `(&Operand(&x)).value()` finds [`ByCopy::value`] first when `x: Copy`, and falls back to
//! [`ByRef::value`] otherwise. Nothing is moved, so the reverse sweep can still read `x`.

/// A borrowed operand whose passing form is still to be chosen.
pub struct Operand<'a, T: ?Sized>(pub &'a T);

/// Chosen for `Copy` operands: the value itself.
pub trait ByCopy {
    type Value;
    fn value(&self) -> Self::Value;
}

impl<T: Copy> ByCopy for Operand<'_, T> {
    type Value = T;
    #[inline(always)]
    fn value(&self) -> T {
        *self.0
    }
}

/// Chosen for everything else: a reference.
pub trait ByRef<'a> {
    type Value;
    fn value(&self) -> Self::Value;
}

impl<'a, T: ?Sized> ByRef<'a> for &Operand<'a, T> {
    type Value = &'a T;
    #[inline(always)]
    fn value(&self) -> &'a T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DVector, Matrix2, Vector2};

    // The explicit `&` is how generated code spells the choice, so the test spells it too.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn copy_operands_by_value_others_by_reference() {
        let s = 2.0f64;
        let m = Matrix2::new(1.0, 2.0, 3.0, 4.0);
        let v = DVector::from_vec(vec![1.0, 2.0]);
        // `f64 * Matrix2` and `f64 * &DVector`: both pick their working form.
        let a = (&Operand(&s)).value() * (&Operand(&m)).value();
        let b = (&Operand(&s)).value() * (&Operand(&v)).value();
        assert_eq!(a * Vector2::new(1.0, 0.0), Vector2::new(2.0, 6.0));
        assert_eq!(b, DVector::from_vec(vec![2.0, 4.0]));
        // `v` was not moved.
        assert_eq!(v.len(), 2);
    }
}
