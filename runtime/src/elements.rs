//! Elements of `Vec`s and slices that carry gradient: floats, and model structs that derive
//! [`Parameters`].
//!
//! A `Vec<T>` of either kind has the gradient `Vec<T>`: one gradient element per element, of
//! the element's own type. The two kinds differ only in how that is done fast: a `Vec<f64>`
//! gradient is zeroed by one allocation and walked by an optimizer as one block, while a
//! `Vec<Layer>` gradient is built and walked layer by layer. [`TangentElement`] and
//! [`ParameterElement`] carry that difference; their default methods are the element-by-element
//! forms, which `#[derive(Parameters)]` uses as they are.

use crate::parameters::{BlockVisitor, Element, Parameters};
use crate::tangent::{Accumulate, Tangent, TangentValue};

/// An element type of a `Vec` or slice whose gradient is a `Vec` of the same type.
#[diagnostic::on_unimplemented(
    message = "a slice or `Vec` of `{Self}` cannot carry a gradient",
    label = "elements that carry gradient are f32, f64, arrays of them, or structs deriving `nabla::Parameters`",
    note = "take rows of data as `#[no_grad]`; parameters in rows are a flat `&[f64]` indexed `w[i * d + j]`, a slice of arrays `&[[f64; D]]`, or a `DMatrix`"
)]
pub trait TangentElement: Tangent<Tangent = Self> + TangentValue + Accumulate + Sized {
    /// A gradient of the shape of `elements`, holding zeros.
    fn zeros_like(elements: &[Self]) -> Vec<Self> {
        elements.iter().map(Tangent::zero_tangent).collect()
    }

    /// Adds `contribution` into `gradient`, element by element. A local buffer changes length
    /// (`push`, `truncate`, `v = w`), and its gradient is that of the buffer at one point of the
    /// program: elements the gradient does not hold yet have gradient zero, so a longer
    /// contribution extends it.
    fn add_elements(gradient: &mut Vec<Self>, contribution: Vec<Self>) {
        let mut contribution = contribution.into_iter();
        for (a, b) in gradient.iter_mut().zip(contribution.by_ref()) {
            a.accumulate(b);
        }
        gradient.extend(contribution);
    }

    /// Adds `d` into the gradient of element `index`, growing the gradient to reach it.
    fn add_element(gradient: &mut Vec<Self>, index: usize, d: Self) {
        if index >= gradient.len() {
            grow_to(gradient, index, &d);
        }
        gradient[index].accumulate(d);
    }

    /// Extends a gradient shorter than its buffer to `length` with zero elements, where the
    /// element type has a zero without a shape (floats); others are left short.
    #[inline]
    fn pad_with_zeros(_gradient: &mut Vec<Self>, _length: usize) {}

    /// Adds `d` into the gradient of element `index`, which the gradient holds: see
    /// [`IndexRule::index_accumulate_held`](crate::rules::IndexRule::index_accumulate_held).
    #[inline(always)]
    fn add_held_element(gradient: &mut [Self], index: usize, d: Self) {
        match gradient.get_mut(index) {
            Some(element) => element.accumulate(d),
            None => gradient_shorter_than_buffer(index, gradient.len()),
        }
    }
}

/// A buffer's gradient that does not hold an element the buffer held: the generated code keeps
/// a buffer's gradient at the buffer's length wherever it reads with
/// `index_accumulate_held`, so this is a bug in the code generator, never in user code.
#[cold]
#[inline(never)]
#[track_caller]
fn gradient_shorter_than_buffer(index: usize, len: usize) -> ! {
    panic!("nabla: a buffer's gradient has {len} elements, fewer than the element {index} read")
}

/// Out of the hot path: where an element read lies past the gradient's end. The missing elements
/// have gradient zero, shaped like the contribution.
#[cold]
#[inline(never)]
fn grow_to<T: TangentElement>(gradient: &mut Vec<T>, index: usize, like: &T) {
    while gradient.len() <= index {
        gradient.push(like.zeroed());
    }
}

macro_rules! impl_float_element {
    ($($t:ty)*) => {$(
        impl TangentElement for $t {
            #[inline]
            fn zeros_like(elements: &[$t]) -> Vec<$t> {
                vec![0.0; elements.len()]
            }

            #[inline]
            fn add_elements(gradient: &mut Vec<$t>, contribution: Vec<$t>) {
                add_float_slices(gradient, &contribution);
            }

            #[inline(always)]
            fn add_element(gradient: &mut Vec<$t>, index: usize, d: $t) {
                match gradient.get_mut(index) {
                    Some(element) => *element += d,
                    None => grow_floats_and_add(gradient, index, d),
                }
            }

            #[inline]
            fn pad_with_zeros(gradient: &mut Vec<$t>, length: usize) {
                gradient.resize(length, 0.0);
            }

            #[inline(always)]
            fn add_held_element(gradient: &mut [$t], index: usize, d: $t) {
                match gradient.get_mut(index) {
                    Some(element) => *element += d,
                    None => gradient_shorter_than_buffer(index, gradient.len()),
                }
            }
        }

        impl ParameterElement for $t {
            #[inline]
            fn visit_elements<V: BlockVisitor + ?Sized>(
                params: &mut [$t],
                grads: &[$t],
                visitor: &mut V,
            ) {
                Element::visit_block(visitor, params, grads);
            }
        }
    )*};
}

impl_float_element!(f32 f64);

/// Out of the hot path, as [`grow_to`] for floats: `d` is passed by value, so that the hot path
/// keeps it in a register rather than in memory for a reference.
#[cold]
#[inline(never)]
fn grow_floats_and_add<T: crate::Real>(gradient: &mut Vec<T>, index: usize, d: T) {
    gradient.resize(index + 1, T::ZERO);
    gradient[index] += d;
}

/// Adds a float contribution of any length into a float gradient (see
/// [`TangentElement::add_elements`]).
#[inline]
pub(crate) fn add_float_slices<T: crate::Real>(gradient: &mut Vec<T>, contribution: &[T]) {
    if contribution.len() > gradient.len() {
        gradient.resize(contribution.len(), T::ZERO);
    }
    for (a, &b) in gradient.iter_mut().zip(contribution) {
        *a += b;
    }
}

/// An element type of `Vec`, slice and array parameters an optimizer updates: floats as one
/// block, derived model structs one after another.
pub trait ParameterElement: Parameters<Gradient = Self> + Sized {
    /// Walks `params` and `grads` together, element by element. Gradients of another length
    /// than the parameters are reported as a shape mismatch `(length, 1)` and not walked.
    fn visit_elements<V: BlockVisitor + ?Sized>(
        params: &mut [Self],
        grads: &[Self],
        visitor: &mut V,
    ) {
        if params.len() != grads.len() {
            visitor.shape_mismatch((params.len(), 1), (grads.len(), 1));
            return;
        }
        for (p, g) in params.iter_mut().zip(grads) {
            p.visit_blocks(g, visitor);
        }
    }
}
