//! Rule for a part of a slice taken as a value of its own: `y = base[range].to_vec()`
//! (`f(&w[1..])`, `let (head, tail) = w.split_at(k)`, `for win in w.windows(2)`).
//!
//! The part is a copy, so its cotangent is a `Vec` as long as the part: element `k` of it goes
//! to element `start + k` of the base's gradient. Like [`IndexRule`](super::IndexRule), the trait
//! is implemented on the *tangent* of the base and adds into it in place, so reading many small
//! parts of a long slice costs what reading their elements does.

use core::ops::{Bound, RangeBounds};

use crate::elements::TangentElement;

/// How many windows `xs.windows(k)` yields over `len` elements; panics at `k = 0` as it does.
pub fn window_count(len: usize, k: usize) -> usize {
    assert!(k != 0, "window size must be non-zero");
    (len + 1).saturating_sub(k)
}

/// How many chunks `xs.chunks(k)` yields (the last may be short); panics at `k = 0` as it does.
pub fn chunk_count(len: usize, k: usize) -> usize {
    assert!(k != 0, "chunk size must be non-zero");
    len.div_ceil(k)
}

/// How many chunks `xs.chunks_exact(k)` yields; panics at `k = 0` as it does.
pub fn exact_chunk_count(len: usize, k: usize) -> usize {
    assert!(k != 0, "chunk size must be non-zero");
    len / k
}

/// Scatter-adds the cotangent of a part into the gradient of the whole.
pub trait PartRule<R> {
    type Part;
    fn part_accumulate(&mut self, range: R, d: Self::Part);
}

/// The first index a range selects; the forward sweep already checked it against the length.
fn start_of(range: &impl RangeBounds<usize>) -> usize {
    match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s + 1,
        Bound::Unbounded => 0,
    }
}

/// A buffer's gradient may be shorter than the buffer (see `IndexRule for Vec`): it grows to
/// reach the part.
impl<T: TangentElement, R: RangeBounds<usize>> PartRule<R> for Vec<T> {
    type Part = Vec<T>;
    #[inline]
    fn part_accumulate(&mut self, range: R, d: Vec<T>) {
        let start = start_of(&range);
        for (k, dk) in d.into_iter().enumerate() {
            T::add_element(self, start + k, dk);
        }
    }
}

impl<T: TangentElement, R: RangeBounds<usize>, const N: usize> PartRule<R> for [T; N] {
    type Part = Vec<T>;
    #[inline]
    fn part_accumulate(&mut self, range: R, d: Vec<T>) {
        let start = start_of(&range);
        for (element, dk) in self[start..].iter_mut().zip(d) {
            element.accumulate(dk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PartRule;
    use crate::rules::test_support::{assert_close, central_difference};

    /// `f(w) = Σₖ cₖ · w[range][k]²` through a copied part, against finite differences.
    fn check(
        range: impl core::ops::RangeBounds<usize>
            + Clone
            + core::slice::SliceIndex<[f64], Output = [f64]>,
    ) {
        let w = [0.5, -1.25, 2.0, 0.75, -0.5];
        let c = [1.0, -2.0, 0.5, 3.0, 1.5];
        let f = |w: &[f64]| -> f64 {
            let part = w[range.clone()].to_vec();
            part.iter().zip(&c).map(|(x, c)| c * x * x).sum()
        };
        let part = w[range.clone()].to_vec();
        let d: Vec<f64> = part.iter().zip(&c).map(|(x, c)| 2.0 * c * x).collect();
        let mut g = vec![0.0; w.len()];
        g.part_accumulate(range.clone(), d.clone());
        let mut a = [0.0; 5];
        a.part_accumulate(range.clone(), d);
        for i in 0..w.len() {
            let fd = central_difference(
                |x| {
                    let mut v = w;
                    v[i] = x;
                    f(&v)
                },
                w[i],
            );
            assert_close(g[i], fd, "part of a Vec");
            assert_close(a[i], fd, "part of an array");
        }
    }

    #[test]
    fn parts_match_finite_differences() {
        check(1..3);
        check(..4);
        check(2..);
        check(1..=3);
        check(..);
    }

    #[test]
    fn counts_match_the_std_iterators() {
        let xs = [1.0f64; 7];
        for k in 1..9 {
            assert_eq!(super::window_count(xs.len(), k), xs.windows(k).count());
            assert_eq!(super::chunk_count(xs.len(), k), xs.chunks(k).count());
            assert_eq!(
                super::exact_chunk_count(xs.len(), k),
                xs.chunks_exact(k).count()
            );
        }
    }

    #[test]
    fn a_short_buffer_gradient_grows_to_the_part() {
        let mut g = vec![1.0f64];
        g.part_accumulate(2..4, vec![0.5, 0.25]);
        assert_eq!(g, vec![1.0, 0.0, 0.5, 0.25]);
    }
}
