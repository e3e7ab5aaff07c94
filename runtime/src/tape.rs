//! The tape: a typed stack for values that a loop or branch overwrites but the reverse sweep needs.
//!
//! Generated code keeps one tape per saved variable, so every tape holds a single type and no
//! value is boxed. The forward sweep pushes the value about to be overwritten; the reverse sweep
//! pops it back in the opposite order. Values that are never overwritten are never taped.
//!
//! Memory: a loop that runs `n` times and overwrites `k` needed values of `b` bytes each keeps
//! `n · k · b` bytes until its reverse sweep runs.
//!
//! A push is on the hot path of every loop that saves: it checks the chunk's capacity and
//! writes, and keeps no other count (a length or a peak kept on every push costs as much as the
//! write itself, and keeps the tape's fields in memory across the loop).

/// A stack of saved values of one type.
///
/// Values live in chunks: when one is full the next is allocated beside it, so a growing tape
/// never copies what it holds and needs no more than one chunk of slack (a `Vec` that doubles
/// would copy everything at each doubling and may hold twice the memory at its peak).
#[derive(Debug, Clone)]
pub struct Tape<T> {
    /// Full chunks, oldest first.
    full: Vec<Vec<T>>,
    /// The chunk being filled.
    current: Vec<T>,
}

/// The first chunk's size when nothing was reserved, and the largest chunk grown to.
const FIRST_CHUNK: usize = 64;
const LARGEST_CHUNK: usize = 1 << 16;

impl<T> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Tape<T> {
    /// An empty tape that allocates nothing until the first push.
    #[inline]
    pub const fn new() -> Self {
        Tape {
            full: Vec::new(),
            current: Vec::new(),
        }
    }

    /// An empty tape with room for `n` values (a `for` loop knows its trip count up front).
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        let mut tape = Self::new();
        tape.reserve(n);
        tape
    }

    /// Makes room for `n` more values, so a loop of known trip count saves without allocating
    /// again.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        let free = self.current.capacity() - self.current.len();
        if n > free {
            if self.current.is_empty() {
                self.current.reserve_exact(n);
            } else {
                let next = Vec::with_capacity(n);
                self.full.push(core::mem::replace(&mut self.current, next));
            }
        }
    }

    /// Saves a value.
    #[inline(always)]
    pub fn push(&mut self, value: T) {
        if self.current.len() == self.current.capacity() {
            self.grow();
        }
        self.current.push(value);
    }

    #[cold]
    fn grow(&mut self) {
        let size = (self.current.capacity() * 2).clamp(FIRST_CHUNK, LARGEST_CHUNK);
        if self.current.is_empty() {
            self.current.reserve_exact(size);
        } else {
            let next = Vec::with_capacity(size);
            self.full.push(core::mem::replace(&mut self.current, next));
        }
    }

    /// Takes back the value saved last.
    ///
    /// # Panics
    /// If the tape is empty: generated code pops exactly what it pushed, so this is a bug in the
    /// code generator, never in user code.
    #[inline(always)]
    #[track_caller]
    pub fn pop(&mut self) -> T {
        if self.current.is_empty() {
            self.previous_chunk();
        }
        match self.current.pop() {
            Some(value) => value,
            None => tape_underflow(),
        }
    }

    #[cold]
    fn previous_chunk(&mut self) {
        if let Some(chunk) = self.full.pop() {
            self.current = chunk;
        }
    }

    /// Values currently saved.
    pub fn len(&self) -> usize {
        self.full.iter().map(Vec::len).sum::<usize>() + self.current.len()
    }

    /// Whether nothing is saved.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty() && self.full.iter().all(Vec::is_empty)
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
    fn pops_in_reverse_order() {
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
    }

    #[test]
    fn many_chunks_pop_back_in_order() {
        let mut tape = Tape::new();
        for i in 0..200_000u32 {
            tape.push(i);
        }
        assert_eq!(tape.len(), 200_000);
        for i in (0..200_000u32).rev() {
            assert_eq!(tape.pop(), i);
        }
        assert!(tape.is_empty());
        // Reused after emptying, and after a reservation.
        tape.reserve(10);
        for i in 0..100 {
            tape.push(i);
        }
        for i in (0..100).rev() {
            assert_eq!(tape.pop(), i);
        }
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
