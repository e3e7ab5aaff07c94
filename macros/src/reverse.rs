//! Code generation: the forward sweep (the primal computation, saving what will be overwritten)
//! and the reverse sweep (adjoints accumulated in reverse order).
//!
//! Generation runs twice. The first run records which primal values the reverse sweep reads; the
//! second saves exactly those (and only where they are overwritten or go out of scope), so the
//! tape holds nothing the reverse sweep does not need.

use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::BinOp;

use crate::activity::{differentiable_operands, Activity};
use crate::ir::{Block, Body, MethodKind, Operand, Origin, Stmt, StmtKind, UnOp, Value, VarId};
use crate::methods::{Reads, FLOAT_METHODS, TRAIT_METHODS};
use crate::parse::Signature;

/// The generated sweeps of one function.
pub struct Sweeps {
    /// Tape declarations, the forward sweep, then the reverse sweep.
    pub body: TokenStream,
    /// The primal result.
    pub value: TokenStream,
    /// One gradient expression per parameter (`()` for parameters that carry no gradient).
    pub gradients: Vec<TokenStream>,
    /// The variables the reverse sweep reads.
    pub reads: HashSet<VarId>,
}

pub fn generate(body: &Body, sig: &Signature, activity: &Activity, cotangent: &Ident) -> Sweeps {
    generate_with_result(body, sig, activity, cotangent, None)
}

/// As [`generate`], where the caller already knows the result's value (`given`), so the
/// statement that computes it is not run again.
fn generate_with_result(
    body: &Body,
    sig: &Signature,
    activity: &Activity,
    cotangent: &Ident,
    given: Option<(VarId, Ident)>,
) -> Sweeps {
    let mut first = Generator::new(body, sig, activity, None);
    first.given_result = given.clone();
    first.run(cotangent);
    let needed = first.with_recomputation_inputs(first.reads.clone());
    let in_scope = needed.union(&first.scope_reads).copied().collect();
    let mut second = Generator::new(body, sig, activity, Some(needed));
    second.needed_in_scope = Some(in_scope);
    second.given_result = given;
    second.run(cotangent)
}

fn rt() -> TokenStream {
    quote!(::nabla::__private)
}

struct Generator<'a> {
    body: &'a Body,
    sig: &'a Signature,
    activity: &'a Activity,
    /// Values the reverse sweep reads; `None` in the first run, where everything counts as read.
    needed: Option<HashSet<VarId>>,
    reads: HashSet<VarId>,
    /// Variables whose adjoint has been declared in the reverse sweep so far.
    declared: HashSet<VarId>,
    /// One tape per save site, declared at the top of the function.
    tapes: BTreeMap<String, TokenStream>,
    stmt_tapes: HashMap<usize, Ident>,
    loop_counts: HashMap<usize, usize>,
    loop_depth: usize,
    /// Inside a branch or loop body, whose bindings end with the block.
    scope_depth: usize,
    /// A variable whose value the caller supplies, with the identifier that holds it.
    given_result: Option<(VarId, Ident)>,
    /// Tapes saved to once per iteration of the outermost loop being generated.
    outer_loop_tapes: Vec<Ident>,
    /// Locations declared without a value and assigned at most once on any path (`let v = if ..`):
    /// their one assignment overwrites nothing, so nothing is saved.
    assigned_once: HashSet<VarId>,
    /// Values inside branches and loops that the reverse sweep recomputes instead of saving:
    /// element reads of containers that never change and index arithmetic (see `recomputable`).
    recomputed: HashMap<VarId, &'a Value>,
    /// Parameters and variables defined in the function's top block.
    top_level: HashSet<VarId>,
    /// Variables of branch and loop bodies the reverse sweep reads for their shape only.
    scope_reads: HashSet<VarId>,
    /// Variables the reverse sweep needs in scope (for their value or their shape); `None` in
    /// the first run.
    needed_in_scope: Option<HashSet<VarId>>,
    /// Generating the forward sweep of a checkpointed loop: the primal only, nothing saved.
    primal_only: bool,
}

impl<'a> Generator<'a> {
    fn new(
        body: &'a Body,
        sig: &'a Signature,
        activity: &'a Activity,
        needed: Option<HashSet<VarId>>,
    ) -> Self {
        Generator {
            body,
            sig,
            activity,
            needed,
            reads: HashSet::new(),
            declared: HashSet::new(),
            tapes: BTreeMap::new(),
            stmt_tapes: HashMap::new(),
            loop_counts: HashMap::new(),
            loop_depth: 0,
            scope_depth: 0,
            given_result: None,
            outer_loop_tapes: Vec::new(),
            assigned_once: {
                let mut once = HashSet::new();
                assigned_once(&body.block, &mut once);
                once
            },
            recomputed: recomputable(body, activity),
            scope_reads: HashSet::new(),
            needed_in_scope: None,
            primal_only: false,
            top_level: body
                .vars
                .iter()
                .enumerate()
                .filter(|(_, v)| matches!(v.origin, Origin::Param(_)))
                .map(|(i, _)| VarId(i))
                .chain(body.block.iter().filter_map(|s| match &s.kind {
                    StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => Some(*var),
                    _ => None,
                }))
                .collect(),
        }
    }

    fn run(&mut self, cotangent: &Ident) -> Sweeps {
        let forward = self.forward_block(&self.body.block, false);
        // The result as the forward sweep left it: the reverse sweep may restore an overwritten
        // result variable to earlier values.
        let value = Ident::new("__value", Span::mixed_site());
        let result = match &self.body.result {
            // The reverse sweep still reads a location's shape: keep it.
            Operand::Var(v) if self.body.var(*v).is_location => {
                let ident = self.ident(*v);
                quote!(::core::clone::Clone::clone(&#ident))
            }
            other => self.forward_operand_by_value(other),
        };

        let mut reverse = TokenStream::new();
        if let Some(result) = self.body.result.var() {
            if self.activity.is_active(result) {
                reverse.extend(self.contribute(result, quote!(#cotangent)));
            }
        }
        reverse.extend(self.reverse_block(&self.body.block, false));

        let gradients = self
            .body
            .vars
            .iter()
            .enumerate()
            .filter_map(|(id, var)| match var.origin {
                Origin::Param(i) => Some((i, VarId(id))),
                _ => None,
            })
            .map(|(i, id)| {
                let param = &self.sig.params[i];
                if !param.active {
                    quote!(())
                } else if self.declared.contains(&id) {
                    let d = self.adjoint(id);
                    quote!(#d)
                } else {
                    let rt = rt();
                    let p = &param.ident;
                    quote!(#rt::Tangent::zero_tangent(&#p))
                }
            })
            .collect();

        let tapes = self.tapes.values();
        let rt = rt();
        Sweeps {
            body: quote! {
                #[allow(unused_imports)]
                use #rt::{ByCopy as _, ByRef as _};
                #(#tapes)*
                #forward
                let #value = #result;
                #reverse
            },
            value: quote!(#value),
            gradients,
            reads: self.reads.clone(),
        }
    }

    fn is_needed(&self, v: VarId) -> bool {
        self.needed.as_ref().is_none_or(|n| n.contains(&v))
    }

    /// Whether overwriting `v` saves its old value for the reverse sweep.
    fn saves_on_assign(&self, v: VarId) -> bool {
        self.is_needed(v) && !self.assigned_once.contains(&v)
    }

    fn ident(&self, v: VarId) -> &Ident {
        &self.body.var(v).ident
    }

    fn adjoint(&self, v: VarId) -> Ident {
        let var = self.body.var(v);
        format_ident!(
            "__d{}_{}",
            v.0,
            var.ident.unraw().to_string().trim_start_matches('_'),
            span = Span::mixed_site()
        )
    }

    fn new_tape(&mut self, name: String) -> Ident {
        let ident = Ident::new(&name, Span::mixed_site());
        let rt = rt();
        let decl = if self.loop_depth > 0 {
            quote!(let mut #ident = #rt::Tape::new();)
        } else {
            quote!(let mut #ident = #rt::Slot::new();)
        };
        if self.loop_depth == 1 && !self.tapes.contains_key(&name) {
            self.outer_loop_tapes.push(ident.clone());
        }
        self.tapes.insert(name, decl);
        ident
    }

    fn var_tape(&mut self, v: VarId) -> Ident {
        self.new_tape(format!("__save_v{}", v.0))
    }

    fn stmt_tape(&mut self, stmt: &Stmt) -> Ident {
        let key = stmt as *const Stmt as usize;
        if let Some(t) = self.stmt_tapes.get(&key) {
            return t.clone();
        }
        let t = self.new_tape(format!("__save_s{}", self.stmt_tapes.len()));
        self.stmt_tapes.insert(key, t.clone());
        t
    }

    /// Variables a block defines directly, which go out of scope at its end: the ones the reverse
    /// sweep needs are saved there and restored at the start of the block's reverse.
    fn block_locals(&self, block: &Block) -> Vec<VarId> {
        block
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => Some(*var),
                _ => None,
            })
            .filter(|v| !self.recomputed.contains_key(v))
            .filter(|v| {
                self.needed_in_scope.as_ref().is_none_or(|n| n.contains(v))
                    || (self.body.var(*v).is_location && self.activity.is_active(*v))
            })
            .collect()
    }

    /// `needed` plus, transitively, what recomputing the needed recomputable values reads.
    fn with_recomputation_inputs(&self, mut needed: HashSet<VarId>) -> HashSet<VarId> {
        let mut pending: Vec<VarId> = needed.iter().copied().collect();
        while let Some(v) = pending.pop() {
            if let Some(value) = self.recomputed.get(&v) {
                for input in value_inputs(value) {
                    if needed.insert(input) {
                        pending.push(input);
                    }
                }
            }
        }
        needed
    }

    // ----- forward sweep -------------------------------------------------------------------

    fn forward_block(&mut self, block: &Block, scoped: bool) -> TokenStream {
        let mut out = TokenStream::new();
        self.scope_depth += usize::from(scoped);
        for stmt in block {
            out.extend(self.forward_stmt(stmt));
        }
        self.scope_depth -= usize::from(scoped);
        if scoped && !self.primal_only {
            for v in self.block_locals(block) {
                let tape = self.var_tape(v);
                let ident = self.ident(v).clone();
                out.extend(quote!(#tape.push(#ident);));
            }
        }
        out
    }

    fn forward_stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Let { var, ty, value } => {
                let ident = self.ident(*var).clone();
                let value = match &self.given_result {
                    Some((given, holder)) if given == var => quote!(#holder),
                    _ => self.forward_value(value, span),
                };
                let mutability = self.body.var(*var).is_location.then(|| quote!(mut));
                let ty = ty.as_ref().map(|t| quote!(: #t));
                quote_spanned!(span=> let #mutability #ident #ty = #value;)
            }
            StmtKind::Declare { var, ty } => {
                let ident = self.ident(*var).clone();
                let ty = ty.as_ref().map(|t| quote!(: #t));
                quote_spanned!(span=> let mut #ident #ty;)
            }
            StmtKind::Assign { var, value } => {
                let ident = self.ident(*var).clone();
                let value = self.forward_value(value, span);
                if self.saves_on_assign(*var) && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    quote_spanned!(span=> #tape.push(::core::mem::replace(&mut #ident, #value));)
                } else {
                    quote_spanned!(span=> #ident = #value;)
                }
            }
            StmtKind::SetIndex { base, index, value } => {
                let ident = self.ident(*base).clone();
                let index = self.forward_operand_by_value(index);
                let value = self.forward_operand_by_value(value);
                if self.is_needed(*base) && !self.primal_only {
                    let tape = self.stmt_tape(stmt);
                    quote_spanned!(span=> #tape.push(::core::mem::replace(&mut #ident[#index], #value));)
                } else {
                    quote_spanned!(span=> #ident[#index] = #value;)
                }
            }
            StmtKind::Opaque { tokens, .. } => tokens.clone(),
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let cond = self.forward_operand_by_value(cond);
                let then_tokens = self.forward_block(then_block, true);
                let else_tokens = self.forward_block(else_block, true);
                quote_spanned!(span=> if #cond { #then_tokens } else { #else_tokens })
            }
            StmtKind::For { var, range, body } if self.checkpointed(stmt) => {
                let ident = self.ident(*var).clone();
                let range_value = self.forward_operand_by_value(range);
                let snapshot = self.checkpoint_save(body);
                self.loop_depth += 1;
                self.primal_only = true;
                let body = self.forward_block(body, true);
                self.primal_only = false;
                self.loop_depth -= 1;
                quote_spanned!(span=> for #ident in #range_value { #snapshot #body })
            }
            StmtKind::Loop { go, body } if self.checkpointed(stmt) => {
                let go = self.ident(*go).clone();
                let count = self.loop_count(stmt);
                let snapshot = self.checkpoint_save(body);
                self.loop_depth += 1;
                self.primal_only = true;
                let body = self.forward_block(body, true);
                self.primal_only = false;
                self.loop_depth -= 1;
                quote_spanned! {span=>
                    let mut #count: usize = 0;
                    while #go {
                        #count += 1;
                        #snapshot
                        #body
                    }
                }
            }
            StmtKind::For { var, range, body } => {
                let ident = self.ident(*var).clone();
                let range_value = self.forward_operand_by_value(range);
                self.loop_depth += 1;
                let outer = self.loop_depth == 1;
                if outer {
                    self.outer_loop_tapes.clear();
                }
                let body = self.forward_block(body, true);
                self.loop_depth -= 1;
                // An outermost `for` knows its trip count: the tapes it fills once per iteration
                // are sized up front.
                let reserve = if outer && !self.primal_only {
                    let tapes = std::mem::take(&mut self.outer_loop_tapes);
                    let range_var = range.var().map(|v| self.ident(v).clone());
                    match range_var {
                        Some(r) if !tapes.is_empty() => {
                            let trips = Ident::new("__trips", Span::mixed_site());
                            quote! {
                                let #trips = ::core::iter::Iterator::size_hint(&#r).0;
                                #(#tapes.reserve(#trips);)*
                            }
                        }
                        _ => TokenStream::new(),
                    }
                } else {
                    TokenStream::new()
                };
                quote_spanned!(span=> #reserve for #ident in #range_value { #body })
            }
            StmtKind::Loop { go, body } => {
                let go = self.ident(*go).clone();
                let count = self.loop_count(stmt);
                self.loop_depth += 1;
                let body = self.forward_block(body, true);
                self.loop_depth -= 1;
                let mut out = quote_spanned! {span=>
                    let mut #count: usize = 0;
                    while #go {
                        #count += 1;
                        #body
                    }
                };
                if self.scope_depth > 0 && !self.primal_only {
                    let tape = self.new_tape(format!("__save_{count}"));
                    out.extend(quote!(#tape.push(#count);));
                }
                out
            }
            StmtKind::Push { base, value } => {
                let ident = self.ident(*base).clone();
                let value = self.forward_operand_by_value(value);
                quote_spanned!(span=> #ident.push(#value);)
            }
        }
    }

    /// Whether a loop is checkpointed: an outermost loop whose body has loops of its own would
    /// tape every value of every inner iteration. Instead its forward sweep runs the primal only
    /// and saves, per iteration, just the variables the body overwrites; the reverse sweep
    /// restores them, runs the iteration forward again with its tapes, and reverses it at once.
    /// The tapes then hold one iteration at a time, so they stay in cache, for one more forward
    /// run of the body.
    fn checkpointed(&self, stmt: &Stmt) -> bool {
        let body = match &stmt.kind {
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => body,
            _ => return false,
        };
        self.loop_depth == 0 && self.scope_depth == 0 && self.has_taping_loop(body)
    }

    /// Whether `block` holds a loop that saves something on every iteration (in the first
    /// generation run, where nothing is known yet, any loop counts).
    fn has_taping_loop(&self, block: &Block) -> bool {
        block.iter().any(|s| match &s.kind {
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.saves_in(body),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => self.has_taping_loop(then_block) || self.has_taping_loop(else_block),
            _ => false,
        })
    }

    /// Whether running `block` saves a value for the reverse sweep.
    fn saves_in(&self, block: &Block) -> bool {
        if self.needed.is_none() {
            return true;
        }
        block.iter().any(|s| match &s.kind {
            StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => {
                !self.recomputed.contains_key(var)
                    && self
                        .needed_in_scope
                        .as_ref()
                        .is_some_and(|n| n.contains(var))
            }
            StmtKind::Assign { var, .. } => self.saves_on_assign(*var),
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => self.is_needed(*base),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => self.saves_in(then_block) || self.saves_in(else_block),
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => self.saves_in(body),
            StmtKind::Opaque { .. } => false,
        })
    }

    /// The variables a checkpointed loop's body overwrites that live outside it.
    fn checkpoint_vars(&self, body: &Block) -> Vec<VarId> {
        let mut written = HashSet::new();
        collect_written(body, &mut written);
        let mut vars: Vec<VarId> = written.into_iter().filter(|v| !defines(body, *v)).collect();
        vars.sort();
        vars
    }

    /// Saves the state a checkpointed iteration starts from.
    fn checkpoint_save(&mut self, body: &Block) -> TokenStream {
        let mut out = TokenStream::new();
        self.loop_depth += 1;
        for v in self.checkpoint_vars(body) {
            let tape = self.new_tape(format!("__checkpoint_v{}", v.0));
            let ident = self.ident(v).clone();
            out.extend(quote!(#tape.push(::core::clone::Clone::clone(&#ident));));
        }
        self.loop_depth -= 1;
        out
    }

    /// One reverse iteration of a checkpointed loop: restore, run forward with tapes, reverse.
    fn checkpoint_iteration(&mut self, body: &Block) -> TokenStream {
        let mut restore = TokenStream::new();
        self.loop_depth += 1;
        for v in self.checkpoint_vars(body).into_iter().rev() {
            let tape = self.new_tape(format!("__checkpoint_v{}", v.0));
            let ident = self.ident(v).clone();
            restore.extend(quote!(#ident = #tape.pop();));
        }
        // Forward and reverse share one scope here: the iteration's values need no saving at
        // its end, the reverse reads them where they are.
        let forward = self.forward_block(body, false);
        let reverse = self.reverse_block(body, false);
        self.loop_depth -= 1;
        quote!(#restore #forward #reverse)
    }

    /// The iteration counter of a `Loop`: the reverse sweep runs its body that many times.
    fn loop_count(&mut self, stmt: &Stmt) -> Ident {
        let key = stmt as *const Stmt as usize;
        let next = self.loop_counts.len();
        let n = *self.loop_counts.entry(key).or_insert(next);
        Ident::new(&format!("__count{n}"), Span::mixed_site())
    }

    /// An operand passed by value: a variable the reverse sweep still reads is cloned (free for
    /// floats), anything else is moved.
    fn forward_operand_by_value(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) if self.body.var(*v).user_ref => {
                let ident = self.ident(*v);
                quote!(&#ident)
            }
            Operand::Var(v) => {
                let var = self.body.var(*v);
                let ident = &var.ident;
                // The reverse sweep still reads it, for its value or its shape (`u = next;`
                // moves `next`, whose adjoint is then shaped like it): copy instead of moving.
                let read_later = self.is_needed(*v)
                    || self.needed_in_scope.as_ref().is_none_or(|n| n.contains(v));
                if !var.is_ref && read_later {
                    quote!(::core::clone::Clone::clone(&#ident))
                } else {
                    quote!(#ident)
                }
            }
            Operand::Ref(v, span) => {
                let ident = self.ident(*v);
                if self.body.var(*v).is_ref {
                    quote!(#ident)
                } else {
                    quote_spanned!(*span=> &#ident)
                }
            }
            Operand::Const(c) => c.clone(),
        }
    }

    /// An operand of an arithmetic operator: by value when its type is `Copy`, else by reference,
    /// chosen by the runtime's `Operand` (see `nabla_runtime::operand`). Nothing is moved.
    fn forward_operand_borrowed(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => {
                let ident = self.ident(*v);
                let rt = rt();
                quote!((&#rt::Operand(&#ident)).value())
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// A method receiver: method-call syntax borrows or copies as the method needs.
    fn forward_receiver(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) => {
                let ident = self.ident(*v);
                quote!(#ident)
            }
            Operand::Ref(v, _) => {
                let ident = self.ident(*v);
                quote!((&#ident))
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    fn forward_value(&self, value: &Value, span: Span) -> TokenStream {
        match value {
            Value::Use(op) => self.forward_operand_by_value(op),
            Value::Binary { op, lhs, rhs } => {
                let comparison = matches!(
                    op,
                    BinOp::Lt(_)
                        | BinOp::Le(_)
                        | BinOp::Gt(_)
                        | BinOp::Ge(_)
                        | BinOp::Eq(_)
                        | BinOp::Ne(_)
                );
                let (l, r) = if comparison {
                    // Both sides at the same level of reference, as `PartialOrd` wants.
                    (self.forward_compared(lhs), self.forward_compared(rhs))
                } else {
                    (
                        self.forward_operand_borrowed(lhs),
                        self.forward_operand_borrowed(rhs),
                    )
                };
                quote_spanned!(span=> #l #op #r)
            }
            Value::Unary { op, arg } => match op {
                UnOp::Neg => {
                    let a = self.forward_operand_borrowed(arg);
                    quote_spanned!(span=> -(#a))
                }
                UnOp::Not => {
                    let a = self.forward_operand_by_value(arg);
                    quote_spanned!(span=> !#a)
                }
                UnOp::Deref => match arg {
                    Operand::Var(v) if !self.body.var(*v).is_ref => {
                        // A loop element bound by value where the user holds a reference: `*x`
                        // is the value itself (a `Copy` element, or the user's `*x` would move).
                        let ident = self.ident(*v);
                        quote!(#ident)
                    }
                    _ => {
                        let a = self.forward_receiver(arg);
                        quote_spanned!(span=> *#a)
                    }
                },
            },
            Value::Method {
                receiver,
                method,
                kind: MethodKind::Map(index),
                ..
            } => {
                let recv = self.forward_receiver(receiver);
                let closure = &self.body.closures[*index].forward;
                quote_spanned!(span=> #recv.#method(#closure))
            }
            Value::Method {
                receiver,
                method,
                args,
                qualified: Some(ty),
                ..
            } => {
                let recv = self.forward_operand_by_value(receiver);
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #ty::#method(#recv, #(#args),*))
            }
            Value::Method {
                receiver,
                method,
                turbofish,
                args,
                ..
            } => {
                let recv = self.forward_receiver(receiver);
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #recv.#method #turbofish(#(#args),*))
            }
            Value::Call { func, args } => {
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #func(#(#args),*))
            }
            Value::Construct { func, args } => {
                let args = args.iter().map(|a| self.forward_operand_by_value(a));
                quote_spanned!(span=> #func(#(#args),*))
            }
            Value::Cast { arg, ty } => {
                let a = self.forward_receiver(arg);
                quote_spanned!(span=> #a as #ty)
            }
            Value::Index { base, index } if !self.activity.operand_varied(base) => {
                // An element of data, which may not be `Copy` (a row of `&[Vec<f64>]`): by value
                // when it is `Copy`, else by reference, as for operators.
                let b = self.forward_receiver(base);
                let i = self.forward_operand_by_value(index);
                let rt = rt();
                quote_spanned!(span=> (&#rt::Operand(&#b[#i])).value())
            }
            Value::Index { base, index } => {
                let b = self.forward_receiver(base);
                let i = self.forward_operand_by_value(index);
                quote_spanned!(span=> #b[#i])
            }
            Value::Field { base, member } => {
                let b = self.forward_receiver(base);
                quote_spanned!(span=> #b.#member)
            }
            Value::Tuple(items) => {
                let items = items.iter().map(|i| self.forward_operand_by_value(i));
                quote_spanned!(span=> (#(#items,)*))
            }
            Value::Opaque { tokens, .. } => tokens.clone(),
        }
    }

    /// `v` as one reference to its value: as it is if it holds a reference, else borrowed.
    fn as_reference(&self, v: VarId) -> TokenStream {
        let var = self.body.var(v);
        let ident = &var.ident;
        if var.is_ref {
            quote!(#ident)
        } else {
            quote!(&#ident)
        }
    }

    /// `v` as a (copied) value: dereferenced if it holds a reference.
    fn as_value(&self, v: VarId) -> TokenStream {
        let var = self.body.var(v);
        let ident = &var.ident;
        if var.is_ref {
            quote!(*#ident)
        } else {
            quote!(#ident)
        }
    }

    /// A compared operand: both sides as references, as `PartialOrd` wants.
    fn forward_compared(&self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => self.as_reference(*v),
            Operand::Const(c) => quote!(&(#c)),
        }
    }

    // ----- reverse sweep -------------------------------------------------------------------

    /// Records that the reverse sweep reads `v` and returns a reference to it.
    fn read_ref(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => {
                self.reads.insert(*v);
                self.as_reference(*v)
            }
            Operand::Const(c) => quote!(&(#c)),
        }
    }

    /// Records that the reverse sweep needs `v` only for its shape (to build a zero gradient).
    /// A variable of the function's top level is in scope throughout the reverse sweep, and an
    /// overwrite does not change its shape, so it need not be restored for this; a variable of
    /// a branch or loop body must be brought back into scope.
    fn read_shape(&mut self, v: VarId) {
        if !self.top_level.contains(&v) {
            self.scope_reads.insert(v);
        }
    }

    /// A reference to `v` for its shape only; see [`Self::read_shape`].
    fn shape_ref(&mut self, v: VarId) -> TokenStream {
        self.read_shape(v);
        self.as_reference(v)
    }

    /// A reference to an operand for its type and shape only.
    fn operand_shape_ref(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => self.shape_ref(*v),
            Operand::Const(c) => quote!(&(#c)),
        }
    }

    /// An operand's value where the rule ignores it: it stands only for the type.
    fn operand_shape_value(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => {
                self.read_shape(*v);
                self.as_value(*v)
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// Records that the reverse sweep reads `v` and returns its (copied) value.
    fn read_value(&mut self, op: &Operand) -> TokenStream {
        match op {
            Operand::Var(v) | Operand::Ref(v, _) => {
                self.reads.insert(*v);
                self.as_value(*v)
            }
            Operand::Const(c) => quote!((#c)),
        }
    }

    /// Adds `contribution` to the adjoint of `v`: the first contribution declares it.
    fn contribute(&mut self, v: VarId, contribution: TokenStream) -> TokenStream {
        let d = self.adjoint(v);
        if self.declared.insert(v) {
            quote!(let mut #d = #contribution;)
        } else {
            let rt = rt();
            quote!(#rt::Accumulate::accumulate(&mut #d, #contribution);)
        }
    }

    fn contribute_to(&mut self, op: &Operand, contribution: TokenStream) -> TokenStream {
        match op.var() {
            Some(v) if self.activity.is_active(v) => self.contribute(v, contribution),
            _ => TokenStream::new(),
        }
    }

    fn reverse_block(&mut self, block: &Block, scoped: bool) -> TokenStream {
        self.scope_depth += usize::from(scoped);
        let out = self.reverse_block_inner(block, scoped);
        self.scope_depth -= usize::from(scoped);
        out
    }

    fn reverse_block_inner(&mut self, block: &Block, scoped: bool) -> TokenStream {
        let rt = rt();
        let mut out = TokenStream::new();
        if scoped {
            for v in self.block_locals(block).into_iter().rev() {
                let tape = self.var_tape(v);
                let ident = self.ident(v).clone();
                let mutability = self.body.var(v).is_location.then(|| quote!(mut));
                out.extend(quote!(let #mutability #ident = #tape.pop();));
            }
            // Cheap values that never change within the iteration are computed again, in order.
            for stmt in block {
                if let StmtKind::Let { var, ty, value } = &stmt.kind {
                    let in_scope = self
                        .needed_in_scope
                        .as_ref()
                        .is_none_or(|n| n.contains(var));
                    if self.recomputed.contains_key(var) && in_scope {
                        let ident = self.ident(*var).clone();
                        let value = self.forward_value(value, stmt.span);
                        let ty = ty.as_ref().map(|t| quote!(: #t));
                        out.extend(quote_spanned!(stmt.span=> let #ident #ty = #value;));
                    }
                }
            }
        }
        // A location's adjoint may receive contributions on some paths only: it starts at zero.
        for stmt in block {
            if let StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } = &stmt.kind {
                let var = *var;
                if self.body.var(var).is_location
                    && self.activity.is_active(var)
                    && self.declared.insert(var)
                {
                    let d = self.adjoint(var);
                    let reference = self.shape_ref(var);
                    out.extend(quote!(let mut #d = #rt::Tangent::zero_tangent(#reference);));
                }
            }
        }
        for stmt in block.iter().rev() {
            out.extend(self.reverse_stmt(stmt));
        }
        out
    }

    fn reverse_stmt(&mut self, stmt: &Stmt) -> TokenStream {
        let rt = rt();
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Let { var, value, .. } => {
                if self.activity.is_active(*var) && self.declared.contains(var) {
                    let d = self.adjoint(*var);
                    self.reverse_value(value, *var, &d, span)
                } else {
                    TokenStream::new()
                }
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => TokenStream::new(),
            StmtKind::Assign { var, value } => {
                let mut out = TokenStream::new();
                let active = self.activity.is_active(*var) && self.declared.contains(var);
                let taken = Ident::new("__d_new", Span::mixed_site());
                if active {
                    let d = self.adjoint(*var);
                    out.extend(quote!(let #taken = #rt::take_tangent(&mut #d);));
                }
                if self.saves_on_assign(*var) {
                    let tape = self.stmt_tape(stmt);
                    let ident = self.ident(*var).clone();
                    out.extend(quote!(#ident = #tape.pop();));
                }
                if active {
                    out.extend(self.reverse_value(value, *var, &taken, span));
                }
                out
            }
            StmtKind::SetIndex { base, index, value } => {
                let mut out = TokenStream::new();
                if self.activity.is_active(*base) && self.declared.contains(base) {
                    let d = self.adjoint(*base);
                    let i = self.read_value(index);
                    let taken = quote!(#rt::rules::IndexRule::index_take(&mut #d, #i));
                    if self.activity.operand_active(value) {
                        out.extend(self.contribute_to(value, taken));
                    } else {
                        out.extend(quote!(let _ = #taken;));
                    }
                }
                if self.is_needed(*base) {
                    let tape = self.stmt_tape(stmt);
                    let ident = self.ident(*base).clone();
                    let i = self.read_value(index);
                    out.extend(quote!(#ident[#i] = #tape.pop();));
                }
                out
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let mut out = self.zero_adjoints_used_in(&[then_block, else_block]);
                let then_tokens = self.reverse_block(then_block, true);
                let else_tokens = self.reverse_block(else_block, true);
                if then_tokens.is_empty() && else_tokens.is_empty() {
                    return out;
                }
                let c = self.read_value(cond);
                out.extend(quote_spanned!(span=> if #c { #then_tokens } else { #else_tokens }));
                out
            }
            StmtKind::For { var, range, body } if self.checkpointed(stmt) => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let iteration = self.checkpoint_iteration(body);
                let ident = self.ident(*var).clone();
                let range = self.read_value(range);
                out.extend(quote_spanned! {span=>
                    for #ident in ::core::iter::Iterator::rev(#range) { #iteration }
                });
                out
            }
            StmtKind::Loop { body, .. } if self.checkpointed(stmt) => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let count = self.loop_count(stmt);
                let iteration = self.checkpoint_iteration(body);
                out.extend(quote_spanned!(span=> for _ in 0..#count { #iteration }));
                out
            }
            StmtKind::For { var, range, body } => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                self.loop_depth += 1;
                let body_tokens = self.reverse_block(body, true);
                self.loop_depth -= 1;
                if body_tokens.is_empty() {
                    return out;
                }
                let ident = self.ident(*var).clone();
                let range = self.read_value(range);
                out.extend(quote_spanned! {span=>
                    for #ident in ::core::iter::Iterator::rev(#range) { #body_tokens }
                });
                out
            }
            StmtKind::Loop { body, .. } => {
                let mut out = self.zero_adjoints_used_in(&[body]);
                let count = self.loop_count(stmt);
                self.loop_depth += 1;
                let body_tokens = self.reverse_block(body, true);
                self.loop_depth -= 1;
                if self.scope_depth > 0 {
                    let tape = self.new_tape(format!("__save_{count}"));
                    out.extend(quote!(let #count: usize = #tape.pop();));
                }
                if !body_tokens.is_empty() {
                    out.extend(quote_spanned!(span=> for _ in 0..#count { #body_tokens }));
                }
                out
            }
            StmtKind::Push { base, value } => {
                let mut out = TokenStream::new();
                if self.activity.is_active(*base) && self.declared.contains(base) {
                    let d = self.adjoint(*base);
                    let taken = quote!(#rt::rules::push_adjoint(&mut #d));
                    if self.activity.operand_active(value) {
                        out.extend(self.contribute_to(value, taken));
                    } else {
                        out.extend(quote!(let _ = #taken;));
                    }
                }
                if self.is_needed(*base) {
                    let ident = self.ident(*base).clone();
                    out.extend(quote!(let _ = #ident.pop();));
                }
                out
            }
        }
    }

    /// Adjoints of values from outside `blocks` that receive contributions inside them start at
    /// zero before the blocks' reverse: a branch or a loop that runs no time contributes nothing.
    fn zero_adjoints_used_in(&mut self, blocks: &[&Block]) -> TokenStream {
        let rt = rt();
        let mut used = Vec::new();
        for block in blocks {
            collect_operand_vars(block, &mut used);
        }
        used.sort();
        used.dedup();
        let mut out = TokenStream::new();
        for v in used {
            if self.activity.is_active(v)
                && !self.declared.contains(&v)
                && !blocks.iter().any(|b| defines(b, v))
            {
                let reference = self.as_reference(v);
                self.read_shape(v);
                out.extend(self.contribute(v, quote!(#rt::Tangent::zero_tangent(#reference))));
            }
        }
        out
    }

    /// The contributions of one statement `dst = value` to its operands' adjoints, given the
    /// adjoint `d` of `dst`.
    fn reverse_value(&mut self, value: &Value, dst: VarId, d: &Ident, span: Span) -> TokenStream {
        let rt = rt();
        let rules = quote!(#rt::rules);
        match value {
            Value::Use(op) => self.contribute_to(op, quote!(#d)),
            Value::Binary { op, lhs, rhs } => {
                let (trait_name, name) = match op {
                    BinOp::Add(_) => ("AddRule", "add"),
                    BinOp::Sub(_) => ("SubRule", "sub"),
                    BinOp::Mul(_) => ("MulRule", "mul"),
                    BinOp::Div(_) => ("DivRule", "div"),
                    _ => return TokenStream::new(),
                };
                let trait_ident = Ident::new(trait_name, span);
                let linear = matches!(op, BinOp::Add(_) | BinOp::Sub(_));
                let mut out = TokenStream::new();
                for (operand, side) in [(lhs, "lhs"), (rhs, "rhs")] {
                    if !self.activity.operand_active(operand) {
                        continue;
                    }
                    let rule = format_ident!("{}_adjoint_{}", name, side, span = span);
                    let (l, r) = if linear {
                        // `+` and `-` pass the cotangent through, whatever the operands' values:
                        // the cotangent's own type picks the rule, and no value is read (or saved).
                        (quote!(&#d), quote!(&#d))
                    } else if matches!(op, BinOp::Mul(_)) {
                        // d(a·b)/da is b and d(a·b)/db is a: the operand being differentiated is
                        // passed for its type only.
                        if side == "lhs" {
                            (self.operand_shape_ref(lhs), self.read_ref(rhs))
                        } else {
                            (self.read_ref(lhs), self.operand_shape_ref(rhs))
                        }
                    } else {
                        (self.read_ref(lhs), self.read_ref(rhs))
                    };
                    let Some(target) = operand.var() else {
                        continue;
                    };
                    if self.declared.contains(&target) {
                        // A later contribution: the rule adds into the adjoint in place.
                        let accumulate = format_ident!("{}_accumulate_{}", name, side, span = span);
                        let acc = self.adjoint(target);
                        out.extend(quote_spanned!(span=> #rules::#trait_ident::#accumulate(#l, #r, &#d, &mut #acc);));
                    } else {
                        let c = quote_spanned!(span=> #rules::#trait_ident::#rule(#l, #r, &#d));
                        out.extend(self.contribute_to(operand, c));
                    }
                }
                out
            }
            Value::Unary { op, arg } => match op {
                UnOp::Neg => {
                    // Linear, like `+`: the cotangent's type picks the rule.
                    let c = quote_spanned!(span=> #rules::NegRule::neg_adjoint(&#d, &#d));
                    self.contribute_to(arg, c)
                }
                UnOp::Deref => self.contribute_to(arg, quote!(#d)),
                UnOp::Not => TokenStream::new(),
            },
            Value::Method {
                receiver,
                args,
                kind,
                ..
            } => match kind {
                MethodKind::Float(index) => {
                    let method = &FLOAT_METHODS[*index];
                    let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                    let mut out = TokenStream::new();
                    for (k, rule) in method.rules.iter().enumerate() {
                        let Some(rule) = rule else { continue };
                        if !self.activity.operand_active(operands[k]) {
                            continue;
                        }
                        let (values, y) = match (operands.as_slice(), method.reads) {
                            // One operand: the rule reads its input, its output, or neither; the
                            // other is passed in its place (same type) so it need not be kept.
                            ([x], Reads::Output) => {
                                let y = self.read_value(&Operand::Var(dst));
                                let _ = x;
                                (vec![y.clone()], y)
                            }
                            ([x], Reads::Input) => {
                                let x = self.read_value(x);
                                (vec![x.clone()], x)
                            }
                            ([x], Reads::Neither) => {
                                let x = self.operand_shape_value(x);
                                (vec![x.clone()], x)
                            }
                            _ => (
                                operands.iter().map(|o| self.read_value(o)).collect(),
                                self.read_value(&Operand::Var(dst)),
                            ),
                        };
                        let rule = Ident::new(rule, span);
                        let c = quote_spanned!(span=> #rules::scalar::#rule(#(#values,)* #y, #d));
                        out.extend(self.contribute_to(operands[k], c));
                    }
                    out
                }
                MethodKind::Trait(index) => {
                    let method = &TRAIT_METHODS[*index];
                    let trait_ident = Ident::new(method.trait_name, span);
                    let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                    let mut out = TokenStream::new();
                    for (k, rule) in method.rules.iter().enumerate() {
                        let Some(rule) = rule else { continue };
                        if !self.activity.operand_active(operands[k]) {
                            continue;
                        }
                        let refs: Vec<TokenStream> =
                            operands.iter().map(|o| self.read_ref(o)).collect();
                        let y = self.read_ref(&Operand::Var(dst));
                        let rule = Ident::new(rule, span);
                        let c =
                            quote_spanned!(span=> #rules::#trait_ident::#rule(#(#refs,)* #y, &#d));
                        out.extend(self.contribute_to(operands[k], c));
                    }
                    out
                }
                MethodKind::Identity => self.contribute_to(receiver, quote!(#d)),
                MethodKind::Map(index) => {
                    if !self.activity.operand_active(receiver) {
                        return TokenStream::new();
                    }
                    let (pullback, reads_element) = closure_pullback(&self.body.closures[*index]);
                    let y = self.read_ref(&Operand::Var(dst));
                    // When the pullback ignores the elements, pass the result in their place (same
                    // shape), so the receiver need not be kept for the reverse sweep.
                    let r = if reads_element {
                        self.read_ref(receiver)
                    } else {
                        y.clone()
                    };
                    let c =
                        quote_spanned!(span=> #rules::MapRule::map_adjoint(#r, #y, &#d, #pullback));
                    self.contribute_to(receiver, c)
                }
                MethodKind::Step | MethodKind::Unknown | MethodKind::Query => TokenStream::new(),
            },
            Value::Call { func, args } => {
                if !args.iter().any(|a| self.activity.operand_active(a)) {
                    return TokenStream::new();
                }
                let mut path = func.path.clone();
                let generics = path
                    .segments
                    .last_mut()
                    .map(|s| std::mem::replace(&mut s.arguments, syn::PathArguments::None));
                let pullback = quote_spanned!(span=> __vjp);
                let generics = generics.filter(|g| !g.is_none()).map(|g| match g {
                    syn::PathArguments::AngleBracketed(mut a) => {
                        a.colon2_token = Some(Default::default());
                        quote!(#a)
                    }
                    other => quote!(#other),
                });
                let call_args: Vec<TokenStream> = args
                    .iter()
                    .map(|a| match a {
                        Operand::Var(v) => {
                            // The argument as the user passed it (a reference stays one).
                            self.reads.insert(*v);
                            let ident = self.ident(*v);
                            if self.body.var(*v).user_ref {
                                quote!(&#ident)
                            } else {
                                quote!(::core::clone::Clone::clone(&#ident))
                            }
                        }
                        Operand::Ref(..) => self.read_ref(a),
                        Operand::Const(c) => c.clone(),
                    })
                    .collect();
                let g = Ident::new("__g", Span::mixed_site());
                // `<path>::__vjp`, not `path::__vjp`: when the callee is a plain function with no
                // companion, rustc then says "expected type, found function `path`" at the user's
                // callee (rather than "cannot find module or crate"); see docs/errors.md.
                let mut out = quote_spanned!(span=> let (_, #g) = <#path>::#pullback #generics(#(#call_args,)* #d););
                for (k, a) in args.iter().enumerate() {
                    let k = syn::Index::from(k);
                    if !self.activity.operand_active(a) {
                        continue;
                    }
                    // Bound on its own through `gradient_from_call`, so that a callee taking this
                    // argument without gradient (its entry is `()`) is reported at the call, in
                    // words, before anything else expects a float.
                    let g_here = Ident::new("__g", Span::mixed_site().located_at(span));
                    let taken = format_ident!("__call_gradient{}", k, span = Span::mixed_site());
                    out.extend(
                        quote_spanned!(span=> let #taken = #rt::gradient_from_call(#g_here.#k);),
                    );
                    out.extend(self.contribute_to(a, quote!(#taken)));
                }
                out
            }
            Value::Construct { args, .. } => {
                let mut out = TokenStream::new();
                for (k, arg) in args.iter().enumerate() {
                    let c = quote_spanned!(span=> #rules::NewRule::new_adjoint(&#d, #k));
                    out.extend(self.contribute_to(arg, c));
                }
                out
            }
            Value::Cast { arg, ty } => {
                let a = self.read_ref(arg);
                let c = quote_spanned!(span=> #rules::CastRule::<#ty>::cast_adjoint(#a, #d));
                self.contribute_to(arg, c)
            }
            Value::Index { base, index } => {
                let Some(b) = base.var().filter(|b| self.activity.is_active(*b)) else {
                    return TokenStream::new();
                };
                let mut out = TokenStream::new();
                if !self.declared.contains(&b) {
                    let base_ref = self.shape_ref(b);
                    out.extend(self.contribute(b, quote!(#rt::Tangent::zero_tangent(#base_ref))));
                }
                let adj = self.adjoint(b);
                let i = self.read_value(index);
                out.extend(
                    quote_spanned!(span=> #rules::IndexRule::index_accumulate(&mut #adj, #i, #d);),
                );
                out
            }
            Value::Field { .. } | Value::Tuple(_) | Value::Opaque { .. } => TokenStream::new(),
        }
    }
}

fn defines(block: &Block, v: VarId) -> bool {
    block.iter().any(|s| match &s.kind {
        StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => *var == v,
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => defines(then_block, v) || defines(else_block, v),
        StmtKind::For { var, body, .. } => *var == v || defines(body, v),
        StmtKind::Loop { body, .. } => defines(body, v),
        _ => false,
    })
}

/// Every variable a block's statements read as a differentiable operand.
fn collect_operand_vars(block: &Block, out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { value, .. } | StmtKind::Assign { value, .. } => {
                out.extend(
                    differentiable_operands(value)
                        .into_iter()
                        .filter_map(|o| o.var()),
                );
            }
            StmtKind::SetIndex { base, value, .. } => {
                out.push(*base);
                out.extend(value.var());
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_operand_vars(then_block, out);
                collect_operand_vars(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => {
                collect_operand_vars(body, out)
            }
            StmtKind::Push { base, value } => {
                out.push(*base);
                out.extend(value.var());
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => {}
        }
    }
}

/// The scalar pullback of a `map` closure, `|x, cotangent| dx`: the closure body's own forward
/// and reverse sweeps.
/// The scalar pullback of a `map` closure, `|x, y, dy| dx`, from the closure body's own sweeps.
/// The element's result `y` comes from the forward sweep, so the closure's last operation (often
/// the only one, such as `tanh`) is not computed again. Also says whether the pullback reads `x`.
fn closure_pullback(closure: &crate::ir::Closure) -> (TokenStream, bool) {
    let sig = crate::closure::element_signature(closure);
    let activity = crate::activity::analyze(&closure.body, &sig);
    let cotangent = Ident::new("__element_cotangent", Span::mixed_site());
    let output = Ident::new("__element_value", Span::mixed_site());
    // Only a result computed once, at the top of the closure, can be taken as given.
    let given = closure.body.result.var().filter(|r| {
        !closure.body.var(*r).is_location
            && closure
                .body
                .block
                .iter()
                .any(|s| matches!(&s.kind, StmtKind::Let { var, .. } if var == r))
    });
    let sweeps = generate_with_result(
        &closure.body,
        &sig,
        &activity,
        &cotangent,
        given.map(|r| (r, output.clone())),
    );
    let reads_element = closure
        .body
        .vars
        .iter()
        .enumerate()
        .any(|(i, v)| v.origin == Origin::Param(0) && sweeps.reads.contains(&VarId(i)));
    let x = &sig.params[0].ident;
    let body = &sweeps.body;
    let gradient = &sweeps.gradients[0];
    (
        quote!(|#x, #output, #cotangent| { #body #gradient }),
        reads_element,
    )
}

/// Collects the locations declared without a value that are assigned at most once on any path.
fn assigned_once(block: &Block, out: &mut HashSet<VarId>) {
    for (i, stmt) in block.iter().enumerate() {
        match &stmt.kind {
            StmtKind::Declare { var, .. } if assignments_on_a_path(&block[i + 1..], *var) <= 1 => {
                out.insert(*var);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                assigned_once(then_block, out);
                assigned_once(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => assigned_once(body, out),
            _ => {}
        }
    }
}

/// The most assignments to `v` that one run through `stmts` can make (2 standing for "several").
fn assignments_on_a_path(stmts: &[Stmt], v: VarId) -> usize {
    stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { var, .. } if *var == v => 1,
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } if *base == v => 2,
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => assignments_on_a_path(then_block, v).max(assignments_on_a_path(else_block, v)),
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. }
                if assignments_on_a_path(body, v) > 0 =>
            {
                2
            }
            _ => 0,
        })
        .sum::<usize>()
        .min(2)
}

/// The variables a value reads.
fn value_inputs(value: &Value) -> Vec<VarId> {
    match value {
        Value::Opaque { reads, .. } => reads.clone(),
        other => other
            .operands()
            .into_iter()
            .filter_map(Operand::var)
            .collect(),
    }
}

/// Values defined inside branches and loops that the reverse sweep can compute again rather than
/// save: an element read (`x[i * d + j]`) of a container that does not change there, and
/// arithmetic that carries no gradient (indices, ranges) — as long as everything they read is
/// itself fixed: a parameter, a variable defined once outside every branch and loop, a `for`
/// loop variable, a location that the outermost enclosing branch or loop never writes (a buffer
/// filled by an earlier loop), or another such value. Recomputing costs an index calculation and
/// a load; saving costs a push and a pop per iteration, and memory. (A location read this way
/// becomes needed, so writes to it after the loop save and restore it; a location written inside
/// the same loop nest is not read this way, since saving each of its writes would cost more than
/// saving the reads.)
fn recomputable<'b>(body: &'b Body, activity: &Activity) -> HashMap<VarId, &'b Value> {
    let mut fixed: HashSet<VarId> = HashSet::new();
    for (i, var) in body.vars.iter().enumerate() {
        if matches!(var.origin, Origin::Param(_)) && !var.is_location {
            fixed.insert(VarId(i));
        }
    }
    for stmt in &body.block {
        if let StmtKind::Let { var, .. } = &stmt.kind {
            if !body.var(*var).is_location {
                fixed.insert(*var);
            }
        }
    }
    let mut out = HashMap::new();
    walk_recomputable(&body.block, body, activity, &fixed, &mut out, false);
    out
}

fn walk_recomputable<'b>(
    block: &'b Block,
    body: &'b Body,
    activity: &Activity,
    fixed: &HashSet<VarId>,
    out: &mut HashMap<VarId, &'b Value>,
    nested: bool,
) {
    let mut fixed = fixed.clone();
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, value, .. } if nested && !body.var(*var).is_location => {
                let inputs_fixed = value_inputs(value).iter().all(|v| fixed.contains(v));
                let cheap = match value {
                    Value::Index { .. } | Value::Use(Operand::Const(_)) => true,
                    Value::Binary { .. }
                    | Value::Unary { .. }
                    | Value::Cast { .. }
                    | Value::Opaque { stopped: true, .. } => !activity.varied.contains(var),
                    Value::Method {
                        kind: MethodKind::Query,
                        ..
                    } => true,
                    _ => false,
                };
                if inputs_fixed && cheap {
                    fixed.insert(*var);
                    out.insert(*var, value);
                }
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                for inner in [then_block, else_block] {
                    let inner_fixed = nest_fixed(body, inner, &fixed, nested);
                    walk_recomputable(inner, body, activity, &inner_fixed, out, true);
                }
            }
            StmtKind::For {
                var, body: inner, ..
            } => {
                let mut inner_fixed = nest_fixed(body, inner, &fixed, nested);
                inner_fixed.insert(*var);
                walk_recomputable(inner, body, activity, &inner_fixed, out, true);
            }
            StmtKind::Loop { body: inner, .. } => {
                let inner_fixed = nest_fixed(body, inner, &fixed, nested);
                walk_recomputable(inner, body, activity, &inner_fixed, out, true);
            }
            _ => {}
        }
    }
}

/// What is fixed inside `block`: at the top of a loop nest, `fixed` plus the locations the nest
/// never writes; deeper, what was fixed around it.
fn nest_fixed(body: &Body, block: &Block, fixed: &HashSet<VarId>, nested: bool) -> HashSet<VarId> {
    if nested {
        return fixed.clone();
    }
    let mut written = HashSet::new();
    collect_written(block, &mut written);
    let mut out = fixed.clone();
    out.extend(
        body.vars
            .iter()
            .enumerate()
            .map(|(i, _)| VarId(i))
            .filter(|v| body.var(*v).is_location && !written.contains(v) && !defines(block, *v)),
    );
    out
}

/// The variables a block overwrites: assignment targets and buffers written or grown.
fn collect_written(block: &Block, out: &mut HashSet<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Assign { var, .. } => {
                out.insert(*var);
            }
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => {
                out.insert(*base);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                collect_written(then_block, out);
                collect_written(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => collect_written(body, out),
            _ => {}
        }
    }
}
