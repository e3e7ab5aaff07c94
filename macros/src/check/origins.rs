//! Step origins: why and where a value becomes a step value, and how an `if` on one makes the
//! variables it sets step values too.

use std::collections::{BTreeSet, HashSet};

use super::flow::{stmt_key, Flow};
use super::kinds::{is_comparison, kind_of_type, Kind};
use crate::errors::Place;
use crate::ir::{Block, Decision, Kept, MethodKind, Operand, Origin, Stmt, StmtKind, Value, VarId};
use crate::methods::{ORDERING_METHODS, POSITION_METHODS, VALUE_TESTS};

/// Why a value is a step function of a value that carries gradient.
#[derive(Clone, Debug)]
pub(super) enum Cause {
    /// `x > y`, or a `match` on `x`.
    Comparison,
    /// `x.is_sign_negative()`, `x.total_cmp(&y)`.
    Test,
    /// `x as i32`.
    IntegerCast,
    /// `v.argmax()`.
    Position,
    /// `w.iter().filter(|v| ..).count()`.
    Count,
    /// `x.round()`: reported where it happens.
    Rounding,
    /// A variable that an `if` (or `match`) on a step condition sets only to values without
    /// gradient.
    Branch {
        keyword: &'static str,
        condition: usize,
        var: VarId,
    },
}

/// Where a step value comes from.
pub(super) struct StepOrigin {
    pub(super) cause: Cause,
    pub(super) place: Place,
    /// The construct as the user wrote it (re-rendered from the IR): `pred > 0.5`.
    pub(super) text: String,
    /// The parameters it depends on, by position.
    pub(super) params: BTreeSet<usize>,
}

/// How an `if` in the IR came about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Control {
    /// Written by the user (`if`, `match`, `&&`, `||`).
    User,
    /// A `while` condition or a guard after `break`/`continue`/`return`: only a trip count
    /// depends on it.
    Loop,
}

impl<'a> Flow<'a> {
    /// The step origin a value creates, if it is one: a comparison, integer cast, test, position
    /// or rounding of a value that carries gradient.
    pub(super) fn new_origin(&mut self, stmt: &'a Stmt, value: &'a Value) -> Option<usize> {
        let (cause, place, ops): (Cause, Place, Vec<&Operand>) = match value {
            Value::Binary { op, lhs, rhs } if is_comparison(op) => {
                if !(self.varied(lhs) || self.varied(rhs)) {
                    return None;
                }
                (Cause::Comparison, self.place(stmt), vec![lhs, rhs])
            }
            Value::Cast { arg, ty } => {
                if !self.varied(arg) || kind_of_type(ty) == Kind::Float {
                    return None;
                }
                (Cause::IntegerCast, self.place(stmt), vec![arg])
            }
            Value::Method {
                receiver,
                method,
                args,
                kind,
                ..
            } => {
                let ops: Vec<&Operand> = std::iter::once(receiver).chain(args).collect();
                if !ops.iter().any(|op| self.varied(op)) {
                    return None;
                }
                let name = method.to_string();
                let cause = match kind {
                    MethodKind::Step if ORDERING_METHODS.contains(&name.as_str()) => Cause::Test,
                    MethodKind::Step => Cause::Rounding,
                    MethodKind::Query if VALUE_TESTS.contains(&name.as_str()) => Cause::Test,
                    MethodKind::Query if POSITION_METHODS.contains(&name.as_str()) => {
                        Cause::Position
                    }
                    _ => return None,
                };
                (cause, Place::at(method.span()), ops)
            }
            // A test kept as written: a step where what it reads carries gradient.
            Value::Opaque {
                reads,
                kept: kept @ (Kept::MatchTest | Kept::ClosureTest(_)),
                ..
            } => {
                let varied: Vec<Operand> = reads
                    .iter()
                    .filter(|v| self.activity.varied.contains(v))
                    .map(|v| Operand::Var(*v))
                    .collect();
                if varied.is_empty() {
                    return None;
                }
                let params = self.deps_of(&varied.iter().collect::<Vec<_>>());
                let (cause, text) = match kept {
                    Kept::ClosureTest(decision) => {
                        let cause = match decision {
                            Decision::Test => Cause::Test,
                            Decision::Position => Cause::Position,
                            Decision::Count => Cause::Count,
                        };
                        (cause, self.render_value(value, 3))
                    }
                    _ => (
                        Cause::Comparison,
                        format!("match on {}", self.render_operand(&varied[0], 2)),
                    ),
                };
                let key = (stmt_key(stmt), usize::MAX);
                return Some(self.intern(key, cause, Place::at(stmt.span), text, params));
            }
            _ => return None,
        };
        let params = self.deps_of(&ops);
        let text = self.render_value(value, 3);
        Some(self.intern((stmt_key(stmt), usize::MAX), cause, place, text, params))
    }

    fn intern(
        &mut self,
        key: (usize, usize),
        cause: Cause,
        place: Place,
        text: String,
        params: BTreeSet<usize>,
    ) -> usize {
        if let Some(&o) = self.origin_at.get(&key) {
            return o;
        }
        self.origins.push(StepOrigin {
            cause,
            place,
            text,
            params,
        });
        let o = self.origins.len() - 1;
        self.origin_at.insert(key, o);
        self.changed = true;
        o
    }

    /// An `if` on a step condition: the variables it sets only to values that carry no gradient
    /// become step values themselves.
    pub(super) fn branch(
        &mut self,
        stmt: &'a Stmt,
        cond: &Operand,
        then_block: &'a Block,
        else_block: &'a Block,
    ) {
        let Some(condition) = self.taint_of(cond) else {
            return;
        };
        let control = self.control(cond, else_block);
        let mut defined = HashSet::new();
        defined_in(then_block, &mut defined);
        defined_in(else_block, &mut defined);
        let mut assigned = Vec::new();
        assigned_in(then_block, &mut assigned);
        assigned_in(else_block, &mut assigned);
        let mut seen = HashSet::new();
        for var in assigned {
            if defined.contains(&var) || !seen.insert(var) {
                continue;
            }
            if self.activity.varied.contains(&var) || self.taint[var.0].is_some() {
                continue;
            }
            if self.kinds[var.0] == Kind::Bool {
                // `a && b`, `done = true`: a decision, still the condition's step.
                self.set_taint(var, Some(condition));
                continue;
            }
            if control != Control::User {
                continue;
            }
            let declared = self.defs.get(&var).map(|s| s.span).unwrap_or(stmt.span);
            // A `match` is lowered to `if`s testing `matches!(scrutinee, pattern)`.
            let from_match = cond.var().and_then(|c| self.def_value(c)).is_some_and(|v| {
                matches!(
                    v,
                    Value::Opaque {
                        kept: Kept::MatchTest,
                        ..
                    }
                )
            });
            let keyword = if from_match { "match" } else { "if" };
            let place = if self.is_value_branch(var) {
                Place::at(declared)
            } else {
                Place::at(stmt.span)
            };
            let text = self.body.var(var).user_name.clone().unwrap_or_default();
            let params = self.origins[condition].params.clone();
            let o = self.intern(
                (stmt_key(stmt), var.0),
                Cause::Branch {
                    keyword,
                    condition,
                    var,
                },
                place,
                text,
                params,
            );
            self.set_taint(var, Some(o));
        }
    }

    /// Whether an `if` in the IR is the user's or the lowering's loop machinery.
    fn control(&self, cond: &Operand, else_block: &Block) -> Control {
        // `while c { .. }` becomes `if c { .. } else { go = false }`.
        if let [Stmt {
            kind:
                StmtKind::Assign {
                    var,
                    value: Value::Use(Operand::Const(_)),
                },
            ..
        }] = else_block.as_slice()
        {
            if self.flags.contains(var) {
                return Control::Loop;
            }
        }
        let Some(c) = cond.var() else {
            return Control::User;
        };
        if self.flags.contains(&c) {
            return Control::Loop;
        }
        match self.def_value(c) {
            // The guard after `break`/`continue`/`return`: `!returned && go && !skip`.
            Some(Value::Opaque {
                kept: Kept::Guard, ..
            }) => Control::Loop,
            // A snapshot of a loop flag.
            Some(Value::Use(Operand::Var(f))) if self.flags.contains(f) => Control::Loop,
            _ => Control::User,
        }
    }

    /// An `if`/`match` result: a temporary declared without a value and set in the arms.
    pub(super) fn is_value_branch(&self, var: VarId) -> bool {
        self.body.var(var).origin == Origin::Temp
            && matches!(
                self.defs.get(&var).map(|s| &s.kind),
                Some(StmtKind::Declare { .. })
            )
    }
}

/// Variables a block defines (`let`), at any depth.
fn defined_in(block: &Block, out: &mut HashSet<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, .. } | StmtKind::Declare { var, .. } => {
                out.insert(*var);
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                defined_in(then_block, out);
                defined_in(else_block, out);
            }
            StmtKind::For { var, body, .. } => {
                out.insert(*var);
                defined_in(body, out);
            }
            StmtKind::Loop { body, .. } => defined_in(body, out),
            _ => {}
        }
    }
}

/// Variables a block overwrites (assignments, element writes, pushes), at any depth.
fn assigned_in(block: &Block, out: &mut Vec<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Assign { var, .. } => out.push(*var),
            StmtKind::SetIndex { base, .. } | StmtKind::Push { base, .. } => out.push(*base),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                assigned_in(then_block, out);
                assigned_in(else_block, out);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => assigned_in(body, out),
            _ => {}
        }
    }
}
