//! Checkpointing of outermost loops: save each iteration's starting state, rerun it in reverse.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::walk::{collect_primal_reads, collect_written, defines};
use super::Generator;
use crate::ir::{Block, Stmt, StmtKind, VarId};

impl<'a> Generator<'a> {
    /// Whether a loop is checkpointed: an outermost loop whose body has loops of its own would
    /// tape every value of every inner iteration. Instead its forward sweep runs the primal only
    /// and saves, per iteration, just the variables the body overwrites; the reverse sweep
    /// restores them, runs the iteration forward again with its tapes, and reverses it at once.
    /// The tapes then hold one iteration at a time, so they stay in cache, for one more forward
    /// run of the body.
    pub(super) fn checkpointed(&self, stmt: &Stmt) -> bool {
        let body = match &stmt.kind {
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => body,
            _ => return false,
        };
        self.loop_depth == 0
            && self.scope_depth == 0
            && self.has_taping_loop(body)
            && !writes_outer_buffer(body, body)
    }

    /// Whether `block` holds a loop that saves something on every iteration (in the first
    /// generation run, where nothing is known yet, any loop counts).
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
            StmtKind::Assign { var, .. } => self.saves_on_assign(*var),
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
    /// (A buffer from outside that the body writes element by element is never among them:
    /// saving all of it per iteration would cost its size each time, where the writes'
    /// own saves cost one element each; see [`writes_outer_buffer`].)
    fn checkpoint_vars(&self, body: &Block) -> Vec<VarId> {
        let mut written = HashSet::new();
        collect_written(body, &mut written);
        let mut vars: Vec<VarId> = written.into_iter().filter(|v| !defines(body, *v)).collect();
        vars.sort();
        vars
    }

    /// Saves the state a checkpointed iteration starts from.
    pub(super) fn checkpoint_save(&mut self, body: &Block) -> TokenStream {
        let mut out = TokenStream::new();
        self.loop_depth += 1;
        for v in self.checkpoint_vars(body) {
            let tape = self.new_tape(format!("__checkpoint_v{}", v.0));
            let ident = self.ident(v).clone();
            out.extend(quote!(#tape.push(::core::clone::Clone::clone(&#ident));));
        }
        self.loop_depth -= 1;
        out
    }

    /// One reverse iteration of a checkpointed loop: restore, run forward with tapes, reverse.
    pub(super) fn checkpoint_iteration(&mut self, body: &Block) -> TokenStream {
        let mut restore = TokenStream::new();
        self.loop_depth += 1;
        for v in self.checkpoint_vars(body).into_iter().rev() {
            let tape = self.new_tape(format!("__checkpoint_v{}", v.0));
            let ident = self.ident(v).clone();
            restore.extend(quote!(#ident = #tape.pop();));
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

/// Whether `block` (part of the loop body `body`) writes elements of a buffer that lives
/// outside the body (`k[(i, j)] = ..` filling a matrix row by row): such a loop is not
/// checkpointed.
fn writes_outer_buffer(block: &Block, body: &Block) -> bool {
    block.iter().any(|s| match &s.kind {
        StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => !defines(body, *base),
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => writes_outer_buffer(then_block, body) || writes_outer_buffer(else_block, body),
        StmtKind::For { body: inner, .. } | StmtKind::Loop { body: inner, .. } => {
            writes_outer_buffer(inner, body)
        }
        _ => false,
    })
}
