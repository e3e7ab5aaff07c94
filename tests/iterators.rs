//! Parts of containers as element sources: subslices `w[a..b]`, `.skip`, `.take`, `.step_by`,
//! `.rev()`, combined with `.zip`, `.enumerate` and reductions. Every gradient against central
//! finite differences.

use nabla::{check_gradient, differentiable, stop_gradient};

const W: [f64; 7] = [0.3, -1.2, 0.8, 2.1, -0.4, 1.5, 0.9];

fn check(f: impl Fn(&[f64]) -> f64, g: &[f64], what: &str) {
    let report = check_gradient(f, &W, g);
    assert!(report.passes(1e-8), "{what}: {report}");
}

/// The smoothness penalty of a parameter vector: squared differences of neighbours.
#[differentiable]
fn smoothness(w: &[f64]) -> f64 {
    let n = w.len();
    w[1..]
        .iter()
        .zip(&w[..n - 1])
        .map(|(a, b)| (a - b) * (a - b))
        .sum()
}

#[test]
fn neighbour_differences_through_subslices() {
    let (value, g) = smoothness_grad(&W);
    let want: f64 = W.windows(2).map(|p| (p[1] - p[0]).powi(2)).sum();
    assert!((value - want).abs() < 1e-12);
    check(smoothness, &g, "smoothness");
}

/// Horner's rule from the highest coefficient, with `.rev()`.
#[differentiable]
fn horner(c: &[f64], #[no_grad] x: f64) -> f64 {
    let mut y = 0.0;
    for a in c.iter().rev() {
        y = y * x + a;
    }
    y
}

#[test]
fn reversed_iteration() {
    let (value, g) = horner_grad(&W, 0.7);
    let want: f64 = W
        .iter()
        .enumerate()
        .map(|(i, a)| a * 0.7f64.powi(i as i32))
        .sum();
    assert!((value - want).abs() < 1e-12);
    check(|c| horner(c, 0.7), &g, "horner");
}

/// Every adaptor, and combinations of them, in one function.
#[differentiable]
fn adapted(w: &[f64]) -> f64 {
    let mut total = 0.0;
    for (i, x) in w.iter().skip(1).enumerate() {
        total += (i as f64 + 1.0) * x * x;
    }
    for x in w.iter().take(3) {
        total += x.sin();
    }
    for x in w.iter().step_by(2) {
        total += 2.0 * x;
    }
    for x in w.iter().skip(1).step_by(3).rev() {
        total += x * x * x;
    }
    for x in &w[2..=4] {
        total += x.exp();
    }
    let evens: f64 = w.iter().step_by(2).map(|x| x * x).sum();
    total + evens + w[..2].iter().sum::<f64>()
}

#[test]
fn skip_take_step_by_rev_and_ranges() {
    let (_, g) = adapted_grad(&W);
    check(adapted, &g, "adapted");
}

/// A window over a local buffer, written through `iter_mut`, inside a loop.
#[differentiable]
fn damped(w: &[f64]) -> f64 {
    let mut buf = w.to_vec();
    for _ in 0..3 {
        for v in buf[1..].iter_mut() {
            *v *= 0.5;
        }
        for v in buf.iter_mut().rev().take(2) {
            *v += 1.0;
        }
    }
    let mut total = 0.0;
    for v in &buf {
        total += v * v;
    }
    total
}

#[test]
fn windows_of_local_buffers_written_in_place() {
    let (_, g) = damped_grad(&W);
    check(damped, &g, "damped");
}

/// Horner's rule with `fold`, and a product.
#[differentiable]
fn folded(c: &[f64], #[no_grad] x: f64) -> f64 {
    let p = c.iter().rev().fold(0.0, |acc, a| acc * x + a);
    let q: f64 = c[..3].iter().product();
    let r = c.iter().map(|v| 1.0 + 0.1 * v).product::<f64>();
    let s = c
        .iter()
        .zip(&c[1..])
        .fold(1.0, |acc: f64, (a, b)| acc + a * b);
    p + q + r + s
}

#[test]
fn fold_and_product() {
    let (value, g) = folded_grad(&W, 0.7);
    let horner: f64 = W
        .iter()
        .enumerate()
        .map(|(i, a)| a * 0.7f64.powi(i as i32))
        .sum();
    let q = W[0] * W[1] * W[2];
    let r: f64 = W.iter().map(|v| 1.0 + 0.1 * v).product();
    let s = 1.0 + W.windows(2).map(|p| p[0] * p[1]).sum::<f64>();
    assert!((value - (horner + q + r + s)).abs() < 1e-12);
    check(|c| folded(c, 0.7), &g, "folded");
}

/// Folds of a `map`: over elements, over a range of indices, with a function path, and with a
/// closure that reads a variable named like the fold's accumulator, which names the outer `a`
/// in the map's closure and the running total only in the fold's.
#[differentiable]
fn mapped_folds(w: &[f64]) -> f64 {
    let a = w[0];
    let squares = w.iter().map(|v| v * a).fold(0.0, |a, b| a + b * b);
    let largest = w.iter().map(|v| (v * 0.5).exp()).fold(f64::MIN, f64::max);
    let indexed = (0..w.len())
        .map(|i| w[i] * i as f64)
        .fold(1.0, |acc, t: f64| acc + t.sin());
    let counted = w.iter().map(|_| 1.0).fold(0.0, |acc, t| acc + t * a);
    squares + largest + indexed + counted
}

#[test]
fn folds_of_a_map() {
    let (value, g) = mapped_folds_grad(&W);
    let a = W[0];
    let squares: f64 = W.iter().map(|v| (v * a) * (v * a)).sum();
    let largest = (W[3] * 0.5).exp();
    let indexed = 1.0 + (0..7).map(|i| (W[i] * i as f64).sin()).sum::<f64>();
    let counted = 7.0 * a;
    assert!((value - (squares + largest + indexed + counted)).abs() < 1e-12);
    check(mapped_folds, &g, "mapped_folds");
}

/// Closure parameters typed as the references they are: `|v: &f64|`, `|(v, x): (&f64, &f64)|`.
#[differentiable]
fn typed_closures(w: &[f64], #[no_grad] xs: &[f64]) -> f64 {
    let a = w.iter().map(|v: &f64| v * v).sum::<f64>();
    let b = w
        .iter()
        .zip(xs)
        .map(|(v, x): (&f64, &f64)| v * x)
        .fold(0.0, |s, t| s + t);
    a + b
}

#[test]
fn closure_parameters_with_reference_types() {
    let xs = [0.5, -1.0, 2.0, 0.25, 1.5, -0.5, 1.0];
    let (value, g) = typed_closures_grad(&W, &xs);
    let want: f64 = W.iter().zip(&xs).map(|(w, x)| w * w + w * x).sum();
    assert!((value - want).abs() < 1e-12);
    check(|w| typed_closures(w, &xs), &g, "typed closures");
}

/// Adaptors after `zip` and `enumerate`.
#[differentiable]
fn after_zip_and_enumerate(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let mut total = 0.0;
    for (a, b) in w.iter().zip(x).skip(1).step_by(2) {
        total += a * b;
    }
    for (a, b) in w.iter().zip(&w[1..]).take(3) {
        total += a * b * b;
    }
    for (i, v) in w.iter().enumerate().skip(2) {
        total += (i as f64) * v * v;
    }
    for (i, v) in w.iter().enumerate().rev().step_by(3) {
        total += (i as f64 + 0.5) * v.sin();
    }
    total
}

#[test]
fn adaptors_after_zip_and_enumerate() {
    let x = [1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 0.25];
    let (value, g) = after_zip_and_enumerate_grad(&W, &x);
    // The same sums written with std's iterators on plain floats.
    let mut want = 0.0;
    for (a, b) in W.iter().zip(&x).skip(1).step_by(2) {
        want += a * b;
    }
    for (a, b) in W.iter().zip(&W[1..]).take(3) {
        want += a * b * b;
    }
    for (i, v) in W.iter().enumerate().skip(2) {
        want += (i as f64) * v * v;
    }
    for (i, v) in W.iter().enumerate().rev().step_by(3) {
        want += (i as f64 + 0.5) * v.sin();
    }
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    check(
        |w| after_zip_and_enumerate(w, &x),
        &g,
        "after zip and enumerate",
    );
}

/// Code around the iterators that carries no gradient keeps its own meaning.
#[differentiable]
fn plain_iterators(w: &[f64], #[no_grad] counts: &[u64], #[no_grad] k: usize) -> f64 {
    let n = counts.iter().product::<u64>() as f64;
    let last_count = counts.iter().last().copied().unwrap() as f64;
    let tail: f64 = w[k..].iter().sum();
    tail * n + last_count
}

#[test]
fn integer_reductions_and_iterator_last_as_written() {
    let (value, g) = plain_iterators_grad(&[1.0, 2.0, 3.0], &[2, 3], 1);
    assert_eq!(value, 5.0 * 6.0 + 3.0);
    assert_eq!(g, vec![0.0, 6.0, 6.0]);
}

#[test]
#[should_panic(expected = "out of range")]
fn a_window_out_of_bounds_panics_as_the_function_does() {
    let _ = plain_iterators_grad(&[1.0, 2.0, 3.0], &[2, 3], 4);
}

/// `.rev()` after `.zip(..)` of sides of different lengths: pairs from the shorter side's end,
/// as `Zip::next_back` makes them, in a loop, after `enumerate`, and under a fold.
#[differentiable]
fn reversed_zip(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in w.iter().zip(x).rev() {
        s = s * 0.5 + a * b + a.sin();
    }
    for (i, (a, b)) in w[1..].iter().zip(&w[..3]).enumerate().rev() {
        s += (i as f64 + 1.0) * a * b;
    }
    let folded = x
        .iter()
        .zip(w.iter().skip(2))
        .rev()
        .fold(0.0, |acc, (c, a)| acc * 0.7 + c * a * a);
    s + folded
}

#[test]
fn rev_after_zip() {
    let x = [0.5, -1.5, 2.0, 0.25];
    let (value, g) = reversed_zip_grad(&W, &x);
    // The same pairs, written out in the order `Zip::rev` visits them.
    let mut want = 0.0;
    for k in (0..4).rev() {
        want = want * 0.5 + W[k] * x[k] + W[k].sin();
    }
    for i in (0..3).rev() {
        want += (i as f64 + 1.0) * W[i + 1] * W[i];
    }
    let mut folded = 0.0;
    for k in (0..4).rev() {
        folded = folded * 0.7 + x[k] * W[k + 2] * W[k + 2];
    }
    want += folded;
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    check(|w| reversed_zip(w, &x), &g, "rev after zip");
}

/// Reductions over ranges of integers: float sums and products of a `map` (their type written),
/// and folds, beside an integer sum left as written.
#[differentiable]
fn over_ranges(w: &[f64], #[no_grad] x: f64) -> f64 {
    let n = w.len();
    let poly: f64 = (0..n).map(|i| w[i] * x.powi(i as i32)).sum::<f64>();
    let squares = (0..n).map(|i| w[i] * w[i]).sum::<f64>();
    let count: usize = (0..n).map(|i| i * i).sum();
    let folded = (1..n).rev().fold(0.0, |acc, i| acc * 0.5 + w[i] - w[i - 1]);
    let every_other = (0..n).step_by(2).map(|i| w[i].sin()).product::<f64>();
    poly + squares * count as f64 + folded + every_other
}

#[test]
fn reductions_over_ranges() {
    let (value, g) = over_ranges_grad(&W, 0.7);
    let n = W.len();
    let mut want = 0.0;
    for (i, w) in W.iter().enumerate() {
        want += w * 0.7f64.powi(i as i32);
    }
    let squares: f64 = W.iter().map(|w| w * w).sum();
    want += squares * (0..n).map(|i| i * i).sum::<usize>() as f64;
    let mut folded = 0.0;
    for i in (1..n).rev() {
        folded = folded * 0.5 + W[i] - W[i - 1];
    }
    want += folded + W.iter().step_by(2).map(|w| w.sin()).product::<f64>();
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    check(|w| over_ranges(w, 0.7), &g, "over ranges");
}

/// `.map(..)` collected into a `Vec`, through a turbofish and through the binding's type, with
/// typed and destructuring closure patterns, then read and iterated again.
#[differentiable]
fn collected(w: &[f64]) -> f64 {
    let squares: Vec<f64> = w.iter().map(|t| t * t).collect();
    let paired = w
        .iter()
        .zip(&squares)
        .map(|(a, s)| a.sin() * s)
        .collect::<Vec<_>>();
    let by_index: Vec<f64> = (0..w.len()).map(|i| paired[i] * w[i]).collect();
    let shifted: Vec<f64> = by_index.iter().map(|&t: &f64| t + 1.0).collect();
    shifted.iter().map(|t| t * t).sum::<f64>() + squares[2]
}

#[test]
fn map_collected_into_a_vec() {
    let (value, g) = collected_grad(&W);
    assert_eq!(value, collected(&W));
    check(collected, &g, "collected");
}

/// `.map(..).collect()` as the result of a function returning a `Vec`, whose result type names
/// the collection: as the last expression, in a branch and in a `return`.
#[differentiable]
fn collected_result(w: &[f64], k: f64) -> Vec<f64> {
    if k > 1.0 {
        return w.iter().map(|x| x * k).collect();
    }
    if k < -1.0 {
        w.iter().map(|x| x.sin() * k).collect()
    } else {
        (0..w.len()).map(|i| w[i] * w[i] * k).collect()
    }
}

#[test]
fn map_collected_as_the_result() {
    let cotangent: Vec<f64> = (0..W.len()).map(|i| 0.5 + i as f64).collect();
    for k in [2.5, -1.5, 0.3] {
        let (value, (dw, dk)) = collected_result_vjp(&W, k, cotangent.clone());
        assert_eq!(value, collected_result(&W, k));
        let projected = |w: &[f64], k: f64| -> f64 {
            let y = collected_result(w, k);
            y.iter().zip(&cotangent).map(|(y, c)| y * c).sum()
        };
        check(|w| projected(w, k), &dw, "collected result");
        let step = 1e-6;
        let fd = (projected(&W, k + step) - projected(&W, k - step)) / (2.0 * step);
        assert!((dk - fd).abs() < 1e-6 * (1.0 + fd.abs()), "dk {dk} vs {fd}");
    }
}

/// A sum or product whose type is written on the `let` instead of as a turbofish.
#[differentiable]
fn typed_on_the_let(w: &[f64]) -> f64 {
    let n = w.len();
    let ring: f64 = (0..n).map(|i| w[i] * w[(i + 1) % n]).sum();
    let scaled: f64 = w.iter().map(|v| 1.0 + 0.1 * v).product();
    ring * scaled
}

#[test]
fn sums_typed_on_the_let() {
    let (value, g) = typed_on_the_let_grad(&W);
    assert_eq!(value, typed_on_the_let(&W));
    check(typed_on_the_let, &g, "typed on the let");
}

/// `fold` with a function path for its step, as with a closure that calls it.
#[differentiable]
fn folded_by_paths(w: &[f64]) -> f64 {
    let largest = w.iter().copied().fold(f64::MIN, f64::max);
    let norm = w.iter().copied().fold(0.0, f64::hypot);
    largest * norm
}

#[test]
fn folds_by_function_paths() {
    let (value, g) = folded_by_paths_grad(&W);
    assert_eq!(value, folded_by_paths(&W));
    check(folded_by_paths, &g, "folded by paths");
}

/// A `fold` after a `map` over data is data.
#[differentiable]
fn scaled_by_data_peak(w: &[f64], #[no_grad] data: &[f64]) -> f64 {
    let peak = data.iter().map(|x| x.abs()).fold(0.0, f64::max);
    w[0] * peak + w[1] * w[2]
}

#[test]
fn a_fold_after_a_map_over_data() {
    let data = [0.5, -3.0, 2.0];
    let (value, g) = scaled_by_data_peak_grad(&W, &data);
    assert_eq!(value, scaled_by_data_peak(&W, &data));
    check(
        |w| scaled_by_data_peak(w, &data),
        &g,
        "fold after map over data",
    );
}

/// A masked sum, `filter` before `map`: only the kept elements carry gradient, and the test
/// itself carries none.
#[differentiable]
fn positive_squares(w: &[f64]) -> f64 {
    w.iter().filter(|v| **v > 0.0).map(|v| v * v).sum()
}

/// `filter` with a threshold that carries gradient, by a `&&v` pattern, over a part of `w`.
#[differentiable]
fn above(w: &[f64], t: f64) -> f64 {
    w[1..].iter().filter(|&&v| v > t).sum::<f64>() * t
}

/// `filter` over copied items, then a fold.
#[differentiable]
fn small_sines(w: Vec<f64>, #[no_grad] limit: f64) -> f64 {
    w.iter()
        .copied()
        .filter(|v| v.abs() < limit)
        .fold(0.0, |acc, v| acc + v.sin())
}

#[test]
fn filtered_reductions() {
    let (value, g) = positive_squares_grad(&W);
    let want: f64 = W.iter().filter(|v| **v > 0.0).map(|v| v * v).sum();
    assert!((value - want).abs() < 1e-12);
    check(positive_squares, &g, "positive_squares");

    for t in [0.5, 1.0] {
        let (value, (g, dt)) = above_grad(&W, t);
        assert!((value - above(&W, t)).abs() < 1e-12);
        check(|w| above(w, t), &g, "above");
        // The threshold's own derivative is the sum of the kept elements: no element sits at it.
        let kept: f64 = W[1..].iter().filter(|v| **v > t).sum();
        assert!((dt - kept).abs() < 1e-12, "d/dt {dt} vs {kept}");
    }

    let (value, g) = small_sines_grad(W.to_vec(), 1.0);
    assert!((value - small_sines(W.to_vec(), 1.0)).abs() < 1e-12);
    check(|w| small_sines(w.to_vec(), 1.0), &g, "small_sines");
    assert_eq!(g[1], 0.0, "an element the filter drops has gradient zero");
}

fn is_positive(v: &&f64) -> bool {
    **v > 0.0
}

fn is_even(i: &usize) -> bool {
    i % 2 == 0
}

/// Filters that name their test as a function, in a sum, over a range and in a loop.
#[differentiable]
fn filtered_by_functions(w: &[f64]) -> f64 {
    let squares: f64 = w.iter().filter(is_positive).map(|v| v * v).sum();
    let even: f64 = (0..w.len()).filter(is_even).map(|i| w[i]).sum();
    let mut sines = 0.0;
    for v in w.iter().filter(is_positive) {
        sines += v.sin();
    }
    squares + even * sines
}

#[test]
fn filters_by_named_functions() {
    let (value, g) = filtered_by_functions_grad(&W);
    assert!((value - filtered_by_functions(&W)).abs() < 1e-12);
    check(filtered_by_functions, &g, "filtered_by_functions");
}

/// Tests of the elements by a closure, which decide: `any` and `all` in conditions, and the
/// `position` of an element that is then read.
#[differentiable]
fn decided_by_tests(w: &[f64], t: f64) -> f64 {
    let big = w.iter().any(|&v| v > 10.0 * t);
    let first = w.iter().position(|v| *v < 0.0).unwrap_or(0);
    let s: f64 = if big {
        0.0
    } else {
        w.iter().map(|v| v * v).sum()
    };
    if w.iter().all(|v| v.abs() < 5.0) {
        s * t + w[first]
    } else {
        s
    }
}

#[test]
fn closure_tests_decide() {
    for t in [0.05, 0.5, 1.5] {
        let (value, (g, dt)) = decided_by_tests_grad(&W, t);
        assert!((value - decided_by_tests(&W, t)).abs() < 1e-12);
        check(|w| decided_by_tests(w, t), &g, "decided_by_tests");
        let h = 1e-6;
        let fd = (decided_by_tests(&W, t + h) - decided_by_tests(&W, t - h)) / (2.0 * h);
        assert!((dt - fd).abs() < 1e-6, "d/dt {dt} vs {fd}");
    }
}

/// The count of the elements a test keeps, `filter(..).count()`: a decision, as `position` is,
/// in a condition and as the divisor of a mean of the kept elements.
#[differentiable]
fn counted_above(w: &[f64], #[no_grad] t: f64) -> f64 {
    let n = w.iter().filter(|&&v| v > t).count();
    let kept: f64 = w.iter().filter(|&&v| v > t).map(|v| v * v).sum();
    if n > 2 {
        kept / n as f64
    } else {
        w.iter().filter(|v| v.abs() < 1.0).count() as f64 * w[0]
    }
}

#[test]
fn counts_decide() {
    for t in [0.5, 1.0] {
        let (value, g) = counted_above_grad(&W, t);
        assert!((value - counted_above(&W, t)).abs() < 1e-12);
        check(|w| counted_above(w, t), &g, "counted_above");
    }
    // Above 0.5: 0.8, 2.1, 1.5, 0.9, the mean of their squares.
    let (value, g) = counted_above_grad(&W, 0.5);
    assert!((value - (0.64 + 4.41 + 2.25 + 0.81) / 4.0).abs() < 1e-12);
    assert!((g[3] - 2.0 * 2.1 / 4.0).abs() < 1e-12 && g[0] == 0.0);
    // Above 1.0 only two: four of the seven lie within (-1, 1), times w[0].
    let (value, g) = counted_above_grad(&W, 1.0);
    assert!((value - 4.0 * W[0]).abs() < 1e-12);
    assert_eq!(g, vec![4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
}

/// A loop over the elements a `filter` keeps, with `continue` and `break` in its body.
#[differentiable]
fn filtered_loop(w: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for v in w[1..].iter().filter(|&&v| v < t) {
        if *v < -1.0 {
            continue;
        }
        s += (v * t).sin();
        if s > 1.2 {
            break;
        }
    }
    s
}

#[test]
fn loops_over_filtered_elements() {
    for t in [0.7, 1.0, 2.0] {
        let (value, (g, dt)) = filtered_loop_grad(&W, t);
        assert!((value - filtered_loop(&W, t)).abs() < 1e-12);
        check(|w| filtered_loop(w, t), &g, "filtered_loop");
        let h = 1e-6;
        let fd = (filtered_loop(&W, t + h) - filtered_loop(&W, t - h)) / (2.0 * h);
        assert!((dt - fd).abs() < 1e-6, "d/dt {dt} vs {fd} at t = {t}");
    }
}

/// A filter test that reads the element of an enclosing loop through its reference (`*x`).
#[differentiable]
fn pairs_below(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in w.iter() {
        s += w.iter().filter(|&&y| y < *x).map(|y| y * x).sum::<f64>();
    }
    s
}

/// A sum over a type parameter as the function's result: its type is the result type.
#[differentiable]
fn weighted_squares<T: nabla::Real>(w: &[T], t: T) -> T {
    w.iter().map(|v| *v * *v * t).sum()
}

#[test]
fn filters_and_sums_that_read_their_surroundings() {
    let (value, g) = pairs_below_grad(&W);
    assert!((value - pairs_below(&W)).abs() < 1e-12);
    check(pairs_below, &g, "pairs_below");

    let (value, (g, dt)) = weighted_squares_grad(&W, 1.5);
    assert!((value - weighted_squares(&W, 1.5)).abs() < 1e-12);
    check(|w| weighted_squares(w, 1.5), &g, "weighted_squares");
    let squares: f64 = W.iter().map(|v| v * v).sum();
    assert!((dt - squares).abs() < 1e-12);
    let (value32, _) = weighted_squares_grad(&[1.0f32, 2.0], 3.0);
    assert_eq!(value32, 15.0);
}

/// `filter` of the pairs of `zip` and `enumerate`, with tuple patterns: by a mask of data, by
/// the position (after a `skip`, which `enumerate` counts from), over copied items, in loops
/// that read and that write (`iter_mut`), and the kept positions collected as indices.
#[differentiable]
fn filtered_pairs(w: &[f64], #[no_grad] mask: &[f64]) -> f64 {
    let masked: f64 = w
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m > 0.0)
        .map(|(a, m)| a * m)
        .sum();
    let mut later = 0.0;
    for (_, v) in w.iter().enumerate().filter(|(i, _)| *i > 2) {
        later += v * v;
    }
    let odd: f64 = w
        .iter()
        .copied()
        .enumerate()
        .skip(1)
        .filter(|&(i, v)| i % 2 == 1 && v < 1.0)
        .map(|(i, v)| v * i as f64)
        .sum();
    let rising: f64 = w[1..]
        .iter()
        .zip(&w[..w.len() - 1])
        .filter(|(b, a)| b > a)
        .map(|(b, a)| (b - a).powi(2))
        .sum();
    let kept: Vec<usize> = w
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.5)
        .map(|(i, _)| i)
        .collect();
    let picked: f64 = kept.iter().map(|&i| w[i].sin()).sum();
    let mut u = w.to_vec();
    for (i, v) in u
        .iter_mut()
        .enumerate()
        .filter(|(i, v)| *i > 0 && **v > 0.0)
    {
        *v *= i as f64;
    }
    let written: f64 = u.iter().map(|x| x * x).sum();
    masked + later + odd + rising + picked + written
}

#[test]
fn filtered_pairs_of_zip_and_enumerate() {
    let mask = [1.0, -1.0, 0.5, 2.0, 0.0, 1.0, -0.3];
    let (value, g) = filtered_pairs_grad(&W, &mask);
    let masked = 0.3 + 0.4 + 4.2 + 1.5;
    let later: f64 = W[3..].iter().map(|v| v * v).sum();
    let odd = -1.2; // positions 1, 3, 5 hold -1.2, 2.1, 1.5
    let rising = 2.0f64.powi(2) + 1.3f64.powi(2) + 1.9f64.powi(2);
    let picked = 0.8f64.sin() + 2.1f64.sin() + 1.5f64.sin() + 0.9f64.sin();
    let written: f64 = [0.3, -1.2, 1.6, 6.3, -0.4, 7.5, 5.4]
        .iter()
        .map(|x| x * x)
        .sum();
    let want = masked + later + odd + rising + picked + written;
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    assert!((value - filtered_pairs(&W, &mask)).abs() < 1e-12);
    check(|w| filtered_pairs(w, &mask), &g, "filtered_pairs");
}

/// A `map` over a range of indices that ends the function: summed as the result type, `f64`.
#[differentiable]
fn indexed_squares(w: &[f64]) -> f64 {
    let n = w.len();
    (0..n).map(|i| w[i] * w[i] * i as f64).sum()
}

#[test]
fn a_range_sum_typed_by_the_result() {
    let (value, g) = indexed_squares_grad(&W);
    assert!((value - indexed_squares(&W)).abs() < 1e-12);
    check(indexed_squares, &g, "indexed_squares");
}

/// After a `break`, a filter's test is not run on the elements left: the one that follows the
/// break would fail it.
#[differentiable]
fn until_big(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in w.iter().filter(|v| {
        assert!(**v < 10.0, "tested after the break");
        **v > 0.0
    }) {
        if *x > 1.0 {
            break;
        }
        s += x * x;
    }
    s
}

/// `stop_gradient(x)` and `stop_gradient(*x)` of a loop element of `w.iter()`: values that carry
/// no gradient.
#[differentiable]
fn stopped_elements(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in w.iter() {
        let c = stop_gradient(x);
        s += *x * c + c * 2.0 + stop_gradient(*x) * x;
    }
    s
}

#[test]
fn filters_stop_with_the_loop_and_stopped_elements_are_values() {
    let w = [0.5, 2.0, 100.0];
    assert_eq!(until_big(&w), 0.25);
    assert_eq!(until_big_grad(&w), (0.25, vec![1.0, 0.0, 0.0]));
    // x² + 2x + x², with the stopped factors' derivatives left out: 2x.
    let (value, g) = stopped_elements_grad(&[1.0, 2.0]);
    assert_eq!((value, g), (2.0 + 2.0 + 8.0 + 4.0, vec![2.0, 4.0]));
}

/// A `filter` of a range of indices: in a sum, in a `for` loop, and reversed in a fold.
#[differentiable]
fn even_squares(w: &[f64]) -> f64 {
    let n = w.len();
    (0..n)
        .filter(|i| i % 2 == 0)
        .map(|i| w[i] * w[i])
        .sum::<f64>()
}

#[differentiable]
fn masked_sines(w: &[f64], #[no_grad] mask: &[bool]) -> f64 {
    let mut s = 0.0;
    for i in (0..w.len()).filter(|&i| mask[i]) {
        s += w[i].sin();
    }
    s
}

#[differentiable]
fn skipping_horner(w: &[f64]) -> f64 {
    (1..w.len())
        .rev()
        .filter(|i| *i != 2)
        .fold(0.0, |acc, i| acc * 0.5 + w[i] * w[i - 1])
}

#[test]
fn filtered_ranges_of_indices() {
    let (value, g) = even_squares_grad(&W);
    assert!((value - even_squares(&W)).abs() < 1e-12);
    check(even_squares, &g, "even_squares");
    let mask = [true, false, true, true, false, true, false];
    let (value, g) = masked_sines_grad(&W, &mask);
    assert!((value - masked_sines(&W, &mask)).abs() < 1e-12);
    check(|w| masked_sines(w, &mask), &g, "masked_sines");
    let (value, g) = skipping_horner_grad(&W);
    assert!((value - skipping_horner(&W)).abs() < 1e-12);
    check(skipping_horner, &g, "skipping_horner");
}

/// Chained maps, as a user writes them: each closure one step, over a slice, over a range of
/// indices, collected, and folded; a function path among them. A closure that names a variable
/// outside (`c`) which the first closure's parameter also names is not merged with it.
#[differentiable]
fn chained_maps(w: &[f64]) -> f64 {
    let n = w.len();
    let c = 0.5;
    let a: f64 = w.iter().map(|x| x * 2.0).map(|t| t.sin()).sum();
    let b = (1..n)
        .map(|i| w[i] * w[i - 1])
        .map(|t| t * 2.0)
        .sum::<f64>();
    let squares: Vec<f64> = w
        .iter()
        .map(|x| x * x)
        .map(f64::exp)
        .map(|e| e - 1.0)
        .collect();
    let folded = w
        .iter()
        .map(|c| c * 3.0)
        .map(|t| t * t + c)
        .fold(0.0, |acc, t| acc + t.sqrt());
    a + b + squares.iter().sum::<f64>() * 0.1 + squares[1] + folded
}

#[test]
fn chained_maps_run_as_one() {
    let (value, g) = chained_maps_grad(&W);
    let n = W.len();
    let a: f64 = W.iter().map(|x| (x * 2.0).sin()).sum();
    let b: f64 = (1..n).map(|i| 2.0 * W[i] * W[i - 1]).sum();
    let squares: Vec<f64> = W.iter().map(|x| (x * x).exp() - 1.0).collect();
    let folded: f64 = W.iter().map(|x| ((3.0 * x) * (3.0 * x) + 0.5).sqrt()).sum();
    let want = a + b + squares.iter().sum::<f64>() * 0.1 + squares[1] + folded;
    assert!((value - want).abs() < 1e-12, "{value} vs {want}");
    check(chained_maps, &g, "chained_maps");
}

/// The largest and the smallest element as the folds the error for `reduce` and `max_by`
/// suggests: over copied elements with `f64::max`, and over references with a closure.
#[differentiable]
fn extremes(w: &[f64]) -> f64 {
    let largest = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let smallest = w.iter().fold(f64::INFINITY, |m, &x| m.min(x));
    largest * 2.0 - smallest * smallest
}

#[test]
fn extremes_as_folds() {
    let (value, g) = extremes_grad(&W);
    assert!((value - (2.0 * 2.1 - 1.2 * 1.2)).abs() < 1e-12);
    check(extremes, &g, "extremes");
    // W's largest element is W[3] = 2.1, its smallest W[1] = -1.2.
    let mut want = [0.0; 7];
    want[3] = 2.0;
    want[1] = 2.4;
    assert_eq!(g, want);
}
