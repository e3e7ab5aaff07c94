//! Where kept tokens bind names of their own: closure parameters, `let`, `for`, `if let`,
//! `while let` and `match` arms. Within its scope such a name is the kept code's, not the
//! function's variable of the same name (`sort_by(|a, b| { let w = a - b; .. })` reads no `w`).

use std::ops::Range;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::Parser;

/// Names bound by the tokens at `pattern`, which are kept as written, and in scope over the
/// tokens at `scope` (for a block, the one index of its group).
pub(super) struct Binder {
    pub pattern: Range<usize>,
    pub scope: Range<usize>,
    pub names: Vec<String>,
}

/// The binders among `trees`, one token stream's top level, and the indices of the groups
/// that hold a `match`'s arms. `arms`: `trees` are themselves the arms of a `match`.
pub(super) fn binders(trees: &[TokenTree], arms: bool) -> (Vec<Binder>, Vec<usize>) {
    let mut found = if arms { match_arms(trees) } else { Vec::new() };
    let mut match_bodies = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        if found.iter().any(|b| b.pattern.contains(&i)) {
            i += 1;
            continue;
        }
        let binder = match &trees[i] {
            TokenTree::Punct(_) => closure_at(trees, i),
            TokenTree::Ident(word) if !after_dot(trees, i) => match word.to_string().as_str() {
                "let" => let_at(trees, i),
                "for" => for_at(trees, i),
                "match" => {
                    match_bodies.extend(block_after(trees, i + 1));
                    None
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(binder) = binder {
            i = binder.pattern.end;
            found.push(binder);
        } else {
            i += 1;
        }
    }
    (found, match_bodies)
}

/// A closure that starts at `i` (`|a, (b, c)| body`, `move |x: f64| ..`, after the start, `,`,
/// `=`, `=>`, `;` or `move`): its parameters, in scope over its body up to the next `,` or `;`.
/// `||` binds none, and an `|` after an operand is the operator.
fn closure_at(trees: &[TokenTree], i: usize) -> Option<Binder> {
    if !is_punct(&trees[i], '|') {
        return None;
    }
    let starts = match i.checked_sub(1).map(|j| &trees[j]) {
        None => true,
        Some(TokenTree::Punct(p)) => {
            matches!(p.as_char(), ',' | '=' | ';')
                || (p.as_char() == '>' && i > 1 && is_punct(&trees[i - 2], '='))
        }
        Some(TokenTree::Ident(word)) => word == "move",
        _ => false,
    };
    if !starts {
        return None;
    }
    let close = i + 1 + trees[i + 1..].iter().position(|t| is_punct(t, '|'))?;
    let end = next_separator(trees, close);
    let head: TokenStream = trees[i..=close].iter().cloned().collect();
    let closure: syn::ExprClosure = syn::parse2(quote::quote!(#head ())).ok()?;
    let names = closure
        .inputs
        .iter()
        .flat_map(crate::syntax::pattern_names)
        .collect();
    Some(Binder {
        pattern: i..close + 1,
        scope: close + 1..end,
        names,
    })
}

/// `let PAT = ..;` binds over the rest of its block, from its `;`; `if let` and `while let`
/// bind over the block that follows.
fn let_at(trees: &[TokenTree], i: usize) -> Option<Binder> {
    let conditional =
        i > 0 && matches!(&trees[i - 1], TokenTree::Ident(w) if w == "if" || w == "while");
    let end = (i + 1..trees.len())
        .find(|&j| is_assignment(trees, j) || is_punct(&trees[j], ';'))
        .unwrap_or(trees.len());
    let pattern: TokenStream = trees[i + 1..end].iter().cloned().collect();
    let names = if conditional {
        pattern_names(pattern)?
    } else {
        let local: syn::Stmt = syn::parse2(quote::quote!(let #pattern;)).ok()?;
        match local {
            syn::Stmt::Local(local) => crate::syntax::pattern_names(&local.pat),
            _ => return None,
        }
    };
    let scope = if conditional {
        let body = block_after(trees, end)?;
        body..body + 1
    } else {
        let semicolon = (end..trees.len())
            .find(|&j| is_punct(&trees[j], ';'))
            .unwrap_or(trees.len());
        semicolon..trees.len()
    };
    Some(Binder {
        pattern: i + 1..end,
        scope,
        names,
    })
}

/// `for PAT in .. { .. }` binds over its body.
fn for_at(trees: &[TokenTree], i: usize) -> Option<Binder> {
    let end =
        (i + 1..trees.len()).find(|&j| matches!(&trees[j], TokenTree::Ident(w) if w == "in"))?;
    let names = pattern_names(trees[i + 1..end].iter().cloned().collect())?;
    let body = block_after(trees, end)?;
    Some(Binder {
        pattern: i + 1..end,
        scope: body..body + 1,
        names,
    })
}

/// The arms of a `match` (`PAT if GUARD => BODY,`): each pattern binds over its guard and body.
fn match_arms(trees: &[TokenTree]) -> Vec<Binder> {
    let mut arms = Vec::new();
    let mut start = 0;
    while let Some(arrow) = (start..trees.len()).find(|&j| is_arrow(trees, j)) {
        let guard = (start..arrow)
            .find(|&j| matches!(&trees[j], TokenTree::Ident(w) if w == "if"))
            .unwrap_or(arrow);
        let body = arrow + 2;
        let end = match trees.get(body) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => body + 1,
            _ => next_separator(trees, body),
        };
        if let Some(names) = pattern_names(trees[start..guard].iter().cloned().collect()) {
            arms.push(Binder {
                pattern: start..guard,
                scope: guard..end,
                names,
            });
        }
        start = end + usize::from(trees.get(end).is_some_and(|t| is_punct(t, ',')));
    }
    arms
}

/// The names a pattern (with alternatives, `A(x) | B(x)`) binds; `None` if it is not one.
fn pattern_names(tokens: TokenStream) -> Option<Vec<String>> {
    let pat = syn::Pat::parse_multi_with_leading_vert
        .parse2(tokens)
        .ok()?;
    Some(crate::syntax::pattern_names(&pat))
}

/// The index of the first block (a group in braces) at or after `from`.
fn block_after(trees: &[TokenTree], from: usize) -> Option<usize> {
    (from..trees.len())
        .find(|&j| matches!(&trees[j], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))
}

/// The index of the next `,` or `;` at or after `from`, or the end.
fn next_separator(trees: &[TokenTree], from: usize) -> usize {
    (from..trees.len())
        .find(|&j| is_punct(&trees[j], ',') || is_punct(&trees[j], ';'))
        .unwrap_or(trees.len())
}

/// An `=` of its own, not part of `==`, `=>`, `<=`, `..=` or the like.
fn is_assignment(trees: &[TokenTree], j: usize) -> bool {
    let joined_before = matches!(trees.get(j.wrapping_sub(1)),
        Some(TokenTree::Punct(p)) if p.spacing() == proc_macro2::Spacing::Joint);
    matches!(&trees[j], TokenTree::Punct(p)
        if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone)
        && !joined_before
}

/// `=>`: an `=` joined to a `>`.
fn is_arrow(trees: &[TokenTree], j: usize) -> bool {
    matches!(&trees[j], TokenTree::Punct(p)
        if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Joint)
        && trees.get(j + 1).is_some_and(|t| is_punct(t, '>'))
}

/// After `.` is a field or method, but after `..` a range bound.
pub(super) fn after_dot(trees: &[TokenTree], i: usize) -> bool {
    i > 0 && is_punct(&trees[i - 1], '.') && !(i > 1 && is_punct(&trees[i - 2], '.'))
}

pub(super) fn is_punct(tree: &TokenTree, c: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == c)
}
