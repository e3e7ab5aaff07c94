//! Checkpointing of outermost loops: save each iteration's starting state, rerun it in reverse.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::{rt, Generator};
use crate::analysis::walk::{
    all_stmts, collect_primal_reads, collect_written, defines, may_have_effects,
};
use crate::ir::{Block, Operand, Stmt, StmtKind, Value, VarId};

impl<'a> Generator<'a> {
    /// Whether a loop is checkpointed: an outermost loop whose body has loops of its own would
    /// tape every value of every inner iteration. Instead its forward sweep runs the primal only
    /// and saves, per iteration, just the variables the body overwrites; the reverse sweep
    /// restores them, runs the iteration forward again with its tapes, and reverses it at once.
    /// The tapes then hold one iteration at a time, so they stay in cache, for one more forward
    /// run of the body.
    pub(super) fn checkpointed(&self, stmt: &Stmt) -> bool {
        let (body, counter) = match &stmt.kind {
            StmtKind::For { body, var, .. } => (body, Some(*var)),
            StmtKind::Loop { body, .. } => (body, None),
            _ => return false,
        };
        self.loop_depth == 0
            && self.scope_depth == 0
            && self.has_taping_loop(body)
            && !fills_outer_buffer(body, counter)
            && !keeps_effects(body)
    }

    /// As [`Self::checkpointed`] for an outermost loop, in a run where every value counts as
    /// needed (see `predict.rs`).
    pub(super) fn checkpointed_saving_everything(&self, stmt: &Stmt) -> bool {
        let (body, counter) = match &stmt.kind {
            StmtKind::For { body, var, .. } => (body, Some(*var)),
            StmtKind::Loop { body, .. } => (body, None),
            _ => return false,
        };
        self.needed.is_none()
            && self.has_taping_loop(body)
            && !fills_outer_buffer(body, counter)
            && !keeps_effects(body)
    }

    /// Whether `block` holds a loop that saves something on every iteration (where nothing is
    /// known yet, in the prediction and in a first run of two, any loop counts).
    fn has_taping_loop(&self, block: &Block) -> bool {
        block.iter().any(|s| match &s.kind {
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.saves_in(body),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => self.has_taping_loop(then_block) || self.has_taping_loop(else_block),
            _ => false,
        })
    }

    /// Whether running `block` saves a value for the reverse sweep.
    fn saves_in(&self, block: &Block) -> bool {
        if self.needed.is_none() {
            return true;
        }
        block.iter().any(|s| match &s.kind {
            StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => {
                !self.recomputed.contains_key(var)
                    && self
                        .needed_in_scope
                        .as_ref()
                        .is_some_and(|n| n.contains(var))
            }
            StmtKind::Assign { var, .. } => {
                matches!(self.restore_of(s, *var), super::tape::Restore::Tape)
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => self.is_needed(*base),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => self.saves_in(then_block) || self.saves_in(else_block),
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.saves_in(body),
            StmtKind::Opaque { .. } => false,
        })
    }

    /// The variables a checkpointed loop's body overwrites that live outside it.
    ///
    /// (A loop that fills a buffer from outside it part by part is not checkpointed; see
    /// [`fills_outer_buffer`].)
    pub(super) fn checkpoint_vars(&self, body: &Block) -> Vec<VarId> {
        let mut written = HashSet::new();
        collect_written(body, &mut written);
        // Only locations change (what `collect_written` counts of other variables, the reads of
        // code kept as written, cannot).
        let mut vars: Vec<VarId> = written
            .into_iter()
            .filter(|v| self.body.var(*v).is_location && !defines(body, *v))
            .collect();
        vars.sort();
        vars
    }

    /// Saves the state a checkpointed iteration starts from.
    pub(super) fn checkpoint_save(&mut self, body: &Block) -> TokenStream {
        let mut out = TokenStream::new();
        self.loop_depth += 1;
        let rt = rt();
        for v in self.checkpoint_vars(body) {
            let store = self.checkpoint_store(v);
            let ident = self.ident(v).clone();
            out.extend(quote!((&#rt::CheckpointOf(&#ident)).save(&mut #store);));
        }
        self.loop_depth -= 1;
        out
    }

    /// Where the checkpoints of `v` are kept: a store whose type the runtime chooses from `v`'s
    /// (see `nabla_runtime::checkpoint`), so it is declared by `Default::default()`.
    fn checkpoint_store(&mut self, v: VarId) -> Ident {
        let name = format!("__checkpoint_v{}", v.0);
        let ident = Ident::new(&name, Span::mixed_site());
        self.tapes.insert(
            name,
            quote!(let mut #ident = ::core::default::Default::default();),
        );
        ident
    }

    /// One reverse iteration of a checkpointed loop: restore, run forward with tapes, reverse.
    pub(super) fn checkpoint_iteration(&mut self, body: &Block) -> TokenStream {
        let mut restore = TokenStream::new();
        self.loop_depth += 1;
        for v in self.checkpoint_vars(body).into_iter().rev() {
            let store = self.checkpoint_store(v);
            let ident = self.ident(v).clone();
            restore.extend(quote!(#store.restore_into(&mut #ident);));
        }
        // The rerun reads what the iteration read when it first ran. The variables the body
        // overwrites are restored from the checkpoint; any other variable from outside that
        // is overwritten after the loop must be restored as a value the reverse sweep needs.
        let restored = self.checkpoint_vars(body);
        let mut outside = Vec::new();
        collect_primal_reads(body, &mut outside);
        self.reads.extend(
            outside
                .into_iter()
                .filter(|v| !defines(body, *v) && !restored.contains(v)),
        );
        // Forward and reverse share one scope here: the iteration's values need no saving at
        // its end, the reverse reads them where they are.
        let forward = self.forward_block(body, false);
        let reverse = self.reverse_block(body, false);
        self.loop_depth -= 1;
        quote!(#restore #forward #reverse)
    }
}

/// Whether `body` holds code kept as written that may have effects (`stop_gradient(c.set(..))`
/// of a `Cell`, a counter of calls): the reverse sweep of a checkpointed loop runs each
/// iteration again, and would run the effects again and read what they changed.
fn keeps_effects(body: &Block) -> bool {
    all_stmts(body).into_iter().any(|stmt| match &stmt.kind {
        StmtKind::Opaque { tokens, .. } => may_have_effects(tokens),
        StmtKind::Let {
            value: Value::Opaque { tokens, .. },
            ..
        }
        | StmtKind::Assign {
            value: Value::Opaque { tokens, .. },
            ..
        } => may_have_effects(tokens),
        _ => false,
    })
}

/// Whether the loop body `body` fills a buffer from outside it one part per iteration
/// (`k[(i, j)] = ..` for the loop's `i`, or `push`): checkpointing would save all of the buffer
/// at every iteration, where the writes' own saves cost one element each. A scratch buffer
/// written at indices that do not depend on the loop's counter (`xcentered[id]`) is state like
/// any other and does not prevent checkpointing.
fn fills_outer_buffer(body: &Block, counter: Option<VarId>) -> bool {
    let mut defs = HashMap::new();
    definitions(body, &mut defs);
    let depends = |op: &Operand| match (op.var(), counter) {
        (Some(v), Some(c)) => reads_var(v, c, &defs, 4),
        _ => counter.is_none(),
    };
    writes(body, body, &depends)
}

fn writes(block: &Block, body: &Block, depends: &dyn Fn(&Operand) -> bool) -> bool {
    block.iter().any(|s| match &s.kind {
        StmtKind::SetIndex { base, index, .. } => !defines(body, *base) && depends(index),
        StmtKind::Push { base, .. } => !defines(body, *base),
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => writes(then_block, body, depends) || writes(else_block, body, depends),
        StmtKind::For { body: inner, .. } | StmtKind::Loop { body: inner, .. } => {
            writes(inner, body, depends)
        }
        _ => false,
    })
}

/// The values the `let`s of `block` (at any depth) give their variables.
fn definitions<'b>(block: &'b Block, out: &mut HashMap<VarId, &'b Value>) {
    for s in block {
        match &s.kind {
            StmtKind::Let { var, value, .. } => {
                out.insert(*var, value);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                definitions(then_block, out);
                definitions(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => definitions(body, out),
            _ => {}
        }
    }
}

/// Whether `v` is `target` or computed from it, within `depth` definitions.
fn reads_var(v: VarId, target: VarId, defs: &HashMap<VarId, &Value>, depth: usize) -> bool {
    if v == target {
        return true;
    }
    if depth == 0 {
        return false;
    }
    let Some(value) = defs.get(&v) else {
        return false;
    };
    let direct = match value {
        Value::Opaque { reads, .. } => reads.clone(),
        other => other.operands().iter().filter_map(|o| o.var()).collect(),
    };
    direct
        .into_iter()
        .any(|r| reads_var(r, target, defs, depth - 1))
}
