//! What `#[derive(Parameters)]` builds a model struct from: fields that carry gradient.
//!
//! The derive walks the fields of the struct and calls the functions here once per field, each
//! call spanned at the field's type. They all require the one trait [`ParameterField`], so a field
//! of a type that cannot be trained is one error at that field, in that trait's words.

use crate::elements::{ParameterElement, TangentElement};
use crate::parameters::{BlockVisitor, Parameters};
use crate::tangent::{Accumulate, Tangent, TangentValue};
use crate::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// A type a field of a model struct can have and be trained: its gradient has the same type,
/// and an optimizer can walk it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a trained field of a struct that derives `Parameters`",
    label = "trained fields are f32, f64, float arrays, `Vec`s, owned nalgebra matrices, and structs deriving `Parameters` (or `Vec`s of them)",
    note = "mark the field `#[no_grad]` if it is not trained: it is then copied into the gradient value unchanged"
)]
pub trait ParameterField:
    Tangent<Tangent = Self> + TangentValue + Accumulate + Parameters<Gradient = Self>
{
}

impl ParameterField for f32 {}
impl ParameterField for f64 {}
impl<T: Real, const N: usize> ParameterField for [T; N] {}
impl<T: TangentElement + ParameterElement> ParameterField for Vec<T> {}
impl<T, R, C> ParameterField for OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
    OMatrix<T, R, C>: Parameters<Gradient = OMatrix<T, R, C>>,
{
}

/// What the derive does with one trained field of type `F`: zero it, add into it, walk it.
///
/// One function, [`trained`], hands these out, so that a field of a type that cannot be trained
/// is one error (rustc reports identical errors once), not one per operation.
pub struct TrainedField<F> {
    /// The zero gradient of the field.
    pub zero: fn(&F) -> F,
    /// Adds a contribution into the field of an accumulated gradient.
    pub accumulate: fn(&mut F, F),
    /// Walks the field of the parameters together with the same field of the gradient.
    pub visit: fn(&mut F, &F, &mut dyn BlockVisitor),
    /// Multiplies the field of a gradient by a number.
    pub scale: fn(&mut F, f64),
}

/// The operations on a trained field of type `F`; requires `F` to be trainable.
#[inline(always)]
pub fn trained<F: ParameterField>() -> TrainedField<F> {
    TrainedField {
        zero: |field| field.zero_tangent(),
        accumulate: |field, contribution| field.accumulate(contribution),
        visit: |field, gradient, visitor| field.visit_blocks(gradient, visitor),
        scale: |field, by| field.scale(by),
    }
}

/// Passes a walk on to a visitor of any type, as a visitor of a known size: what a
/// [`TrainedField::visit`] takes as `&mut dyn BlockVisitor`.
pub struct Forwarding<'a, V: ?Sized>(pub &'a mut V);

impl<V: BlockVisitor + ?Sized> BlockVisitor for Forwarding<'_, V> {
    #[inline(always)]
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
        self.0.f32_block(params, grads);
    }

    #[inline(always)]
    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
        self.0.f64_block(params, grads);
    }

    #[inline(always)]
    fn shape_mismatch(&mut self, expected: (usize, usize), found: (usize, usize)) {
        self.0.shape_mismatch(expected, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, SVector};

    fn requires_field<F: ParameterField>() {}

    #[test]
    fn floats_arrays_vectors_and_owned_matrices_are_fields() {
        requires_field::<f32>();
        requires_field::<f64>();
        requires_field::<[f64; 3]>();
        requires_field::<Vec<f32>>();
        requires_field::<DMatrix<f64>>();
        requires_field::<SVector<f32, 4>>();
    }

    #[test]
    fn field_operations_zero_add_and_walk() {
        let field = trained::<Vec<f64>>();
        let mut w = vec![1.0f64, 2.0];
        assert_eq!((field.zero)(&w), vec![0.0, 0.0]);
        (field.accumulate)(&mut w, vec![0.5, 0.5]);
        assert_eq!(w, vec![1.5, 2.5]);
        let flat = crate::flat::flatten(&w, &vec![3.0, 4.0]);
        assert_eq!(flat, Some((vec![1.5, 2.5], vec![3.0, 4.0])));
    }
}
