//! Tapes and save sites: where the forward sweep saves values the reverse sweep restores.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::{rt, Generator};
use crate::ir::{Block, Operand, Origin, Stmt, StmtKind, Value, VarId};

/// See [`Generator::restore_of`].
pub(super) enum Restore {
    Nothing,
    Tape,
    /// The operation and operand that give back the old value from the new one (`- (1)`).
    Undo(TokenStream),
}

impl<'a> Generator<'a> {
    /// Whether overwriting `v` saves its old value for the reverse sweep.
    pub(super) fn saves_on_assign(&self, v: VarId) -> bool {
        self.is_needed(v) && !self.assigned_once.contains(&v)
    }

    /// How the reverse sweep restores the value an assignment overwrites: from a tape, by undoing
    /// an integer step (`idx += 1` is undone by `idx -= 1`, and saves nothing), or not at all.
    pub(super) fn restore_of(&self, stmt: &Stmt, v: VarId) -> Restore {
        if !self.saves_on_assign(v) || self.fused_sum == Some(v) || self.is_first_assignment(stmt) {
            Restore::Nothing
        } else if let Some(undo) = self.integer_steps.get(&(stmt as *const Stmt as usize)) {
            Restore::Undo(undo.clone())
        } else {
            Restore::Tape
        }
    }

    /// Whether `stmt` gives a location declared without a value its first value on every path.
    pub(super) fn is_first_assignment(&self, stmt: &Stmt) -> bool {
        self.first_assignments
            .contains(&(stmt as *const Stmt as usize))
    }

    /// Whether a buffer's adjoint may have another length than the buffer at some point of the
    /// reverse sweep. A whole assignment whose old value is not restored leaves the adjoint in
    /// the new value's length (`v = longer;`), and that length passes on to the adjoints of the
    /// values it came from (`v = n;` gives `n` the adjoint of `v`). Without one, every adjoint
    /// has its buffer's length throughout: a push's element is the adjoint's last one, and an
    /// element read is one the adjoint holds (`index_accumulate_held`). With one, every push
    /// records the buffer's length and takes its element by index, and element reads grow the
    /// adjoint where it is short.
    /// Code kept as written that changes a buffer (`stop_gradient(v.pop())`) is not undone
    /// either: a function with one counts as drifting too.
    pub(super) fn lengths_may_drift(&self) -> bool {
        self.changed_as_kept
            || self
                .reassigned
                .iter()
                .any(|&v| !self.saves_on_assign(v) && !self.assigned_once.contains(&v))
    }

    pub(super) fn new_tape(&mut self, name: String) -> Ident {
        let ident = Ident::new(&name, Span::mixed_site());
        let rt = rt();
        let decl = if self.loop_depth > 0 {
            quote!(let mut #ident = #rt::Tape::new();)
        } else {
            quote!(let mut #ident = #rt::Slot::new();)
        };
        // Saved to in every iteration of the innermost `for`, once: at its depth, and in no
        // branch (a save in a branch may happen in few iterations, and room reserved for all
        // of them could be far more than what is saved).
        if let Some(frame) = self.loop_frames.last_mut() {
            if frame.loop_depth == self.loop_depth
                && frame.branch_depth == self.branch_depth
                && !frame.tapes.contains(&ident)
            {
                frame.tapes.push(ident.clone());
            }
        }
        self.tapes.insert(name, decl);
        ident
    }

    /// How the forward sweep saves to `tape`: `push_reserved` in the body of a `for` loop that
    /// reserved room for it (see [`Self::reserve_for_loop`]), `push` elsewhere.
    pub(super) fn push_to(&self, tape: &Ident) -> TokenStream {
        let framed = self.loop_frames.last().is_some_and(|frame| {
            frame.loop_depth == self.loop_depth
                && frame.branch_depth == self.branch_depth
                && frame.tapes.contains(tape)
        });
        if framed {
            quote!(#tape.push_reserved)
        } else {
            quote!(#tape.push)
        }
    }

    /// Before a `for` loop over `range`, room on the tapes `tapes` its body saves to once in
    /// every iteration: as many values as the loop runs iterations. (Loops walk ranges of
    /// indices, whose size hints are exact.)
    pub(super) fn reserve_for_loop(&self, range: &Operand, tapes: &[Ident]) -> TokenStream {
        let Some(range) = range.var() else {
            return TokenStream::new();
        };
        if tapes.is_empty() {
            return TokenStream::new();
        }
        let rt = rt();
        let range = self.ident(range);
        let trips = Ident::new("__trips", Span::mixed_site());
        quote! {
            let #trips = #rt::trips(&#range);
            #(#tapes.reserve(#trips);)*
        }
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

    /// Whether `let v = value;` binds a reference to another local (`let r = &v;`). Such a
    /// binding is saved as a copy of what it refers to, right where it is bound: a saved
    /// reference would hold its borrow for the whole reverse sweep, past the end of the local
    /// it refers to and across later assignments to it, which its copy at the block's end would
    /// already see.
    pub(super) fn borrows_a_local(&self, value: &Value) -> bool {
        match value {
            Value::Use(Operand::Ref(of, ..)) => {
                !matches!(self.body.var(*of).origin, Origin::Param(_))
            }
            // A copy of such a reference (`let r2 = r;`).
            Value::Use(Operand::Var(of)) => {
                let var = self.body.var(*of);
                var.is_ref && !var.place && !matches!(var.origin, Origin::Param(_))
            }
            _ => false,
        }
    }

    /// The locals of `block` that `forward_stmt` saves where they are bound, as copies of what
    /// they refer to (see `borrows_a_local`), not at the block's end.
    pub(super) fn saved_where_bound(&self, block: &Block) -> Vec<VarId> {
        block
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Let { var, value, .. } if self.borrows_a_local(value) => Some(*var),
                _ => None,
            })
            .collect()
    }

    /// Whether a block local is saved for the reverse sweep (see `block_locals`).
    pub(super) fn saves_local(&self, v: VarId) -> bool {
        !self.recomputed.contains_key(&v)
            && (self.needed_in_scope.as_ref().is_none_or(|n| n.contains(&v))
                || (self.body.var(v).is_location && self.activity.is_active(v)))
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
            .filter(|v| self.saves_local(*v))
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
