//! The differentiability checks: every construct through which gradient would silently stop or
//! vanish is a compile error at the user's tokens that names the construct and the parameter,
//! says why no gradient flows, and ends with the fix. The catalogue of these errors, with the
//! TensorFlow/Keras bug each one prevents, is `docs/errors.md`.
//!
//! Two kinds of rule:
//!
//! - **Immediate**: the construct itself loses gradient wherever it appears on a value that
//!   carries gradient — `x.round()`, `x % m`, a method nabla knows no derivative for, a `match`
//!   or `if` that picks between constants on a condition that depends on a parameter.
//! - **Step values**: a comparison, an integer cast, a test such as `is_sign_negative` or a
//!   position such as `argmax` of a value that carries gradient yields a *step value* (a
//!   bool or an integer, flat almost everywhere). A step value is fine for deciding (`if`,
//!   `while`, `match`) and for selecting (`v[i]`); it is an error where it becomes a float
//!   again — `as f64`, `f64::from`, arithmetic with values that carry gradient, or the result —
//!   because from there on it is part of the computed value, and its derivative is zero.
//!   Variables that an `if` sets only to values without gradient, on a step condition, are step
//!   values too (`if p > 0.5 { correct += 1 }`). Loop trip counts are not: iterating until
//!   convergence is fine.
//!
//! The analysis is syntactic (the macro sees no types), so kinds (float, integer, bool) are
//! inferred from literals, casts, ascriptions and parameter types, and stay unknown otherwise; an
//! unknown kind never causes an error on its own.

use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{BinOp, Type};

use crate::activity::{differentiable_operands, Activity};
use crate::errors::{Errors, Place};
use crate::gating::{is_gate, Gates};
use crate::ir::{Block, Body, MethodKind, Operand, Origin, Stmt, StmtKind, UnOp, Value, VarId};
use crate::parse::{float_bearing, Signature};

/// Step methods that compare: allowed where comparisons are (conditions).
/// Step methods whose result may scale or select a value that carries gradient (`x.signum() * x`,
/// `x.floor() * x`): the gradient then flows through the other value, piece by piece.
const GATING_STEP_METHODS: &[&str] = &[
    "signum",
    "round",
    "round_ties_even",
    "floor",
    "ceil",
    "trunc",
];

const ORDERING_METHODS: &[&str] = &[
    "total_cmp",
    "partial_cmp",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
];

/// Query methods that test a value (as opposed to asking about shape).
const VALUE_TESTS: &[&str] = &[
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_positive",
    "is_sign_negative",
    "is_normal",
    "is_subnormal",
    "classify",
];

/// Query methods that return a position.
const INDEX_METHODS: &[&str] = &[
    "argmax",
    "argmin",
    "imax",
    "imin",
    "iamax",
    "iamin",
    "icamax",
    "iamax_full",
    "icamax_full",
    "position",
    "rposition",
];

/// Positions returned together with the value: `(index, value)`.
const INDEX_VALUE_METHODS: &[&str] = &["argmax", "argmin"];

const INTEGERS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

/// Path prefixes of functions that are certainly not `#[differentiable]`.
const LIBRARY_ROOTS: &[&str] = &["std", "core", "alloc"];

/// A callee the macro can tell has no companion pullback, from its path alone.
enum Callee {
    /// `f64::from(x)`.
    FloatConversion(String),
    /// `DVector::from_vec(..)`: a nalgebra constructor other than `new`.
    Matrix,
    /// `Model::forward(x)`: an associated function (`#[differentiable]` applies to free
    /// functions only).
    Associated,
    /// `Some(x)`, `Wrapper(x)`: a tuple struct or variant.
    Constructor,
    /// `std::..`, `i64::..`.
    Library,
}

/// Calls the macro reports itself, with a better message than rustc's for a missing companion.
/// Types are recognized by their names: primitive and nalgebra types, and (by Rust's naming
/// convention, which rustc lints) `UpperCamelCase` segments.
fn foreign_callee(path: &syn::Path) -> Option<Callee> {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let upper = |name: &str| name.chars().next().is_some_and(|c| c.is_uppercase());
    match names.as_slice() {
        [one] if upper(one) => Some(Callee::Constructor),
        [first, ..] if LIBRARY_ROOTS.contains(&first.as_str()) => Some(Callee::Library),
        [.., ty, last] if matches!(ty.as_str(), "f32" | "f64") && last == "from" => {
            Some(Callee::FloatConversion(ty.clone()))
        }
        [.., ty, _] if kind_of_primitive(ty) != Kind::Unknown => Some(Callee::Library),
        [.., ty, _] if crate::parse::is_nalgebra_type(ty) => Some(Callee::Matrix),
        [.., ty, _] if upper(ty) => Some(Callee::Associated),
        _ => None,
    }
}

/// Runs the checks, recording every error in `errors`. Returns the paths of the calls that are
/// differentiated through (their callees must be `#[differentiable]`), so the fallback can name
/// them too when the function has errors: rustc then reports a callee that is not, in the same
/// build.
pub fn check(
    body: &Body,
    sig: &Signature,
    activity: &Activity,
    errors: &mut Errors,
) -> Vec<syn::Path> {
    // Errors from the signature or from lowering leave holes in the IR (an unsupported
    // expression reads nothing), which would make parameters look unused.
    let earlier_errors = !errors.is_empty();
    let flow = Flow::analyze(body, sig, activity);
    let mut checker = Checker {
        flow,
        errors,
        reported: HashSet::new(),
        blamed: BTreeSet::new(),
        rejected_values: HashSet::new(),
        differentiated_calls: Vec::new(),
    };
    checker.block(&body.block);
    checker.result();
    if !earlier_errors {
        checker.parameters();
    }
    checker.differentiated_calls
}

// ----- what the analysis knows about values ---------------------------------------------------

/// What a value is, as far as syntax tells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Unknown,
    /// A float, or a container of floats.
    Float,
    Int,
    Bool,
}

fn kind_of_type(ty: &Type) -> Kind {
    match ty {
        Type::Reference(r) => kind_of_type(&r.elem),
        Type::Paren(p) => kind_of_type(&p.elem),
        Type::Group(g) => kind_of_type(&g.elem),
        _ if float_bearing(ty) => Kind::Float,
        Type::Path(p) if p.qself.is_none() => {
            match p.path.get_ident().map(|i| i.to_string()).as_deref() {
                Some("bool") => Kind::Bool,
                Some(name) if INTEGERS.contains(&name) => Kind::Int,
                _ => Kind::Unknown,
            }
        }
        _ => Kind::Unknown,
    }
}

/// The kind of a primitive type's name (`f64::MAX`, `u8::from`).
fn kind_of_primitive(name: &str) -> Kind {
    match name {
        "f32" | "f64" => Kind::Float,
        "bool" => Kind::Bool,
        _ if INTEGERS.contains(&name) => Kind::Int,
        _ => Kind::Unknown,
    }
}

/// The kind of a literal or a constant path.
fn kind_of_const(tokens: &TokenStream) -> Kind {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Literal(lit)] => match syn::parse_str::<syn::Lit>(&lit.to_string()) {
            Ok(syn::Lit::Float(_)) => Kind::Float,
            Ok(syn::Lit::Int(i)) => match i.suffix() {
                "f32" | "f64" => Kind::Float,
                _ => Kind::Int,
            },
            Ok(syn::Lit::Bool(_)) => Kind::Bool,
            _ => Kind::Unknown,
        },
        [TokenTree::Ident(i)] if i == "true" || i == "false" => Kind::Bool,
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            kind_of_const(&g.stream())
        }
        _ => match syn::parse2::<syn::Path>(tokens.clone()) {
            // `f64::consts::PI`, `std::f64::EPSILON`, `usize::MAX`
            Ok(path) => {
                let is_const = path.segments.last().is_some_and(|s| {
                    let name = s.ident.to_string();
                    name.chars()
                        .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '_')
                });
                if !is_const {
                    return Kind::Unknown;
                }
                path.segments
                    .iter()
                    .map(|s| kind_of_primitive(&s.ident.to_string()))
                    .find(|k| *k != Kind::Unknown)
                    .unwrap_or(Kind::Unknown)
            }
            Err(_) => Kind::Unknown,
        },
    }
}

fn is_comparison(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_) | BinOp::Eq(_) | BinOp::Ne(_)
    )
}

fn is_arithmetic(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
    )
}

/// Why a value is a step function of a value that carries gradient.
#[derive(Clone, Debug)]
enum Cause {
    /// `x > y`, or a `match` on `x`.
    Comparison,
    /// `x.is_sign_negative()`, `x.total_cmp(&y)`.
    Test,
    /// `x as i32`.
    IntegerCast,
    /// `v.argmax()`.
    Position,
    /// `x.round()`: reported where it happens.
    Rounding,
    /// A variable that an `if` (or `match`) on a step condition sets only to values without
    /// gradient.
    Branch {
        keyword: &'static str,
        condition: usize,
        var: VarId,
    },
}

/// Where a step value comes from.
struct StepOrigin {
    cause: Cause,
    place: Place,
    /// The construct as the user wrote it (re-rendered from the IR): `pred > 0.5`.
    text: String,
    /// The parameters it depends on, by position.
    params: BTreeSet<usize>,
}

/// How an `if` in the IR came about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Control {
    /// Written by the user (`if`, `match`, `&&`, `||`).
    User,
    /// A `while` condition or a guard after `break`/`continue`/`return`: only a trip count
    /// depends on it.
    Loop,
}

/// Facts about every variable of a body, computed to a fixed point before any error is reported.
struct Flow<'a> {
    body: &'a Body,
    sig: &'a Signature,
    activity: &'a Activity,
    /// The `let` (or declaration) that defines each variable first.
    defs: HashMap<VarId, &'a Stmt>,
    kinds: Vec<Kind>,
    /// Active parameters a value depends on through differentiable operations.
    deps: Vec<BTreeSet<usize>>,
    /// Active parameters a value depends on in any way (conditions, indices, casts, ...).
    touch: Vec<BTreeSet<usize>>,
    /// The step origin a value derives from.
    taint: Vec<Option<usize>>,
    origins: Vec<StepOrigin>,
    /// Origins by the statement (and variable) that creates them, so that re-running the
    /// analysis finds the same origin.
    origin_at: HashMap<(usize, usize), usize>,
    /// Boolean flags the lowering creates for loops and early returns.
    flags: HashSet<VarId>,
    /// How many times each variable is read.
    reads: Vec<usize>,
    /// Receivers of methods nabla does not know: in `xs.iter().product()` only `product` is
    /// reported.
    feeds_unknown: HashSet<VarId>,
    /// Step values that only scale or select values that carry gradient (see `gating.rs`).
    gates: Gates,
    changed: bool,
}

fn stmt_key(stmt: &Stmt) -> usize {
    stmt as *const Stmt as usize
}

impl<'a> Flow<'a> {
    fn analyze(body: &'a Body, sig: &'a Signature, activity: &'a Activity) -> Flow<'a> {
        let n = body.vars.len();
        let mut flow = Flow {
            body,
            sig,
            activity,
            defs: HashMap::new(),
            kinds: vec![Kind::Unknown; n],
            deps: vec![BTreeSet::new(); n],
            touch: vec![BTreeSet::new(); n],
            taint: vec![None; n],
            origins: Vec::new(),
            origin_at: HashMap::new(),
            flags: HashSet::new(),
            reads: vec![0; n],
            feeds_unknown: HashSet::new(),
            gates: Gates::analyze(body, activity),
            changed: false,
        };
        for (id, var) in body.vars.iter().enumerate() {
            if let Origin::Param(i) = var.origin {
                if let Some(param) = sig.params.get(i) {
                    flow.kinds[id] = kind_of_type(&param.ty);
                    if param.active {
                        flow.deps[id].insert(i);
                        flow.touch[id].insert(i);
                    }
                }
            }
        }
        flow.scan(&body.block);
        if let Some(v) = body.result.var() {
            flow.read(v);
        }
        // Values flow around loops, so iterate to a fixed point; every fact only grows, and the
        // bound is a guard against a bug, not a limit real code reaches.
        for _ in 0..64 {
            flow.changed = false;
            flow.block(&body.block);
            if !flow.changed {
                break;
            }
        }
        flow
    }

    /// Records definitions, flags and reads.
    fn scan(&mut self, block: &'a Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, ty, value } => {
                    self.defs.entry(*var).or_insert(stmt);
                    let bool_ty = ty.as_ref().is_some_and(|t| kind_of_type(t) == Kind::Bool);
                    let constant = matches!(value, Value::Use(Operand::Const(c)) if kind_of_const(c) == Kind::Bool);
                    if bool_ty && constant && self.body.var(*var).origin == Origin::Temp {
                        self.flags.insert(*var);
                    }
                    if let Value::Method {
                        receiver,
                        kind: MethodKind::Unknown,
                        ..
                    } = value
                    {
                        if let Some(r) = receiver.var() {
                            self.feeds_unknown.insert(r);
                        }
                    }
                    self.read_value(value);
                }
                StmtKind::Declare { var, .. } => {
                    self.defs.entry(*var).or_insert(stmt);
                }
                StmtKind::Assign { value, .. } => self.read_value(value),
                StmtKind::SetIndex { index, value, .. } => {
                    self.read_operand(index);
                    self.read_operand(value);
                }
                StmtKind::Push { value, .. } => self.read_operand(value),
                StmtKind::Opaque { reads, .. } => {
                    for v in reads {
                        self.read(*v);
                    }
                }
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.read_operand(cond);
                    self.scan(then_block);
                    self.scan(else_block);
                }
                StmtKind::For { range, body, .. } => {
                    self.read_operand(range);
                    self.scan(body);
                }
                StmtKind::Loop { body, .. } => self.scan(body),
            }
        }
    }

    fn read(&mut self, v: VarId) {
        if let Some(count) = self.reads.get_mut(v.0) {
            *count += 1;
        }
    }

    fn read_operand(&mut self, op: &Operand) {
        if let Some(v) = op.var() {
            self.read(v);
        }
    }

    fn read_value(&mut self, value: &Value) {
        for op in value.operands() {
            self.read_operand(op);
        }
        if let Value::Opaque { reads, .. } = value {
            for v in reads {
                self.read(*v);
            }
        }
    }

    // ----- queries ------------------------------------------------------------------------------

    fn varied(&self, op: &Operand) -> bool {
        self.activity.operand_varied(op)
    }

    /// Whether every parameter in `params` reaches the result through a differentiable path:
    /// then a step value of theirs may gate values that carry gradient (see `gating.rs`); if
    /// one reaches it only through the step, the step is what to report.
    fn reach_result(&self, params: &BTreeSet<usize>) -> bool {
        params.iter().all(|&p| {
            self.body.vars.iter().enumerate().any(|(id, var)| {
                var.origin == Origin::Param(p) && self.activity.useful.contains(&VarId(id))
            })
        })
    }

    fn kind(&self, op: &Operand) -> Kind {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => self.kinds[v.0],
            Operand::Const(c) => kind_of_const(c),
        }
    }

    fn taint_of(&self, op: &Operand) -> Option<usize> {
        op.var().and_then(|v| self.taint[v.0])
    }

    fn deps_of(&self, ops: &[&Operand]) -> BTreeSet<usize> {
        ops.iter()
            .filter_map(|op| op.var())
            .flat_map(|v| self.deps[v.0].iter().copied())
            .collect()
    }

    fn def_value(&self, v: VarId) -> Option<&'a Value> {
        match &self.defs.get(&v)?.kind {
            StmtKind::Let { value, .. } => Some(value),
            _ => None,
        }
    }

    /// `v.argmax()` (or `argmin`) on a value that carries gradient, if `v` is defined so.
    fn position_with_value(&self, op: &Operand) -> Option<&'a Value> {
        let value = self.def_value(op.var()?)?;
        match value {
            Value::Method {
                method, receiver, ..
            } if INDEX_VALUE_METHODS.contains(&method.to_string().as_str())
                && self.varied(receiver) =>
            {
                Some(value)
            }
            _ => None,
        }
    }

    /// The operands a step value passes through: all but the index of an element read (an index
    /// selects; the element's gradient flows through the container) and the value half of
    /// `argmax` (reported on its own).
    fn carrying<'v>(&self, value: &'v Value) -> Vec<&'v Operand> {
        match value {
            Value::Index { base, .. } => vec![base],
            Value::Field { base, member } => {
                let value_half = matches!(member, syn::Member::Unnamed(i) if i.index == 1);
                if value_half && self.position_with_value(base).is_some() {
                    vec![]
                } else {
                    vec![base]
                }
            }
            other => other.operands(),
        }
    }

    // ----- the forward pass -------------------------------------------------------------------

    fn set_kind(&mut self, v: VarId, kind: Kind) {
        if kind != Kind::Unknown && self.kinds[v.0] == Kind::Unknown {
            self.kinds[v.0] = kind;
            self.changed = true;
        }
    }

    fn add_deps(&mut self, v: VarId, deps: BTreeSet<usize>, touch: BTreeSet<usize>) {
        let before = (self.deps[v.0].len(), self.touch[v.0].len());
        self.deps[v.0].extend(deps);
        self.touch[v.0].extend(touch);
        if before != (self.deps[v.0].len(), self.touch[v.0].len()) {
            self.changed = true;
        }
    }

    fn set_taint(&mut self, v: VarId, origin: Option<usize>) {
        if let (Some(o), None) = (origin, self.taint[v.0]) {
            self.taint[v.0] = Some(o);
            self.changed = true;
        }
    }

    fn block(&mut self, block: &'a Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, ty, value } => self.assign(stmt, *var, value, ty.as_ref()),
                StmtKind::Assign { var, value } => self.assign(stmt, *var, value, None),
                StmtKind::Declare { var, ty } => {
                    if let Some(ty) = ty {
                        self.set_kind(*var, kind_of_type(ty));
                    }
                }
                StmtKind::SetIndex { base, index, value } => {
                    self.set_kind(*base, self.kind(value));
                    let deps = self.deps_of(&[value]);
                    let touch = self.touch_of(&[index, value]);
                    self.add_deps(*base, deps, touch);
                    self.set_taint(*base, self.taint_of(value));
                }
                StmtKind::Push { base, value } => {
                    self.set_kind(*base, self.kind(value));
                    let deps = self.deps_of(&[value]);
                    let touch = self.touch_of(&[value]);
                    self.add_deps(*base, deps, touch);
                    self.set_taint(*base, self.taint_of(value));
                }
                StmtKind::Opaque { .. } => {}
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.block(then_block);
                    self.block(else_block);
                    self.branch(stmt, cond, then_block, else_block);
                }
                StmtKind::For { var, range, body } => {
                    let touch = self.touch_of(&[range]);
                    self.add_deps(*var, BTreeSet::new(), touch);
                    self.block(body);
                }
                StmtKind::Loop { body, .. } => self.block(body),
            }
        }
    }

    fn touch_of(&self, ops: &[&Operand]) -> BTreeSet<usize> {
        ops.iter()
            .filter_map(|op| op.var())
            .flat_map(|v| self.touch[v.0].iter().copied())
            .collect()
    }

    fn assign(&mut self, stmt: &'a Stmt, var: VarId, value: &'a Value, ty: Option<&Type>) {
        let ascribed = ty.map(kind_of_type).unwrap_or(Kind::Unknown);
        let kind = if ascribed != Kind::Unknown {
            ascribed
        } else {
            self.value_kind(value)
        };
        self.set_kind(var, kind);

        let deps = self.deps_of(&differentiable_operands(value));
        let mut touch = self.touch_of(&value.operands());
        if let Value::Opaque { reads, .. } = value {
            for v in reads {
                touch.extend(self.touch[v.0].iter().copied());
            }
        }
        self.add_deps(var, deps, touch);

        let origin = match self.new_origin(stmt, value) {
            Some(o) => Some(o),
            None => match value {
                Value::Opaque {
                    tokens,
                    reads,
                    stopped: true,
                } if !is_stop_gradient(tokens) => reads.iter().find_map(|v| self.taint[v.0]),
                Value::Opaque { .. } => None,
                other => self
                    .carrying(other)
                    .into_iter()
                    .find_map(|op| self.taint_of(op)),
            },
        };
        self.set_taint(var, origin);
    }

    fn value_kind(&self, value: &Value) -> Kind {
        match value {
            Value::Use(op) => self.kind(op),
            Value::Binary { op, lhs, rhs } => {
                if is_comparison(op) || matches!(op, BinOp::And(_) | BinOp::Or(_)) {
                    return Kind::Bool;
                }
                if matches!(op, BinOp::Shl(_) | BinOp::Shr(_)) {
                    return Kind::Int;
                }
                let (l, r) = (self.kind(lhs), self.kind(rhs));
                if l == Kind::Float || r == Kind::Float || self.varied(lhs) || self.varied(rhs) {
                    Kind::Float
                } else if l == r {
                    l
                } else if is_arithmetic(op) {
                    Kind::Unknown
                } else if l != Kind::Unknown {
                    l
                } else {
                    r
                }
            }
            Value::Unary { arg, .. } => self.kind(arg),
            Value::Method {
                receiver,
                method,
                kind,
                ..
            } => {
                let name = method.to_string();
                match kind {
                    MethodKind::Float(_) | MethodKind::Trait(_) | MethodKind::Map(_) => Kind::Float,
                    MethodKind::Identity => self.kind(receiver),
                    MethodKind::Step => match name.as_str() {
                        "to_bits" | "to_int_unchecked" => Kind::Int,
                        _ if ORDERING_METHODS.contains(&name.as_str()) => {
                            if matches!(name.as_str(), "total_cmp" | "partial_cmp") {
                                Kind::Unknown
                            } else {
                                Kind::Bool
                            }
                        }
                        _ => Kind::Float,
                    },
                    MethodKind::Query => match name.as_str() {
                        "len" | "nrows" | "ncols" | "capacity" => Kind::Int,
                        "is_empty" => Kind::Bool,
                        "classify" => Kind::Unknown,
                        _ if VALUE_TESTS.contains(&name.as_str()) => Kind::Bool,
                        _ if INDEX_VALUE_METHODS.contains(&name.as_str()) => Kind::Unknown,
                        _ if INDEX_METHODS.contains(&name.as_str()) => Kind::Int,
                        _ => Kind::Unknown,
                    },
                    MethodKind::Unknown => Kind::Unknown,
                }
            }
            Value::Call { func, .. } => {
                let segments = &func.path.segments;
                if segments.len() >= 2 {
                    kind_of_primitive(&segments[segments.len() - 2].ident.to_string())
                } else {
                    Kind::Unknown
                }
            }
            Value::Construct { .. } => Kind::Float,
            Value::Cast { ty, .. } => kind_of_type(ty),
            Value::Index { base, .. } => match self.kind(base) {
                Kind::Float => Kind::Float,
                _ => Kind::Unknown,
            },
            Value::Field { base, member } => match (self.position_with_value(base), member) {
                (Some(_), syn::Member::Unnamed(i)) if i.index == 0 => Kind::Int,
                (Some(_), syn::Member::Unnamed(i)) if i.index == 1 => Kind::Float,
                _ => Kind::Unknown,
            },
            Value::Tuple(_) => Kind::Unknown,
            Value::Opaque {
                tokens,
                stopped: false,
                ..
            } => {
                // `vec![0.0; n]`: the kind of its elements.
                let mut trees = tokens.clone().into_iter();
                match (trees.next(), trees.next(), trees.next()) {
                    (
                        Some(TokenTree::Ident(i)),
                        Some(TokenTree::Punct(_)),
                        Some(TokenTree::Group(g)),
                    ) if i == "vec" => g
                        .stream()
                        .into_iter()
                        .find_map(|t| match t {
                            TokenTree::Literal(l) => {
                                Some(kind_of_const(&TokenTree::Literal(l).into()))
                            }
                            _ => None,
                        })
                        .unwrap_or(Kind::Unknown),
                    _ => Kind::Unknown,
                }
            }
            Value::Opaque { .. } => Kind::Unknown,
        }
    }

    /// The step origin a value creates, if it is one: a comparison, integer cast, test, position
    /// or rounding of a value that carries gradient.
    fn new_origin(&mut self, stmt: &'a Stmt, value: &'a Value) -> Option<usize> {
        let (cause, place, ops): (Cause, Place, Vec<&Operand>) = match value {
            Value::Binary { op, lhs, rhs } if is_comparison(op) => {
                if !(self.varied(lhs) || self.varied(rhs)) {
                    return None;
                }
                (Cause::Comparison, self.place(stmt), vec![lhs, rhs])
            }
            Value::Cast { arg, ty } => {
                if !self.varied(arg) || kind_of_type(ty) == Kind::Float {
                    return None;
                }
                (Cause::IntegerCast, self.place(stmt), vec![arg])
            }
            Value::Method {
                receiver,
                method,
                args,
                kind,
                ..
            } => {
                let ops: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                if !ops.iter().any(|op| self.varied(op)) {
                    return None;
                }
                let name = method.to_string();
                let cause = match kind {
                    MethodKind::Step if ORDERING_METHODS.contains(&name.as_str()) => Cause::Test,
                    MethodKind::Step => Cause::Rounding,
                    MethodKind::Query if VALUE_TESTS.contains(&name.as_str()) => Cause::Test,
                    MethodKind::Query if INDEX_METHODS.contains(&name.as_str()) => Cause::Position,
                    _ => return None,
                };
                (cause, Place::at(method.span()), ops)
            }
            Value::Opaque {
                tokens,
                reads,
                stopped: true,
            } if !is_stop_gradient(tokens) && is_match_test(tokens) => {
                let varied: Vec<Operand> = reads
                    .iter()
                    .filter(|v| self.activity.varied.contains(v))
                    .map(|v| Operand::Var(*v))
                    .collect();
                if varied.is_empty() {
                    return None;
                }
                let params = self.deps_of(&varied.iter().collect::<Vec<_>>());
                let text = format!("match on {}", self.render_operand(&varied[0], 2));
                let key = (stmt_key(stmt), usize::MAX);
                return Some(self.intern(
                    key,
                    Cause::Comparison,
                    Place::at(stmt.span),
                    text,
                    params,
                ));
            }
            _ => return None,
        };
        let params = self.deps_of(&ops);
        let text = self.render_value(value, 3);
        Some(self.intern((stmt_key(stmt), usize::MAX), cause, place, text, params))
    }

    fn intern(
        &mut self,
        key: (usize, usize),
        cause: Cause,
        place: Place,
        text: String,
        params: BTreeSet<usize>,
    ) -> usize {
        if let Some(&o) = self.origin_at.get(&key) {
            return o;
        }
        self.origins.push(StepOrigin {
            cause,
            place,
            text,
            params,
        });
        let o = self.origins.len() - 1;
        self.origin_at.insert(key, o);
        self.changed = true;
        o
    }

    /// An `if` on a step condition: the variables it sets only to values that carry no gradient
    /// become step values themselves.
    fn branch(
        &mut self,
        stmt: &'a Stmt,
        cond: &Operand,
        then_block: &'a Block,
        else_block: &'a Block,
    ) {
        let Some(condition) = self.taint_of(cond) else {
            return;
        };
        let control = self.control(cond, else_block);
        let mut defined = HashSet::new();
        defined_in(then_block, &mut defined);
        defined_in(else_block, &mut defined);
        let mut assigned = Vec::new();
        assigned_in(then_block, &mut assigned);
        assigned_in(else_block, &mut assigned);
        let mut seen = HashSet::new();
        for var in assigned {
            if defined.contains(&var) || !seen.insert(var) {
                continue;
            }
            if self.activity.varied.contains(&var) || self.taint[var.0].is_some() {
                continue;
            }
            if self.kinds[var.0] == Kind::Bool {
                // `a && b`, `done = true`: a decision, still the condition's step.
                self.set_taint(var, Some(condition));
                continue;
            }
            if control != Control::User {
                continue;
            }
            let declared = self.defs.get(&var).map(|s| s.span).unwrap_or(stmt.span);
            // A `match` is lowered to `if`s testing `matches!(scrutinee, pattern)`.
            let from_match = cond.var().and_then(|c| self.def_value(c)).is_some_and(|v| {
                matches!(v, Value::Opaque { tokens, stopped: true, .. } if is_match_test(tokens))
            });
            let keyword = if from_match { "match" } else { "if" };
            let place = if self.is_value_branch(var) {
                Place::at(declared)
            } else {
                Place::at(stmt.span)
            };
            let text = self.body.var(var).user_name.clone().unwrap_or_default();
            let params = self.origins[condition].params.clone();
            let o = self.intern(
                (stmt_key(stmt), var.0),
                Cause::Branch {
                    keyword,
                    condition,
                    var,
                },
                place,
                text,
                params,
            );
            self.set_taint(var, Some(o));
        }
    }

    /// Whether an `if` in the IR is the user's or the lowering's loop machinery.
    fn control(&self, cond: &Operand, else_block: &Block) -> Control {
        // `while c { .. }` becomes `if c { .. } else { go = false }`.
        if let [Stmt {
            kind:
                StmtKind::Assign {
                    var,
                    value: Value::Use(Operand::Const(_)),
                },
            ..
        }] = else_block.as_slice()
        {
            if self.flags.contains(var) {
                return Control::Loop;
            }
        }
        let Some(c) = cond.var() else {
            return Control::User;
        };
        if self.flags.contains(&c) {
            return Control::Loop;
        }
        match self.def_value(c) {
            // The guard after `break`/`continue`/`return`: `!returned && go && !skip`.
            Some(Value::Opaque {
                tokens,
                stopped: true,
                ..
            }) if is_guard(tokens) => Control::Loop,
            // A snapshot of a loop flag.
            Some(Value::Use(Operand::Var(f))) if self.flags.contains(f) => Control::Loop,
            _ => Control::User,
        }
    }

    /// An `if`/`match` result: a temporary declared without a value and set in the arms.
    fn is_value_branch(&self, var: VarId) -> bool {
        self.body.var(var).origin == Origin::Temp
            && matches!(
                self.defs.get(&var).map(|s| &s.kind),
                Some(StmtKind::Declare { .. })
            )
    }

    // ----- places and texts -------------------------------------------------------------------

    /// The user tokens a statement came from, as far as the IR remembers them: a statement's span
    /// is its expression's first token, so the end comes from the value's last token.
    fn place(&self, stmt: &Stmt) -> Place {
        let start = stmt.span;
        let group = is_group(start);
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => match value {
                Value::Cast { ty, .. } => Place::range(start, last_span(&ty.to_token_stream())),
                Value::Method { method, .. } => Place::range(start, method.span()),
                Value::Call { func, .. } | Value::Construct { func, .. } => {
                    Place::range(start, last_span(&func.to_token_stream()))
                }
                Value::Binary { op, rhs, .. } => {
                    if group {
                        return Place::at(start);
                    }
                    match self.end_of(rhs, 3) {
                        Some(end) => Place::range(start, end),
                        None => Place::at(op_span(op)),
                    }
                }
                _ => Place::at(start),
            },
            _ => Place::at(start),
        }
    }

    fn end_of(&self, op: &Operand, depth: usize) -> Option<Span> {
        match op {
            Operand::Const(c) => Some(last_span(c)),
            Operand::Var(v) | Operand::Ref(v, _) => {
                let var = self.body.var(*v);
                if var.origin != Origin::Temp || depth == 0 {
                    return None;
                }
                let stmt = self.defs.get(v)?;
                if is_group(stmt.span) {
                    return Some(stmt.span);
                }
                match &stmt.kind {
                    StmtKind::Let { value, .. } => match value {
                        Value::Cast { ty, .. } => Some(last_span(&ty.to_token_stream())),
                        Value::Method { method, .. } => Some(method.span()),
                        Value::Call { func, .. } | Value::Construct { func, .. } => {
                            Some(last_span(&func.to_token_stream()))
                        }
                        Value::Binary { rhs, .. } => self.end_of(rhs, depth - 1),
                        Value::Unary { arg, .. } => self.end_of(arg, depth - 1),
                        _ => None,
                    },
                    _ => None,
                }
            }
        }
    }

    fn render_operand(&self, op: &Operand, depth: usize) -> String {
        match op {
            Operand::Const(c) => tokens_text(c),
            Operand::Ref(v, _) => format!("&{}", self.render_var(*v, depth)),
            Operand::Var(v) => self.render_var(*v, depth),
        }
    }

    fn render_var(&self, v: VarId, depth: usize) -> String {
        let var = self.body.var(v);
        if let Some(name) = &var.user_name {
            return name.clone();
        }
        match self.def_value(v) {
            Some(value) if depth > 0 => {
                let text = self.render_value(value, depth - 1);
                if needs_parens(value) {
                    format!("({text})")
                } else {
                    text
                }
            }
            _ => "..".to_string(),
        }
    }

    /// The user's expression, re-rendered from the IR (temporaries inlined).
    fn render_value(&self, value: &Value, depth: usize) -> String {
        let r = |op: &Operand| self.render_operand(op, depth);
        let list = |ops: &[Operand]| ops.iter().map(r).collect::<Vec<_>>().join(", ");
        match value {
            Value::Use(op) => r(op),
            Value::Binary { op, lhs, rhs } => {
                format!(
                    "{} {} {}",
                    r(lhs),
                    tokens_text(&op.to_token_stream()),
                    r(rhs)
                )
            }
            Value::Unary { op, arg } => {
                let sign = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                    UnOp::Deref => "*",
                };
                format!("{sign}{}", r(arg))
            }
            Value::Method {
                receiver,
                method,
                args,
                ..
            } => {
                // `(-x).sin()`, not `-x.sin()`.
                let recv = match receiver.var().and_then(|v| self.def_value(v)) {
                    Some(Value::Unary { .. })
                        if self
                            .body
                            .var(receiver.var().unwrap_or(VarId(0)))
                            .user_name
                            .is_none() =>
                    {
                        format!("({})", r(receiver))
                    }
                    _ => r(receiver),
                };
                format!("{recv}.{method}({})", list(args))
            }
            Value::Call { func, args } | Value::Construct { func, args } => {
                format!("{}({})", tokens_text(&func.to_token_stream()), list(args))
            }
            Value::Cast { arg, ty } => {
                format!("{} as {}", r(arg), tokens_text(&ty.to_token_stream()))
            }
            Value::Index { base, index } => format!("{}[{}]", r(base), r(index)),
            Value::Field { base, member } => {
                format!("{}.{}", r(base), tokens_text(&member.to_token_stream()))
            }
            Value::Tuple(items) => format!("({})", list(items)),
            Value::Opaque { tokens, .. } if is_stop_gradient(tokens) => {
                format!("stop_gradient{}", tokens_text(tokens))
            }
            Value::Opaque { tokens, .. } => tokens_text(tokens),
        }
    }

    /// Like [`Flow::render_operand`], without parentheses around the whole.
    fn render_plain(&self, op: &Operand, depth: usize) -> String {
        match op {
            Operand::Var(v) if self.body.var(*v).user_name.is_none() => match self.def_value(*v) {
                Some(value) => self.render_value(value, depth),
                None => self.render_operand(op, depth),
            },
            other => self.render_operand(other, depth),
        }
    }
}

fn needs_parens(value: &Value) -> bool {
    matches!(value, Value::Binary { .. } | Value::Cast { .. })
}

/// Variables a block defines (`let`), at any depth.
fn defined_in(block: &Block, out: &mut HashSet<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => {
                out.insert(*var);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                defined_in(then_block, out);
                defined_in(else_block, out);
            }
            StmtKind::For { var, body, .. } => {
                out.insert(*var);
                defined_in(body, out);
            }
            StmtKind::Loop { body, .. } => defined_in(body, out),
            _ => {}
        }
    }
}

/// Variables a block overwrites (assignments, element writes, pushes), at any depth.
fn assigned_in(block: &Block, out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Assign { var, .. } => out.push(*var),
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => out.push(*base),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                assigned_in(then_block, out);
                assigned_in(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => assigned_in(body, out),
            _ => {}
        }
    }
}

/// `stop_gradient(..)` contents are kept as one parenthesized group.
fn is_stop_gradient(tokens: &TokenStream) -> bool {
    let mut trees = tokens.clone().into_iter();
    matches!(
        (trees.next(), trees.next()),
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Parenthesis
    )
}

/// The lowering's `matches!(scrutinee, pattern)` test of a `match` arm.
fn is_match_test(tokens: &TokenStream) -> bool {
    tokens
        .clone()
        .into_iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i == "matches"))
}

/// The lowering's guard after `break`/`continue`/`return`: flags joined by `!` and `&&`.
fn is_guard(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().all(|t| match t {
        TokenTree::Ident(_) => true,
        TokenTree::Punct(p) => matches!(p.as_char(), '!' | '&'),
        _ => false,
    })
}

/// Whether a span is a whole delimited group (`(x > 0.5)`), whose text starts with its
/// delimiter.
fn is_group(span: Span) -> bool {
    span.source_text().is_some_and(|t| {
        t.len() > 1 && (t.starts_with('(') || t.starts_with('[') || t.starts_with('{'))
    })
}

fn last_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .last()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

fn op_span(op: &BinOp) -> Span {
    op.to_token_stream()
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

/// Tokens as a user would write them: `f64::consts::PI`, not `f64 :: consts :: PI`.
fn tokens_text(tokens: &TokenStream) -> String {
    let mut out = String::new();
    let mut space = false;
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(i) => {
                if space {
                    out.push(' ');
                }
                out.push_str(&i.to_string());
                space = true;
            }
            TokenTree::Literal(l) => {
                if space {
                    out.push(' ');
                }
                out.push_str(&l.to_string());
                space = true;
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                match c {
                    ':' | '.' | '&' | '!' | '#' => {
                        if c == '&' && space && !out.ends_with(' ') {
                            out.push(' ');
                        }
                        out.push(c);
                        space = false;
                    }
                    ',' | ';' => {
                        out.push(c);
                        space = true;
                    }
                    _ => {
                        if !out.is_empty() && !out.ends_with(' ') && !out.ends_with(c) {
                            out.push(' ');
                        }
                        out.push(c);
                        space = p.spacing() == proc_macro2::Spacing::Alone;
                        if space {
                            out.push(' ');
                            space = false;
                        }
                    }
                }
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                if space && g.delimiter() == Delimiter::Brace {
                    out.push(' ');
                }
                out.push_str(open);
                out.push_str(&tokens_text(&g.stream()));
                out.push_str(close);
                space = true;
            }
        }
    }
    out.trim().to_string()
}

/// The same names without the word "parameter", for "flows back to `x`".
fn params_names(sig: &Signature, params: &BTreeSet<usize>) -> String {
    let names: Vec<String> = params
        .iter()
        .filter_map(|i| sig.params.get(*i))
        .map(|p| format!("`{}`", p.ident))
        .collect();
    match names.as_slice() {
        [] => "the parameters".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

// ----- reporting ------------------------------------------------------------------------------

/// How a step value becomes part of the computed value.
#[derive(Clone, Copy)]
enum Entry {
    /// `as f64`, `f64::from`, a float method or ascription.
    Number,
    /// Arithmetic (or a call) with values that carry gradient.
    Combined,
    /// It is the function's result.
    Result,
}

struct Checker<'a, 'e> {
    flow: Flow<'a>,
    errors: &'e mut Errors,
    /// Step origins already reported: one error per mistake, not one per use.
    reported: HashSet<usize>,
    /// Parameters some error already names: they get no second error for not reaching the result.
    blamed: BTreeSet<usize>,
    /// Values whose construction is already reported (a tuple, a call nabla cannot
    /// differentiate): reading their fields is not reported again.
    rejected_values: HashSet<VarId>,
    /// The callees of calls differentiated through.
    differentiated_calls: Vec<syn::Path>,
}

impl Checker<'_, '_> {
    fn sig(&self) -> &Signature {
        self.flow.sig
    }

    fn varied(&self, op: &Operand) -> bool {
        self.flow.varied(op)
    }

    fn useful(&self, v: VarId) -> bool {
        self.flow.activity.useful.contains(&v)
    }

    fn blame(&mut self, params: &BTreeSet<usize>) {
        self.blamed.extend(params.iter().copied());
    }

    fn block(&mut self, block: &Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, ty, value } => {
                    self.value(stmt, *var, value, ty.as_ref());
                }
                StmtKind::Assign { var, value } => self.value(stmt, *var, value, None),
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    self.block(then_block);
                    self.block(else_block);
                    self.value_branches(stmt);
                }
                StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.block(body),
                StmtKind::SetIndex { .. }
                | StmtKind::Push { .. }
                | StmtKind::Declare { .. }
                | StmtKind::Opaque { .. } => {}
            }
        }
    }

    fn value(&mut self, stmt: &Stmt, dst: VarId, value: &Value, ty: Option<&Type>) {
        self.immediate(stmt, dst, value);
        self.entry(stmt, dst, value, ty);
    }

    /// Constructs that lose gradient wherever they meet a value that carries it.
    fn immediate(&mut self, stmt: &Stmt, dst: VarId, value: &Value) {
        let span = stmt.span;
        match value {
            Value::Method {
                receiver,
                method,
                args,
                kind,
                ..
            } => {
                let ops: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                let varied: Vec<&Operand> =
                    ops.iter().copied().filter(|op| self.varied(op)).collect();
                if varied.is_empty() {
                    return;
                }
                let name = method.to_string();
                let params = self.flow.deps_of(&varied);
                let text = self.flow.render_value(value, 3);
                let from = params_names(self.sig(), &params);
                let place = Place::at(method.span());
                match kind {
                    // `x.signum() * x`, `if .. { r.signum() } else { r }`: the step only scales or
                    // selects a value that carries gradient.
                    MethodKind::Step
                        if GATING_STEP_METHODS.contains(&name.as_str())
                            && args.is_empty()
                            && self.flow.gates.only_gates(dst)
                            && self.flow.reach_result(&params) => {}
                    MethodKind::Step if !ORDERING_METHODS.contains(&name.as_str()) => {
                        let (message, help) =
                            step_method_message(&name, &text, receiver, args, &self.flow, &from);
                        self.errors.push_at(place, message, help);
                        if let Some(o) = self.flow.taint[dst.0] {
                            self.reported.insert(o);
                        }
                        self.blame(&params);
                    }
                    // Deny by default: a method nabla has no rule for may change its receiver
                    // in place (`v.sort_by(..)`, `m.normalize_mut()`), so it is an error on a
                    // value that carries gradient even where its result is never used.
                    MethodKind::Unknown if !self.flow.feeds_unknown.contains(&dst) => {
                        let (message, help) = if self.useful(dst) {
                            (
                                format!("no derivative is known for `{text}`: `{name}` is not a method nabla differentiates, and gradient would flow into it from {from}"),
                                format!("compute it with differentiable operations or call a #[differentiable] or #[custom_gradient] function; if no gradient is meant to flow through it, write `stop_gradient({text})`"),
                            )
                        } else {
                            let dots = if args.is_empty() { "" } else { ".." };
                            let call =
                                format!("{}.{name}({dots})", self.flow.render_operand(receiver, 2));
                            (
                                format!("`{name}` is not a method nabla differentiates, and `{call}` is called on a value that carries gradient from {from}: if it changes that value in place, the gradient would silently be wrong"),
                                "write the change with element reads and writes (`v[i] = ..`) or with the in-place methods nabla differentiates (see the error catalogue); if no gradient is meant to flow through it, call it on `stop_gradient(..)` of the value".to_string(),
                            )
                        };
                        self.errors.push_at(place, message, help);
                        self.blame(&params);
                        self.rejected_values.insert(dst);
                    }
                    _ => {}
                }
            }
            Value::Call { func, args } => {
                let varied: Vec<&Operand> = args.iter().filter(|op| self.varied(op)).collect();
                if varied.is_empty() || !self.useful(dst) {
                    return;
                }
                let Some(callee) = foreign_callee(&func.path) else {
                    // Whether a user function is #[differentiable] is rustc's to find out: the
                    // reverse sweep calls its companion `<path>::__vjp` (see docs/errors.md).
                    self.differentiated_calls.push(func.path.clone());
                    return;
                };
                let params = self.flow.deps_of(&varied);
                let from = params_names(self.sig(), &params);
                let path = tokens_text(&func.path.to_token_stream());
                let text = self.flow.render_value(value, 3);
                let stop = format!(
                    "if no gradient is meant to flow through it, write `stop_gradient({text})`"
                );
                let (message, help) = match callee {
                    Callee::FloatConversion(ty) => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!(
                            "convert between float types with `as`: `{} as {ty}`",
                            self.flow.render_operand(varied[0], 2)
                        ),
                    ),
                    Callee::Matrix => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!("build vectors and matrices from their elements with `::new(..)` (`Vector3::new(a, b, c)`), or take them as parameters; {stop}"),
                    ),
                    Callee::Associated => (
                        format!("`{path}` is an associated function, and nabla differentiates calls only to free functions that are #[differentiable] or #[custom_gradient]; gradient would flow into it from {from}"),
                        format!("make it a free #[differentiable] function; {stop}"),
                    ),
                    Callee::Constructor => (
                        format!("`{path}(..)` builds a value nabla cannot differentiate through, and gradient would flow into it from {from}"),
                        "pass the values that carry gradient separately".to_string(),
                    ),
                    Callee::Library => (
                        format!("`{path}` has no derivative in nabla, and gradient would flow into it from {from}"),
                        format!("call a #[differentiable] or #[custom_gradient] function instead; {stop}"),
                    ),
                };
                self.errors.push_at(self.flow.place(stmt), message, help);
                self.blame(&params);
                self.rejected_values.insert(dst);
            }
            Value::Binary {
                op: BinOp::Rem(_),
                lhs,
                rhs,
            } if self.varied(lhs) || self.varied(rhs) => {
                let params = self.flow.deps_of(&[lhs, rhs]);
                let (l, r) = (
                    self.flow.render_operand(lhs, 2),
                    self.flow.render_operand(rhs, 2),
                );
                self.errors.push_at(
                    self.flow.place(stmt),
                    format!("`{l} % {r}` has no derivative rule in nabla, so no gradient would flow back to {}", params_names(self.sig(), &params)),
                    format!("write `{l} - stop_gradient(({l} / {r}).trunc()) * {r}`: the same value, with derivative 1 in `{l}`"),
                );
                self.blame(&params);
            }
            Value::Field { base, member } => {
                let field = tokens_text(&member.to_token_stream());
                let rejected = base
                    .var()
                    .is_some_and(|v| self.rejected_values.contains(&v));
                if self.varied(base) && !rejected {
                    let base_text = self.flow.render_operand(base, 2);
                    self.errors.push(
                        span,
                        format!("field access `{base_text}.{field}` on a value that carries gradient is not supported in #[differentiable] functions"),
                        "pass the fields as separate parameters, or bind a tuple with `let (a, b) = ..`",
                    );
                    self.blame(&self.flow.deps_of(&[base]));
                } else if let Some(Value::Method {
                    receiver, method, ..
                }) = self.flow.position_with_value(base)
                {
                    if matches!(member, syn::Member::Unnamed(i) if i.index == 1)
                        && self.flow.reads[dst.0] > 0
                    {
                        let v = self.flow.render_operand(receiver, 2);
                        let reduction = if method == "argmax" { "max" } else { "min" };
                        self.blame(&self.flow.deps_of(&[receiver]));
                        self.errors.push(
                            method.span(),
                            format!("the value that `{v}.{method}()` returns beside the index carries no gradient in nabla, so nothing would flow back to `{v}` through it"),
                            format!("read the element through the index, `let (i, _) = {v}.{method}(); {v}[i]`, or use `{v}.{reduction}()`, whose gradient flows to that element"),
                        );
                    }
                }
            }
            Value::Opaque {
                reads,
                stopped: false,
                ..
            } => {
                let varied: Vec<Operand> = reads
                    .iter()
                    .filter(|v| self.flow.activity.varied.contains(v))
                    .map(|v| Operand::Var(*v))
                    .collect();
                if !varied.is_empty() {
                    let params = self.flow.deps_of(&varied.iter().collect::<Vec<_>>());
                    self.errors.push(
                        span,
                        format!("`vec![..]` of values that carry gradient (from {}) is not supported in #[differentiable] functions", params_names(self.sig(), &params)),
                        "create the buffer with `vec![0.0; n]` and assign its elements, or `push` them",
                    );
                    self.blame(&params);
                }
            }
            Value::Tuple(items) if items.iter().any(|i| self.varied(i)) => {
                let varied: Vec<&Operand> = items.iter().filter(|op| self.varied(op)).collect();
                let params = self.flow.deps_of(&varied);
                self.errors.push(
                    span,
                    "a tuple of values that carry gradient is not supported in #[differentiable] functions",
                    "bind each value with its own `let`, or destructure right away: `let (a, b) = (x, y);`",
                );
                self.blame(&params);
                self.rejected_values.insert(dst);
            }
            Value::Cast { ty, .. } if matches!(strip(ty), Type::Ptr(_)) => {
                self.errors.push_at(
                    self.flow.place(stmt),
                    "raw pointers are not supported in #[differentiable] functions",
                    "keep pointer code in a function called on values that carry no gradient",
                );
            }
            _ => {}
        }
    }

    /// A step value becoming part of the computed value.
    fn entry(&mut self, stmt: &Stmt, dst: VarId, value: &Value, ty: Option<&Type>) {
        let flow = &self.flow;
        let carrying = flow.carrying(value);
        let tainted: Vec<(usize, &Operand)> = carrying
            .iter()
            .copied()
            .filter(|op| !flow.varied(op))
            .filter_map(|op| flow.taint_of(op).map(|o| (o, op)))
            .filter(|(o, _)| !self.reported.contains(o))
            .collect();
        let Some(&(origin, operand)) = tainted.first() else {
            return;
        };
        // `mask * x`: the step value scales a value that carries gradient.
        let gated = |o: usize| flow.reach_result(&flow.origins[o].params);
        if tainted
            .iter()
            .all(|(o, op)| is_gate(value, op, flow.activity) && gated(*o))
        {
            return;
        }
        let ascribed = ty.map(kind_of_type).unwrap_or(Kind::Unknown);
        let becomes_float = (flow.kinds[dst.0] == Kind::Float || ascribed == Kind::Float)
            && tainted.iter().any(|(_, op)| flow.kind(op) != Kind::Float);
        // `(x > 0.0) as f64`, where the number only gates values that carry gradient.
        if becomes_float && flow.gates.only_gates(dst) && gated(origin) {
            return;
        }
        let differentiable = match value {
            Value::Binary { op, .. } => is_arithmetic(op),
            Value::Method { kind, .. } => {
                matches!(
                    kind,
                    MethodKind::Float(_) | MethodKind::Trait(_) | MethodKind::Map(_)
                )
            }
            // An integer argument of a call is a count or an index (`series(x, n)`); a float
            // argument is part of the arithmetic.
            Value::Call { .. } => tainted.iter().any(|(_, op)| flow.kind(op) == Kind::Float),
            Value::Construct { .. } => true,
            _ => false,
        };
        let combined = differentiable && carrying.iter().any(|op| flow.varied(op));
        let entry = if becomes_float {
            Entry::Number
        } else if combined {
            Entry::Combined
        } else {
            return;
        };
        let named = |op: &Operand| {
            op.var()
                .is_some_and(|v| flow.body.var(v).user_name.is_some())
        };
        let place = match value {
            Value::Use(_) => Place::at(stmt.span),
            // `scale * x`: the step value itself, when it is the named left operand.
            Value::Binary { lhs, .. }
                if matches!(entry, Entry::Combined)
                    && lhs.var() == operand.var()
                    && named(lhs)
                    && !is_group(stmt.span) =>
            {
                Place::at(stmt.span)
            }
            _ => flow.place(stmt),
        };
        let subject = self.subject(origin, operand);
        // `u8::from(a > 0.0) + u8::from(b > 0.0)` depends on both comparisons; the value keeps
        // the first as its origin, the message names every parameter.
        let others: BTreeSet<usize> = tainted
            .iter()
            .filter_map(|(_, op)| op.var())
            .flat_map(|v| flow.touch[v.0].iter().copied())
            .collect();
        self.report_step(origin, place, entry, subject, others);
    }

    /// What to call a step value in a message: the variable when it has a name, else the origin.
    fn subject(&self, origin: usize, operand: &Operand) -> Option<String> {
        let v = operand.var()?;
        let name = self.flow.body.var(v).user_name.clone()?;
        match &self.flow.origins[origin].cause {
            Cause::Branch { var, .. } if *var == v => None,
            _ => Some(name),
        }
    }

    /// Value-form `if`/`match` that pick floats without gradient on a step condition: reported
    /// at the `if` wherever the value goes.
    fn value_branches(&mut self, stmt: &Stmt) {
        let key = stmt_key(stmt);
        let mut found: Vec<usize> = self
            .flow
            .origin_at
            .iter()
            .filter(|((k, _), _)| *k == key)
            .map(|(_, o)| *o)
            .collect();
        found.sort();
        for o in found {
            let Cause::Branch { var, .. } = self.flow.origins[o].cause else {
                continue;
            };
            if self.reported.contains(&o)
                || !self.flow.is_value_branch(var)
                || self.flow.kinds[var.0] != Kind::Float
                || (self.flow.gates.only_gates(var)
                    && self.flow.reach_result(&self.flow.origins[o].params))
            {
                continue;
            }
            let place = self.flow.origins[o].place;
            self.report_step(o, place, Entry::Number, None, BTreeSet::new());
        }
    }

    /// A result that is a step value.
    fn result(&mut self) {
        let Some(v) = self.flow.body.result.var() else {
            return;
        };
        if self.flow.activity.varied.contains(&v) {
            return;
        }
        let Some(o) = self.flow.taint[v.0] else {
            return;
        };
        if self.reported.contains(&o) {
            return;
        }
        let place = self.flow.origins[o].place;
        let others = self.flow.touch[v.0].clone();
        self.report_step(o, place, Entry::Result, None, others);
    }

    fn report_step(
        &mut self,
        origin: usize,
        place: Place,
        entry: Entry,
        subject: Option<String>,
        others: BTreeSet<usize>,
    ) {
        self.reported.insert(origin);
        let flow = &self.flow;
        let o = &flow.origins[origin];
        let mut params = o.params.clone();
        params.extend(others);
        // "comes from comparisons such as `a > 0.0`" when the value mixes several.
        let several = params.len() > o.params.len();
        let the = |what: &str| {
            if several {
                format!("{what}s such as")
            } else {
                format!("the {what}")
            }
        };
        let names = params_names(flow.sig, &params);
        let how = match entry {
            Entry::Number => "is turned into a number here",
            Entry::Combined => "is used in arithmetic with values that carry gradient here",
            Entry::Result => "is the function's result",
        };
        // "the comparison `x > y` is turned into a number here" or, for a named variable,
        // "`a` comes from the comparison `x > y` and is turned into a number here".
        let sentence = |what: String, verb: &str| match &subject {
            Some(s) => format!("`{s}` {verb} {what} and {how}"),
            None if several => format!("{what} {}", how.replacen("is ", "are ", 1)),
            None => format!("{what} {how}"),
        };
        let (message, help) = match &o.cause {
            Cause::Comparison => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("{} `{}`", the("comparison"), o.text), "comes from")
                ),
                comparison_help(flow, origin),
            ),
            Cause::Test => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(
                        format!("{} `{}`", the(test_word(&o.text)), o.text),
                        "comes from"
                    )
                ),
                if o.text.contains("cmp(") {
                    format!("an ordering is a step function, with derivative zero wherever it is defined; branch on it (`match {} {{ .. }}`) with arms that carry gradient, or write `stop_gradient(..)` around it if a constant is intended", o.text)
                } else {
                    format!("a test of a value is a step function, with derivative zero wherever it is defined; branch on it (`if {} {{ .. }} else {{ .. }}`) with arms that carry gradient, or write `stop_gradient(..)` around it if a constant is intended", o.text)
                },
            ),
            Cause::IntegerCast => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("{} `{}`", the("integer cast"), o.text), "comes from")
                ),
                format!("a cast to an integer type is a step function, with derivative zero wherever it is defined; an integer is fine as an index or a count, but if it is meant as a constant number write `stop_gradient({t})`; for a straight-through estimator of rounding write `v + stop_gradient(v.trunc() - v)`", t = o.text),
            ),
            Cause::Position => (
                format!(
                    "{}, but a position carries no gradient, so nothing flows back to {names} through it",
                    sentence(format!("the index from `{}`", o.text), "is")
                ),
                "use the index to select an element (`v[i]`), whose gradient flows; if the position itself is meant as a constant number, write `stop_gradient(..)` around it".to_string(),
            ),
            Cause::Rounding => (
                format!(
                    "{}, so no gradient flows back to {names} through it",
                    sentence(format!("`{}`", o.text), "comes from")
                ),
                "rounding is a step function; write `stop_gradient(..)` around it if a constant is intended".to_string(),
            ),
            Cause::Branch {
                keyword,
                condition,
                var,
            } => {
                let cond = &flow.origins[*condition];
                let cond_text = match cond.cause {
                    Cause::Comparison if cond.text.starts_with("match on ") => {
                        format!("a `{}`", cond.text)
                    }
                    Cause::Comparison => format!("the comparison `{}`", cond.text),
                    Cause::Test => format!("the {} `{}`", test_word(&cond.text), cond.text),
                    Cause::Position => format!("the index from `{}`", cond.text),
                    _ => format!("`{}`", cond.text),
                };
                let arms = self.arm_values(*var);
                let values = if arms.is_empty() {
                    "values that carry no gradient".to_string()
                } else {
                    format!("{}, which carry no gradient", and_list(&arms))
                };
                let name = flow.body.var(*var).user_name.clone().filter(|n| !n.is_empty());
                if flow.is_value_branch(*var) {
                    let message = format!("this `{keyword}` picks between {values}, on {cond_text}: its value is a step function of {names}, and its gradient is always zero");
                    let help = if *keyword == "match" {
                        format!("put the computation that carries gradient inside the arms, as in `match .. {{ 0 => 2.0 * {x}, _ => {x} }}`; if a constant is intended, write `stop_gradient(..)` around the `match`", x = first_param(flow, &params))
                    } else {
                        branch_help(flow, *condition)
                    };
                    (message, help)
                } else if let Some(name) = name {
                    let start = match &subject {
                        Some(s) => format!("`{s}` is computed from `{name}` and {how}"),
                        None => format!("`{name}` {how}"),
                    };
                    let set = if arms.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", and_list(&arms))
                    };
                    let help = if flow.kinds[var.0] == Kind::Float {
                        branch_help(flow, *condition)
                    } else {
                        counter_help(flow, *condition, &name)
                    };
                    (
                        format!("{start}, but the `{keyword}` on {cond_text} sets `{name}` only to values that carry no gradient{set}: it is a step function of {names}, and its gradient is always zero"),
                        help,
                    )
                } else {
                    (
                        format!("this `{keyword}` on {cond_text} sets the function's result to {values}: the result is a step function of {names}, and its gradient is always zero"),
                        branch_help(flow, *condition),
                    )
                }
            }
        };
        let message = if several && subject.is_none() {
            message.replace("through it", "through them")
        } else {
            message
        };
        self.errors.push_at(place, message, help);
        self.blame(&params);
    }

    /// The values an `if` assigns to `var`, rendered, for the message.
    fn arm_values(&self, var: VarId) -> Vec<String> {
        let mut out = Vec::new();
        collect_assigned_values(&self.flow.body.block, var, &mut |op| {
            let text = self.flow.render_plain(op, 2);
            if !out.contains(&format!("`{text}`")) && out.len() < 4 {
                out.push(format!("`{text}`"));
            }
        });
        out
    }

    /// Active parameters that never reach the result.
    fn parameters(&mut self) {
        let flow = &self.flow;
        let closure = flow.sig.params.len() == 1
            && flow.sig.params[0].active
            && flow.sig.params[0].tangent.is_none();
        let mut reports = Vec::new();
        for (id, var) in flow.body.vars.iter().enumerate() {
            let Origin::Param(i) = var.origin else {
                continue;
            };
            let Some(param) = flow.sig.params.get(i) else {
                continue;
            };
            if !param.active
                || flow.activity.useful.contains(&VarId(id))
                || self.blamed.contains(&i)
            {
                continue;
            }
            let name = &param.ident;
            let what = if closure {
                format!("the closure parameter `{name}`")
            } else {
                format!("parameter `{name}`")
            };
            let (in_condition, in_stop) = flow.uses_of(i);
            let used = flow.reads[id] > 0;
            let message = if !used {
                format!("{what} is never used, so its gradient would always be zero")
            } else if in_stop && !in_condition {
                format!("{what} is only used inside `stop_gradient(..)`, so its gradient would always be zero")
            } else if in_condition && !in_stop {
                format!("{what} only decides conditions (`if`, `while`, `match`) and never reaches the result through arithmetic, so its gradient would always be zero")
            } else {
                format!("{what} never reaches the result through a differentiable path, so its gradient would always be zero")
            };
            let help = if closure {
                format!("use `{name}` in the closure's result, or map with `|_| ..` if the elements do not matter")
            } else if in_condition && !in_stop {
                format!("a condition picks a branch but passes no gradient to what it tests; if `{name}` is data, mark it `#[no_grad] {name}`, and if it should be trained, use it in the computed value")
            } else if in_stop {
                format!("if `{name}` is meant as a constant, mark it `#[no_grad] {name}`; if it should be trained, use it outside `stop_gradient(..)`")
            } else {
                format!("if `{name}` is data, mark it `#[no_grad] {name}` (or name it `_{name}`); if it should be trained, use it in the computation of the result")
            };
            reports.push((name.span(), message, help));
        }
        for (span, message, help) in reports {
            self.errors.push(span, message, help);
        }
    }
}

impl Flow<'_> {
    /// Whether parameter `i` reaches a condition, and whether it reaches a `stop_gradient(..)`.
    fn uses_of(&self, i: usize) -> (bool, bool) {
        let mut in_condition = false;
        let mut in_stop = false;
        self.visit_uses(&self.body.block, i, &mut in_condition, &mut in_stop);
        (in_condition, in_stop)
    }

    fn visit_uses(&self, block: &Block, i: usize, in_condition: &mut bool, in_stop: &mut bool) {
        let touches = |v: &VarId| self.touch.get(v.0).is_some_and(|t| t.contains(&i));
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                    if let Value::Opaque {
                        tokens,
                        reads,
                        stopped: true,
                    } = value
                    {
                        if is_stop_gradient(tokens) && reads.iter().any(touches) {
                            *in_stop = true;
                        }
                    }
                }
                // `assert!(..)` and other statement macros: checks, like conditions.
                StmtKind::Opaque { reads, .. } if reads.iter().any(touches) => {
                    *in_condition = true;
                }
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    if cond.var().is_some_and(|v| touches(&v)) {
                        *in_condition = true;
                    }
                    self.visit_uses(then_block, i, in_condition, in_stop);
                    self.visit_uses(else_block, i, in_condition, in_stop);
                }
                StmtKind::For { range, body, .. } => {
                    if range.var().is_some_and(|v| touches(&v)) {
                        *in_condition = true;
                    }
                    self.visit_uses(body, i, in_condition, in_stop);
                }
                StmtKind::Loop { body, .. } => self.visit_uses(body, i, in_condition, in_stop),
                _ => {}
            }
        }
    }
}

/// Calls `f` on every value assigned to `var` anywhere in `block`.
fn collect_assigned_values(block: &Block, var: VarId, f: &mut dyn FnMut(&Operand)) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Assign {
                var: v,
                value: Value::Use(op),
            } if *v == var => f(op),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_assigned_values(then_block, var, f);
                collect_assigned_values(else_block, var, f);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                collect_assigned_values(body, var, f)
            }
            _ => {}
        }
    }
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// The smooth surrogate of a comparison `a > b`: `nabla::sigmoid(k * (a - b))`.
fn surrogate(flow: &Flow<'_>, origin: usize) -> Option<String> {
    let o = &flow.origins[origin];
    if !matches!(o.cause, Cause::Comparison) {
        return None;
    }
    // Re-render the comparison's operands from its text: `a > b`.
    for (op, flip) in [
        (" >= ", false),
        (" <= ", true),
        (" > ", false),
        (" < ", true),
    ] {
        if let Some((a, b)) = o.text.split_once(op) {
            let (hi, lo) = if flip { (b, a) } else { (a, b) };
            let zero = |t: &str| t == "0.0" || t == "0";
            let scaled = if zero(lo) {
                if hi.contains(' ') {
                    format!("k * ({hi})")
                } else {
                    format!("k * {hi}")
                }
            } else if zero(hi) {
                if lo.contains(' ') {
                    format!("-k * ({lo})")
                } else {
                    format!("-k * {lo}")
                }
            } else {
                format!("k * ({hi} - {lo})")
            };
            return Some(format!("nabla::sigmoid({scaled})"));
        }
    }
    None
}

fn comparison_help(flow: &Flow<'_>, origin: usize) -> String {
    let text = &flow.origins[origin].text;
    let mut help = format!("a comparison is a step function, with derivative zero wherever it is defined; to switch between expressions, branch with arms that carry gradient (`if {text} {{ .. }} else {{ .. }}`)");
    if let Some(s) = surrogate(flow, origin) {
        help.push_str(&format!("; for a smooth indicator use `{s}`"));
    }
    help.push_str("; if a constant is intended, write `stop_gradient(..)` around it");
    help
}

fn branch_help(flow: &Flow<'_>, condition: usize) -> String {
    let o = &flow.origins[condition];
    let text = &o.text;
    let x = compared_name(text).unwrap_or_else(|| first_param(flow, &o.params));
    let mut help = format!("put the computation that carries gradient inside the arms, as in `if {text} {{ 2.0 * {x} }} else {{ 0.0 }}`");
    if let Some(s) = surrogate(flow, condition) {
        help.push_str(&format!("; for a smooth switch use `{s}`"));
    }
    help.push_str("; if a constant is intended, write `stop_gradient(..)` around the `if`");
    help
}

/// A variable counted or set under a condition: `if p > 0.5 { correct += 1 }`.
fn counter_help(flow: &Flow<'_>, condition: usize, name: &str) -> String {
    let o = &flow.origins[condition];
    let mut help = "a condition decides, but passes no gradient to what it tests".to_string();
    if let Some(s) = surrogate(flow, condition) {
        help.push_str(&format!("; to make `{name}` differentiable, accumulate a smooth indicator such as `{s}` instead"));
    } else {
        help.push_str(&format!("; to make `{name}` differentiable, compute it from values that carry gradient in the arms of `if {} {{ .. }}`", o.text));
    }
    help.push_str(&format!("; if `{name}` is a metric rather than part of the result, compute it outside the #[differentiable] function or write `stop_gradient(..)` around it"));
    help
}

/// The value a comparison tests, when it is a plain name or element (`x` in `x > 0.5`, `w[0]`
/// in `w[0] < 1.0`): what the example in a help should compute with.
fn compared_name(comparison: &str) -> Option<String> {
    let (a, b) = [" >= ", " <= ", " > ", " < ", " == ", " != "]
        .iter()
        .find_map(|op| comparison.split_once(op))?;
    let literal =
        |t: &str| t.parse::<f64>().is_ok() || t.trim_end_matches("f64").parse::<f64>().is_ok();
    let plain = |t: &str| {
        !t.is_empty()
            && t.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
            && t.chars().all(|c| c.is_alphanumeric() || "_[].".contains(c))
    };
    match (literal(a), literal(b)) {
        (false, true) if plain(a) => Some(a.to_string()),
        (true, false) if plain(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_param(flow: &Flow<'_>, params: &BTreeSet<usize>) -> String {
    params
        .iter()
        .filter_map(|i| flow.sig.params.get(*i))
        .map(|p| p.ident.to_string())
        .next()
        .unwrap_or_else(|| "x".to_string())
}

/// What to call a step value from a method: `x.total_cmp(&y)` is an ordering, `x.is_nan()` a test.
fn test_word(text: &str) -> &'static str {
    if text.contains("cmp(") {
        "ordering"
    } else {
        "test"
    }
}

/// "`a` and `b`", "`a`, `b` and `c`".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The message and help for a step method (`round`, `signum`, `%`-like) on a value that carries
/// gradient.
fn step_method_message(
    name: &str,
    text: &str,
    receiver: &Operand,
    args: &[Operand],
    flow: &Flow<'_>,
    from: &str,
) -> (String, String) {
    let x = flow.render_operand(receiver, 2);
    let arg = args
        .first()
        .map(|a| flow.render_operand(a, 2))
        .unwrap_or_else(|| "m".to_string());
    match name {
        "round" | "round_ties_even" | "floor" | "ceil" | "trunc" => (
            format!("`{text}` has derivative zero wherever it is defined, so no gradient flows back to {from} through it"),
            format!("for a straight-through estimator write `{x} + stop_gradient({text} - {x})`; if the rounded value is meant as a constant (an index, a bin), write `stop_gradient({text})`"),
        ),
        "signum" => (
            format!("`{text}` has derivative zero wherever it is defined, so no gradient flows back to {from} through it"),
            format!("for a smooth sign use `(k * {x}).tanh()`; if the sign is meant as a constant, write `stop_gradient({text})`"),
        ),
        "copysign" => (
            format!("`{text}` has no derivative rule in nabla, so no gradient would flow back to {from}"),
            format!("write `{x}.abs() * stop_gradient({arg}.signum())`, which differentiates in `{x}`"),
        ),
        "rem_euclid" => (
            format!("`{text}` has no derivative rule in nabla, so no gradient would flow back to {from}"),
            format!("write `{x} - stop_gradient(({x} / {arg}).floor()) * {arg}`: the same value, with derivative 1 in `{x}`"),
        ),
        "div_euclid" => (
            format!("`{text}` rounds down, so its derivative is zero wherever it is defined and no gradient flows back to {from} through it"),
            format!("if the quotient is meant as a constant, write `stop_gradient({text})`"),
        ),
        "to_bits" | "to_int_unchecked" => (
            format!("`{text}` reinterprets the float as an integer, which has no derivative, so no gradient flows back to {from} through it"),
            format!("compute on the float itself, or write `stop_gradient({text})` if no gradient is meant to flow"),
        ),
        _ => (
            format!("`{text}` has no derivative rule in nabla, so no gradient would flow back to {from} through it"),
            format!("compute on the float itself, or write `stop_gradient({text})` if no gradient is meant to flow"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::errors::Errors;

    /// The messages `#[differentiable]` reports for a function, from every stage up to the checks.
    fn errors_of(source: &str) -> Vec<String> {
        let item: syn::ItemFn = syn::parse_str(source).expect("test source parses");
        let mut errors = Errors::default();
        let sig = crate::parse::signature(&item, &mut errors);
        let body = crate::lower::lower(&item, &sig, &mut errors);
        let activity = crate::activity::analyze(&body, &sig);
        super::check(&body, &sig, &activity, &mut errors);
        errors.messages()
    }

    #[track_caller]
    fn accepted(source: &str) {
        let errors = errors_of(source);
        assert!(
            errors.is_empty(),
            "false positive on\n{source}\n{errors:#?}"
        );
    }

    #[track_caller]
    fn rejected(source: &str, fragment: &str) {
        let errors = errors_of(source);
        assert!(
            errors.iter().any(|e| e.contains(fragment)),
            "expected an error containing {fragment:?} for\n{source}\ngot {errors:#?}"
        );
    }

    #[test]
    fn comparisons_decide_branches_that_carry_gradient() {
        accepted("fn f(x: f64) -> f64 { if x > 0.0 { x } else { 0.01 * x } }");
        accepted("fn f(x: f64) -> f64 { let mut y = 0.0; if x > 0.0 { y = x; } y * 3.0 }");
        accepted(
            "fn f(x: f64, #[no_grad] n: usize) -> f64 {
                let mut y = x;
                for _ in 0..n { if y > 100.0 { return y; } y = y * 3.0; }
                y
            }",
        );
        accepted(
            "fn f(r: f64, #[no_grad] d: f64) -> f64 {
                if r.abs() <= d && d > 0.0 { 0.5 * r * r } else { d * (r.abs() - 0.5 * d) }
            }",
        );
        accepted("fn f(x: f64, #[no_grad] m: u8) -> f64 { match m { 0 => x * x, _ => 3.0 * x } }");
    }

    #[test]
    fn steps_that_scale_or_select_values_with_gradient_are_fine() {
        for source in [
            "fn f(x: f64) -> f64 { let mask = (x > 0.0) as i32 as f64; mask * x }",
            "fn f(x: f64) -> f64 { let s = if x > 0.0 { 1.0 } else { 0.01 }; s * x }",
            "fn f(r: f64) -> f64 { let mut w = 1.0; if r > 1.0 { w = 0.5; } w * r * r }",
            "fn f(x: f64) -> f64 { x.signum() * x }",
            "fn f(x: f64) -> f64 { x / -x.signum() }",
            "fn f(r: f64) -> f64 { if r.abs() > 1.0 { r.signum() } else { r } }",
            "fn f(x: f64) -> f64 { x.is_sign_negative() as i32 as f64 * x }",
        ] {
            accepted(source);
        }
        // The step is the only way `x` reaches the result: its gradient would be zero.
        rejected(
            "fn f(x: f64, y: f64) -> f64 { y * x.signum() }",
            "`x.signum()` has derivative zero",
        );
        rejected(
            "fn f(x: f64, y: f64) -> f64 { let m = (x > 0.0) as i32 as f64; m * y }",
            "the comparison `x > 0.0` is turned into a number",
        );
    }

    #[test]
    fn selections_guards_and_clipping_are_fine() {
        accepted(
            "fn f(xs: &[f64], w: f64, #[no_grad] c: f64) -> f64 {
                let mut best = f64::INFINITY;
                let mut best_i = 0;
                for i in 0..xs.len() {
                    let d = (xs[i] - c).abs();
                    if d < best { best = d; best_i = i; }
                }
                xs[best_i] * w + best
            }",
        );
        accepted(
            "fn f(x: f64) -> f64 {
                if x.is_nan() { return 0.0; }
                let mut v = x * 2.0;
                if v > 1.0 { v = 1.0; }
                v
            }",
        );
        accepted(
            "fn f(x: f64, #[no_grad] label: f64) -> f64 {
                let mask = if label > 0.5 { 1.0 } else { 0.0 };
                mask * x
            }",
        );
        accepted("fn f(x: f64) -> f64 { let n = (x.abs() * 10.0) as usize; series(x, n) }");
    }

    #[test]
    fn iterating_until_convergence_is_fine() {
        accepted(
            "fn f(a: f64) -> f64 {
                let mut y = a;
                let mut steps = 0;
                while (y * y - a).abs() > 1e-12 && steps < 100 {
                    let rate = 1.0 / (steps as f64 + 1.0);
                    y = y - rate * (y - a / y) * 0.5;
                    steps += 1;
                }
                y
            }",
        );
        accepted(
            "fn f(x: f64) -> f64 {
                let mut y = x;
                loop { y = 0.5 * y; if y.abs() < 1.0 { break; } }
                y
            }",
        );
    }

    #[test]
    fn almost_everywhere_differentiable_methods_are_fine() {
        accepted(
            "fn f(x: f64, y: f64) -> f64 {
                x.max(y) + x.min(0.5) + (x - y).abs() + x.clamp(-1.0, 1.0) + (3.0 * y).fract()
            }",
        );
        accepted("fn f(v: &SVector<f64, 3>) -> f64 { let (i, _) = v.argmax(); v[i] * v[i] }");
        accepted("fn f(v: &SVector<f64, 3>) -> f64 { let i = v.iamax(); 3.0 * v[i] + v.max() }");
        accepted("fn f(t: &[f64], x: f64) -> f64 { let i = (x.abs() * 2.0) as usize; t[i] * x }");
    }

    #[test]
    fn steps_of_values_without_gradient_are_fine() {
        accepted(
            "fn f(x: f64, #[no_grad] df: f64, #[no_grad] n: usize, #[no_grad] t: f64) -> f64 {
                let c = ln_gamma(0.5 * df) + n as f64 + (t > 0.5) as i32 as f64 + t.round();
                c * x
            }",
        );
        accepted(
            "fn f(x: f64, w: f64) -> f64 {
                let hard = stop_gradient((x > 0.5) as i32 as f64);
                let other = stop_gradient(plain(w).floor() % 2.0);
                hard * w + other + x + stop_gradient(if x > 0.0 { 1.0 } else { 0.0 })
            }",
        );
        accepted("fn f(x: f64) -> f64 { let q = x + stop_gradient(x.round() - x); q * q }");
    }

    #[test]
    fn comparisons_used_as_numbers() {
        rejected(
            "fn f(pred: f64) -> f64 { (pred > 0.5) as i32 as f64 }",
            "the comparison `pred > 0.5` is turned into a number here",
        );
        rejected(
            "fn f(x: f64, y: f64) -> f64 { f64::from(x > y) + x }",
            "`x > y`",
        );
        rejected(
            "fn f(a: f64, b: f64) -> f64 { let n = u8::from(a > 0.0) + u8::from(b > 0.0); n as f64 }",
            "`a` and `b`",
        );
        rejected(
            "fn f(x: f64) -> f64 { x.is_sign_negative() as i32 as f64 + x }",
            "the test `x.is_sign_negative()`",
        );
        rejected(
            "fn f(x: f64) -> f64 { let b: f64 = (x > 0.5).into(); b + x }",
            "the comparison `x > 0.5`",
        );
    }

    #[test]
    fn branches_that_pick_constants() {
        rejected(
            "fn f(x: f64) -> f64 { if x.sin() > 0.5 { 1.0 } else { 0.0 } }",
            "this `if` picks between `1.0` and `0.0`",
        );
        rejected(
            "fn f(x: f64) -> f64 { match (x * 4.0) as i32 { 0 => 0.1, _ => 1.0 } }",
            "this `match` picks between",
        );
        rejected(
            "fn f(p: &[f64]) -> f64 {
                let mut c = 0;
                for i in 0..p.len() { if p[i] > 0.5 { c += 1; } }
                c as f64
            }",
            "sets `c` only to values that carry no gradient",
        );
        rejected(
            "fn f(x: f64) -> f64 { if x > 0.5 { return 1.0; } 0.0 }",
            "sets the function's result",
        );
        rejected(
            "fn f(x: f64) -> f64 { let mut s = 1.0; if x < 0.0 { s = 0.01; } s + x }",
            "sets `s` only to values that carry no gradient",
        );
    }

    #[test]
    fn integer_casts_and_positions_turned_into_numbers() {
        rejected(
            "fn f(x: f64) -> f64 { let q = (x * 10.0) as i64; q as f64 / 10.0 }",
            "the integer cast `(x * 10.0) as i64`",
        );
        rejected(
            "fn f(v: &SVector<f64, 4>) -> f64 { let (c, _) = v.argmax(); c as f64 }",
            "`c` is the index from `v.argmax()`",
        );
        rejected(
            "fn f(v: &SVector<f64, 3>) -> f64 { let (_, m) = v.argmax(); m }",
            "returns beside the index",
        );
    }

    #[test]
    fn zero_derivative_operations() {
        for method in [
            "round",
            "round_ties_even",
            "floor",
            "ceil",
            "trunc",
            "signum",
        ] {
            rejected(
                &format!("fn f(x: f64) -> f64 {{ x.{method}() + x }}"),
                &format!("`x.{method}()` has derivative zero"),
            );
        }
        rejected(
            "fn f(x: f32) -> f64 { f64::from(x.to_bits()) }",
            "reinterprets",
        );
        rejected(
            "fn f(t: f64) -> f64 { t % 1.0 }",
            "`t % 1.0` has no derivative rule",
        );
        rejected(
            "fn f(t: f64) -> f64 { t.rem_euclid(2.0) }",
            "stop_gradient((t / 2.0).floor())",
        );
    }

    #[test]
    fn calls_without_derivative() {
        rejected(
            "fn f(v: &SVector<f64, 3>) -> f64 { v.product() }",
            "`v.product()`",
        );
        let chained = errors_of("fn f(xs: &[f64]) -> f64 { xs.iter().product() }");
        assert_eq!(chained.len(), 1, "{chained:#?}");
        rejected("fn f(x: f32) -> f64 { f64::from(x) }", "`x as f64`");
        rejected(
            "fn f(x: f64) -> f64 { Model::forward(x) }",
            "`Model::forward` is an associated function",
        );
        rejected(
            "fn f(x: f64) -> f64 { Meters(x).0 }",
            "`Meters(..)` builds a value",
        );
        // A user function may be #[differentiable]: rustc decides, through its companion.
        accepted("fn f(x: f64) -> f64 { helper(x) }");
    }

    #[test]
    fn parameters_that_never_reach_the_result() {
        rejected(
            "fn f(w: f64, b: f64) -> f64 { b * 2.0 }",
            "parameter `w` is never used",
        );
        rejected(
            "fn f(w: f64, t: f64) -> f64 { if t > 1.0 { w * 2.0 } else { w } }",
            "parameter `t` only decides conditions",
        );
        rejected(
            "fn f(w: f64, s: f64) -> f64 { w * stop_gradient(s) }",
            "parameter `s` is only used inside `stop_gradient(..)`",
        );
        // One mistake, one error: a parameter an error already names is not reported again.
        let errors = errors_of("fn f(x: f64) -> f64 { (x > 0.5) as i32 as f64 }");
        assert_eq!(errors.len(), 1, "{errors:#?}");
    }
}
