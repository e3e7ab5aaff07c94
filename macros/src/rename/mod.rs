//! Renames the user's variables inside tokens that are kept as written (`stop_gradient(..)`
//! contents, statement macros such as `assert!`), so they read the generated bindings.

mod binders;

use proc_macro2::{Group, Ident, TokenStream, TokenTree};

use binders::{after_dot, binders, is_punct};

/// Replaces every identifier that `lookup` maps, except where it is a field or method name
/// (after `.`) or part of a path (next to `::`), or a name the kept code binds itself, within
/// its scope: a closure's parameter (`xs.iter().find(|w| **w > t)` reads no outer `w`), a
/// `let`, `for`, `if let` or `while let` pattern, or a `match` arm's. `lookup` also learns whether the name is
/// dereferenced (`*x`), which a value the user holds by reference must allow.
pub fn rename_tokens(
    tokens: TokenStream,
    lookup: &mut dyn FnMut(&Ident, bool) -> Option<TokenTree>,
) -> TokenStream {
    rename_in(tokens, (false, false), &[], lookup)
}

/// `fields`: the tokens are the braces of a struct literal (`Opt { steps, rate: r }`), where a
/// field given by its variable alone keeps its name: `steps` becomes `steps: __t1`.
/// `arms`: the tokens are the braces of a `match`, whose arms bind names.
/// `shadowed`: the names the kept code around the tokens binds, kept as written.
fn rename_in(
    tokens: TokenStream,
    (fields, arms): (bool, bool),
    shadowed: &[String],
    lookup: &mut dyn FnMut(&Ident, bool) -> Option<TokenTree>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let (binders, match_bodies) = binders(&trees, arms);
    let mut out = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
        if binders.iter().any(|b| b.pattern.contains(&i)) {
            // A pattern binds names; it reads none.
            out.push(tree.clone());
            continue;
        }
        let in_scope = binders.iter().filter(|b| b.scope.contains(&i));
        let shadowed: Vec<String> = shadowed
            .iter()
            .cloned()
            .chain(in_scope.flat_map(|b| b.names.iter().cloned()))
            .collect();
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
                let after_path =
                    i > 1 && is_punct(&trees[i - 1], ':') && is_punct(&trees[i - 2], ':');
                let before_path = i + 2 < trees.len()
                    && is_punct(&trees[i + 1], ':')
                    && is_punct(&trees[i + 2], ':');
                let before_bang = i + 1 < trees.len() && is_punct(&trees[i + 1], '!');
                let renamed = if after_dot(&trees, i)
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
                let arms = match_bodies.contains(&i);
                // Braces after a type's name (`Opt { .. }`) hold a struct literal's fields.
                let literal = !arms
                    && group.delimiter() == proc_macro2::Delimiter::Brace
                    && i > 0
                    && matches!(&trees[i - 1], TokenTree::Ident(name)
                        if name.to_string().starts_with(|c: char| c.is_ascii_uppercase()));
                let mut inner = Group::new(
                    group.delimiter(),
                    rename_in(group.stream(), (literal, arms), &shadowed, lookup),
                );
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
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
            ["g", "let", "k", "x"]
        );
        // An `|` after an operand is the operator, and `||` binds nothing.
        assert_eq!(looked_up("a | b"), ["a", "b"]);
        assert_eq!(looked_up("h(|| w)"), ["h", "w"]);
        assert_eq!(
            looked_up("match k { 0 => |w| w, _ => f }"),
            ["match", "k", "f"]
        );
    }

    #[test]
    fn keeps_a_name_bound_by_let_for_or_match_within_its_scope() {
        // A `let` shadows from its `;`: its initializer reads the outer name.
        assert_eq!(
            looked_up("{ let w = a - w; w.total_cmp(&b) } w"),
            ["let", "a", "w", "b", "w"]
        );
        assert_eq!(
            looked_up("{ let (w, v): (f64, f64) = (1.0, 2.0); w * v * u }"),
            ["let", "u"]
        );
        assert_eq!(looked_up("{ let w; w = 2; } w"), ["let", "w"]);
        assert_eq!(
            looked_up("for w in ws { t += w; } w"),
            ["for", "in", "ws", "t", "w"]
        );
        assert_eq!(
            looked_up("if let Some(w) = o { w } else { w }"),
            ["if", "let", "o", "else", "w"]
        );
        assert_eq!(
            looked_up("while let Some(w) = it.next() { s += w }"),
            ["while", "let", "it", "s"]
        );
        assert_eq!(
            looked_up("match o { Some(w) if w > t => w, None | Some(_) => { w } }"),
            ["match", "o", "if", "t", "w"]
        );
        // `==` and `..=` are not a `let`'s `=`.
        assert_eq!(
            looked_up("{ let w = a == b; let c = 1..=n; w }"),
            ["let", "a", "b", "let", "n"]
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
