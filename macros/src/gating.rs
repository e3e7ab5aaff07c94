//! Step values that only gate values carrying gradient.
//!
//! A comparison turned into a number, `x.signum()`, or an `if` that picks between constants on
//! a comparison is a step function: flat almost everywhere, so its own gradient is zero. Where
//! such a value enters the result as a term of its own (Keras's `loss + cast(pred > 0.5)`), the
//! zero is a silent bug and the checks report it. But where it only scales or selects a value
//! that carries gradient, the gradient is exactly what the user expects, piece by piece:
//!
//! ```text
//! let mask = (x > 0.0) as i32 as f64;  mask * x                 // ReLU
//! let s = if x > 0.0 { 1.0 } else { 0.01 };  s * x              // leaky ReLU
//! x.signum() * x                                                // |x|
//! if r.abs() > 1.0 { r.signum() } else { r }                    // a clipped residual
//! ```
//!
//! This pass finds the variables whose every use is such a gate: a factor of a product (or a
//! quotient) whose other operand carries gradient, the exponent of a power (`powi`, `powf`) of
//! a base that carries gradient, or a value an `if` branch assigns to a
//! variable that carries gradient on its other paths. Copies, negations and casts pass the
//! question on to their result. A parameter that reaches the result only through a gate
//! still has no gradient, and is reported as not reaching it.

use std::collections::{HashMap, HashSet};

use syn::BinOp;

use crate::analysis::activity::Activity;
use crate::check::kinds::is_arithmetic;
use crate::ir::{Block, Body, Operand, StmtKind, UnOp, Value, VarId};

/// How one statement reads a variable.
enum Read<'a> {
    /// `dst = value`, where `value` reads the variable; `in_branch` when the statement stands
    /// directly in a branch of an `if`.
    Into {
        dst: VarId,
        value: &'a Value,
        in_branch: bool,
    },
    /// Any other read: an index, a condition, an element written, the result, a call's tokens.
    Other,
}

/// The variables whose every use gates a value that carries gradient (see the module docs).
pub struct Gates {
    gating: HashSet<VarId>,
}

impl Gates {
    pub fn analyze(body: &Body, activity: &Activity) -> Gates {
        let mut reads: HashMap<VarId, Vec<Read<'_>>> = HashMap::new();
        collect_reads(&body.block, false, &mut reads);
        if let Some(v) = body.result.var() {
            reads.entry(v).or_default().push(Read::Other);
        }
        for closure in &body.closures {
            for (v, _) in &closure.captures {
                reads.entry(*v).or_default().push(Read::Other);
            }
        }
        let finder = Finder { reads, activity };
        let gating = (0..body.vars.len())
            .map(VarId)
            .filter(|v| finder.only_gates(*v, &mut HashSet::new()))
            .collect();
        Gates { gating }
    }

    /// Whether every use of `v` gates a value that carries gradient.
    pub fn only_gates(&self, v: VarId) -> bool {
        self.gating.contains(&v)
    }
}

/// Whether `value` is a product or quotient in which `operand` scales an operand that carries
/// gradient, or a power of a base that carries gradient with `operand` as its exponent
/// (`x.powi(k)`: the step picks which power).
pub fn is_gate(value: &Value, operand: &Operand, activity: &Activity) -> bool {
    if let Value::Method {
        receiver,
        method,
        args,
        ..
    } = value
    {
        let exponent = (method == "powi" || method == "powf")
            && matches!(args.as_slice(), [a] if a.var().is_some() && a.var() == operand.var());
        return exponent && receiver.var() != operand.var() && activity.operand_varied(receiver);
    }
    let Value::Binary { op, lhs, rhs } = value else {
        return false;
    };
    if !matches!(op, BinOp::Mul(_) | BinOp::Div(_)) {
        return false;
    }
    let v = operand.var();
    let other = if lhs.var() == v {
        rhs
    } else if rhs.var() == v {
        lhs
    } else {
        return false;
    };
    other.var() != v && activity.operand_varied(other)
}

struct Finder<'a> {
    reads: HashMap<VarId, Vec<Read<'a>>>,
    activity: &'a Activity,
}

impl Finder<'_> {
    /// `visiting` breaks cycles through loop-carried locations: a cycle of copies gates if
    /// everything leaving it does.
    fn only_gates(&self, v: VarId, visiting: &mut HashSet<VarId>) -> bool {
        if !visiting.insert(v) {
            return true;
        }
        let Some(reads) = self.reads.get(&v) else {
            return false;
        };
        reads.iter().all(|read| match read {
            Read::Other => false,
            Read::Into {
                dst,
                value,
                in_branch,
            } => {
                if is_gate(value, &Operand::Var(v), self.activity) {
                    return true;
                }
                let passes_on = match value {
                    Value::Use(_) => true,
                    Value::Unary { op: UnOp::Neg, .. } => true,
                    // An integer cast passes the question on too: its result gates where it
                    // is only an exponent (`x.powi(x.floor() as i32)`), and is read otherwise
                    // as an index or a count, which gates nothing.
                    Value::Cast { .. } => true,
                    // `1.0 + m`, `2.0 * m`: arithmetic with values that carry no gradient is
                    // a step value again, which gates where its own uses do (`a * (1.0 + m)`).
                    Value::Binary { op, lhs, rhs } if is_arithmetic(op) => {
                        let other = if lhs.var() == Some(v) { rhs } else { lhs };
                        !self.activity.operand_varied(other)
                    }
                    _ => false,
                };
                passes_on
                    && ((*in_branch && self.activity.varied.contains(dst))
                        || self.only_gates(*dst, visiting))
            }
        })
    }
}

fn collect_reads<'a>(block: &'a Block, in_branch: bool, reads: &mut HashMap<VarId, Vec<Read<'a>>>) {
    let other = |op: &Operand, reads: &mut HashMap<VarId, Vec<Read<'a>>>| {
        if let Some(v) = op.var() {
            reads.entry(v).or_default().push(Read::Other);
        }
    };
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, value, .. } | StmtKind::Assign { var, value } => {
                if let Value::Opaque { reads: read, .. } = value {
                    for v in read {
                        reads.entry(*v).or_default().push(Read::Other);
                    }
                }
                for op in value.operands() {
                    if let Some(v) = op.var() {
                        reads.entry(v).or_default().push(Read::Into {
                            dst: *var,
                            value,
                            in_branch,
                        });
                    }
                }
            }
            StmtKind::Declare { .. } => {}
            StmtKind::SetIndex { base, index, value } => {
                reads.entry(*base).or_default().push(Read::Other);
                other(index, reads);
                other(value, reads);
            }
            StmtKind::Push { base, value } => {
                reads.entry(*base).or_default().push(Read::Other);
                other(value, reads);
            }
            StmtKind::Opaque { reads: read, .. } => {
                for v in read {
                    reads.entry(*v).or_default().push(Read::Other);
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                other(cond, reads);
                collect_reads(then_block, true, reads);
                collect_reads(else_block, true, reads);
            }
            StmtKind::For { range, body, .. } => {
                other(range, reads);
                collect_reads(body, false, reads);
            }
            StmtKind::Loop { go, body } => {
                reads.entry(*go).or_default().push(Read::Other);
                collect_reads(body, false, reads);
            }
        }
    }
}
