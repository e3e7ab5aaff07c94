//! Span placement: the user tokens an error about a statement or value points at.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::BinOp;

use super::flow::Flow;
use crate::errors::Place;
use crate::ir::{Operand, Origin, Stmt, StmtKind, Value};

impl Flow<'_> {
    // ----- places and texts -------------------------------------------------------------------

    /// The user tokens a statement came from, as far as the IR remembers them: a statement's span
    /// is its expression's first token, so the end comes from the value's last token.
    pub(super) fn place(&self, stmt: &Stmt) -> Place {
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
            Operand::Var(v) | Operand::Ref(v, ..) => {
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
}

/// Whether a span is a whole delimited group (`(x > 0.5)`), whose text starts with its
/// delimiter.
pub(super) fn is_group(span: Span) -> bool {
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
