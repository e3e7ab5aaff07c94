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

/// How many iterations a `for` loop over `range` runs: its size hint's upper bound, which is
/// exact for the ranges of indices loops walk (and the lower bound where there is none).
#[inline]
pub fn trips<I: Iterator>(range: &I) -> usize {
    let (low, high) = range.size_hint();
    high.unwrap_or(low)
}

/// A stack of saved values of one type.
///
/// Values live in chunks: when one is full the next is allocated beside it, so a growing tape
/// never copies what it holds and needs no more than one chunk of slack (a `Vec` that doubles
/// would copy everything at each doubling and may hold twice the memory at its peak).
///
/// A tape that is filled and emptied again and again (the tapes of a loop nested in another,
/// or of a loop whose iterations are reversed as they run) keeps the chunk it emptied last and
/// fills it again, so it allocates only while it grows past what it held before.
#[derive(Debug, Clone)]
pub struct Tape<T> {
    /// Full chunks, oldest first.
    full: Vec<Vec<T>>,
    /// The chunk being filled.
    current: Vec<T>,
    /// An emptied chunk, kept for the next time the tape grows.
    spare: Vec<T>,
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
            spare: Vec::new(),
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
        if n > self.current.capacity() - self.current.len() {
            self.next_chunk(n);
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

    /// Saves a value where room was made for it with [`reserve`](Self::reserve): a `for` loop
    /// reserves its trip count before it runs, and saves at most once per iteration. There is
    /// no path that grows the tape, and so no call in the loop that would force the values the
    /// loop carries (a running sum) out of registers.
    ///
    /// # Panics
    /// If no room was reserved: generated code reserves before every loop that saves this way,
    /// so this is a bug in the code generator, never in user code.
    #[inline(always)]
    #[track_caller]
    pub fn push_reserved(&mut self, value: T) {
        if self.current.len() == self.current.capacity() {
            nothing_reserved();
        }
        self.current.push(value);
    }

    #[cold]
    fn grow(&mut self) {
        self.next_chunk(1);
    }

    /// Makes the chunk being filled one with room for `n` more values: the spare chunk if it
    /// has that room, else a new one about twice the size of the last, a multiple of `n` (a loop
    /// that reserves `n` at every run then fills it whole), and at least `n`.
    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self, n: usize) {
        let grown = (self.current.capacity() * 2).clamp(FIRST_CHUNK, LARGEST_CHUNK);
        let size = if grown > n { grown - grown % n } else { n };
        let next = if self.spare.capacity() >= n {
            core::mem::take(&mut self.spare)
        } else {
            Vec::with_capacity(size)
        };
        let filled = core::mem::replace(&mut self.current, next);
        if filled.is_empty() {
            self.keep_spare(filled);
        } else {
            self.full.push(filled);
        }
    }

    /// Keeps the larger of `emptied` and the spare chunk.
    fn keep_spare(&mut self, emptied: Vec<T>) {
        if emptied.capacity() > self.spare.capacity() {
            self.spare = emptied;
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
            let emptied = core::mem::replace(&mut self.current, chunk);
            self.keep_spare(emptied);
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
fn nothing_reserved() -> ! {
    panic!("nabla tape overflow: a loop saved more values than the room it reserved")
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
    fn reserved_room_takes_pushes_across_chunks() {
        let mut tape = Tape::new();
        tape.push(0.5f64);
        for round in 0..3 {
            tape.reserve(100);
            for i in 0..100 {
                tape.push_reserved(f64::from(round * 100 + i));
            }
        }
        assert_eq!(tape.len(), 301);
        for i in (0..300).rev() {
            assert_eq!(tape.pop(), f64::from(i));
        }
        assert_eq!(tape.pop(), 0.5);
        assert!(tape.is_empty());
    }

    #[test]
    #[should_panic(expected = "more values than the room it reserved")]
    fn a_push_past_the_reserved_room_panics() {
        let mut tape = Tape::new();
        tape.reserve(2);
        tape.push_reserved(1);
        tape.push_reserved(2);
        // Room is made in chunks of at least 64 values.
        for i in 0..64 {
            tape.push_reserved(i);
        }
    }

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
