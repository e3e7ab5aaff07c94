//! Renames the user's variables inside tokens that are kept as written (`stop_gradient(..)`
//! contents, statement macros such as `assert!`), so they read the generated bindings.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};

/// Replaces every identifier that `lookup` maps, except where it is a field or method name
/// (after `.`) or part of a path (next to `::`).
pub fn rename_tokens(
    tokens: TokenStream,
    lookup: &mut dyn FnMut(&Ident) -> Option<TokenTree>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
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
                let mut inner =
                    Group::new(group.delimiter(), rename_tokens(group.stream(), lookup));
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
