//! Macros: `vec![..]` as a buffer, and statement macros such as `assert!` and `println!`,
//! kept as written.

use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::Lowerer;
use crate::ir::{StmtKind, Value};

impl Lowerer<'_> {
    pub(super) fn lower_statement_macro(&mut self, mac: &syn::Macro) {
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

    /// `vec![a, b, c]` and `vec![x; n]`.
    pub(super) fn lower_vec_macro(&mut self, m: &syn::ExprMacro, span: proc_macro2::Span) -> Value {
        // `vec![a, b, c]` is a buffer the elements are pushed onto, whose elements may
        // carry gradient (and need not be `Clone`).
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        if let Ok(elements) = syn::parse::Parser::parse2(parser, m.mac.tokens.clone()) {
            if !elements.is_empty() {
                let count = elements.len();
                let elements = elements.iter();
                let buffer: Expr = syn::parse_quote_spanned! {span=> {
                    let mut __nabla_items = ::std::vec::Vec::with_capacity(#count);
                    #(__nabla_items.push(#elements);)*
                    __nabla_items
                }};
                return self.lower_rewritten(&buffer);
            }
        }
        let (tokens, _) = self.rename(m.mac.to_token_stream());
        // Only the element values matter for gradients, not the length (`vec![0.0; n]`).
        let inner = &m.mac.tokens;
        let elements = match syn::parse2::<syn::ExprRepeat>(quote!([#inner])) {
            Ok(repeat) => repeat.expr.to_token_stream(),
            Err(_) => inner.clone(),
        };
        let (_, reads) = self.rename(elements);
        Value::Opaque {
            tokens,
            reads,
            stopped: false,
        }
    }
}
