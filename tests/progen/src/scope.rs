//! What is in scope at a point of a generated program: each binding's kind, and what is known of
//! its value there (its range, and whether it carries gradient).

use crate::bounds::Iv;

#[derive(Clone, PartialEq, Debug)]
pub enum Kind {
    /// An `f64`: a parameter, a local, or the element bound by `for &v in ..`.
    Scalar,
    /// A `#[no_grad] f64` parameter.
    Constant,
    /// A loop index, `usize`.
    Index {
        min: usize,
        max: usize,
    },
    /// A `#[no_grad] usize` parameter, at most `value`.
    Count {
        value: usize,
    },
    Array {
        len: usize,
    },
    Slice {
        len: usize,
    },
    /// A local `Vec<f64>`.
    Buffer {
        len: usize,
    },
}

impl Kind {
    /// The length of an array, slice or buffer.
    pub fn len(&self) -> Option<usize> {
        match self {
            Kind::Array { len } | Kind::Slice { len } | Kind::Buffer { len } => Some(*len),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub name: String,
    pub kind: Kind,
    pub mutable: bool,
    pub param: bool,
    /// Computed from a parameter that carries gradient (for a container: some element is).
    pub active: bool,
    /// rustc knows the type is `f64`. A buffer written as `vec![0.0; n]` is `Vec<{float}>`
    /// until its first element write, and a method call on a read before then does not compile.
    pub settled: bool,
    /// Every value it can hold (for a container: every element).
    pub iv: Iv,
}

impl Binding {
    pub fn new(name: &str, kind: Kind, iv: Iv) -> Binding {
        Binding {
            name: name.to_string(),
            kind,
            mutable: false,
            param: false,
            active: false,
            settled: true,
            iv,
        }
    }
}

/// Nested frames of bindings; a later binding of a name shadows an earlier one.
#[derive(Clone, Debug)]
pub struct Scope {
    frames: Vec<Vec<Binding>>,
}

impl Scope {
    pub fn new() -> Scope {
        Scope {
            frames: vec![Vec::new()],
        }
    }

    pub fn push(&mut self) {
        self.frames.push(Vec::new());
    }

    pub fn pop(&mut self) {
        self.frames.pop();
    }

    pub fn bind(&mut self, b: Binding) {
        self.frames.last_mut().expect("a frame").push(b);
    }

    pub fn get(&self, name: &str) -> Option<&Binding> {
        self.frames
            .iter()
            .rev()
            .flat_map(|f| f.iter().rev())
            .find(|b| b.name == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.frames
            .iter_mut()
            .rev()
            .flat_map(|f| f.iter_mut().rev())
            .find(|b| b.name == name)
    }

    /// The bindings a name refers to here (shadowed ones left out), innermost first.
    pub fn visible(&self) -> Vec<&Binding> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for b in self.frames.iter().rev().flat_map(|f| f.iter().rev()) {
            if !seen.contains(&b.name.as_str()) {
                seen.push(&b.name);
                out.push(b);
            }
        }
        out
    }

    /// Whether `name` is bound in the innermost frame (where a `let` would shadow it).
    pub fn in_current_frame(&self, name: &str) -> bool {
        self.frames
            .last()
            .is_some_and(|f| f.iter().any(|b| b.name == name))
    }

    /// What is known after either of two paths from the same point (the arms of an `if`, or
    /// different trip counts of a loop): the hull of the ranges, and "carries gradient" if either
    /// path makes it so.
    pub fn join(&mut self, other: &Scope) {
        assert_eq!(
            self.frames.len(),
            other.frames.len(),
            "joined scopes differ"
        );
        for (fa, fb) in self.frames.iter_mut().zip(&other.frames) {
            assert_eq!(fa.len(), fb.len(), "joined scopes differ");
            for (a, b) in fa.iter_mut().zip(fb) {
                a.iv = a.iv.hull(b.iv);
                a.active |= b.active;
                // rustc settles a type in textual order, whichever path runs.
                a.settled |= b.settled;
            }
        }
    }
}
