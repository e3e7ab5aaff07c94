//! In-place methods on local buffers, written as the element reads and writes they perform.
//!
//! `flux.fill(0.0)` overwrites every element of `flux`; differentiated as an opaque call it
//! would leave the old elements' adjoints in place and give a wrong gradient. Instead each
//! method below is rewritten, before lowering, into the loop of element writes it stands for,
//! and that loop is lowered like user code: the overwritten elements are saved when the reverse
//! sweep needs them, and their adjoints restart from zero. No new derivative rule is involved:
//! the rules are those of indexing, `push` and assignment, which the runtime holds.
//!
//! Only a receiver that is a plain local name is rewritten (the buffer must be a storage
//! location the lowering tracks). Every other in-place method on a value that carries
//! gradient is an error at the call (see `check.rs`).
//!
//! Before / after:
//!
//! ```text
//! v.fill(c);          { let c' = c; for i in 0..v.len() { v[i] = c'; } }
//! v.swap(i, j);       { let (i', j') = (i, j); let t = v[i']; v[i'] = v[j']; v[j'] = t; }
//! m.scale_mut(k);     m *= k;
//! ```

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall};

/// The in-place methods rewritten here, with the number of arguments each takes.
pub const IN_PLACE_METHODS: &[(&str, usize)] = &[
    // Slices, arrays and `Vec`s (and nalgebra storage, which indexes linearly).
    ("fill", 1),
    ("swap", 2),
    ("reverse", 0),
    ("rotate_left", 1),
    ("rotate_right", 1),
    ("copy_from_slice", 1),
    ("extend_from_slice", 1),
    ("insert", 2),
    ("truncate", 1),
    ("clear", 0),
    ("resize", 2),
    // nalgebra.
    ("scale_mut", 1),
    ("neg_mut", 0),
    ("copy_from", 1),
    ("swap_rows", 2),
    ("swap_columns", 2),
    ("set_row", 2),
    ("set_column", 2),
];

/// Whether `name` with `args` arguments is rewritten here.
pub fn is_in_place(name: &str, args: usize) -> bool {
    IN_PLACE_METHODS.contains(&(name, args))
}

/// The receiver of an in-place call when it is a plain local name (`v` in `v.fill(0.0)`), or a
/// part of one that `fill` or `copy_from_slice` writes (`v` in `v[1..].fill(0.0)`).
pub fn receiver_name(call: &ExprMethodCall) -> Option<&syn::Ident> {
    match &*call.receiver {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => part_receiver(call).map(|(v, _)| v),
    }
}

/// `v[a..b]` as the receiver of `fill` or `copy_from_slice`: the buffer and the range.
fn part_receiver(call: &ExprMethodCall) -> Option<(&syn::Ident, &syn::ExprRange)> {
    if !matches!(call.method.to_string().as_str(), "fill" | "copy_from_slice") {
        return None;
    }
    let Expr::Index(part) = &*call.receiver else {
        return None;
    };
    let (Expr::Path(p), Expr::Range(range)) = (&*part.expr, &*part.index) else {
        return None;
    };
    Some((p.path.get_ident()?, range))
}

/// `v[a..b].fill(x)` and `v[a..b].copy_from_slice(src)`: the writes of the part's elements,
/// with the bounds checks slicing makes.
fn rewrite_part(call: &ExprMethodCall) -> Option<Expr> {
    let (v, range) = part_receiver(call)?;
    let span = call.span();
    let start = match &range.start {
        Some(start) => quote_spanned!(span=> (#start)),
        None => quote_spanned!(span=> 0),
    };
    let end = match (&range.end, &range.limits) {
        (Some(end), syn::RangeLimits::HalfOpen(_)) => quote_spanned!(span=> (#end)),
        (Some(end), syn::RangeLimits::Closed(_)) => quote_spanned!(span=> (#end) + 1),
        (None, _) => quote_spanned!(span=> #v.len()),
    };
    let bounds = quote_spanned! {span=>
        let __nabla_start = #start;
        let __nabla_end = #end;
        ::core::assert!(
            __nabla_start <= __nabla_end && __nabla_end <= #v.len(),
            "range out of bounds for the buffer's length"
        );
    };
    let tokens = if call.method == "fill" {
        let value = &call.args[0];
        quote_spanned! {span=> {
            #bounds
            let __nabla_value = #value;
            for __nabla_i in __nabla_start..__nabla_end {
                #v[__nabla_i] = __nabla_value;
            }
        }}
    } else {
        let (bind, src) = source(span, &call.args[0]);
        quote_spanned! {span=> {
            #bounds
            #bind
            ::core::assert_eq!(__nabla_end - __nabla_start, #src.len(), "source and destination lengths differ");
            for __nabla_i in 0..__nabla_end - __nabla_start {
                #v[__nabla_start + __nabla_i] = #src[__nabla_i];
            }
        }}
    };
    syn::parse2(tokens).ok()
}

/// The element reads and writes `call` performs, as an expression of type `()`; `None` when the
/// method is not one of [`IN_PLACE_METHODS`].
pub fn rewrite(call: &ExprMethodCall) -> Option<Expr> {
    let name = call.method.to_string();
    if !is_in_place(&name, call.args.len()) {
        return None;
    }
    if !matches!(&*call.receiver, Expr::Path(_)) {
        return rewrite_part(call);
    }
    let span = call.span();
    let v = receiver_name(call)?;
    let a: Vec<&Expr> = call.args.iter().collect();
    let tokens = match name.as_str() {
        "fill" => fill(span, v, a[0]),
        "swap" => swap(span, v, a[0], a[1]),
        "reverse" => quote_spanned! {span=> {
            let __nabla_n = #v.len();
            for __nabla_k in 0..__nabla_n / 2 {
                let __nabla_t = #v[__nabla_k];
                #v[__nabla_k] = #v[__nabla_n - 1 - __nabla_k];
                #v[__nabla_n - 1 - __nabla_k] = __nabla_t;
            }
        }},
        // Element `i` of the result is element `i + k` (or `i - k`) of the old contents.
        "rotate_left" | "rotate_right" => {
            let k = a[0];
            let source = if name == "rotate_left" {
                quote_spanned!(span=> (__nabla_i + __nabla_k) % __nabla_n)
            } else {
                quote_spanned!(span=> (__nabla_i + __nabla_n - __nabla_k) % __nabla_n)
            };
            quote_spanned! {span=> {
                let __nabla_n = #v.len();
                let __nabla_k = #k;
                ::core::assert!(__nabla_k <= __nabla_n, "rotation by more than the length");
                let __nabla_old = #v.clone();
                for __nabla_i in 0..__nabla_n {
                    #v[__nabla_i] = __nabla_old[#source];
                }
            }}
        }
        "copy_from_slice" | "copy_from" => {
            let (bind, src) = source(span, a[0]);
            quote_spanned! {span=> {
                #bind
                ::core::assert_eq!(#v.len(), #src.len(), "source and destination lengths differ");
                for __nabla_i in 0..#v.len() {
                    #v[__nabla_i] = #src[__nabla_i];
                }
            }}
        }
        "extend_from_slice" => {
            let (bind, src) = source(span, a[0]);
            quote_spanned! {span=> {
                #bind
                for __nabla_i in 0..#src.len() {
                    #v.push(#src[__nabla_i]);
                }
            }}
        }
        // The last element moves up by one (a `push` of it), the others between the end and
        // `index` shift up, and the new element takes `index`.
        "insert" => {
            let (index, value) = (a[0], a[1]);
            quote_spanned! {span=> {
                let __nabla_index = #index;
                let __nabla_value = #value;
                ::core::assert!(__nabla_index <= #v.len(), "insertion index is out of bounds");
                if __nabla_index == #v.len() {
                    #v.push(__nabla_value);
                } else {
                    let __nabla_last = #v[#v.len() - 1];
                    #v.push(__nabla_last);
                    for __nabla_k in (__nabla_index + 1..#v.len() - 1).rev() {
                        #v[__nabla_k] = #v[__nabla_k - 1];
                    }
                    #v[__nabla_index] = __nabla_value;
                }
            }}
        }
        // The kept elements are pushed onto a fresh buffer: the dropped ones get no gradient.
        "truncate" => {
            let len = a[0];
            truncate(span, v, &quote_spanned!(span=> #len))
        }
        "clear" => truncate(span, v, &quote_spanned!(span=> 0)),
        "resize" => {
            let (len, value) = (a[0], a[1]);
            let shorten = truncate(span, v, &quote_spanned!(span=> __nabla_len));
            quote_spanned! {span=> {
                let __nabla_len = #len;
                let __nabla_value = #value;
                if __nabla_len < #v.len() {
                    #shorten
                } else {
                    for __nabla_k in #v.len()..__nabla_len {
                        #v.push(__nabla_value);
                    }
                }
            }}
        }
        "scale_mut" => {
            let k = a[0];
            quote_spanned!(span=> { #v *= #k; })
        }
        "neg_mut" => quote_spanned!(span=> { #v = -#v; }),
        "swap_rows" | "swap_columns" => {
            let (i, j) = (a[0], a[1]);
            let (count, at_i, at_j) = if name == "swap_rows" {
                (
                    quote_spanned!(span=> #v.ncols()),
                    quote_spanned!(span=> (__nabla_i, __nabla_c)),
                    quote_spanned!(span=> (__nabla_j, __nabla_c)),
                )
            } else {
                (
                    quote_spanned!(span=> #v.nrows()),
                    quote_spanned!(span=> (__nabla_c, __nabla_i)),
                    quote_spanned!(span=> (__nabla_c, __nabla_j)),
                )
            };
            quote_spanned! {span=> {
                let __nabla_i = #i;
                let __nabla_j = #j;
                if __nabla_i != __nabla_j {
                    for __nabla_c in 0..#count {
                        let __nabla_t = #v[#at_i];
                        #v[#at_i] = #v[#at_j];
                        #v[#at_j] = __nabla_t;
                    }
                }
            }}
        }
        "set_row" | "set_column" => {
            let (i, (bind, src)) = (a[0], source(span, a[1]));
            let (count, at) = if name == "set_row" {
                (
                    quote_spanned!(span=> #v.ncols()),
                    quote_spanned!(span=> (__nabla_i, __nabla_c)),
                )
            } else {
                (
                    quote_spanned!(span=> #v.nrows()),
                    quote_spanned!(span=> (__nabla_c, __nabla_i)),
                )
            };
            quote_spanned! {span=> {
                let __nabla_i = #i;
                #bind
                for __nabla_c in 0..#count {
                    #v[#at] = #src[__nabla_c];
                }
            }}
        }
        _ => return None,
    };
    syn::parse2(tokens).ok()
}

/// How a rewrite reads the elements of a source argument: a name, written `name` or `&name`, is
/// read directly; anything else is bound once. A bound reference to a local would be kept for
/// the reverse sweep, holding a borrow of a buffer that the function may assign later
/// (`n.extend_from_slice(&v); v = n;`).
fn source(span: Span, src: &Expr) -> (TokenStream, TokenStream) {
    let mut inner = src;
    while let Expr::Reference(r) = inner {
        if r.mutability.is_some() {
            break;
        }
        inner = &r.expr;
    }
    if let Expr::Path(p) = inner {
        if p.qself.is_none() && p.path.get_ident().is_some() {
            return (TokenStream::new(), quote_spanned!(span=> #p));
        }
    }
    (
        quote_spanned!(span=> let __nabla_src = #src;),
        quote_spanned!(span=> __nabla_src),
    )
}

fn fill(span: Span, v: &syn::Ident, value: &Expr) -> TokenStream {
    quote_spanned! {span=> {
        let __nabla_value = #value;
        for __nabla_i in 0..#v.len() {
            #v[__nabla_i] = __nabla_value;
        }
    }}
}

fn truncate(span: Span, v: &syn::Ident, len: &TokenStream) -> TokenStream {
    quote_spanned! {span=> {
        let __nabla_keep = #len;
        if __nabla_keep < #v.len() {
            let __nabla_old = #v.clone();
            #v = ::std::vec::Vec::with_capacity(__nabla_keep);
            for __nabla_i in 0..__nabla_keep {
                #v.push(__nabla_old[__nabla_i]);
            }
        }
    }}
}

fn swap(span: Span, v: &syn::Ident, i: &Expr, j: &Expr) -> TokenStream {
    quote_spanned! {span=> {
        let __nabla_i = #i;
        let __nabla_j = #j;
        let __nabla_t = #v[__nabla_i];
        #v[__nabla_i] = #v[__nabla_j];
        #v[__nabla_j] = __nabla_t;
    }}
}

/// `std::mem::swap(&mut a, &mut b)` (or `core::mem::swap`, `mem::swap`, `swap`) of two locals:
/// the two names, when the call is one.
pub fn mem_swap_operands(call: &syn::ExprCall) -> Option<(&syn::Ident, &syn::Ident)> {
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let names: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_swap = matches!(
        names
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["std" | "core", "mem", "swap"] | ["mem", "swap"]
    );
    if !is_swap || call.args.len() != 2 {
        return None;
    }
    Some((
        mut_borrowed_local(&call.args[0])?,
        mut_borrowed_local(&call.args[1])?,
    ))
}

/// `name` in `&mut name`.
fn mut_borrowed_local(e: &Expr) -> Option<&syn::Ident> {
    match e {
        Expr::Reference(r) if r.mutability.is_some() => match &*r.expr {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
            _ => None,
        },
        _ => None,
    }
}

/// `std::mem::swap(&mut a, &mut b)` as two assignments through a temporary.
pub fn rewrite_mem_swap(call: &syn::ExprCall) -> Option<Expr> {
    let (a, b) = mem_swap_operands(call)?;
    let span = call.span();
    syn::parse2(quote_spanned! {span=> {
        let __nabla_t = #a;
        #a = #b;
        #b = __nabla_t;
    }})
    .ok()
}
