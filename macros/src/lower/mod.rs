//! Lowers a function body from syn's tree to the IR.
//!
//! Variables assigned only in straight-line code are renamed on every assignment (SSA), so the
//! reverse sweep can read every version without saving anything. Variables assigned inside a
//! branch become *locations*: one storage slot whose overwrites the reverse sweep undoes.

mod assign;
mod bindings;
pub(crate) use bindings::is_vec_type;
mod calls;
mod control;
pub(crate) mod expr;
mod iter;
mod jumps;
mod linalg;
mod locations;
mod loops;
mod macros;
mod map_closure;
mod method_calls;
mod names;
mod reduce;
mod reuse;
mod windows;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::errors::Errors;
use crate::ir::{
    Block, Body, Closure, Kept, MethodKind, Operand, Origin, Stmt, StmtKind, Value, Var, VarId,
};
use crate::parse::Signature;

use jumps::{jumps, JumpScope, LoopFrame};
use locations::LocationScan;

pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> Body {
    let rewritten;
    let item = match crate::from_iterator::rewrite_result_collects(&item.block, &sig.result_ty) {
        Some(block) => {
            rewritten = syn::ItemFn {
                block: Box::new(block),
                ..item.clone()
            };
            &rewritten
        }
        None => item,
    };
    let mut locations = LocationScan::default();
    locations.visit_block(&item.block);
    let mut lowerer = Lowerer {
        vars: Vec::new(),
        scopes: vec![HashMap::new()],
        blocks: vec![Vec::new()],
        locations: locations.names,
        errors,
        loops: Vec::new(),
        early_return: None,
        places: HashMap::new(),
        outer: HashMap::new(),
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
        ident_suffix: String::new(),
        float_type_names: item
            .sig
            .generics
            .type_params()
            .map(|p| p.ident.to_string())
            .chain(["f32".to_string(), "f64".to_string()])
            .collect(),
        in_impl: sig.in_impl,
        model_containers: HashSet::new(),
        opaque_params: (sig.params.iter().enumerate())
            .filter(|(_, p)| crate::parse::has_impl_trait(&p.ty))
            .map(|(index, _)| index)
            .collect(),
    };
    let type_params: Vec<Ident> = item
        .sig
        .generics
        .type_params()
        .map(|p| p.ident.clone())
        .collect();
    for (index, param) in sig.params.iter().enumerate() {
        let id = lowerer.new_var(
            param.ident.clone(),
            Some(param.ident.to_string()),
            Origin::Param(index),
            param.is_ref,
        );
        if crate::parse::is_model_type(&param.ty, &type_params) {
            lowerer.model_values.insert(id);
        }
        if crate::parse::is_container_of_models(&param.ty, &type_params) {
            lowerer.model_containers.insert(id);
        }
        if crate::parse::is_range_type(&param.ty) {
            lowerer.ranges.insert(id);
        }
        if crate::parse::is_matrix_type(&param.ty) {
            lowerer.matrix_params.insert(id);
        }
        lowerer.bind(&param.ident.to_string(), id);
        if lowerer.locations.contains(&param.ident.to_string()) {
            // A parameter overwritten inside a branch gets a location of its own.
            let local = lowerer.new_local(&param.ident, param.is_ref, true);
            lowerer.push_let(local, Value::Use(Operand::Var(id)), param.span);
            lowerer.bind(&param.ident.to_string(), local);
        }
    }
    for param in &sig.params {
        let Some(pattern) = &param.pattern else {
            continue;
        };
        // `(a, b): (f64, f64)` is bound as `let (a, b): (f64, f64) = __arg0;`: lowered as the
        // user's own `let` where the parameter carries gradient, passed through as written
        // where its names are data.
        let (ident, ty) = (&param.ident, &param.ty);
        let binding = quote_spanned!(pattern.span()=> let #pattern: #ty = #ident;);
        match syn::parse2::<syn::Stmt>(binding.clone()) {
            Ok(syn::Stmt::Local(local)) if param.active => lowerer.lower_let(&local),
            _ => lowerer.push(
                StmtKind::Opaque {
                    tokens: binding,
                    reads: Vec::new(),
                },
                param.span,
            ),
        }
    }
    // `fn f<T: Real>(w: &[T]) -> T { w.iter().map(..).sum() }`: the result type names the type
    // of a sum the body ends with, as `let s: T = w.iter().sum();` does.
    let typed_tail = lowerer.typed_tail(&item.block, &sig.result_ty);
    let block = typed_tail.as_ref().unwrap_or(&item.block);
    let result = if jumps(&block.stmts, JumpScope::Returns) {
        let span = block.brace_token.span.join();
        let result_ty = sig.result_ty.clone();
        let result = lowerer.new_temp();
        lowerer.vars[result.0].is_location = true;
        lowerer.push(
            StmtKind::Let {
                var: result,
                ty: Some(result_ty),
                value: Value::Opaque {
                    tokens: quote_spanned!(span=> ::core::default::Default::default()),
                    reads: Vec::new(),
                    kept: Kept::Data,
                },
            },
            span,
        );
        let returned = lowerer.new_flag(false, span);
        lowerer.early_return = Some((result, returned));
        lowerer.scopes.push(HashMap::new());
        lowerer.lower_stmts(&block.stmts, Some(result));
        lowerer.scopes.pop();
        Operand::Var(result)
    } else {
        lowerer
            .lower_block_inline(block)
            .unwrap_or_else(|| Operand::Const(quote!(())))
    };
    let block = lowerer.blocks.pop().unwrap_or_default();
    Body {
        vars: lowerer.vars,
        block,
        result,
        closures: lowerer.closures,
    }
}

struct Lowerer<'e> {
    vars: Vec<Var>,
    /// Name → variable, innermost scope last.
    scopes: Vec<HashMap<String, VarId>>,
    /// Blocks under construction, innermost last.
    blocks: Vec<Block>,
    locations: HashSet<String>,
    errors: &'e mut Errors,
    /// Enclosing loops, innermost last.
    loops: Vec<LoopFrame>,
    /// `(result, returned)` locations when the function has a `return`.
    early_return: Option<(VarId, VarId)>,
    /// Loop variables of `iter_mut()` loops: name → (buffer, index) of the element they stand for.
    places: HashMap<String, (VarId, VarId)>,
    /// Inside a `map` closure: the enclosing function's variables, by name.
    /// In a `map` closure: the enclosing body's variables by name (identifier, id, whether it
    /// holds a reference, and whether it is of a body further out than the enclosing one).
    outer: HashMap<String, (Ident, VarId, bool, bool)>,
    /// Enclosing variables this closure reads.
    captures: Vec<(VarId, Span)>,
    closures: Vec<Closure>,
    /// Values of a user's model type (see `parse::is_model_type`), and elements of `Vec`s read
    /// from fields (`net.layers[i]`): methods on them that nabla has no rule for are the user's
    /// own, differentiated through their companions.
    model_values: HashSet<VarId>,
    /// In a `map` closure: the enclosing function's variables it reads, each an extra
    /// parameter of the closure's body (its gradient is summed over the elements).
    capture_params: HashMap<VarId, VarId>,
    /// Names bound to a decomposition (`let chol = k.cholesky().unwrap();`), with the matrix
    /// decomposed (see `linalg.rs`).
    decompositions: HashMap<String, (linalg::Decomposition, Operand)>,
    /// Variables holding a Cholesky factor (see `linalg.rs`).
    factors: HashSet<VarId>,
    /// Arithmetic values bound so far, by identity (see `reuse.rs`).
    computed: HashMap<String, reuse::Computed>,
    /// How many times each location may have been written so far (see `reuse.rs`).
    writes: HashMap<VarId, usize>,
    /// Temporaries read again through reuse (see `reuse.rs`).
    reused: HashSet<VarId>,
    /// Variables bound to a range of integers (`let r = 1..3;`): `w[r]` is a part of `w`, and
    /// `for i in r` a loop over the range.
    ranges: HashSet<VarId>,
    /// Parameters whose type is a nalgebra matrix or vector by its spelling.
    matrix_params: HashSet<VarId>,
    /// Put after the names of this body's variables: empty for the function, `_c0` and so on
    /// for the closures of `map`, whose pullbacks also read the function's variables. (The
    /// function's names end in the variable's number, so no closure's name is one of them.)
    ident_suffix: String,
    /// The names that may stand for a float type in a call path (`T::max(a, b)` as
    /// `f64::max(a, b)`): the function's type parameters and, in an `impl`, a one-letter name
    /// (the `impl`'s type parameter, which the method's signature cannot show).
    pub(super) float_type_names: HashSet<String>,
    pub(super) in_impl: bool,
    /// The parameters whose type is an `impl Trait` (`impl Iterator<Item = f64>`), by index.
    pub(super) opaque_params: HashSet<usize>,
    /// The parameters that hold model structs (`layers: &[Layer]`): their elements are places,
    /// read where they lie, as an element of a model's field is (a move out of the slice would
    /// not compile).
    pub(super) model_containers: HashSet<VarId>,
}

impl Lowerer<'_> {
    /// Whether a call path's first segment may name a float type (`f64::exp`, `T::max`).
    pub(super) fn names_a_float_type(&self, name: &str) -> bool {
        self.float_type_names.contains(name)
            || (self.in_impl && name.len() == 1 && name.chars().all(|c| c.is_ascii_uppercase()))
    }

    fn new_var(
        &mut self,
        ident: Ident,
        user_name: Option<String>,
        origin: Origin,
        is_ref: bool,
    ) -> VarId {
        let id = VarId(self.vars.len());
        self.vars.push(Var {
            ident,
            user_name,
            origin,
            is_ref,
            is_location: false,
            user_ref: false,
            place: false,
            written: None,
        });
        id
    }

    /// A temporary for the value of a user expression. Its name is placed nowhere
    /// in the user's code (the editor shows nothing generated on hover); the expression it
    /// holds keeps the user's span, so errors in it point there.
    fn new_temp(&mut self) -> VarId {
        let name = format!("__t{}{}", self.vars.len(), self.ident_suffix);
        let ident = Ident::new(&name, Span::mixed_site());
        self.new_var(ident, None, Origin::Temp, false)
    }

    fn new_local(&mut self, name: &Ident, is_ref: bool, is_location: bool) -> VarId {
        let raw = name.to_string();
        let clean = raw.trim_start_matches("r#");
        let ident = format_ident!(
            "__{}_{}{}",
            clean,
            self.vars.len(),
            self.ident_suffix,
            span = Span::mixed_site().located_at(name.span())
        );
        let id = self.new_var(ident, Some(clean.to_string()), Origin::Local, is_ref);
        self.vars[id.0].is_location = is_location;
        id
    }

    fn push(&mut self, kind: StmtKind, span: Span) {
        self.written(&kind);
        if let Some(block) = self.blocks.last_mut() {
            block.push(Stmt { kind, span });
        }
    }

    fn unsupported(&mut self, span: Span, construct: &str, help: &str) -> Operand {
        self.errors.push(
            span,
            format!("{construct} is not supported in #[differentiable] functions"),
            help,
        );
        Operand::Const(quote_spanned!(span=> ()))
    }

    /// Values that are model structs when their operands are: the result of a model's own
    /// method (`s.stiffer(2.0)`), a struct literal, and a copy of a model value (`self.clone()`,
    /// `*self`).
    fn yields_model_value(&self, value: &Value) -> bool {
        match value {
            Value::Method {
                kind: MethodKind::User,
                ..
            }
            | Value::Struct { .. } => true,
            Value::Method {
                kind: MethodKind::Identity,
                receiver: operand,
                ..
            }
            | Value::Unary {
                op: crate::ir::UnOp::Deref,
                arg: operand,
            } => operand
                .var()
                .is_some_and(|r| self.model_values.contains(&r)),
            _ => false,
        }
    }

    /// A field or element read as a place (see `Var::place`): a temporary holding a reference.
    fn place_read(&mut self, value: Value, span: Span) -> Operand {
        let op = self.operand_of(value, span);
        if let Some(v) = op.var() {
            self.vars[v.0].place = true;
            self.vars[v.0].is_ref = true;
        }
        op
    }

    /// A field of a model struct (`self.hidden`) or an element of a `Vec` read from a field
    /// (`net.layers[i]`, `for l in &net.layers`) may be a model struct: its own methods are then
    /// differentiated through (see `model_values`). A float or matrix field's methods are in the
    /// table first.
    fn note_model_element(&mut self, element: &Operand) {
        if let Some(v) = element.var() {
            self.model_values.insert(v);
        }
    }

    /// Binds a value to a fresh temporary, or passes a plain operand through.
    fn operand_of(&mut self, value: Value, span: Span) -> Operand {
        match value {
            Value::Use(op) => op,
            value => {
                let key = self.reuse_key(&value);
                if let Some(var) = key.as_deref().and_then(|k| self.computed(k)) {
                    return Operand::Var(var);
                }
                let model = self.yields_model_value(&value);
                let var = self.bind_temp(value, span);
                if model {
                    self.model_values.insert(var);
                }
                if let Some(key) = key {
                    self.remember(key, var);
                }
                Operand::Var(var)
            }
        }
    }

    /// The variable holding `op`: itself, or a fresh temporary bound to it (a constant, a borrow).
    fn var_of(&mut self, op: Operand, span: Span) -> VarId {
        match op {
            Operand::Var(var) => var,
            other => self.bind_temp(Value::Use(other), span),
        }
    }

    /// A fresh temporary bound to `value`.
    fn bind_temp(&mut self, value: Value, span: Span) -> VarId {
        let var = self.new_temp();
        self.push_let(var, value, span);
        var
    }

    /// `let var = value;`, with no type written.
    fn push_let(&mut self, var: VarId, value: Value, span: Span) {
        self.push(
            StmtKind::Let {
                var,
                ty: None,
                value,
            },
            span,
        );
    }

    /// `if cond { then_block } else { else_block }`.
    fn push_if(&mut self, cond: Operand, then_block: Block, else_block: Block, span: Span) {
        self.push(
            StmtKind::If {
                cond,
                then_block,
                else_block,
            },
            span,
        );
    }
}
