//! Statement macros such as `assert!` and `println!`, kept as written.

use quote::{quote, ToTokens};
use syn::spanned::Spanned;

use super::Lowerer;
use crate::ir::StmtKind;

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
}
