//! Statement lists and blocks, branch conditions, `if`/`else` and `match`.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt as SynStmt};

use super::jumps::{jumps, JumpScope};
use super::Lowerer;
use crate::ir::{Block, Kept, Operand, Stmt, StmtKind, Value, VarId, Written};

impl Lowerer<'_> {
    /// Lowers the statements of `block` into the current IR block, in a new name scope, and
    /// returns the block's value.
    pub(super) fn lower_block_inline(&mut self, block: &syn::Block) -> Option<Operand> {
        self.scopes.push(HashMap::new());
        let result = self.lower_stmts(&block.stmts, None);
        self.scopes.pop();
        result
    }

    /// Lowers statements in order. After a statement that may `break`, `continue` or `return`,
    /// the rest runs under a guard on the loop and return flags. With a `sink`, the value of the
    /// statements is assigned to it instead of being returned.
    pub(super) fn lower_stmts(
        &mut self,
        stmts: &[SynStmt],
        sink: Option<VarId>,
    ) -> Option<Operand> {
        let count = stmts.len();
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                SynStmt::Local(local) => self.lower_let(local),
                // An empty statement (`;`), which syn keeps as an empty verbatim expression.
                SynStmt::Expr(Expr::Verbatim(tokens), Some(_)) if tokens.is_empty() => {}
                SynStmt::Item(syn::Item::Verbatim(tokens))
                    if tokens.to_string().trim() == ";" || tokens.is_empty() => {}
                // `{ ..; unreachable!(..) }`, a branch's end: it gives no value (see
                // `jumps::diverges`). Elsewhere a value, which it never is, stays refused.
                SynStmt::Expr(Expr::Macro(m), None)
                    if last && super::jumps::is_diverging_macro(&m.mac) =>
                {
                    self.lower_statement_macro(&m.mac);
                    return None;
                }
                SynStmt::Expr(expr, semi) => {
                    let op = self.lower_expr(expr);
                    if last && semi.is_none() {
                        return match sink {
                            // `loop { .. return y; .. }` last: the value comes from the `return`,
                            // and a block (a branch) ending so has none, as one ending in `return`.
                            _ if super::jumps::diverges(expr) => None,
                            // An expression that may `return` (`if c { return a } else { b }`)
                            // gives its value only on the paths that did not.
                            Some(sink) if jumps(std::slice::from_ref(stmt), JumpScope::Returns) => {
                                let alive = self.alive(expr.span());
                                let assign = Stmt {
                                    kind: StmtKind::Assign {
                                        var: sink,
                                        value: Value::Use(op),
                                    },
                                    span: expr.span(),
                                };
                                self.push_if(alive, vec![assign], Vec::new(), expr.span());
                                None
                            }
                            Some(sink) => {
                                self.push(
                                    StmtKind::Assign {
                                        var: sink,
                                        value: Value::Use(op),
                                    },
                                    expr.span(),
                                );
                                None
                            }
                            None => Some(op),
                        };
                    }
                }
                SynStmt::Macro(m) => self.lower_statement_macro(&m.mac),
                SynStmt::Item(item) => {
                    self.unsupported(
                        item.span(),
                        "an item inside the function body",
                        "move the item out of the #[differentiable] function",
                    );
                }
            }
            let scope = if self.loops.is_empty() {
                JumpScope::Returns
            } else {
                JumpScope::All
            };
            if !last && jumps(std::slice::from_ref(stmt), scope) {
                let rest = &stmts[i + 1..];
                let span = rest
                    .first()
                    .map(|s| s.span())
                    .unwrap_or_else(|| stmt.span());
                let alive = self.alive(span);
                self.blocks.push(Vec::new());
                let value = self.lower_stmts(rest, sink);
                let then_block = self.blocks.pop().unwrap_or_default();
                if value.as_ref().is_some_and(|v| !is_unit(v)) {
                    self.unsupported(
                        span,
                        "a block value after `break`, `continue` or `return`",
                        "assign the value to a variable declared before the block",
                    );
                }
                self.push_if(alive, then_block, Vec::new(), span);
                return None;
            }
        }
        None
    }

    /// Lowers a block into a new IR block (a branch), returning it and its value.
    fn lower_nested_block(&mut self, block: &syn::Block) -> (Block, Option<Operand>) {
        self.blocks.push(Vec::new());
        let value = self.lower_block_inline(block);
        (self.blocks.pop().unwrap_or_default(), value)
    }

    /// A branch condition as it is now: a location is copied, because the branch may overwrite
    /// it and the reverse sweep must take the branch the forward sweep took.
    pub(super) fn condition(&mut self, op: Operand, span: Span) -> Operand {
        match op {
            Operand::Var(v) if self.vars[v.0].is_location => {
                let snapshot = self.new_temp();
                self.push_let(snapshot, Value::Use(op), span);
                Operand::Var(snapshot)
            }
            other => other,
        }
    }

    pub(super) fn lower_if(&mut self, e: &syn::ExprIf) -> Value {
        let span = e.if_token.span;
        // `if let PAT = x { a } else { b }` is `match x { PAT => { a }, _ => b }`.
        if let Expr::Let(l) = &*e.cond {
            let (pat, scrutinee, then) = (&l.pat, &l.expr, &e.then_branch);
            let other = match &e.else_branch {
                Some((_, other)) => quote!(#other),
                None => quote_spanned!(span=> {}),
            };
            let as_match: syn::ExprMatch = syn::parse_quote_spanned! {span=>
                match #scrutinee { #pat => #then, _ => #other }
            };
            return self.lower_match(&as_match);
        }
        let cond = self.lower_expr(&e.cond);
        let cond = self.condition(cond, e.cond.span());
        let produces_value = gives_value(e);
        let result = produces_value.then(|| {
            let var = self.new_temp();
            self.vars[var.0].is_location = true;
            self.push(StmtKind::Declare { var, ty: None }, span);
            var
        });
        let (mut then_block, then_value) = self.lower_nested_block(&e.then_branch);
        let mut else_value = None;
        let mut else_block = match &e.else_branch {
            Some((_, else_expr)) => {
                self.blocks.push(Vec::new());
                else_value = match &**else_expr {
                    Expr::Block(b) => self.lower_block_inline(&b.block),
                    other => Some(self.lower_expr(other)),
                };
                self.blocks.pop().unwrap_or_default()
            }
            None => Vec::new(),
        };
        // A branch that ends in a statement has the value `()`, and then so has the other
        // (`if c { { s *= y; } } else { s += y; }`): the result is set on both paths, and the
        // `if` is a statement. A branch that has no value beside one that has diverges
        // (`return`, `break`).
        let is_unit_or_none = |v: &Option<Operand>| v.as_ref().is_none_or(is_unit);
        let both_unit = is_unit_or_none(&then_value) && is_unit_or_none(&else_value);
        if let Some(r) = result {
            let unit = || Operand::Const(quote_spanned!(span=> ()));
            let assign = |value: Option<Operand>, block: &mut Vec<Stmt>, at: Span| {
                let value = match value {
                    Some(v) => v,
                    None if both_unit => unit(),
                    None => return,
                };
                block.push(Stmt {
                    kind: StmtKind::Assign {
                        var: r,
                        value: Value::Use(value),
                    },
                    span: at,
                });
            };
            assign(then_value, &mut then_block, e.then_branch.span());
            if let Some((_, else_expr)) = &e.else_branch {
                assign(else_value, &mut else_block, else_expr.span());
            }
        }
        self.push_if(cond, then_block, else_block, span);
        match result {
            Some(r) if !both_unit => Value::Use(Operand::Var(r)),
            _ => Value::Use(Operand::Const(quote_spanned!(span=> ()))),
        }
    }

    /// `match` on a value that carries no gradient, lowered to `if`/`else if` on `matches!`.
    pub(super) fn lower_match(&mut self, m: &syn::ExprMatch) -> Value {
        let span = m.match_token.span;
        if let [arm] = m.arms.as_slice() {
            if destructures_only(&arm.pat) {
                // `match w { [x, y] => x * y }`: the `let` it stands for, whose pattern may bind
                // values that carry gradient.
                let (pat, scrutinee, body) = (&arm.pat, &m.expr, &arm.body);
                let block: syn::Expr =
                    syn::parse_quote_spanned!(span=> { let #pat = #scrutinee; #body });
                return Value::Use(self.lower_expr(&block));
            }
        }
        let scrutinee = self.lower_expr(&m.expr);
        let Operand::Var(scrutinee) = scrutinee else {
            return Value::Use(self.unsupported(
                m.expr.span(),
                "`match` on a constant",
                "match on a variable",
            ));
        };
        let produces_value = m.arms.iter().any(|a| !matches!(&*a.body, Expr::Block(b) if b.block.stmts.last().is_none_or(|s| !matches!(s, SynStmt::Expr(_, None)))));
        let result = produces_value.then(|| {
            let var = self.new_temp();
            self.vars[var.0].is_location = true;
            self.push(StmtKind::Declare { var, ty: None }, span);
            var
        });
        self.lower_arms(scrutinee, &m.arms, result);
        match result {
            Some(r) => Value::Use(Operand::Var(r)),
            None => Value::Use(Operand::Const(quote_spanned!(span=> ()))),
        }
    }

    fn lower_arms(&mut self, scrutinee: VarId, arms: &[syn::Arm], result: Option<VarId>) {
        let Some((arm, rest)) = arms.split_first() else {
            return;
        };
        // syn keeps a guard in the pattern: `Some(x) if x > 0` is a `Pat::Guard`.
        let (pat, arm_guard) = match &arm.pat {
            Pat::Guard(g) => (&*g.pat, Some(&*g.guard)),
            other => (other, None),
        };
        let ident = self.vars[scrutinee.0].ident.clone();
        let mut bound = Vec::new();
        bound_names(pat, &mut bound);
        let guard = match arm_guard {
            Some(g) => {
                let (tokens, _) = self.rename(g.to_token_stream());
                quote!(if #tokens)
            }
            None => TokenStream::new(),
        };
        let mut reads = vec![scrutinee];
        if let Some(g) = arm_guard {
            reads.extend(self.rename(g.to_token_stream()).1);
        }
        let catch_all = matches!(pat, Pat::Wild(_)) && arm_guard.is_none();
        let lower_body = |this: &mut Self| {
            this.blocks.push(Vec::new());
            this.scopes.push(HashMap::new());
            // `Some(s) => ..`: each name the pattern binds is data, read out of the scrutinee
            // by the pattern itself (the checks refuse a scrutinee that carries gradient), of
            // the type the user's binding has: through a scrutinee that is a reference, a
            // reference; out of one held by value, a clone, where the user's arm moves or
            // copies it out.
            let by_ref = this.vars[scrutinee.0].is_ref || this.vars[scrutinee.0].user_ref;
            for name in &bound {
                let read = if by_ref {
                    quote_spanned!(name.span()=> match #ident { #pat => #name, _ => ::core::unreachable!() })
                } else {
                    quote_spanned!(name.span()=> match &#ident { #pat => #name.clone(), _ => ::core::unreachable!() })
                };
                // The `_` arm is unreachable where the pattern is irrefutable (`m => ..`).
                let read = quote_spanned!(name.span()=> {
                    #[allow(unreachable_patterns, clippy::all)]
                    let __nabla_bound = #read;
                    __nabla_bound
                });
                let value = Value::Opaque {
                    tokens: quote_spanned!(name.span()=> (#read)),
                    reads: vec![scrutinee],
                    kept: Kept::Checked(Written::MatchBinding),
                };
                let op = this.operand_of(value, name.span());
                this.bind_name(name, false, op, None, name.span());
            }
            // `_ => unreachable!(..)`: kept as written; the arm gives no value.
            let value = match &*arm.body {
                Expr::Macro(m) if super::jumps::is_diverging_macro(&m.mac) => {
                    this.lower_statement_macro(&m.mac);
                    Operand::Const(quote::quote!(()))
                }
                body => this.lower_expr(body),
            };
            this.scopes.pop();
            // An arm that diverges (`loop { .. return y; .. }`) gives the `match` no value.
            if let Some(r) = result.filter(|_| !super::jumps::diverges(&arm.body)) {
                this.push(
                    StmtKind::Assign {
                        var: r,
                        value: Value::Use(value),
                    },
                    arm.body.span(),
                );
            }
            this.blocks.pop().unwrap_or_default()
        };
        if catch_all {
            let block = lower_body(self);
            if let Some(b) = self.blocks.last_mut() {
                b.extend(block);
            }
            return;
        }
        let cond = Value::Opaque {
            tokens: quote_spanned!(pat.span()=> ::core::matches!(#ident, #pat #guard)),
            reads,
            kept: Kept::MatchTest,
        };
        let cond = self.operand_of(cond, pat.span());
        let then_block = lower_body(self);
        self.blocks.push(Vec::new());
        if rest.is_empty() {
            // Exhaustiveness is rustc's to check in the original function.
            self.push(
                StmtKind::Opaque {
                    tokens: quote!(::core::unreachable!();),
                    reads: Vec::new(),
                },
                arm.span(),
            );
        } else {
            self.lower_arms(scrutinee, rest, result);
        }
        let else_block = self.blocks.pop().unwrap_or_default();
        self.push(
            StmtKind::If {
                cond,
                then_block,
                else_block,
            },
            arm.span(),
        );
    }
}

/// The names a `match` pattern binds (identifiers that are not constant paths), each once.
fn bound_names(pat: &Pat, names: &mut Vec<proc_macro2::Ident>) {
    match pat {
        Pat::Ident(pi) => {
            // Upper-case names are constants or unit variants, as rustc's own lint assumes.
            let name = pi.ident.to_string();
            let binds = !name.chars().next().is_some_and(|c| c.is_uppercase());
            if binds && !names.contains(&pi.ident) {
                names.push(pi.ident.clone());
            }
            if let Some((_, sub)) = &pi.subpat {
                bound_names(sub, names);
            }
        }
        Pat::Or(o) => o.cases.iter().for_each(|p| bound_names(p, names)),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| bound_names(p, names)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bound_names(p, names)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| bound_names(&f.pat, names)),
        Pat::Reference(r) => bound_names(&r.pat, names),
        Pat::Slice(s) => s.elems.iter().for_each(|p| bound_names(p, names)),
        Pat::Paren(p) => bound_names(&p.pat, names),
        Pat::Type(t) => bound_names(&t.pat, names),
        Pat::Guard(g) => bound_names(&g.pat, names),
        _ => {}
    }
}

/// `()`, the value of statements such as an `if` without `else`.
/// Whether an `if` has a value: a branch ends in an expression, and every other branch too or
/// diverges (`if c { return a; } else if d { return b; } else { v }` has the value `v`).
fn gives_value(e: &syn::ExprIf) -> bool {
    let ends_in_value = |b: &syn::Block| matches!(b.stmts.last(), Some(SynStmt::Expr(_, None)));
    let Some((_, other)) = &e.else_branch else {
        return false;
    };
    if ends_in_value(&e.then_branch) {
        return true;
    }
    super::jumps::block_diverges(&e.then_branch)
        && match &**other {
            Expr::Block(b) => ends_in_value(&b.block),
            Expr::If(i) => gives_value(i),
            _ => true,
        }
}

fn is_unit(op: &Operand) -> bool {
    matches!(op, Operand::Const(c) if c.to_string().replace(' ', "") == "()")
}

/// Whether a pattern only takes its value apart, and always matches: a name, or a tuple,
/// array, struct or tuple struct of such patterns (`[x, y]`, `Point { x, y }`, `(a, _)`).
/// (A tuple struct's name could be an enum's variant, which a lone arm must cover too.)
fn destructures_only(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(p) => p.subpat.is_none(),
        Pat::Wild(_) | Pat::Rest(_) => true,
        Pat::Tuple(t) => t.elems.iter().all(destructures_only),
        Pat::Slice(s) => s.elems.iter().all(destructures_only),
        Pat::TupleStruct(t) => t.elems.iter().all(destructures_only),
        Pat::Struct(s) => s.fields.iter().all(|f| destructures_only(&f.pat)),
        Pat::Paren(p) => destructures_only(&p.pat),
        _ => false,
    }
}
