//! The pretty-printer: IR values and operands rendered back to the text the user wrote.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;

use super::flow::Flow;
use crate::ir::{Decision, Kept, Operand, UnOp, Value, VarId};

impl Flow<'_> {
    pub(super) fn render_operand(&self, op: &Operand, depth: usize) -> String {
        match op {
            // `-1.0` as written, not `- 1.0` as a binary minus is spaced.
            Operand::Const(c) => tokens_text(c).replacen("- ", "-", usize::from(is_negated(c))),
            Operand::Ref(v, ..) => format!("&{}", self.render_var(*v, depth)),
            Operand::Var(v) => self.render_var(*v, depth),
        }
    }

    fn render_var(&self, v: VarId, depth: usize) -> String {
        let var = self.body.var(v);
        if let Some(name) = var.user_name.as_ref().or(var.written.as_ref()) {
            return name.clone();
        }
        match self.def_value(v) {
            Some(value) if depth > 0 => {
                let text = self.render_value(value, depth - 1);
                if needs_parens(value) {
                    format!("({text})")
                } else {
                    text
                }
            }
            _ => "..".to_string(),
        }
    }

    /// The user's expression, re-rendered from the IR (temporaries inlined).
    pub(super) fn render_value(&self, value: &Value, depth: usize) -> String {
        let r = |op: &Operand| self.render_operand(op, depth);
        let list = |ops: &[Operand]| ops.iter().map(r).collect::<Vec<_>>().join(", ");
        match value {
            Value::Use(op) => r(op),
            Value::Binary { op, lhs, rhs } => {
                format!(
                    "{} {} {}",
                    r(lhs),
                    tokens_text(&op.to_token_stream()),
                    r(rhs)
                )
            }
            Value::Unary { op, arg } => {
                let sign = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                    UnOp::Deref => "*",
                };
                format!("{sign}{}", r(arg))
            }
            // `<f64 as Squash>::tanh(x)`: written through a qualified path, it reads as written,
            // since `x.tanh()` may be another method.
            Value::Method {
                receiver,
                method,
                args,
                qualified: Some(path),
                ..
            } if path.to_string().starts_with('<') => {
                let operands = std::iter::once(receiver).chain(args);
                let operands = operands.map(r).collect::<Vec<_>>().join(", ");
                let path = tokens_text(path);
                let inside = path.trim_start_matches('<').trim_end_matches('>').trim();
                format!("<{inside}>::{method}({operands})")
            }
            Value::Method {
                receiver,
                method,
                args,
                kind,
                ..
            } => {
                // `(-x).sin()`, not `-x.sin()`.
                let recv = match receiver.var().and_then(|v| self.def_value(v)) {
                    Some(Value::Unary { .. })
                        if self
                            .body
                            .var(receiver.var().unwrap_or(VarId(0)))
                            .user_name
                            .is_none() =>
                    {
                        format!("({})", r(receiver))
                    }
                    _ => r(receiver),
                };
                // A `map`'s closure is lowered apart from its arguments, and a closure nabla
                // does not differentiate is a placeholder `()`: both read as `|..| ..`.
                let args = if matches!(kind, crate::ir::MethodKind::Map(_)) {
                    "|..| ..".to_string()
                } else {
                    args.iter()
                        .map(|a| match a {
                            Operand::Const(c) if c.to_string() == "()" => "|..| ..".to_string(),
                            other => r(other),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("{recv}.{method}({args})")
            }
            Value::Call { func, args } | Value::Construct { func, args } => {
                format!("{}({})", tokens_text(&func.to_token_stream()), list(args))
            }
            Value::Cast { arg, ty } => {
                format!("{} as {}", r(arg), tokens_text(&ty.to_token_stream()))
            }
            Value::Index { base, index } => format!("{}[{}]", r(base), r(index)),
            Value::Part { base, range } => format!("{}[{}]", r(base), r(range)),
            Value::Field { base, member } => {
                format!("{}.{}", r(base), tokens_text(&member.to_token_stream()))
            }
            Value::Tuple(items) => format!("({})", list(items)),
            Value::Array(items) => format!("[{}]", list(items)),
            Value::Struct { path, fields } => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(m, op)| format!("{}: {}", tokens_text(&m.to_token_stream()), r(op)))
                    .collect();
                format!(
                    "{} {{ {} }}",
                    tokens_text(&path.to_token_stream()),
                    fields.join(", ")
                )
            }
            Value::Opaque {
                tokens,
                kept: Kept::StopGradient,
                ..
            } => {
                format!("stop_gradient{}", tokens_text(&self.user_names(tokens)))
            }
            // `(w.iter().any(|&v| v > t))`: the call without the lowering's parentheses, its
            // closure as `|..| ..`; `w.iter().filter(|..| ..).count()` likewise.
            Value::Opaque {
                tokens,
                kept: Kept::ClosureTest(decision),
                ..
            } => {
                let mut trees: Vec<TokenTree> = match tokens.clone().into_iter().next() {
                    Some(TokenTree::Group(g)) => g.stream().into_iter().collect(),
                    _ => tokens.clone().into_iter().collect(),
                };
                let count = *decision == Decision::Count;
                if count {
                    trees.truncate(trees.len().saturating_sub(3)); // `.count()`
                }
                trees.pop(); // the arguments: the closure alone
                let call: TokenStream = trees.into_iter().collect();
                let tail = if count { ".count()" } else { "" };
                format!("{}(|..| ..){tail}", tokens_text(&self.user_names(&call)))
            }
            Value::Opaque { tokens, .. } => tokens_text(&self.user_names(tokens)),
        }
    }

    /// Kept user tokens with the user's names again: the lowering renamed each variable to its
    /// generated binding, and read a field-bound local through (`(*__t1)` for `n`).
    pub(super) fn user_names(&self, tokens: &TokenStream) -> TokenStream {
        let name_of = |ident: &proc_macro2::Ident| {
            let text = ident.to_string();
            self.body
                .vars
                .iter()
                .find(|v| v.ident == text)
                .and_then(|v| v.user_name.as_deref())
                .map(|name| proc_macro2::Ident::new(name, ident.span()))
        };
        tokens
            .clone()
            .into_iter()
            .map(|tree| match tree {
                TokenTree::Ident(ident) => TokenTree::Ident(name_of(&ident).unwrap_or(ident)),
                TokenTree::Group(g) => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    // `(*__t1)`, the lowering's read of a field-bound local, is the local.
                    if let [TokenTree::Punct(star), TokenTree::Ident(ident)] = inner.as_slice() {
                        if g.delimiter() == Delimiter::Parenthesis && star.as_char() == '*' {
                            if let Some(name) = name_of(ident) {
                                return TokenTree::Ident(name);
                            }
                        }
                    }
                    let mut group =
                        proc_macro2::Group::new(g.delimiter(), self.user_names(&g.stream()));
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                other => other,
            })
            .collect()
    }

    /// Like [`Flow::render_operand`], without parentheses around the whole.
    pub(super) fn render_plain(&self, op: &Operand, depth: usize) -> String {
        match op {
            Operand::Var(v) if self.body.var(*v).user_name.is_none() => match self.def_value(*v) {
                Some(value) => self.render_value(value, depth),
                None => self.render_operand(op, depth),
            },
            other => self.render_operand(other, depth),
        }
    }
}

/// `-2.0`: a minus before a literal.
fn is_negated(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    matches!(trees.as_slice(), [TokenTree::Punct(p), TokenTree::Literal(_)] if p.as_char() == '-')
}

fn needs_parens(value: &Value) -> bool {
    matches!(value, Value::Binary { .. } | Value::Cast { .. })
}

/// Tokens as a user would write them: `f64::consts::PI`, not `f64 :: consts :: PI`;
/// `sum::<f64>()` and `|a, v| a + v` tight, as rustfmt writes them.
pub(crate) fn tokens_text(tokens: &TokenStream) -> String {
    let mut out = String::new();
    let mut space = false;
    // Open turbofish brackets (`::<`), and whether a closure's parameters are being written.
    let mut turbofish = 0usize;
    let mut closure_params = false;
    for tree in tokens.clone() {
        if let TokenTree::Punct(p) = &tree {
            let c = p.as_char();
            if c == '<' && out.ends_with("::") {
                out.push('<');
                turbofish += 1;
                space = false;
                continue;
            }
            if c == '>' && turbofish > 0 {
                out.truncate(out.trim_end().len());
                out.push('>');
                turbofish -= 1;
                space = true;
                continue;
            }
            let opens_expression = out.is_empty()
                || out.ends_with(['(', '[', ','])
                || out.ends_with(", ")
                || out.ends_with("= ");
            if c == '|' && p.spacing() == proc_macro2::Spacing::Alone {
                if closure_params {
                    out.truncate(out.trim_end().len());
                    out.push_str("| ");
                    closure_params = false;
                    space = false;
                    continue;
                }
                if opens_expression {
                    if out.ends_with(',') {
                        out.push(' ');
                    }
                    out.push('|');
                    closure_params = true;
                    space = false;
                    continue;
                }
            }
        }
        match tree {
            TokenTree::Ident(i) => {
                if space {
                    out.push(' ');
                }
                out.push_str(&i.to_string());
                space = true;
            }
            TokenTree::Literal(l) => {
                if space {
                    out.push(' ');
                }
                out.push_str(&l.to_string());
                space = true;
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                match c {
                    ':' | '.' | '&' | '!' | '#' => {
                        if c == '&' && space && !out.ends_with(' ') {
                            out.push(' ');
                        }
                        out.push(c);
                        space = false;
                    }
                    ',' | ';' => {
                        out.push(c);
                        space = true;
                    }
                    _ => {
                        if !out.is_empty() && !out.ends_with(' ') && !out.ends_with(c) {
                            out.push(' ');
                        }
                        out.push(c);
                        space = p.spacing() == proc_macro2::Spacing::Alone;
                        if space {
                            out.push(' ');
                            space = false;
                        }
                    }
                }
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                if space && g.delimiter() == Delimiter::Brace {
                    out.push(' ');
                }
                out.push_str(open);
                out.push_str(&tokens_text(&g.stream()));
                out.push_str(close);
                space = true;
            }
        }
    }
    out.trim().to_string()
}
