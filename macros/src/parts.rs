//! Parts of slices as values of their own, written as the subslices they are.
//!
//! `w[a..b]` outside an element source is a value, a copy of those elements (see `Value::Part`
//! and the runtime's `PartRule`). The slice methods that hand out parts are rewritten, before
//! lowering, into such subslices, so that they need no rule of their own:
//!
//! ```text
//! for p in X.windows(k) { .. }        for i in 0..window_count(X.len(), k) { let p = &X[i..i + k]; .. }
//! for c in X.chunks(k) { .. }         for i in 0..chunk_count(X.len(), k)
//!                                         { let c = &X[i * k..usize::min(i * k + k, X.len())]; .. }
//! for c in X.chunks_exact(k) { .. }   for i in 0..exact_chunk_count(X.len(), k) { let c = &X[i * k..i * k + k]; .. }
//! X.split_at(m)                       { let m' = m; (&X[..m'], &X[m'..]) }
//! v.pop().unwrap()                    { let n = v.len() - 1; let e = v[n].clone(); v.truncate(n); e }
//! ```
//!
//! `.enumerate()` after `windows`/`chunks` binds the position too. `X` must be a place (a name,
//! a field, an element), since it is read again in every iteration. The counts panic at `k = 0`
//! as the std iterators do, and `pop` of an empty `Vec` panics as its `unwrap` would.

use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, ExprForLoop, ExprMethodCall};

use crate::syntax::strip_parens;

/// A place expression: read again without changing it (`w`, `self.w`, `rows[i]`, `&w`).
fn is_place(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p.qself.is_none(),
        Expr::Field(f) => is_place(&f.base),
        Expr::Index(i) => is_place(&i.expr),
        Expr::Paren(p) => is_place(&p.expr),
        Expr::Reference(r) => r.mutability.is_none() && is_place(&r.expr),
        _ => false,
    }
}

/// Whether `expr` is `X.windows(k)`, `X.chunks(k)` or `X.chunks_exact(k)`, possibly
/// `.enumerate()`d: a source of parts, not of elements.
pub fn is_parts_source(expr: &Expr) -> bool {
    let source = match strip_parens(expr) {
        Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => &*m.receiver,
        other => other,
    };
    matches!(strip_parens(source), Expr::MethodCall(m)
        if m.args.len() == 1
            && PART_METHODS.contains(&m.method.to_string().as_str()))
}

/// The slice methods whose items are parts.
pub const PART_METHODS: &[&str] = &["windows", "chunks", "chunks_exact"];

/// `for pat in X.windows(k)` (or `chunks`, `chunks_exact`, each optionally `.enumerate()`d) as
/// a loop over positions that takes each part as a subslice.
pub fn rewrite_parts_loop(e: &ExprForLoop) -> Option<Expr> {
    let (source, enumerated) = match strip_parens(&e.expr) {
        Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => (&*m.receiver, true),
        other => (other, false),
    };
    let Expr::MethodCall(m) = strip_parens(source) else {
        return None;
    };
    if m.args.len() != 1 || m.turbofish.is_some() || !is_place(&m.receiver) {
        return None;
    }
    let span = m.method.span();
    let xs = &m.receiver;
    let k = &m.args[0];
    let (count, range) = match m.method.to_string().as_str() {
        "windows" => (
            quote_spanned!(span=> ::nabla::__private::window_count((#xs).len(), __nabla_k)),
            quote_spanned!(span=> __nabla_i..__nabla_i + __nabla_k),
        ),
        "chunks" => (
            quote_spanned!(span=> ::nabla::__private::chunk_count((#xs).len(), __nabla_k)),
            quote_spanned!(span=> __nabla_i * __nabla_k
                ..::core::primitive::usize::min(__nabla_i * __nabla_k + __nabla_k, (#xs).len())),
        ),
        "chunks_exact" => (
            quote_spanned!(span=> ::nabla::__private::exact_chunk_count((#xs).len(), __nabla_k)),
            quote_spanned!(span=> __nabla_i * __nabla_k..__nabla_i * __nabla_k + __nabla_k),
        ),
        _ => return None,
    };
    let pat = &e.pat;
    let body = &e.body.stmts;
    let part = quote_spanned!(span=> &(#xs)[#range]);
    let bind = if enumerated {
        quote_spanned!(span=> let #pat = (__nabla_i, #part);)
    } else {
        quote_spanned!(span=> let #pat = #part;)
    };
    let for_token = e.for_token;
    syn::parse2(quote_spanned! {e.span()=> {
        let __nabla_k: usize = #k;
        #for_token __nabla_i in 0..#count {
            #bind
            #(#body)*
        }
    }})
    .ok()
}

/// `X.split_at(m)` as the pair of subslices it returns.
pub fn rewrite_split_at(m: &ExprMethodCall) -> Option<Expr> {
    let (mid, parts) = split_at_parts(m)?;
    let span = m.method.span();
    syn::parse2(quote_spanned! {span=> { #mid #parts }}).ok()
}

/// `X.split_at(m)` as `let m' = m;` and the tuple `(&X[..m'], &X[m'..])`, for a `let (a, b) =`
/// that binds the two parts right away.
pub fn split_at_parts(m: &ExprMethodCall) -> Option<(syn::Stmt, Expr)> {
    if m.method != "split_at" || m.args.len() != 1 || !is_place(&m.receiver) {
        return None;
    }
    let span = m.method.span();
    let xs = &m.receiver;
    let mid = &m.args[0];
    let bind = syn::parse2(quote_spanned!(span=> let __nabla_mid: usize = #mid;)).ok()?;
    let parts =
        syn::parse2(quote_spanned!(span=> (&(#xs)[..__nabla_mid], &(#xs)[__nabla_mid..]))).ok()?;
    Some((bind, parts))
}

/// `v.pop()` under an `unwrap()`/`expect(..)`, on a plain local name: its last element, then
/// the buffer one shorter. The caller checks that `v` is a local buffer.
pub fn rewrite_pop(option: &Expr) -> Option<(Expr, &syn::Ident)> {
    let Expr::MethodCall(m) = strip_parens(option) else {
        return None;
    };
    if m.method != "pop" || !m.args.is_empty() || m.turbofish.is_some() {
        return None;
    }
    let Expr::Path(p) = strip_parens(&m.receiver) else {
        return None;
    };
    let v = p.path.get_ident()?;
    let span = m.method.span();
    let rewritten = syn::parse2(quote_spanned! {span=> {
        let __nabla_last: usize = #v.len() - 1;
        let __nabla_element = #v[__nabla_last].clone();
        #v.truncate(__nabla_last);
        __nabla_element
    }})
    .ok()?;
    Some((rewritten, v))
}
