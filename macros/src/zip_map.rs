//! `a.zip_map(&b, |x, y| ..)`, written as the element-wise loop it stands for.
//!
//! The closure takes two elements, so it is not a `map` closure (whose one element the runtime's
//! `MapRule` differentiates). Instead the call is rewritten, before lowering, into a loop over
//! the linear indices of both matrices that writes each result element; that loop is lowered
//! like user code, so the closure may read any value, and its gradient reaches `a`, `b` and
//! whatever else the closure reads through the rules of indexing and element writes.
//!
//! ```text
//! a.zip_map(&b, |x, y| body)
//!     { let l = &(a); let r = &(b); assert!(l.shape() == r.shape(), ..);
//!       let mut out = stop_gradient(l.clone_owned());
//!       for k in 0..l.len() { let x = l[k]; let y = r[k]; out[k] = body; }
//!       out }
//! ```
//!
//! The result starts as a copy of `a`'s values with no gradient; every element is then
//! overwritten. nalgebra requires both matrices to have one shape and panics otherwise; so does
//! the loop, with nalgebra's message.

use quote::quote_spanned;
use syn::{Expr, ExprMethodCall};

/// The loop `a.zip_map(&b, |x, y| ..)` stands for, when the closure takes two elements.
pub fn rewrite(m: &ExprMethodCall) -> Option<Expr> {
    if m.method != "zip_map" || m.args.len() != 2 || m.turbofish.is_some() {
        return None;
    }
    let Expr::Closure(closure) = &m.args[1] else {
        return None;
    };
    if closure.inputs.len() != 2 {
        return None;
    }
    let (x, y) = (&closure.inputs[0], &closure.inputs[1]);
    let (a, b) = (&m.receiver, &m.args[0]);
    let body = &closure.body;
    let span = m.method.span();
    syn::parse2(quote_spanned! {span=> {
        let __nabla_lhs = &(#a);
        let __nabla_rhs = &(#b);
        ::core::assert!(
            __nabla_lhs.shape() == __nabla_rhs.shape(),
            "Matrix simultaneous traversal error: dimension mismatch."
        );
        let mut __nabla_zipped = ::nabla::stop_gradient(__nabla_lhs.clone_owned());
        for __nabla_k in 0..__nabla_lhs.len() {
            let #x = __nabla_lhs[__nabla_k];
            let #y = __nabla_rhs[__nabla_k];
            __nabla_zipped[__nabla_k] = #body;
        }
        __nabla_zipped
    }})
    .ok()
}
