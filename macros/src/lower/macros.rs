//! Macros: `vec![..]` as a buffer, and statement macros such as `assert!` and `println!` and
//! macros that make a string (`format!`), kept as written.

use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Expr;

use super::Lowerer;
use crate::ir::{Kept, StmtKind, Value, Written};

impl Lowerer<'_> {
    pub(super) fn lower_statement_macro(&mut self, mac: &syn::Macro) {
        let name = macro_name(mac);
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
            "unimplemented",
        ];
        if !STATEMENT_MACROS.contains(&name.as_str()) {
            self.unsupported(mac.span(), &format!("the macro `{name}!`"), "only `vec![..]` and statement macros such as `assert!` are understood; compute the value with plain expressions");
            return;
        }
        let (tokens, reads) = self.kept_macro(mac, &name);
        self.push(
            StmtKind::Opaque {
                tokens: quote!(#tokens;),
                reads,
            },
            mac.span(),
        );
    }

    /// `format!("{x:.3}")`, and `stringify!(..)`, `concat!(..)`, `line!()` and the other macros
    /// of literals: a string or a location, kept as written. It never carries gradient, so it is
    /// data whatever it reads; `None` for any other macro.
    pub(super) fn lower_text_macro(
        &mut self,
        mac: &syn::Macro,
        span: proc_macro2::Span,
    ) -> Option<Value> {
        // Macros of tokens and literals, which read no variable: `stringify!(x)` is "x".
        const LITERAL_MACROS: &[&str] = &[
            "stringify",
            "concat",
            "line",
            "column",
            "file",
            "module_path",
            "env",
            "option_env",
            "include_str",
            "include_bytes",
        ];
        let name = macro_name(mac);
        let (tokens, reads) = if name == "format" {
            self.kept_macro(mac, &name)
        } else if LITERAL_MACROS.contains(&name.as_str()) {
            (mac.to_token_stream(), Vec::new())
        } else {
            return None;
        };
        Some(Value::Opaque {
            tokens: quote_spanned!(span=> (#tokens)),
            reads,
            kept: Kept::Data,
        })
    }

    /// The error for a macro that gives a value nabla cannot see into (a user's `twice!(x)`).
    pub(super) fn unsupported_macro(
        &mut self,
        mac: &syn::Macro,
        span: proc_macro2::Span,
    ) -> crate::ir::Operand {
        let name = macro_name(mac);
        self.unsupported(
            span,
            &format!("the macro `{name}!` in expression position"),
            "nabla cannot see what a macro computes: write out the expression it stands for, or call a `#[differentiable]` function; of the macros that give a value, `vec!`, `matches!` and `format!` are understood",
        )
    }

    /// A macro call kept as written, with the function's variables renamed in its arguments and
    /// in its format string, and the variables it reads.
    fn kept_macro(
        &mut self,
        mac: &syn::Macro,
        name: &str,
    ) -> (proc_macro2::TokenStream, Vec<crate::ir::VarId>) {
        let (mut inner, mut reads) = self.rename_macro_arguments(&mac.tokens);
        // A name captured by the format string (`println!("{y}")`) is renamed with the others
        // when passed as a named argument, which the string then reads: `y = __y_4`.
        let ends_in_comma = matches!(
            mac.tokens.clone().into_iter().last(),
            Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ','
        );
        let mut first = !ends_in_comma && !mac.tokens.is_empty();
        for ident in format_captures(name, &mac.tokens) {
            if self.lookup(&ident.to_string()).is_none() {
                continue;
            }
            let (value, read) = self.rename(quote!(#ident));
            let comma = if first { quote!(,) } else { quote!() };
            inner.extend(quote!(#comma #ident = #value,));
            reads.extend(read);
            first = false;
        }
        let (path, bang) = (&mac.path, &mac.bang_token);
        let delimiter = match mac.delimiter {
            syn::MacroDelimiter::Paren(_) => proc_macro2::Delimiter::Parenthesis,
            syn::MacroDelimiter::Brace(_) => proc_macro2::Delimiter::Brace,
            syn::MacroDelimiter::Bracket(_) => proc_macro2::Delimiter::Bracket,
        };
        let mut group = proc_macro2::Group::new(delimiter, inner);
        group.set_span(mac.delimiter.span().join());
        (quote!(#path #bang #group), reads)
    }

    /// A macro's arguments with the function's variables renamed, except the names of named
    /// arguments (`"{v}", v = x`), which the format string reads as written.
    fn rename_macro_arguments(
        &mut self,
        tokens: &proc_macro2::TokenStream,
    ) -> (proc_macro2::TokenStream, Vec<crate::ir::VarId>) {
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let Ok(args) = syn::parse::Parser::parse2(parser, tokens.clone()) else {
            return self.rename(tokens.clone());
        };
        let (mut out, mut reads) = (proc_macro2::TokenStream::new(), Vec::new());
        for pair in args.pairs() {
            let (renamed, read) = match pair.value() {
                Expr::Assign(a) if matches!(&*a.left, Expr::Path(p) if p.path.get_ident().is_some()) =>
                {
                    let (value, read) = self.rename(a.right.to_token_stream());
                    let (name, eq) = (&a.left, &a.eq_token);
                    (quote!(#name #eq #value), read)
                }
                other => self.rename(other.to_token_stream()),
            };
            out.extend(renamed);
            out.extend(pair.punct().map(|p| p.to_token_stream()));
            reads.extend(read);
        }
        (out, reads)
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
            kept: Kept::Checked(Written::Vec),
        }
    }
}

/// The name a macro is called by: `println` for `std::println!`.
fn macro_name(mac: &syn::Macro) -> String {
    mac.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// `matches!(e, P)` and `matches!(e, P if guard)` as the `match` they stand for; `None` for any
/// other macro, and for a `matches!` that does not parse.
pub(super) fn matches_as_match(mac: &syn::Macro) -> Option<Expr> {
    if !mac.path.is_ident("matches") {
        return None;
    }
    let parser = |input: syn::parse::ParseStream| {
        let scrutinee: Expr = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let pattern = syn::Pat::parse_multi_with_leading_vert(input)?;
        let guard = if input.peek(syn::Token![if]) {
            input.parse::<syn::Token![if]>()?;
            Some(input.parse::<Expr>()?)
        } else {
            None
        };
        let _ = input.parse::<Option<syn::Token![,]>>()?;
        Ok((scrutinee, pattern, guard))
    };
    let (scrutinee, pattern, guard) =
        syn::parse::Parser::parse2(parser, mac.tokens.clone()).ok()?;
    let guard = guard.map(|g| quote!(if #g));
    let span = mac.path.span();
    Some(syn::parse_quote_spanned! {span=>
        match #scrutinee { #pattern #guard => true, _ => false }
    })
}

/// The names a macro's format string captures (`"{y}"`, `"{y:?}"`, `"{x:w$}"`) that no named
/// argument gives (`y = ..`), spanned at the string.
fn format_captures(macro_name: &str, tokens: &proc_macro2::TokenStream) -> Vec<proc_macro2::Ident> {
    let position = match macro_name {
        "assert" | "debug_assert" => 1,
        "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => 2,
        "dbg" => return Vec::new(),
        _ => 0,
    };
    let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    let Ok(args) = syn::parse::Parser::parse2(parser, tokens.clone()) else {
        return Vec::new();
    };
    let Some(Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(format),
        ..
    })) = args.iter().nth(position)
    else {
        return Vec::new();
    };
    let named: Vec<String> = args
        .iter()
        .filter_map(|a| match a {
            Expr::Assign(a) => Some(a.left.to_token_stream().to_string()),
            _ => None,
        })
        .collect();
    let mut names = captured_names(&format.value());
    names.retain(|n| !named.contains(n));
    names.dedup();
    names
        .iter()
        .filter_map(|n| syn::parse_str::<proc_macro2::Ident>(n).ok())
        .map(|mut ident| {
            ident.set_span(format.span());
            ident
        })
        .collect()
}

/// The identifiers a format string reads by name: `{name}`, `{name:..}` and `name$` in a width
/// or precision, in order of first use. `{{` and `}}` are braces, `{0}` and `{}` positions.
fn captured_names(format: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        let is_ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && name != "_";
        if is_ident && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    let mut rest = format;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            continue;
        }
        let Some(close) = rest.find('}') else { break };
        let field = &rest[..close];
        rest = &rest[close + 1..];
        let (argument, spec) = field.split_once(':').unwrap_or((field, ""));
        add(argument.trim());
        // `{:w$}`, `{:.p$}`, `{:>w$.p$}`: the names before each `$`.
        for (end, _) in spec.match_indices('$') {
            let start = spec[..end]
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(0, |(i, c)| i + c.len_utf8());
            add(&spec[start..end]);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::captured_names;

    #[test]
    fn names_read_by_a_format_string() {
        assert_eq!(captured_names("{y} and {z:?}, {y:.3}"), ["y", "z"]);
        assert_eq!(
            captured_names("{{y}} {} {0} {:>w$.p$} {x:1$}"),
            ["w", "p", "x"]
        );
        assert_eq!(captured_names("{_} {r#in} {9a}"), Vec::<String>::new());
        // Not valid format strings, which rustc reports; no panic here.
        assert_eq!(captured_names("{:→$} {:é$} {"), ["é"]);
    }
}
