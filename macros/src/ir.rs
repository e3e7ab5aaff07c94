//! The intermediate representation: three-address code with explicit control flow.
//!
//! Every intermediate value gets its own variable, every statement keeps the span of the user
//! expression it came from, and the operands of an operation are always variables or constants,
//! never nested expressions. Activity analysis, the checks and the reverse sweep all work on this
//! form instead of on syn's tree.

use proc_macro2::{Ident, Span, TokenStream};
use syn::{BinOp, Member, Type};

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct VarId(pub usize);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// The function parameter at this position.
    Param(usize),
    /// A variable the user named.
    Local,
    /// An intermediate value.
    Temp,
}

pub struct Var {
    /// The identifier generated code uses for the value.
    pub ident: Ident,
    /// The name the user gave it, for error messages.
    pub user_name: Option<String>,
    pub origin: Origin,
    /// Holds a reference (a `&T` parameter, `let r = &x`, a loop over a slice), so generated code
    /// passes it as it is instead of borrowing it again.
    pub is_ref: bool,
    /// A storage location assigned more than once in a way SSA renaming cannot express (inside a
    /// branch or loop): overwrites are saved on the tape when the reverse sweep needs the value.
    pub is_location: bool,
    /// Holds a value where the user's code holds a reference to it (a loop element `x` of
    /// `xs.iter()`, `let x = &xs[i]`): passed on as `&v` where the user passes `x` along.
    pub user_ref: bool,
    /// Holds a reference to a field or element the user reads as a place (`net.w`, `self.k`,
    /// `net.layers[i]`): set with `&place`, read by value as a clone, so that a non-`Copy` field
    /// of a borrowed struct is never moved. With `user_ref`, the user holds it as a reference
    /// (`for l in &net.layers`) and it is passed on as it is.
    pub place: bool,
    /// The user's expression a temporary stands for where its definition does not show it: an
    /// accumulator starts as `0.0` and holds `w.iter().sum::<f64>()` after its loop. For
    /// messages.
    pub written: Option<String>,
}

#[derive(Clone)]
pub enum Operand {
    Var(VarId),
    /// `&v`, as written by the user (`a.dot(&b)`), with the spans of its `&` and of its name
    /// there (where an error in the generated borrow is then reported as in the user's).
    Ref(VarId, Span, Span),
    /// A literal or a constant path (`2.0`, `f64::consts::PI`): never carries gradient.
    Const(TokenStream),
}

impl Operand {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Operand::Var(v) | Operand::Ref(v, ..) => Some(*v),
            Operand::Const(_) => None,
        }
    }
}

pub enum UnOp {
    Neg,
    Not,
    Deref,
}

/// What a method call is, as far as syntax tells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MethodKind {
    /// A float method with a derivative rule in the runtime (index into `methods::FLOAT_METHODS`).
    Float(usize),
    /// A method whose rule is a runtime trait chosen by type (index into `methods::TRAIT_METHODS`).
    Trait(usize),
    /// A method whose derivative is zero or undefined (`round`, `signum`, ...).
    Step,
    /// Returns its receiver's value unchanged (`clone`).
    Identity,
    /// Asks about the receiver's shape (`len`, `nrows`): fine on anything, carries no gradient.
    Query,
    /// Element-wise `map(|x| ..)` with the closure at this index of `Body::closures`.
    Map(usize),
    /// A method of a user's model type (`self.accel(x)`, `layer.forward(x)` on an element of
    /// `net.layers`), differentiated through its `#[differentiable]` companion
    /// `__NAME_pullback`.
    User,
    /// Anything else: only allowed when nothing involved carries gradient.
    Unknown,
}

// As for `StmtKind`: built once per expansion. (Its largest variants hold syn types, which grow
// with proc-macro2's `span-locations`, on in the unit tests.)
#[allow(clippy::large_enum_variant)]
pub enum Value {
    Use(Operand),
    Binary {
        op: BinOp,
        lhs: Operand,
        rhs: Operand,
    },
    Unary {
        op: UnOp,
        arg: Operand,
    },
    Method {
        receiver: Operand,
        method: Ident,
        turbofish: Option<TokenStream>,
        /// `f64` for the path form `f64::powf(x, y)`, kept because it also fixes the type of a
        /// literal receiver (`f64::min(-0.25, y)`).
        qualified: Option<TokenStream>,
        args: Vec<Operand>,
        kind: MethodKind,
    },
    /// A call of a function path. `differentiable` says whether the callee is expected to have a
    /// companion pullback (anything but the `stop_gradient` marker).
    Call {
        func: syn::ExprPath,
        args: Vec<Operand>,
    },
    /// `Vector3::new(a, b, c)`, `Matrix2::new(..)`: a nalgebra matrix from its elements, given
    /// in row-major order.
    Construct {
        func: syn::ExprPath,
        args: Vec<Operand>,
    },
    Cast {
        arg: Operand,
        ty: Type,
    },
    Index {
        base: Operand,
        index: Operand,
    },
    /// `w[a..b]` as a value of its own (`f(&w[1..])`, `let tail = &w[k..]`): a copy of the
    /// elements in `range`, a `Vec`. `range` never carries gradient.
    Part {
        base: Operand,
        range: Operand,
    },
    Field {
        base: Operand,
        member: Member,
    },
    Tuple(Vec<Operand>),
    /// `[a, b, c]`: an array literal.
    Array(Vec<Operand>),
    /// `State { x: a, v: b }`: a struct literal, its fields in the order written.
    Struct {
        path: syn::Path,
        fields: Vec<(Member, Operand)>,
    },
    /// Tokens evaluated as written (the user's with variables renamed, or the lowering's own):
    /// `stop_gradient(..)` contents, tests and guards the lowering wrote, and expressions that
    /// only compute with values that carry no gradient.
    Opaque {
        tokens: TokenStream,
        reads: Vec<VarId>,
        /// What the tokens are, as the lowering made them: the checks never tell from their shape.
        kept: Kept,
    },
}

/// What the tokens of a [`Value::Opaque`] stand for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kept {
    /// The argument of the user's `stop_gradient(..)`: exempt from the checks, never carries
    /// gradient.
    StopGradient,
    /// Data by construction, never carrying gradient: a range of indices the lowering wrote
    /// (`0..len`), a range the user indexes or iterates with, a shape constructor
    /// (`DMatrix::zeros(n, n)`), a float made from an integer (`T::from_usize(n)`), an `Option`
    /// field's method, a zero or default value, a string a macro makes (`format!("{x}")`).
    Data,
    /// The lowering's `matches!(scrutinee, pattern)` test of a `match` arm.
    MatchTest,
    /// The lowering's guard after `break`, `continue` or `return`: its flags joined by `&&`.
    Guard,
    /// A filter's test of one element (`keeps(&item, |v| ..)`).
    FilterTest,
    /// The user's test of elements by a closure, `w.iter().any(|&v| v > t)` (see
    /// `methods::CLOSURE_TESTS`), or a count of those it keeps,
    /// `w.iter().filter(|v| ..).count()`.
    ClosureTest(Decision),
    /// The user's code kept as written, which the checks refuse if values that carry gradient
    /// flow in.
    Checked(Written),
}

/// What a test of elements by a closure gives: a value that decides and carries no gradient.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decision {
    /// `any`, `all`: a bool.
    Test,
    /// `position`, `rposition`: the index of an element.
    Position,
    /// `filter(..).count()`: how many elements the test keeps.
    Count,
}

/// The user's code that [`Kept::Checked`] keeps as written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Written {
    /// `vec![x; n]`, `vec![a, b]` where they are not a buffer of their own.
    Vec,
    /// A range (`a..b`): its ends have no derivative.
    Range,
    /// An array repeat, `[x; 4]`.
    Repeat,
    /// A `map` over a range of indices or over windows that is not summed as floats.
    MapOverIndices,
    /// A call or a method with no rule that takes a closure (`DMatrix::from_fn(n, n, |i, j|
    /// ..)`, `xs.iter().copied().max_by(|a, b| ..)`): fine on data, kept whole so that rustc
    /// infers the closure's types from the call.
    WithClosure,
    /// A name a `match` arm's pattern binds (`Some(s) => ..`), read out of the scrutinee.
    MatchBinding,
}

impl Kept {
    /// Exempt from the checks and never carrying gradient: everything but [`Kept::Checked`].
    pub fn is_stopped(self) -> bool {
        !matches!(self, Kept::Checked(_))
    }
}

impl Value {
    /// The operands a value reads, in order (`Opaque` tokens read variables, but have none).
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            Value::Use(op) => vec![op],
            Value::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            Value::Unary { arg, .. } | Value::Cast { arg, .. } => vec![arg],
            Value::Method { receiver, args, .. } => std::iter::once(receiver).chain(args).collect(),
            Value::Call { args, .. }
            | Value::Construct { args, .. }
            | Value::Tuple(args)
            | Value::Array(args) => args.iter().collect(),
            Value::Index { base, index } => vec![base, index],
            Value::Part { base, range } => vec![base, range],
            Value::Field { base, .. } => vec![base],
            Value::Struct { fields, .. } => fields.iter().map(|(_, op)| op).collect(),
            Value::Opaque { .. } => vec![],
        }
    }
}

pub struct Stmt {
    pub kind: StmtKind,
    /// The user expression this statement came from.
    pub span: Span,
}

// IR nodes are built once per expansion and walked a few times: boxing the larger variants
// would add indirection for no measurable gain.
#[allow(clippy::large_enum_variant)]
pub enum StmtKind {
    /// Defines `var` (its first assignment). `ty` is the user's type ascription, kept for inference.
    Let {
        var: VarId,
        ty: Option<Type>,
        value: Value,
    },
    /// Declares a location without a value (`let x;`).
    Declare { var: VarId, ty: Option<Type> },
    /// Overwrites a location.
    Assign { var: VarId, value: Value },
    /// `base[index] = value` on a local buffer.
    SetIndex {
        base: VarId,
        index: Operand,
        value: Operand,
    },
    /// A statement with no value that touches nothing carrying gradient (`assert!(..)`).
    Opaque {
        tokens: TokenStream,
        reads: Vec<VarId>,
    },
    If {
        cond: Operand,
        then_block: Block,
        else_block: Block,
    },
    /// `for var in range { body }`. `range` holds the iterator value (a `Range`, possibly with
    /// `.rev()`/`.step_by(k)`), evaluated once before the loop; the reverse sweep walks it
    /// backwards with `.rev()`.
    For {
        var: VarId,
        range: Operand,
        body: Block,
    },
    /// A loop that runs while the boolean location `go` holds (`while`, `loop`, and `for` loops
    /// are lowered to this when they `break`); the reverse sweep runs the body as many times as
    /// the forward sweep did.
    Loop { go: VarId, body: Block },
    /// `base.push(value)` on a local `Vec`.
    Push { base: VarId, value: Operand },
}

pub type Block = Vec<Stmt>;

pub struct Body {
    pub vars: Vec<Var>,
    pub block: Block,
    /// The function's result.
    pub result: Operand,
    /// The closures of element-wise `map`s, each lowered as a function of one scalar.
    pub closures: Vec<Closure>,
}

/// The closure of `m.map(|x| ..)`: a body whose one parameter is the element.
pub struct Closure {
    pub body: Body,
    /// The closure as the user wrote it, with captured variables renamed, for the forward sweep.
    pub forward: TokenStream,
    /// Variables of the enclosing function that the closure reads.
    /// Each with the span of its first use in the closure.
    pub captures: Vec<(VarId, Span)>,
    /// The enclosing variables the closure's body reads as its parameters `1..`, in order
    /// (parameter 0 is the element).
    pub capture_params: Vec<VarId>,
}

impl Body {
    pub fn var(&self, id: VarId) -> &Var {
        &self.vars[id.0]
    }
}
