//! The tape: a typed stack for values that a loop or branch overwrites but the reverse sweep needs.
//!
//! Generated code keeps one tape per saved variable, so every tape holds a single type and no
//! value is boxed. The forward sweep pushes the value about to be overwritten; the reverse sweep
//! pops it back in the opposite order. Values that are never overwritten are never taped.
//!
//! Memory: a loop that runs `n` times and overwrites `k` needed values of `b` bytes each keeps
//! `n · k · b` bytes until its reverse sweep runs; [`Tape::peak_bytes`] reports it.

/// A stack of saved values of one type.
#[derive(Debug, Clone, Default)]
pub struct Tape<T> {
    values: Vec<T>,
    peak: usize,
}

impl<T> Tape<T> {
    /// An empty tape that allocates nothing until the first push.
    #[inline]
    pub const fn new() -> Self {
        Tape {
            values: Vec::new(),
            peak: 0,
        }
    }

    /// An empty tape with room for `n` values (a `for` loop knows its trip count up front).
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        Tape {
            values: Vec::with_capacity(n),
            peak: 0,
        }
    }

    /// Makes room for `n` more values, so a loop of known trip count saves without reallocating.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        self.values.reserve(n);
    }

    /// Saves a value.
    #[inline(always)]
    pub fn push(&mut self, value: T) {
        self.values.push(value);
        self.peak = self.peak.max(self.values.len());
    }

    /// Takes back the value saved last.
    ///
    /// # Panics
    /// If the tape is empty: generated code pops exactly what it pushed, so this is a bug in the
    /// code generator, never in user code.
    #[inline(always)]
    #[track_caller]
    pub fn pop(&mut self) -> T {
        match self.values.pop() {
            Some(value) => value,
            None => tape_underflow(),
        }
    }

    /// Values currently saved.
    #[inline]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is saved.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The most bytes of values this tape has held at once (heap memory of owned values such as
    /// `Vec`s inside `T` not counted).
    #[inline]
    pub fn peak_bytes(&self) -> usize {
        self.peak * core::mem::size_of::<T>()
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn tape_underflow() -> ! {
    panic!("nabla tape underflow: the reverse sweep popped more than the forward sweep pushed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_reverse_order_and_tracks_peak() {
        let mut tape = Tape::with_capacity(3);
        tape.push(1.0f64);
        tape.push(2.0);
        assert_eq!(tape.pop(), 2.0);
        tape.push(3.0);
        tape.push(4.0);
        assert_eq!(tape.len(), 3);
        assert_eq!(tape.pop(), 4.0);
        assert_eq!(tape.pop(), 3.0);
        assert_eq!(tape.pop(), 1.0);
        assert!(tape.is_empty());
        assert_eq!(tape.peak_bytes(), 3 * 8);
    }

    #[test]
    #[should_panic(expected = "tape underflow")]
    fn underflow_is_reported() {
        Tape::<f32>::new().pop();
    }
}

/// A tape for a save site that runs at most once (a branch outside any loop): no heap memory.
#[derive(Debug, Clone, Default)]
pub struct Slot<T> {
    value: Option<T>,
}

impl<T> Slot<T> {
    #[inline(always)]
    pub const fn new() -> Self {
        Slot { value: None }
    }

    #[inline(always)]
    pub fn push(&mut self, value: T) {
        self.value = Some(value);
    }

    /// # Panics
    /// If nothing was saved: a bug in the code generator, never in user code.
    #[inline(always)]
    #[track_caller]
    pub fn pop(&mut self) -> T {
        match self.value.take() {
            Some(value) => value,
            None => tape_underflow(),
        }
    }
}

#[cfg(test)]
mod slot_tests {
    use super::Slot;

    #[test]
    fn slot_holds_one_value() {
        let mut slot = Slot::new();
        slot.push([1.0f32, 2.0]);
        assert_eq!(slot.pop(), [1.0, 2.0]);
    }
}
