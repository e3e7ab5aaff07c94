//! Lowers a function body from syn's tree to the IR.
//!
//! Variables assigned only in straight-line code are renamed on every assignment (SSA), so the
//! reverse sweep can read every version without saving anything. Variables assigned inside a
//! branch become *locations*: one storage slot whose overwrites the reverse sweep undoes.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{BinOp, Expr, Local, Pat, Stmt as SynStmt, Type};

use crate::errors::Errors;
use crate::in_place;
use crate::ir::{
    Block, Body, Closure, MethodKind, Operand, Origin, Stmt, StmtKind, UnOp, Value, Var, VarId,
};
use crate::methods;
use crate::parse::Signature;
use crate::rename::rename_tokens;
use crate::spans::expr_span;

/// Stack left when lowering grows a new stack segment, and the size of each segment.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> Body {
    let mut locations = LocationScan::default();
    locations.visit_block(&item.block);
    let mut lowerer = Lowerer {
        vars: Vec::new(),
        scopes: vec![HashMap::new()],
        blocks: vec![Vec::new()],
        locations: locations.names,
        errors,
        loops: Vec::new(),
        early_return: None,
        places: HashMap::new(),
        outer: HashMap::new(),
        captures: Vec::new(),
        closures: Vec::new(),
    };
    for (index, param) in sig.params.iter().enumerate() {
        let id = lowerer.new_var(
            param.ident.clone(),
            Some(param.ident.to_string()),
            Origin::Param(index),
            param.is_ref,
        );
        lowerer.bind(&param.ident.to_string(), id);
        if lowerer.locations.contains(&param.ident.to_string()) {
            // A parameter overwritten inside a branch gets a location of its own.
            let local = lowerer.new_local(&param.ident, param.is_ref, true);
            lowerer.push(
                StmtKind::Let {
                    var: local,
                    ty: None,
                    value: Value::Use(Operand::Var(id)),
                },
                param.span,
            );
            lowerer.bind(&param.ident.to_string(), local);
        }
    }
    for param in &sig.params {
        if let Some(pattern) = &param.pattern {
            // `(a, b): (usize, usize)` is bound as `let (a, b): (usize, usize) = __arg0;`. Such
            // a parameter carries no gradient (`parse` rejects it otherwise), so its names are
            // data the lowering passes through as written.
            let (ident, ty) = (&param.ident, &param.ty);
            lowerer.push(
                StmtKind::Opaque {
                    tokens: quote_spanned!(param.span=> let #pattern: #ty = #ident;),
                    reads: Vec::new(),
                },
                param.span,
            );
        }
    }
    let result = if jumps(&item.block.stmts, JumpScope::Returns) {
        let span = item.block.span();
        let result_ty = sig.result_ty.clone();
        let result = lowerer.new_temp();
        lowerer.vars[result.0].is_location = true;
        lowerer.push(
            StmtKind::Let {
                var: result,
                ty: Some(result_ty),
                value: Value::Opaque {
                    tokens: quote_spanned!(span=> ::core::default::Default::default()),
                    reads: Vec::new(),
                    stopped: true,
                },
            },
            span,
        );
        let returned = lowerer.new_flag(false, span);
        lowerer.early_return = Some((result, returned));
        lowerer.scopes.push(HashMap::new());
        lowerer.lower_stmts(&item.block.stmts, Some(result));
        lowerer.scopes.pop();
        Operand::Var(result)
    } else {
        lowerer
            .lower_block_inline(&item.block)
            .unwrap_or_else(|| Operand::Const(quote!(())))
    };
    let block = lowerer.blocks.pop().unwrap_or_default();
    Body {
        vars: lowerer.vars,
        block,
        result,
        closures: lowerer.closures,
    }
}

/// Finds the variables that need a location: those assigned inside a branch (so straight-line
/// renaming cannot track them) and buffers written element by element.
#[derive(Default)]
struct LocationScan {
    depth: usize,
    names: HashSet<String>,
}

impl LocationScan {
    fn target(&mut self, target: &Expr, whole: bool) {
        match target {
            Expr::Path(p) if whole && self.depth > 0 => {
                if let Some(ident) = p.path.get_ident() {
                    self.names.insert(ident.to_string());
                }
            }
            // A buffer written element by element is one location, wherever the write is.
            Expr::Index(index) => match &*index.expr {
                Expr::Path(p) => {
                    if let Some(ident) = p.path.get_ident() {
                        self.names.insert(ident.to_string());
                    }
                }
                other => self.target(other, true),
            },
            Expr::Paren(p) => self.target(&p.expr, whole),
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for LocationScan {
    fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
        self.target(&node.left, true);
        syn::visit::visit_expr_assign(self, node);
    }
    fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
        if is_compound(&node.op) {
            self.target(&node.left, true);
        }
        syn::visit::visit_expr_binary(self, node);
    }
    fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
        self.visit_expr(&node.expr);
        self.depth += 1;
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
        self.depth += 1;
        self.visit_expr(&node.cond);
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
        self.depth += 1;
        self.visit_block(&node.body);
        self.depth -= 1;
    }
    fn visit_expr_match(&mut self, node: &'ast syn::ExprMatch) {
        self.visit_expr(&node.expr);
        self.depth += 1;
        for arm in &node.arms {
            self.visit_arm(arm);
        }
        self.depth -= 1;
    }
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let Some((a, b)) = in_place::mem_swap_operands(node) {
            if self.depth > 0 {
                self.names.insert(a.to_string());
                self.names.insert(b.to_string());
            }
        }
        syn::visit::visit_expr_call(self, node);
    }
    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let in_place = in_place::is_in_place(&node.method.to_string(), node.args.len());
        if node.method == "push" || node.method == "iter_mut" || in_place {
            // A buffer grown or written through: one storage location.
            if let Expr::Path(p) = &*node.receiver {
                if let Some(ident) = p.path.get_ident() {
                    self.names.insert(ident.to_string());
                }
            }
        }
        syn::visit::visit_expr_method_call(self, node);
    }
    fn visit_expr_if(&mut self, node: &'ast syn::ExprIf) {
        self.visit_expr(&node.cond);
        self.depth += 1;
        self.visit_block(&node.then_branch);
        if let Some((_, e)) = &node.else_branch {
            self.visit_expr(e);
        }
        self.depth -= 1;
    }
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

/// The plain operator of a compound assignment (`+=` → `+`).
fn plain_op(op: &BinOp) -> BinOp {
    match *op {
        BinOp::AddAssign(t) => BinOp::Add(syn::Token![+](t.spans[0])),
        BinOp::SubAssign(t) => BinOp::Sub(syn::Token![-](t.spans[0])),
        BinOp::MulAssign(t) => BinOp::Mul(syn::Token![*](t.spans[0])),
        BinOp::DivAssign(t) => BinOp::Div(syn::Token![/](t.spans[0])),
        BinOp::RemAssign(t) => BinOp::Rem(syn::Token![%](t.spans[0])),
        BinOp::BitXorAssign(t) => BinOp::BitXor(syn::Token![^](t.spans[0])),
        BinOp::BitAndAssign(t) => BinOp::BitAnd(syn::Token![&](t.spans[0])),
        BinOp::BitOrAssign(t) => BinOp::BitOr(syn::Token![|](t.spans[0])),
        BinOp::ShlAssign(t) => BinOp::Shl(syn::Token![<<](t.spans[0])),
        BinOp::ShrAssign(t) => BinOp::Shr(syn::Token![>>](t.spans[0])),
        other => other,
    }
}

struct Lowerer<'e> {
    vars: Vec<Var>,
    /// Name → variable, innermost scope last.
    scopes: Vec<HashMap<String, VarId>>,
    /// Blocks under construction, innermost last.
    blocks: Vec<Block>,
    locations: HashSet<String>,
    errors: &'e mut Errors,
    /// Enclosing loops, innermost last.
    loops: Vec<LoopFrame>,
    /// `(result, returned)` locations when the function has a `return`.
    early_return: Option<(VarId, VarId)>,
    /// Loop variables of `iter_mut()` loops: name → (buffer, index) of the element they stand for.
    places: HashMap<String, (VarId, VarId)>,
    /// Inside a `map` closure: the enclosing function's variables, by name.
    outer: HashMap<String, (Ident, VarId)>,
    /// Enclosing variables this closure reads.
    captures: Vec<(VarId, Span)>,
    closures: Vec<Closure>,
}

/// The flags through which `break` and `continue` leave a loop: the IR has no jumps, so a jump
/// sets a flag and the statements after it run only while the flags allow.
#[derive(Clone, Copy)]
struct LoopFrame {
    go: Option<VarId>,
    skip: Option<VarId>,
}

impl Lowerer<'_> {
    fn new_var(
        &mut self,
        ident: Ident,
        user_name: Option<String>,
        origin: Origin,
        is_ref: bool,
    ) -> VarId {
        let id = VarId(self.vars.len());
        self.vars.push(Var {
            ident,
            user_name,
            origin,
            is_ref,
            is_location: false,
            user_ref: false,
        });
        id
    }

    /// A temporary for the value of a user expression. Its name is placed nowhere
    /// in the user's code (the editor shows nothing generated on hover); the expression it
    /// holds keeps the user's span, so errors in it point there.
    fn new_temp(&mut self) -> VarId {
        let ident = Ident::new(&format!("__t{}", self.vars.len()), Span::mixed_site());
        self.new_var(ident, None, Origin::Temp, false)
    }

    fn new_local(&mut self, name: &Ident, is_ref: bool, is_location: bool) -> VarId {
        let raw = name.to_string();
        let clean = raw.trim_start_matches("r#");
        let ident = format_ident!(
            "__{}_{}",
            clean,
            self.vars.len(),
            span = Span::mixed_site().located_at(name.span())
        );
        let id = self.new_var(ident, Some(clean.to_string()), Origin::Local, is_ref);
        self.vars[id.0].is_location = is_location;
        id
    }

    fn push(&mut self, kind: StmtKind, span: Span) {
        if let Some(block) = self.blocks.last_mut() {
            block.push(Stmt { kind, span });
        }
    }

    fn bind(&mut self, name: &str, id: VarId) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), id);
        }
    }

    /// Rebinds an existing name in the scope that declared it (an assignment, not a `let`).
    fn rebind(&mut self, name: &str, id: VarId) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.get_mut(name) {
                *slot = id;
                return;
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn unsupported(&mut self, span: Span, construct: &str, help: &str) -> Operand {
        self.errors.push(
            span,
            format!("{construct} is not supported in #[differentiable] functions"),
            help,
        );
        Operand::Const(quote_spanned!(span=> ()))
    }

    /// Binds a value to a fresh temporary, or passes a plain operand through.
    fn operand_of(&mut self, value: Value, span: Span) -> Operand {
        match value {
            Value::Use(op) => op,
            value => {
                let var = self.new_temp();
                self.push(
                    StmtKind::Let {
                        var,
                        ty: None,
                        value,
                    },
                    span,
                );
                Operand::Var(var)
            }
        }
    }

    fn lower_expr(&mut self, expr: &Expr) -> Operand {
        // Lowering recurses once per operand: a deeply nested expression grows the stack on
        // the heap instead of overflowing it.
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            let value = self.lower_value(expr);
            self.operand_of(value, expr_span(expr))
        })
    }

    /// Lowers the statements of `block` into the current IR block, in a new name scope, and
    /// returns the block's value.
    fn lower_block_inline(&mut self, block: &syn::Block) -> Option<Operand> {
        self.scopes.push(HashMap::new());
        let result = self.lower_stmts(&block.stmts, None);
        self.scopes.pop();
        result
    }

    /// Lowers statements in order. After a statement that may `break`, `continue` or `return`,
    /// the rest runs under a guard on the loop and return flags. With a `sink`, the value of the
    /// statements is assigned to it instead of being returned.
    fn lower_stmts(&mut self, stmts: &[SynStmt], sink: Option<VarId>) -> Option<Operand> {
        let count = stmts.len();
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                SynStmt::Local(local) => self.lower_let(local),
                // An empty statement (`;`), which syn keeps as an empty verbatim expression.
                SynStmt::Expr(Expr::Verbatim(tokens), Some(_)) if tokens.is_empty() => {}
                SynStmt::Item(syn::Item::Verbatim(tokens))
                    if tokens.to_string().trim() == ";" || tokens.is_empty() => {}
                SynStmt::Expr(expr, semi) => {
                    let op = self.lower_expr(expr);
                    if last && semi.is_none() {
                        return match sink {
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
                self.push(
                    StmtKind::If {
                        cond: alive,
                        then_block,
                        else_block: Vec::new(),
                    },
                    span,
                );
                return None;
            }
        }
        None
    }

    /// A branch condition as it is now: a location is copied, because the branch may overwrite
    /// it and the reverse sweep must take the branch the forward sweep took.
    fn condition(&mut self, op: Operand, span: Span) -> Operand {
        match op {
            Operand::Var(v) if self.vars[v.0].is_location => {
                let snapshot = self.new_temp();
                self.push(
                    StmtKind::Let {
                        var: snapshot,
                        ty: None,
                        value: Value::Use(op),
                    },
                    span,
                );
                Operand::Var(snapshot)
            }
            other => other,
        }
    }

    /// A boolean location holding `initial`.
    fn new_flag(&mut self, initial: bool, span: Span) -> VarId {
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
    fn alive(&mut self, span: Span) -> Operand {
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
            stopped: true,
        };
        self.operand_of(value, span)
    }

    /// Lowers a block into a new IR block (a branch), returning it and its value.
    fn lower_nested_block(&mut self, block: &syn::Block) -> (Block, Option<Operand>) {
        self.blocks.push(Vec::new());
        let value = self.lower_block_inline(block);
        (self.blocks.pop().unwrap_or_default(), value)
    }

    fn lower_statement_macro(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        const STATEMENT_MACROS: &[&str] = &[
            "assert",
            "assert_eq",
            "assert_ne",
            "debug_assert",
            "debug_assert_eq",
            "debug_assert_ne",
            "println",
            "eprintln",
            "print",
            "eprint",
            "dbg",
            "panic",
            "unreachable",
            "todo",
        ];
        if !STATEMENT_MACROS.contains(&name.as_str()) {
            self.unsupported(mac.span(), &format!("the macro `{name}!`"), "only `vec![..]` and statement macros such as `assert!` are understood; compute the value with plain expressions");
            return;
        }
        let (tokens, reads) = self.rename(mac.to_token_stream());
        self.push(
            StmtKind::Opaque {
                tokens: quote!(#tokens;),
                reads,
            },
            mac.span(),
        );
    }

    /// Renames variables in user tokens kept as written; returns the variables read.
    fn rename(&mut self, tokens: TokenStream) -> (TokenStream, Vec<VarId>) {
        self.rename_except(tokens, None)
    }

    /// Renames variables in user tokens, leaving `except` (a closure's own parameter) alone.
    fn rename_except(
        &mut self,
        tokens: TokenStream,
        except: Option<&str>,
    ) -> (TokenStream, Vec<VarId>) {
        let mut reads = Vec::new();
        let mut captured = Vec::new();
        let outer = &self.outer;
        let renamed = rename_tokens(tokens, &mut |ident: &Ident| {
            let name = ident.to_string();
            if except == Some(name.as_str()) {
                return None;
            }
            let Some(id) = self.lookup(&name) else {
                let (outer_ident, id) = outer.get(&name)?;
                captured.push((*id, ident.span()));
                return Some(respan(outer_ident, ident.span()));
            };
            reads.push(id);
            let var = &self.vars[id.0];
            Some(respan(&var.ident, ident.span()))
        });
        self.captures.extend(captured);
        (renamed, reads)
    }

    fn lower_let(&mut self, local: &Local) {
        let (pat, ty) = match &local.pat {
            Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            other => (other, None),
        };
        if let Some(init) = &local.init {
            if let Some((_, diverge)) = &init.diverge {
                self.unsupported(
                    diverge.span(),
                    "`let .. else`",
                    "use `match` or `if` on values that carry no gradient",
                );
            }
        }
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                match &local.init {
                    Some(init) => {
                        let op = self.lower_expr(&init.expr);
                        self.bind_name(&pi.ident, op, ty, local.span());
                    }
                    None => {
                        let var = self.new_local(&pi.ident, false, true);
                        self.push(StmtKind::Declare { var, ty }, local.span());
                        self.bind(&name, var);
                    }
                }
            }
            Pat::Wild(_) => {
                if let Some(init) = &local.init {
                    self.lower_expr(&init.expr);
                }
            }
            Pat::Tuple(tuple) => {
                let Some(init) = &local.init else {
                    self.unsupported(
                        local.span(),
                        "a tuple `let` without a value",
                        "give the tuple a value where it is declared",
                    );
                    return;
                };
                let types: Option<Vec<Type>> = match &ty {
                    Some(Type::Tuple(t)) => Some(t.elems.iter().cloned().collect()),
                    _ => None,
                };
                if let Expr::Tuple(values) = &*init.expr {
                    if values.elems.len() == tuple.elems.len() {
                        let ops: Vec<Operand> =
                            values.elems.iter().map(|e| self.lower_expr(e)).collect();
                        for (i, (p, op)) in tuple.elems.iter().zip(ops).enumerate() {
                            let t = types.as_ref().and_then(|t| t.get(i).cloned());
                            self.bind_pattern(p, op, t);
                        }
                        return;
                    }
                }
                let whole = self.lower_expr(&init.expr);
                for (i, p) in tuple.elems.iter().enumerate() {
                    let member = syn::Member::Unnamed(syn::Index {
                        index: i as u32,
                        span: p.span(),
                    });
                    let op = self.operand_of(
                        Value::Field {
                            base: whole.clone(),
                            member,
                        },
                        p.span(),
                    );
                    let t = types.as_ref().and_then(|t| t.get(i).cloned());
                    self.bind_pattern(p, op, t);
                }
            }
            other => {
                self.unsupported(
                    other.span(),
                    "this `let` pattern",
                    "bind a plain name, `_`, or a tuple of names",
                );
            }
        }
    }

    fn bind_pattern(&mut self, pat: &Pat, op: Operand, ty: Option<Type>) {
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.bind_name(&pi.ident, op, ty, pat.span())
            }
            Pat::Wild(_) => {}
            Pat::Type(pt) => self.bind_pattern(&pt.pat, op, Some((*pt.ty).clone())),
            other => {
                self.unsupported(
                    other.span(),
                    "this `let` pattern",
                    "bind a plain name, `_`, or a tuple of names",
                );
            }
        }
    }

    /// `let name = op;`: a temporary simply takes the name; anything else gets a variable.
    fn bind_name(&mut self, name: &Ident, op: Operand, ty: Option<Type>, span: Span) {
        let key = name.to_string();
        let is_location = self.locations.contains(&key);
        if let (Operand::Var(v), None, false) = (&op, &ty, is_location) {
            if self.vars[v.0].origin == Origin::Temp {
                let var = &mut self.vars[v.0];
                var.user_name = Some(key.clone());
                self.bind(&key, *v);
                return;
            }
        }
        // `let x = &xs[i]`: the name stands for the element itself, which the reverse sweep can
        // save or recompute; a reference to it could not outlive the loop body.
        if let (Operand::Ref(v, _), false) = (&op, is_location) {
            if self.vars[v.0].origin == Origin::Temp && !self.vars[v.0].is_ref {
                let var = &mut self.vars[v.0];
                var.user_name = Some(key.clone());
                var.user_ref = true;
                self.bind(&key, *v);
                return;
            }
        }
        let is_ref = match &op {
            Operand::Var(v) => self.vars[v.0].is_ref,
            Operand::Ref(..) => true,
            Operand::Const(_) => false,
        } || matches!(ty, Some(Type::Reference(_)));
        let var = self.new_local(name, is_ref, is_location);
        self.push(
            StmtKind::Let {
                var,
                ty,
                value: Value::Use(op),
            },
            span,
        );
        self.bind(&key, var);
    }

    fn lower_assign(
        &mut self,
        left: &Expr,
        value_of: impl FnOnce(&mut Self, Option<Operand>) -> Value,
        span: Span,
    ) {
        match left {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let ident = p
                    .path
                    .get_ident()
                    .cloned()
                    .unwrap_or_else(|| Ident::new("_", span));
                let name = ident.to_string();
                let Some(current) = self.lookup(&name) else {
                    self.errors.push_plain(
                        ident.span(),
                        format!("cannot find variable `{name}` in this scope"),
                    );
                    return;
                };
                let value = value_of(self, Some(Operand::Var(current)));
                if self.vars[current.0].is_location {
                    let op = self.operand_of(value, span);
                    self.push(
                        StmtKind::Assign {
                            var: current,
                            value: Value::Use(op),
                        },
                        span,
                    );
                } else {
                    // Straight-line reassignment: a new version of the variable.
                    let is_ref = self.vars[current.0].is_ref;
                    let var = self.new_local(&ident, is_ref, false);
                    self.push(
                        StmtKind::Let {
                            var,
                            ty: None,
                            value,
                        },
                        span,
                    );
                    self.rebind(&name, var);
                }
            }
            Expr::Index(index) => {
                let Expr::Path(p) = &*index.expr else {
                    self.unsupported(
                        left.span(),
                        "assigning to this place",
                        "assign to a local variable or to an element `buf[i]` of a local buffer",
                    );
                    return;
                };
                let Some(base) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                else {
                    self.unsupported(
                        left.span(),
                        "assigning to this place",
                        "assign to a local variable or to an element `buf[i]` of a local buffer",
                    );
                    return;
                };
                let idx = self.lower_expr(&index.index);
                let current = Value::Index {
                    base: Operand::Var(base),
                    index: idx.clone(),
                };
                let current = self.operand_of(current, left.span());
                let value = value_of(self, Some(current));
                let value = self.operand_of(value, span);
                self.push(
                    StmtKind::SetIndex {
                        base,
                        index: idx,
                        value,
                    },
                    span,
                );
            }
            Expr::Paren(p) => self.lower_assign(&p.expr, value_of, span),
            Expr::Unary(u)
                if matches!(u.op, syn::UnOp::Deref(_)) && self.place_of(&u.expr).is_some() =>
            {
                let (base, index) = self.place_of(&u.expr).unwrap_or((VarId(0), VarId(0)));
                let current = Value::Index {
                    base: Operand::Var(base),
                    index: Operand::Var(index),
                };
                let current = self.operand_of(current, left.span());
                let value = value_of(self, Some(current));
                let value = self.operand_of(value, span);
                self.push(
                    StmtKind::SetIndex {
                        base,
                        index: Operand::Var(index),
                        value,
                    },
                    span,
                );
            }
            _ => {
                self.unsupported(
                    left.span(),
                    "assigning to this place",
                    "assign to a local variable or to an element `buf[i]` of a local buffer",
                );
            }
        }
    }

    fn lower_value(&mut self, expr: &Expr) -> Value {
        let span = expr_span(expr);
        match expr {
            Expr::Lit(lit) => Value::Use(Operand::Const(lit.to_token_stream())),
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    if let Some(id) = self.lookup(&ident.to_string()) {
                        return Value::Use(Operand::Var(id));
                    }
                    if let Some(&(base, index)) = self.places.get(&ident.to_string()) {
                        // An `iter_mut()` element read through auto-deref (`v.sin()`).
                        return Value::Index {
                            base: Operand::Var(base),
                            index: Operand::Var(index),
                        };
                    }
                    if let Some((outer_ident, id)) = self.outer.get(&ident.to_string()).cloned() {
                        // A closure reading a variable of the enclosing function.
                        self.captures.push((id, ident.span()));
                        let ident = respan(&outer_ident, ident.span());
                        return Value::Use(Operand::Const(quote!(#ident)));
                    }
                }
                Value::Use(Operand::Const(p.to_token_stream()))
            }
            Expr::Paren(p) => self.lower_value(&p.expr),
            Expr::Group(g) => self.lower_value(&g.expr),
            Expr::Binary(b) if is_compound(&b.op) => {
                let op = plain_op(&b.op);
                let rhs_expr = &*b.right;
                self.lower_assign(
                    &b.left,
                    |this, current| {
                        let rhs = this.lower_expr(rhs_expr);
                        let lhs = current.unwrap_or(Operand::Const(quote!(())));
                        Value::Binary { op, lhs, rhs }
                    },
                    span,
                );
                Value::Use(Operand::Const(quote_spanned!(span=> ())))
            }
            Expr::Binary(b) if matches!(b.op, BinOp::And(_) | BinOp::Or(_)) => self.lower_logic(b),
            Expr::Binary(b) => {
                let lhs = self.lower_expr(&b.left);
                let rhs = self.lower_expr(&b.right);
                Value::Binary { op: b.op, lhs, rhs }
            }
            Expr::Unary(u)
                if matches!(u.op, syn::UnOp::Deref(_)) && self.place_of(&u.expr).is_some() =>
            {
                let (base, index) = self.place_of(&u.expr).unwrap_or((VarId(0), VarId(0)));
                Value::Index {
                    base: Operand::Var(base),
                    index: Operand::Var(index),
                }
            }
            Expr::Unary(u) => {
                let arg = self.lower_expr(&u.expr);
                let op = match u.op {
                    syn::UnOp::Neg(_) => UnOp::Neg,
                    syn::UnOp::Not(_) => UnOp::Not,
                    syn::UnOp::Deref(_) => UnOp::Deref,
                    _ => {
                        return Value::Use(self.unsupported(
                            span,
                            "this unary operator",
                            "use `-`, `!` or `*`",
                        ))
                    }
                };
                Value::Unary { op, arg }
            }
            Expr::Reference(r) => {
                if r.mutability.is_some() {
                    return Value::Use(self.unsupported(
                        span,
                        "`&mut` borrows",
                        "pass values by `&` or by value",
                    ));
                }
                match self.lower_expr(&r.expr) {
                    Operand::Var(v) => Value::Use(Operand::Ref(v, r.and_token.span)),
                    Operand::Ref(v, s) => {
                        let temp = self.operand_of(Value::Use(Operand::Ref(v, s)), span);
                        match temp {
                            Operand::Var(t) => Value::Use(Operand::Ref(t, r.and_token.span)),
                            other => Value::Use(other),
                        }
                    }
                    Operand::Const(c) => Value::Use(Operand::Const(quote_spanned!(span=> &#c))),
                }
            }
            Expr::Cast(c) => {
                let arg = self.lower_expr(&c.expr);
                Value::Cast {
                    arg,
                    ty: (*c.ty).clone(),
                }
            }
            Expr::MethodCall(m) if m.method == "sum" && m.args.is_empty() => {
                match self.lower_reduction(&m.receiver) {
                    Some(value) => value,
                    None => self.lower_method(m),
                }
            }
            Expr::MethodCall(m) if m.method == "push" && m.args.len() == 1 => {
                let base = match &*m.receiver {
                    Expr::Path(p) => p.path.get_ident().and_then(|i| self.lookup(&i.to_string())),
                    _ => None,
                };
                match base {
                    Some(base) if self.vars[base.0].is_location => {
                        let value = self.lower_expr(&m.args[0]);
                        self.push(StmtKind::Push { base, value }, span);
                        Value::Use(Operand::Const(quote_spanned!(span=> ())))
                    }
                    _ => self.lower_method(m),
                }
            }
            Expr::MethodCall(m)
                if m.method == "map"
                    && m.args.len() == 1
                    && matches!(&m.args[0], Expr::Closure(c) if c.inputs.len() == 1) =>
            {
                let receiver = self.lower_expr(&m.receiver);
                let Expr::Closure(closure) = &m.args[0] else {
                    return Value::Use(Operand::Const(quote!(())));
                };
                match self.lower_closure(closure) {
                    Some(index) => Value::Method {
                        receiver,
                        method: m.method.clone(),
                        turbofish: None,
                        qualified: None,
                        args: Vec::new(),
                        kind: MethodKind::Map(index),
                    },
                    None => Value::Use(Operand::Const(quote!(()))),
                }
            }
            Expr::MethodCall(m) => match self.in_place_rewrite(m) {
                Some(rewritten) => self.lower_value(&rewritten),
                None => self.lower_method(m),
            },
            Expr::Call(call) => match in_place::rewrite_mem_swap(call) {
                Some(rewritten) => self.lower_value(&rewritten),
                None => self.lower_call(call),
            },
            Expr::Index(i) => {
                let base = self.lower_expr(&i.expr);
                let index = self.lower_expr(&i.index);
                Value::Index { base, index }
            }
            Expr::Field(f) => {
                let base = self.lower_expr(&f.base);
                Value::Field {
                    base,
                    member: f.member.clone(),
                }
            }
            Expr::Tuple(t) => {
                if t.elems.is_empty() {
                    return Value::Use(Operand::Const(quote_spanned!(span=> ())));
                }
                Value::Tuple(t.elems.iter().map(|e| self.lower_expr(e)).collect())
            }
            Expr::Block(b) => {
                if b.label.is_some() {
                    return Value::Use(self.unsupported(
                        span,
                        "a labeled block",
                        "remove the label",
                    ));
                }
                // A plain block only scopes names: its statements run in line.
                let op = self.lower_block_inline(&b.block);
                Value::Use(op.unwrap_or(Operand::Const(quote_spanned!(span=> ()))))
            }
            Expr::If(e) => self.lower_if(e),
            Expr::Assign(a) => {
                let rhs_expr = &*a.right;
                self.lower_assign(
                    &a.left,
                    |this, _| Value::Use(this.lower_expr(rhs_expr)),
                    span,
                );
                Value::Use(Operand::Const(quote_spanned!(span=> ())))
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let (tokens, _) = self.rename(m.mac.to_token_stream());
                // Only the element values matter for gradients, not the length (`vec![0.0; n]`).
                let inner = &m.mac.tokens;
                let elements = match syn::parse2::<syn::ExprRepeat>(quote!([#inner])) {
                    Ok(repeat) => repeat.expr.to_token_stream(),
                    Err(_) => inner.clone(),
                };
                let (_, reads) = self.rename(elements);
                Value::Opaque {
                    tokens,
                    reads,
                    stopped: false,
                }
            }
            Expr::Macro(m) => Value::Use(self.unsupported(
                span,
                &format!(
                        "the macro `{}!` in expression position",
                        m.mac
                            .path
                            .segments
                            .last()
                            .map(|s| s.ident.to_string())
                            .unwrap_or_default()
                    ),
                "compute the value with plain expressions",
            )),
            Expr::Unsafe(_) => Value::Use(self.unsupported(
                span,
                "an `unsafe` block",
                "move the unsafe code into a function called on values that carry no gradient",
            )),
            Expr::Closure(_) => Value::Use(self.unsupported(
                span,
                "a closure",
                "closures are understood only as the argument of an element-wise `map`",
            )),
            Expr::Async(_) | Expr::Await(_) => Value::Use(self.unsupported(
                span,
                "async code",
                "differentiate a synchronous function",
            )),
            Expr::Try(_) => Value::Use(self.unsupported(
                span,
                "the `?` operator",
                "handle errors outside the #[differentiable] function",
            )),
            Expr::ForLoop(e) => self.lower_for(e),
            Expr::While(e) => self.lower_while(e),
            Expr::Loop(e) => self.lower_loop(e),
            Expr::Break(e) => self.lower_break(e),
            Expr::Continue(e) => self.lower_continue(e),
            Expr::Return(e) => self.lower_return(e),
            Expr::Match(m) => self.lower_match(m),
            Expr::Struct(_) => Value::Use(self.unsupported(
                span,
                "a struct literal",
                "pass the fields as separate parameters",
            )),
            Expr::Range(_) => Value::Use(self.unsupported(
                span,
                "a range outside a `for` loop",
                "use ranges only as `for` loop bounds",
            )),
            Expr::Array(_) | Expr::Repeat(_) => Value::Use(self.unsupported(
                span,
                "an array literal",
                "build the values with separate `let`s",
            )),
            Expr::Let(_) => Value::Use(self.unsupported(
                span,
                "`let` in a condition",
                "use `match` or a plain `if`",
            )),
            _ => Value::Use(self.unsupported(
                span,
                "this expression",
                "use the constructs listed in nabla's documentation",
            )),
        }
    }

    /// Lowers the closure of an element-wise `map` as a function of its one scalar parameter.
    fn lower_closure(&mut self, closure: &syn::ExprClosure) -> Option<usize> {
        let span = closure.span();
        let param = match &closure.inputs[0] {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            Pat::Reference(r) => match &*r.pat {
                Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    self.unsupported(
                        other.span(),
                        "this closure parameter",
                        "name the element: `|x| ..`",
                    );
                    return None;
                }
            },
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    self.unsupported(
                        other.span(),
                        "this closure parameter",
                        "name the element: `|x| ..`",
                    );
                    return None;
                }
            },
            other => {
                self.unsupported(
                    other.span(),
                    "this closure parameter",
                    "name the element: `|x| ..`",
                );
                return None;
            }
        };
        if closure.capture.is_some() || closure.asyncness.is_some() || closure.constness.is_some() {
            self.unsupported(
                span,
                "a `move`, `async` or `const` closure",
                "write a plain closure `|x| ..`",
            );
            return None;
        }
        let mut outer = self.outer.clone();
        for scope in &self.scopes {
            for (name, id) in scope {
                outer.insert(name.clone(), (self.vars[id.0].ident.clone(), *id));
            }
        }
        let mut scan = LocationScan::default();
        scan.visit_expr(&closure.body);
        let mut inner = Lowerer {
            vars: Vec::new(),
            scopes: vec![HashMap::new()],
            blocks: vec![Vec::new()],
            locations: scan.names,
            errors: &mut *self.errors,
            loops: Vec::new(),
            early_return: None,
            places: HashMap::new(),
            outer,
            captures: Vec::new(),
            closures: Vec::new(),
        };
        let x = inner.new_var(
            param.clone(),
            Some(param.to_string()),
            Origin::Param(0),
            false,
        );
        inner.bind(&param.to_string(), x);
        let result = inner.lower_expr(&closure.body);
        let body = Body {
            vars: inner.vars,
            block: inner.blocks.pop().unwrap_or_default(),
            result,
            closures: inner.closures,
        };
        let mut captures = inner.captures;
        // One entry per captured variable, at its first use.
        let mut seen = HashSet::new();
        captures.retain(|(v, _)| seen.insert(*v));
        // The forward sweep runs the closure as written; its parameter keeps its own name.
        let (forward, _) = self.rename_except(closure.to_token_stream(), Some(&param.to_string()));
        self.closures.push(Closure {
            body,
            forward,
            captures,
        });
        Some(self.closures.len() - 1)
    }

    /// An in-place method on a local buffer, as the element writes it performs (see
    /// `in_place.rs`).
    fn in_place_rewrite(&self, m: &syn::ExprMethodCall) -> Option<Expr> {
        let name = in_place::receiver_name(m)?;
        let var = self.lookup(&name.to_string())?;
        if !self.vars[var.0].is_location {
            return None;
        }
        in_place::rewrite(m)
    }

    fn lower_method(&mut self, m: &syn::ExprMethodCall) -> Value {
        let receiver = self.lower_expr(&m.receiver);
        let args: Vec<Operand> = m.args.iter().map(|a| self.lower_expr(a)).collect();
        let name = m.method.to_string();
        let kind = method_kind(&name, args.len());
        Value::Method {
            receiver,
            method: m.method.clone(),
            turbofish: m.turbofish.as_ref().map(|t| t.to_token_stream()),
            qualified: None,
            args,
            kind,
        }
    }

    /// The buffer element an `iter_mut()` loop variable stands for.
    fn place_of(&self, expr: &Expr) -> Option<(VarId, VarId)> {
        match expr {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.places.get(&i.to_string()).copied()),
            Expr::Paren(p) => self.place_of(&p.expr),
            _ => None,
        }
    }

    /// Reads an iterator chain over containers: `xs`, `&xs`, `xs.iter()`, `xs.iter_mut()`,
    /// `.enumerate()`, `.zip(ys)`, `.copied()`/`.cloned()`.
    fn element_source(&mut self, expr: &Expr) -> Option<Source> {
        match expr {
            Expr::Paren(p) => self.element_source(&p.expr),
            Expr::Reference(r) if r.mutability.is_none() => match self.element_source(&r.expr)? {
                Source::Container { var, .. } => Some(Source::Container {
                    var,
                    by_ref: true,
                    place: false,
                }),
                _ => None,
            },
            Expr::Path(p) => {
                let var = self.lookup(&p.path.get_ident()?.to_string())?;
                let by_ref = self.vars[var.0].is_ref;
                Some(Source::Container {
                    var,
                    by_ref,
                    place: false,
                })
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                match (name.as_str(), m.args.len()) {
                    ("iter", 0) => match self.element_source(&m.receiver)? {
                        Source::Container { var, .. } => Some(Source::Container {
                            var,
                            by_ref: true,
                            place: false,
                        }),
                        _ => None,
                    },
                    ("iter_mut", 0) => match self.element_source(&m.receiver)? {
                        Source::Container { var, .. } => Some(Source::Container {
                            var,
                            by_ref: true,
                            place: true,
                        }),
                        _ => None,
                    },
                    ("copied" | "cloned", 0) => match self.element_source(&m.receiver)? {
                        Source::Container {
                            var, place: false, ..
                        } => Some(Source::Container {
                            var,
                            by_ref: false,
                            place: false,
                        }),
                        _ => None,
                    },
                    ("enumerate", 0) => Some(Source::Enumerate(Box::new(
                        self.element_source(&m.receiver)?,
                    ))),
                    ("zip", 1) => {
                        let a = self.element_source(&m.receiver)?;
                        let b = self.element_source(&m.args[0])?;
                        // `a.zip(b)` takes `b` by `IntoIterator`: a container yields references.
                        let b = match b {
                            Source::Container { var, by_ref, place } => {
                                let by_ref = by_ref
                                    || self.vars[var.0].is_ref
                                    || !matches!(&m.args[0], Expr::Path(_));
                                Source::Container { var, by_ref, place }
                            }
                            other => other,
                        };
                        Some(Source::Zip(Box::new(a), Box::new(b)))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The number of elements a source yields, as tokens, and the variables it reads.
    fn source_len(&self, source: &Source) -> (TokenStream, Vec<VarId>) {
        match source {
            Source::Container { var, .. } => {
                let ident = &self.vars[var.0].ident;
                (quote!(#ident.len()), vec![*var])
            }
            Source::Enumerate(inner) => self.source_len(inner),
            Source::Zip(a, b) => {
                let (a, mut ra) = self.source_len(a);
                let (b, rb) = self.source_len(b);
                ra.extend(rb);
                (quote!(::core::cmp::min(#a, #b)), ra)
            }
        }
    }

    /// Binds a loop pattern to the element(s) at `index`.
    fn bind_source(&mut self, source: &Source, pat: &Pat, index: VarId) {
        let span = pat.span();
        match (source, pat) {
            (_, Pat::Wild(_)) => {}
            (_, Pat::Paren(p)) => self.bind_source(source, &p.pat, index),
            (
                Source::Container {
                    var, place: true, ..
                },
                Pat::Ident(pi),
            ) => {
                self.places.insert(pi.ident.to_string(), (*var, index));
            }
            (Source::Container { var, by_ref, .. }, _) => {
                let elem = Value::Index {
                    base: Operand::Var(*var),
                    index: Operand::Var(index),
                };
                let elem = self.operand_of(elem, span);
                match pat {
                    Pat::Reference(r) => self.bind_pattern(&r.pat, elem, None),
                    // A reference to an element reads as the element: `*x`, `x * w` and
                    // `x.sin()` mean the same on both; passed to a function, it is `&elem`.
                    other => {
                        if let (true, Operand::Var(v)) = (*by_ref, &elem) {
                            self.vars[v.0].user_ref = true;
                        }
                        self.bind_pattern(other, elem, None)
                    }
                }
            }
            (Source::Enumerate(inner), Pat::Tuple(t)) if t.elems.len() == 2 => {
                self.bind_pattern(&t.elems[0], Operand::Var(index), None);
                self.bind_source(inner, &t.elems[1], index);
            }
            (Source::Zip(a, b), Pat::Tuple(t)) if t.elems.len() == 2 => {
                self.bind_source(a, &t.elems[0], index);
                self.bind_source(b, &t.elems[1], index);
            }
            _ => {
                self.unsupported(
                    span,
                    "this loop pattern",
                    "destructure `.enumerate()` as `(i, x)` and `.zip(..)` as `(a, b)`",
                );
            }
        }
    }

    /// `for` over a range, or over the elements of slices, arrays, `Vec`s and nalgebra storage.
    fn lower_for(&mut self, e: &syn::ExprForLoop) -> Value {
        let span = e.for_token.span;
        if e.label.is_some() {
            return Value::Use(self.unsupported(
                span,
                "a labeled loop",
                "remove the label; `break` leaves the innermost loop",
            ));
        }
        let source = if is_range(&e.expr) {
            None
        } else {
            self.element_source(&e.expr)
        };
        if source.is_none() && !is_range(&e.expr) {
            return Value::Use(self.unsupported(e.expr.span(), "iterating over this expression", "iterate over a range (`0..n`, `.rev()`, `.step_by(k)`), or over a slice, array or `Vec` (`xs`, `xs.iter()`, `.enumerate()`, `.zip(ys)`)"));
        }
        let range = match &source {
            None => {
                let (tokens, reads) = self.rename(e.expr.to_token_stream());
                Value::Opaque {
                    tokens: quote_spanned!(e.expr.span()=> (#tokens)),
                    reads,
                    stopped: true,
                }
            }
            Some(source) => {
                let (len, reads) = self.source_len(source);
                Value::Opaque {
                    tokens: quote_spanned!(e.expr.span()=> (0..#len)),
                    reads,
                    stopped: true,
                }
            }
        };
        let range_var = self.new_temp();
        self.push(
            StmtKind::Let {
                var: range_var,
                ty: None,
                value: range,
            },
            e.expr.span(),
        );

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
        let body_span = e.body.span();
        if let Some(go) = go {
            // After a `break`, the remaining iterations do nothing.
            self.blocks.push(Vec::new());
            self.lower_loop_body(&source, &e.pat, counter, &e.body, continues);
            let then_block = self.blocks.pop().unwrap_or_default();
            let cond = self.condition(Operand::Var(go), body_span);
            self.push(
                StmtKind::If {
                    cond,
                    then_block,
                    else_block: Vec::new(),
                },
                body_span,
            );
        } else {
            self.lower_loop_body(&source, &e.pat, counter, &e.body, continues);
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

    fn lower_while(&mut self, e: &syn::ExprWhile) -> Value {
        let span = e.while_token.span;
        if e.label.is_some() {
            return Value::Use(self.unsupported(
                span,
                "a labeled loop",
                "remove the label; `break` leaves the innermost loop",
            ));
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
        self.push(
            StmtKind::If {
                cond,
                then_block,
                else_block,
            },
            span,
        );
        self.loops.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.push(StmtKind::Loop { go, body }, span);
        Value::Use(Operand::Const(quote_spanned!(span=> ())))
    }

    fn lower_loop(&mut self, e: &syn::ExprLoop) -> Value {
        let span = e.loop_token.span;
        if e.label.is_some() {
            return Value::Use(self.unsupported(
                span,
                "a labeled loop",
                "remove the label; `break` leaves the innermost loop",
            ));
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

    fn lower_break(&mut self, e: &syn::ExprBreak) -> Value {
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

    fn lower_continue(&mut self, e: &syn::ExprContinue) -> Value {
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

    fn lower_return(&mut self, e: &syn::ExprReturn) -> Value {
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

    /// `match` on a value that carries no gradient, lowered to `if`/`else if` on `matches!`.
    fn lower_match(&mut self, m: &syn::ExprMatch) -> Value {
        let span = m.match_token.span;
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
        if pattern_binds(&arm.pat) {
            self.unsupported(
                arm.pat.span(),
                "a `match` pattern that binds variables",
                "match on plain values (literals, ranges, paths, `_`) and read the data in the arm",
            );
            return;
        }
        // syn keeps a guard in the pattern: `Some(x) if x > 0` is a `Pat::Guard`.
        let (pat, arm_guard) = match &arm.pat {
            Pat::Guard(g) => (&*g.pat, Some(&*g.guard)),
            other => (other, None),
        };
        let ident = self.vars[scrutinee.0].ident.clone();
        let guard = match arm_guard {
            Some(g) => {
                let (tokens, _) = self.rename(g.to_token_stream());
                quote!(&& (#tokens))
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
            let value = this.lower_expr(&arm.body);
            this.scopes.pop();
            if let Some(r) = result {
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
            stopped: true,
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

    /// `xs.iter().sum()`, `xs.iter().map(|x| ..).sum()`, `xs.iter().zip(ys).map(|(a, b)| ..).sum()`
    /// as a loop that accumulates.
    fn lower_reduction(&mut self, receiver: &Expr) -> Option<Value> {
        let (source_expr, closure) = match receiver {
            Expr::MethodCall(m) if m.method == "map" && m.args.len() == 1 => match &m.args[0] {
                Expr::Closure(c) if c.inputs.len() == 1 => (&*m.receiver, Some(c)),
                _ => return None,
            },
            other => (other, None),
        };
        if !matches!(source_expr, Expr::MethodCall(_)) {
            return None;
        }
        let source = self.element_source(source_expr)?;
        let span = receiver.span();
        let (len, reads) = self.source_len(&source);
        let range = Value::Opaque {
            tokens: quote_spanned!(span=> (0..#len)),
            reads,
            stopped: true,
        };
        let range_var = self.operand_of(range, span);
        let acc = self.new_temp();
        self.vars[acc.0].is_location = true;
        self.push(
            StmtKind::Let {
                var: acc,
                ty: None,
                value: Value::Use(Operand::Const(quote_spanned!(span=> 0.0))),
            },
            span,
        );
        let counter = self.new_temp();
        self.blocks.push(Vec::new());
        self.scopes.push(HashMap::new());
        let term = match closure {
            Some(c) => {
                self.bind_source(&source, &c.inputs[0], counter);
                self.lower_expr(&c.body)
            }
            None => {
                let elem = Value::Index {
                    base: Operand::Var(source_var(&source)),
                    index: Operand::Var(counter),
                };
                self.operand_of(elem, span)
            }
        };
        let sum = Value::Binary {
            op: BinOp::Add(syn::Token![+](span)),
            lhs: Operand::Var(acc),
            rhs: term,
        };
        let sum = self.operand_of(sum, span);
        self.push(
            StmtKind::Assign {
                var: acc,
                value: Value::Use(sum),
            },
            span,
        );
        self.scopes.pop();
        let body = self.blocks.pop().unwrap_or_default();
        self.push(
            StmtKind::For {
                var: counter,
                range: range_var,
                body,
            },
            span,
        );
        Some(Value::Use(Operand::Var(acc)))
    }

    fn lower_call(&mut self, call: &syn::ExprCall) -> Value {
        let span = call.span();
        let Expr::Path(func) = &*call.func else {
            return Value::Use(self.unsupported(
                call.func.span(),
                "calling this expression",
                "call a function by its path",
            ));
        };
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let last = segments.last().cloned().unwrap_or_default();
        if last == "stop_gradient"
            && call.args.len() == 1
            && func
                .path
                .segments
                .last()
                .is_some_and(|s| s.arguments.is_none())
        {
            let (tokens, reads) = self.rename(call.args.to_token_stream());
            return Value::Opaque {
                tokens: quote_spanned!(span=> (#tokens)),
                reads,
                stopped: true,
            };
        }
        // `f64::exp(x)` is `x.exp()`.
        if segments.len() == 2
            && matches!(segments[0].as_str(), "f32" | "f64")
            && !call.args.is_empty()
            && methods::is_float_method_name(&last)
        {
            let receiver = self.lower_expr(&call.args[0]);
            let args: Vec<Operand> = call
                .args
                .iter()
                .skip(1)
                .map(|a| self.lower_expr(a))
                .collect();
            let method = func
                .path
                .segments
                .last()
                .map(|s| s.ident.clone())
                .unwrap_or_else(|| Ident::new("exp", span));
            let kind = method_kind(&last, args.len());
            return Value::Method {
                receiver,
                method,
                turbofish: None,
                qualified: Some(func.path.segments[0].ident.to_token_stream()),
                args,
                kind,
            };
        }
        let args = call.args.iter().map(|a| self.lower_expr(a)).collect();
        let segments = &func.path.segments;
        if segments.len() >= 2
            && last == "new"
            && crate::parse::is_nalgebra_type(&segments[segments.len() - 2].ident.to_string())
        {
            return Value::Construct {
                func: func.clone(),
                args,
            };
        }
        Value::Call {
            func: func.clone(),
            args,
        }
    }

    /// `a && b` runs `b` only when `a` holds: it is lowered as `if a { b } else { false }`.
    fn lower_logic(&mut self, b: &syn::ExprBinary) -> Value {
        let span = b.span();
        let lhs = self.lower_expr(&b.left);
        let result = self.new_temp();
        self.vars[result.0].is_location = true;
        self.push(
            StmtKind::Declare {
                var: result,
                ty: Some(syn::parse_quote!(bool)),
            },
            span,
        );
        self.blocks.push(Vec::new());
        let rhs = self.lower_expr(&b.right);
        self.push(
            StmtKind::Assign {
                var: result,
                value: Value::Use(rhs),
            },
            span,
        );
        let evaluated = self.blocks.pop().unwrap_or_default();
        let short = vec![Stmt {
            kind: StmtKind::Assign {
                var: result,
                value: Value::Use(Operand::Const(if matches!(b.op, BinOp::And(_)) {
                    quote!(false)
                } else {
                    quote!(true)
                })),
            },
            span,
        }];
        let (then_block, else_block) = if matches!(b.op, BinOp::And(_)) {
            (evaluated, short)
        } else {
            (short, evaluated)
        };
        self.push(
            StmtKind::If {
                cond: lhs,
                then_block,
                else_block,
            },
            span,
        );
        Value::Use(Operand::Var(result))
    }

    fn lower_if(&mut self, e: &syn::ExprIf) -> Value {
        let span = e.if_token.span;
        if let Expr::Let(l) = &*e.cond {
            return Value::Use(self.unsupported(
                l.span(),
                "`if let`",
                "use `match` on values that carry no gradient, or a plain `if`",
            ));
        }
        let cond = self.lower_expr(&e.cond);
        let cond = self.condition(cond, e.cond.span());
        let produces_value = e
            .then_branch
            .stmts
            .last()
            .is_some_and(|s| matches!(s, SynStmt::Expr(_, None)))
            && e.else_branch.is_some();
        let result = produces_value.then(|| {
            let var = self.new_temp();
            self.vars[var.0].is_location = true;
            self.push(StmtKind::Declare { var, ty: None }, span);
            var
        });
        let (mut then_block, then_value) = self.lower_nested_block(&e.then_branch);
        if let (Some(r), Some(v)) = (result, then_value) {
            then_block.push(Stmt {
                kind: StmtKind::Assign {
                    var: r,
                    value: Value::Use(v),
                },
                span: e.then_branch.span(),
            });
        }
        let else_block = match &e.else_branch {
            Some((_, else_expr)) => {
                self.blocks.push(Vec::new());
                let v = match &**else_expr {
                    Expr::Block(b) => self.lower_block_inline(&b.block),
                    other => Some(self.lower_expr(other)),
                };
                if let (Some(r), Some(v)) = (result, v) {
                    self.push(
                        StmtKind::Assign {
                            var: r,
                            value: Value::Use(v),
                        },
                        else_expr.span(),
                    );
                }
                self.blocks.pop().unwrap_or_default()
            }
            None => Vec::new(),
        };
        self.push(
            StmtKind::If {
                cond,
                then_block,
                else_block,
            },
            span,
        );
        match result {
            Some(r) => Value::Use(Operand::Var(r)),
            None => Value::Use(Operand::Const(quote_spanned!(span=> ()))),
        }
    }
}

fn method_kind(name: &str, args: usize) -> MethodKind {
    if let Some(index) = methods::trait_method(name, args) {
        MethodKind::Trait(index)
    } else if let Some(index) = methods::float_method(name, args) {
        MethodKind::Float(index)
    } else if methods::STEP_METHODS.contains(&name) {
        MethodKind::Step
    } else if methods::IDENTITY_METHODS.contains(&name) && args == 0 {
        MethodKind::Identity
    } else if methods::QUERY_METHODS.contains(&name) {
        MethodKind::Query
    } else {
        MethodKind::Unknown
    }
}

#[derive(Clone, Copy, PartialEq)]
enum JumpScope {
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
fn jumps(stmts: &[SynStmt], scope: JumpScope) -> bool {
    let mut found = Jumps::default();
    for stmt in stmts {
        found.visit_stmt(stmt);
    }
    found.returns || (scope == JumpScope::All && (found.breaks || found.continues))
}

/// Whether a loop body leaves this loop (`break`, or `return`), and whether it `continue`s.
fn loop_jumps(body: &syn::Block) -> (bool, bool) {
    let mut found = Jumps::default();
    found.visit_block(body);
    (found.breaks || found.returns, found.continues)
}

/// Where the elements of an element loop come from.
enum Source {
    /// A slice, array, `Vec` or nalgebra storage; `by_ref` when its elements are references,
    /// `place` for `iter_mut()`.
    Container {
        var: VarId,
        by_ref: bool,
        place: bool,
    },
    Enumerate(Box<Source>),
    Zip(Box<Source>, Box<Source>),
}

fn source_var(source: &Source) -> VarId {
    match source {
        Source::Container { var, .. } => *var,
        Source::Enumerate(inner) => source_var(inner),
        Source::Zip(a, _) => source_var(a),
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

/// Whether a `match` pattern binds a variable (an identifier that is not a constant path).
fn pattern_binds(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(pi) => {
            let name = pi.ident.to_string();
            // Upper-case names are constants or unit variants, as rustc's own lint assumes.
            !name.chars().next().is_some_and(|c| c.is_uppercase()) || pi.subpat.is_some()
        }
        Pat::Or(o) => o.cases.iter().any(pattern_binds),
        Pat::Tuple(t) => t.elems.iter().any(pattern_binds),
        Pat::TupleStruct(t) => t.elems.iter().any(pattern_binds),
        Pat::Struct(s) => s.fields.iter().any(|f| pattern_binds(&f.pat)),
        Pat::Reference(r) => pattern_binds(&r.pat),
        Pat::Slice(s) => s.elems.iter().any(pattern_binds),
        Pat::Paren(p) => pattern_binds(&p.pat),
        Pat::Type(t) => pattern_binds(&t.pat),
        Pat::Guard(g) => pattern_binds(&g.pat),
        _ => false,
    }
}

/// `()`, the value of statements such as an `if` without `else`.
fn is_unit(op: &Operand) -> bool {
    matches!(op, Operand::Const(c) if c.to_string().replace(' ', "") == "()")
}

/// A generated binding's identifier, placed at the user's token that reads it (raw identifiers
/// such as `r#in` stay raw).
fn respan(ident: &Ident, at: Span) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(ident.span().located_at(at));
    ident
}
