//! A hand-written reverse-mode gradient of `flow_common::gmm_objective` (ADBench's GMM
//! objective), written the way ADBench's "Manual" module is: per data point one forward pass
//! (xcentered, Qxcentered, main_term, a stable logsumexp) and its reverse accumulated straight
//! into the gradient buffers; no tape.
//!
//! Notation for point `x` and component `k`: `xc = x - μ_k`, `Q = diag(exp q) + L` (`q` the `d`
//! log-diagonal entries of `icf`, `L` the strictly lower triangle, packed column by column),
//! `r = Q·xc`, `t_k = α_k + Σ q - ½|r|²`, and the point contributes `lse_k(t_k)`, whose
//! derivative w.r.t. `t_k` is the softmax weight `w_k = exp(t_k - lse)`. Then
//!
//! - `∂/∂α_k = w_k`, `∂/∂q_j = w_k` (from `Σ q`), and with `ḡ = ∂/∂r = -w_k·r`:
//! - `∂/∂q_j += ḡ_j·xc_j·exp(q_j)` (diagonal, through `exp`), `∂/∂L_ji = ḡ_j·xc_i`,
//! - `∂/∂xc = Qᵀ·ḡ`, `∂/∂μ_k = -Qᵀ·ḡ`.
//!
//! Two factorings keep the inner loops short: the per-point `w_k` terms of `∂/∂q` are the same
//! for every `j` and equal `∂/∂α_k`'s, so they are added once at the end from the accumulated
//! `Σ_i w_ik`; and `exp(q_j)` is constant over points, so the diagonal slots accumulate
//! `Σ_i ḡ_j·xc_j` and are multiplied by `exp(q_j)` once at the end.

use super::log_gamma_distrib;

/// The value of `gmm_objective(d, k, n, alphas, means, icf, x, wishart_gamma, wishart_m)` and
/// its gradient w.r.t. `(alphas, means, icf)`, same layouts as the inputs.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn gmm_objective_hand_grad(
    d: usize,
    k: usize,
    n: usize,
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    wishart_gamma: f64,
    wishart_m: usize,
) -> (f64, (Vec<f64>, Vec<f64>, Vec<f64>)) {
    assert!(d > 0 && k > 0, "gmm_objective needs d > 0 and k > 0");
    let icf_sz = d * (d + 1) / 2;
    // Exact-length views: the loops below then index without bounds checks.
    let alphas = &alphas[..k];
    let means = &means[..k * d];
    let icf = &icf[..k * icf_sz];
    let x = &x[..n * d];

    let constant = -((n * d) as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();

    // preprocess_qs: Σ_j q_j and exp(q_j) per component (constant over the points).
    let mut qdiags = vec![0.0; k * d];
    let mut sum_qs = vec![0.0; k];
    for ((qd, sq), p) in qdiags
        .chunks_exact_mut(d)
        .zip(sum_qs.iter_mut())
        .zip(icf.chunks_exact(icf_sz))
    {
        for (e, &q) in qd.iter_mut().zip(&p[..d]) {
            *sq += q;
            *e = q.exp();
        }
    }

    let mut d_alphas = vec![0.0; k]; // Σ_i w_ik during the loop
    let mut d_means = vec![0.0; k * d];
    let mut d_icf = vec![0.0; k * icf_sz]; // diagonal slots: Σ_i ḡ_j·xc_j during the loop

    // Per-point scratch, allocated once: xc and r = Q·xc for every component (the reverse
    // needs them after the logsumexp over components), and t_k, then exp(t_k - max).
    let mut xcentered = vec![0.0; k * d];
    let mut qxcentered = vec![0.0; k * d];
    let mut main_term = vec![0.0; k];

    let mut slse = 0.0;
    for xi in x.chunks_exact(d) {
        // Forward, component by component, in gmm_objective's order of operations (the value
        // then agrees to the last bit or nearly).
        for ik in 0..k {
            let xc = &mut xcentered[ik * d..(ik + 1) * d];
            let r = &mut qxcentered[ik * d..(ik + 1) * d];
            let mu = &means[ik * d..(ik + 1) * d];
            let qd = &qdiags[ik * d..(ik + 1) * d];
            for id in 0..d {
                xc[id] = xi[id] - mu[id];
                r[id] = qd[id] * xc[id];
            }
            // r += L·xc, column i of L holding rows i+1..d.
            let mut l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            for i in 0..d {
                let (col, rest) = l.split_at(d - 1 - i);
                l = rest;
                let xci = xc[i];
                for (rj, &lji) in r[i + 1..].iter_mut().zip(col) {
                    *rj += lji * xci;
                }
            }
            let mut sqnorm = 0.0;
            for &rj in r.iter() {
                sqnorm += rj * rj;
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }

        // Stable logsumexp; keep exp(t_k - max) for the weights.
        let mut mx = main_term[0];
        for &t in &main_term[1..] {
            mx = mx.max(t);
        }
        let mut semx = 0.0;
        for t in main_term.iter_mut() {
            *t = (*t - mx).exp();
            semx += *t;
        }
        slse += semx.ln() + mx;

        // Reverse of this point, seed 1 on its lse.
        let inv_semx = 1.0 / semx;
        for ik in 0..k {
            let w = main_term[ik] * inv_semx; // softmax weight = ∂lse/∂t_k
            d_alphas[ik] += w; // t_k = α_k + Σq - ..., also the Σq part (added at the end)
            let xc = &xcentered[ik * d..(ik + 1) * d];
            let g = &mut qxcentered[ik * d..(ik + 1) * d];
            // ∂t/∂r = -r, so the adjoint of r is -w·r; overwrite r with it.
            for gj in g.iter_mut() {
                *gj *= -w;
            }
            let g = &*g;
            let qd = &qdiags[ik * d..(ik + 1) * d];
            let p = &mut d_icf[ik * icf_sz..(ik + 1) * icf_sz];
            let (dq, mut dl) = p.split_at_mut(d);
            let mut l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            let dmu = &mut d_means[ik * d..(ik + 1) * d];
            for i in 0..d {
                let xci = xc[i];
                // r_i = exp(q_i)·xc_i + Σ_{j<i} L_ij·xc_j: the diagonal term's adjoints.
                dq[i] += g[i] * xci; // times exp(q_i) at the end
                let mut gxci = qd[i] * g[i];
                // Column i of L: r_j += L_ji·xc_i for j > i.
                let (col, rest) = l.split_at(d - 1 - i);
                l = rest;
                let (dcol, drest) = std::mem::take(&mut dl).split_at_mut(d - 1 - i);
                dl = drest;
                for ((dlji, &lji), &gj) in dcol.iter_mut().zip(col).zip(&g[i + 1..]) {
                    *dlji += gj * xci;
                    gxci += lji * gj;
                }
                // xc_i = x_i - μ_i.
                dmu[i] -= gxci;
            }
        }
    }

    // logsumexp(alphas), enters as -n·lse(α): ∂/∂α_k = -n·softmax(α)_k.
    let mut amx = alphas[0];
    for &a in &alphas[1..] {
        amx = amx.max(a);
    }
    let mut asum = 0.0;
    for &a in alphas {
        asum += (a - amx).exp();
    }
    let lse_alphas = asum.ln() + amx;

    // Wishart prior Σ_k ½γ²(Σ_j exp(q_j)² + Σ L²) - m·Σ_j q_j, minus k·C.
    let wn = d + wishart_m + 1;
    let c = (wn * d) as f64 * (wishart_gamma.ln() - 0.5 * 2.0f64.ln()) - log_gamma_distrib(wn, d);
    let g2 = wishart_gamma * wishart_gamma;
    let m = wishart_m as f64;
    let nf = n as f64;
    let mut prior = 0.0;
    for ik in 0..k {
        let p = &icf[ik * icf_sz..(ik + 1) * icf_sz];
        let dp = &mut d_icf[ik * icf_sz..(ik + 1) * icf_sz];
        let qd = &qdiags[ik * d..(ik + 1) * d];
        let mut frobenius = 0.0;
        for &e in qd {
            frobenius += e * e;
        }
        for &lji in &p[d..] {
            frobenius += lji * lji;
        }
        prior += 0.5 * g2 * frobenius - m * sum_qs[ik];

        let sw = d_alphas[ik]; // Σ_i w_ik: ∂(data term)/∂(Σq_k)
        for id in 0..d {
            // data: exp(q)·Σ ḡ·xc + Σ w; prior: ½γ²·2·exp(q)² - m.
            dp[id] = qd[id] * dp[id] + sw + g2 * qd[id] * qd[id] - m;
        }
        for (dlji, &lji) in dp[d..].iter_mut().zip(&p[d..]) {
            *dlji += g2 * lji; // prior: ½γ²·L²
        }
    }
    for (da, &a) in d_alphas.iter_mut().zip(alphas) {
        *da -= nf * ((a - amx).exp() / asum);
    }

    let value = constant + slse - nf * lse_alphas + prior - (k as f64) * c;
    (value, (d_alphas, d_means, d_icf))
}
