//! Reuse of a value already computed: `(a - b) * (a - b)` computes `a - b` once.
//!
//! rustc would merge the two subtractions of the forward sweep, but not what the reverse sweep
//! keeps of them: each would be saved on a tape of its own in a loop, and each would get an
//! adjoint of its own. So the lowering gives a value the temporary of an identical one when
//! that temporary is in scope and its operands cannot have changed: single-assignment
//! variables, constants beside them (constants alone take their type from where they are used),
//! and elements of a location as of its last write, within one block.
//!
//! Only arithmetic, negation, the float methods and element reads are reused: they are pure and
//! cannot fail (an element read that is out of bounds fails at the first read already).
//! Comparisons and steps keep their own statements, so that the checks point at each of them.
//! A temporary that a binding takes over as a reference (`let r = &w[i]`) is reused no more.

use quote::ToTokens;
use syn::BinOp;

use super::Lowerer;

use crate::ir::{MethodKind, Operand, StmtKind, UnOp, Value, VarId};

/// Where a reusable value was bound: the block depth, its statement's position in that block,
/// and its temporary. Still in scope while that statement is where it was.
#[derive(Clone, Copy)]
pub(super) struct Computed {
    depth: usize,
    position: usize,
    var: VarId,
    /// It reads an element of a location: reused only in the same block, where no loop can
    /// have written the location since (writes in the block change the key, see `written`).
    same_block: bool,
}

impl Lowerer<'_> {
    /// The value's identity, when it is one that may be reused.
    pub(super) fn reuse_key(&self, value: &Value) -> Option<String> {
        let operand = |op: &Operand| match op {
            Operand::Var(v) if !self.vars[v.0].is_location => Some(format!("v{}", v.0)),
            Operand::Const(c) => Some(format!("({c})")),
            _ => None,
        };
        // An element of a location, as of its last write: `q[i] * q[i]` reads it once.
        let location = |op: &Operand| match op {
            Operand::Var(v) if self.vars[v.0].is_location => Some(format!(
                "l{}@{}",
                v.0,
                self.writes.get(v).copied().unwrap_or(0)
            )),
            _ => None,
        };
        // Constants alone are left to rustc: their type comes from where they are used.
        let reads_variable = value.operands().iter().any(|op| op.var().is_some());
        if !reads_variable {
            return None;
        }
        match value {
            Value::Binary { op, lhs, rhs } => {
                let arithmetic = matches!(
                    op,
                    BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_)
                );
                arithmetic.then_some(())?;
                Some(format!(
                    "{} {} {}",
                    operand(lhs)?,
                    op.to_token_stream(),
                    operand(rhs)?
                ))
            }
            Value::Unary { op: UnOp::Neg, arg } => Some(format!("-{}", operand(arg)?)),
            Value::Index { base, index } => Some(format!(
                "{}[{}]",
                operand(base).or_else(|| location(base))?,
                operand(index)?
            )),
            Value::Method {
                receiver,
                method,
                turbofish: None,
                qualified: None,
                args,
                kind: MethodKind::Float(_),
            } => {
                let mut key = format!("{}.{method}(", operand(receiver)?);
                for a in args {
                    key.push_str(&operand(a)?);
                    key.push(',');
                }
                Some(key)
            }
            _ => None,
        }
    }

    /// The temporary of an identical value still in scope.
    pub(super) fn computed(&mut self, key: &str) -> Option<VarId> {
        let c = *self.computed.get(key)?;
        if c.same_block && c.depth + 1 != self.blocks.len() {
            return None;
        }
        let stmt = self.blocks.get(c.depth)?.get(c.position)?;
        let in_place = matches!(stmt.kind, StmtKind::Let { var, .. } if var == c.var);
        let var = &self.vars[c.var.0];
        if !in_place || var.is_location || var.user_ref {
            return None;
        }
        self.reused.insert(c.var);
        Some(c.var)
    }

    /// Whether a binding may take over temporary `v` and change how it is read (as a reference,
    /// `let r = &w[i]`): only if no other expression reads it through reuse. Taking it over
    /// ends its reuse.
    pub(super) fn may_take_over(&mut self, v: VarId) -> bool {
        if self.reused.contains(&v) {
            return false;
        }
        self.computed.retain(|_, c| c.var != v);
        true
    }

    /// Records that the last statement pushed bound `var` to the value of `key`.
    pub(super) fn remember(&mut self, key: String, var: VarId) {
        let depth = self.blocks.len().saturating_sub(1);
        let Some(block) = self.blocks.last() else {
            return;
        };
        let position = block.len().saturating_sub(1);
        let same_block = key.contains('@');
        self.computed.insert(
            key,
            Computed {
                depth,
                position,
                var,
                same_block,
            },
        );
    }

    /// Counts the writes a statement may make to locations: assignments, element writes and
    /// pushes, and anything that could change a location through a method or a macro.
    pub(super) fn written(&mut self, kind: &StmtKind) {
        let mut changed = Vec::new();
        match kind {
            StmtKind::Assign { var, value } | StmtKind::Let { var, value, .. } => {
                changed.push(*var);
                // `stop_gradient(q.remove(0))` and other code kept as written may change what
                // it reads.
                if let Value::Opaque { reads, .. } = value {
                    changed.extend(reads.iter().copied());
                }
                if let Value::Method {
                    receiver,
                    kind: MethodKind::Unknown | MethodKind::User,
                    ..
                } = value
                {
                    changed.extend(receiver.var());
                }
                if let Value::Call { args, .. } = value {
                    changed.extend(args.iter().filter_map(Operand::var));
                }
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => changed.push(*base),
            StmtKind::Opaque { reads, .. } => changed.extend(reads.iter().copied()),
            _ => {}
        }
        for v in changed {
            if self.vars[v.0].is_location {
                *self.writes.entry(v).or_insert(0) += 1;
            }
        }
    }
}
