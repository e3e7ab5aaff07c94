//! The hand-written GMM gradient (`flow_common/gmm_hand.rs`, the reference the generated
//! gradient is benchmarked against), checked against `gmm_objective` itself, central finite
//! differences, ADBench's published test vector, and nabla's generated `gmm_objective_grad`.

mod flow_common;

use flow_common::{
    adbench_test_instance, assert_close, assert_close_slices, fd_gradient, flat_gradient as flat,
    flat_params, gmm_data, objective_of_flat, rel_err, GmmData, FD_TOL, PUBLISHED_GRADIENT,
    PUBLISHED_OBJECTIVE,
};

/// `gmm_data` always has γ = 1, m = 0; the variants also exercise the prior's other terms.
fn instances(d: usize, k: usize, n: usize, seed: u64) -> Vec<GmmData> {
    let mut out = vec![gmm_data(d, k, n, seed)];
    let mut v = gmm_data(d, k, n, seed + 1);
    v.gamma = 1.7;
    v.m = 2;
    out.push(v);
    out
}

fn check_value(what: &str, data: &GmmData, value: f64) {
    let want = data.objective();
    let e = (value - want).abs() / want.abs();
    assert!(
        e < 1e-12,
        "{what}: value {value:e} vs gmm_objective {want:e}"
    );
}

#[test]
fn value_and_gradient_match_finite_differences() {
    for data in instances(3, 4, 5, 11) {
        let what = format!("d=3 k=4 n=5 γ={} m={}", data.gamma, data.m);
        let (value, grad) = data.hand_gradient();
        check_value(&what, &data, value);
        let fd = fd_gradient(|p| objective_of_flat(&data, p), &flat_params(&data));
        assert_close_slices(&what, &flat(&grad), &fd, FD_TOL);
    }
}

#[test]
fn matches_adbench_published_test_vector() {
    // ADBench data/gmm/test.txt, the instance and digits tests/gmm.rs checks the generated
    // gradient against.
    let (value, grad) = adbench_test_instance().hand_gradient();
    assert_close("objective", value, PUBLISHED_OBJECTIVE, 1e-12);
    assert_close_slices("gradient", &flat(&grad), &PUBLISHED_GRADIENT, 1e-12);
}

/// Per component `rel_err < 1e-9` against the generated gradient; also prints the largest
/// plain relative error `|a - b| / max(|a|, |b|)` for the report.
fn check_against_generated(d: usize, k: usize, n: usize, seed: u64) {
    for data in instances(d, k, n, seed) {
        let what = format!("d={d} k={k} n={n} γ={} m={}", data.gamma, data.m);
        let (value, grad) = data.hand_gradient();
        check_value(&what, &data, value);
        let (gen_value, gen_grad) = data.gradient();
        assert_close(&format!("{what}: value"), value, gen_value, 1e-12);
        let (got, want) = (flat(&grad), flat(&gen_grad));
        assert_close_slices(&what, &got, &want, 1e-9);
        let worst_plain = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| rel_err(*a, *b))
            .fold(0.0, f64::max);
        println!("{what}: max rel_err {worst:e}, max plain relative error {worst_plain:e}");
    }
}

#[test]
fn matches_generated_gradient_benchmark_size() {
    check_against_generated(10, 25, 1000, 42);
}

#[test]
fn matches_generated_gradient_small_d() {
    check_against_generated(2, 5, 1000, 7);
}
