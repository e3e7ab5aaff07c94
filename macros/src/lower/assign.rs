//! Assignment and compound assignment to variables, buffer elements and `iter_mut()` places.

use proc_macro2::{Ident, Span};
use syn::spanned::Spanned;
use syn::{BinOp, Expr};

use super::Lowerer;
use crate::ir::{Operand, StmtKind, Value, VarId};

impl Lowerer<'_> {
    /// `(a, b) = (b, a + h * b)` and `(a, b) = f(x)`: every value on the right is computed, and
    /// copied, before anything on the left is assigned, so a swap swaps.
    pub(super) fn lower_tuple_assign(&mut self, left: &Expr, right: &Expr, span: Span) {
        let Expr::Tuple(targets) = left else {
            return;
        };
        let values: Vec<Operand> = match crate::syntax::strip_parens(right) {
            Expr::Tuple(values) if values.elems.len() == targets.elems.len() => {
                values.elems.iter().map(|e| self.lower_expr(e)).collect()
            }
            other => {
                let whole = self.lower_expr(other);
                (0..targets.elems.len())
                    .map(|i| {
                        let member = syn::Member::Unnamed(syn::Index {
                            index: i as u32,
                            span: right.span(),
                        });
                        let field = Value::Field {
                            base: whole.clone(),
                            member,
                        };
                        self.operand_of(field, right.span())
                    })
                    .collect()
            }
        };
        // Copies: `(a, b) = (b, a)` must not read `a` after assigning it.
        let copies: Vec<Operand> = values
            .into_iter()
            .map(|value| match value {
                Operand::Var(v) if self.vars[v.0].is_location => {
                    let copy = self.new_temp();
                    self.push_let(copy, Value::Use(value), span);
                    Operand::Var(copy)
                }
                other => other,
            })
            .collect();
        for (target, value) in targets.elems.iter().zip(copies) {
            if matches!(target, Expr::Infer(_)) {
                continue;
            }
            self.lower_assign(target, false, |_, _| Value::Use(value), span);
        }
    }

    /// Lowers an assignment to `left` of the value `value_of` builds from the current value of
    /// `left`, which is read only where `reads_current` says the value needs it (`+=` does, `=`
    /// does not: an element read that nothing uses still costs its bounds check, and it would
    /// count as a read of the old element for the analyses).
    pub(super) fn lower_assign(
        &mut self,
        left: &Expr,
        reads_current: bool,
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
                // `s += { s = 2.0; 1.0 }` on numbers evaluates the right side first, and reads
                // the new `s`; the value above holds the old one.
                if reads_current && self.lookup(&name) != Some(current) {
                    self.right_side_changes_place(span);
                }
                if self.vars[current.0].is_location {
                    let op = self.operand_of(value, span);
                    let kind = match self.take_declaration(current) {
                        // `let mut z; z = x + 1.0;`: the first value, as `let mut z = x + 1.0;`
                        // gives it. Nothing is overwritten, so nothing is saved.
                        Some(ty) => StmtKind::Let {
                            var: current,
                            ty,
                            value: Value::Use(op),
                        },
                        None => StmtKind::Assign {
                            var: current,
                            value: Value::Use(op),
                        },
                    };
                    self.push(kind, span);
                } else {
                    // Straight-line reassignment: a new version of the variable, holding a
                    // reference where the new value is one. (A copy of a field, `let mut s =
                    // t.a;`, is read through a reference to the field; `s = s * 3.0` is not.)
                    let old = &self.vars[current.0];
                    let is_ref = match &value {
                        Value::Use(Operand::Ref(..)) => true,
                        Value::Use(Operand::Var(v)) => {
                            let var = &self.vars[v.0];
                            var.is_ref && (!var.place || var.user_ref)
                        }
                        Value::Use(Operand::Const(_)) => false,
                        _ => old.is_ref && !old.place,
                    };
                    let var = self.new_local(&ident, is_ref, false);
                    self.push_let(var, value, span);
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
                // The variables the index reads, by name, as bound before the right side.
                let index_names = names_in(&index.index);
                let index_vars: Vec<_> = index_names.iter().map(|n| self.lookup(n)).collect();
                let idx = self.lower_expr(&index.index);
                let current = reads_current.then(|| {
                    let current = Value::Index {
                        base: Operand::Var(base),
                        index: idx.clone(),
                    };
                    self.operand_of(current, left.span())
                });
                let mark = self.blocks.last().map_or(0, Vec::len);
                let value = value_of(self, current);
                // Rust evaluates the right side before the place (`b[k] = { k += 1; .. }`
                // writes at the new `k`), and for `+=` on numbers reads the element after it.
                // A change is an assignment, an element write or a push (of a location), or a
                // new binding of a name the index reads (`k += 1` outside a loop).
                let mut written = std::collections::HashSet::new();
                if let Some(block) = self.blocks.last() {
                    definitely_written(&block[mark.min(block.len())..], &mut written);
                }
                let index_changed = index_names.iter().zip(&index_vars).any(|(name, before)| {
                    let now = self.lookup(name);
                    now != *before || now.is_some_and(|v| written.contains(&v))
                });
                let base_rebound = p
                    .path
                    .get_ident()
                    .is_some_and(|i| self.lookup(&i.to_string()) != Some(base));
                if index_changed || base_rebound || (reads_current && written.contains(&base)) {
                    self.right_side_changes_place(span);
                }
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
            Expr::Paren(p) => self.lower_assign(&p.expr, reads_current, value_of, span),
            Expr::Unary(u)
                if matches!(u.op, syn::UnOp::Deref(_)) && self.place_of(&u.expr).is_some() =>
            {
                let (base, index) = self.place_of(&u.expr).unwrap_or((VarId(0), VarId(0)));
                let current = reads_current.then(|| {
                    let current = Value::Index {
                        base: Operand::Var(base),
                        index: Operand::Var(index),
                    };
                    self.operand_of(current, left.span())
                });
                let value = value_of(self, current);
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
            // `s.x = ..`, `s.x += ..`: a field of a local value, which the reverse sweep would
            // have to restore field by field.
            Expr::Field(field) => {
                let place =
                    crate::check::render::tokens_text(&quote::ToTokens::to_token_stream(left));
                let base = crate::check::render::tokens_text(&quote::ToTokens::to_token_stream(
                    &field.base,
                ));
                // A nalgebra vector's coordinate (`p.y`) is an element, which can be written.
                let coordinate = match &field.member {
                    syn::Member::Named(name) => ["x", "y", "z", "w", "a", "b"]
                        .iter()
                        .position(|c| name == c),
                    syn::Member::Unnamed(_) => None,
                };
                let element = coordinate.map_or(String::new(), |k| {
                    format!("; if `{base}` is a nalgebra vector, `{place}` is its element `{base}[{k}]`, which can be written")
                });
                self.unsupported(
                    left.span(),
                    &format!("assigning to the field `{place}`"),
                    &format!("build the whole value again with its struct literal (`{base} = Name {{ .. }}`), or keep the field in a local variable of its own{element}"),
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
}

/// The single-segment names an expression mentions (`i`, `k` and `idx` in `idx[k] + i`).
fn names_in(expr: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Names {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(ident) = p.path.get_ident() {
                self.0.push(ident.to_string());
            }
        }
    }
    let mut names = Names(Vec::new());
    syn::visit::Visit::visit_expr(&mut names, expr);
    names.0.sort();
    names.0.dedup();
    names.0
}

/// The variables statements assign, write an element of, or push onto, at any depth (not what
/// a method nabla does not know might change: `i.pow(2)` changes nothing a place reads).
fn definitely_written(block: &[crate::ir::Stmt], out: &mut std::collections::HashSet<VarId>) {
    for stmt in crate::analysis::walk::all_stmts(block) {
        match &stmt.kind {
            StmtKind::Assign { var, .. } => {
                out.insert(*var);
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => {
                out.insert(*base);
            }
            _ => {}
        }
    }
}

impl Lowerer<'_> {
    /// The type of `let x;` (or `let x: T;`), removed, when `var` is declared so in the block
    /// being lowered and nothing after the declaration has assigned it: the assignment being
    /// lowered then gives its first value, in the block the declaration stands in.
    fn take_declaration(&mut self, var: VarId) -> Option<Option<syn::Type>> {
        let block = self.blocks.last_mut()?;
        let at = block
            .iter()
            .position(|s| matches!(s.kind, StmtKind::Declare { var: v, .. } if v == var))?;
        let mut written = std::collections::HashSet::new();
        definitely_written(&block[at + 1..], &mut written);
        if written.contains(&var) {
            return None;
        }
        match block.remove(at).kind {
            StmtKind::Declare { ty, .. } => Some(ty),
            _ => None,
        }
    }

    /// An assignment whose right side changes the place it assigns to: which place, and which
    /// old value, depends on Rust's order of evaluation, which differs between operators on
    /// numbers and overloaded ones. Denied rather than guessed.
    fn right_side_changes_place(&mut self, span: Span) {
        self.errors.push(
            span,
            "the right side of this assignment changes the place it assigns to".to_string(),
            "compute the right side into a `let` first, then assign it",
        );
    }
}

/// The plain operator of a compound assignment (`+=` → `+`).
pub(super) fn plain_op(op: &BinOp) -> BinOp {
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
