//! The macro must never panic: rust-analyzer runs it on every keystroke, on half-typed code.
//! These tests feed it every prefix of a set of functions (with delimiters closed), plus inputs
//! that are not functions at all, and check that it always returns tokens.

use proc_macro2::TokenStream;

use crate::{expand, Mode};

const SAMPLES: &[&str] = &[
    r#"fn f(x: f64, #[no_grad] y: f64, _z: f32) -> f64 {
        let (a, b) = (x * y, x + y);
        let mut s = a.sin() + f64::exp(b) / 2.0;
        s += (x as f32) as f64;
        if s > 0.0 { s } else if x < 1.0 { -s } else { stop_gradient(s.round()) }
    }"#,
    r#"pub fn g(xs: &[f64], w: [f64; 3], #[no_grad] n: usize) -> f64 {
        let mut buf = vec![0.0; n];
        let mut acc = 0.0;
        for (i, x) in xs.iter().enumerate() {
            if i > 2 { continue; }
            buf[i] += x * w[i % 3];
            acc = acc.max(buf[i]);
        }
        while acc > 10.0 { acc *= 0.5; if acc < 1.0 { break; } }
        loop { acc = acc + 1.0; if acc > 0.0 { return acc; } }
    }"#,
    r#"fn h(m: &nalgebra::SMatrix<f64, 3, 3>, v: nalgebra::Vector3<f64>, #[no_grad] mode: u8) -> f64 {
        let t = (m * v).map(|e| e.tanh() * 2.0);
        let s: f64 = v.iter().zip(t.iter()).map(|(a, b)| a * b).sum();
        match mode { 0 => s, 1 | 2 => t.dot(&v), _ => unknown(s) }
    }"#,
    r#"async unsafe fn bad(self, x: &mut f64, (a, b): (f64, f64)) { unsafe { *x } }"#,
    r#"fn r(x: f64) -> i32 { (x > 0.5) as i32 + x.floor() as i32 + f64::from(x > 1.0) as i32 }"#,
];

/// Closes the delimiters a prefix of source left open, so it tokenizes.
fn balanced(prefix: &str) -> String {
    let mut open = Vec::new();
    for c in prefix.chars() {
        match c {
            '(' => open.push(')'),
            '[' => open.push(']'),
            '{' => open.push('}'),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    let mut s = prefix.to_string();
    s.extend(open.into_iter().rev());
    s
}

fn run(source: &str) {
    let Ok(tokens) = source.parse::<TokenStream>() else {
        return;
    };
    for mode in [Mode::Differentiable, Mode::CustomGradient] {
        let attr = match mode {
            Mode::Differentiable => TokenStream::new(),
            Mode::CustomGradient => "pullback".parse().unwrap_or_default(),
        };
        let _ = expand(attr, tokens.clone(), mode);
    }
}

#[test]
fn every_prefix_of_the_samples_expands_without_panicking() {
    for sample in SAMPLES {
        let boundaries: Vec<usize> = sample
            .char_indices()
            .filter(|(_, c)| c.is_whitespace() || "(){}[];,.".contains(*c))
            .map(|(i, _)| i)
            .collect();
        for &cut in &boundaries {
            run(&balanced(&sample[..cut]));
        }
        run(sample);
    }
}

#[test]
fn inputs_that_are_not_functions_expand_without_panicking() {
    for source in [
        "struct S;",
        "",
        "fn",
        "fn f",
        "fn f() {}",
        "fn f(x: f64) {}",
        "fn f(x: f64) -> f64",
        "impl S { fn f(x: f64) -> f64 { x } }",
    ] {
        run(source);
    }
}
