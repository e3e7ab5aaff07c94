//! Checkpoints: the state each iteration of a checkpointed loop starts from.
//!
//! A loop whose body has loops of its own runs its primal only in the forward sweep and saves,
//! per iteration, the variables the body overwrites. The reverse sweep restores them and runs
//! the iteration again. Scratch buffers (`vec![0.0; d]` reused by every iteration) are the
//! common case, so a `Vec` is saved by copying its elements into one flat store: once the store
//! has grown, a checkpoint of floats allocates nothing, and a restore copies back into the
//! buffer's own memory. Every other type is cloned onto a [`Tape`].
//!
//! The macro cannot see types, so the store is chosen by method resolution ("autoref
//! specialization", as for [`Operand`](crate::__private::Operand)): `(&CheckpointOf(&x)).save(&mut store)`
//! finds [`SaveElements::save`] when `x` is a `Vec<T>` with `T: Clone` (which holds for any
//! `Vec` a checkpoint can save, whatever its element type is later inferred to be), and falls
//! back to
//! [`SaveClone::save`] otherwise. The store's type follows from the method chosen, and the
//! reverse sweep calls `store.restore_into(&mut x)` on it.

use crate::tape::Tape;

/// A value about to be saved at a checkpoint, whose store is still to be chosen.
pub struct CheckpointOf<'a, T: ?Sized>(pub &'a T);

/// The elements of many buffers of `T`, one after the other, with each buffer's length.
#[derive(Debug, Clone)]
pub struct ElementCheckpoints<T> {
    elements: Vec<T>,
    lengths: Vec<usize>,
}

impl<T> Default for ElementCheckpoints<T> {
    fn default() -> Self {
        ElementCheckpoints {
            elements: Vec::new(),
            lengths: Vec::new(),
        }
    }
}

/// Chosen for `Vec<T>`: the elements are copied into an [`ElementCheckpoints`].
pub trait SaveElements {
    type Store;
    fn save(&self, store: &mut Self::Store);
}

impl<T: Clone> SaveElements for CheckpointOf<'_, Vec<T>> {
    type Store = ElementCheckpoints<T>;
    #[inline]
    fn save(&self, store: &mut ElementCheckpoints<T>) {
        store.lengths.push(self.0.len());
        store.elements.extend_from_slice(self.0);
    }
}

/// Chosen for everything else: a clone, onto a [`Tape`].
pub trait SaveClone {
    type Store;
    fn save(&self, store: &mut Self::Store);
}

impl<T: Clone> SaveClone for &CheckpointOf<'_, T> {
    type Store = Tape<T>;
    #[inline]
    fn save(&self, store: &mut Tape<T>) {
        store.push(self.0.clone());
    }
}

impl<T: Clone> ElementCheckpoints<T> {
    /// Gives `buffer` back the elements (and length) of the buffer saved last, in its own memory.
    ///
    /// # Panics
    /// If nothing is saved: generated code restores exactly what it saved, so this is a bug in
    /// the code generator, never in user code.
    #[inline]
    #[track_caller]
    pub fn restore_into(&mut self, buffer: &mut Vec<T>) {
        let Some(length) = self.lengths.pop() else {
            checkpoint_underflow()
        };
        let start = self.elements.len() - length;
        let saved = &self.elements[start..];
        // A scratch buffer keeps its length from iteration to iteration.
        if buffer.len() == length {
            buffer.clone_from_slice(saved);
        } else {
            buffer.clear();
            buffer.extend_from_slice(saved);
        }
        self.elements.truncate(start);
    }
}

impl<T> Tape<T> {
    /// Gives `value` back the value saved last (the form a checkpoint's restore takes).
    #[inline]
    #[track_caller]
    pub fn restore_into(&mut self, value: &mut T) {
        *value = self.pop();
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn checkpoint_underflow() -> ! {
    panic!(
        "nabla checkpoint underflow: the reverse sweep restored more than the forward sweep saved"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The explicit `&` is how generated code spells the choice, so the tests spell it too.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn buffers_of_copy_elements_share_one_store_and_come_back_in_their_own_memory() {
        let mut store = Default::default();
        let mut scratch = vec![1.0f64, 2.0, 3.0];
        (&CheckpointOf(&scratch)).save(&mut store);
        scratch.truncate(1);
        (&CheckpointOf(&scratch)).save(&mut store);
        scratch.extend_from_slice(&[7.0, 8.0, 9.0, 10.0]);
        let memory = scratch.as_ptr();

        store.restore_into(&mut scratch);
        assert_eq!(scratch, [1.0]);
        assert_eq!(scratch.as_ptr(), memory, "restored in place");
        store.restore_into(&mut scratch);
        assert_eq!(scratch, [1.0, 2.0, 3.0]);
        let _: &ElementCheckpoints<f64> = &store;
    }

    #[allow(clippy::needless_borrow)]
    #[test]
    fn buffers_of_buffers_are_cloned_element_by_element() {
        let mut store = Default::default();
        let mut rows = Vec::new();
        (&CheckpointOf(&rows)).save(&mut store);
        // The element type is known only from here on.
        rows = vec![vec![1.0f64], vec![2.0, 3.0]];
        (&CheckpointOf(&rows)).save(&mut store);
        rows[1].push(4.0);
        store.restore_into(&mut rows);
        assert_eq!(rows, [vec![1.0], vec![2.0, 3.0]]);
        store.restore_into(&mut rows);
        assert!(rows.is_empty());
        let _: &ElementCheckpoints<Vec<f64>> = &store;
    }

    #[allow(clippy::needless_borrow)]
    #[test]
    fn other_values_are_cloned_onto_a_tape() {
        let mut store = Default::default();
        let mut total = 1.5f64;
        let mut rows = nalgebra::DVector::from_vec(vec![1.0f64, 2.0]);
        let mut rows_store = Default::default();
        (&CheckpointOf(&total)).save(&mut store);
        (&CheckpointOf(&rows)).save(&mut rows_store);
        total = 4.0;
        rows[0] = 7.0;
        assert_eq!(total, 4.0);
        rows_store.restore_into(&mut rows);
        store.restore_into(&mut total);
        assert_eq!(total, 1.5);
        assert_eq!(rows, nalgebra::DVector::from_vec(vec![1.0, 2.0]));
        let _: &Tape<f64> = &store;
        let _: &Tape<nalgebra::DVector<f64>> = &rows_store;
    }

    #[test]
    #[should_panic(expected = "checkpoint underflow")]
    fn restoring_more_than_was_saved_is_a_generator_bug() {
        ElementCheckpoints::<f32>::default().restore_into(&mut Vec::new());
    }
}
