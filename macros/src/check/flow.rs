//! The Flow analysis: facts about every variable of a body (kinds, dependencies on parameters,
//! step taint), computed to a fixed point; its forward pass and queries.

use std::collections::{BTreeSet, HashMap, HashSet};

use syn::Type;

use super::kinds::{kind_of_const, kind_of_type, Kind};
use super::origins::StepOrigin;
use crate::analysis::activity::{differentiable_operands, Activity};
use crate::gating::Gates;
use crate::ir::{Block, Body, Kept, MethodKind, Operand, Origin, Stmt, StmtKind, Value, VarId};
use crate::methods::POSITION_VALUE_METHODS;
use crate::parse::Signature;

/// Facts about every variable of a body, computed to a fixed point before any error is reported.
pub(super) struct Flow<'a> {
    pub(super) body: &'a Body,
    pub(super) sig: &'a Signature,
    pub(super) activity: &'a Activity,
    /// The `let` (or declaration) that defines each variable first.
    pub(super) defs: HashMap<VarId, &'a Stmt>,
    pub(super) kinds: Vec<Kind>,
    /// Active parameters a value depends on through differentiable operations.
    deps: Vec<BTreeSet<usize>>,
    /// Active parameters a value depends on in any way (conditions, indices, casts, ...).
    pub(super) touch: Vec<BTreeSet<usize>>,
    /// The step origin a value derives from.
    pub(super) taint: Vec<Option<usize>>,
    pub(super) origins: Vec<StepOrigin>,
    /// Origins by the statement (and variable) that creates them, so that re-running the
    /// analysis finds the same origin.
    pub(super) origin_at: HashMap<(usize, usize), usize>,
    /// Boolean flags the lowering creates for loops and early returns.
    pub(super) flags: HashSet<VarId>,
    /// How many times each variable is read.
    pub(super) reads: Vec<usize>,
    /// Receivers of methods nabla does not know: in `xs.iter().cycle()` only `cycle` is
    /// reported.
    pub(super) feeds_unknown: HashSet<VarId>,
    /// Step values that only scale or select values that carry gradient (see `gating.rs`).
    pub(super) gates: Gates,
    pub(super) changed: bool,
}

pub(super) fn stmt_key(stmt: &Stmt) -> usize {
    stmt as *const Stmt as usize
}

impl<'a> Flow<'a> {
    pub(super) fn analyze(body: &'a Body, sig: &'a Signature, activity: &'a Activity) -> Flow<'a> {
        let n = body.vars.len();
        let mut flow = Flow {
            body,
            sig,
            activity,
            defs: HashMap::new(),
            kinds: vec![Kind::Unknown; n],
            deps: vec![BTreeSet::new(); n],
            touch: vec![BTreeSet::new(); n],
            taint: vec![None; n],
            origins: Vec::new(),
            origin_at: HashMap::new(),
            flags: HashSet::new(),
            reads: vec![0; n],
            feeds_unknown: HashSet::new(),
            gates: Gates::analyze(body, activity),
            changed: false,
        };
        for (id, var) in body.vars.iter().enumerate() {
            if let Origin::Param(i) = var.origin {
                if let Some(param) = sig.params.get(i) {
                    flow.kinds[id] = kind_of_type(&param.ty);
                    if param.active {
                        flow.deps[id].insert(i);
                        flow.touch[id].insert(i);
                    }
                }
            }
        }
        flow.scan(&body.block);
        if let Some(v) = body.result.var() {
            flow.read(v);
        }
        // Values flow around loops, so iterate to a fixed point; every fact only grows, and the
        // bound is a guard against a bug, not a limit real code reaches.
        for _ in 0..64 {
            flow.changed = false;
            flow.block(&body.block);
            if !flow.changed {
                break;
            }
        }
        flow
    }

    /// Records definitions, flags and reads.
    fn scan(&mut self, block: &'a Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, ty, value } => {
                    self.defs.entry(*var).or_insert(stmt);
                    let bool_ty = ty.as_ref().is_some_and(|t| kind_of_type(t) == Kind::Bool);
                    let constant = matches!(value, Value::Use(Operand::Const(c)) if kind_of_const(c) == Kind::Bool);
                    if bool_ty && constant && self.body.var(*var).origin == Origin::Temp {
                        self.flags.insert(*var);
                    }
                    if let Value::Method {
                        receiver,
                        kind: MethodKind::Unknown,
                        ..
                    } = value
                    {
                        if let Some(r) = receiver.var() {
                            self.feeds_unknown.insert(r);
                        }
                    }
                    self.read_value(value);
                }
                StmtKind::Declare { var, .. } => {
                    self.defs.entry(*var).or_insert(stmt);
                }
                StmtKind::Assign { value, .. } => self.read_value(value),
                StmtKind::SetIndex { index, value, .. } => {
                    self.read_operand(index);
                    self.read_operand(value);
                }
                StmtKind::Push { value, .. } => self.read_operand(value),
                StmtKind::Opaque { reads, .. } => {
                    for v in reads {
                        self.read(*v);
                    }
                }
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.read_operand(cond);
                    self.scan(then_block);
                    self.scan(else_block);
                }
                StmtKind::For { range, body, .. } => {
                    self.read_operand(range);
                    self.scan(body);
                }
                StmtKind::Loop { body, .. } => self.scan(body),
            }
        }
    }

    fn read(&mut self, v: VarId) {
        if let Some(count) = self.reads.get_mut(v.0) {
            *count += 1;
        }
    }

    fn read_operand(&mut self, op: &Operand) {
        if let Some(v) = op.var() {
            self.read(v);
        }
    }

    fn read_value(&mut self, value: &Value) {
        for op in value.operands() {
            self.read_operand(op);
        }
        if let Value::Opaque { reads, .. } = value {
            for v in reads {
                self.read(*v);
            }
        }
    }

    // ----- queries ------------------------------------------------------------------------------

    pub(super) fn varied(&self, op: &Operand) -> bool {
        self.activity.operand_varied(op)
    }

    /// Whether every parameter in `params` reaches the result through a differentiable path:
    /// then a step value of theirs may gate values that carry gradient (see `gating.rs`); if
    /// one reaches it only through the step, the step is what to report.
    pub(super) fn reach_result(&self, params: &BTreeSet<usize>) -> bool {
        params.iter().all(|&p| {
            self.body.vars.iter().enumerate().any(|(id, var)| {
                var.origin == Origin::Param(p) && self.activity.useful.contains(&VarId(id))
            })
        })
    }

    pub(super) fn kind(&self, op: &Operand) -> Kind {
        match op {
            Operand::Var(v) | Operand::Ref(v, ..) => self.kinds[v.0],
            Operand::Const(c) => kind_of_const(c),
        }
    }

    pub(super) fn taint_of(&self, op: &Operand) -> Option<usize> {
        op.var().and_then(|v| self.taint[v.0])
    }

    pub(super) fn deps_of(&self, ops: &[&Operand]) -> BTreeSet<usize> {
        ops.iter()
            .filter_map(|op| op.var())
            .flat_map(|v| self.deps[v.0].iter().copied())
            .collect()
    }

    pub(super) fn def_value(&self, v: VarId) -> Option<&'a Value> {
        match &self.defs.get(&v)?.kind {
            StmtKind::Let { value, .. } => Some(value),
            _ => None,
        }
    }

    /// `v.argmax()` (or `argmin`) on a value that carries gradient, if `v` is defined so.
    pub(super) fn position_with_value(&self, op: &Operand) -> Option<&'a Value> {
        let value = self.def_value(op.var()?)?;
        match value {
            Value::Method {
                method, receiver, ..
            } if POSITION_VALUE_METHODS.contains(&method.to_string().as_str())
                && self.varied(receiver) =>
            {
                Some(value)
            }
            _ => None,
        }
    }

    /// The operands a step value passes through: all but the index of an element read (an index
    /// selects; the element's gradient flows through the container) and the value half of
    /// `argmax` (reported on its own).
    pub(super) fn carrying<'v>(&self, value: &'v Value) -> Vec<&'v Operand> {
        match value {
            Value::Index { base, .. } | Value::Part { base, .. } => vec![base],
            Value::Field { base, member } => {
                let value_half = matches!(member, syn::Member::Unnamed(i) if i.index == 1);
                if value_half && self.position_with_value(base).is_some() {
                    vec![]
                } else {
                    vec![base]
                }
            }
            other => other.operands(),
        }
    }

    // ----- the forward pass -------------------------------------------------------------------

    fn set_kind(&mut self, v: VarId, kind: Kind) {
        if kind != Kind::Unknown && self.kinds[v.0] == Kind::Unknown {
            self.kinds[v.0] = kind;
            self.changed = true;
        }
    }

    fn add_deps(&mut self, v: VarId, deps: BTreeSet<usize>, touch: BTreeSet<usize>) {
        let before = (self.deps[v.0].len(), self.touch[v.0].len());
        self.deps[v.0].extend(deps);
        self.touch[v.0].extend(touch);
        if before != (self.deps[v.0].len(), self.touch[v.0].len()) {
            self.changed = true;
        }
    }

    pub(super) fn set_taint(&mut self, v: VarId, origin: Option<usize>) {
        if let (Some(o), None) = (origin, self.taint[v.0]) {
            self.taint[v.0] = Some(o);
            self.changed = true;
        }
    }

    fn block(&mut self, block: &'a Block) {
        for stmt in block {
            match &stmt.kind {
                StmtKind::Let { var, ty, value } => self.assign(stmt, *var, value, ty.as_ref()),
                StmtKind::Assign { var, value } => self.assign(stmt, *var, value, None),
                StmtKind::Declare { var, ty } => {
                    if let Some(ty) = ty {
                        self.set_kind(*var, kind_of_type(ty));
                    }
                }
                StmtKind::SetIndex { base, index, value } => {
                    self.set_kind(*base, self.kind(value));
                    let deps = self.deps_of(&[value]);
                    let touch = self.touch_of(&[index, value]);
                    self.add_deps(*base, deps, touch);
                    self.set_taint(*base, self.taint_of(value));
                }
                StmtKind::Push { base, value } => {
                    self.set_kind(*base, self.kind(value));
                    let deps = self.deps_of(&[value]);
                    let touch = self.touch_of(&[value]);
                    self.add_deps(*base, deps, touch);
                    self.set_taint(*base, self.taint_of(value));
                }
                StmtKind::Opaque { .. } => {}
                StmtKind::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.block(then_block);
                    self.block(else_block);
                    self.branch(stmt, cond, then_block, else_block);
                }
                StmtKind::For { var, range, body } => {
                    // A loop's counter is an integer: only ranges of integers are iterated.
                    self.set_kind(*var, Kind::Int);
                    let touch = self.touch_of(&[range]);
                    self.add_deps(*var, BTreeSet::new(), touch);
                    self.block(body);
                }
                StmtKind::Loop { body, .. } => self.block(body),
            }
        }
    }

    fn touch_of(&self, ops: &[&Operand]) -> BTreeSet<usize> {
        ops.iter()
            .filter_map(|op| op.var())
            .flat_map(|v| self.touch[v.0].iter().copied())
            .collect()
    }

    fn assign(&mut self, stmt: &'a Stmt, var: VarId, value: &'a Value, ty: Option<&Type>) {
        let ascribed = ty.map(kind_of_type).unwrap_or(Kind::Unknown);
        let kind = if ascribed != Kind::Unknown {
            ascribed
        } else {
            self.value_kind(value)
        };
        self.set_kind(var, kind);

        let deps = self.deps_of(&differentiable_operands(self.body, value));
        let mut touch = self.touch_of(&value.operands());
        if let Value::Opaque { reads, .. } = value {
            for v in reads {
                touch.extend(self.touch[v.0].iter().copied());
            }
        }
        self.add_deps(var, deps, touch);

        let origin = match self.new_origin(stmt, value) {
            Some(o) => Some(o),
            None => match value {
                // A test or guard the lowering wrote decides as its reads do.
                Value::Opaque {
                    reads,
                    kept: Kept::MatchTest | Kept::Guard | Kept::FilterTest | Kept::ClosureTest(_),
                    ..
                } => reads.iter().find_map(|v| self.taint[v.0]),
                Value::Opaque { .. } => None,
                other => self
                    .carrying(other)
                    .into_iter()
                    .find_map(|op| self.taint_of(op)),
            },
        };
        self.set_taint(var, origin);
    }
}
