//! Loops: `for` over ranges and element sources, `while` and `loop`.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Pat};

use super::iter::Source;
use super::jumps::{loop_jumps, LoopFrame};
use super::Lowerer;
use crate::ir::{Kept, Operand, Stmt, StmtKind, Value, VarId};

impl Lowerer<'_> {
    /// `for` over a range, or over the elements of slices, arrays, `Vec`s and nalgebra storage.
    pub(super) fn lower_for(&mut self, e: &syn::ExprForLoop) -> Value {
        let span = e.for_token.span;
        if let Some(rewritten) = crate::parts::rewrite_parts_loop(e) {
            return self.lower_value(&rewritten);
        }
        if let Some(rewritten) = crate::literal_loops::rewrite(e) {
            return self.lower_rewritten(&rewritten);
        }
        if e.label.is_some() {
            return self.labeled_loop(span);
        }
        if self.is_opaque_param(&e.expr) {
            // Neither indexed nor run again backwards: the reverse sweep needs both.
            return Value::Use(self.unsupported(
                e.expr.span(),
                "iterating over an `impl Trait` parameter",
                "collect it into a `Vec` first (`let xs: Vec<f64> = xs.collect();`) and iterate over that (`for x in &xs`)",
            ));
        }
        // `for x in xs.iter().filter(|v| ..)`: the loop over `xs`, its body run where the test
        // holds.
        let (iterated, filter) = match super::iter::peel_filter(&e.expr) {
            Some(peeled) => peeled,
            None => (&*e.expr, None),
        };
        let over_range = is_range(iterated) || self.is_range_name(iterated);
        let source = if over_range {
            None
        } else {
            self.element_source(iterated)
        };
        if let Some(f) = &filter {
            // Over a range the counter is the element: `source` is `None` there.
            let tested = over_range || source.is_some();
            if !tested || !super::iter::is_filterable(source.as_ref(), f) {
                let what = "filtering the elements of this loop";
                return Value::Use(self.unfiltered(f.inputs[0].span(), what));
            }
        }
        if let Some(error) = self.filter_not_last(iterated) {
            return Value::Use(error);
        }
        if source.is_none() && !over_range {
            return Value::Use(self.unsupported(e.expr.span(), "iterating over this expression", "iterate over a range (`0..n`, `.rev()`, `.step_by(k)`), or over a slice, array or `Vec` or a part of one (`xs`, `xs.iter()`, `&xs[1..]`, `.enumerate()`, `.zip(ys)`, `.skip(k)`, `.take(k)`, `.step_by(k)`, `.rev()`, `.windows(k)`, `.chunks(k)`)"));
        }
        let range = match &source {
            None => {
                let (tokens, reads) = self.rename(e.expr.to_token_stream());
                Value::Opaque {
                    tokens: quote_spanned!(e.expr.span()=> (#tokens)),
                    reads,
                    kept: Kept::Data,
                }
            }
            Some(source) => {
                let (len, reads) = self.source_len(source);
                Value::Opaque {
                    tokens: quote_spanned!(e.expr.span()=> (0..#len)),
                    reads,
                    kept: Kept::Data,
                }
            }
        };
        let range_var = self.new_temp();
        self.push_let(range_var, range, e.expr.span());

        let (breaks, continues) = loop_jumps(&e.body);
        let go = breaks.then(|| self.new_flag(true, span));
        let counter = match (&source, &*e.pat) {
            (None, Pat::Ident(pi)) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.new_local(&pi.ident, false, false)
            }
            (None, Pat::Wild(_)) | (Some(_), _) => self.new_temp(),
            (None, other) => {
                return Value::Use(self.unsupported(
                    other.span(),
                    "this loop pattern",
                    "bind the loop variable to a name or `_`",
                ));
            }
        };
        self.scopes.push(HashMap::new());
        if let (None, Pat::Ident(pi)) = (&source, &*e.pat) {
            self.bind(&pi.ident.to_string(), counter);
        }
        self.blocks.push(Vec::new());
        self.loops.push(LoopFrame { go, skip: None });
        let body_span = e.body.brace_token.span.join();
        let filter = filter.as_ref().map(|f| (f, source.as_ref()));
        if let Some(go) = go {
            // After a `break`, the remaining iterations do nothing, not even a filter's test.
            self.blocks.push(Vec::new());
            self.lower_filtered_body(filter, &source, &e.pat, counter, &e.body, continues);
            let then_block = self.blocks.pop().unwrap_or_default();
            let cond = self.condition(Operand::Var(go), body_span);
            self.push_if(cond, then_block, Vec::new(), body_span);
        } else {
            self.lower_filtered_body(filter, &source, &e.pat, counter, &e.body, continues);
        }
        self.loops.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.scopes.pop();
        if let Some(Source::Container { .. }) | Some(_) = &source {
            self.places.retain(|_, (_, index)| *index != counter);
        }
        self.push(
            StmtKind::For {
                var: counter,
                range: Operand::Var(range_var),
                body,
            },
            span,
        );
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }

    /// A loop's body, run only where a `filter` of its source keeps the element: its test
    /// comes first, and an element it drops runs nothing.
    fn lower_filtered_body(
        &mut self,
        filter: Option<(&syn::ExprClosure, Option<&Source>)>,
        source: &Option<Source>,
        pat: &Pat,
        counter: VarId,
        body: &syn::Block,
        continues: bool,
    ) {
        let Some((filter, filtered)) = filter else {
            self.lower_loop_body(source, pat, counter, body, continues);
            return;
        };
        let span = body.brace_token.span.join();
        let cond = self.filter_test(filter, filtered, counter, span);
        self.blocks.push(Vec::new());
        self.lower_loop_body(source, pat, counter, body, continues);
        let then_block = self.blocks.pop().unwrap_or_default();
        self.push_if(cond, then_block, Vec::new(), span);
    }

    /// Whether `expr` is a parameter whose type is an `impl Trait`, or a chain of methods on
    /// one (`xs.enumerate()`, `xs.into_iter().zip(ys)`).
    pub(super) fn is_opaque_param(&self, expr: &Expr) -> bool {
        let mut root = crate::syntax::strip_parens(expr);
        while let Expr::MethodCall(m) = root {
            root = crate::syntax::strip_parens(&m.receiver);
        }
        let Expr::Path(p) = root else {
            return false;
        };
        let Some(var) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) else {
            return false;
        };
        matches!(self.vars[var.0].origin, crate::ir::Origin::Param(index) if self.opaque_params.contains(&index))
    }

    fn lower_loop_body(
        &mut self,
        source: &Option<Source>,
        pat: &Pat,
        counter: VarId,
        body: &syn::Block,
        continues: bool,
    ) {
        if continues {
            let skip = self.new_flag(false, body.span());
            if let Some(frame) = self.loops.last_mut() {
                frame.skip = Some(skip);
            }
        }
        self.scopes.push(HashMap::new());
        if let Some(source) = source {
            self.bind_source(source, pat, counter);
        }
        self.lower_stmts(&body.stmts, None);
        self.scopes.pop();
    }

    /// The error for a loop with a label, which `break` and `continue` cannot name here.
    fn labeled_loop(&mut self, span: Span) -> Value {
        Value::Use(self.unsupported(
            span,
            "a labeled loop",
            "leave the outer loop through a flag: `let mut done = false;`, set `done = true; break;` in the inner loop, and `if done { break; }` (or `continue;`) after it, as the labeled `break` (or `continue`) did; removing the label alone would change what they do",
        ))
    }

    pub(super) fn lower_while(&mut self, e: &syn::ExprWhile) -> Value {
        let span = e.while_token.span;
        if e.label.is_some() {
            return self.labeled_loop(span);
        }
        if let Expr::Let(l) = &*e.cond {
            return Value::Use(self.unsupported(
                l.span(),
                "`while let`",
                "use `while` with a plain condition, or `loop` with `if`/`break`",
            ));
        }
        let (_, continues) = loop_jumps(&e.body);
        let go = self.new_flag(true, span);
        self.blocks.push(Vec::new());
        self.loops.push(LoopFrame {
            go: Some(go),
            skip: None,
        });
        let cond = self.lower_expr(&e.cond);
        let cond = self.condition(cond, e.cond.span());
        self.blocks.push(Vec::new());
        self.lower_loop_body(
            &None,
            &Pat::Verbatim(TokenStream::new()),
            go,
            &e.body,
            continues,
        );
        let then_block = self.blocks.pop().unwrap_or_default();
        let else_block = vec![Stmt {
            kind: StmtKind::Assign {
                var: go,
                value: Value::Use(Operand::Const(quote!(false))),
            },
            span,
        }];
        self.push_if(cond, then_block, else_block, span);
        self.loops.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.push(StmtKind::Loop { go, body }, span);
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }

    pub(super) fn lower_loop(&mut self, e: &syn::ExprLoop) -> Value {
        let span = e.loop_token.span;
        if e.label.is_some() {
            return self.labeled_loop(span);
        }
        let (_, continues) = loop_jumps(&e.body);
        let go = self.new_flag(true, span);
        self.blocks.push(Vec::new());
        self.loops.push(LoopFrame {
            go: Some(go),
            skip: None,
        });
        self.lower_loop_body(
            &None,
            &Pat::Verbatim(TokenStream::new()),
            go,
            &e.body,
            continues,
        );
        self.loops.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.push(StmtKind::Loop { go, body }, span);
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }
}

/// `a..b`, `a..=b`, possibly parenthesized and followed by `.rev()` / `.step_by(k)`.
fn is_range(expr: &Expr) -> bool {
    match expr {
        Expr::Range(_) => true,
        Expr::Paren(p) => is_range(&p.expr),
        Expr::MethodCall(m) if m.method == "rev" || m.method == "step_by" => is_range(&m.receiver),
        _ => false,
    }
}
