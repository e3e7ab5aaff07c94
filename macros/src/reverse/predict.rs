//! What the reverse sweep reads, predicted from the IR before any code is generated, so that one
//! generation run knows what to save (see [`super::generate_with_result`]).
//!
//! The prediction walks the body as the reverse sweep of a run that counts every value as
//! needed does: in reverse order, keeping track of which adjoints exist, and recording for each
//! rule the values it reads and the variables it reads for their shape only. The generation run
//! still records what it reads; where that is not within the prediction, the run is discarded
//! and generation falls back to its two runs, so a wrong prediction costs time, never a value
//! left unsaved.

use std::collections::HashSet;

use syn::BinOp;

use super::slots::SlotStep;
use super::Generator;
use crate::analysis::invariant_reads::invariant_element_reads;
use crate::analysis::walk::{collect_operand_vars, collect_primal_reads, defines};
use crate::ir::{Block, MethodKind, Operand, Stmt, StmtKind, UnOp, Value, VarId};
use crate::methods::{Reads, FLOAT_METHODS, RESULT_ONLY_RULES, TRAIT_METHODS};

/// What the reverse sweep reads: values, and variables read for their shape.
#[derive(Default)]
pub(super) struct PredictedReads {
    pub values: HashSet<VarId>,
    pub shapes: HashSet<VarId>,
}

impl Generator<'_> {
    /// The reads of this body's reverse sweep, in a run where every value counts as needed.
    pub(super) fn predicted_reads(&self) -> PredictedReads {
        let mut walk = Walk {
            g: self,
            reads: PredictedReads::default(),
            declared: HashSet::new(),
            promoted: HashSet::new(),
            loop_depth: 0,
            scope_depth: 0,
        };
        // Fused loops run their iterations' reverse inside the forward sweep, before the reverse
        // sweep starts, with the loop's own gradients declared.
        for stmt in &self.body.block {
            if let (StmtKind::For { body, .. }, Some(fused)) = (&stmt.kind, self.fused(stmt)) {
                let before = std::mem::replace(&mut walk.declared, fused.outer().collect());
                walk.loop_depth += 1;
                walk.block(body, false);
                walk.loop_depth -= 1;
                walk.declared = before;
            }
        }
        if let Some(result) = self.body.result.var() {
            if self.activity.is_active(result) {
                walk.contribute(result);
            }
        }
        walk.block(&self.body.block, false);
        walk.reads
    }
}

struct Walk<'g, 'a> {
    g: &'g Generator<'a>,
    reads: PredictedReads,
    /// The adjoints declared so far, as `Generator::declared`.
    declared: HashSet<VarId>,
    /// As `Generator::promoted`.
    promoted: HashSet<VarId>,
    loop_depth: usize,
    scope_depth: usize,
}

impl Walk<'_, '_> {
    fn active(&self, v: VarId) -> bool {
        self.g.activity.is_active(v)
    }

    fn read(&mut self, op: &Operand) {
        if let Some(v) = op.var() {
            self.reads.values.insert(v);
        }
    }

    fn shape(&mut self, op: &Operand) {
        if let Some(v) = op.var() {
            self.reads.shapes.insert(v);
        }
    }

    /// Whether the reverse of `block` emits anything.
    fn block(&mut self, block: &Block, scoped: bool) -> bool {
        self.scope_depth += usize::from(scoped);
        let mut emits = false;
        if scoped {
            // Block locals are restored, and recomputed values computed again.
            emits |= block
                .iter()
                .any(|s| matches!(s.kind, StmtKind::Let { .. } | StmtKind::Declare { .. }));
        }
        for stmt in block {
            if let StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } = &stmt.kind {
                if self.g.body.var(*var).is_location
                    && self.active(*var)
                    && self.declared.insert(*var)
                {
                    self.reads.shapes.insert(*var);
                    emits = true;
                }
            }
        }
        for stmt in block.iter().rev() {
            emits |= self.stmt(stmt);
        }
        self.scope_depth -= usize::from(scoped);
        emits
    }

    fn stmt(&mut self, stmt: &Stmt) -> bool {
        if self.loop_depth == 0 && self.scope_depth == 0 {
            if let Some(fused) = self.g.fused(stmt) {
                let reaches = self.declared.contains(&fused.sum());
                if reaches {
                    self.declared.extend(fused.read_only());
                }
                return true;
            }
        }
        match &stmt.kind {
            StmtKind::Let { var, value, .. } | StmtKind::Assign { var, value } => {
                if self.active(*var) && self.declared.contains(var) {
                    self.value(value, *var);
                }
                // An assignment restores the value it overwrote, unless there was none.
                let restores = matches!(stmt.kind, StmtKind::Assign { .. })
                    && !self.g.assigned_once.contains(var)
                    && !self.g.is_first_assignment(stmt);
                restores || (self.active(*var) && self.declared.contains(var))
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => false,
            StmtKind::SetIndex { base, index, value } => {
                if self.active(*base) && self.declared.contains(base) {
                    match self.g.increments.get(&(stmt as *const Stmt as usize)) {
                        Some(increment) => {
                            let added = increment.added.clone();
                            self.contribute_to(&added);
                        }
                        None => self.contribute_to(value),
                    }
                }
                // Restored from its tape, at the index.
                self.read(index);
                true
            }
            StmtKind::Push { base, value } => {
                if self.active(*base) && self.declared.contains(base) {
                    self.contribute_to(value);
                }
                true
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let zeros = self.zero_adjoints_used_in(&[then_block, else_block]);
                let then = self.block(then_block, true);
                let otherwise = self.block(else_block, true);
                if then || otherwise {
                    self.read(cond);
                }
                zeros || then || otherwise
            }
            StmtKind::For { var, range, body } => {
                self.zero_adjoints_used_in(&[body]);
                if self.checkpointed(stmt) {
                    self.checkpoint_iteration(body);
                    self.read(range);
                    return true;
                }
                let promoted = self.promote_invariant_reads(*var, body);
                self.loop_depth += 1;
                let emits = self.block(body, true);
                self.loop_depth -= 1;
                for buffer in promoted {
                    self.promoted.remove(&buffer);
                }
                if emits {
                    self.read(range);
                }
                true
            }
            StmtKind::Loop { body, .. } => {
                self.zero_adjoints_used_in(&[body]);
                if self.checkpointed(stmt) {
                    self.checkpoint_iteration(body);
                } else {
                    self.loop_depth += 1;
                    self.block(body, true);
                    self.loop_depth -= 1;
                }
                true
            }
        }
    }

    /// As `Generator::checkpointed` in a run where every value counts as needed.
    fn checkpointed(&self, stmt: &Stmt) -> bool {
        self.loop_depth == 0 && self.scope_depth == 0 && self.g.checkpointed_saving_everything(stmt)
    }

    /// As `Generator::checkpoint_iteration`.
    fn checkpoint_iteration(&mut self, body: &Block) {
        self.loop_depth += 1;
        let restored = self.g.checkpoint_vars(body);
        let mut outside = Vec::new();
        collect_primal_reads(body, &mut outside);
        self.reads.values.extend(
            outside
                .into_iter()
                .filter(|v| !defines(body, *v) && !restored.contains(v)),
        );
        self.block(body, false);
        self.loop_depth -= 1;
    }

    /// As `Generator::promote_invariant_reads`: the buffers promoted.
    fn promote_invariant_reads(&mut self, counter: VarId, body: &Block) -> Vec<VarId> {
        let mut promoted = Vec::new();
        if self.g.changed_as_kept {
            return promoted;
        }
        for (buffer, index) in invariant_element_reads(self.g.body, counter, body) {
            if !self.active(buffer)
                || !self.declared.contains(&buffer)
                || self.g.is_slot(buffer)
                || self.promoted.contains(&buffer)
            {
                continue;
            }
            self.reads.values.insert(index);
            self.promoted.insert(buffer);
            promoted.push(buffer);
        }
        promoted
    }

    /// As `Generator::zero_adjoints_used_in`: whether it emits anything.
    fn zero_adjoints_used_in(&mut self, blocks: &[&Block]) -> bool {
        let mut used = Vec::new();
        for block in blocks {
            collect_operand_vars(self.g.body, block, &mut used);
        }
        used.sort();
        used.dedup();
        let mut emits = false;
        for v in used {
            if blocks.iter().any(|b| defines(b, v)) {
                continue;
            }
            if self.g.is_slot(v) {
                emits |= self.ensure_declared(v);
            } else if self.active(v) && self.declared.insert(v) {
                self.reads.shapes.insert(v);
                emits = true;
            }
        }
        emits
    }

    /// As `Generator::ensure_declared`: whether it declares anything.
    fn ensure_declared(&mut self, v: VarId) -> bool {
        if let Some((base, _)) = self.g.slots.get(&v) {
            return self.ensure_declared(*base);
        }
        if self.declared.insert(v) {
            self.reads.shapes.insert(v);
            true
        } else {
            false
        }
    }

    /// As `Generator::add_into`: the indices of the slots on the way to `v`'s adjoint.
    fn add_into(&mut self, v: VarId) {
        let mut root = v;
        while let Some((base, step)) = self.g.slots.get(&root) {
            if let SlotStep::Element(index) = step {
                self.read(index);
            }
            root = *base;
        }
        self.ensure_declared(root);
    }

    fn contribute(&mut self, v: VarId) {
        if self.g.is_slot(v) {
            self.add_into(v);
        } else {
            self.declared.insert(v);
        }
    }

    fn contribute_to(&mut self, op: &Operand) {
        if let Some(v) = op.var().filter(|v| self.active(*v)) {
            self.contribute(v);
        }
    }

    /// As `Generator::reverse_value`.
    fn value(&mut self, value: &Value, dst: VarId) {
        match value {
            Value::Use(op) => self.contribute_to(op),
            Value::Binary { op, lhs, rhs } => {
                let (mul, div) = match op {
                    BinOp::Mul(_) => (true, false),
                    BinOp::Div(_) => (false, true),
                    BinOp::Add(_) | BinOp::Sub(_) => (false, false),
                    _ => return,
                };
                for (operand, other) in [(lhs, rhs), (rhs, lhs)] {
                    if !self.g.activity.operand_active(operand) {
                        continue;
                    }
                    if mul {
                        self.shape(operand);
                        self.read(other);
                    } else if div {
                        self.read(lhs);
                        self.read(rhs);
                    }
                    let Some(target) = operand.var() else {
                        continue;
                    };
                    if self.declared.contains(&target) || self.g.is_slot(target) {
                        self.add_into(target);
                    } else {
                        self.contribute(target);
                    }
                }
            }
            Value::Unary { op, arg } => {
                if matches!(op, UnOp::Neg | UnOp::Deref) {
                    self.contribute_to(arg);
                }
            }
            Value::Method {
                receiver,
                args,
                kind,
                method,
                ..
            } => {
                let operands: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                self.method(kind, method, &operands, dst);
            }
            Value::Call { args, .. } => {
                if args.iter().any(|a| self.g.activity.operand_active(a)) {
                    let operands: Vec<&Operand> = args.iter().collect();
                    self.call(&operands);
                }
            }
            Value::Construct { args, .. } => args.iter().for_each(|a| self.contribute_to(a)),
            Value::Cast { arg, .. } => {
                self.read(arg);
                self.contribute_to(arg);
            }
            Value::Index { base, index } => {
                let Some(b) = base.var().filter(|b| self.active(*b)) else {
                    return;
                };
                if self.g.is_slot(dst) {
                    return;
                }
                self.read(index);
                if !self.promoted.contains(&b) {
                    self.add_into(b);
                }
            }
            Value::Part { base, range } => {
                if let Some(b) = base.var().filter(|b| self.active(*b)) {
                    self.read(range);
                    self.add_into(b);
                }
            }
            Value::Field { base, .. } => {
                if let Some(b) = base.var().filter(|b| self.active(*b)) {
                    if !self.g.is_slot(dst) {
                        self.add_into(b);
                    }
                }
            }
            Value::Struct { fields, .. } => {
                fields.iter().for_each(|(_, op)| self.contribute_to(op))
            }
            Value::Array(items) | Value::Tuple(items) => {
                items.iter().for_each(|op| self.contribute_to(op))
            }
            Value::Opaque { .. } => {}
        }
    }

    fn method(
        &mut self,
        kind: &MethodKind,
        method: &syn::Ident,
        operands: &[&Operand],
        dst: VarId,
    ) {
        let dst_operand = Operand::Var(dst);
        match kind {
            MethodKind::Float(index) => {
                let rule = &FLOAT_METHODS[*index];
                for (k, r) in rule.rules.iter().enumerate() {
                    if r.is_none() || !self.g.activity.operand_active(operands[k]) {
                        continue;
                    }
                    match (operands, rule.reads) {
                        ([_], Reads::Output) => self.read(&dst_operand),
                        ([x], Reads::Input) => self.read(x),
                        ([x], Reads::Neither) => self.shape(x),
                        _ => {
                            operands.iter().for_each(|o| self.read(o));
                            self.read(&dst_operand);
                        }
                    }
                    self.contribute_to(operands[k]);
                }
            }
            MethodKind::Trait(index) => {
                let rule = &TRAIT_METHODS[*index];
                for (k, r) in rule.rules.iter().enumerate() {
                    let Some(r) = r else { continue };
                    if !self.g.activity.operand_active(operands[k]) {
                        continue;
                    }
                    if !RESULT_ONLY_RULES.contains(r) {
                        operands.iter().for_each(|o| self.read(o));
                    }
                    self.read(&dst_operand);
                    self.contribute_to(operands[k]);
                }
            }
            MethodKind::Identity if method == "to_vec" => {
                if let Some(b) = operands[0].var().filter(|b| self.active(*b)) {
                    self.add_into(b);
                }
            }
            MethodKind::Identity => self.contribute_to(operands[0]),
            MethodKind::Map(index) => {
                let closure = &self.g.body.closures[*index];
                let active_captures: Vec<VarId> = closure
                    .capture_params
                    .iter()
                    .copied()
                    .filter(|v| self.active(*v))
                    .collect();
                let receiver = operands[0];
                if !self.g.activity.operand_active(receiver) && active_captures.is_empty() {
                    return;
                }
                let captures: Vec<VarId> = closure.captures.iter().map(|(v, _)| *v).collect();
                self.reads.values.extend(captures);
                self.reads.shapes.extend(active_captures.iter().copied());
                self.read(&dst_operand);
                if self.g.map_pullback(*index).1 {
                    self.read(receiver);
                }
                self.contribute_to(receiver);
                for v in active_captures {
                    self.contribute(v);
                }
            }
            MethodKind::User => {
                if !operands.iter().any(|a| self.g.activity.operand_active(a)) {
                    return;
                }
                // The receiver is read to call the pullback on, and its gradient comes first.
                self.call(operands);
            }
            MethodKind::Step | MethodKind::Unknown | MethodKind::Query => {}
        }
    }

    /// As `Generator::call_arguments` and `Generator::call_gradients`, for the operands of a
    /// call (or of a model's method, whose receiver's gradient comes first).
    fn call(&mut self, operands: &[&Operand]) {
        for a in operands {
            self.read(a);
        }
        for a in operands {
            if !self.g.activity.operand_active(a) {
                continue;
            }
            let Some(v) = a.var() else { continue };
            if self.g.is_slot(v) {
                self.add_call_gradient_into_field(v);
                continue;
            }
            if let Some(part) = self.g.slot_parts.get(&v) {
                let (field, direct) = (part.field, part.direct.clone());
                if let Some(at) = direct {
                    self.read(&at);
                    self.add_into(field);
                } else {
                    self.add_into(field);
                    self.shape(a);
                    self.contribute_to(a);
                }
                continue;
            }
            if !(self.declared.contains(&v) && self.active(v)) {
                self.contribute_to(a);
            }
        }
    }

    /// As `Generator::add_call_gradient_into_field`.
    fn add_call_gradient_into_field(&mut self, v: VarId) {
        let Some((base, step)) = self.g.slots.get(&v).cloned() else {
            return;
        };
        match step {
            SlotStep::Alias => self.add_call_gradient_into_field(base),
            SlotStep::Field(_) => self.add_into(base),
            SlotStep::Element(index) => {
                self.read(&index);
                self.add_into(base);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Generator;
    use crate::errors::Errors;

    /// The prediction against what a first run of two records, for functions of every shape the
    /// generator treats apart: the two must agree for generation to run once.
    #[track_caller]
    fn predicts(source: &str) {
        let item: syn::ItemFn = syn::parse_str(source).expect("test source parses");
        let mut errors = Errors::default();
        let sig = crate::parse::signature(&item, &mut errors);
        let body = crate::lower::lower(&item, &sig, &mut errors);
        assert!(errors.is_empty(), "{source}: {:?}", errors.messages());
        let activity = crate::analysis::activity::analyze(&body, &sig);
        let cotangent = proc_macro2::Ident::new("__cotangent", proc_macro2::Span::call_site());

        let predictor = Generator::new(&body, &sig, &activity, None);
        let predicted = predictor.predicted_reads();
        let predicted = predictor.needed_sets(&predicted.values, &predicted.shapes);
        let mut first = Generator::new(&body, &sig, &activity, None);
        first.run(&cotangent);
        let recorded = first.needed_sets(&first.reads, &first.scope_reads);
        let names = |set: &std::collections::HashSet<crate::ir::VarId>| {
            let mut names: Vec<String> =
                set.iter().map(|v| body.var(*v).ident.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(
            names(&predicted.0),
            names(&recorded.0),
            "needed, in\n{source}"
        );
        assert_eq!(
            names(&predicted.1),
            names(&recorded.1),
            "in scope, in\n{source}"
        );

        // So the one run writes what the two runs do, token for token.
        let inputs = super::super::Inputs {
            body: &body,
            sig: &sig,
            activity: &activity,
            given: None,
            pullbacks: Default::default(),
        };
        let one = super::super::predicted_run(&inputs, &cotangent);
        let two = super::super::two_runs(&inputs, &cotangent);
        let one = one.expect("the run reads what was predicted");
        assert_eq!(
            one.body.to_string(),
            two.body.to_string(),
            "sweeps of\n{source}"
        );
    }

    #[test]
    fn straight_line_and_branches() {
        predicts(
            "fn f(x: f64, y: f64) -> f64 { let a = x * y; let b = a.sin() / y; a * b + x.exp() }",
        );
        predicts(
            "fn f(x: f64, #[no_grad] c: f64) -> f64 {
                let mut y = x * 2.0;
                if c > 0.5 { y = y * y; } else { y += 1.0; }
                let t = if x > 0.0 { x.ln() } else { -x };
                y * t
            }",
        );
    }

    #[test]
    fn loops_buffers_and_sums() {
        predicts(
            "fn f(w: &[f64], #[no_grad] n: usize) -> f64 {
                let mut s = 0.0;
                for i in 0..w.len() - 1 {
                    let a = 1.0 - w[i];
                    let b = w[i + 1] - w[i] * w[i];
                    s += a * a + 100.0 * b * b;
                }
                let mut buf = vec![0.0; n];
                for i in 0..n { buf[i] = w[i % w.len()].tanh(); buf[i] *= s; }
                let mut p = 1.0;
                let mut k = 0;
                while k < n { p = p * buf[k]; k += 1; }
                p + buf.iter().map(|v| v * v).sum::<f64>()
            }",
        );
    }

    #[test]
    fn checkpointed_nested_loops() {
        predicts(
            "fn f(means: &[f64], icf: &[f64], #[no_grad] x: &[f64], #[no_grad] d: usize, #[no_grad] k: usize, #[no_grad] n: usize) -> f64 {
                let mut xc = vec![0.0; d];
                let mut total = 0.0;
                for ix in 0..n {
                    let mut best = 0.0;
                    for ik in 0..k {
                        for id in 0..d {
                            xc[id] = (x[ix * d + id] - means[ik * d + id]) * icf[ik * d + id].exp();
                        }
                        let mut sq = 0.0;
                        for id in 0..d { sq += xc[id] * xc[id]; }
                        best = best.max(-0.5 * sq);
                    }
                    total += best;
                }
                total
            }",
        );
    }

    #[test]
    fn maps_and_folds() {
        predicts(
            "fn f(w: &[f64], b: f64, #[no_grad] xs: &[f64]) -> f64 {
                let h: Vec<f64> = xs.iter().map(|x| (w[0] * x + b).tanh()).collect();
                let m = nalgebra::DVector::from_vec(h.clone()).map(|v| v * b);
                h.iter().fold(0.0, |acc, v| acc * b + v) + m.sum()
            }",
        );
    }
}
