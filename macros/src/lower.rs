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
use crate::ir::{
    Block, Body, MethodKind, Operand, Origin, Stmt, StmtKind, UnOp, Value, Var, VarId,
};
use crate::methods;
use crate::parse::Signature;
use crate::rename::rename_tokens;

pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> Body {
    let mut locations = LocationScan::default();
    locations.visit_block(&item.block);
    let mut lowerer = Lowerer {
        vars: Vec::new(),
        scopes: vec![HashMap::new()],
        blocks: vec![Vec::new()],
        locations: locations.names,
        errors,
    };
    for (index, param) in sig.params.iter().enumerate() {
        let id = lowerer.new_var(
            param.ident.clone(),
            Some(param.ident.to_string()),
            param.span,
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
    let result = lowerer.lower_block_inline(&item.block);
    let block = lowerer.blocks.pop().unwrap_or_default();
    let result = result.unwrap_or_else(|| Operand::Const(quote!(())));
    Body {
        vars: lowerer.vars,
        block,
        result,
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
            Expr::Index(index) => self.target(&index.expr, true),
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
}

impl Lowerer<'_> {
    fn new_var(
        &mut self,
        ident: Ident,
        user_name: Option<String>,
        span: Span,
        origin: Origin,
        is_ref: bool,
    ) -> VarId {
        let id = VarId(self.vars.len());
        self.vars.push(Var {
            ident,
            user_name,
            span,
            origin,
            is_ref,
            is_location: false,
        });
        id
    }

    fn new_temp(&mut self, span: Span) -> VarId {
        let ident = Ident::new(
            &format!("__t{}", self.vars.len()),
            Span::mixed_site().located_at(span),
        );
        self.new_var(ident, None, span, Origin::Temp, false)
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
        let id = self.new_var(
            ident,
            Some(clean.to_string()),
            name.span(),
            Origin::Local,
            is_ref,
        );
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
                let var = self.new_temp(span);
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
        let value = self.lower_value(expr);
        self.operand_of(value, expr.span())
    }

    /// Lowers the statements of `block` into the current IR block, in a new name scope, and
    /// returns the block's value.
    fn lower_block_inline(&mut self, block: &syn::Block) -> Option<Operand> {
        self.scopes.push(HashMap::new());
        let mut result = None;
        let count = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                SynStmt::Local(local) => self.lower_let(local),
                SynStmt::Expr(expr, semi) => {
                    let op = self.lower_expr(expr);
                    if last && semi.is_none() {
                        result = Some(op);
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
        }
        self.scopes.pop();
        result
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
    fn rename(&self, tokens: TokenStream) -> (TokenStream, Vec<VarId>) {
        let mut reads = Vec::new();
        let renamed = rename_tokens(tokens, &mut |ident: &Ident| {
            let id = self.lookup(&ident.to_string())?;
            reads.push(id);
            let var = &self.vars[id.0];
            Some(Ident::new(
                &var.ident.to_string(),
                var.ident.span().located_at(ident.span()),
            ))
        });
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
        let span = expr.span();
        match expr {
            Expr::Lit(lit) => Value::Use(Operand::Const(lit.to_token_stream())),
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    if let Some(id) = self.lookup(&ident.to_string()) {
                        return Value::Use(Operand::Var(id));
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
            Expr::MethodCall(m) => {
                let receiver = self.lower_expr(&m.receiver);
                let args: Vec<Operand> = m.args.iter().map(|a| self.lower_expr(a)).collect();
                let name = m.method.to_string();
                let kind = method_kind(&name, args.len());
                Value::Method {
                    receiver,
                    method: m.method.clone(),
                    turbofish: m.turbofish.as_ref().map(|t| t.to_token_stream()),
                    args,
                    kind,
                }
            }
            Expr::Call(call) => self.lower_call(call),
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
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                Value::Use(self.unsupported(span, "a loop", "write the computation without loops"))
            }
            Expr::Match(_) => Value::Use(self.unsupported(span, "`match`", "use `if`/`else`")),
            Expr::Return(_) => Value::Use(self.unsupported(
                span,
                "`return`",
                "end the function with its result expression",
            )),
            Expr::Break(_) | Expr::Continue(_) => {
                Value::Use(self.unsupported(span, "`break`/`continue`", "restructure the loop"))
            }
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
                args,
                kind,
            };
        }
        let args = call.args.iter().map(|a| self.lower_expr(a)).collect();
        Value::Call {
            func: func.clone(),
            args,
        }
    }

    /// `a && b` runs `b` only when `a` holds: it is lowered as `if a { b } else { false }`.
    fn lower_logic(&mut self, b: &syn::ExprBinary) -> Value {
        let span = b.span();
        let lhs = self.lower_expr(&b.left);
        let result = self.new_temp(span);
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
        let produces_value = e
            .then_branch
            .stmts
            .last()
            .is_some_and(|s| matches!(s, SynStmt::Expr(_, None)))
            && e.else_branch.is_some();
        let result = produces_value.then(|| {
            let var = self.new_temp(e.span());
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
    } else {
        MethodKind::Unknown
    }
}
