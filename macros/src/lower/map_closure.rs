//! The closure of an element-wise `map`, lowered to a body of its own.

use std::collections::{HashMap, HashSet};

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::Pat;

use super::locations::LocationScan;
use super::Lowerer;
use crate::ir::{Body, Closure, Origin, VarId};

impl Lowerer<'_> {
    /// Lowers the closure of an element-wise `map` as a function of its one scalar parameter.
    pub(super) fn lower_closure(&mut self, closure: &syn::ExprClosure) -> Option<usize> {
        let span = closure.span();
        let param = match &closure.inputs[0] {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            Pat::Reference(r) => match &*r.pat {
                Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    self.unsupported(
                        other.span(),
                        "this closure parameter",
                        "name the element: `|x| ..`",
                    );
                    return None;
                }
            },
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    self.unsupported(
                        other.span(),
                        "this closure parameter",
                        "name the element: `|x| ..`",
                    );
                    return None;
                }
            },
            other => {
                self.unsupported(
                    other.span(),
                    "this closure parameter",
                    "name the element: `|x| ..`",
                );
                return None;
            }
        };
        if closure.capture.is_some() || closure.asyncness.is_some() || closure.constness.is_some() {
            self.unsupported(
                span,
                "a `move`, `async` or `const` closure",
                "write a plain closure `|x| ..`",
            );
            return None;
        }
        // Variables of bodies further out than this one's (a closure inside a closure): their
        // gradients would have to pass through the enclosing closure, which nabla does not do.
        let mut outer: HashMap<String, (proc_macro2::Ident, VarId, bool, bool)> = self
            .outer
            .iter()
            .map(|(name, (ident, id, is_ref, _))| {
                (name.clone(), (ident.clone(), *id, *is_ref, true))
            })
            .collect();
        for scope in &self.scopes {
            for (name, id) in scope {
                outer.insert(
                    name.clone(),
                    (
                        self.vars[id.0].ident.clone(),
                        *id,
                        self.vars[id.0].is_ref,
                        false,
                    ),
                );
            }
        }
        let mut scan = LocationScan::default();
        scan.visit_expr(&closure.body);
        let mut inner = Lowerer {
            vars: Vec::new(),
            scopes: vec![HashMap::new()],
            blocks: vec![Vec::new()],
            locations: scan.names,
            errors: &mut *self.errors,
            loops: Vec::new(),
            early_return: None,
            places: HashMap::new(),
            outer,
            captures: Vec::new(),
            closures: Vec::new(),
            model_values: HashSet::new(),
            capture_params: HashMap::new(),
            decompositions: HashMap::new(),
            factors: HashSet::new(),
            computed: HashMap::new(),
            writes: HashMap::new(),
            reused: HashSet::new(),
            ranges: HashSet::new(),
            matrix_params: HashSet::new(),
            // The pullback of the closure reads the enclosing function's variables by their
            // names: its own take a suffix of their own (`__t2_c0` beside the enclosing `__t2`).
            ident_suffix: format!("{}_c{}", self.ident_suffix, self.closures.len()),
            float_type_names: self.float_type_names.clone(),
            in_impl: self.in_impl,
            opaque_params: HashSet::new(),
            model_containers: HashSet::new(),
        };
        let x = inner.new_var(
            param.clone(),
            Some(param.to_string()),
            Origin::Param(0),
            false,
        );
        inner.bind(&param.to_string(), x);
        let result = inner.lower_expr(&closure.body);
        // The captures in the order of their parameters.
        let mut capture_params: Vec<(VarId, VarId)> =
            inner.capture_params.iter().map(|(o, i)| (*o, *i)).collect();
        capture_params.sort_by_key(|(_, inner)| *inner);
        let capture_params = capture_params.into_iter().map(|(outer, _)| outer).collect();
        let body = Body {
            vars: inner.vars,
            block: inner.blocks.pop().unwrap_or_default(),
            result,
            closures: inner.closures,
        };
        let mut captures = inner.captures;
        // One entry per captured variable, at its first use.
        let mut seen = HashSet::new();
        captures.retain(|(v, _)| seen.insert(*v));
        // The forward sweep runs the closure as written; its parameter keeps its own name.
        let (forward, _) = self.rename_closure(closure.to_token_stream(), Some(&param.to_string()));
        self.closures.push(Closure {
            body,
            forward,
            captures,
            capture_params,
        });
        Some(self.closures.len() - 1)
    }
}
