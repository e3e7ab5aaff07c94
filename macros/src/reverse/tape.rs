//! Tapes and save sites: where the forward sweep saves values the reverse sweep restores.

use proc_macro2::{Ident, Span};
use quote::quote;

use super::{rt, Generator};
use crate::ir::{Block, Stmt, StmtKind, VarId};

impl<'a> Generator<'a> {
    /// Whether overwriting `v` saves its old value for the reverse sweep.
    pub(super) fn saves_on_assign(&self, v: VarId) -> bool {
        self.is_needed(v) && !self.assigned_once.contains(&v)
    }

    pub(super) fn new_tape(&mut self, name: String) -> Ident {
        let ident = Ident::new(&name, Span::mixed_site());
        let rt = rt();
        let decl = if self.loop_depth > 0 {
            quote!(let mut #ident = #rt::Tape::new();)
        } else {
            quote!(let mut #ident = #rt::Slot::new();)
        };
        if self.loop_depth == 1 && !self.tapes.contains_key(&name) {
            self.outer_loop_tapes.push(ident.clone());
        }
        self.tapes.insert(name, decl);
        ident
    }

    pub(super) fn var_tape(&mut self, v: VarId) -> Ident {
        self.new_tape(format!("__save_v{}", v.0))
    }

    pub(super) fn stmt_tape(&mut self, stmt: &Stmt) -> Ident {
        let key = stmt as *const Stmt as usize;
        if let Some(t) = self.stmt_tapes.get(&key) {
            return t.clone();
        }
        let t = self.new_tape(format!("__save_s{}", self.stmt_tapes.len()));
        self.stmt_tapes.insert(key, t.clone());
        t
    }

    /// Variables a block defines directly, which go out of scope at its end: the ones the reverse
    /// sweep needs are saved there and restored at the start of the block's reverse.
    pub(super) fn block_locals(&self, block: &Block) -> Vec<VarId> {
        block
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => Some(*var),
                _ => None,
            })
            .filter(|v| !self.recomputed.contains_key(v))
            .filter(|v| {
                self.needed_in_scope.as_ref().is_none_or(|n| n.contains(v))
                    || (self.body.var(*v).is_location && self.activity.is_active(*v))
            })
            .collect()
    }

    /// The iteration counter of a `Loop`: the reverse sweep runs its body that many times.
    pub(super) fn loop_count(&mut self, stmt: &Stmt) -> Ident {
        let key = stmt as *const Stmt as usize;
        let next = self.loop_counts.len();
        let n = *self.loop_counts.entry(key).or_insert(next);
        Ident::new(&format!("__count{n}"), Span::mixed_site())
    }
}
