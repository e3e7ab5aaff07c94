//! `DVector::from_iterator(n, source.map(|x| ..))`, written as the buffer it fills.
//!
//! An iterator is no value nabla can differentiate, but this one is a loop: the call is
//! rewritten, before lowering, into a `for` loop that pushes each mapped element onto a local
//! buffer, and the matrix is then built from (the first `n` elements of) that buffer with
//! `from_column_slice`, whose rule the runtime holds. The closure may read any value.
//!
//! ```text
//! DVector::from_iterator(n, src.map(|x| body))
//!     { let mut items = Vec::new(); for x in src { items.push(body); }
//!       assert!(items.len() == n, ..); DVector::from_column_slice(&items[..]) }
//! DMatrix::from_iterator(r, c, src.map(..))   .. DMatrix::from_column_slice(r, c, &items[..])
//! ```
//!
//! `src.map(|x| body).collect::<Vec<_>>()`, and `.collect()` bound to a name whose type is
//! written `Vec<..>`, is the same loop, whose buffer is the value.
//!
//! Only `DVector` (one length) and matrices with both dimensions written are rewritten. A source
//! of another length than the matrix panics, as nalgebra's `from_iterator` does for dynamic
//! matrices. Static ones (`SVector::<f64, 3>::from_iterator(..)`) take only the first
//! elements of a longer source, which a loop would compute all of: they are not rewritten.

use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprMethodCall, ExprPath, Pat};

/// `src.map(|x| body)`: the source, the closure's pattern (without a type ascription, which a
/// `for` loop does not take) and its body.
fn mapped(iterator: &Expr) -> Option<(&Expr, &Pat, &Expr)> {
    let Expr::MethodCall(map) = iterator else {
        return None;
    };
    let Some(Expr::Closure(closure)) = map.args.first() else {
        return None;
    };
    // Written out as a loop, the closure's `return` would return from the function.
    if map.method != "map"
        || map.args.len() != 1
        || closure.inputs.len() != 1
        || crate::syntax::returns(&closure.body)
    {
        return None;
    }
    let pat = match &closure.inputs[0] {
        Pat::Type(typed) => &*typed.pat,
        other => other,
    };
    Some((&map.receiver, pat, &closure.body))
}

/// Whether a `collect` turbofish names a `Vec` (`collect::<Vec<_>>()`).
fn collects_a_vec(call: &ExprMethodCall) -> bool {
    let Some(turbofish) = &call.turbofish else {
        return false;
    };
    matches!(turbofish.args.first(), Some(syn::GenericArgument::Type(syn::Type::Path(p)))
        if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Vec"))
}

/// The loop `src.map(|x| body).collect()` stands for, when it collects into a `Vec`: written so
/// in a turbofish, or `into_vec` (the binding's type says so).
pub fn rewrite_collect(call: &ExprMethodCall, into_vec: bool) -> Option<Expr> {
    if call.method != "collect" || !call.args.is_empty() {
        return None;
    }
    if !(collects_a_vec(call) || (into_vec && call.turbofish.is_none())) {
        return None;
    }
    let (source, pat, body) = mapped(&call.receiver)?;
    let span = call.span();
    syn::parse2(quote_spanned! {span=> {
        let mut __nabla_items = ::std::vec::Vec::new();
        for #pat in #source {
            __nabla_items.push(#body);
        }
        __nabla_items
    }})
    .ok()
}

/// A function whose result type is a `Vec` and whose result is `src.map(..).collect()`: the
/// result's type names the collection as a binding's type does. The collects in the body's tail
/// (through the tails of blocks, `if` and `match` arms) and in `return` are rewritten into their
/// loops; `None` when there is none.
pub fn rewrite_result_collects(block: &syn::Block, result_ty: &syn::Type) -> Option<syn::Block> {
    struct Tails {
        rewritten: bool,
    }
    impl Tails {
        fn tail(&mut self, expr: &mut Expr) {
            match expr {
                Expr::MethodCall(m) => {
                    if let Some(rewritten) = rewrite_collect(m, true) {
                        *expr = rewritten;
                        self.rewritten = true;
                    }
                }
                Expr::Paren(p) => self.tail(&mut p.expr),
                Expr::Block(b) => self.block(&mut b.block),
                Expr::If(i) => {
                    self.block(&mut i.then_branch);
                    if let Some((_, other)) = &mut i.else_branch {
                        self.tail(other);
                    }
                }
                Expr::Match(m) => {
                    for arm in &mut m.arms {
                        self.tail(&mut arm.body);
                    }
                }
                _ => {}
            }
        }
        fn block(&mut self, block: &mut syn::Block) {
            if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last_mut() {
                self.tail(tail);
            }
        }
    }
    impl syn::visit_mut::VisitMut for Tails {
        fn visit_expr_return_mut(&mut self, ret: &mut syn::ExprReturn) {
            syn::visit_mut::visit_expr_return_mut(self, ret);
            if let Some(value) = &mut ret.expr {
                self.tail(value);
            }
        }
        // A closure's `return` leaves the closure, not the function.
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    }
    if !crate::lower::is_vec_type(result_ty) {
        return None;
    }
    let mut block = block.clone();
    let mut tails = Tails { rewritten: false };
    syn::visit_mut::VisitMut::visit_block_mut(&mut tails, &mut block);
    tails.block(&mut block);
    tails.rewritten.then_some(block)
}

/// The loop a `from_iterator` call with a mapped source stands for.
pub fn rewrite(func: &ExprPath, call: &ExprCall) -> Option<Expr> {
    let segments = &func.path.segments;
    let n = segments.len();
    if n < 2 || segments[n - 1].ident != "from_iterator" || call.args.is_empty() {
        return None;
    }
    let args: Vec<&Expr> = call.args.iter().collect();
    let (iterator, shape) = args.split_last()?;
    let (source, pat, body) = mapped(iterator)?;
    let leading = &func.path.leading_colon;
    let owner_segments = segments.iter().take(n - 1);
    let span = call.span();
    let owner = quote_spanned!(span=> #leading #(#owner_segments)::*);
    // A dynamic vector's length is its slice's; a matrix takes its shape first. nalgebra
    // requires the source to yield exactly that many elements. (A static matrix takes only the
    // first elements of a longer source, which the loop would compute all of: not rewritten.)
    // With one dimension written, only a `DVector`'s is its length (`Matrix2xX`'s is its column
    // count).
    let vector = segments[n - 2].ident == "DVector";
    let (len, build) = match shape {
        [len] if vector => (
            quote_spanned!(span=> (#len)),
            quote_spanned!(span=> #owner::from_column_slice(&__nabla_items[..])),
        ),
        [rows, columns] => (
            quote_spanned!(span=> (#rows) * (#columns)),
            quote_spanned!(span=> #owner::from_column_slice(#rows, #columns, &__nabla_items[..])),
        ),
        _ => return None,
    };
    syn::parse2(quote_spanned! {span=> {
        let mut __nabla_items = ::std::vec::Vec::new();
        for #pat in #source {
            __nabla_items.push(#body);
        }
        ::core::assert!(
            __nabla_items.len() == #len,
            "Allocation from iterator error: the iterator did not yield the correct number of elements."
        );
        #build
    }})
    .ok()
}
