//! Code kept as written (`stop_gradient(..)`, a filter's test) that changes a variable of the
//! function: a buffer carrying gradient changed in place, or any variable assigned. The code's
//! own value carries no gradient, but the rest of the function reads the changed variable, whose
//! change the reverse sweep would not know of (`stop_gradient(v.remove(0))` moves every later
//! element down by one; `.filter(|v| { c *= 2.0; .. })` doubles `c` unseen).

use proc_macro2::{Delimiter, Ident, Spacing, Span, TokenStream, TokenTree};

use super::messages::params_names;
use super::report::Checker;
use crate::ir::{Operand, VarId};
use crate::methods::MUTATING_METHODS;

/// What may change a buffer in place besides [`MUTATING_METHODS`]: the methods nabla
/// differentiates in place, which it cannot see inside kept code.
const CHANGING: &[&str] = &[
    "push",
    "pop",
    "truncate",
    "clear",
    "insert",
    "resize",
    "swap",
    "reverse",
    "rotate_left",
    "rotate_right",
    "fill",
    "copy_from_slice",
    "extend_from_slice",
    "scale_mut",
    "neg_mut",
    "copy_from",
    "swap_rows",
    "swap_columns",
    "set_row",
    "set_column",
];

impl Checker<'_, '_> {
    /// Reports each variable of the function that `tokens`, kept as written, change: assigned,
    /// borrowed mutably, or a buffer that carries gradient changed in place.
    pub(super) fn kept_changes(&mut self, tokens: &TokenStream, reads: &[VarId]) {
        self.kept_assignments(tokens, reads);
        let idents: Vec<Ident> = reads
            .iter()
            .map(|v| self.flow.body.var(*v).ident.clone())
            .collect();
        // From the syntax tree where the code is an expression, else from its tokens.
        let found = super::kept_assignments::changed_by_methods(tokens, &idents);
        for &v in reads {
            let var = self.flow.body.var(v);
            if !var.is_location || !self.flow.activity.varied.contains(&v) {
                continue;
            }
            let change = match &found {
                Some(found) => found
                    .iter()
                    .find(|(i, _, _)| *i == var.ident)
                    .map(|(_, method, args)| (method.clone(), *args)),
                None => changing_call(tokens, &var.ident),
            };
            let Some((method, has_args)) = change else {
                continue;
            };
            let name = var.user_name.clone().unwrap_or_else(|| "the buffer".into());
            let params = self.flow.deps_of(&[&Operand::Var(v)]);
            let from = params_names(self.sig(), &params);
            let call = if has_args {
                format!("{method}(..)")
            } else {
                format!("{method}()")
            };
            // Outside, `pop` is differentiated as `v.pop().unwrap()`.
            let outside = if method == "pop" {
                "pop().unwrap()".to_string()
            } else {
                call.clone()
            };
            let method_name = method.to_string();
            if !may_change(&method_name) {
                // A method of no list: it may well only read, but nabla cannot tell.
                self.blame(&params);
                self.errors.push(
                    method.span(),
                    format!("`{name}.{call}` inside `stop_gradient(..)` may change `{name}`, which carries gradient from {from}: nabla does not know whether `{method}` only reads its receiver, and a change the reverse sweep did not know of would give a wrong gradient"),
                    format!("if it only reads, call it on a copy (`{name}.clone().{call}`) or on a binding that is not `mut`; if it changes `{name}`, write the change outside `stop_gradient(..)` with element reads and writes"),
                );
                continue;
            }
            let fix = if method == "iter_mut" {
                format!("write through `{name}.iter_mut()` in a `for` loop outside `stop_gradient(..)`: nabla differentiates those writes")
            } else if CHANGING.contains(&method.to_string().as_str()) {
                format!("call `{name}.{outside}` outside `stop_gradient(..)`: nabla differentiates it in place")
            } else {
                format!("nabla has no rule for `{method}` in place: build a new buffer of the elements to keep (`let rest = {name}[1..].to_vec();`), or change a copy (`let mut kept = stop_gradient({name}.clone()); kept.{call};`)")
            };
            self.blame(&params);
            self.errors.push(
                method.span(),
                format!("`{name}.{call}` inside `stop_gradient(..)` changes `{name}`, which carries gradient from {from}: the reverse sweep would not know of the change, and what the function reads of `{name}` afterwards would get a wrong gradient"),
                fix,
            );
        }
    }
}

impl Checker<'_, '_> {
    /// Reports each variable that `tokens` assign (`c = ..`, `c += ..`, `c[i] = ..`) or borrow
    /// mutably (`&mut c`). Whether or not it carries gradient: the analyses take a variable to
    /// change only where the function's own statements change it.
    pub(super) fn kept_assignments(&mut self, tokens: &TokenStream, reads: &[VarId]) {
        let idents: Vec<Ident> = reads
            .iter()
            .map(|v| self.flow.body.var(*v).ident.clone())
            .collect();
        // From the syntax tree where the code is an expression, else from its tokens.
        let found = super::kept_assignments::assigned(tokens, &idents);
        for &v in reads {
            let var = self.flow.body.var(v);
            let at = match &found {
                Some(found) => found
                    .iter()
                    .find(|(i, _)| *i == var.ident)
                    .map(|(_, at)| *at),
                None => assignment_of(tokens, &var.ident),
            };
            let Some(at) = at else {
                continue;
            };
            let name = var
                .user_name
                .clone()
                .unwrap_or_else(|| var.ident.to_string());
            let params = self.flow.deps_of(&[&Operand::Var(v)]);
            self.blame(&params);
            self.errors.push(
                at,
                format!("`{name}` is changed inside code kept as written (`stop_gradient(..)`, a filter's test, a closure passed to a call), which nabla neither differentiates nor follows: the reverse sweep would not know of the change, and the gradient of what reads `{name}` afterwards would be wrong"),
                format!("change `{name}` outside that code: compute the new value there and assign it after (`{name} = stop_gradient(..);`), or write the loop out with the change in its body"),
            );
        }
    }
}

/// Where `tokens` assign `ident` or borrow it mutably: the `ident` of `ident = ..`,
/// `ident += ..` (any compound assignment), `ident[..] = ..`, `ident.field = ..` or
/// `&mut ident`. Read, as [`changing_call`], only up to a binding of the same name.
fn assignment_of(tokens: &TokenStream, ident: &Ident) -> Option<Span> {
    assignment_in(tokens, ident, false)
}

/// [`assignment_of`] in the arguments of a macro call.
pub(super) fn assignment_in_macro(tokens: &TokenStream, ident: &Ident) -> Option<Span> {
    assignment_in(tokens, ident, true)
}

/// [`assignment_of`] in `tokens`, which are the arguments of a macro call when `in_macro`: there
/// `name = value` after a comma is a named argument (`panic!("{t}", t = ..)`), not an assignment.
fn assignment_in(tokens: &TokenStream, ident: &Ident, in_macro: bool) -> Option<Span> {
    let mut trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if let Some(rebound) = first_binding_of(&trees, ident) {
        trees.truncate(rebound);
    }
    let punct = |i: usize, c: char| matches!(&trees[i], TokenTree::Punct(p) if p.as_char() == c);
    for (i, tree) in trees.iter().enumerate() {
        let TokenTree::Ident(name) = tree else {
            continue;
        };
        if name != ident {
            continue;
        }
        // The name is the generated code's own (renamed where the code was kept), so the span
        // is that of a token of the user's around it: the `&` or the operator.
        if i >= 2 && matches!(&trees[i - 1], TokenTree::Ident(m) if m == "mut") && punct(i - 2, '&')
        {
            return Some(trees[i - 2].span());
        }
        let named_argument = in_macro && (i == 0 || punct(i - 1, ','));
        match assignment_after(&trees[i + 1..]) {
            Some((operator, plain)) if !(named_argument && plain) => return Some(operator),
            _ => {}
        }
    }
    trees.iter().enumerate().find_map(|(i, t)| match t {
        TokenTree::Group(g) => assignment_in(&g.stream(), ident, i >= 1 && punct(i - 1, '!')),
        _ => None,
    })
}

/// The span of the assignment operator when `rest`, what follows a name, assigns to it (any
/// indexing, `[..]`, and field accesses, `.x`, `.0`, then `=` or a compound assignment operator,
/// not `==`, `<=`, `>=`, `!=` or `=>`), and whether it is a plain `=` to the name itself.
fn assignment_after(rest: &[TokenTree]) -> Option<(Span, bool)> {
    let mut i = 0;
    loop {
        match rest.get(i) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => i += 1,
            Some(TokenTree::Punct(p)) if p.as_char() == '.' && p.spacing() == Spacing::Alone => {
                match rest.get(i + 1) {
                    Some(TokenTree::Ident(_) | TokenTree::Literal(_)) => i += 2,
                    _ => return None,
                }
            }
            _ => break,
        }
    }
    let mut operator = String::new();
    for tree in &rest[i..] {
        let TokenTree::Punct(p) = tree else { break };
        operator.push(p.as_char());
        if p.spacing() == Spacing::Alone {
            break;
        }
    }
    let assigns = matches!(
        operator.as_str(),
        "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "^=" | "&=" | "|=" | "<<=" | ">>="
    );
    assigns.then(|| (rest[i].span(), i == 0 && operator == "="))
}

/// Whether a method may change its receiver: one of the standard collections' or nalgebra's
/// that do, or one that lends it mutably (`iter_mut`, `as_mut_slice`, `column_mut`, `as_mut`).
fn may_change(name: &str) -> bool {
    MUTATING_METHODS.contains(&name)
        || CHANGING.contains(&name)
        || name.ends_with("_mut")
        || name == "as_mut"
}

/// The method of the first call `ident.method(..)` in `tokens` that may change `ident`, and
/// whether the call has arguments. A level of the tokens is read only up to a binding of the
/// same name there (`let mut v = v.clone();`, `|v|`, `for v in`): what follows refers to that
/// binding, and a copy may be changed freely.
pub(super) fn changing_call(tokens: &TokenStream, ident: &Ident) -> Option<(Ident, bool)> {
    let mut trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if let Some(rebound) = first_binding_of(&trees, ident) {
        trees.truncate(rebound);
    }
    for window in trees.windows(4) {
        if let [TokenTree::Ident(receiver), TokenTree::Punct(dot), TokenTree::Ident(method), TokenTree::Group(args)] =
            window
        {
            let name = method.to_string();
            if receiver == ident
                && dot.as_char() == '.'
                && args.delimiter() == Delimiter::Parenthesis
                && may_change(&name)
            {
                return Some((method.clone(), !args.stream().is_empty()));
            }
        }
    }
    trees.iter().find_map(|t| match t {
        TokenTree::Group(g) => changing_call(&g.stream(), ident),
        _ => None,
    })
}

/// The position in `trees` of the first binding of `ident` at this level: after `let`,
/// `let mut`, `for`, or between the bars of a closure's parameters.
fn first_binding_of(trees: &[TokenTree], ident: &Ident) -> Option<usize> {
    let is = |t: &TokenTree, word: &str| matches!(t, TokenTree::Ident(i) if i == word);
    let named = |t: &TokenTree| matches!(t, TokenTree::Ident(i) if i == ident);
    let mut in_closure_parameters = false;
    for (i, tree) in trees.iter().enumerate() {
        if let TokenTree::Punct(p) = tree {
            if p.as_char() == '|' {
                in_closure_parameters = !in_closure_parameters;
                continue;
            }
        }
        let after_let_or_for = i >= 1 && (is(&trees[i - 1], "let") || is(&trees[i - 1], "for"));
        let after_let_mut = i >= 2 && is(&trees[i - 2], "let") && is(&trees[i - 1], "mut");
        if named(tree) && (after_let_or_for || after_let_mut || in_closure_parameters) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::assignment_of;
    use proc_macro2::{Ident, Span, TokenStream};

    fn assigns(code: &str) -> bool {
        let tokens: TokenStream = code.parse().unwrap();
        assignment_of(&tokens, &Ident::new("c", Span::call_site())).is_some()
    }

    #[test]
    fn assignments_and_mutable_borrows() {
        for code in [
            "c = 1.0",
            "{ c *= 2.0; x }",
            "c[i] += 1.0",
            "c.x = 0.0",
            "c.0 <<= 1",
            "f(&mut c)",
            "w.iter().map(|v| { c -= *v; *v })",
        ] {
            assert!(assigns(code), "{code}");
        }
    }

    #[test]
    fn comparisons_arms_named_arguments_and_own_bindings() {
        for code in [
            "c == 1.0",
            "c <= d && c >= e && c != f",
            "match c { c => 1 }",
            "panic!(\"{c}\", c = c)",
            "{ let mut c = 0.0; c += 1.0; c }",
            "|c| { c = 2.0; c }",
            "&c",
            "d = c",
        ] {
            assert!(!assigns(code), "{code}");
        }
    }
}
