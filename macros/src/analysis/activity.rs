//! Activity analysis: which values depend on a parameter that carries gradient (*varied*), and
//! which reach the result through a differentiable path (*useful*). Only values that are both
//! get adjoints; everything else costs nothing in the reverse sweep.

use std::collections::HashSet;

use syn::BinOp;

use crate::ir::{
    Block, Body, Kept, MethodKind, Operand, Origin, StmtKind, UnOp, Value, VarId, Written,
};
use crate::methods::{FLOAT_METHODS, TRAIT_METHODS};
use crate::parse::{is_float, Signature};

pub struct Activity {
    pub varied: HashSet<VarId>,
    pub useful: HashSet<VarId>,
}

impl Activity {
    pub fn is_active(&self, v: VarId) -> bool {
        self.varied.contains(&v) && self.useful.contains(&v)
    }

    pub fn operand_active(&self, op: &Operand) -> bool {
        op.var().is_some_and(|v| self.is_active(v))
    }

    pub fn operand_varied(&self, op: &Operand) -> bool {
        op.var().is_some_and(|v| self.varied.contains(&v))
    }
}

pub fn analyze(body: &Body, sig: &Signature) -> Activity {
    let mut varied = HashSet::new();
    for (id, var) in body.vars.iter().enumerate() {
        if let Origin::Param(i) = var.origin {
            if sig.params[i].active {
                varied.insert(VarId(id));
            }
        }
    }
    // Iterate to a fixed point: a location assigned late may feed a use earlier in a loop.
    loop {
        let before = varied.len();
        forward(body, &body.block, &mut varied);
        // A `map` closure's result varies with what it captures, whatever its receiver.
        for_each_map(&body.block, &mut |dst, _, index| {
            let captured = body
                .closures
                .get(index)
                .is_some_and(|closure| closure.captures.iter().any(|(v, _)| varied.contains(v)));
            if captured {
                varied.insert(dst);
            }
        });
        if varied.len() == before {
            break;
        }
    }
    let mut useful = HashSet::new();
    if let Some(v) = body.result.var() {
        useful.insert(v);
    }
    loop {
        let before = useful.len();
        backward(body, &body.block, &mut useful);
        // A `map` closure's result depends on what it captures: those count as reaching the
        // result (whether their gradient can flow is the closure check's to say).
        for_each_map(&body.block, &mut |dst, _, index| {
            if useful.contains(&dst) {
                if let Some(closure) = body.closures.get(index) {
                    useful.extend(closure.captures.iter().map(|(v, _)| *v));
                }
            }
        });
        if useful.len() == before {
            break;
        }
    }
    Activity { varied, useful }
}

fn is_place(body: &Body, op: &Operand) -> bool {
    op.var().is_some_and(|v| body.var(v).place)
}

/// `1`, `2usize`, `(3)`: an integer literal (`1f64` is a float).
fn is_integer_literal(op: &Operand) -> bool {
    fn literal(tokens: proc_macro2::TokenStream) -> bool {
        let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        match trees.as_slice() {
            [proc_macro2::TokenTree::Literal(lit)] => matches!(
                syn::parse_str::<syn::Lit>(&lit.to_string()),
                Ok(syn::Lit::Int(i)) if !matches!(i.suffix(), "f32" | "f64")
            ),
            [proc_macro2::TokenTree::Group(g)] => literal(g.stream()),
            _ => false,
        }
    }
    matches!(op, Operand::Const(c) if literal(c.clone()))
}

fn is_arith(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_)
    )
}

/// The operands through which gradient flows into a value (varied operands make it varied;
/// a useful value makes them useful).
pub fn differentiable_operands<'a>(body: &Body, value: &'a Value) -> Vec<&'a Operand> {
    match value {
        Value::Use(op) => vec![op],
        // `m.count + 1` on a field of a model: Rust has no arithmetic between integer literals
        // and floats, so this is integer arithmetic on a `#[no_grad]` count.
        Value::Binary { lhs, rhs, .. }
            if (is_integer_literal(lhs) && is_place(body, rhs))
                || (is_integer_literal(rhs) && is_place(body, lhs)) =>
        {
            vec![]
        }
        Value::Binary { op, lhs, rhs } if is_arith(op) => vec![lhs, rhs],
        Value::Binary { .. } => vec![],
        Value::Unary {
            op: UnOp::Neg | UnOp::Deref,
            arg,
        } => vec![arg],
        Value::Unary { op: UnOp::Not, .. } => vec![],
        Value::Method {
            receiver,
            args,
            kind,
            ..
        } => match kind {
            MethodKind::Float(i) => std::iter::once(receiver)
                .chain(args)
                .zip(FLOAT_METHODS[*i].rules)
                .filter(|(_, rule)| rule.is_some())
                .map(|(op, _)| op)
                .collect(),
            MethodKind::Trait(i) => std::iter::once(receiver)
                .chain(args)
                .zip(TRAIT_METHODS[*i].rules)
                .filter(|(_, rule)| rule.is_some())
                .map(|(op, _)| op)
                .collect(),
            MethodKind::Identity | MethodKind::Map(_) => vec![receiver],
            // Unknown methods propagate so that the check reports the call itself, not a
            // parameter that seems unused further on.
            MethodKind::Unknown | MethodKind::User => {
                std::iter::once(receiver).chain(args).collect()
            }
            MethodKind::Step | MethodKind::Query => vec![],
        },
        Value::Call { args, .. } | Value::Construct { args, .. } => args.iter().collect(),
        Value::Cast { arg, ty } if is_float(ty) => vec![arg],
        Value::Cast { .. } => vec![],
        Value::Index { base, .. } | Value::Part { base, .. } => vec![base],
        Value::Field { base, .. } => vec![base],
        Value::Tuple(items) | Value::Array(items) => items.iter().collect(),
        Value::Struct { fields, .. } => fields.iter().map(|(_, op)| op).collect(),
        Value::Opaque { .. } => vec![],
    }
}

/// A name a `match` arm binds out of a scrutinee that varies (`Some(v) => ..` on a value that
/// carries gradient): the checks refuse it, and count it as varied so that what the arm
/// computes from it is not reported a second time as carrying no gradient.
fn binds_out_of_varied(value: &Value, varied: &HashSet<VarId>) -> bool {
    matches!(value, Value::Opaque { kept: Kept::Checked(Written::MatchBinding), reads, .. }
        if reads.iter().any(|v| varied.contains(v)))
}

fn any_varied(ops: &[&Operand], varied: &HashSet<VarId>) -> bool {
    ops.iter()
        .any(|op| op.var().is_some_and(|v| varied.contains(&v)))
}

fn forward(ir: &Body, block: &Block, varied: &mut HashSet<VarId>) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let { var, value, .. } | StmtKind::Assign { var, value } => {
                if any_varied(&differentiable_operands(ir, value), varied)
                    || binds_out_of_varied(value, varied)
                {
                    varied.insert(*var);
                }
            }
            StmtKind::SetIndex { base, value, .. } => {
                if any_varied(&[value], varied) {
                    varied.insert(*base);
                }
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                forward(ir, then_block, varied);
                forward(ir, else_block, varied);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => forward(ir, body, varied),
            StmtKind::Push { base, value } => {
                if any_varied(&[value], varied) {
                    varied.insert(*base);
                }
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => {}
        }
    }
}

fn backward(ir: &Body, block: &Block, useful: &mut HashSet<VarId>) {
    for stmt in block.iter().rev() {
        match &stmt.kind {
            StmtKind::Let { var, value, .. } | StmtKind::Assign { var, value } => {
                if useful.contains(var) {
                    for op in differentiable_operands(ir, value) {
                        if let Some(v) = op.var() {
                            useful.insert(v);
                        }
                    }
                }
            }
            StmtKind::SetIndex { base, value, .. } => {
                if useful.contains(base) {
                    if let Some(v) = value.var() {
                        useful.insert(v);
                    }
                }
            }
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                backward(ir, then_block, useful);
                backward(ir, else_block, useful);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => backward(ir, body, useful),
            StmtKind::Push { base, value } => {
                if useful.contains(base) {
                    if let Some(v) = value.var() {
                        useful.insert(v);
                    }
                }
            }
            StmtKind::Declare { .. } | StmtKind::Opaque { .. } => {}
        }
    }
}

/// Calls `f(result, receiver, closure index)` for every element-wise `map` in the block.
fn for_each_map(block: &Block, f: &mut dyn FnMut(VarId, &Operand, usize)) {
    for stmt in block {
        match &stmt.kind {
            StmtKind::Let {
                var,
                value:
                    Value::Method {
                        receiver,
                        kind: MethodKind::Map(index),
                        ..
                    },
                ..
            }
            | StmtKind::Assign {
                var,
                value:
                    Value::Method {
                        receiver,
                        kind: MethodKind::Map(index),
                        ..
                    },
            } => f(*var, receiver, *index),
            StmtKind::If {
                then_block,
                else_block,
                ..
            } => {
                for_each_map(then_block, f);
                for_each_map(else_block, f);
            }
            StmtKind::For { body, .. } | StmtKind::Loop { body, .. } => for_each_map(body, f),
            _ => {}
        }
    }
}

/// The `map` closures of `body` whose elements carry gradient: those of a receiver that varies.
pub fn closures_of_varied_elements(body: &Body, activity: &Activity) -> HashSet<usize> {
    let mut varied = HashSet::new();
    for_each_map(&body.block, &mut |_, receiver, index| {
        if receiver.var().is_some_and(|v| activity.varied.contains(&v)) {
            varied.insert(index);
        }
    });
    varied
}
