//! How gradients are stored: the tangent (gradient) type of every value type, its zero, and how
//! contributions are added up.
//!
//! | value type                         | tangent type       |
//! |------------------------------------|--------------------|
//! | `f32`, `f64`                       | the same           |
//! | `[T; N]`                           | `[T; N]`           |
//! | `[T]`, `Vec<T>`                    | `Vec<T>`           |
//! | a struct deriving `Parameters`     | the same struct    |
//! | nalgebra `Matrix<T, R, C, S>`      | `OMatrix<T, R, C>` |
//! | `&V`                               | `V`'s tangent      |

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage, Scalar};

use crate::data_slot::SlotTarget;
use crate::elements::{add_float_slices, TangentElement};
use crate::Real;

/// A value that can carry a gradient; `Tangent` is the owned type its gradient has.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot carry a gradient",
    label = "gradients flow only through f32, f64, arrays, slices, `Vec`s and nalgebra matrices of them, and structs deriving `nabla::Parameters`",
    note = "derive `nabla::Parameters` for a struct whose fields carry gradient; mark the parameter `#[no_grad]`, or wrap the value in `stop_gradient(..)`, if no gradient is meant to flow here"
)]
pub trait Tangent {
    /// The owned type of this value's gradient.
    type Tangent;
    /// A gradient of the right shape holding zeros.
    fn zero_tangent(&self) -> Self::Tangent;

    /// The length of a buffer (a slice or a `Vec`, whose gradient is a `Vec` of that length);
    /// `None` for every other value. Taken on entry from a parameter that the function may move
    /// away, to cut its gradient to that length at the end (see [`TangentValue::fit_length`]).
    #[inline(always)]
    fn buffer_length(&self) -> Option<usize> {
        None
    }
}

/// Requires a parameter's type to carry a gradient. The generated code calls it once per
/// parameter that carries gradient, spanned at the parameter, so a type that cannot (a data
/// struct passed without `#[no_grad]`) is one error there, in the words of [`Tangent`].
#[inline(always)]
pub fn parameter_carries_gradient<V: Tangent + ?Sized>(_parameter: &V) {}

/// Adds a gradient contribution into an accumulated gradient.
#[diagnostic::on_unimplemented(
    message = "a gradient of type `{Rhs}` cannot be added to a gradient of type `{Self}`",
    label = "the gradient flowing back here has the wrong type",
    note = "a `()` gradient means the callee takes this argument as `#[no_grad]`: no gradient flows back through it"
)]
pub trait Accumulate<Rhs = Self> {
    fn accumulate(&mut self, contribution: Rhs);
}

/// A gradient value that can produce a zero of its own shape.
pub trait TangentValue: Sized {
    fn zeroed(&self) -> Self;

    /// Multiplies every element that is not zero by `by`: a gradient obtained with the seed `1`
    /// becomes the gradient for the seed `by` (see [`scaled_tangent`]). A zero stays zero even
    /// where `by` is infinite: nothing flowed there, as nothing flows through a loop that ran no
    /// iteration.
    fn scale(&mut self, by: f64);

    /// Fits a buffer's gradient to the buffer's length. A buffer's gradient may come out longer
    /// than the buffer, with zeros past its end, when the function assigns a longer buffer to a
    /// copy of it (`let mut v = w.to_vec(); v = longer;`), or shorter, where nothing reached its
    /// last elements; a cotangent handed to a function for its result may be either. Elements
    /// past the end are cut off, missing float elements are zeros. Other gradients are left as
    /// they are.
    #[inline(always)]
    fn fit_length(&mut self, _length: Option<usize>) {}

    /// Pushes the lengths of this value's buffers and the dimensions of its matrices onto
    /// `dims`, depth first: two values of one type with equal lists have one shape. Floats,
    /// and structs of them, have none to push.
    #[inline(always)]
    fn push_shape(&self, _dims: &mut Vec<usize>) {}
}

/// `unit` times `by`: a loop whose iterations only add to one sum is differentiated with the
/// seed `1` for the sum while it runs, and its gradients are scaled by the sum's adjoint once
/// that is known. `by` is most often exactly `1` (the sum is the loss), and `unit` is then
/// returned as it is.
#[inline]
pub fn scaled_tangent<T: TangentValue, S: Real>(mut unit: T, by: &S) -> T {
    if *by != S::ONE {
        unit.scale(by.to_f64());
    }
    unit
}

/// Adds `unit` times `by` into `gradient` (see [`scaled_tangent`]).
#[inline]
pub fn accumulate_scaled<T: TangentValue + Accumulate, S: Real>(gradient: &mut T, unit: T, by: &S) {
    gradient.accumulate(scaled_tangent(unit, by));
}

/// Takes a gradient out of `d`, leaving a zero of the same shape: the reverse sweep does this
/// where a variable is overwritten, because the old value's adjoint starts afresh.
#[inline(always)]
pub fn take_tangent<T: TangentValue>(d: &mut T) -> T {
    let zero = d.zeroed();
    core::mem::replace(d, zero)
}

/// A gradient that a called function returns for one of its arguments. Functions return `()` for
/// parameters that carry no gradient (`#[no_grad]`, `_`-prefixed, non-float), and passing a value
/// that carries gradient there would drop its gradient: that is a compile error at the call.
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, or let the called function take it with gradient"
)]
pub trait CallGradient {}

impl<G: TangentValue> CallGradient for G {}

/// The gradient a call returns for one argument, checked to be one (see [`CallGradient`]).
#[inline(always)]
pub fn gradient_from_call<G: CallGradient>(gradient: G) -> G {
    gradient
}

/// A call's gradient for an argument, added into the argument's gradient `D`: one requirement,
/// so that the `()` of a parameter that takes none is one error, the one of [`CallGradient`],
/// not a second one about adding `()` into a float.
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, or let the called function take it with gradient"
)]
pub trait CallGradientInto<D> {
    fn add_into(self, gradient: &mut D);
}

#[diagnostic::do_not_recommend]
impl<D: Accumulate<G>, G: TangentValue> CallGradientInto<D> for G {
    #[inline(always)]
    fn add_into(self, gradient: &mut D) {
        gradient.accumulate(self);
    }
}

/// See [`CallGradientInto`].
#[inline(always)]
pub fn accumulate_call_gradient<D, G: CallGradientInto<D>>(gradient: &mut D, from_call: G) {
    from_call.add_into(gradient);
}

/// Where the gradient a called function returns for an argument that is a field of a model
/// (`f(self.w)`) goes: the field's gradient, through what `#[derive(Parameters)]` generates for
/// the field (`__nabla_call_w`): a [`TrainedCall`] for a trained field, a [`DataCall`] for a
/// `#[no_grad]` one. A trained field takes a gradient of its own type, and the `()` of a
/// parameter that takes none is an error at the call, as for [`CallGradient`]; a `#[no_grad]`
/// field takes anything and keeps nothing, so data passed on to a parameter that takes none is
/// fine.
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, let the called function take it with gradient, or mark the field `#[no_grad]` if it is data"
)]
pub trait CallSink<G> {
    fn take(self, gradient: G);
}

/// The gradient of a trained field, lent to receive a call's gradient for it.
pub struct TrainedCall<'a, F>(pub &'a mut F);

/// A `#[no_grad]` field passed to a call: the call's gradient for it is dropped.
pub struct DataCall;

// Generic in the gradient, so that a `()` is reported in the words of `FieldGradientOf`
// rather than as a mismatch with the field's type.
#[diagnostic::do_not_recommend]
impl<F: Accumulate, G: FieldGradientOf<F>> CallSink<G> for TrainedCall<'_, F> {
    #[inline(always)]
    fn take(self, gradient: G) {
        self.0.accumulate(gradient.into_field());
    }
}

/// A gradient for a trained field of type `F`: one of `F`'s own type.
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, let the called function take it with gradient, or mark the field `#[no_grad]` if it is data"
)]
pub trait FieldGradientOf<F> {
    fn into_field(self) -> F;
}

impl<F: TangentValue> FieldGradientOf<F> for F {
    #[inline(always)]
    fn into_field(self) -> F {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<G> CallSink<G> for DataCall {
    #[inline(always)]
    fn take(self, _gradient: G) {}
}

/// Sends a call's gradient for a field argument where it goes (see [`CallSink`]).
#[inline(always)]
pub fn add_call_gradient<S: CallSink<G>, G>(sink: S, gradient: G) {
    sink.take(gradient);
}

/// Adds a contribution into the field of a gradient value it belongs to: the slot is the field's
/// gradient, or a `DataSlot` for data (see [`crate::data_slot`]), which takes any contribution.
#[inline(always)]
pub fn add_to_slot<S: SlotTarget<T>, T: Accumulate>(slot: &mut S, contribution: T) {
    slot.target().accumulate(contribution);
}

/// Adds a contribution into an element adjoint taken out of its buffer's adjoint for a loop
/// (see `IndexRule::index_take_held`); `None`, an element the buffer lacks, is never read, and
/// receives nothing.
#[inline(always)]
pub fn accumulate_taken<T: Accumulate>(taken: &mut Option<T>, contribution: T) {
    if let Some(element) = taken {
        element.accumulate(contribution);
    }
}

/// What a struct literal's cotangent holds for a `#[no_grad]` field: no gradient.
#[doc(hidden)]
pub struct NoGradientField;

/// A field's part of a struct literal's gradient, for the value the literal stored there.
#[diagnostic::on_unimplemented(
    message = "a value that carries gradient is stored in a `#[no_grad]` field",
    label = "this struct's field takes it as `#[no_grad]`: its gradient would be dropped here",
    note = "wrap the value in `stop_gradient(..)` if no gradient is meant to flow through it, or train the field (remove `#[no_grad]`)"
)]
pub trait FieldGradient {}

impl<G: TangentValue> FieldGradient for G {}

/// Checks a field's part of a struct literal's gradient (see [`FieldGradient`]).
#[inline(always)]
pub fn field_gradient<G: FieldGradient>(gradient: G) -> G {
    gradient
}

/// Builds the zero gradient of a tangent type from nothing, for shapes known at compile time.
pub trait ZeroTangent {
    fn zero() -> Self;
}

macro_rules! impl_float {
    ($($t:ty)*) => {$(
        impl Tangent for $t {
            type Tangent = $t;
            #[inline(always)]
            fn zero_tangent(&self) -> $t {
                0.0
            }
        }
        impl Accumulate for $t {
            #[inline(always)]
            fn accumulate(&mut self, contribution: $t) {
                *self += contribution;
            }
        }
        impl TangentValue for $t {
            #[inline(always)]
            fn zeroed(&self) -> $t {
                0.0
            }
            #[inline(always)]
            fn scale(&mut self, by: f64) {
                // A select rather than a branch, so that a loop over elements vectorizes; the
                // product in `f64`, where `by` may lie outside an `f32`'s range.
                *self = if *self == 0.0 { 0.0 } else { (*self as f64 * by) as $t };
            }
        }
        impl ZeroTangent for $t {
            #[inline(always)]
            fn zero() -> $t {
                0.0
            }
        }
    )*};
}
impl_float!(f32 f64);

impl<V: Tangent + ?Sized> Tangent for &V {
    type Tangent = V::Tangent;
    #[inline(always)]
    fn zero_tangent(&self) -> V::Tangent {
        (**self).zero_tangent()
    }
    #[inline(always)]
    fn buffer_length(&self) -> Option<usize> {
        (**self).buffer_length()
    }
}

impl<V: Tangent + ?Sized> Tangent for &mut V {
    type Tangent = V::Tangent;
    #[inline(always)]
    fn zero_tangent(&self) -> V::Tangent {
        (**self).zero_tangent()
    }
    #[inline(always)]
    fn buffer_length(&self) -> Option<usize> {
        (**self).buffer_length()
    }
}

/// Arrays of floats, and of arrays of floats (`[[w, 1.0], [1.0, w]]`): element by element.
impl<T: TangentElement, const N: usize> Tangent for [T; N] {
    type Tangent = [T; N];
    #[inline(always)]
    fn zero_tangent(&self) -> [T; N] {
        self.each_ref().map(TangentValue::zeroed)
    }
}

impl<T: TangentElement, const N: usize> Accumulate for [T; N] {
    #[inline(always)]
    fn accumulate(&mut self, contribution: [T; N]) {
        for (a, b) in self.iter_mut().zip(contribution) {
            a.accumulate(b);
        }
    }
}

impl<T: TangentElement, const N: usize> TangentValue for [T; N] {
    #[inline(always)]
    fn zeroed(&self) -> [T; N] {
        self.each_ref().map(TangentValue::zeroed)
    }
    #[inline]
    fn scale(&mut self, by: f64) {
        self.iter_mut().for_each(|e| e.scale(by));
    }
    #[inline]
    fn push_shape(&self, dims: &mut Vec<usize>) {
        self.iter().for_each(|e| e.push_shape(dims));
    }
}

impl<T: TangentElement, const N: usize> TangentElement for [T; N] {}

impl<T: TangentElement> TangentValue for Vec<T> {
    #[inline]
    fn zeroed(&self) -> Vec<T> {
        T::zeros_like(self)
    }
    #[inline]
    fn scale(&mut self, by: f64) {
        self.iter_mut().for_each(|e| e.scale(by));
    }
    #[inline]
    fn fit_length(&mut self, length: Option<usize>) {
        match length {
            Some(length) if self.len() > length => self.truncate(length),
            Some(length) if self.len() < length => T::pad_with_zeros(self, length),
            _ => {}
        }
    }
    #[inline]
    fn push_shape(&self, dims: &mut Vec<usize>) {
        dims.push(self.len());
        self.iter().for_each(|e| e.push_shape(dims));
    }
}

impl<T, R, C> TangentValue for OMatrix<T, R, C>
where
    T: Real + Scalar,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn zeroed(&self) -> OMatrix<T, R, C> {
        self.zero_tangent()
    }
    #[inline]
    fn scale(&mut self, by: f64) {
        // Owned storage is one contiguous slice, walked faster than the matrix's iterator.
        for e in self.as_mut_slice() {
            *e = if *e == T::ZERO {
                T::ZERO
            } else {
                T::from_f64(e.to_f64() * by)
            };
        }
    }
    #[inline]
    fn push_shape(&self, dims: &mut Vec<usize>) {
        dims.extend([self.nrows(), self.ncols()]);
    }
}

impl<T: Real, const N: usize> ZeroTangent for [T; N] {
    #[inline(always)]
    fn zero() -> [T; N] {
        [T::ZERO; N]
    }
}

impl<T: TangentElement> Tangent for [T] {
    type Tangent = Vec<T>;
    #[inline]
    fn zero_tangent(&self) -> Vec<T> {
        T::zeros_like(self)
    }
    #[inline]
    fn buffer_length(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<T: TangentElement> Tangent for Vec<T> {
    type Tangent = Vec<T>;
    #[inline]
    fn zero_tangent(&self) -> Vec<T> {
        T::zeros_like(self)
    }
    #[inline]
    fn buffer_length(&self) -> Option<usize> {
        Some(self.len())
    }
}

/// A buffer's gradient takes contributions of any length: see
/// [`TangentElement::add_elements`].
impl<T: TangentElement> Accumulate for Vec<T> {
    #[inline]
    fn accumulate(&mut self, contribution: Vec<T>) {
        T::add_elements(self, contribution);
    }
}

impl<T: Real> Accumulate<&[T]> for Vec<T> {
    #[inline]
    fn accumulate(&mut self, contribution: &[T]) {
        add_float_slices(self, contribution);
    }
}

impl<T, R, C, S> Tangent for Matrix<T, R, C, S>
where
    T: Real + Scalar,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
    DefaultAllocator: Allocator<R, C>,
{
    type Tangent = OMatrix<T, R, C>;
    #[inline]
    fn zero_tangent(&self) -> OMatrix<T, R, C> {
        let (r, c) = self.shape_generic();
        OMatrix::from_element_generic(r, c, T::ZERO)
    }
}

impl<T, R, C> Accumulate for OMatrix<T, R, C>
where
    T: Real + Scalar,
    R: Dim,
    C: Dim,
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn accumulate(&mut self, contribution: OMatrix<T, R, C>) {
        for (a, &b) in self.iter_mut().zip(contribution.iter()) {
            *a += b;
        }
    }
}

/// A tuple's gradient is the tuple of its members' gradients: fields of tuples read in
/// differentiable code (`pair.0`) send their cotangents there, and a returned tuple's cotangent
/// is split among its items. (`()` is no `TangentValue`, so no tuple holding it is one: it must
/// not count as a gradient, see [`CallGradient`].)
macro_rules! impl_tuple {
    ($($name:ident $idx:tt),+) => {
        // Kept out of the suggestions rustc lists when a type carries no gradient: those
        // name the types a parameter can have.
        #[diagnostic::do_not_recommend]
        impl<$($name: Tangent),+> Tangent for ($($name,)+) {
            type Tangent = ($($name::Tangent,)+);
            #[inline]
            fn zero_tangent(&self) -> Self::Tangent {
                ($(self.$idx.zero_tangent(),)+)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($name: Accumulate),+> Accumulate for ($($name,)+) {
            #[inline]
            fn accumulate(&mut self, contribution: Self) {
                $(self.$idx.accumulate(contribution.$idx);)+
            }
        }

        // The gradient of a returned tuple, overwritten where an `if` picks the tuple. Every
        // item must be a gradient value itself, so a tuple holding `()` is none.
        #[diagnostic::do_not_recommend]
        impl<$($name: TangentValue),+> TangentValue for ($($name,)+) {
            #[inline]
            fn zeroed(&self) -> Self {
                ($(self.$idx.zeroed(),)+)
            }
            #[inline]
            fn scale(&mut self, by: f64) {
                $(self.$idx.scale(by);)+
            }
            #[inline]
            fn push_shape(&self, dims: &mut Vec<usize>) {
                $(self.$idx.push_shape(dims);)+
            }
        }
    };
}

impl_tuple!(A 0, B 1);
impl_tuple!(A 0, B 1, C 2);
impl_tuple!(A 0, B 1, C 2, D 3);

/// How differentiable code adds a field read's cotangent into a gradient value, for tuples:
/// `pair.0` adds into `d_pair.__nabla_add_0(..)`. Structs deriving `Parameters` have inherent
/// methods of the same names (which also know their `#[no_grad]` fields); these are the tuples'.
macro_rules! tuple_field {
    ($trait:ident $method:ident $slot:ident $call:ident $idx:tt: $($tuple:ident)+ => $field:ident) => {
        impl<$($tuple: Accumulate),+> $trait for ($($tuple,)+) {
            type Field = $field;
            #[inline(always)]
            fn $method(&mut self, contribution: $field) {
                self.$idx.accumulate(contribution);
            }
            #[inline(always)]
            fn $slot(&mut self) -> Option<&mut $field> {
                Some(&mut self.$idx)
            }
            #[inline(always)]
            fn $call(&mut self) -> TrainedCall<'_, $field> {
                TrainedCall(&mut self.$idx)
            }
        }
    };
}

macro_rules! tuple_field_trait {
    ($trait:ident $method:ident $slot:ident $call:ident) => {
        #[doc(hidden)]
        pub trait $trait {
            type Field;
            fn $method(&mut self, contribution: Self::Field);
            fn $slot(&mut self) -> Option<&mut Self::Field>;
            /// Where a call's gradient for this element, passed as an argument, goes.
            fn $call(&mut self) -> TrainedCall<'_, Self::Field>;
        }
    };
}

tuple_field_trait!(TupleField0 __nabla_add_0 __nabla_slot_0 __nabla_call_0);
tuple_field_trait!(TupleField1 __nabla_add_1 __nabla_slot_1 __nabla_call_1);
tuple_field_trait!(TupleField2 __nabla_add_2 __nabla_slot_2 __nabla_call_2);
tuple_field_trait!(TupleField3 __nabla_add_3 __nabla_slot_3 __nabla_call_3);
tuple_field!(TupleField0 __nabla_add_0 __nabla_slot_0 __nabla_call_0 0: A B => A);
tuple_field!(TupleField1 __nabla_add_1 __nabla_slot_1 __nabla_call_1 1: A B => B);
tuple_field!(TupleField0 __nabla_add_0 __nabla_slot_0 __nabla_call_0 0: A B C => A);
tuple_field!(TupleField1 __nabla_add_1 __nabla_slot_1 __nabla_call_1 1: A B C => B);
tuple_field!(TupleField2 __nabla_add_2 __nabla_slot_2 __nabla_call_2 2: A B C => C);
tuple_field!(TupleField0 __nabla_add_0 __nabla_slot_0 __nabla_call_0 0: A B C D => A);
tuple_field!(TupleField1 __nabla_add_1 __nabla_slot_1 __nabla_call_1 1: A B C D => B);
tuple_field!(TupleField2 __nabla_add_2 __nabla_slot_2 __nabla_call_2 2: A B C D => C);
tuple_field!(TupleField3 __nabla_add_3 __nabla_slot_3 __nabla_call_3 3: A B C D => D);

/// The gradient of a value that carries none (an integer field of a model, cast to a float):
/// adding it changes nothing.
impl Accumulate for () {
    #[inline(always)]
    fn accumulate(&mut self, _contribution: ()) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DVector, SMatrix};

    #[test]
    fn zero_tangents_have_the_value_shape() {
        assert_eq!(3.5f64.zero_tangent(), 0.0);
        assert_eq!([1.0f32, 2.0].zero_tangent(), [0.0, 0.0]);
        let xs: &[f64] = &[1.0, 2.0, 3.0];
        assert_eq!(xs.zero_tangent(), vec![0.0; 3]);
        let m = SMatrix::<f64, 2, 3>::repeat(4.0);
        assert_eq!(m.zero_tangent(), SMatrix::<f64, 2, 3>::zeros());
        let v = DVector::<f64>::from_element(5, 1.0);
        let reference = &v;
        assert_eq!(Tangent::zero_tangent(&reference).len(), 5);
    }

    #[test]
    fn buffer_gradients_are_cut_to_the_buffer_length() {
        let xs: &[f64] = &[1.0, 2.0];
        let owned = vec![1.0f32; 3];
        assert_eq!(Tangent::buffer_length(&xs), Some(2));
        assert_eq!(Tangent::buffer_length(&&owned), Some(3));
        assert_eq!(Tangent::buffer_length(&2.0f64), None);
        assert_eq!(Tangent::buffer_length(&DVector::<f64>::zeros(4)), None);
        let mut d = vec![1.0, 2.0, 0.0, 0.0];
        d.fit_length(Tangent::buffer_length(&xs));
        assert_eq!(d, vec![1.0, 2.0]);
        let mut short = vec![1.0f32];
        short.fit_length(Tangent::buffer_length(&&owned));
        assert_eq!(short, vec![1.0, 0.0, 0.0]);
        let mut s = 3.0f64;
        s.fit_length(Some(1));
        assert_eq!(s, 3.0);
    }

    #[test]
    fn take_leaves_a_zero_of_the_same_shape() {
        let mut d = vec![1.0, 2.0];
        assert_eq!(take_tangent(&mut d), vec![1.0, 2.0]);
        assert_eq!(d, vec![0.0, 0.0]);
        let mut s = 3.0f32;
        assert_eq!(take_tangent(&mut s), 3.0);
        assert_eq!(s, 0.0);
    }

    #[test]
    fn accumulate_adds_elementwise() {
        let mut a = vec![1.0, 2.0];
        a.accumulate(vec![0.5, -2.0]);
        assert_eq!(a, vec![1.5, 0.0]);
        let mut m = SMatrix::<f32, 2, 2>::identity();
        m.accumulate(SMatrix::<f32, 2, 2>::repeat(1.0));
        assert_eq!(m, SMatrix::<f32, 2, 2>::new(2.0, 1.0, 1.0, 2.0));
        let mut arr = [1.0f64; 3];
        arr.accumulate([1.0, 2.0, 3.0]);
        assert_eq!(arr, [2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_buffer_gradient_takes_contributions_of_any_length() {
        let mut a = vec![1.0, 2.0];
        a.accumulate(vec![0.5, 0.5, 3.0]);
        assert_eq!(a, vec![1.5, 2.5, 3.0]);
        a.accumulate(&[1.0][..]);
        assert_eq!(a, vec![2.5, 2.5, 3.0]);
    }
}
