//! Rule for reading one element: `y = base[index]`.
//!
//! The adjoint of `base` receives `d` at `index`; every other element gets nothing. The trait is
//! implemented on the *tangent* of `base`, which the generated code has zeroed beforehand.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use crate::elements::TangentElement;
use crate::Real;

/// Scatter-adds the cotangent of an element read into the gradient of the container.
pub trait IndexRule<I> {
    type Elem;
    fn index_accumulate(&mut self, index: I, d: Self::Elem);

    /// As [`index_accumulate`](Self::index_accumulate), where the gradient holds `index`. A
    /// local buffer's gradient has the buffer's length at every point of the reverse sweep
    /// unless a whole assignment changes the buffer's length without restoring it, and the
    /// generated code uses this form only in functions without such an assignment. Never
    /// growing the gradient lets the compiler keep a loop's gradient elements in registers,
    /// which a possible reallocation in the loop would forbid.
    #[inline(always)]
    fn index_accumulate_held(&mut self, index: I, d: Self::Elem) {
        self.index_accumulate(index, d);
    }

    /// Takes the adjoint of an element out, leaving a zero of its shape; `None` where the
    /// gradient has no such element. A reverse loop that reads one element of a buffer only
    /// (`x[i]` in a loop over `j`) accumulates that element's adjoint in a variable of its own,
    /// which stays in a register, and adds it back after the loop with
    /// [`index_accumulate_held`](Self::index_accumulate_held). The loop may not read the
    /// element at all (it runs no iteration, or reads it behind a guard), and the index may
    /// then lie past the end: a local buffer's gradient has the buffer's length, so no
    /// iteration reads an element the gradient lacks, and `None` receives nothing.
    fn index_take_held(&mut self, index: I) -> Option<Self::Elem>;
}

/// Takes the adjoint of one element out, leaving zero: the element is being overwritten
/// (`buf[i] = v`). Float containers only: an element of a `Vec` of model structs has no zero
/// the reverse sweep could leave in its place without knowing its shape.
#[diagnostic::on_unimplemented(
    message = "an element of `{Self}` cannot be overwritten in a #[differentiable] function",
    label = "elements of a `Vec` of model structs are read-only here",
    note = "build the new elements into a new `Vec` (`let mut next = Vec::new(); next.push(..)`) instead of writing into the old one"
)]
pub trait IndexTakeRule<I>: IndexRule<I> {
    fn index_take(&mut self, index: I) -> Self::Elem;
}

/// The adjoint of one element, left in place: the reverse of `buf[i] += v` (and `-=`), which
/// passes the element's adjoint on to `v` and keeps it for the element's old value, where
/// taking it out and adding it back would go through memory twice.
pub trait IndexAdjointRule<I>: IndexRule<I> {
    fn index_adjoint(&self, index: I) -> Self::Elem;
}

/// The gradient of a local buffer may be shorter than the buffer was at the element read: the
/// buffer changed length since (see `Accumulate for Vec`), and elements past the gradient's end
/// have gradient zero. Elements are floats or derived model structs (`net.layers[i]`).
impl<T: TangentElement> IndexRule<usize> for Vec<T> {
    type Elem = T;
    #[inline(always)]
    fn index_accumulate(&mut self, index: usize, d: T) {
        T::add_element(self, index, d);
    }
    #[inline(always)]
    fn index_accumulate_held(&mut self, index: usize, d: T) {
        T::add_held_element(self, index, d);
    }
    #[inline(always)]
    fn index_take_held(&mut self, index: usize) -> Option<T> {
        self.get_mut(index).map(|element| {
            let zero = element.zeroed();
            core::mem::replace(element, zero)
        })
    }
}

impl<T: Real> IndexTakeRule<usize> for Vec<T> {
    #[inline(always)]
    fn index_take(&mut self, index: usize) -> T {
        match self.get_mut(index) {
            Some(element) => core::mem::replace(element, T::ZERO),
            None => T::ZERO,
        }
    }
}

impl<T: Real> IndexAdjointRule<usize> for Vec<T> {
    #[inline(always)]
    fn index_adjoint(&self, index: usize) -> T {
        self.get(index).copied().unwrap_or(T::ZERO)
    }
}

/// Rows of floats (`rows[i] = [a, b]` in a `Vec<[f64; 2]>`) are overwritten as floats are.
impl<T: Real, const N: usize> IndexTakeRule<usize> for Vec<[T; N]> {
    #[inline(always)]
    fn index_take(&mut self, index: usize) -> [T; N] {
        match self.get_mut(index) {
            Some(element) => core::mem::replace(element, [T::ZERO; N]),
            None => [T::ZERO; N],
        }
    }
}

impl<T: Real, const N: usize> IndexAdjointRule<usize> for Vec<[T; N]> {
    #[inline(always)]
    fn index_adjoint(&self, index: usize) -> [T; N] {
        self.get(index).copied().unwrap_or([T::ZERO; N])
    }
}

/// Arrays and matrices read and overwrite their elements alike.
macro_rules! impl_fixed_container {
    ([$($generics:tt)*] $container:ty, $index:ty $(, where $($bounds:tt)*)?) => {
        impl<$($generics)*> IndexRule<$index> for $container $(where $($bounds)*)? {
            type Elem = T;
            #[inline(always)]
            fn index_accumulate(&mut self, index: $index, d: T) {
                self[index] += d;
            }
            #[inline(always)]
            fn index_take_held(&mut self, index: $index) -> Option<T> {
                self.get_mut(index).map(|element| core::mem::replace(element, T::ZERO))
            }
        }

        impl<$($generics)*> IndexTakeRule<$index> for $container $(where $($bounds)*)? {
            #[inline(always)]
            fn index_take(&mut self, index: $index) -> T {
                core::mem::replace(&mut self[index], T::ZERO)
            }
        }

        impl<$($generics)*> IndexAdjointRule<$index> for $container $(where $($bounds)*)? {
            #[inline(always)]
            fn index_adjoint(&self, index: $index) -> T {
                self[index]
            }
        }
    };
}

/// An element of an array of arrays (`table[i]`) receives a whole row.
impl<T: TangentElement, const N: usize> IndexRule<usize> for [T; N] {
    type Elem = T;
    #[inline(always)]
    fn index_accumulate(&mut self, index: usize, d: T) {
        self[index].accumulate(d);
    }
    #[inline(always)]
    fn index_take_held(&mut self, index: usize) -> Option<T> {
        self.get_mut(index).map(|element| {
            let zero = element.zeroed();
            core::mem::replace(element, zero)
        })
    }
}

/// Overwriting a row of an array of arrays (`k[1] = [a, b]`) takes the row's gradient.
impl<T: TangentElement, const N: usize> IndexTakeRule<usize> for [T; N] {
    #[inline(always)]
    fn index_take(&mut self, index: usize) -> T {
        let zero = self[index].zeroed();
        core::mem::replace(&mut self[index], zero)
    }
}

impl<T: TangentElement + Clone, const N: usize> IndexAdjointRule<usize> for [T; N] {
    #[inline(always)]
    fn index_adjoint(&self, index: usize) -> T {
        self[index].clone()
    }
}
impl_fixed_container!(
    [T: Real, R: Dim, C: Dim] OMatrix<T, R, C>, usize,
    where DefaultAllocator: Allocator<R, C>
);
impl_fixed_container!(
    [T: Real, R: Dim, C: Dim] OMatrix<T, R, C>, (usize, usize),
    where DefaultAllocator: Allocator<R, C>
);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Matrix2;

    #[test]
    fn a_buffer_gradient_grows_to_the_element_read() {
        let mut g = vec![1.0f64];
        g.index_accumulate(2, 0.5);
        assert_eq!(g, vec![1.0, 0.0, 0.5]);
        assert_eq!(g.index_take(7), 0.0);
        assert_eq!(g.index_take(2), 0.5);
        assert_eq!(g, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn a_row_of_floats_is_taken_out_whole() {
        let mut g = vec![[1.0f64, 2.0], [3.0, 4.0]];
        assert_eq!(g.index_adjoint(1), [3.0, 4.0]);
        assert_eq!(g.index_take(1), [3.0, 4.0]);
        assert_eq!(g, vec![[1.0, 2.0], [0.0, 0.0]]);
        assert_eq!(g.index_take(5), [0.0, 0.0]);
        assert_eq!(g.index_adjoint(5), [0.0, 0.0]);
    }

    #[test]
    fn an_element_adjoint_is_read_and_left_in_place() {
        let g = vec![1.0f64, 2.5];
        assert_eq!(g.index_adjoint(1), 2.5);
        assert_eq!(
            g.index_adjoint(4),
            0.0,
            "past a shorter gradient's end: zero"
        );
        assert_eq!(g, vec![1.0, 2.5]);
        let rows = [[1.0f32, 2.0], [3.0, 4.0]];
        assert_eq!(rows.index_adjoint(1), [3.0, 4.0]);
        let m = Matrix2::new(0.0f64, 3.0, 0.0, 1.0);
        assert_eq!(m.index_adjoint((0, 1)), 3.0);
        assert_eq!(m.index_adjoint(3), 1.0);
    }

    #[test]
    fn a_held_element_is_taken_out_and_added_back() {
        let mut g = vec![1.0f64, 2.0];
        let mut total = g.index_take_held(1);
        assert_eq!(g, vec![1.0, 0.0]);
        crate::tangent::accumulate_taken(&mut total, 0.5);
        g.index_accumulate_held(1, total.unwrap());
        assert_eq!(g, vec![1.0, 2.5]);
        let mut rows = [[1.0f32, 2.0], [3.0, 4.0]];
        assert_eq!(rows.index_take_held(0), Some([1.0, 2.0]));
        assert_eq!(rows, [[0.0, 0.0], [3.0, 4.0]]);
        let mut m = Matrix2::new(0.0f64, 3.0, 0.0, 1.0);
        assert_eq!(m.index_take_held((0, 1)), Some(3.0));
        assert_eq!(m, Matrix2::new(0.0, 0.0, 0.0, 1.0));
    }

    #[test]
    fn an_element_past_the_end_is_none_and_receives_nothing() {
        let mut g = vec![1.0f64];
        let mut taken = g.index_take_held(3);
        assert_eq!(taken, None);
        crate::tangent::accumulate_taken(&mut taken, 0.5);
        assert_eq!(taken, None);
        assert_eq!([0.0f64; 2].index_take_held(2), None);
        assert_eq!(Matrix2::<f64>::zeros().index_take_held((2, 0)), None);
    }

    #[test]
    fn a_held_element_is_added_in_place() {
        let mut g = vec![1.0f64, 0.0];
        g.index_accumulate_held(1, 0.5);
        assert_eq!(g, vec![1.0, 0.5]);
    }

    #[test]
    #[should_panic(expected = "fewer than the element 2 read")]
    fn a_held_element_past_the_end_is_a_generator_bug() {
        vec![1.0f64].index_accumulate_held(2, 0.5);
    }

    #[test]
    fn scatters_into_the_indexed_element() {
        let mut g = vec![0.0f64; 3];
        g.index_accumulate(1, 2.0);
        g.index_accumulate(1, 0.5);
        assert_eq!(g, vec![0.0, 2.5, 0.0]);
        let mut a = [0.0f32; 2];
        a.index_accumulate(0, 1.0);
        assert_eq!(a, [1.0, 0.0]);
        let mut m = Matrix2::<f64>::zeros();
        m.index_accumulate((0, 1), 3.0);
        m.index_accumulate(3, 1.0);
        assert_eq!(m, Matrix2::new(0.0, 3.0, 0.0, 1.0));
        assert_eq!(m.index_take((0, 1)), 3.0);
        assert_eq!(m[(0, 1)], 0.0);
    }
}

/// An element that a differentiated `push` appends to a local buffer: `f32`, `f64`, or a row of
/// them (`[f64; 2]`).
#[diagnostic::on_unimplemented(
    message = "nabla differentiates `push` onto buffers of `f32` or `f64` (or arrays of them), not of `{Self}`",
    label = "the pushed value carries gradient",
    note = "keep such values in a buffer of floats (`v[i * d + j]`) or in variables of their own"
)]
pub trait PushedElement: Copy {
    /// The gradient of an element no gradient reached.
    const ZERO_ELEMENT: Self;
}

impl PushedElement for f32 {
    const ZERO_ELEMENT: Self = 0.0;
}

impl PushedElement for f64 {
    const ZERO_ELEMENT: Self = 0.0;
}

impl<T: Real, const N: usize> PushedElement for [T; N] {
    const ZERO_ELEMENT: Self = [T::ZERO; N];
}

/// Reverse of `buf.push(v)`: the pushed element's adjoint is the last one of the buffer's
/// adjoint, which is taken off (the reverse sweep pops in the opposite order of the pushes).
#[inline(always)]
pub fn push_adjoint<T: PushedElement>(d: &mut Vec<T>) -> T {
    d.pop().unwrap_or(T::ZERO_ELEMENT)
}

/// Reverse of `buf.push(v)` where the buffer had `len` elements before the push, for an adjoint
/// that may be longer or shorter than the buffer: a whole assignment whose old value is not kept
/// (`buf = longer;`) leaves its adjoint in the new value's length. The adjoint is cut to the
/// buffer's length before the push; elements an adjoint lacks have gradient zero.
#[inline]
pub fn push_adjoint_at<T: PushedElement>(d: &mut Vec<T>, len: usize) -> T {
    let pushed = d.get(len).copied().unwrap_or(T::ZERO_ELEMENT);
    d.truncate(len);
    pushed
}

#[cfg(test)]
mod push_tests {
    use super::*;

    #[test]
    fn a_push_adjoint_is_the_last_element() {
        let mut d = vec![1.0f64, 2.0, 3.0];
        assert_eq!(push_adjoint(&mut d), 3.0);
        assert_eq!(d, vec![1.0, 2.0]);
        assert_eq!(push_adjoint(&mut Vec::<f64>::new()), 0.0);
    }

    #[test]
    fn a_push_adjoint_by_length_cuts_an_adjoint_of_another_length() {
        // Longer: the elements past the pushed one belong to a later, longer value.
        let mut d = vec![1.0f64, 2.0, 3.0, 0.0];
        assert_eq!(push_adjoint_at(&mut d, 1), 2.0);
        assert_eq!(d, vec![1.0]);
        // Shorter: nothing reached the pushed element.
        let mut d = vec![1.0f64];
        assert_eq!(push_adjoint_at(&mut d, 3), 0.0);
        assert_eq!(d, vec![1.0]);
    }
}

/// `y = Matrix::new(a0, a1, ..)`: the adjoint of argument `k` is the element of `d` that argument
/// became. nalgebra's `new` takes elements in row-major order.
pub trait NewRule {
    type Elem;
    fn new_adjoint(&self, k: usize) -> Self::Elem;
}

impl<T: Real, R: Dim, C: Dim> NewRule for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;
    #[inline(always)]
    fn new_adjoint(&self, k: usize) -> T {
        let columns = self.ncols();
        self[(k / columns, k % columns)]
    }
}

#[cfg(test)]
mod new_tests {
    use super::NewRule;
    use nalgebra::{Matrix2x3, Vector3};

    #[test]
    fn new_arguments_map_to_row_major_elements() {
        let d = Vector3::new(1.0, 2.0, 3.0);
        assert_eq!(d.new_adjoint(2), 3.0);
        // Matrix2x3::new(a0..a5) fills rows first: a4 lands at row 1, column 1.
        let m = Matrix2x3::new(0.0, 1.0, 2.0, 3.0, 4.0, 5.0);
        for k in 0..6 {
            assert_eq!(m.new_adjoint(k), k as f64);
        }
    }
}
