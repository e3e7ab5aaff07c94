//! Rust source text of the syntax tree, parenthesized by precedence so that it reads like code
//! a person would write (and so that what rustc parses is the tree that `bounds` analysed).

use crate::ast::*;
use std::fmt::Write;

/// Binding strength of what an expression prints as, loosest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    If,
    Sum,
    Product,
    Prefix,
    Postfix,
}

pub fn lit(v: f64) -> String {
    // `{:?}` always prints a decimal point, so the literal is a float.
    format!("{v:?}")
}

pub fn len(l: &Len) -> String {
    match &l.kind {
        LenKind::Lit => l.value.to_string(),
        LenKind::Of(name) => format!("{name}.len()"),
        LenKind::Param(name) => name.clone(),
    }
}

pub fn index(i: &Index) -> String {
    match i {
        Index::Lit(k) => k.to_string(),
        Index::Var(v) => v.clone(),
        Index::Prev(v) => format!("{v} - 1"),
        Index::Rev(v, l) => format!("{} - 1 - {v}", len(l)),
        Index::Wrap(v, k, l) => format!("({v} + {k}) % {}", len(l)),
    }
}

pub fn expr(e: &Expr) -> String {
    text(e).0
}

fn text(e: &Expr) -> (String, Prec) {
    match e {
        Expr::Lit(v) if *v < 0.0 => (lit(*v), Prec::Prefix),
        Expr::Lit(v) => (lit(*v), Prec::Postfix),
        Expr::Var(name) => (name.clone(), Prec::Postfix),
        Expr::AsF64(name) => (format!("({name} as f64)"), Prec::Postfix),
        Expr::Elem(name, i) => (format!("{name}[{}]", index(i)), Prec::Postfix),
        // The operand of `-` is always atomic: `-(-x)` and `-(a * b)`, never `--x`.
        Expr::Neg(a) => (format!("-{}", operand(a, Prec::Postfix)), Prec::Prefix),
        Expr::Bin(op, a, b) => {
            let (sym, prec) = match op {
                BinOp::Add => ("+", Prec::Sum),
                BinOp::Sub => ("-", Prec::Sum),
                BinOp::Mul => ("*", Prec::Product),
            };
            let right = if prec == Prec::Sum {
                Prec::Product
            } else {
                Prec::Postfix
            };
            (
                format!("{} {sym} {}", operand(a, prec), operand(b, right)),
                prec,
            )
        }
        Expr::Div(a, b) => (
            format!(
                "{} / {}",
                operand(a, Prec::Product),
                operand(b, Prec::Postfix)
            ),
            Prec::Product,
        ),
        Expr::Unary(m, a) => {
            let recv = operand(a, Prec::Postfix);
            let call = match m {
                Method1::Powi(k) => format!("powi({k})"),
                _ => format!("{}()", method1_name(*m)),
            };
            (format!("{recv}.{call}"), Prec::Postfix)
        }
        Expr::Binary(m, a, b) => (
            format!(
                "{}.{}({})",
                operand(a, Prec::Postfix),
                method2_name(*m),
                expr(b)
            ),
            Prec::Postfix,
        ),
        Expr::MulAdd(x, a, b) => (
            format!(
                "{}.mul_add({}, {})",
                operand(x, Prec::Postfix),
                expr(a),
                expr(b)
            ),
            Prec::Postfix,
        ),
        Expr::Call(name, args) => {
            let args: Vec<String> = args.iter().map(arg).collect();
            (format!("{name}({})", args.join(", ")), Prec::Postfix)
        }
        Expr::If(c, a, b) => (
            format!("if {} {{ {} }} else {{ {} }}", cond(c), expr(a), expr(b)),
            Prec::If,
        ),
        Expr::Sum(over, map) => {
            let map = match map {
                None => String::new(),
                Some(Map::Square) => ".map(|v| v * v)".to_string(),
                Some(Map::Sin) => ".map(|v| v.sin())".to_string(),
                Some(Map::Abs) => ".map(|v| v.abs())".to_string(),
                Some(Map::HalfTanh) => ".map(|v| (0.5 * v).tanh())".to_string(),
            };
            (format!("{over}.iter(){map}.sum::<f64>()"), Prec::Postfix)
        }
    }
}

/// `e` as an operand that must bind at least as tightly as `min`. A prefix `-` is always
/// parenthesized as an operand (`a - (-b)`, `(-a) * b`), which reads more plainly.
fn operand(e: &Expr, min: Prec) -> String {
    let (s, prec) = text(e);
    if prec < min || prec == Prec::Prefix {
        format!("({s})")
    } else {
        s
    }
}

fn arg(a: &Arg) -> String {
    match a {
        Arg::Value(e) => expr(e),
        Arg::Whole(name) => name.clone(),
        Arg::Borrow(name) => format!("&{name}"),
        Arg::Count(l) => len(l),
    }
}

pub fn cond(c: &Cond) -> String {
    match c {
        Cond::Cmp(op, a, b) => {
            let sym = match op {
                CmpOp::Lt => "<",
                CmpOp::Gt => ">",
                CmpOp::Le => "<=",
                CmpOp::Ge => ">=",
            };
            format!("{} {sym} {}", operand(a, Prec::Sum), operand(b, Prec::Sum))
        }
        Cond::Even(v) => format!("{v} % 2 == 0"),
        Cond::Below(v, k) => format!("{v} < {k}"),
    }
}

fn method1_name(m: Method1) -> &'static str {
    match m {
        Method1::Sin => "sin",
        Method1::Cos => "cos",
        Method1::Tanh => "tanh",
        Method1::Atan => "atan",
        Method1::Asinh => "asinh",
        Method1::Exp => "exp",
        Method1::ExpM1 => "exp_m1",
        Method1::Sinh => "sinh",
        Method1::Cosh => "cosh",
        Method1::Ln => "ln",
        Method1::Ln1p => "ln_1p",
        Method1::Sqrt => "sqrt",
        Method1::Abs => "abs",
        Method1::Recip => "recip",
        Method1::Powi(_) => "powi",
    }
}

fn method2_name(m: Method2) -> &'static str {
    match m {
        Method2::Max => "max",
        Method2::Min => "min",
        Method2::Hypot => "hypot",
        Method2::Powf => "powf",
        Method2::Atan2 => "atan2",
    }
}

pub fn block(stmts: &[Stmt], depth: usize, out: &mut String) {
    for s in stmts {
        stmt(s, depth, out);
    }
}

fn stmt(s: &Stmt, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    match s {
        Stmt::Let {
            name,
            mutable,
            typed,
            value,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let t = if *typed { ": f64" } else { "" };
            let _ = writeln!(out, "{pad}let {m}{name}{t} = {};", expr(value));
        }
        Stmt::Assign { place, op, value } => {
            let target = match place {
                Place::Var(name) => name.clone(),
                Place::Elem(name, i) => format!("{name}[{}]", index(i)),
            };
            let sym = match op {
                AssignOp::Set => "=",
                AssignOp::Add => "+=",
                AssignOp::Sub => "-=",
                AssignOp::Mul => "*=",
                AssignOp::Div => "/=",
            };
            let _ = writeln!(out, "{pad}{target} {sym} {};", expr(value));
        }
        Stmt::Buffer {
            name,
            len: l,
            typed,
            pushed,
        } => {
            let t = if *typed { ": Vec<f64>" } else { "" };
            let init = if *pushed {
                format!("Vec::with_capacity({})", len(l))
            } else {
                format!("vec![0.0; {}]", len(l))
            };
            let _ = writeln!(out, "{pad}let mut {name}{t} = {init};");
        }
        Stmt::Push { name, value } => {
            let _ = writeln!(out, "{pad}{name}.push({});", expr(value));
        }
        Stmt::LetPair { names, values } => {
            let _ = writeln!(
                out,
                "{pad}let ({}, {}) = ({}, {});",
                names[0],
                names[1],
                expr(&values[0]),
                expr(&values[1])
            );
        }
        Stmt::While {
            var,
            end,
            as_loop,
            body,
        } => {
            let _ = writeln!(out, "{pad}let mut {var} = 0;");
            if *as_loop {
                let _ = writeln!(out, "{pad}loop {{");
                let _ = writeln!(out, "{pad}    if {var} == {} {{", len(end));
                let _ = writeln!(out, "{pad}        break;");
                let _ = writeln!(out, "{pad}    }}");
            } else {
                let _ = writeln!(out, "{pad}while {var} < {} {{", len(end));
            }
            block(body, depth + 1, out);
            let _ = writeln!(out, "{pad}    {var} += 1;");
            let _ = writeln!(out, "{pad}}}");
        }
        Stmt::Break => {
            let _ = writeln!(out, "{pad}break;");
        }
        Stmt::Continue => {
            let _ = writeln!(out, "{pad}continue;");
        }
        Stmt::Return(e) => {
            let _ = writeln!(out, "{pad}return {};", expr(e));
        }
        Stmt::If { cond: c, then, els } => {
            let _ = writeln!(out, "{pad}if {} {{", cond(c));
            block(then, depth + 1, out);
            if els.is_empty() {
                let _ = writeln!(out, "{pad}}}");
            } else {
                let _ = writeln!(out, "{pad}}} else {{");
                block(els, depth + 1, out);
                let _ = writeln!(out, "{pad}}}");
            }
        }
        Stmt::For {
            var,
            start,
            end,
            order,
            body,
        } => {
            let range = format!("{start}..{}", len(end));
            let iter = match order {
                Order::Forward => range,
                Order::Rev => format!("({range}).rev()"),
                Order::StepBy(k) => format!("({range}).step_by({k})"),
            };
            let _ = writeln!(out, "{pad}for {var} in {iter} {{");
            block(body, depth + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
        Stmt::ForEach {
            elem,
            index,
            over,
            body,
        } => {
            let head = match index {
                None => format!("for &{elem} in {over}.iter()"),
                Some(i) => format!("for ({i}, &{elem}) in {over}.iter().enumerate()"),
            };
            let _ = writeln!(out, "{pad}{head} {{");
            block(body, depth + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

pub fn signature(p: &Program) -> String {
    let params: Vec<String> = p
        .params
        .iter()
        .map(|q| match &q.ty {
            ParamTy::Scalar => format!("{}: f64", q.name),
            ParamTy::Array3 => format!("{}: [f64; 3]", q.name),
            ParamTy::Slice(_) => format!("{}: &[f64]", q.name),
            ParamTy::NoGradF64(_) => format!("#[no_grad] {}: f64", q.name),
            ParamTy::NoGradUsize(_) => format!("#[no_grad] {}: usize", q.name),
        })
        .collect();
    format!("fn {}({}) -> f64", p.name, params.join(", "))
}

pub fn program(p: &Program, out: &mut String) {
    let _ = writeln!(out, "#[differentiable]\n{} {{", signature(p));
    block(&p.body, 1, out);
    let _ = writeln!(out, "    {}\n}}", expr(&p.result));
}
