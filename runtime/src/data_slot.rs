//! The slot of a `#[no_grad]` field that is not a float or a float container.
//!
//! A read of a model's field (`self.w`) adds its cotangent straight into that field of the
//! gradient, through the slot the derived `__nabla_slot_w()` lends. A `#[no_grad]` field lends
//! none, but the generated code still has to type-check for it, and it goes on into the field's
//! own fields and elements (`self.cfg.scale`, `self.rows[i][j]`), whose types the macro cannot
//! see. Such a field's slot is a [`DataSlot`]: a type with no values, so nothing is ever added
//! through it, that stands in for whatever the reads below it would add into. The generated code
//! reaches a slot's target through [`slot_target`] and its elements and parts through
//! [`slot_accumulate`] and the other functions here, which take a `DataSlot` as well as a real gradient.

use crate::rules::part::PartRule;
use crate::rules::IndexRule;
use crate::tangent::{Accumulate, CallGradient, Tangent, TangentValue};

/// The slot of a `#[no_grad]` field the macro cannot see into: it has no values, and every
/// operation on it is unreachable. The generated code declares, for each field name it reads
/// below a slot, the methods a `DataSlot` answers for that name (the slot of the field, where
/// the field's cotangent is added, and where a call's gradient for it goes).
#[derive(Debug)]
pub enum DataSlot {}

/// What a slot lends to add a contribution of type `T` into: the gradient itself, or nothing for
/// a [`DataSlot`].
pub trait SlotTarget<T> {
    fn target(&mut self) -> &mut T;
}

impl<T: Accumulate> SlotTarget<T> for T {
    #[inline(always)]
    fn target(&mut self) -> &mut T {
        self
    }
}

impl<T> SlotTarget<T> for DataSlot {
    #[inline(always)]
    fn target(&mut self) -> &mut T {
        match *self {}
    }
}

/// The gradient a slot lends, of the type the rule adding into it expects.
#[inline(always)]
pub fn slot_target<S: SlotTarget<T>, T>(slot: &mut S) -> &mut T {
    slot.target()
}

/// The element of a slot read where it stands (`for l in &net.layers`, `self.cfgs[0]`): the
/// element of the field's gradient, or a [`DataSlot`] below data. A parameter's gradient has
/// every element of its fields, so `None` stands for data only (and for an index the read itself
/// would have refused).
pub trait ElementSlot<I> {
    type Element;
    fn element_slot(&mut self, index: I) -> Option<&mut Self::Element>;
}

impl<T> ElementSlot<usize> for Vec<T> {
    type Element = T;
    #[inline(always)]
    fn element_slot(&mut self, index: usize) -> Option<&mut T> {
        self.get_mut(index)
    }
}

impl<T, const N: usize> ElementSlot<usize> for [T; N] {
    type Element = T;
    #[inline(always)]
    fn element_slot(&mut self, index: usize) -> Option<&mut T> {
        self.get_mut(index)
    }
}

// A matrix's element, by its linear index (`m[k]`, column by column) or by `(row, column)`.
macro_rules! matrix_element_slot {
    ($($index:ty),*) => {$(
        impl<T, R, C, S> ElementSlot<$index> for nalgebra::Matrix<T, R, C, S>
        where
            T: nalgebra::Scalar,
            R: nalgebra::Dim,
            C: nalgebra::Dim,
            S: nalgebra::RawStorageMut<T, R, C>,
        {
            type Element = T;
            #[inline(always)]
            fn element_slot(&mut self, index: $index) -> Option<&mut T> {
                self.get_mut(index)
            }
        }
    )*};
}

matrix_element_slot!(usize, (usize, usize));

impl<I> ElementSlot<I> for DataSlot {
    type Element = DataSlot;
    #[inline(always)]
    fn element_slot(&mut self, _index: I) -> Option<&mut DataSlot> {
        match *self {}
    }
}

/// See [`ElementSlot`].
#[inline(always)]
pub fn element_slot<S: ElementSlot<I> + ?Sized, I>(
    slot: &mut S,
    index: I,
) -> Option<&mut S::Element> {
    slot.element_slot(index)
}

/// The rules of an element (`w[i]`) and of a part (`w[1..]`) on a slot: those of [`IndexRule`]
/// and [`PartRule`] for a gradient, nothing for a [`DataSlot`], whichever element or part it is
/// given. `at` is the index or the range.
pub trait SlotRule<At, D> {
    /// The rule's accumulation into the gradient, which grows to reach `at`.
    fn accumulate_at(&mut self, at: At, d: D);
    /// As [`accumulate_at`](Self::accumulate_at), where the gradient holds `at` (see
    /// [`IndexRule::index_accumulate_held`]).
    fn accumulate_held_at(&mut self, at: At, d: D);
}

impl<At, D> SlotRule<At, D> for DataSlot {
    #[inline(always)]
    fn accumulate_at(&mut self, _at: At, _d: D) {
        match *self {}
    }
    #[inline(always)]
    fn accumulate_held_at(&mut self, _at: At, _d: D) {
        match *self {}
    }
}

// One impl per index type the element rules take and per range type, each a type no other
// crate can implement `IndexRule` or `PartRule` for on `DataSlot`: so these and the `DataSlot`
// impl above do not overlap.
macro_rules! slot_rule {
    ($rule:ident, $out:ident, $accumulate:ident, $held:ident: $($at:ty),*) => {$(
        impl<B: $rule<$at, $out = D>, D> SlotRule<$at, D> for B {
            #[inline(always)]
            fn accumulate_at(&mut self, at: $at, d: D) {
                $rule::$accumulate(self, at, d);
            }
            #[inline(always)]
            fn accumulate_held_at(&mut self, at: $at, d: D) {
                $rule::$held(self, at, d);
            }
        }
    )*};
}

/// Applies the macro `$m` to the given arguments followed by every range type the part rules
/// take (`w[a..b]`, `w[a..]`, ..), the ranges a generated part read can be written with.
macro_rules! with_range_types {
    ($m:ident!($($head:tt)*)) => {
        $m!($($head)*
            core::ops::Range<usize>,
            core::ops::RangeFrom<usize>,
            core::ops::RangeTo<usize>,
            core::ops::RangeInclusive<usize>,
            core::ops::RangeToInclusive<usize>,
            core::ops::RangeFull);
    };
}

slot_rule!(IndexRule, Elem, index_accumulate, index_accumulate_held: usize, (usize, usize));
with_range_types!(slot_rule!(PartRule, Part, part_accumulate, part_accumulate:));

/// [`SlotRule::accumulate_at`] on a slot.
#[inline(always)]
pub fn slot_accumulate<S: SlotRule<At, D>, At, D>(slot: &mut S, at: At, d: D) {
    slot.accumulate_at(at, d);
}

/// [`SlotRule::accumulate_held_at`] on a slot.
#[inline(always)]
pub fn slot_accumulate_held<S: SlotRule<At, D>, At, D>(slot: &mut S, at: At, d: D) {
    slot.accumulate_held_at(at, d);
}

/// Checks the gradient a call returns for an element or a part of a field (`f(y, self.xs[1])`):
/// data takes anything, a trained field's element takes a gradient, and the `()` of a parameter
/// that takes none is an error at the call, in the words of [`CallGradient`].
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, let the called function take it with gradient, or mark the field `#[no_grad]` if it is data"
)]
pub trait ElementCallOf<G> {}

// Neither impl is recommended in an error: the error is the one above, not a missing
// `TangentValue`, nor a list of the types that do implement it.
#[diagnostic::do_not_recommend]
impl<G> ElementCallOf<G> for DataSlot {}

#[diagnostic::do_not_recommend]
impl<T: Accumulate, G: CallGradient> ElementCallOf<G> for T {}

/// See [`ElementCallOf`]: type-checked at the call, run never.
#[inline(always)]
pub fn check_element_call<S: ElementCallOf<G>, G>(_slot: &mut S, _gradient: &G) {}

/// The gradient a call returns for an element or a part of a field, as a gradient of the
/// argument `like`: the one returned, or a zero for the `()` of a parameter that takes none,
/// which [`check_element_call`] allows for data only.
pub trait ElementGradient<V: ?Sized> {
    type Gradient;
    fn into_gradient(self, like: &V) -> Self::Gradient;
}

impl<G: TangentValue, V: ?Sized> ElementGradient<V> for G {
    type Gradient = G;
    #[inline(always)]
    fn into_gradient(self, _like: &V) -> G {
        self
    }
}

impl<V: Tangent + ?Sized> ElementGradient<V> for () {
    type Gradient = V::Tangent;
    #[inline(always)]
    fn into_gradient(self, like: &V) -> V::Tangent {
        like.zero_tangent()
    }
}

/// See [`ElementGradient`].
#[inline(always)]
pub fn element_call_gradient<G: ElementGradient<V>, V: ?Sized>(
    gradient: G,
    like: &V,
) -> G::Gradient {
    gradient.into_gradient(like)
}

/// A gradient of type `P`: `P` itself. Its own requirement, separate from the element's type,
/// so that rustc does not infer the call's gradient from the field's element and report the
/// `()` of a parameter that takes none as a type mismatch.
pub trait GradientOf<P> {
    fn gradient(self) -> P;
}

impl<P: TangentValue> GradientOf<P> for P {
    #[inline(always)]
    fn gradient(self) -> P {
        self
    }
}

/// Adds the gradient a call returns for an element or a part of a field (`f(y, self.xs[1])`,
/// `f(y, &self.xs[1..])`) straight into the field, at the index or range it was read at: data
/// takes anything and keeps nothing, a trained field takes a gradient of its element or part, and
/// the `()` of a parameter that takes none is an error at the call.
#[diagnostic::on_unimplemented(
    message = "an argument that carries gradient is passed to a parameter that takes none",
    label = "this call's function takes that argument as `#[no_grad]` (or `_`-prefixed): its gradient would be dropped here",
    note = "wrap the argument in `stop_gradient(..)` if no gradient is meant to flow through it, let the called function take it with gradient, or mark the field `#[no_grad]` if it is data"
)]
pub trait CallInto<At, G> {
    fn call_into(&mut self, at: At, gradient: G);
}

#[diagnostic::do_not_recommend]
impl<At, G> CallInto<At, G> for DataSlot {
    #[inline(always)]
    fn call_into(&mut self, _at: At, _gradient: G) {
        match *self {}
    }
}

// One impl per index and range type, for the reason given at `slot_rule!`; an index picks the
// element rule, a range the part rule.
macro_rules! call_into {
    ($rule:ident, $accumulate:ident, $out:ident: $($at:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl<B: $rule<$at, $out = E>, E, G: GradientOf<E>> CallInto<$at, G> for B {
            #[inline(always)]
            fn call_into(&mut self, at: $at, gradient: G) {
                $rule::$accumulate(self, at, gradient.gradient());
            }
        }
    )*};
}

call_into!(IndexRule, index_accumulate, Elem: usize, (usize, usize));
with_range_types!(call_into!(PartRule, part_accumulate, Part:));

/// See [`CallInto`].
#[inline(always)]
pub fn call_into<S: CallInto<At, G>, At, G>(slot: &mut S, at: At, gradient: G) {
    slot.call_into(at, gradient);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gradient_slot_is_the_gradient_itself() {
        let mut g = vec![1.0, 2.0, 3.0];
        slot_accumulate_held(&mut g, 1, 0.5);
        slot_accumulate(&mut g, 2, -1.0);
        slot_accumulate(&mut g, 0..2, vec![10.0, 20.0]);
        let mut s = 4.0f64;
        *slot_target::<f64, f64>(&mut s) += 1.5;
        assert_eq!(g, vec![11.0, 22.5, 2.0]);
        assert_eq!(s, 5.5);
        // A call's gradient for an element or a part of a trained field goes in there.
        call_into(&mut g, 0, 1.0);
        call_into(&mut g, 1.., vec![0.5, 0.25]);
        assert_eq!(g, vec![12.0, 23.0, 2.25]);
        // An element read where it stands is lent as the element of the gradient.
        if let Some(e) = element_slot(&mut g, 1) {
            *e += 1.0;
        }
        assert_eq!(g[1], 24.0);
        assert!(element_slot(&mut g, 3).is_none());
    }

    // A `DataSlot` has no value, so these are checked for their types only: a slot of data
    // takes any element, part or target type the reads below it would add.
    #[allow(dead_code)]
    fn a_data_slot_takes_every_type(slot: &mut DataSlot) {
        slot_accumulate_held(slot, (1usize, 2usize), vec![1.0f64]);
        slot_accumulate(slot, 0..2, [1.0f32; 2]);
        let _: &mut nalgebra::DMatrix<f64> = slot_target(slot);
        call_into(slot, 3usize, ());
        call_into(slot, 1..2, ());
        let _: Option<&mut DataSlot> = element_slot(slot, 2usize);
    }
}
