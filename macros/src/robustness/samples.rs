//! The inputs of the robustness tests: functions the macro supports, valid Rust it rejects,
//! items that are not functions, attribute arguments, and generators of very deep expressions.

/// Functions of the kind `#[differentiable]` is written for. They reach every stage of the
/// pipeline, so their prefixes and mutations exercise every stage on broken input.
pub const SUPPORTED_FUNCTIONS: &[&str] = &[
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

/// Valid Rust, but unusual for a differentiable function: each exercises a corner of the
/// grammar that the stages must either handle or reject with an error.
pub const UNUSUAL_ITEMS: &[&str] = &[
    // Generics, lifetimes, const generics, `where` clauses.
    r#"fn f<'a, T: Copy, const N: usize>(x: &'a [f64; N], _t: T) -> f64 { x[0] * x[N - 1] }"#,
    r#"fn f<T>(x: f64, _t: T) -> f64 where T: Clone + Default, f64: From<f32> { x * x }"#,
    // Qualifiers and ABIs.
    r#"async fn f(x: f64) -> f64 { x * 2.0 }"#,
    r#"const fn f(x: f64) -> f64 { x }"#,
    r#"unsafe fn f(x: f64) -> f64 { x.sqrt() }"#,
    r#"extern "C" fn f(x: f64) -> f64 { x + 1.0 }"#,
    r#"pub(crate) unsafe extern "system" fn f(x: f64) -> f64 { x }"#,
    // `impl Trait` in argument and result position.
    r#"fn f(x: f64, _k: impl Copy) -> f64 { x.exp() }"#,
    r#"fn f(x: f64) -> impl Into<f64> { x * 3.0 }"#,
    // Patterns in parameters.
    r#"fn f((a, b): (f64, f64)) -> f64 { a * b }"#,
    r#"fn f([p, q]: [f64; 2]) -> f64 { p - q }"#,
    r#"fn f(Point { x, y }: Point) -> f64 { x * y }"#,
    r#"fn f(Wrapper(w): Wrapper, _: f64, mut m: f64) -> f64 { m += w; m }"#,
    r#"fn f(&x: &f64, ref y: f64) -> f64 { x + *y }"#,
    // Closures, nested and immediately called.
    r#"fn f(x: f64) -> f64 {
        let outer = |a: f64| { let inner = move |b: f64| a * b + x; inner(a) };
        outer(x) + (|| x)()
    }"#,
    // `let`-`else`, labels, `continue 'outer`.
    r#"fn f(xs: &[f64]) -> f64 {
        let Some(first) = xs.first() else { return 0.0; };
        let mut s = *first;
        'outer: for i in 0..xs.len() {
            'inner: loop {
                if i % 2 == 0 { continue 'outer; }
                if s > 10.0 { break 'outer; }
                s += xs[i];
                break 'inner;
            }
        }
        let v = 'block: { if s < 0.0 { break 'block -s; } s };
        v
    }"#,
    // Macros in the body.
    r#"fn f(x: f64) -> f64 {
        println!("{x} {}", x * 2.0);
        assert!(x > 0.0, "x = {}", x);
        let v = vec![x, x * 2.0, 3.0];
        let s = format!("{:?}", v);
        debug_assert_eq!(s.len() > 0, true);
        v[0] + v[1]
    }"#,
    // Raw identifiers.
    r#"fn f(r#in: f64) -> f64 { r#in }"#,
    r#"fn r#match(r#type: f64, r#fn: f64) -> f64 { r#type * r#fn }"#,
    // Attributes on statements and expressions.
    r#"fn f(x: f64) -> f64 {
        #[cfg(any())]
        let x = x * 100.0;
        #[allow(unused)]
        let y = x;
        #[cfg(any())] { panic!() }
        y
    }"#,
    // Methods as free-standing functions: invalid, but typed constantly.
    r#"fn f(self) -> f64 { self.x }"#,
    r#"fn f(&self, x: f64) -> f64 { self.w * x }"#,
    r#"fn f(&mut self, x: f64) -> f64 { self.w += x; self.w }"#,
    r#"fn f(self: Box<Self>, x: f64) -> f64 { x }"#,
    r#"fn f(mut self, x: f64) -> f64 { x }"#,
    r#"fn f(&'a self, x: f64) -> f64 { x }"#,
    // `match` with guards and bindings, `if let`, `while let`.
    r#"fn f(x: f64, o: Option<f64>) -> f64 {
        match o {
            Some(v @ 0.0..=1.0) if v > x => v * x,
            Some(v) | None if x > 0.0 => x,
            Some(ref v) => *v,
            None => 0.0,
        }
    }"#,
    r#"fn f(x: f64, mut xs: Vec<f64>) -> f64 {
        let mut s = x;
        if let Some(last) = xs.last() { s += last; } else if let [a, ..] = xs[..] { s -= a; }
        while let Some(v) = xs.pop() { s *= v; }
        s
    }"#,
    // Struct literals, tuple structs, field access.
    r#"fn f(x: f64) -> f64 {
        let p = Point { x, y: x * 2.0, ..Default::default() };
        let w = Wrapper(p.x);
        let Point { y, .. } = p;
        w.0 + y + p.x
    }"#,
    // Shadowing and `return` in nested blocks.
    r#"fn f(x: f64) -> f64 {
        let x = x * 2.0;
        let x = { let x = x + 1.0; x * x };
        if x > 1.0 { { { return x; } } }
        { let x = -x; return x }
    }"#,
    // Empty statements, empty bodies, no parameters.
    r#"fn f(x: f64) -> f64 { ; ; x }"#,
    r#"fn f(x: f64) -> f64 { { ; x } }"#,
    r#"fn f() -> f64 { 1.0 }"#,
    r#"fn f() {}"#,
    r#"fn f(x: f64) {}"#,
    // Other expression forms: ranges, references, casts, tuples, indexing, `?`, `unsafe`.
    r#"fn f(x: f64, xs: &[f64]) -> f64 {
        let s: f64 = xs[1..].iter().copied().sum::<f64>();
        let t = (x, &s, [x; 2]);
        let u = unsafe { *(&x as *const f64) };
        let r: Result<f64, ()> = Ok(x);
        t.0 + *t.1 + t.2[1] + u + r.unwrap_or(0.0)
    }"#,
    r#"fn f(x: f64) -> Option<f64> { let y = Some(x)?; Some(y * 2.0) }"#,
    // Items nested in the body.
    r#"fn f(x: f64) -> f64 {
        fn helper(y: f64) -> f64 { y * 2.0 }
        const K: f64 = 3.0;
        struct Local(f64);
        impl Local { fn get(&self) -> f64 { self.0 } }
        use std::f64::consts::PI;
        helper(x) * K * PI + Local(x).get()
    }"#,
    // Doc comments, attributes and visibility on the item.
    r#"/// Squares.
    #[inline]
    #[must_use]
    pub fn f(x: f64) -> f64 { x * x }"#,
];

/// Items that are not functions, and input that is not Rust at all.
pub const NOT_FUNCTIONS: &[&str] = &[
    "",
    "struct S;",
    "struct Point { x: f64, y: f64 }",
    "enum E { A, B(f64) }",
    "impl S { fn f(x: f64) -> f64 { x } }",
    "impl Trait for S { fn f(&self) -> f64 { 0.0 } }",
    "trait T { fn f(x: f64) -> f64; }",
    "mod m { fn f(x: f64) -> f64 { x } }",
    "use std::f64;",
    "const K: f64 = 1.0;",
    "static S: f64 = 1.0;",
    "type A = f64;",
    "macro_rules! m { () => {} }",
    "fn",
    "fn f",
    "fn f()",
    "fn f(x: f64) -> f64",
    "fn f(x: f64) -> f64;",
    "fn f(x: f64) -> f64 { x } fn g(x: f64) -> f64 { x }",
    "fn f(x: f64) -> f64 { x } struct S;",
    "x * 2.0",
    "{ x }",
    "1",
    "\"fn f() {}\"",
    "; ; ;",
    "+ - * / % ^ ! & | && || << >> += -= == != < > <= >= => -> :: # $ ? @ ~",
    "# [ ] ( ) { }",
    "'a 'b 'static",
    "r#fn r#struct r#impl",
    "fn fn fn",
    "fn f(...) {}",
    "fn f(x: f64, ...) -> f64 { x }",
];

/// Arguments given to the attributes: `#[differentiable]` takes none, `#[custom_gradient]`
/// takes a path; anything else must be an error, not a panic.
pub const ATTRIBUTE_ARGUMENTS: &[&str] = &[
    "",
    "pullback",
    "crate::grads::pullback",
    "::pullback",
    "pullback,",
    "pullback, other",
    "pullback = f",
    "pullback::<f64>",
    "<S as T>::pullback",
    "1",
    "\"pullback\"",
    "(pullback)",
    "|x| x",
    "::",
    "#",
    "r#fn",
    "fn",
    "self",
    "Self::pullback",
];

/// `( ( ( … x … ) ) )`: one expression nested `depth` times.
pub fn nested_parentheses(depth: usize) -> String {
    format!(
        "fn f(x: f64) -> f64 {{ {}x * 2.0{} }}",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

/// `x + x * 1.0 + x * 2.0 + …`: a left-leaning tree as deep as it has terms.
pub fn long_sum(terms: usize) -> String {
    let sum: Vec<String> = (0..terms).map(|i| format!("x * {i}.0")).collect();
    format!("fn f(x: f64) -> f64 {{ {} }}", sum.join(" + "))
}

/// `x.sin().cos().sin()…`: a receiver nested as deep as the chain is long.
pub fn long_method_chain(calls: usize) -> String {
    let chain: String = (0..calls)
        .map(|i| if i % 2 == 0 { ".sin()" } else { ".cos()" })
        .collect();
    format!("fn f(x: f64) -> f64 {{ x{chain} }}")
}
