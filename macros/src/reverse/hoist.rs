//! Recomputed values that a reverse loop would compute in every iteration although nothing they
//! read changes in the loop (`xc[i]` in a loop over `j`): computed once, before the loop.

use std::collections::HashSet;

use proc_macro2::TokenStream;

use super::Generator;
use crate::analysis::walk::{collect_written, defines, value_inputs};
use crate::ir::{Block, Stmt, StmtKind, Value, VarId};

impl<'a> Generator<'a> {
    /// The recomputed `let`s of a loop body (its top level) that read nothing the body defines
    /// or writes, nor the loop's counter: the same value in every iteration, computed once
    /// before the reverse loop, and recorded in `hoisted` so the body computes them no more.
    ///
    /// The forward loop computed them only in iterations that ran, and an element read may
    /// panic out of bounds where the loop runs no time (`for j in 0..0 { .. w[i] .. }`): the
    /// caller computes them only where the loop runs (see [`Self::guarded_by_trips`]).
    pub(super) fn hoist_invariant_recomputations(
        &mut self,
        counter: VarId,
        body: &Block,
    ) -> TokenStream {
        let mut written = HashSet::new();
        collect_written(body, &mut written);
        let mut out = TokenStream::new();
        for stmt in body {
            let StmtKind::Let { var, value, .. } = &stmt.kind else {
                continue;
            };
            // Element reads and arithmetic: values read by copy or by reference in every
            // iteration. (A range, kept as written, is moved by the loop that walks it.)
            let readable = matches!(
                value,
                Value::Index { .. }
                    | Value::Binary { .. }
                    | Value::Unary { .. }
                    | Value::Cast { .. }
            );
            if !readable || !self.recomputed.contains_key(var) || self.hoisted.contains(var) {
                continue;
            }
            // What the body does not write keeps its value while the loop is reversed: the
            // reverse of the body restores only what the body writes.
            let invariant = value_inputs(value).into_iter().all(|input| {
                input != counter && !defines(body, input) && !written.contains(&input)
            });
            if invariant {
                out.extend(self.recompute(stmt));
                self.hoisted.insert(*var);
            }
        }
        out
    }

    /// `tokens` run only where the loop over `range` runs at least once.
    pub(super) fn guarded_by_trips(range: &TokenStream, tokens: TokenStream) -> TokenStream {
        quote::quote! {
            if ::core::iter::Iterator::size_hint(&#range).1 != ::core::option::Option::Some(0) {
                #tokens
            }
        }
    }

    /// Whether `stmt` defines a value hoisted out of its loop.
    pub(super) fn is_hoisted(&self, stmt: &Stmt) -> bool {
        matches!(&stmt.kind, StmtKind::Let { var, .. } if self.hoisted.contains(var))
    }
}
