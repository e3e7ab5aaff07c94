//! The generated programs as a small syntax tree. `gen` builds it, `bounds` proves its values
//! stay in range, and `print` turns it into Rust.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CmpOp {
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

/// Float methods of one operand, `x.NAME()` (or `x.powi(k)`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method1 {
    Sin,
    Cos,
    Tanh,
    Atan,
    Asinh,
    Exp,
    ExpM1,
    Sinh,
    Cosh,
    Ln,
    Ln1p,
    Sqrt,
    Abs,
    Recip,
    Powi(i32),
}

/// Float methods of two operands, `x.NAME(y)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method2 {
    Max,
    Min,
    Hypot,
    Powf,
    Atan2,
}

#[derive(Clone, PartialEq, Debug)]
pub enum Expr {
    Lit(f64),
    /// An `f64` binding: a parameter, a local, or the element bound by `for &v in ..`.
    Var(String),
    /// `(i as f64)` of a loop index or of a `#[no_grad]` count.
    AsF64(String),
    Elem(String, Index),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Unary(Method1, Box<Expr>),
    Binary(Method2, Box<Expr>, Box<Expr>),
    /// `x.mul_add(a, b)`
    MulAdd(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(String, Vec<Arg>),
    /// Only as the whole value of a `let`.
    If(Box<Cond>, Box<Expr>, Box<Expr>),
    /// `xs.iter().sum::<f64>()`, or `xs.iter().map(|v| ..).sum::<f64>()`.
    Sum(String, Option<Map>),
}

/// The closure of `xs.iter().map(|v| ..)`: it reads only its argument (a closure that reads a
/// value carrying gradient is rejected by the macro).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Map {
    Square,
    Sin,
    Abs,
    HalfTanh,
}

#[derive(Clone, PartialEq, Debug)]
pub enum Arg {
    Value(Expr),
    /// An array or slice parameter passed on as it is.
    Whole(String),
    /// `&buf` of a local buffer.
    Borrow(String),
    /// A `usize`: a literal or a `#[no_grad]` count.
    Count(Len),
}

/// A length or a trip count: how it is written, and the value it has when the checks run.
#[derive(Clone, PartialEq, Debug)]
pub struct Len {
    pub kind: LenKind,
    pub value: usize,
}

#[derive(Clone, PartialEq, Debug)]
pub enum LenKind {
    Lit,
    /// `name.len()`
    Of(String),
    /// A `#[no_grad] n: usize` parameter.
    Param(String),
}

#[derive(Clone, PartialEq, Debug)]
pub enum Index {
    Lit(usize),
    Var(String),
    /// `i - 1`, in loops that start at 1.
    Prev(String),
    /// `len - 1 - i`
    Rev(String, Len),
    /// `(i + k) % len`
    Wrap(String, usize, Len),
}

#[derive(Clone, PartialEq, Debug)]
pub enum Cond {
    Cmp(CmpOp, Expr, Expr),
    /// `i % 2 == 0` of a loop index.
    Even(String),
    /// `i < k` of a loop index.
    Below(String, usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Order {
    Forward,
    Rev,
    StepBy(usize),
}

#[derive(Clone, PartialEq, Debug)]
pub enum Place {
    Var(String),
    Elem(String, Index),
}

#[derive(Clone, PartialEq, Debug)]
pub enum Stmt {
    Let {
        name: String,
        mutable: bool,
        /// `let x: f64 = ..`: needed when the value is a bare literal, whose float type rustc
        /// would otherwise leave open.
        typed: bool,
        value: Expr,
    },
    Assign {
        place: Place,
        op: AssignOp,
        value: Expr,
    },
    /// `let mut buf = vec![0.0; len];`, or `Vec::with_capacity(len)` filled by `push` later.
    Buffer {
        name: String,
        len: Len,
        typed: bool,
        pushed: bool,
    },
    /// `buf.push(value);`
    Push {
        name: String,
        value: Expr,
    },
    /// `let (a, b) = (x, y);`
    LetPair {
        names: [String; 2],
        values: [Expr; 2],
    },
    If {
        cond: Cond,
        then: Vec<Stmt>,
        /// Empty: no `else`.
        els: Vec<Stmt>,
    },
    /// `for var in start..end` (reversed or stepped by `order`).
    For {
        var: String,
        start: usize,
        end: Len,
        order: Order,
        body: Vec<Stmt>,
    },
    /// `for &elem in over.iter()`, or `for (index, &elem) in over.iter().enumerate()`.
    ForEach {
        elem: String,
        index: Option<String>,
        over: String,
        body: Vec<Stmt>,
    },
    /// A counted loop written with `while var < end { ..; var += 1; }`, or (`as_loop`) with
    /// `loop { if var == end { break; } ..; var += 1; }`, after `let mut var = 0;`.
    While {
        var: String,
        end: Len,
        as_loop: bool,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    Return(Expr),
}

#[derive(Clone, PartialEq, Debug)]
pub enum ParamTy {
    Scalar,
    Array3,
    /// `&[f64]`, given this many elements by the checks.
    Slice(usize),
    /// `#[no_grad] k: f64`, given this value by the checks.
    NoGradF64(f64),
    /// `#[no_grad] n: usize`, given this value by the checks (callers pass at most this).
    NoGradUsize(usize),
}

impl ParamTy {
    pub fn carries_gradient(&self) -> bool {
        matches!(self, ParamTy::Scalar | ParamTy::Array3 | ParamTy::Slice(_))
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct Param {
    pub name: String,
    pub ty: ParamTy,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Program {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub result: Expr,
}

/// Boxing shorthands, so that building trees reads like the code they print as.
impl Expr {
    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Bin(op, Box::new(a), Box::new(b))
    }
    pub fn unary(m: Method1, a: Expr) -> Expr {
        Expr::Unary(m, Box::new(a))
    }
    pub fn binary(m: Method2, a: Expr, b: Expr) -> Expr {
        Expr::Binary(m, Box::new(a), Box::new(b))
    }
    pub fn div(a: Expr, b: Expr) -> Expr {
        Expr::Div(Box::new(a), Box::new(b))
    }
}
