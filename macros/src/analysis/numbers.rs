//! Which values are single numbers (a float or an integer, never a container), as far as
//! syntax tells: recomputing one in the reverse sweep costs one instruction, less than the
//! push and pop of saving it, even when it carries gradient (`d / length` in a loop).
//!
//! A number is a literal, a parameter of a float or integer type, an element read with a
//! matrix index `(i, j)` or from a parameter whose elements are numbers (`xs[i]` of
//! `xs: &[f64]`), a cast to a primitive type, a length, or arithmetic and negation of numbers.
//! Anything else may be a matrix, whose product is not cheap, and is never counted here.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::{BinOp, Type};

use crate::ir::{Block, Body, MethodKind, Operand, Origin, StmtKind, UnOp, Value, VarId};
use crate::parse::{is_float, Signature};

const PRIMITIVES: &[&str] = &[
    "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    "usize",
];

fn is_primitive_number(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .get_ident()
            .is_some_and(|i| PRIMITIVES.contains(&i.to_string().as_str())),
        Type::Paren(p) => is_primitive_number(&p.elem),
        Type::Group(g) => is_primitive_number(&g.elem),
        _ => false,
    }
}

/// `&[f64]`, `[f64; N]`, `Vec<f64>` and references to them: containers of floats.
fn has_float_elements(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => has_float_elements(&r.elem),
        Type::Slice(s) => is_float(&s.elem),
        Type::Array(a) => is_float(&a.elem),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return false;
            };
            last.ident == "Vec"
                && matches!(args.args.first(), Some(syn::GenericArgument::Type(t)) if is_float(t))
        }
        _ => false,
    }
}

/// A literal number, possibly parenthesized or negated.
pub(crate) fn is_number_literal(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Literal(lit)] => matches!(
            syn::parse_str::<syn::Lit>(&lit.to_string()),
            Ok(syn::Lit::Float(_) | syn::Lit::Int(_))
        ),
        [TokenTree::Punct(p), rest @ ..] if p.as_char() == '-' => {
            is_number_literal(&rest.iter().cloned().collect())
        }
        [TokenTree::Group(g)] if g.delimiter() != proc_macro2::Delimiter::Brace => {
            is_number_literal(&g.stream())
        }
        _ => false,
    }
}

/// `vec![x; n]` with `x` a literal number: the tokens of an unlowered `vec!` repetition.
fn is_repeated_number(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let [TokenTree::Ident(name), TokenTree::Punct(bang), TokenTree::Group(group)] =
        trees.as_slice()
    else {
        return false;
    };
    if name != "vec" || bang.as_char() != '!' {
        return false;
    }
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    let Some(semi) = inner
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
    else {
        return false;
    };
    is_number_literal(&inner[..semi].iter().cloned().collect())
}

struct Numbers<'a> {
    body: &'a Body,
    sig: &'a Signature,
    found: HashSet<VarId>,
    /// Pairs `(i, j)`, the indices of matrix elements.
    pairs: HashSet<VarId>,
    /// Whether an element of a matrix counts (its element type is not written anywhere).
    matrix_elements: bool,
    /// Whether elements of local buffers of numbers count ([`primitive_numbers`]).
    buffer_elements: bool,
    /// Local buffers of numbers, `vec![0.0; n]` and the names bound to one: a variable never
    /// changes its type, so whatever is written to such a buffer later is a number of the
    /// literal's type.
    buffers: HashSet<VarId>,
}

impl Numbers<'_> {
    fn operand(&self, op: &Operand) -> bool {
        match op {
            Operand::Var(v) => self.found.contains(v),
            Operand::Const(c) => is_number_literal(c),
            Operand::Ref(..) => false,
        }
    }

    fn param_type(&self, v: VarId) -> Option<&Type> {
        match self.body.var(v).origin {
            Origin::Param(i) => self.sig.params.get(i).map(|p| &p.ty),
            _ => None,
        }
    }

    fn is_matrix_index(&self, index: &Operand) -> bool {
        index.var().is_some_and(|v| self.pairs.contains(&v))
    }

    fn value(&self, value: &Value) -> bool {
        match value {
            Value::Use(op) => self.operand(op),
            Value::Binary { op, lhs, rhs } => {
                matches!(
                    op,
                    BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
                ) && self.operand(lhs)
                    && self.operand(rhs)
            }
            Value::Unary { op: UnOp::Neg, arg } => self.operand(arg),
            Value::Cast { ty, .. } => is_primitive_number(ty),
            Value::Index { base, index } => {
                (self.matrix_elements && self.is_matrix_index(index))
                    || (self.operand(index) && self.is_number_buffer(base))
                    || base
                        .var()
                        .and_then(|b| self.param_type(b))
                        .is_some_and(has_float_elements)
            }
            Value::Method {
                method,
                kind: MethodKind::Query,
                ..
            } => method == "len",
            _ => false,
        }
    }

    fn is_number_buffer(&self, base: &Operand) -> bool {
        self.buffer_elements && base.var().is_some_and(|b| self.buffers.contains(&b))
    }

    /// `vec![0.0; n]`, or a variable that holds one.
    fn makes_number_buffer(&self, value: &Value) -> bool {
        match value {
            Value::Opaque { tokens, .. } => is_repeated_number(tokens),
            Value::Use(op) => self.is_number_buffer(op),
            _ => false,
        }
    }

    fn walk(&mut self, block: &Block) {
        for stmt in block {
            if let StmtKind::Let { var, value, .. } = &stmt.kind {
                if self.buffer_elements && self.makes_number_buffer(value) {
                    self.buffers.insert(*var);
                }
            }
            match &stmt.kind {
                StmtKind::Let { var, value, .. } if !self.body.var(*var).is_location => {
                    if self.value(value) {
                        self.found.insert(*var);
                    }
                    if matches!(value, Value::Tuple(items) if items.len() == 2) {
                        self.pairs.insert(*var);
                    }
                }
                StmtKind::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    self.walk(then_block);
                    self.walk(else_block);
                }
                // The counter of a `for` loop over a range of integers.
                StmtKind::For { var, body, .. } => {
                    self.found.insert(*var);
                    self.walk(body);
                }
                StmtKind::Loop { body, .. } => self.walk(body),
                _ => {}
            }
        }
    }
}

/// The variables that hold single numbers (see the module documentation).
pub(crate) fn numbers(body: &Body, sig: &Signature) -> HashSet<VarId> {
    find(body, sig, false)
}

/// The variables that hold single numbers of a primitive type, so `Copy`, as written: the
/// numbers without elements of matrices, whose element type the function may not name (a
/// `DMatrix<T>` of any `T`). The forward sweep passes them as they are, where another value is
/// passed through the runtime's `Operand` or cloned: less code to expand and to type-check.
pub(crate) fn primitive_numbers(body: &Body, sig: &Signature) -> HashSet<VarId> {
    find(body, sig, true)
}

fn find(body: &Body, sig: &Signature, primitive: bool) -> HashSet<VarId> {
    let mut numbers = Numbers {
        body,
        sig,
        found: HashSet::new(),
        pairs: HashSet::new(),
        matrix_elements: !primitive,
        buffer_elements: primitive,
        buffers: HashSet::new(),
    };
    for (i, var) in body.vars.iter().enumerate() {
        if let Origin::Param(p) = var.origin {
            if !var.is_location
                && sig
                    .params
                    .get(p)
                    .is_some_and(|p| is_primitive_number(&p.ty))
            {
                numbers.found.insert(VarId(i));
            }
        }
    }
    numbers.walk(&body.block);
    numbers.found
}
