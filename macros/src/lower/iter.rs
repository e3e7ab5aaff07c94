//! Iterator chains as element sources of loops and reductions (`for x in xs.iter().zip(ys)`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Pat};

use super::windows::{as_range, Window};
use super::Lowerer;
use crate::ir::{Kept, Operand, Value, VarId};

/// Where the elements of an element loop come from.
pub(super) enum Source {
    /// A slice, array, `Vec` or nalgebra storage; `by_ref` when its elements are references,
    /// `place` for `iter_mut()`; `window` for a part of it (`xs[1..]`, `.skip(k)`, `.rev()`).
    Container {
        var: VarId,
        by_ref: bool,
        place: bool,
        window: Option<Window>,
    },
    /// `.enumerate()`; the window maps the loop's position to the index `enumerate` yields, once
    /// an adaptor follows it (`.enumerate().skip(1)` yields `(1, x₁)` first).
    Enumerate(Box<Source>, Option<Window>),
    Zip(Box<Source>, Box<Source>),
}

impl Lowerer<'_> {
    /// Reads an iterator chain over containers: `xs`, `&xs`, `xs[a..b]`, `xs.iter()`,
    /// `xs.iter_mut()`, `.enumerate()`, `.zip(ys)`, `.copied()`/`.cloned()`, and the window
    /// adaptors `.skip(k)`, `.take(k)`, `.step_by(k)`, `.rev()` (see `windows.rs`).
    pub(super) fn element_source(&mut self, expr: &Expr) -> Option<Source> {
        match expr {
            Expr::Paren(p) => self.element_source(&p.expr),
            Expr::Reference(r) if r.mutability.is_none() => match self.element_source(&r.expr)? {
                Source::Container { var, window, .. } => Some(Source::Container {
                    var,
                    by_ref: true,
                    place: false,
                    window,
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
                    window: None,
                })
            }
            // `w[1..]`, `w[..n - 1]`, `w[a..=b]`: a part of a container.
            Expr::Index(i) if as_range(&i.index).is_some() => {
                let range = as_range(&i.index)?;
                let Source::Container {
                    var,
                    by_ref,
                    window: None,
                    ..
                } = self.element_source(&i.expr)?
                else {
                    return None;
                };
                let window = self.range_window(var, range, expr.span());
                Some(Source::Container {
                    var,
                    by_ref,
                    place: false,
                    window: Some(window),
                })
            }
            // A field or element that is itself a container: `&net.layers`, `self.xs.iter()`,
            // `&rows[i]`.
            Expr::Field(_) | Expr::Index(_) => {
                let var = self.lower_expr(expr).var()?;
                Some(Source::Container {
                    var,
                    by_ref: self.vars[var.0].is_ref,
                    place: false,
                    window: None,
                })
            }
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                match (name.as_str(), m.args.len()) {
                    // An element read is a copy or a shared borrow: what `iter_mut` wrote there
                    // would not reach the buffer.
                    ("iter_mut", 0) if matches!(&*m.receiver, Expr::Index(i) if as_range(&i.index).is_none()) => {
                        None
                    }
                    ("iter", 0) | ("iter_mut", 0) => match self
                        .element_source(&m.receiver)
                        .or_else(|| (name == "iter").then(|| self.value_source(&m.receiver))?)?
                    {
                        Source::Container { var, window, .. } => Some(Source::Container {
                            var,
                            by_ref: true,
                            place: name == "iter_mut",
                            window,
                        }),
                        _ => None,
                    },
                    // `v.into_iter()` yields what `for x in v` does: elements of an owned
                    // buffer, references into a borrowed one.
                    ("into_iter", 0) => self.element_source(&m.receiver),
                    ("copied" | "cloned", 0) => match self.element_source(&m.receiver)? {
                        Source::Container {
                            var,
                            place: false,
                            window,
                            ..
                        } => Some(Source::Container {
                            var,
                            by_ref: false,
                            place: false,
                            window,
                        }),
                        _ => None,
                    },
                    ("skip" | "take" | "step_by", 1) | ("rev", 0) => {
                        let source = self.element_source(&m.receiver)?;
                        self.adapt_source(source, &name, m.args.first(), m.span())
                    }
                    ("enumerate", 0) => Some(Source::Enumerate(
                        Box::new(self.element_source(&m.receiver)?),
                        None,
                    )),
                    ("zip", 1) => {
                        let a = self.element_source(&m.receiver)?;
                        let b = self.element_source(&m.args[0])?;
                        // `a.zip(b)` takes `b` by `IntoIterator`: a container yields references.
                        let b = match b {
                            Source::Container {
                                var,
                                by_ref,
                                place,
                                window,
                            } => {
                                let by_ref = by_ref
                                    || self.vars[var.0].is_ref
                                    || !matches!(&m.args[0], Expr::Path(_));
                                Source::Container {
                                    var,
                                    by_ref,
                                    place,
                                    window,
                                }
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

    /// `m.column(0)` in `m.column(0).iter()`: a view or a copy of a container, iterated as a
    /// variable holding it would be. Only these methods: another's value need not be one whose
    /// elements are read by position (`map.clone().iter()` of a `HashMap`).
    fn value_source(&mut self, receiver: &Expr) -> Option<Source> {
        // Besides the views, copies of the whole container.
        const COPIES: &[&str] = &["transpose", "clone", "to_vec", "to_owned", "abs"];
        let Expr::MethodCall(m) = receiver else {
            return None;
        };
        let method = m.method.to_string();
        if !crate::methods::BORROWING_VIEWS.contains(&method.as_str())
            && !COPIES.contains(&method.as_str())
        {
            return None;
        }
        let var = self.lower_expr(receiver).var()?;
        Some(Source::Container {
            var,
            by_ref: self.vars[var.0].is_ref,
            place: false,
            window: None,
        })
    }

    /// The number of elements a source yields, as tokens, and the variables it reads.
    pub(super) fn source_len(&self, source: &Source) -> (TokenStream, Vec<VarId>) {
        match source {
            Source::Container {
                window: Some(window),
                ..
            } => {
                let len = &self.vars[window.len.0].ident;
                (quote!(#len), vec![window.len])
            }
            Source::Container { var, .. } => {
                let ident = &self.vars[var.0].ident;
                (quote!(#ident.len()), vec![*var])
            }
            Source::Enumerate(inner, _) => self.source_len(inner),
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
            // `|v: &f64|`, `|(v, x): (&f64, &f64)|`: elements read by reference, bound as an
            // untyped pattern is (the type is the original function's to check).
            (_, Pat::Type(t)) if references_only(&t.ty) => self.bind_source(source, &t.pat, index),
            (
                Source::Container {
                    var,
                    place: true,
                    window,
                    ..
                },
                Pat::Ident(pi),
            ) => {
                let at = self.element_index(*window, index, span);
                self.places.insert(pi.ident.to_string(), (*var, at));
            }
            (
                Source::Container {
                    var,
                    by_ref,
                    window,
                    ..
                },
                _,
            ) => {
                let at = self.element_index(*window, index, span);
                let elem = Value::Index {
                    base: Operand::Var(*var),
                    index: Operand::Var(at),
                };
                let elem = if self.vars[var.0].place || self.model_containers.contains(var) {
                    // An element of a field (`for l in &net.layers`) or of a parameter that
                    // holds models (`for l in layers`): a place, held by reference.
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
                        let elem = match (*by_ref, &elem) {
                            (true, Operand::Var(v)) => {
                                // Read by reference from here on: a temporary other reads share
                                // is copied first.
                                let v = if self.may_take_over(*v) {
                                    *v
                                } else {
                                    let copy = self.new_temp();
                                    self.push_let(copy, Value::Use(Operand::Var(*v)), span);
                                    copy
                                };
                                self.vars[v.0].user_ref = true;
                                Operand::Var(v)
                            }
                            _ => elem,
                        };
                        self.bind_pattern(other, elem, None)
                    }
                }
            }
            (Source::Enumerate(inner, positions), Pat::Tuple(t)) if t.elems.len() == 2 => {
                let position = self.element_index(*positions, index, span);
                self.bind_pattern(&t.elems[0], Operand::Var(position), None);
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

    /// A window adaptor (`skip`, `take`, `step_by`, `rev`) applied to a source: to a container's
    /// window, to both sides of a `zip` (positions stay paired), and to an `enumerate`'s source
    /// and its indices alike. `rev()` after a `zip` first cuts both sides to the shorter one's
    /// length, as `Zip::next_back` does, so the pairs stay those the forward order makes.
    fn adapt_source(
        &mut self,
        source: Source,
        name: &str,
        arg: Option<&Expr>,
        span: Span,
    ) -> Option<Source> {
        match source {
            Source::Container {
                var,
                by_ref,
                place,
                window,
            } => {
                let window = match window {
                    Some(w) => w,
                    None => self.whole_window(var, span),
                };
                let window = self.adapt_window(window, name, arg, span)?;
                Some(Source::Container {
                    var,
                    by_ref,
                    place,
                    window: Some(window),
                })
            }
            Source::Zip(a, b) if name == "rev" => {
                let zipped = Source::Zip(a, b);
                let (len, reads) = self.source_len(&zipped);
                let len = self.window_value(len, reads, span);
                let Source::Zip(a, b) = zipped else {
                    return None;
                };
                let a = self.truncate_source(*a, len, span);
                let b = self.truncate_source(*b, len, span);
                let a = self.adapt_source(a, name, arg, span)?;
                let b = self.adapt_source(b, name, arg, span)?;
                Some(Source::Zip(Box::new(a), Box::new(b)))
            }
            Source::Zip(a, b) => {
                let a = self.adapt_source(*a, name, arg, span)?;
                let b = self.adapt_source(*b, name, arg, span)?;
                Some(Source::Zip(Box::new(a), Box::new(b)))
            }
            Source::Enumerate(inner, positions) => {
                let positions = match positions {
                    Some(w) => w,
                    None => {
                        let (len, reads) = self.source_len(&inner);
                        self.counting_window(len, reads, span)
                    }
                };
                let positions = self.adapt_window(positions, name, arg, span)?;
                let inner = self.adapt_source(*inner, name, arg, span)?;
                Some(Source::Enumerate(Box::new(inner), Some(positions)))
            }
        }
    }

    /// The first `len` elements of a source, `len` being at most its length.
    fn truncate_source(&mut self, source: Source, len: VarId, span: Span) -> Source {
        match source {
            Source::Container {
                var,
                by_ref,
                place,
                window,
            } => {
                let window = match window {
                    Some(w) => w,
                    None => self.whole_window(var, span),
                };
                Source::Container {
                    var,
                    by_ref,
                    place,
                    window: Some(Window { len, ..window }),
                }
            }
            Source::Zip(a, b) => {
                let a = self.truncate_source(*a, len, span);
                let b = self.truncate_source(*b, len, span);
                Source::Zip(Box::new(a), Box::new(b))
            }
            Source::Enumerate(inner, positions) => {
                let positions = match positions {
                    Some(w) => w,
                    None => {
                        let (whole, reads) = self.source_len(&inner);
                        self.counting_window(whole, reads, span)
                    }
                };
                let inner = self.truncate_source(*inner, len, span);
                Source::Enumerate(Box::new(inner), Some(Window { len, ..positions }))
            }
        }
    }

    /// The container index of the element at position `counter` of a source.
    pub(super) fn element_index(
        &mut self,
        window: Option<Window>,
        counter: VarId,
        span: Span,
    ) -> VarId {
        match window {
            Some(window) => self.window_index(window, counter, span),
            None => counter,
        }
    }

    /// Whether `filter` keeps the element at position `counter`: the user's closure called as
    /// `filter` calls it, with a reference to the item (`&&x` for `xs.iter()`, `&(i, &x)` for
    /// `xs.iter().enumerate()`), read from the containers in place (`source`), or to the
    /// counter of a range (`None`), through the runtime's `keeps`. A test decides and carries
    /// no gradient, so its tokens stay as written.
    pub(super) fn filter_test(
        &mut self,
        filter: &syn::ExprClosure,
        source: Option<&Source>,
        counter: VarId,
        span: Span,
    ) -> Operand {
        let param = single_binding(&filter.inputs[0]).flatten();
        let (closure, mut reads) = self.rename_closure(filter.to_token_stream(), param.as_deref());
        let item = match source {
            Some(source) => self.filter_item(source, counter, &mut reads, span),
            None => {
                reads.push(counter);
                let counter = &self.vars[counter.0].ident;
                quote_spanned!(span=> #counter)
            }
        };
        let test = Value::Opaque {
            tokens: quote_spanned!(span=> ::nabla::__private::keeps(&#item, #closure)),
            reads,
            kept: Kept::FilterTest,
        };
        self.operand_of(test, span)
    }

    /// The item a source yields at position `counter`, as `filter` sees it: `&xs[i]` for
    /// `xs.iter()`, `xs[i]` for `.copied()`, a tuple for `enumerate` and `zip`. An item
    /// yielded by value within a tuple is a clone of the element, since the container keeps
    /// its own (a float's clone is the float).
    fn filter_item(
        &mut self,
        source: &Source,
        counter: VarId,
        reads: &mut Vec<VarId>,
        span: Span,
    ) -> TokenStream {
        match source {
            Source::Container {
                var,
                by_ref,
                window,
                ..
            } => {
                let at = self.element_index(*window, counter, span);
                reads.extend([*var, at]);
                let (container, index) = (&self.vars[var.0].ident, &self.vars[at.0].ident);
                if *by_ref {
                    quote_spanned!(span=> &#container[#index])
                } else {
                    quote_spanned!(span=> #container[#index])
                }
            }
            Source::Enumerate(inner, positions) => {
                let position = self.element_index(*positions, counter, span);
                reads.push(position);
                let position = self.vars[position.0].ident.clone();
                let item = self.filter_item_in_tuple(inner, counter, reads, span);
                quote_spanned!(span=> (#position, #item))
            }
            Source::Zip(a, b) => {
                let a = self.filter_item_in_tuple(a, counter, reads, span);
                let b = self.filter_item_in_tuple(b, counter, reads, span);
                quote_spanned!(span=> (#a, #b))
            }
        }
    }

    fn filter_item_in_tuple(
        &mut self,
        source: &Source,
        counter: VarId,
        reads: &mut Vec<VarId>,
        span: Span,
    ) -> TokenStream {
        let item = self.filter_item(source, counter, reads, span);
        match source {
            Source::Container { by_ref: false, .. } => {
                quote_spanned!(span=> ::core::clone::Clone::clone(&#item))
            }
            _ => item,
        }
    }

    /// The error for a `filter` nabla does not test (`what`: "filtering these elements").
    pub(super) fn unfiltered(&mut self, span: Span, what: &str) -> Operand {
        self.unsupported(span, what, FILTER_HELP)
    }

    /// The error for a chain in which an adaptor follows a `filter`, `None` for any other.
    pub(super) fn filter_not_last(&mut self, expr: &Expr) -> Option<Operand> {
        let after = adaptor_after_filter(expr)?;
        let args = if after.args.is_empty() { "" } else { ".." };
        let what = format!("`.{}({args})` after a `.filter(..)`", after.method);
        Some(self.unfiltered(after.method.span(), &what))
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
}

/// The container (and window) of a source's first element.
/// `&f64`, `(&f64, &f64)`: the types of elements read by reference.
fn references_only(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_none(),
        syn::Type::Tuple(t) => !t.elems.is_empty() && t.elems.iter().all(references_only),
        syn::Type::Paren(p) => references_only(&p.elem),
        _ => false,
    }
}

pub(super) fn source_container(source: &Source) -> (VarId, Option<Window>) {
    match source {
        Source::Container { var, window, .. } => (*var, *window),
        Source::Enumerate(inner, _) => source_container(inner),
        Source::Zip(a, _) => source_container(a),
    }
}

/// `source.filter(|v| ..)` split into the source and the closure, and any other expression as
/// itself with no closure. A function named as the test (`.filter(is_positive)`) is the closure
/// `|v| is_positive(v)`, as `map(f64::exp)` is. `None` for a `filter` whose argument is neither,
/// which is left to the checks.
pub(super) fn peel_filter(expr: &Expr) -> Option<(&Expr, Option<syn::ExprClosure>)> {
    match crate::syntax::strip_parens(expr) {
        Expr::MethodCall(m) if m.method == "filter" && m.args.len() == 1 => match &m.args[0] {
            Expr::Closure(c) if c.inputs.len() == 1 => Some((&m.receiver, Some(c.clone()))),
            Expr::Path(function) => {
                let v = quote::format_ident!("__nabla_element", span = function.span());
                let closure = syn::parse_quote_spanned!(function.span()=> |#v| #function(#v));
                Some((&m.receiver, Some(closure)))
            }
            _ => None,
        },
        _ => Some((expr, None)),
    }
}

/// The adaptor after a `filter` in a chain that does not end with it
/// (`w.iter().filter(..).skip(1)` gives `skip`).
fn adaptor_after_filter(expr: &Expr) -> Option<&syn::ExprMethodCall> {
    let Expr::MethodCall(outer) = crate::syntax::strip_parens(expr) else {
        return None;
    };
    let mut receiver = &*outer.receiver;
    while let Expr::MethodCall(m) = crate::syntax::strip_parens(receiver) {
        if m.method == "filter" {
            return Some(outer);
        }
        receiver = &m.receiver;
    }
    None
}

/// The help of a `filter` that is not tested: what nabla filters, and the way out.
const FILTER_HELP: &str = "filter the elements of a slice, array or `Vec`, of a part of one or of a range, or the pairs `.zip(..)` and `.enumerate()` make of them, and put the `.filter(..)` last: `w.iter().skip(1).filter(|v| **v > 0.0)`, then `.map(..)`, a sum, product or fold, or a `for` loop; or test each element with an `if` in a loop's body";

/// Whether a `filter` of `source` can be tested as [`Lowerer::filter_test`] tests it: the
/// elements of one container, or the counters of a range (`None`), tested by a closure whose
/// parameter binds one name; or the tuples of `enumerate` and `zip`, with any pattern.
pub(super) fn is_filterable(source: Option<&Source>, filter: &syn::ExprClosure) -> bool {
    match source {
        Some(Source::Container { .. }) | None => single_binding(&filter.inputs[0]).is_some(),
        Some(Source::Enumerate(..) | Source::Zip(..)) => true,
    }
}

/// The one name a closure parameter binds (`v`, `&v`, `&&v`, `v: &&f64`), `Some(None)` for `_`,
/// `None` for a pattern that binds several.
fn single_binding(pat: &Pat) -> Option<Option<String>> {
    match pat {
        Pat::Ident(pi) if pi.subpat.is_none() => Some(Some(pi.ident.to_string())),
        Pat::Reference(r) => single_binding(&r.pat),
        Pat::Type(t) => single_binding(&t.pat),
        Pat::Paren(p) => single_binding(&p.pat),
        Pat::Wild(_) => Some(None),
        _ => None,
    }
}
