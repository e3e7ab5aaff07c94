//! Code kept as written (`stop_gradient(..)`) that changes a buffer carrying gradient in place:
//! `stop_gradient` stops the gradient of the value it returns, but the rest of the function
//! reads the changed buffer, whose change the reverse sweep would not know of
//! (`stop_gradient(v.remove(0))` moves every later element down by one).

use proc_macro2::{Delimiter, Ident, TokenStream, TokenTree};

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
    /// Reports each buffer that carries gradient and that `tokens`, kept as written, change.
    pub(super) fn kept_changes(&mut self, tokens: &TokenStream, reads: &[VarId]) {
        for &v in reads {
            let var = self.flow.body.var(v);
            if !var.is_location || !self.flow.activity.varied.contains(&v) {
                continue;
            }
            let Some((method, has_args)) = changing_call(tokens, &var.ident) else {
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
            let fix = if CHANGING.contains(&method.to_string().as_str()) {
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

/// The method of the first call `ident.method(..)` in `tokens` that may change `ident`, and
/// whether the call has arguments. A level of the tokens is read only up to a binding of the
/// same name there (`let mut v = v.clone();`, `|v|`, `for v in`): what follows refers to that
/// binding, and a copy may be changed freely.
fn changing_call(tokens: &TokenStream, ident: &Ident) -> Option<(Ident, bool)> {
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
                && (MUTATING_METHODS.contains(&name.as_str()) || CHANGING.contains(&name.as_str()))
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
