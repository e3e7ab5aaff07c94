//! Runtime paths in the generated code, taken out of the user's spans.
//!
//! The generated sweeps are spanned at the user's expressions, so that rustc reports a type
//! error where the user wrote what causes it. An editor maps every generated token that carries
//! a user's span back to the user's token, and shows their hovers together: hovering `r` in
//! `r * r` would show the runtime's `MulRule` trait and its `mul_adjoint_lhs` beside `let r:
//! f64`. The paths of the derivative rules (`__rt::rules::MulRule::mul_adjoint_lhs`) and the
//! `.value()` of an `Operand(..)` name nothing the user wrote, so they carry no user span, and
//! neither does the keyword of a generated `let`.
//! Their arguments keep theirs, and rustc still reports an unmet rule at the argument, where it
//! puts its primary span. (The `use .. as __rt` import resolves the same from any span.)

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};

/// `tokens` with the identifiers of runtime paths at `Span::mixed_site()`.
pub fn quiet_runtime_paths(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if starts_runtime_path(&trees, i) {
            let end = path_end(&trees, i);
            for tree in &trees[i..end] {
                out.push(quiet(tree.clone()));
            }
            // `Operand(&x).value()`: the method is the runtime's too.
            if ends_with_ident(&trees[i..end], "Operand") {
                if let (
                    Some(TokenTree::Group(g)),
                    Some(TokenTree::Punct(dot)),
                    Some(TokenTree::Ident(m)),
                ) = (trees.get(end), trees.get(end + 1), trees.get(end + 2))
                {
                    if g.delimiter() == Delimiter::Parenthesis
                        && dot.as_char() == '.'
                        && m == "value"
                    {
                        out.push(quiet_group(g));
                        out.push(trees[end + 1].clone());
                        out.push(quiet(trees[end + 2].clone()));
                        match trees.get(end + 3) {
                            Some(TokenTree::Group(call)) => {
                                out.push(quiet_group(call));
                                i = end + 4;
                            }
                            _ => i = end + 3,
                        }
                        continue;
                    }
                }
            }
            // The call's parentheses too: an editor shows the callee on them.
            if let Some(TokenTree::Group(g)) = trees.get(end) {
                if g.delimiter() == Delimiter::Parenthesis {
                    out.push(quiet_group(g));
                    i = end + 1;
                    continue;
                }
            }
            i = end;
            continue;
        }
        // `(&__rt::Operand(&x)).value()`, the form the forward sweep reads operands in.
        if let (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(m))) =
            (trees.get(i), trees.get(i + 1))
        {
            let after_operand =
                matches!(out.last(), Some(TokenTree::Group(g)) if names_operand(&g.stream()));
            if dot.as_char() == '.' && m == "value" && after_operand {
                out.push(trees[i].clone());
                out.push(quiet(trees[i + 1].clone()));
                match trees.get(i + 2) {
                    Some(TokenTree::Group(call)) => {
                        out.push(quiet_group(call));
                        i += 3;
                    }
                    _ => i += 2,
                }
                continue;
            }
        }
        // A generated `let` stands for no `let` of the user's: an editor would show the
        // keyword's documentation on the expression it is spanned at.
        if is_ident(trees.get(i), "let") {
            out.push(quiet(trees[i].clone()));
            i += 1;
            continue;
        }
        out.push(recurse(&trees[i]));
        i += 1;
    }
    out.into_iter().collect()
}

/// Whether `tokens` hold `__rt::Operand` (`&__rt::Operand(&x)`).
fn names_operand(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees
        .windows(4)
        .any(|w| is_ident(w.first(), "__rt") && is_ident(w.get(3), "Operand"))
}

fn recurse(tree: &TokenTree) -> TokenTree {
    match tree {
        TokenTree::Group(g) => {
            let mut group = Group::new(g.delimiter(), quiet_runtime_paths(g.stream()));
            group.set_span(g.span());
            TokenTree::Group(group)
        }
        other => other.clone(),
    }
}

/// A group at `Span::mixed_site()`, its contents treated as any other tokens.
fn quiet_group(g: &Group) -> TokenTree {
    let mut group = Group::new(g.delimiter(), quiet_runtime_paths(g.stream()));
    group.set_span(Span::mixed_site());
    TokenTree::Group(group)
}

fn quiet(tree: TokenTree) -> TokenTree {
    match tree {
        TokenTree::Ident(mut ident) => {
            ident.set_span(Span::mixed_site());
            TokenTree::Ident(ident)
        }
        other => other,
    }
}

fn is_ident(tree: Option<&TokenTree>, name: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(i)) if i == name)
}

fn is_colon(tree: Option<&TokenTree>) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ':')
}

/// A path `__rt::rules::..` (a derivative rule) or `__rt::Operand` at `i`, not a field or a
/// method named so (`x.__rt`). Other runtime paths (`Tangent::zero_tangent`) stand at the
/// user's tokens on purpose: rustc reports their unmet bounds at the path.
fn starts_runtime_path(trees: &[TokenTree], i: usize) -> bool {
    let after = |p: char| i > 0 && matches!(&trees[i - 1], TokenTree::Punct(q) if q.as_char() == p);
    if after('.') || after(':') || !is_ident(trees.get(i), "__rt") {
        return false;
    }
    is_colon(trees.get(i + 1))
        && is_colon(trees.get(i + 2))
        && (is_ident(trees.get(i + 3), "rules") || is_ident(trees.get(i + 3), "Operand"))
}

/// Where the path starting at `i` ends: after its last `ident` of `ident (:: ident)*`. A
/// turbofish ends it, since its type arguments are the user's.
fn path_end(trees: &[TokenTree], mut i: usize) -> usize {
    loop {
        if !matches!(trees.get(i), Some(TokenTree::Ident(_))) {
            return i;
        }
        i += 1;
        if is_colon(trees.get(i))
            && is_colon(trees.get(i + 1))
            && matches!(trees.get(i + 2), Some(TokenTree::Ident(_)))
        {
            i += 2;
        } else {
            return i;
        }
    }
}

fn ends_with_ident(trees: &[TokenTree], name: &str) -> bool {
    is_ident(trees.last(), name)
}

#[cfg(test)]
mod tests {
    use super::quiet_runtime_paths;
    use proc_macro2::{TokenStream, TokenTree};

    fn idents(tokens: &TokenStream, out: &mut Vec<String>) {
        for tree in tokens.clone() {
            match tree {
                TokenTree::Ident(i) => out.push(i.to_string()),
                TokenTree::Group(g) => idents(&g.stream(), out),
                _ => {}
            }
        }
    }

    #[test]
    fn runtime_paths_keep_their_tokens() {
        let tokens: TokenStream = quote::quote! {
            let __t1 = (&__rt::Operand(&x)).value() * y;
            __rt::rules::MulRule::mul_accumulate_lhs(&x, &y, &d, &mut acc);
            ::nabla::__private::parameter_carries_gradient(&w);
            __rt::rules::CastRule::<f32>::cast_adjoint(a, d);
            let __t2 = __rt::Operand(&x).value() + (&__rt::Operand(&y)).value();
            v.value();
        };
        let quiet = quiet_runtime_paths(tokens.clone());
        assert_eq!(quiet.to_string(), tokens.to_string());
        let (mut before, mut after) = (Vec::new(), Vec::new());
        idents(&tokens, &mut before);
        idents(&quiet, &mut after);
        assert_eq!(before, after);
    }

    /// Spans, on tokens parsed from text (which have lines and columns in unit tests).
    #[test]
    fn only_runtime_names_lose_the_users_spans() {
        let text = "let y = (&__rt::Operand(&x)).value(); __rt::rules::MulRule::mul_adjoint_lhs(&x, &w, &d); x.value()";
        let tokens: TokenStream = text.parse().expect("tokens");
        let quiet = quiet_runtime_paths(tokens);
        let mut located = Vec::new();
        fn walk(tokens: &TokenStream, out: &mut Vec<(String, bool)>) {
            for tree in tokens.clone() {
                match tree {
                    TokenTree::Ident(i) => {
                        let here = proc_macro2::Span::call_site();
                        let at_user =
                            (i.span().start(), i.span().end()) != (here.start(), here.end());
                        out.push((i.to_string(), at_user))
                    }
                    TokenTree::Group(g) => walk(&g.stream(), out),
                    _ => {}
                }
            }
        }
        walk(&quiet, &mut located);
        let user: Vec<&str> = located
            .iter()
            .filter(|(_, at_user)| *at_user)
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(user, ["y", "x", "x", "w", "d", "x", "value"]);
    }
}
