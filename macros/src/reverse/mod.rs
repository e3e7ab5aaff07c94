//! Code generation: the forward sweep (the primal computation, saving what will be overwritten)
//! and the reverse sweep (adjoints accumulated in reverse order).
//!
//! Generation runs once, saving what the reverse sweep reads as `predict.rs` predicts it (and
//! only where it is overwritten or goes out of scope), so the tape holds nothing the reverse
//! sweep does not need. Where the run reads more than predicted, two runs replace it: the first
//! records what the reverse sweep reads, the second saves exactly that.

mod adjoint;
mod checkpoint;
mod forward;
mod fused;
mod hoist;
mod operands;
mod predict;
mod rules;
mod slots;
mod tape;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use crate::analysis::activity::Activity;
use crate::ir::{Body, Operand, Origin, StmtKind, Value, VarId};
use crate::parse::Signature;

use crate::analysis::buffers::{
    assigned_once, first_assignments, maybe_unassigned, reassigned_buffers,
};
use crate::analysis::fusion::{fused_loops, FusedLoop};
use crate::analysis::increments::{element_increments, Increment};
use crate::analysis::numbers::primitive_numbers;
use crate::analysis::recompute::recomputable;
use crate::analysis::stencils::read_at_several_indices;
use crate::analysis::steps::integer_steps;
use crate::analysis::walk::{value_inputs, written_as_kept};

/// The generated sweeps of one function.
pub struct Sweeps {
    /// Tape declarations, the forward sweep, then the reverse sweep.
    pub body: TokenStream,
    /// The primal result.
    pub value: TokenStream,
    /// One gradient expression per parameter (`()` for parameters that carry no gradient).
    pub gradients: Vec<TokenStream>,
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
    let inputs = Inputs {
        body,
        sig,
        activity,
        given,
        pullbacks: Rc::default(),
    };
    predicted_run(&inputs, cotangent).unwrap_or_else(|| two_runs(&inputs, cotangent))
}

/// What every generation run of one body starts from.
struct Inputs<'a> {
    body: &'a Body,
    sig: &'a Signature,
    activity: &'a Activity,
    /// See [`generate_with_result`].
    given: Option<(VarId, Ident)>,
    /// Shared by the runs: see `Generator::closure_pullbacks`.
    pullbacks: ClosurePullbacks,
}

impl<'a> Inputs<'a> {
    fn generator(&self, needed: Option<HashSet<VarId>>) -> Generator<'a> {
        let mut generator = Generator::new(self.body, self.sig, self.activity, needed);
        generator.closure_pullbacks = Rc::clone(&self.pullbacks);
        generator.given_result = self.given.clone();
        generator
    }
}

/// The sweeps of one run that saves what the reverse sweep reads as `predict.rs` predicts it;
/// `None` where the run read more than that.
fn predicted_run(inputs: &Inputs<'_>, cotangent: &Ident) -> Option<Sweeps> {
    let mut run = inputs.generator(None);
    let predicted = run.predicted_reads();
    let (needed, in_scope) = run.needed_sets(&predicted.values, &predicted.shapes);
    run.needed = Some(needed.clone());
    run.needed_in_scope = Some(in_scope.clone());
    let sweeps = run.run(cotangent);
    let (read, read_in_scope) = run.needed_sets(&run.reads, &run.scope_reads);
    (read.is_subset(&needed) && read_in_scope.is_subset(&in_scope)).then_some(sweeps)
}

/// The sweeps of two runs: the first counts every value as needed and records what the reverse
/// sweep reads; the second saves exactly that.
fn two_runs(inputs: &Inputs<'_>, cotangent: &Ident) -> Sweeps {
    let mut first = inputs.generator(None);
    first.run(cotangent);
    let (needed, in_scope) = first.needed_sets(&first.reads, &first.scope_reads);
    let mut second = inputs.generator(Some(needed));
    second.needed_in_scope = Some(in_scope);
    second.run(cotangent)
}

/// The pullbacks of a body's `map` closures, by index: see `Generator::closure_pullbacks`.
type ClosurePullbacks = Rc<RefCell<HashMap<usize, (TokenStream, bool)>>>;

/// The runtime's generated-code API, by the name the sweeps import it under (see
/// [`Generator::run`]): one token in place of six, in code that names it hundreds of times, so
/// that the expansion is smaller to build and to check.
fn rt() -> TokenStream {
    quote!(__rt)
}

/// Generated tokens located at the user's `span`, so that rustc reports an error in them there
/// (a buffer whose elements cannot carry gradient at its `let`), while their names keep
/// resolving as the generated code's own.
/// The values a struct literal makes (`State { x: a, v: b }`), with the literal's span.
fn struct_literals(body: &Body) -> HashMap<VarId, Span> {
    crate::analysis::walk::all_stmts(&body.block)
        .into_iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Let {
                var,
                value: Value::Struct { .. },
                ..
            } => Some((*var, stmt.span)),
            _ => None,
        })
        .collect()
}

fn located_at(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            proc_macro2::TokenTree::Group(g) => {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), located_at(g.stream(), span));
                group.set_span(g.span().located_at(span));
                proc_macro2::TokenTree::Group(group)
            }
            mut other => {
                other.set_span(other.span().located_at(span));
                other
            }
        })
        .collect()
}

/// A `for` loop whose forward sweep is being generated (see `Generator::loop_frames`).
struct LoopFrame {
    loop_depth: usize,
    branch_depth: usize,
    tapes: Vec<Ident>,
}

struct Generator<'a> {
    body: &'a Body,
    sig: &'a Signature,
    activity: &'a Activity,
    /// Values the reverse sweep reads; `None` in a first run of two, where everything counts as
    /// read.
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
    /// The `for` loops being generated in the forward sweep, innermost last: each loop's depth
    /// (of loops and of branches) and the tapes its body saves to in every iteration, once (see
    /// `Tape::push_reserved`).
    loop_frames: Vec<LoopFrame>,
    /// How many branches of `if`s the forward sweep being generated is inside.
    branch_depth: usize,
    /// Locations declared without a value and assigned at most once on any path (`let v = if ..`):
    /// their one assignment overwrites nothing, so nothing is saved.
    assigned_once: HashSet<VarId>,
    /// Assignments that give a location declared without a value its first value on every
    /// path, by statement address: they overwrite nothing (see `analysis::buffers`).
    first_assignments: HashSet<usize>,
    /// Assignments that step an integer location by a literal (`idx += 1`), by statement
    /// address, with the operation that undoes each (see `analysis::steps`).
    integer_steps: HashMap<usize, TokenStream>,
    /// The element writes reversed as increments (see `analysis::increments`).
    increments: HashMap<usize, Increment>,
    /// Buffers whose element adjoint a reverse loop accumulates in a variable of its own:
    /// the buffer, the variable (see `analysis::invariant_reads`).
    promoted: HashMap<VarId, Ident>,
    /// Buffers one loop iteration reads at several indices (see `analysis::stencils`).
    stencils: HashSet<VarId>,
    /// Locations declared without a value that some path leaves unassigned (see
    /// `analysis::buffers::maybe_unassigned`).
    maybe_unassigned: HashSet<VarId>,
    /// Whether code kept as written changes a location (`stop_gradient(v.pop())`).
    changed_as_kept: bool,
    /// Locations that some statement assigns a value that may be a buffer of another length.
    reassigned: HashSet<VarId>,
    /// Values inside branches and loops that the reverse sweep recomputes instead of saving:
    /// element reads of containers that never change and index arithmetic (see `recomputable`).
    recomputed: HashMap<VarId, &'a Value>,
    /// Recomputed values computed right before the reverse of the statement (by address) that
    /// uses them last, not at the start of their block's reverse (see `Recomputation::before`).
    recompute_before: HashMap<usize, Vec<VarId>>,
    /// Variables the reverse sweep reads for their shape only.
    scope_reads: HashSet<VarId>,
    /// Variables the reverse sweep needs in scope (for their value or their shape); `None` in
    /// a first run of two.
    needed_in_scope: Option<HashSet<VarId>>,
    /// Generating the forward sweep of a checkpointed loop: the primal only, nothing saved.
    primal_only: bool,
    /// Field reads whose adjoint is the base's adjoint's field (see `slots.rs`).
    slots: HashMap<VarId, (VarId, slots::SlotStep)>,
    /// Element and part reads of those, by the field read (see `slots::find_slot_parts`).
    slot_parts: HashMap<VarId, slots::SlotPart>,
    /// Loops whose reverse iterations run fused with their forward ones, by statement address
    /// (see `analysis::fusion`).
    fused_loops: HashMap<usize, FusedLoop>,
    /// Adjoints written under another name: those a fused loop accumulates with the seed `1`.
    adjoint_names: HashMap<VarId, Ident>,
    /// Recomputed values computed once before their reverse loop (see `hoist.rs`).
    hoisted: HashSet<VarId>,
    /// The sum of the fused loop being generated, which its iterations do not restore (see
    /// `fused.rs`).
    fused_sum: Option<VarId>,
    /// The pullbacks of the body's `map` closures by index, made once for the prediction and
    /// every run of [`generate_with_result`]: a closure's pullback depends on the closure and on which values
    /// carry gradient, not on what the run saves.
    closure_pullbacks: ClosurePullbacks,
    /// Variables of a primitive number type as syntax tells (see
    /// `analysis::numbers::primitive_numbers`): `Copy`, so the forward sweep passes them as
    /// they are.
    primitive: HashSet<VarId>,
    /// Values made by a struct literal, with the literal's span: where rustc reports a struct
    /// that cannot carry a gradient (see `Generator::zero_adjoint`).
    struct_literals: HashMap<VarId, Span>,
}

impl<'a> Generator<'a> {
    fn new(
        body: &'a Body,
        sig: &'a Signature,
        activity: &'a Activity,
        needed: Option<HashSet<VarId>>,
    ) -> Self {
        let recomputation = recomputable(body, sig, activity);
        let slots = slots::find_slots(body, activity);
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
            loop_frames: Vec::new(),
            branch_depth: 0,
            assigned_once: {
                let mut once = HashSet::new();
                assigned_once(&body.block, &mut once);
                once
            },
            first_assignments: first_assignments(body),
            reassigned: reassigned_buffers(body),
            maybe_unassigned: {
                let mut out = HashSet::new();
                maybe_unassigned(&body.block, &mut out);
                out
            },
            changed_as_kept: written_as_kept(body)
                .iter()
                .any(|v| body.var(*v).is_location),
            integer_steps: integer_steps(body),
            increments: element_increments(body),
            promoted: HashMap::new(),
            stencils: read_at_several_indices(body),
            recomputed: recomputation.values,
            recompute_before: recomputation.before,
            slot_parts: slots::find_slot_parts(body, &slots),
            slots,
            scope_reads: HashSet::new(),
            needed_in_scope: None,
            primal_only: false,
            fused_loops: fused_loops(body, activity),
            adjoint_names: HashMap::new(),
            hoisted: HashSet::new(),
            fused_sum: None,
            primitive: primitive_numbers(body, sig),
            closure_pullbacks: Rc::default(),
            struct_literals: struct_literals(body),
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
                // A caller's cotangent for a buffer result may have another length than the
                // buffer (its own adjoint drifted): it is fitted to the result first.
                let rt = rt();
                let fitted_ident = Ident::new("__fitted", Span::mixed_site());
                let fitted = quote! {{
                    let mut #fitted_ident = #cotangent;
                    #rt::TangentValue::fit_length(&mut #fitted_ident, #rt::Tangent::buffer_length(&#value));
                    #fitted_ident
                }};
                reverse.extend(self.contribute(result, fitted));
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
                    let p = &param.ident;
                    self.zero_adjoint(id, quote!(&#p))
                }
            })
            .collect();

        // A buffer parameter's gradient may come out longer than the buffer when the function
        // assigns a longer buffer to a copy of it: its length is taken on entry, where the
        // parameter has not been moved yet, and the gradient is cut to it at the end.
        let mut lengths = TokenStream::new();
        let rt = rt();
        if !self.reassigned.is_empty() {
            for (i, param) in self.sig.params.iter().enumerate() {
                let id = self
                    .body
                    .vars
                    .iter()
                    .position(|v| v.origin == Origin::Param(i));
                let Some(id) = id.map(VarId) else { continue };
                if param.active && self.declared.contains(&id) {
                    let p = &param.ident;
                    let d = self.adjoint(id);
                    let length = format_ident!("__length{}", i, span = Span::mixed_site());
                    lengths.extend(quote!(let #length = #rt::Tangent::buffer_length(&#p);));
                    reverse.extend(quote!(#rt::TangentValue::fit_length(&mut #d, #length);));
                }
            }
        }
        let tapes = self.tapes.values();
        let data_field_methods = self.data_field_methods();
        Sweeps {
            body: quote! {
                #[allow(unused_imports)]
                use ::nabla::__private as __rt;
                #data_field_methods
                #[allow(unused_imports)]
                use #rt::{ByCopy as _, ByRef as _, SaveElements as _, SaveClone as _, TupleField0 as _, TupleField1 as _, TupleField2 as _, TupleField3 as _, CoordinateX as _, CoordinateY as _, CoordinateZ as _, CoordinateW as _, CoordinateA as _, CoordinateB as _};
                #(#tapes)*
                #lengths
                #forward
                let #value = #result;
                #reverse
            },
            value: quote!(#value),
            gradients,
        }
    }

    fn is_needed(&self, v: VarId) -> bool {
        self.needed.as_ref().is_none_or(|n| n.contains(&v))
    }

    fn ident(&self, v: VarId) -> &Ident {
        &self.body.var(v).ident
    }

    fn adjoint(&self, v: VarId) -> Ident {
        if let Some(name) = self.adjoint_names.get(&v) {
            return name.clone();
        }
        let var = self.body.var(v);
        format_ident!(
            "__d{}_{}",
            v.0,
            var.ident.unraw().to_string().trim_start_matches('_'),
            span = Span::mixed_site()
        )
    }
}

impl<'a> Generator<'a> {
    /// What a run that reads `reads` (values) and `scope_reads` (shapes) must save, and what it
    /// must keep in scope.
    fn needed_sets(
        &self,
        reads: &HashSet<VarId>,
        scope_reads: &HashSet<VarId>,
    ) -> (HashSet<VarId>, HashSet<VarId>) {
        // A recomputed value read only for its shape is computed again all the same, from
        // inputs that must then have their values there: they are needed too.
        let mut values = reads.clone();
        values.extend(
            scope_reads
                .iter()
                .filter(|v| self.recomputed.contains_key(v))
                .copied(),
        );
        let needed = self.with_recomputation_inputs(values);
        // What a recomputed value in scope reads must be in scope too.
        let in_scope = self.with_recomputation_inputs(needed.union(scope_reads).copied().collect());
        (needed, in_scope)
    }

    /// `needed` plus, transitively, what recomputing the needed recomputable values reads.
    pub(super) fn with_recomputation_inputs(&self, mut needed: HashSet<VarId>) -> HashSet<VarId> {
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
}
