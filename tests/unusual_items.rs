//! Code that compiles without `#[differentiable]` compiles with it, and its gradient is right:
//! configured statements, raw identifiers, `impl Trait` and pattern parameters (of data and
//! carrying gradient), type aliases of
//! parameter types, self-assignment. Every gradient against central finite differences.

mod common;

use common::{check_fd, diff, FD_TOL};
use nabla::differentiable;
use nalgebra::{DVector, SVector};

#[differentiable]
fn configured(x: f64) -> f64 {
    let y = x * 2.0;
    #[cfg(any())]
    let y = 1.0;
    #[cfg(test)]
    let y = y + x * x;
    y * x
}

#[differentiable]
fn configured_arm(x: f64, #[no_grad] mode: u8) -> f64 {
    match mode {
        #[cfg(any())]
        0 => x,
        0 => x * x * x,
        _ => x.sin(),
    }
}

#[test]
fn cfg_keeps_and_drops_what_rustc_does() {
    // y = 2x + x², result y·x = 2x² + x³.
    let (value, g) = configured_grad(1.5);
    assert_eq!(value, 2.0 * 1.5 * 1.5 + 1.5 * 1.5 * 1.5);
    common::assert_close(
        g,
        4.0 * 1.5 + 3.0 * 1.5 * 1.5,
        common::EXACT_TOL,
        "configured",
    );
    let (value, g) = configured_arm_grad(0.7, 0);
    assert_eq!(value, configured_arm(0.7, 0));
    common::assert_close(g, 3.0 * 0.49, common::EXACT_TOL, "configured arm");
}

#[differentiable]
fn raw(r#in: f64, r#type: f64) -> f64 {
    let r#let = r#in * r#type;
    r#let.sin() + r#in
}

#[test]
fn raw_identifiers() {
    let x = [0.4, 1.1];
    let (_, (a, b)) = raw_grad(x[0], x[1]);
    check_fd(|[a, b]| raw(a, b), x, [a, b], "raw identifiers");
}

#[differentiable]
fn unusual_parameters(x: f64, _key: impl Copy, (n, m): (usize, usize), [p, q]: [u8; 2]) -> f64 {
    x * x * (n + m) as f64 + x * (p as f64 - q as f64)
}

#[test]
fn impl_trait_and_pattern_parameters() {
    let (value, g) = unusual_parameters_grad(0.5, 'k', (2, 3), [4, 1]);
    assert_eq!(value, unusual_parameters(0.5, 'k', (2, 3), [4, 1]));
    check_fd(
        |[x]| unusual_parameters(x, 'k', (2, 3), [4, 1]),
        [0.5],
        [g],
        "pattern parameters",
    );
}

/// A point that carries gradient, destructured where it is taken.
#[derive(Clone, Copy, Debug, PartialEq, nabla::Parameters)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, nabla::Parameters)]
pub struct Pair(pub f64, pub f64);

/// Parameters that carry gradient written as patterns: a tuple, an array, a struct (with a
/// field renamed and one shorthand) and a tuple struct. Each gradient is of the parameter's
/// own type.
#[differentiable]
fn destructured(
    (a, b): (f64, f64),
    [p, q]: [f64; 2],
    Point { x, y: height }: Point,
    Pair(u, _): Pair,
) -> f64 {
    a * b + p.sin() * q + x * height * height + u.exp()
}

#[test]
fn pattern_parameters_that_carry_gradient() {
    let (ab, pq, pt, pair) = (
        (0.5, -1.2),
        [0.3, 2.0],
        Point { x: 1.5, y: -0.4 },
        Pair(0.2, 9.0),
    );
    let (value, (dab, dpq, dpt, dpair)) = destructured_grad(ab, pq, pt, pair);
    assert_eq!(value, destructured(ab, pq, pt, pair));
    assert_eq!(dab, (-1.2, 0.5));
    assert_eq!(dpq, [0.3f64.cos() * 2.0, 0.3f64.sin()]);
    assert_eq!(
        dpt,
        Point {
            x: -0.4 * -0.4,
            y: 2.0 * 1.5 * -0.4
        }
    );
    assert_eq!(dpair, Pair(0.2f64.exp(), 0.0));
    let f = |[a, b, p, q, x, y, u]: [f64; 7]| {
        destructured((a, b), [p, q], Point { x, y }, Pair(u, 9.0))
    };
    let got = [dab.0, dab.1, dpq[0], dpq[1], dpt.x, dpt.y, dpair.0];
    check_fd(
        f,
        [0.5, -1.2, 0.3, 2.0, 1.5, -0.4, 0.2],
        got,
        "pattern parameters",
    );
}

/// Variables declared first and given their value later, then changed: the first assignment
/// is the value a `let` would give.
#[differentiable]
#[allow(clippy::needless_late_init)] // written as users write it
fn declared_then_assigned(x: f64, y: f64) -> f64 {
    let mut z;
    z = x + 1.0;
    z = z * z * y;
    let w: f64;
    w = z.sin();
    let mut total;
    total = w;
    total += z;
    total
}

#[test]
fn declarations_given_their_value_later() {
    let (x, y) = (0.4, -1.3);
    let (value, (dx, dy)) = declared_then_assigned_grad(x, y);
    let z = (x + 1.0) * (x + 1.0) * y;
    assert_eq!(value, z.sin() + z);
    let dz = z.cos() + 1.0;
    assert!((dx - dz * 2.0 * (x + 1.0) * y).abs() < 1e-12);
    assert!((dy - dz * (x + 1.0) * (x + 1.0)).abs() < 1e-12);
    check_fd(
        |[x, y]| declared_then_assigned(x, y),
        [x, y],
        [dx, dy],
        "declared",
    );
}

/// A variable declared first, given its value in both branches of an `if`, then changed:
/// neither branch overwrites anything, the later assignments do.
#[differentiable]
#[allow(clippy::assign_op_pattern)] // written as users write it
fn declared_in_branches(x: f64, y: f64) -> f64 {
    let mut z;
    if x > 0.5 {
        z = x;
    } else {
        z = 2.0 * x * y;
    }
    for _ in 0..2 {
        z = z * y;
    }
    z = z.sin() + x;
    z
}

#[test]
fn declarations_given_their_value_in_branches() {
    for (x, y) in [(0.7, 1.1), (0.3, -0.8)] {
        let (value, (dx, dy)) = declared_in_branches_grad(x, y);
        let (z, dz_dx, dz_dy) = if x > 0.5 {
            (x * y * y, y * y, 2.0 * x * y)
        } else {
            (2.0 * x * y * y * y, 2.0 * y * y * y, 6.0 * x * y * y)
        };
        assert_eq!(value, z.sin() + x);
        assert!((dx - (z.cos() * dz_dx + 1.0)).abs() < 1e-12);
        assert!((dy - z.cos() * dz_dy).abs() < 1e-12);
        check_fd(
            |[x, y]| declared_in_branches(x, y),
            [x, y],
            [dx, dy],
            "declared in branches",
        );
    }
}

type Weights = SVector<f64, 3>;
type Real = f64;

/// The parameter types are aliases: they carry gradient all the same.
#[differentiable]
fn aliased(w: &Weights, b: Real, #[no_grad] x: &SVector<f64, 3>) -> f64 {
    let y = w.dot(x) + b;
    y * y
}

#[test]
fn aliases_of_parameter_types_carry_gradient() {
    let w = Weights::new(1.0, -2.0, 0.5);
    let x = SVector::<f64, 3>::new(0.5, -1.0, 2.0);
    let (_, (dw, db)) = aliased_grad(&w, 0.25, &x);
    let y = w.dot(&x) + 0.25;
    for i in 0..3 {
        common::assert_close(dw[i], 2.0 * y * x[i], common::EXACT_TOL, "dw");
    }
    let fd = diff(|b| aliased(&w, b, &x), 0.25);
    common::assert_close(db, fd, FD_TOL, "db");
}

/// The result type is an alias of `f64`: `NAME_grad` exists all the same.
#[differentiable]
fn aliased_result(x: Real, y: Real) -> Real {
    x * y + x.sin()
}

#[test]
fn an_aliased_float_result_has_a_gradient_function() {
    let (value, (dx, dy)) = aliased_result_grad(0.5, 2.0);
    assert_eq!(value, aliased_result(0.5, 2.0));
    common::assert_close(dx, 2.0 + 0.5f64.cos(), common::EXACT_TOL, "dx");
    common::assert_close(dy, 0.5, common::EXACT_TOL, "dy");
    common::assert_close(dx, diff(|x| aliased_result(x, 2.0), 0.5), FD_TOL, "fd dx");
    let (vjp_value, (vx, _)) = aliased_result_vjp(0.5, 2.0, 3.0);
    assert_eq!(vjp_value, value);
    common::assert_close(vx, 3.0 * dx, common::EXACT_TOL, "vjp dx");
}

// `t = t` is the point of the test; rustc reports it under `dead_code`.
#[differentiable]
#[allow(dead_code, clippy::self_assignment)]
fn self_assignment(c: f64, e: f64) -> f64 {
    let mut t = c * e;
    if c > 0.3 {
        t = t;
    } else {
        t += e;
    }
    t
}

#[test]
fn a_variable_assigned_to_itself() {
    for x in [[0.5, 2.0], [0.1, -1.5]] {
        let (_, (dc, de)) = self_assignment_grad(x[0], x[1]);
        check_fd(|[c, e]| self_assignment(c, e), x, [dc, de], "t = t");
    }
}

/// Statement macros whose format strings read the function's variables by name (`"{y}"`,
/// `"{s:w$}"`), beside named arguments that reuse a variable's name (`y = 1.0`).
#[differentiable]
fn logged(x: f64, w: [f64; 2]) -> f64 {
    let y = x * x;
    let mut s = 0.0;
    for (i, v) in w.iter().enumerate() {
        s += v * y;
        debug_assert!(s.is_finite(), "step {i}: {v} gave {s:.3}");
    }
    let width = 8;
    println!("y = {y}, x = {x}, s = {s:>width$.2}",);
    assert!(y >= 0.0, "{y} is a square");
    assert_eq!(w.len(), 2, "{} {y:?}", s);
    println!("{y}", y = 1.0);
    y * s
}

#[test]
fn format_strings_read_variables_by_name() {
    for p in [[0.5, 2.0, -1.0], [-1.5, 0.3, 0.7]] {
        let (value, (dx, dw)) = logged_grad(p[0], [p[1], p[2]]);
        let y = p[0] * p[0];
        assert!((value - y * y * (p[1] + p[2])).abs() < 1e-12);
        check_fd(
            |[x, a, b]| logged(x, [a, b]),
            p,
            [dx, dw[0], dw[1]],
            "logged",
        );
    }
}

/// Strings made with `format!` from values that carry gradient, inside a loop the reverse sweep
/// reruns and in a closure, beside the macros of literals: data, which changes no gradient.
#[differentiable]
fn labelled(w: &[f64], #[no_grad] names: &[&str]) -> f64 {
    let mut log: Vec<String> = Vec::new();
    let mut s = 0.0;
    for k in 0..3 {
        let mut t = 0.0;
        for x in w {
            t += (x * k as f64).sin();
        }
        s += t * t;
        log.push(format!("{k}: {t:.3} {}", s));
    }
    let tags: Vec<String> = names.iter().map(|n| format!("{n}-{}", log.len())).collect();
    let at = format!("{}:{} {}", file!(), line!(), stringify!(s));
    assert!(
        tags.len() == names.len() && !at.is_empty(),
        "{}",
        log.join("; ")
    );
    s
}

#[test]
fn strings_made_from_values_change_no_gradient() {
    for w in [[0.3, 0.7], [-1.2, 0.4]] {
        let (value, dw) = labelled_grad(&w, &["a", "b"]);
        assert_eq!(value, labelled(&w, &["a", "b"]));
        check_fd(
            |[a, b]| labelled(&[a, b], &["a"]),
            w,
            [dw[0], dw[1]],
            "format!",
        );
    }
}

/// A `String` grown by `+=` and `+`, which add to an owned left side only (`&String + &str`
/// does not exist), in a loop the reverse sweep reruns and in straight-line code; and vectors
/// whose `+=`, `*=` and `+` move their left side as written, so that the reverse sweep's copy
/// of an old value is the one it reads.
#[differentiable]
fn grown_strings(w: &[f64], v: &DVector<f64>) -> f64 {
    let mut log = String::new();
    let mut total = 0.0;
    let mut acc = DVector::zeros(v.len());
    for x in w {
        log += &format!("[{x:.2}]");
        log += "|";
        acc += v * *x;
        acc *= 0.5;
        total += x * acc.sum();
    }
    let line = log + "!";
    let mut shifted = v.clone();
    shifted -= &acc;
    shifted *= 3.0;
    let both = shifted + &acc;
    assert!(line.ends_with("|!"));
    total + both.dot(&acc) + both.norm_squared()
}

#[test]
fn strings_grow_by_plus_and_vectors_move_their_left_side() {
    for p in [[0.5, -1.0, 0.25, 2.0, -0.5], [1.5, 0.2, -0.7, 0.3, 1.1]] {
        let (w, v) = (&p[..2], DVector::from_column_slice(&p[2..]));
        let (value, (dw, dv)) = grown_strings_grad(w, &v);
        assert_eq!(value, grown_strings(w, &v));
        let f = |q: [f64; 5]| grown_strings(&q[..2], &DVector::from_column_slice(&q[2..]));
        check_fd(f, p, [dw[0], dw[1], dv[0], dv[1], dv[2]], "String +=");
    }
}

/// Calls through a qualified type path, `<f64>::sin(x)`, as through `f64::sin(x)`.
// The buffer is built by `push` to call `<Vec<f64>>::new()`.
#[differentiable]
#[allow(clippy::vec_init_then_push)]
fn qualified_paths(x: f64) -> f64 {
    let mut v = <Vec<f64>>::new();
    v.push(<f64>::sin(x));
    v.push(<f64>::max(x, 0.5));
    v[0] * v[1]
}

#[test]
fn calls_through_qualified_type_paths() {
    for x in [0.2, 0.7] {
        let (value, dx) = qualified_paths_grad(x);
        assert_eq!(value, qualified_paths(x));
        check_fd(|[x]| qualified_paths(x), [x], [dx], "<f64>::sin");
    }
}

/// Methods called through a qualified path with their receiver first: `<[f64]>::len(w)`,
/// `<Vec<f64> as Clone>::clone(&v)`, `<f64 as nabla::Real>::sin(x)`, and lengths through the
/// type's path, `Vec::len(&v)`.
#[differentiable]
fn qualified_methods(w: &[f64], x: f64) -> f64 {
    let n = <[f64]>::len(w) as f64;
    let v = w.to_vec();
    let copy = <Vec<f64> as Clone>::clone(&v);
    let m = (Vec::len(&v) + <Vec<f64>>::len(&copy)) as f64;
    copy[0] * v[1] * n * m + <f64 as nabla::Real>::sin(x) * <f64>::powi(w[1], 3)
}

#[test]
fn methods_called_through_qualified_paths() {
    for p in [[0.5, -1.5, 0.3], [2.0, 0.25, -1.0]] {
        let (value, (dw, dx)) = qualified_methods_grad(&p[..2], p[2]);
        assert_eq!(value, qualified_methods(&p[..2], p[2]));
        check_fd(
            |[a, b, x]| qualified_methods(&[a, b], x),
            p,
            [dw[0], dw[1], dx],
            "qualified methods",
        );
    }
}

/// nalgebra methods called through the type's path: `DVector::dot(a, b)`,
/// `<DVector<f64>>::norm(a)`, `Vector3::norm_squared(&b)`, `DVector::len(a)`.
#[differentiable]
fn nalgebra_paths(a: &nalgebra::DVector<f64>, b: nalgebra::Vector3<f64>) -> f64 {
    let n = nalgebra::DVector::len(a) as f64;
    let c = nalgebra::Vector3::new(a[0], a[1], a[2]);
    nalgebra::DVector::dot(a, a) * n
        + <nalgebra::DVector<f64>>::norm(a)
        + nalgebra::Vector3::dot(&c, &b) * nalgebra::Vector3::norm_squared(&b)
}

#[test]
fn nalgebra_methods_called_through_type_paths() {
    let p = [0.5, -1.5, 2.0, 0.3, 1.2, -0.7];
    let split = |p: [f64; 6]| {
        (
            nalgebra::DVector::from_column_slice(&p[..3]),
            nalgebra::Vector3::new(p[3], p[4], p[5]),
        )
    };
    let (a, b) = split(p);
    let (value, (ga, gb)) = nalgebra_paths_grad(&a, b);
    assert_eq!(value, nalgebra_paths(&a, b));
    let got = [ga[0], ga[1], ga[2], gb[0], gb[1], gb[2]];
    check_fd(
        |p| {
            let (a, b) = split(p);
            nalgebra_paths(&a, b)
        },
        p,
        got,
        "nalgebra paths",
    );
}

/// A `const` item in the body, an array destructured by `let`, and a loop over `into_iter()`.
#[differentiable]
fn with_a_const(w: [f64; 3]) -> f64 {
    const SCALE: f64 = 2.5;
    let [a, b, c] = w;
    let mut s = a * b * SCALE;
    let v = w.to_vec();
    for x in v.into_iter() {
        s += x * x * c;
    }
    let [first, _, last]: [f64; 3] = w;
    s + (first * last).sin()
}

#[test]
fn consts_array_patterns_and_into_iter() {
    let x = [0.4, -1.2, 0.9];
    let (value, g) = with_a_const_grad(x);
    assert_eq!(value, with_a_const(x));
    check_fd(with_a_const, x, g, "const, array pattern, into_iter");
}
