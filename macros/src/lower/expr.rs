//! Expressions: the dispatch over syn's expression kinds, operators and short-circuit logic.

use proc_macro2::{Ident, Span};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{BinOp, Expr};

use super::assign::plain_op;
use super::calls::method_kind;
use super::names::respan;
use super::Lowerer;
use crate::in_place;
use crate::ir::{Kept, Operand, Origin, Stmt, StmtKind, UnOp, Value, VarId, Written};
use crate::spans::expr_span;
use crate::syntax::is_compound;
use crate::syntax::strip_parens;

/// Stack left when lowering grows a new stack segment, and the size of each segment.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

impl Lowerer<'_> {
    /// `base[index]`: an element of a place (a field of a model, `&rows[i]`) is read where it
    /// stands, any other is a value.
    pub(super) fn element_read(&mut self, base: Operand, index: Operand, span: Span) -> Value {
        let of_place = base
            .var()
            .is_some_and(|b| self.vars[b.0].place || self.model_containers.contains(&b));
        let value = Value::Index { base, index };
        if of_place {
            let element = self.place_read(value, span);
            self.note_model_element(&element);
            Value::Use(element)
        } else {
            value
        }
    }

    pub(super) fn lower_expr(&mut self, expr: &Expr) -> Operand {
        // Lowering recurses once per operand: a deeply nested expression grows the stack on
        // the heap instead of overflowing it.
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            let value = self.lower_value(expr);
            self.operand_of(value, expr_span(expr))
        })
    }

    /// `State { x: .., v: .. }`: a value of a struct deriving `Parameters`, whose gradient
    /// sends each field's part to the field's value.
    fn lower_struct(&mut self, s: &syn::ExprStruct) -> Value {
        if let Some(rest) = &s.rest {
            return Value::Use(self.unsupported(
                rest.span(),
                "struct update syntax (`..base`)",
                "write every field out: `State { x: .., v: base.v }`",
            ));
        }
        if s.qself.is_some() {
            return Value::Use(self.unsupported(
                s.span(),
                "a struct literal with a qualified path",
                "name the struct by its path: `State { .. }`",
            ));
        }
        let fields = s
            .fields
            .iter()
            .map(|f| (f.member.clone(), self.lower_expr(&f.expr)))
            .collect();
        Value::Struct {
            path: s.path.clone(),
            fields,
        }
    }

    /// A name bound to a range of integers (`let r = 1..3;`, a parameter `r: Range<usize>`), or
    /// a clone of one (`r.clone()`, as a `Range` is not `Copy`).
    pub(super) fn is_range_name(&self, expr: &Expr) -> bool {
        match strip_parens(expr) {
            Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                self.is_range_name(&m.receiver)
            }
            other => self
                .variable_of(other)
                .is_some_and(|v| self.ranges.contains(&v)),
        }
    }

    /// Code the lowering wrote itself (see `parts.rs`, `zip_map.rs`): the variables it assigns
    /// in loops need locations, which the function's own location scan never saw.
    pub(super) fn lower_rewritten(&mut self, expr: &Expr) -> Value {
        let mut scan = super::locations::LocationScan::default();
        syn::visit::Visit::visit_expr(&mut scan, expr);
        self.locations.extend(scan.names);
        self.lower_value(expr)
    }

    pub(super) fn lower_value(&mut self, expr: &Expr) -> Value {
        let span = expr_span(expr);
        match expr {
            Expr::Lit(lit) => Value::Use(Operand::Const(lit.to_token_stream())),
            Expr::Path(p) => {
                if let Some(ident) = p.path.get_ident() {
                    if let Some(id) = self.lookup(&ident.to_string()) {
                        return Value::Use(Operand::Var(id));
                    }
                    if self.decompositions.contains_key(&ident.to_string()) {
                        return Value::Use(self.unsupported(
                            ident.span(),
                            &format!("using the decomposition `{ident}` other than by `{ident}.solve(..)` or `{ident}.ln_determinant()`"),
                            "nabla differentiates a decomposition through its solves and log-determinant only (its factors, such as `l()`, have no derivative rule yet); solve with it, or compute the value from the matrix itself",
                        ));
                    }
                    if let Some(&(base, index)) = self.places.get(&ident.to_string()) {
                        // An `iter_mut()` element read through auto-deref (`v.sin()`).
                        return Value::Index {
                            base: Operand::Var(base),
                            index: Operand::Var(index),
                        };
                    }
                    if let Some((outer_ident, id, is_ref, further)) =
                        self.outer.get(&ident.to_string()).cloned()
                    {
                        if further {
                            return Value::Use(self.unsupported(
                                ident.span(),
                                &format!("a `map` closure inside another reading `{ident}` of the function around both"),
                                "compute the inner `map` before the outer one, or pass the value through the outer closure's own variables",
                            ));
                        }
                        // A closure reading a variable of the enclosing function: a parameter of
                        // the closure's body, named as the enclosing variable.
                        self.captures.push((id, ident.span()));
                        let inner = match self.capture_params.get(&id) {
                            Some(inner) => *inner,
                            None => {
                                let index = 1 + self.capture_params.len();
                                let inner = self.new_var(
                                    respan(&outer_ident, ident.span()),
                                    Some(ident.to_string()),
                                    Origin::Param(index),
                                    is_ref,
                                );
                                self.capture_params.insert(id, inner);
                                inner
                            }
                        };
                        return Value::Use(Operand::Var(inner));
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
                    true,
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
            // `-2.0` is a constant, as `2.0` is (and `x * -2` the same type error as `x * 2`).
            Expr::Unary(u)
                if matches!(u.op, syn::UnOp::Neg(_)) && matches!(&*u.expr, Expr::Lit(_)) =>
            {
                Value::Use(Operand::Const(u.to_token_stream()))
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
                        "a `&mut` borrow",
                        "pass values by `&` or by value",
                    ));
                }
                let name = r.expr.span();
                match self.lower_expr(&r.expr) {
                    Operand::Var(v) => Value::Use(Operand::Ref(v, r.and_token.span, name)),
                    Operand::Ref(v, s, n) => {
                        let temp = self.operand_of(Value::Use(Operand::Ref(v, s, n)), span);
                        match temp {
                            Operand::Var(t) => {
                                Value::Use(Operand::Ref(t, r.and_token.span, name))
                            }
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
            Expr::MethodCall(m) => self.lower_method_call(m, span),
            Expr::Call(call) => match in_place::rewrite_mem_swap(call) {
                Some(rewritten) => self.lower_value(&rewritten),
                None => self.lower_call(call),
            },
            Expr::Index(i)
                if matches!(strip_parens(&i.index), Expr::Range(_))
                    || self.is_range_name(&i.index) =>
            {
                let base = self.lower_expr(&i.expr);
                let (tokens, reads) = self.rename(i.index.to_token_stream());
                let range = self.operand_of(
                    Value::Opaque {
                        tokens: quote_spanned!(span=> (#tokens)),
                        reads,
                        kept: Kept::Data,
                    },
                    span,
                );
                Value::Part { base, range }
            }
            Expr::Index(i) => {
                let base = self.lower_expr(&i.expr);
                let index = self.lower_expr(&i.index);
                self.element_read(base, index, span)
            }
            // `a.symmetric_eigen().eigenvalues`: the eigenvalues alone, which have a rule.
            Expr::Field(f)
                if matches!(&f.member, syn::Member::Named(n) if n == "eigenvalues")
                    && matches!(strip_parens(&f.base), Expr::MethodCall(m)
                        if m.method == "symmetric_eigen" && m.args.is_empty()) =>
            {
                let Expr::MethodCall(m) = strip_parens(&f.base) else {
                    return Value::Use(Operand::Const(quote!(())));
                };
                let receiver = self.lower_expr(&m.receiver);
                Value::Method {
                    receiver,
                    method: Ident::new("symmetric_eigenvalues", m.method.span()),
                    turbofish: None,
                    qualified: None,
                    args: Vec::new(),
                    kind: method_kind("symmetric_eigenvalues", 0),
                }
            }
            Expr::Field(f) => {
                let base = self.lower_expr(&f.base);
                let value = Value::Field {
                    base: base.clone(),
                    member: f.member.clone(),
                };
                // Fields of parameters, and of places within them, are read as places. A field of a
                // local value is read by value (a clone): a reference into a loop's or branch's
                // local, or into a location, could not outlive its next assignment or its block.
                let rooted_in_parameter = |v: &crate::ir::Var| {
                    matches!(v.origin, Origin::Param(_)) && !v.is_location || v.place
                };
                match base.var() {
                    Some(b) if rooted_in_parameter(&self.vars[b.0]) => {
                        let field = self.place_read(value, span);
                        // A field of a model struct may be a model struct (`self.hidden`).
                        if self.model_values.contains(&b) {
                            self.note_model_element(&field);
                        }
                        Value::Use(field)
                    }
                    _ => value,
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
            Expr::Assign(a) if matches!(strip_parens(&a.left), Expr::Tuple(_)) => {
                self.lower_tuple_assign(strip_parens(&a.left), &a.right, span);
                Value::Use(Operand::Const(quote_spanned!(span=> ())))
            }
            Expr::Assign(a) => {
                let rhs_expr = &*a.right;
                self.lower_assign(
                    &a.left,
                    false,
                    |this, _| Value::Use(this.lower_expr(rhs_expr)),
                    span,
                );
                Value::Use(Operand::Const(quote_spanned!(span=> ())))
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => self.lower_vec_macro(m, span),
            // `matches!(e, P)` is `match e { P => true, _ => false }`, `format!(..)` a string;
            // any other macro that gives a value is refused.
            Expr::Macro(m) => match super::macros::matches_as_match(&m.mac) {
                Some(rewritten) => self.lower_value(&rewritten),
                None => self
                    .lower_text_macro(&m.mac, span)
                    .unwrap_or_else(|| Value::Use(self.unsupported_macro(&m.mac, span))),
            },
            Expr::Unsafe(_) => Value::Use(self.unsupported(
                span,
                "an `unsafe` block",
                "move the unsafe code into a function called on values that carry no gradient",
            )),
            Expr::Closure(_) => Value::Use(self.unsupported(
                span,
                "a closure",
                "closures are understood as the argument of a call: differentiated in an element-wise `map`, a `fold` (with one accumulator), `.map(..).sum()`, a `filter` over the elements of a slice, array or `Vec`, and `zip_map`, and kept as written on data in any other call (`DMatrix::from_fn(n, n, |i, j| ..)`); write the work of a closure held in a variable where it is called, or as a loop",
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
            Expr::Struct(s) => self.lower_struct(s),
            // A range of integers is data, as written; one of values that carry gradient is an
            // error of the checks (its ends have no derivative).
            Expr::Range(_) => {
                let (tokens, reads) = self.rename(expr.to_token_stream());
                Value::Opaque {
                    tokens: quote_spanned!(span=> (#tokens)),
                    reads,
                    kept: Kept::Checked(Written::Range),
                }
            }
            Expr::Array(a) => Value::Array(a.elems.iter().map(|e| self.lower_expr(e)).collect()),
            // `[0.0; 4]`: as written; the checks reject it if its element carries gradient.
            Expr::Repeat(_) => {
                let (tokens, reads) = self.rename(expr.to_token_stream());
                Value::Opaque {
                    tokens: quote_spanned!(span=> (#tokens)),
                    reads,
                    kept: Kept::Checked(Written::Repeat),
                }
            }
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
}
