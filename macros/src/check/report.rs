//! The reporting pass: the `Checker` that walks the body and turns the analysis' facts into
//! errors, and its shared helpers.

use std::collections::{BTreeSet, HashSet};

use syn::Type;

use super::flow::Flow;
use crate::errors::Errors;
use crate::ir::{Block, Kept, Operand, Stmt, StmtKind, Value, VarId, Written};
use crate::parse::Signature;

// ----- reporting ------------------------------------------------------------------------------

/// How a step value becomes part of the computed value.
#[derive(Clone, Copy)]
pub(super) enum Entry {
    /// `as f64`, `f64::from`, a float method or ascription.
    Number,
    /// Arithmetic (or a call) with values that carry gradient.
    Combined,
    /// It is the function's result.
    Result,
}

pub(super) struct Checker<'a, 'e> {
    pub(super) flow: Flow<'a>,
    pub(super) errors: &'e mut Errors,
    /// Step origins already reported: one error per mistake, not one per use.
    pub(super) reported: HashSet<usize>,
    /// Parameters some error already names: they get no second error for not reaching the result.
    pub(super) blamed: BTreeSet<usize>,
    /// Values whose construction is already reported (a tuple, a call nabla cannot
    /// differentiate): reading their fields is not reported again.
    pub(super) rejected_values: HashSet<VarId>,
    /// The callees of calls differentiated through.
    pub(super) differentiated_calls: Vec<syn::Path>,
}

impl Checker<'_, '_> {
    pub(super) fn sig(&self) -> &Signature {
        self.flow.sig
    }

    pub(super) fn varied(&self, op: &Operand) -> bool {
        self.flow.varied(op)
    }

    pub(super) fn useful(&self, v: VarId) -> bool {
        self.flow.activity.useful.contains(&v)
    }

    pub(super) fn blame(&mut self, params: &BTreeSet<usize>) {
        self.blamed.extend(params.iter().copied());
    }

    pub(super) fn block(&mut self, block: &Block) {
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
                StmtKind::Opaque { tokens, reads } => self.kept_changes(tokens, reads),
                StmtKind::SetIndex { .. } | StmtKind::Push { .. } | StmtKind::Declare { .. } => {}
            }
        }
    }

    fn value(&mut self, stmt: &Stmt, dst: VarId, value: &Value, ty: Option<&Type>) {
        match value {
            // A call with a closure is refused whole where gradient flows in, a buffer that
            // carries gradient changed in place among it: only its assignments are left.
            Value::Opaque {
                tokens,
                reads,
                kept: Kept::Checked(Written::WithClosure),
            } => self.kept_assignments(tokens, reads),
            Value::Opaque { tokens, reads, .. } => self.kept_changes(tokens, reads),
            _ => {}
        }
        self.immediate(stmt, dst, value);
        self.entry(stmt, dst, value, ty);
    }
}
