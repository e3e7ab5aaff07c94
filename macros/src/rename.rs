//! Renames the user's variables inside tokens that are kept as written (`stop_gradient(..)`
//! contents, statement macros such as `assert!`), so they read the generated bindings.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};

/// Replaces every identifier that `lookup` maps, except where it is a field or method name
/// (after `.`) or part of a path (next to `::`).
pub fn rename_tokens(
    tokens: TokenStream,
    lookup: &mut dyn FnMut(&Ident) -> Option<TokenTree>,
) -> TokenStream {
    rename_in(tokens, false, lookup)
}

/// `fields`: the tokens are the braces of a struct literal (`Opt { steps, rate: r }`), where a
/// field given by its variable alone keeps its name: `steps` becomes `steps: __t1`.
fn rename_in(
    tokens: TokenStream,
    fields: bool,
    lookup: &mut dyn FnMut(&Ident) -> Option<TokenTree>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
        if let (true, TokenTree::Ident(ident)) = (fields, tree) {
            let starts = i == 0 || is_punct(&trees[i - 1], ',');
            let ends = i + 1 == trees.len() || is_punct(&trees[i + 1], ',');
            if starts && ends {
                if let Some(renamed) = lookup(ident) {
                    out.push(TokenTree::Ident(ident.clone()));
                    out.push(TokenTree::Punct(proc_macro2::Punct::new(
                        ':',
                        proc_macro2::Spacing::Alone,
                    )));
                    out.push(renamed);
                    continue;
                }
            }
        }
        match tree {
            TokenTree::Ident(ident) => {
                // After `.` is a field or method, but after `..` a range bound.
                let after_dot = i > 0
                    && is_punct(&trees[i - 1], '.')
                    && !(i > 1 && is_punct(&trees[i - 2], '.'));
                let after_path =
                    i > 1 && is_punct(&trees[i - 1], ':') && is_punct(&trees[i - 2], ':');
                let before_path = i + 2 < trees.len()
                    && is_punct(&trees[i + 1], ':')
                    && is_punct(&trees[i + 2], ':');
                let before_bang = i + 1 < trees.len() && is_punct(&trees[i + 1], '!');
                let renamed = if after_dot || after_path || before_path || before_bang {
                    None
                } else {
                    lookup(ident)
                };
                out.push(renamed.unwrap_or_else(|| TokenTree::Ident(ident.clone())));
            }
            TokenTree::Group(group) => {
                // Braces after a type's name (`Opt { .. }`) hold a struct literal's fields.
                let literal = group.delimiter() == proc_macro2::Delimiter::Brace
                    && i > 0
                    && matches!(&trees[i - 1], TokenTree::Ident(name)
                        if name.to_string().starts_with(|c: char| c.is_ascii_uppercase()));
                let mut inner = Group::new(
                    group.delimiter(),
                    rename_in(group.stream(), literal, lookup),
                );
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

fn is_punct(tree: &TokenTree, c: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == c)
}
