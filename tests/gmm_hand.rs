//! The hand-written GMM gradient (`flow_common/gmm_hand.rs`, the reference the generated
//! gradient is benchmarked against), checked against `gmm_objective` itself, central finite
//! differences, ADBench's published test vector, and nabla's generated `gmm_objective_grad`.
#![allow(dead_code)]

mod flow_common;

use flow_common::{
    assert_close, assert_close_slices, fd_gradient, gmm_data, gmm_objective,
    gmm_objective_hand_grad, rel_err, GmmData, FD_TOL,
};

#[allow(clippy::type_complexity)]
fn hand(data: &GmmData) -> (f64, (Vec<f64>, Vec<f64>, Vec<f64>)) {
    gmm_objective_hand_grad(
        data.d,
        data.k,
        data.n,
        &data.alphas,
        &data.means,
        &data.icf,
        &data.x,
        data.gamma,
        data.m,
    )
}

fn flat(g: &(Vec<f64>, Vec<f64>, Vec<f64>)) -> Vec<f64> {
    g.0.iter().chain(&g.1).chain(&g.2).copied().collect()
}

fn flat_params(data: &GmmData) -> Vec<f64> {
    data.alphas
        .iter()
        .chain(&data.means)
        .chain(&data.icf)
        .copied()
        .collect()
}

fn objective_of_flat(data: &GmmData, p: &[f64]) -> f64 {
    let (k, d) = (data.k, data.d);
    let (alphas, rest) = p.split_at(k);
    let (means, icf) = rest.split_at(k * d);
    gmm_objective(
        d, k, data.n, alphas, means, icf, &data.x, data.gamma, data.m,
    )
}

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
        let (value, grad) = hand(&data);
        check_value(&what, &data, value);
        let fd = fd_gradient(|p| objective_of_flat(&data, p), &flat_params(&data));
        assert_close_slices(&what, &flat(&grad), &fd, FD_TOL);
    }
}

#[test]
fn matches_adbench_published_test_vector() {
    // ADBench data/gmm/test.txt, the same instance and digits as tests/gmm.rs.
    let data = GmmData {
        d: 2,
        k: 3,
        n: 1,
        alphas: vec![-0.649014, 1.181166, -0.758453],
        means: vec![0.092339, 0.186260, 0.345561, 0.396767, 0.538817, 0.419195],
        icf: vec![
            0.586443, -0.851887, 0.800321, //
            -1.509405, 0.875874, -0.242790, //
            0.166813, -1.965419, -1.270071,
        ],
        x: vec![1.175171, 2.029160],
        gamma: 1.0,
        m: 0,
    };
    #[allow(clippy::excessive_precision)]
    let published = [
        1.08662855508652456e-01,
        -7.41270039523898472e-01,
        6.32607184015246071e-01,
        1.11692576532787013e+00,
        1.63333013551455269e-01,
        -2.19989824071193142e-02,
        2.27778292254236098e-01,
        1.20963025612832187e+00,
        -6.06375920733956339e-02,
        2.58529994051162237e+00,
        1.12632694524213789e-01,
        3.85744309849611777e-01,
        7.35180573182305508e-02,
        5.41836362715595232e+00,
        -3.21494409677446469e-01,
        1.71892309775004937e+00,
        8.60091090790866875e-01,
        -9.94640930466322848e-01,
    ];
    let (value, grad) = hand(&data);
    #[allow(clippy::excessive_precision)]
    assert_close("objective", value, 8.07380408004975791e+00, 1e-12);
    assert_close_slices("gradient", &flat(&grad), &published, 1e-12);
}

/// Per component `rel_err < 1e-9` against the generated gradient; also prints the largest
/// plain relative error `|a - b| / max(|a|, |b|)` for the report.
fn check_against_generated(d: usize, k: usize, n: usize, seed: u64) {
    for data in instances(d, k, n, seed) {
        let what = format!("d={d} k={k} n={n} γ={} m={}", data.gamma, data.m);
        let (value, grad) = hand(&data);
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
