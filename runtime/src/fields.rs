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

/// The zero gradient of one field.
#[inline(always)]
pub fn zero_field<F: ParameterField>(field: &F) -> F {
    field.zero_tangent()
}

/// Adds a field's gradient contribution into the field of the accumulated gradient.
#[inline(always)]
pub fn accumulate_field<F: ParameterField>(field: &mut F, contribution: F) {
    field.accumulate(contribution);
}

/// Walks one field of the parameters together with the same field of the gradient.
#[inline(always)]
pub fn visit_field<F: ParameterField, V: BlockVisitor + ?Sized>(
    field: &mut F,
    gradient: &F,
    visitor: &mut V,
) {
    field.visit_blocks(gradient, visitor);
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
    fn field_helpers_zero_add_and_walk() {
        let mut w = vec![1.0f64, 2.0];
        assert_eq!(zero_field(&w), vec![0.0, 0.0]);
        accumulate_field(&mut w, vec![0.5, 0.5]);
        assert_eq!(w, vec![1.5, 2.5]);
    }
}
