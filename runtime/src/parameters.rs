//! What an optimizer can update: [`Parameters`].
//!
//! An optimizer does not care how a model's parameters are shaped, only where their floats are.
//! [`Parameters`] shows any parameter type as a fixed sequence of contiguous blocks of `f32` or
//! `f64`, each handed over together with the matching block of its gradient, so that an optimizer
//! runs one tight loop per block instead of one call per element.
//!
//! Implemented for `f32`, `f64`, `[T; N]`, `Vec<T>`, `[T]`, `&mut P`, nalgebra matrices and
//! vectors with contiguous storage (`SMatrix`, `SVector`, `DMatrix`, `DVector`, …) and tuples of
//! up to eight of these, where `T` is `f32` or `f64` (see [`Element`]) or, for `Vec`s, slices and
//! arrays, a struct deriving `Parameters` (see [`ParameterElement`]). The gradient type is the
//! owned form of the parameter type, exactly what a generated `NAME_grad` returns: `Vec<T>` for
//! `[T]`, the same type for everything else.

use crate::elements::ParameterElement;
use crate::real::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, IsContiguous, Matrix, OMatrix, RawStorageMut};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element type of a parameter block: `f32` or `f64`.
///
/// Sealed: an optimizer keeps separate state for exactly these two types.
pub trait Element: Real + sealed::Sealed {
    /// Hands a block of this element type to the visitor method for that type.
    #[doc(hidden)]
    fn visit_block<V: BlockVisitor + ?Sized>(visitor: &mut V, params: &mut [Self], grads: &[Self]);
}

impl Element for f32 {
    #[inline]
    fn visit_block<V: BlockVisitor + ?Sized>(visitor: &mut V, params: &mut [f32], grads: &[f32]) {
        visitor.f32_block(params, grads);
    }
}

impl Element for f64 {
    #[inline]
    fn visit_block<V: BlockVisitor + ?Sized>(visitor: &mut V, params: &mut [f64], grads: &[f64]) {
        visitor.f64_block(params, grads);
    }
}

/// Receives the blocks of a [`Parameters`] walk, in order.
///
/// Optimizers implement this; a user type implementing [`Parameters`] only passes the visitor on
/// to its fields.
pub trait BlockVisitor {
    /// A contiguous block of `f32` parameters and the gradient block that belongs to it.
    ///
    /// The two slices have the same length unless the gradient has the wrong size (a `Vec`
    /// gradient of another length, say): the visitor must check.
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]);

    /// A contiguous block of `f64` parameters and the gradient block that belongs to it.
    ///
    /// The two slices have the same length unless the gradient has the wrong size: the visitor
    /// must check.
    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]);

    /// Called instead of a block method when a matrix gradient's shape `(rows, columns)` differs
    /// from the parameter matrix's: even with the same number of elements, such a gradient would
    /// be applied to the wrong elements.
    fn shape_mismatch(&mut self, expected: (usize, usize), found: (usize, usize));
}

/// Something an optimizer can update: a fixed sequence of contiguous `f32`/`f64` blocks.
///
/// `Gradient` is the type of the gradient that goes with these parameters: the owned form of the
/// parameter type, exactly what a generated `NAME_grad` returns for it, so that
/// `opt.step(&mut params, &grads)` type-checks for the tuple that was passed in.
///
/// Implement it for your own model type by walking the fields in a fixed order:
///
/// ```
/// use nabla_runtime::parameters::{BlockVisitor, Parameters};
/// use nalgebra::{DMatrix, DVector};
///
/// struct Dense {
///     w: DMatrix<f32>,
///     b: DVector<f32>,
/// }
///
/// impl Parameters for Dense {
///     type Gradient = Dense;
///
///     fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &Dense, visitor: &mut V) {
///         self.w.visit_blocks(&grads.w, visitor);
///         self.b.visit_blocks(&grads.b, visitor);
///     }
/// }
/// ```
pub trait Parameters {
    /// The gradient type: the owned form of `Self`.
    type Gradient;

    /// Walks the parameters and `grads` together, calling the visitor once per contiguous block
    /// (or [`BlockVisitor::shape_mismatch`] for a matrix gradient of the wrong shape), always in
    /// the same order for the same parameters.
    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &Self::Gradient, visitor: &mut V);
}

macro_rules! impl_scalar {
    ($($t:ty)*) => {$(
        impl Parameters for $t {
            type Gradient = $t;

            #[inline]
            fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &$t, visitor: &mut V) {
                Element::visit_block(
                    visitor,
                    core::slice::from_mut(self),
                    core::slice::from_ref(grads),
                );
            }
        }
    )*};
}

impl_scalar!(f32 f64);

impl<T: ParameterElement, const N: usize> Parameters for [T; N] {
    type Gradient = [T; N];

    #[inline]
    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &[T; N], visitor: &mut V) {
        T::visit_elements(self, grads, visitor);
    }
}

impl<T: ParameterElement> Parameters for Vec<T> {
    type Gradient = Vec<T>;

    #[inline]
    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &Vec<T>, visitor: &mut V) {
        T::visit_elements(self, grads, visitor);
    }
}

/// A slice's gradient is a `Vec`, as generated gradients of `&[T]` parameters are.
impl<T: ParameterElement> Parameters for [T] {
    type Gradient = Vec<T>;

    #[inline]
    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &Vec<T>, visitor: &mut V) {
        T::visit_elements(self, grads, visitor);
    }
}

/// Lets tuples hold borrowed parameters: `(&mut weights[..], &mut bias)`.
impl<P: Parameters + ?Sized> Parameters for &mut P {
    type Gradient = P::Gradient;

    #[inline]
    fn visit_blocks<V: BlockVisitor + ?Sized>(&mut self, grads: &P::Gradient, visitor: &mut V) {
        (**self).visit_blocks(grads, visitor);
    }
}

/// Any nalgebra matrix or vector whose storage is one contiguous column-major block: owned static
/// (`SMatrix`, `SVector`, `Matrix3`, …) and dynamic (`DMatrix`, `DVector`) matrices, and
/// contiguous mutable views. The gradient is the owned matrix of the same dimensions.
impl<T, R, C, S> Parameters for Matrix<T, R, C, S>
where
    T: Element,
    R: Dim,
    C: Dim,
    S: RawStorageMut<T, R, C> + IsContiguous,
    DefaultAllocator: Allocator<R, C>,
{
    type Gradient = OMatrix<T, R, C>;

    #[inline]
    fn visit_blocks<V: BlockVisitor + ?Sized>(
        &mut self,
        grads: &OMatrix<T, R, C>,
        visitor: &mut V,
    ) {
        if self.shape() != grads.shape() {
            visitor.shape_mismatch(self.shape(), grads.shape());
            return;
        }
        T::visit_block(visitor, self.as_mut_slice(), grads.as_slice());
    }
}

macro_rules! impl_tuple {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Parameters),+> Parameters for ($($name,)+) {
            type Gradient = ($($name::Gradient,)+);

            #[inline]
            fn visit_blocks<V: BlockVisitor + ?Sized>(
                &mut self,
                grads: &Self::Gradient,
                visitor: &mut V,
            ) {
                $(self.$idx.visit_blocks(&grads.$idx, visitor);)+
            }
        }
    };
}

impl_tuple!(A 0);
impl_tuple!(A 0, B 1);
impl_tuple!(A 0, B 1, C 2);
impl_tuple!(A 0, B 1, C 2, D 3);
impl_tuple!(A 0, B 1, C 2, D 3, E 4);
impl_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
impl_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
impl_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, SVector};

    /// Records `(is_f64, params, grads)` per block, and shape mismatches.
    #[derive(Default)]
    struct Record {
        blocks: Vec<(bool, Vec<f64>, Vec<f64>)>,
        mismatches: Vec<((usize, usize), (usize, usize))>,
    }

    impl BlockVisitor for Record {
        fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
            let widen = |s: &[f32]| s.iter().map(|&x| f64::from(x)).collect();
            self.blocks.push((false, widen(params), widen(grads)));
        }
        fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
            self.blocks.push((true, params.to_vec(), grads.to_vec()));
        }
        fn shape_mismatch(&mut self, expected: (usize, usize), found: (usize, usize)) {
            self.mismatches.push((expected, found));
        }
    }

    #[test]
    fn tuple_walks_members_in_order_with_their_types() {
        let mut p = (1.0f32, SVector::<f64, 2>::new(2.0, 3.0), vec![4.0f32]);
        let g = (10.0f32, SVector::<f64, 2>::new(20.0, 30.0), vec![40.0f32]);
        let mut r = Record::default();
        p.visit_blocks(&g, &mut r);
        assert_eq!(
            r.blocks,
            vec![
                (false, vec![1.0], vec![10.0]),
                (true, vec![2.0, 3.0], vec![20.0, 30.0]),
                (false, vec![4.0], vec![40.0]),
            ]
        );
    }

    #[test]
    fn matrix_of_other_shape_is_reported_not_walked() {
        let mut p = DMatrix::<f64>::zeros(2, 3);
        let g = DMatrix::<f64>::zeros(3, 2);
        let mut r = Record::default();
        p.visit_blocks(&g, &mut r);
        assert!(r.blocks.is_empty());
        assert_eq!(r.mismatches, vec![((2, 3), (3, 2))]);
    }
}
