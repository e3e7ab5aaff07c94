//! Value kinds (float, integer, bool) as far as syntax tells: of types, literals, constants,
//! operators and IR values.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{BinOp, Type};

use super::flow::Flow;
use crate::ir::{Kept, MethodKind, Value, Written};
use crate::methods::{ORDERING_METHODS, POSITION_METHODS, POSITION_VALUE_METHODS, VALUE_TESTS};
use crate::parse::float_bearing;

// ----- what the analysis knows about values ---------------------------------------------------

/// What a value is, as far as syntax tells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Unknown,
    /// A float, or a container of floats.
    Float,
    Int,
    Bool,
}

const INTEGERS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
];

pub(super) fn kind_of_type(ty: &Type) -> Kind {
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
pub(super) fn kind_of_primitive(name: &str) -> Kind {
    match name {
        "f32" | "f64" => Kind::Float,
        "bool" => Kind::Bool,
        _ if INTEGERS.contains(&name) => Kind::Int,
        _ => Kind::Unknown,
    }
}

/// The kind of a literal or a constant path.
pub(super) fn kind_of_const(tokens: &TokenStream) -> Kind {
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
        // `-2.0`, a negated literal: the literal's kind.
        [TokenTree::Punct(p), TokenTree::Literal(_)] if p.as_char() == '-' => {
            kind_of_const(&trees[1..].iter().cloned().collect())
        }
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

pub(super) fn is_comparison(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_) | BinOp::Eq(_) | BinOp::Ne(_)
    )
}

pub(crate) fn is_arithmetic(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
    )
}

impl Flow<'_> {
    pub(super) fn value_kind(&self, value: &Value) -> Kind {
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
                        _ if POSITION_VALUE_METHODS.contains(&name.as_str()) => Kind::Unknown,
                        _ if POSITION_METHODS.contains(&name.as_str()) => Kind::Int,
                        _ => Kind::Unknown,
                    },
                    MethodKind::Unknown | MethodKind::User => Kind::Unknown,
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
            Value::Index { base, .. } | Value::Part { base, .. } => match self.kind(base) {
                Kind::Float => Kind::Float,
                _ => Kind::Unknown,
            },
            Value::Field { base, member } => match (self.position_with_value(base), member) {
                (Some(_), syn::Member::Unnamed(i)) if i.index == 0 => Kind::Int,
                (Some(_), syn::Member::Unnamed(i)) if i.index == 1 => Kind::Float,
                _ => Kind::Unknown,
            },
            Value::Tuple(_) | Value::Struct { .. } => Kind::Unknown,
            // An array of floats: its elements are floats (`c[0]` of a Butcher table).
            Value::Array(items)
                if !items.is_empty() && items.iter().all(|i| self.kind(i) == Kind::Float) =>
            {
                Kind::Float
            }
            Value::Array(_) => Kind::Unknown,
            Value::Opaque {
                tokens,
                kept: Kept::Checked(Written::Vec),
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
}
