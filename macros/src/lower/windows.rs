//! Parts of a container as element sources: `xs[a..b]`, `.skip(k)`, `.take(k)`,
//! `.step_by(k)` and `.rev()`, in any order and combination.
//!
//! Every such source visits an arithmetic progression of the container's indices: element `k`
//! of the loop is `xs[first + k·stride]`, for `k` in `0..len`. The three numbers are computed once,
//! before the loop, as temporaries of their own (`isize`, `isize`, `usize`), and each adaptor
//! maps them to new ones: so `w[1..].iter().zip(&w[..n - 1])` is one index loop reading `w[k + 1]`
//! and `w[k]`, and the reverse sweep scatters into the same elements.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use super::Lowerer;
use crate::ir::{Kept, Operand, Value, VarId};

/// The progression of indices a source visits (see the module documentation).
#[derive(Clone, Copy)]
pub(super) struct Window {
    pub first: VarId,
    pub stride: VarId,
    pub len: VarId,
}

impl Lowerer<'_> {
    /// A temporary holding `tokens`, which read the variables `reads`.
    pub(super) fn window_value(
        &mut self,
        tokens: TokenStream,
        reads: Vec<VarId>,
        span: Span,
    ) -> VarId {
        let op = self.operand_of(
            Value::Opaque {
                tokens: quote_spanned!(span=> (#tokens)),
                reads,
                kept: Kept::Data,
            },
            span,
        );
        match op {
            Operand::Var(v) => v,
            // `operand_of` binds every value that is not a plain operand to a temporary.
            _ => unreachable!("a window value is always bound to a temporary"),
        }
    }

    fn ident_of(&self, v: VarId) -> TokenStream {
        self.vars[v.0].ident.to_token_stream()
    }

    /// The whole of container `var`: `0, 1, .., len - 1`.
    pub(super) fn whole_window(&mut self, var: VarId, span: Span) -> Window {
        let container = self.ident_of(var);
        let first = self.window_value(quote!(0isize), vec![], span);
        let stride = self.window_value(quote!(1isize), vec![], span);
        let len = self.window_value(quote!(#container.len()), vec![var], span);
        Window { first, stride, len }
    }

    /// The positions `0, 1, .., len - 1` of a source `len` long (`len` reads `reads`).
    pub(super) fn counting_window(
        &mut self,
        len: TokenStream,
        reads: Vec<VarId>,
        span: Span,
    ) -> Window {
        let first = self.window_value(quote!(0isize), vec![], span);
        let stride = self.window_value(quote!(1isize), vec![], span);
        let len = self.window_value(len, reads, span);
        Window { first, stride, len }
    }

    /// `xs[range]` of the whole container `var`.
    pub(super) fn range_window(
        &mut self,
        var: VarId,
        range: &syn::ExprRange,
        span: Span,
    ) -> Window {
        let container = self.ident_of(var);
        let mut reads = vec![var];
        let mut bounds = [&range.start, &range.end].map(|e| {
            e.as_ref().map(|e| {
                let (tokens, r) = self.rename(e.to_token_stream());
                reads.extend(r);
                quote!((#tokens))
            })
        });
        let start = bounds[0].take().unwrap_or_else(|| quote!(0usize));
        let end = match (bounds[1].take(), &range.limits) {
            (Some(end), syn::RangeLimits::Closed(_)) => quote!((#end + 1)),
            (Some(end), syn::RangeLimits::HalfOpen(_)) => end,
            (None, _) => quote!(#container.len()),
        };
        let first = self.window_value(quote!(#start as isize), reads.clone(), span);
        let stride = self.window_value(quote!(1isize), vec![], span);
        // Through the slice itself, so that bounds out of range panic as in the user's code.
        let len = self.window_value(
            quote!(#container[(#start as usize)..(#end as usize)].len()),
            reads,
            span,
        );
        Window { first, stride, len }
    }

    /// The window after an adaptor `name(arg)`, or `None` for one that is not a window adaptor.
    pub(super) fn adapt_window(
        &mut self,
        window: Window,
        name: &str,
        arg: Option<&syn::Expr>,
        span: Span,
    ) -> Option<Window> {
        let (first, stride, len) = (
            self.ident_of(window.first),
            self.ident_of(window.stride),
            self.ident_of(window.len),
        );
        let all = [window.first, window.stride, window.len];
        let (k, mut reads) = match arg {
            Some(arg) => {
                let (tokens, reads) = self.rename(arg.to_token_stream());
                (quote!(((#tokens) as usize)), reads)
            }
            None => (TokenStream::new(), Vec::new()),
        };
        reads.extend(all.iter().copied());
        Some(match (name, arg.is_some()) {
            ("skip", true) => Window {
                first: self.window_value(
                    quote!(#first + (::core::cmp::min(#k, #len) as isize) * #stride),
                    reads.clone(),
                    span,
                ),
                stride: window.stride,
                len: self.window_value(quote!(#len.saturating_sub(#k)), reads, span),
            },
            ("take", true) => Window {
                first: window.first,
                stride: window.stride,
                len: self.window_value(quote!(::core::cmp::min(#len, #k)), reads, span),
            },
            ("step_by", true) => Window {
                first: window.first,
                // `step_by(0)` panics in the user's code; it does here too, in `div_ceil`.
                stride: self.window_value(quote!(#stride * (#k as isize)), reads.clone(), span),
                len: self.window_value(quote!(#len.div_ceil(#k)), reads, span),
            },
            ("rev", false) => Window {
                first: self.window_value(
                    quote!(#first + (#len as isize - 1) * #stride),
                    reads.clone(),
                    span,
                ),
                stride: self.window_value(quote!(-#stride), reads, span),
                len: window.len,
            },
            _ => return None,
        })
    }

    /// The container index of element `counter` of a window.
    pub(super) fn window_index(&mut self, window: Window, counter: VarId, span: Span) -> VarId {
        let (first, stride, k) = (
            self.ident_of(window.first),
            self.ident_of(window.stride),
            self.ident_of(counter),
        );
        self.window_value(
            quote!((#first + (#k as isize) * #stride) as usize),
            vec![window.first, window.stride, counter],
            span,
        )
    }
}

/// Whether `expr` is a range (`a..b`, `..n`, `a..=b`), possibly in parentheses.
pub(super) fn as_range(expr: &syn::Expr) -> Option<&syn::ExprRange> {
    match expr {
        syn::Expr::Range(r) => Some(r),
        syn::Expr::Paren(p) => as_range(&p.expr),
        _ => None,
    }
}
