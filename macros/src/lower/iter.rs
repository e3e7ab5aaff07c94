//! Iterator chains as element sources of loops, and reductions such as `.iter().sum()`.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat};

use super::Lowerer;
use crate::ir::{Operand, StmtKind, Value, VarId};

/// Where the elements of an element loop come from.
pub(super) enum Source {
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

impl Lowerer<'_> {
    /// Reads an iterator chain over containers: `xs`, `&xs`, `xs.iter()`, `xs.iter_mut()`,
    /// `.enumerate()`, `.zip(ys)`, `.copied()`/`.cloned()`.
    pub(super) fn element_source(&mut self, expr: &Expr) -> Option<Source> {
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
            // A field or element that is itself a container: `&net.layers`, `self.xs.iter()`.
            Expr::Field(_) => {
                let var = self.lower_expr(expr).var()?;
                Some(Source::Container {
                    var,
                    by_ref: self.vars[var.0].is_ref,
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
    pub(super) fn source_len(&self, source: &Source) -> (TokenStream, Vec<VarId>) {
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
    pub(super) fn bind_source(&mut self, source: &Source, pat: &Pat, index: VarId) {
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
                let elem = if self.vars[var.0].place {
                    // An element of a field (`for l in &net.layers`): a place, held by reference.
                    let element = self.place_read(elem, span);
                    self.note_model_element(&element);
                    element
                } else {
                    self.operand_of(elem, span)
                };
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

    /// The buffer element an `iter_mut()` loop variable stands for.
    pub(super) fn place_of(&self, expr: &Expr) -> Option<(VarId, VarId)> {
        match expr {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.places.get(&i.to_string()).copied()),
            Expr::Paren(p) => self.place_of(&p.expr),
            _ => None,
        }
    }

    /// `xs.iter().sum()`, `xs.iter().map(|x| ..).sum()`, `xs.iter().zip(ys).map(|(a, b)| ..).sum()`
    /// as a loop that accumulates.
    pub(super) fn lower_reduction(&mut self, receiver: &Expr) -> Option<Value> {
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
}

fn source_var(source: &Source) -> VarId {
    match source {
        Source::Container { var, .. } => *var,
        Source::Enumerate(inner) => source_var(inner),
        Source::Zip(a, _) => source_var(a),
    }
}
