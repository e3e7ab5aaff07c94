//! Renames the user's variables inside tokens that are kept as written (`stop_gradient(..)`
//! contents, statement macros such as `assert!`), so they read the generated bindings.

use proc_macro2::{Group, Ident, TokenStream, TokenTree};

/// Replaces every identifier that `lookup` maps, except where it is a field or method name
/// (after `.`) or part of a path (next to `::`), or a closure's parameter within that closure
/// (`xs.iter().find(|w| **w > t)` reads no outer `w`). `lookup` also learns whether the name is
/// dereferenced (`*x`), which a value the user holds by reference must allow.
pub fn rename_tokens(
    tokens: TokenStream,
    lookup: &mut dyn FnMut(&Ident, bool) -> Option<TokenTree>,
) -> TokenStream {
    rename_in(tokens, false, &[], lookup)
}

/// `fields`: the tokens are the braces of a struct literal (`Opt { steps, rate: r }`), where a
/// field given by its variable alone keeps its name: `steps` becomes `steps: __t1`.
/// `shadowed`: the parameters of the closures the tokens are in, kept as written.
fn rename_in(
    tokens: TokenStream,
    fields: bool,
    shadowed: &[String],
    lookup: &mut dyn FnMut(&Ident, bool) -> Option<TokenTree>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut closure_ends = 0;
    for (i, tree) in trees.iter().enumerate() {
        if i < closure_ends {
            continue;
        }
        if let Some((close, end, names)) = closure_at(&trees, i) {
            let inner: Vec<String> = shadowed.iter().cloned().chain(names).collect();
            // The parameters as written; the body with them kept.
            out.extend(trees[i..close].iter().cloned());
            let body = trees[close..end].iter().cloned().collect();
            out.extend(rename_in(body, false, &inner, lookup));
            closure_ends = end;
            continue;
        }
        if let (true, TokenTree::Ident(ident)) = (fields, tree) {
            let starts = i == 0 || is_punct(&trees[i - 1], ',');
            let ends = i + 1 == trees.len() || is_punct(&trees[i + 1], ',');
            if starts && ends {
                if let Some(renamed) = lookup(ident, false) {
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
                let renamed = if after_dot
                    || after_path
                    || before_path
                    || before_bang
                    || shadowed.iter().any(|name| ident == name)
                {
                    None
                } else {
                    lookup(ident, is_dereferenced(&trees, i))
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
                    rename_in(group.stream(), literal, shadowed, lookup),
                );
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

/// A closure that starts at `i` (`|a, (b, c)| body`, `move |x: f64| ..`, after the start, `,`,
/// `=`, `=>` or `move`): where its body starts and ends (at the next `,` or `;` outside groups), and
/// the names its parameters bind. `||` binds none, and an `|` after an operand is the operator.
fn closure_at(trees: &[TokenTree], i: usize) -> Option<(usize, usize, Vec<String>)> {
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
    let end = close
        + trees[close..]
            .iter()
            .position(|t| is_punct(t, ',') || is_punct(t, ';'))
            .unwrap_or(trees.len() - close);
    let head: TokenStream = trees[i..=close].iter().cloned().collect();
    let closure: syn::ExprClosure = syn::parse2(quote::quote!(#head ())).ok()?;
    let names = closure
        .inputs
        .iter()
        .flat_map(crate::syntax::pattern_names)
        .collect();
    Some((close + 1, end, names))
}

/// Whether the token at `i` follows a unary `*`: one at the start, or after anything but an
/// operand (`a * x` multiplies; `if *x`, `(*x)`, `y * *x` dereference).
fn is_dereferenced(trees: &[TokenTree], i: usize) -> bool {
    const KEYWORDS: &[&str] = &[
        "if", "while", "return", "in", "match", "else", "break", "let",
    ];
    if i == 0 || !is_punct(&trees[i - 1], '*') {
        return false;
    }
    match i.checked_sub(2).map(|j| &trees[j]) {
        None => true,
        Some(TokenTree::Literal(_)) => false,
        Some(TokenTree::Ident(word)) => KEYWORDS.contains(&word.to_string().as_str()),
        Some(TokenTree::Group(g)) => g.delimiter() == proc_macro2::Delimiter::Brace,
        Some(TokenTree::Punct(_)) => true,
    }
}

fn is_punct(tree: &TokenTree, c: char) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which names `lookup` is told are dereferenced.
    fn dereferenced(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let tokens: TokenStream = source.parse().unwrap();
        rename_tokens(tokens, &mut |ident, deref| {
            if deref {
                found.push(ident.to_string());
            }
            None
        });
        found
    }

    /// The names `lookup` is asked about.
    fn looked_up(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        let tokens: TokenStream = source.parse().unwrap();
        rename_tokens(tokens, &mut |ident, _| {
            found.push(ident.to_string());
            None
        });
        found
    }

    #[test]
    fn keeps_a_closure_parameter_within_its_closure() {
        assert_eq!(looked_up("xs.iter().find(|w| **w > t)"), ["xs", "t"]);
        assert_eq!(
            looked_up("f(|(a, b): (f64, f64)| a + c, a)"),
            ["f", "c", "a"]
        );
        assert_eq!(
            looked_up("v.sort_by(move |&i, &j| w[i].total_cmp(&w[j]))"),
            ["v", "move", "w", "w"]
        );
        assert_eq!(
            looked_up("g(|x| { let y = x; y | k }, x)"),
            ["g", "let", "y", "y", "k", "x"]
        );
        // An `|` after an operand is the operator, and `||` binds nothing.
        assert_eq!(looked_up("a | b"), ["a", "b"]);
        assert_eq!(looked_up("h(|| w)"), ["h", "w"]);
        assert_eq!(
            looked_up("match k { 0 => |w| w, _ => f }"),
            ["match", "k", "_", "f"]
        );
    }

    #[test]
    fn tells_a_dereference_from_a_product() {
        assert_eq!(dereferenced("*x"), ["x"]);
        assert_eq!(dereferenced("a * x"), Vec::<String>::new());
        assert_eq!(dereferenced("2.0 * x + (a) * y"), Vec::<String>::new());
        assert_eq!(dereferenced("y * *x"), ["x"]);
        assert_eq!(dereferenced("f(*x, *y)"), ["x", "y"]);
        assert_eq!(dereferenced("if *x > 0.0 { *y } else { 0.0 }"), ["x", "y"]);
        assert_eq!(dereferenced("return *x"), ["x"]);
    }
}
