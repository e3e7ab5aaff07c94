//! `break`, `continue` and early `return`: the flags they set and the guards they need.

use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::Stmt as SynStmt;

use super::Lowerer;
use crate::ir::{Kept, Operand, StmtKind, Value, VarId};

/// The flags through which `break` and `continue` leave a loop: the IR has no jumps, so a jump
/// sets a flag and the statements after it run only while the flags allow.
#[derive(Clone, Copy)]
pub(super) struct LoopFrame {
    pub(super) go: Option<VarId>,
    pub(super) skip: Option<VarId>,
}

impl Lowerer<'_> {
    /// A boolean location holding `initial`.
    pub(super) fn new_flag(&mut self, initial: bool, span: Span) -> VarId {
        let var = self.new_temp();
        self.vars[var.0].is_location = true;
        let value = if initial { quote!(true) } else { quote!(false) };
        self.push(
            StmtKind::Let {
                var,
                ty: Some(syn::parse_quote!(bool)),
                value: Value::Use(Operand::Const(value)),
            },
            span,
        );
        var
    }

    fn set_flag(&mut self, flag: VarId, value: bool, span: Span) {
        let value = if value { quote!(true) } else { quote!(false) };
        self.push(
            StmtKind::Assign {
                var: flag,
                value: Value::Use(Operand::Const(value)),
            },
            span,
        );
    }

    /// Whether execution goes on here: no `return` taken, the loop not broken, the iteration not
    /// skipped by `continue`.
    pub(super) fn alive(&mut self, span: Span) -> Operand {
        let mut terms = Vec::new();
        let mut reads = Vec::new();
        if let Some((_, returned)) = self.early_return {
            let ident = &self.vars[returned.0].ident;
            terms.push(quote!(!#ident));
            reads.push(returned);
        }
        if let Some(frame) = self.loops.last().copied() {
            if let Some(go) = frame.go {
                let ident = &self.vars[go.0].ident;
                terms.push(quote!(#ident));
                reads.push(go);
            }
            if let Some(skip) = frame.skip {
                let ident = &self.vars[skip.0].ident;
                terms.push(quote!(!#ident));
                reads.push(skip);
            }
        }
        if terms.is_empty() {
            return Operand::Const(quote!(true));
        }
        let value = Value::Opaque {
            tokens: quote!(#(#terms)&&*),
            reads,
            kept: Kept::Guard,
        };
        self.operand_of(value, span)
    }

    pub(super) fn lower_break(&mut self, e: &syn::ExprBreak) -> Value {
        let span = e.span();
        if e.label.is_some() || e.expr.is_some() {
            return Value::Use(self.unsupported(
                span,
                "`break` with a label or a value",
                "assign the value to a variable declared before the loop, then `break`",
            ));
        }
        match self.loops.last().and_then(|f| f.go) {
            Some(go) => self.set_flag(go, false, span),
            None => {
                self.unsupported(span, "`break` here", "use `break` inside a loop");
            }
        }
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }

    pub(super) fn lower_continue(&mut self, e: &syn::ExprContinue) -> Value {
        let span = e.span();
        if e.label.is_some() {
            return Value::Use(self.unsupported(
                span,
                "`continue` with a label",
                "remove the label",
            ));
        }
        match self.loops.last().and_then(|f| f.skip) {
            Some(skip) => self.set_flag(skip, true, span),
            None => {
                self.unsupported(span, "`continue` here", "use `continue` inside a loop");
            }
        }
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }

    pub(super) fn lower_return(&mut self, e: &syn::ExprReturn) -> Value {
        let span = e.span();
        let Some((result, returned)) = self.early_return else {
            return Value::Use(self.unsupported(
                span,
                "`return` inside an expression",
                "return from statement position",
            ));
        };
        let value = match &e.expr {
            Some(expr) => self.lower_expr(expr),
            None => Operand::Const(quote_spanned!(span=> ())),
        };
        self.push(
            StmtKind::Assign {
                var: result,
                value: Value::Use(value),
            },
            span,
        );
        self.set_flag(returned, true, span);
        let gos: Vec<VarId> = self.loops.iter().filter_map(|f| f.go).collect();
        for go in gos {
            self.set_flag(go, false, span);
        }
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum JumpScope {
    /// Only `return` leaves the current statement list (outside loops).
    Returns,
    /// `break` and `continue` of the current loop too.
    All,
}

/// The jumps found in some code: `return` anywhere, and `break`/`continue` of the loop the code
/// is in (not of loops nested inside it). Closures are not looked into.
#[derive(Default)]
struct Jumps {
    loop_depth: usize,
    returns: bool,
    breaks: bool,
    continues: bool,
}

impl<'ast> Visit<'ast> for Jumps {
    fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
        self.returns = true;
    }
    fn visit_expr_break(&mut self, node: &'ast syn::ExprBreak) {
        if self.loop_depth == 0 {
            self.breaks = true;
        }
        syn::visit::visit_expr_break(self, node);
    }
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        if self.loop_depth == 0 {
            self.continues = true;
        }
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.loop_depth += 1;
        syn::visit::visit_expr_for_loop(self, node);
        self.loop_depth -= 1;
    }
    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        self.loop_depth += 1;
        syn::visit::visit_expr_while(self, node);
        self.loop_depth -= 1;
    }
    fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
        self.loop_depth += 1;
        syn::visit::visit_expr_loop(self, node);
        self.loop_depth -= 1;
    }
}

/// Whether the statements may `return`, or (with `JumpScope::All`) `break`/`continue` the
/// enclosing loop.
pub(super) fn jumps(stmts: &[SynStmt], scope: JumpScope) -> bool {
    let mut found = Jumps::default();
    for stmt in stmts {
        found.visit_stmt(stmt);
    }
    found.returns || (scope == JumpScope::All && (found.breaks || found.continues))
}

/// Whether an expression never gives a value, so that as the last expression of a block (the
/// function's, a branch's, an arm's) it gives the block none: a `return`, `continue` or `break`,
/// a `loop { body }` left only through `return` (or never: it has no `break` of its own, and its
/// type is `!`), and a block, `if` or `match` whose every way out is one of these.
pub(super) fn diverges(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Loop(l) => {
            let mut found = Jumps::default();
            found.visit_block(&l.body);
            !found.breaks
        }
        // Inside a loop, `continue` and a plain `break` leave the block as `return` does.
        syn::Expr::Return(_) | syn::Expr::Continue(_) => true,
        syn::Expr::Break(b) => b.expr.is_none(),
        syn::Expr::Paren(p) => diverges(&p.expr),
        syn::Expr::Block(b) => b.label.is_none() && block_diverges(&b.block),
        syn::Expr::If(i) => {
            block_diverges(&i.then_branch)
                && i.else_branch
                    .as_ref()
                    .is_some_and(|(_, other)| diverges(other))
        }
        syn::Expr::Match(m) => !m.arms.is_empty() && m.arms.iter().all(|a| diverges(&a.body)),
        syn::Expr::Macro(m) => is_diverging_macro(&m.mac),
        _ => false,
    }
}

/// Whether a block's last statement diverges (see [`diverges`]): `{ ..; return y; }` does as
/// `{ ..; return y }` does, and `{ ..; panic!(..); }` too.
pub(super) fn block_diverges(b: &syn::Block) -> bool {
    match b.stmts.last() {
        Some(SynStmt::Expr(tail, _)) => diverges(tail),
        Some(SynStmt::Macro(m)) => is_diverging_macro(&m.mac),
        _ => false,
    }
}

/// `panic!(..)`, `unreachable!(..)`, `todo!()` and `unimplemented!()`: they never give a value,
/// so a branch that ends in one gives none.
pub(super) fn is_diverging_macro(mac: &syn::Macro) -> bool {
    mac.path.segments.last().is_some_and(|s| {
        ["panic", "unreachable", "todo", "unimplemented"].contains(&s.ident.to_string().as_str())
    })
}

/// Whether a loop body leaves this loop (`break`, or `return`), and whether it `continue`s.
pub(super) fn loop_jumps(body: &syn::Block) -> (bool, bool) {
    let mut found = Jumps::default();
    found.visit_block(body);
    (found.breaks || found.returns, found.continues)
}
