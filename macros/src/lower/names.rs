//! Name scopes, and the renaming of variables in user tokens kept as written.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

use super::Lowerer;
use crate::ir::VarId;
use crate::rename::rename_tokens;

impl Lowerer<'_> {
    pub(super) fn bind(&mut self, name: &str, id: VarId) {
        // A new binding hides a decomposition of the same name (see `linalg.rs`).
        self.decompositions.remove(name);
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), id);
        }
    }

    /// Rebinds an existing name in the scope that declared it (an assignment, not a `let`).
    pub(super) fn rebind(&mut self, name: &str, id: VarId) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.get_mut(name) {
                *slot = id;
                return;
            }
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    /// The variable an expression names, inside any parentheses (`w`, `(w)`).
    pub(super) fn variable_of(&self, expr: &syn::Expr) -> Option<VarId> {
        match crate::syntax::strip_parens(expr) {
            syn::Expr::Path(p) => self.lookup(&p.path.get_ident()?.to_string()),
            _ => None,
        }
    }

    /// Renames variables in user tokens kept as written; returns the variables read.
    pub(super) fn rename(&mut self, tokens: TokenStream) -> (TokenStream, Vec<VarId>) {
        self.rename_in(tokens, None, false)
    }

    /// Renames variables in the tokens of a closure that runs as written, leaving `except`
    /// (its own parameter) alone. A loop element the user holds by reference (of `xs.iter()`),
    /// which the generated code holds by value, is borrowed: in the closure it has the user's
    /// type. Elsewhere it is borrowed only where it is dereferenced (`stop_gradient(*x)`), and
    /// a value kept as written flows on as the value it is (`stop_gradient(x)`).
    pub(super) fn rename_closure(
        &mut self,
        tokens: TokenStream,
        except: Option<&str>,
    ) -> (TokenStream, Vec<VarId>) {
        self.rename_in(tokens, except, true)
    }

    fn rename_in(
        &mut self,
        tokens: TokenStream,
        except: Option<&str>,
        closure: bool,
    ) -> (TokenStream, Vec<VarId>) {
        let mut reads = Vec::new();
        let mut captured = Vec::new();
        let outer = &self.outer;
        let renamed = rename_tokens(tokens, &mut |ident: &Ident, dereferenced: bool| {
            let name = ident.to_string();
            if except == Some(name.as_str()) {
                return None;
            }
            let Some(id) = self.lookup(&name) else {
                let (outer_ident, id, _, _) = outer.get(&name)?;
                captured.push((*id, ident.span()));
                return Some(TokenTree::Ident(respan(outer_ident, ident.span())));
            };
            reads.push(id);
            let var = &self.vars[id.0];
            let renamed = respan(&var.ident, ident.span());
            if var.place && !var.user_ref {
                // The generated binding is a reference to the field the user's name holds by
                // value (`let n = cfg.steps;`): read through, it has the user's type (`0..n`).
                let mut deref = Group::new(Delimiter::Parenthesis, quote::quote!(*#renamed));
                deref.set_span(ident.span());
                return Some(TokenTree::Group(deref));
            }
            if (closure || dereferenced) && var.user_ref && !var.place {
                let mut borrow = Group::new(Delimiter::Parenthesis, quote::quote!(&#renamed));
                borrow.set_span(ident.span());
                return Some(TokenTree::Group(borrow));
            }
            Some(TokenTree::Ident(renamed))
        });
        self.captures.extend(captured);
        (renamed, reads)
    }
}

/// A generated binding's identifier, placed at the user's token that reads it (raw identifiers
/// such as `r#in` stay raw).
pub(super) fn respan(ident: &Ident, at: Span) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(ident.span().located_at(at));
    ident
}
