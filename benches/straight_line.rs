//! `NAME_grad` of straight-line f64 code against the primal and against a hand-written reverse
//! sweep of the same function, for three sizes: about 10, 50 and 200 operations.
//!
//! Targets: the gradient at most 3x the primal, and within 1.2x of the hand-written
//! gradient. Each hand-written gradient is checked against `NAME_grad` (and against central
//! differences) before anything is timed.
//!
//! Run with `cargo bench --bench straight_line -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use nabla::differentiable;

// ---------------------------------------------------------------------------------------------
// About 10 operations: a polynomial/trig mix.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn small(x: f64, y: f64) -> f64 {
    let a = x * y;
    let b = a.sin();
    let c = x * x + 3.0 * y;
    let d = c.sqrt();
    b * d + x.exp() - y / c
}

fn small_hand(x: f64, y: f64) -> (f64, (f64, f64)) {
    let a = x * y;
    let (sin_a, cos_a) = a.sin_cos();
    let c = x * x + 3.0 * y;
    let d = c.sqrt();
    let e = x.exp();
    let inv_c = 1.0 / c;
    let f = sin_a * d + e - y * inv_c;
    // f = b d + e - y / c with b = sin a, d = sqrt c
    let da = d * cos_a;
    let dc = 0.5 * sin_a / d + y * inv_c * inv_c;
    let dx = da * y + dc * 2.0 * x + e;
    let dy = da * x + dc * 3.0 - inv_c;
    (f, (dx, dy))
}

// ---------------------------------------------------------------------------------------------
// About 50 operations: the energy of three particles in a plane (Lennard-Jones pairs, an angle
// term and gravity).
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn cluster(x1: f64, y1: f64, x2: f64, y2: f64, x3: f64, y3: f64) -> f64 {
    let (dx12, dy12) = (x2 - x1, y2 - y1);
    let (dx13, dy13) = (x3 - x1, y3 - y1);
    let (dx23, dy23) = (x3 - x2, y3 - y2);
    let r12 = dx12 * dx12 + dy12 * dy12;
    let r13 = dx13 * dx13 + dy13 * dy13;
    let r23 = dx23 * dx23 + dy23 * dy23;
    let i12 = r12.recip();
    let s12 = i12 * i12 * i12;
    let lj12 = 4.0 * (s12 * s12 - s12);
    let i13 = r13.recip();
    let s13 = i13 * i13 * i13;
    let lj13 = 4.0 * (s13 * s13 - s13);
    let i23 = r23.recip();
    let s23 = i23 * i23 * i23;
    let lj23 = 4.0 * (s23 * s23 - s23);
    let cos_angle = (dx12 * dx13 + dy12 * dy13) / (r12 * r13).sqrt();
    let bend = 0.5 * (cos_angle - 0.5).powi(2);
    let gravity = 9.81 * (y1 + y2 + y3);
    lj12 + lj13 + lj23 + bend + gravity
}

type Gradient6 = (f64, f64, f64, f64, f64, f64);

fn cluster_hand(x1: f64, y1: f64, x2: f64, y2: f64, x3: f64, y3: f64) -> (f64, Gradient6) {
    let (dx12, dy12) = (x2 - x1, y2 - y1);
    let (dx13, dy13) = (x3 - x1, y3 - y1);
    let (dx23, dy23) = (x3 - x2, y3 - y2);
    let r12 = dx12 * dx12 + dy12 * dy12;
    let r13 = dx13 * dx13 + dy13 * dy13;
    let r23 = dx23 * dx23 + dy23 * dy23;
    let i12 = r12.recip();
    let s12 = i12 * i12 * i12;
    let i13 = r13.recip();
    let s13 = i13 * i13 * i13;
    let i23 = r23.recip();
    let s23 = i23 * i23 * i23;
    let dot = dx12 * dx13 + dy12 * dy13;
    let inv_q = (r12 * r13).sqrt().recip();
    let cos_angle = dot * inv_q;
    let t = cos_angle - 0.5;
    let value = 4.0 * (s12 * s12 - s12)
        + 4.0 * (s13 * s13 - s13)
        + 4.0 * (s23 * s23 - s23)
        + 0.5 * t * t
        + 9.81 * (y1 + y2 + y3);

    // lj = 4 (s² - s), s = i³, i = 1/r: dlj/dr = 4 (2s - 1) · 3i² · (-i²)
    let mut dr12 = -12.0 * (2.0 * s12 - 1.0) * (i12 * i12) * (i12 * i12);
    let mut dr13 = -12.0 * (2.0 * s13 - 1.0) * (i13 * i13) * (i13 * i13);
    let dr23 = -12.0 * (2.0 * s23 - 1.0) * (i23 * i23) * (i23 * i23);
    // bend = t²/2, t = dot/q - 1/2, q = sqrt(r12 r13): ∂t/∂(r12 r13) = -cos_angle / (2 q²)
    let ddot = t * inv_q;
    let dp = -0.5 * t * cos_angle * inv_q * inv_q;
    dr12 += dp * r13;
    dr13 += dp * r12;
    let ddx12 = 2.0 * dx12 * dr12 + ddot * dx13;
    let ddy12 = 2.0 * dy12 * dr12 + ddot * dy13;
    let ddx13 = 2.0 * dx13 * dr13 + ddot * dx12;
    let ddy13 = 2.0 * dy13 * dr13 + ddot * dy12;
    let ddx23 = 2.0 * dx23 * dr23;
    let ddy23 = 2.0 * dy23 * dr23;
    let gradient = (
        -ddx12 - ddx13,
        -ddy12 - ddy13 + 9.81,
        ddx12 - ddx23,
        ddy12 - ddy23 + 9.81,
        ddx13 + ddx23,
        ddy13 + ddy23 + 9.81,
    );
    (value, gradient)
}

// ---------------------------------------------------------------------------------------------
// About 200 operations: a long unrolled chain of adds, products, sin/cos/tanh, Gaussians,
// `u / (1 + v²)` and `sqrt(1 + u²)`, mixed deterministically (an LCG picked the operations and
// operands; values stay within [-3, 3]). The hand-written gradient is the reverse sweep one
// writes line by line: each adjoint's first contribution is a `let`, later ones `+=`.
// ---------------------------------------------------------------------------------------------

#[differentiable]
fn chain(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let v0 = d + a;
    let v1 = v0.tanh();
    let v2 = v1 * c;
    let v3 = (-(v2 * v2)).exp();
    let v4 = v3 * 1.25 + v0;
    let v5 = v4 + d;
    let v6 = v5 * -0.9 + a;
    let v7 = v6.cos();
    let v8 = v7 * -0.9 + v5;
    let v9 = (1.0 + v8 * v8).sqrt();
    let v10 = v9.tanh();
    let v11 = v10 * 0.5 + v7;
    let v12 = v11 / (1.0 + v10 * v10);
    let v13 = v12 + c;
    let v14 = v13.tanh();
    let v15 = v14.tanh();
    let v16 = v15 / (1.0 + v10 * v10);
    let v17 = 1.5 * v16;
    let v18 = v17 + b;
    let v19 = v18.tanh();
    let v20 = v19 * -0.9 + v15;
    let v21 = 1.25 * v20;
    let v22 = v21 * v16;
    let v23 = v22 - v21;
    let v24 = (-(v23 * v23)).exp();
    let v25 = 1.25 * v24;
    let v26 = v25 + v22;
    let v27 = v26 * v23;
    let v28 = v27.tanh();
    let v29 = v28.cos();
    let v30 = (1.0 + v29 * v29).sqrt();
    let v31 = v30 - d;
    let v32 = v31 - v30;
    let v33 = v32 * 0.75 + v27;
    let v34 = v33 - v30;
    let v35 = v34.tanh();
    let v36 = v35 * v31;
    let v37 = v36.sin();
    let v38 = (1.0 + v37 * v37).sqrt();
    let v39 = v38 + v37;
    let v40 = v39 - v36;
    let v41 = v40.sin();
    let v42 = -0.9 * v41;
    let v43 = (-(v42 * v42)).exp();
    let v44 = 0.5 * v43;
    let v45 = 0.75 * v44;
    let v46 = v45.sin();
    let v47 = v46 * v43;
    let v48 = 0.5 * v47;
    let v49 = v48.cos();
    let v50 = v49 + a;
    let v51 = v50 - v48;
    let v52 = 1.25 * v51;
    let v53 = v52.tanh();
    let v54 = v53.tanh();
    let v55 = 1.25 * v54;
    let v56 = (1.0 + v55 * v55).sqrt();
    let v57 = v56 / (1.0 + v55 * v55);
    let v58 = v57.sin();
    let v59 = v58 * 0.5 + v53;
    let v60 = v59.tanh();
    let v61 = v60.sin();
    let v62 = v61.tanh();
    let v63 = v62 / (1.0 + v57 * v57);
    let v64 = v63 - v62;
    let v65 = -0.9 * v64;
    let v66 = (-(v65 * v65)).exp();
    let v67 = (1.0 + v66 * v66).sqrt();
    let v68 = v67 - v66;
    let v69 = v68.tanh();
    let v70 = v69 - v66;
    let v71 = v70.tanh();
    let v72 = (1.0 + v71 * v71).sqrt();
    let v73 = v72 / (1.0 + v67 * v67);
    let v74 = v73.tanh();
    let v75 = (1.0 + v74 * v74).sqrt();
    let v76 = v75 * -0.9 + v73;
    let v77 = (-(v76 * v76)).exp();
    let v78 = v77 - v74;
    let v79 = v78 * 1.25 + v75;
    let v80 = v79 * 1.5 + v76;
    let v81 = (1.0 + v80 * v80).sqrt();
    let v82 = v81 - v76;
    let v83 = v82.cos();
    let v84 = v83.cos();
    let v85 = v84 * 0.5 + v81;
    let v86 = (1.0 + v85 * v85).sqrt();
    let v87 = (-(v86 * v86)).exp();
    let v88 = v87.tanh();
    let v89 = (-(v88 * v88)).exp();
    let v90 = v89 / (1.0 + v88 * v88);
    let v91 = 0.75 * v90;
    let v92 = v91 * v88;
    let v93 = v92 * -0.9 + v88;
    let v94 = v93 - v90;
    let v95 = v94 * 1.25 + v90;
    let v96 = v95.tanh();
    let v97 = v96 + a;
    let v98 = v97 - b;
    let v99 = v98 - v95;
    let v100 = (-(v99 * v99)).exp();
    let v101 = (-(v100 * v100)).exp();
    let v102 = v101 * 1.5 + v97;
    let v103 = v102 - v99;
    let v104 = v103 * 1.5 + v98;
    let v105 = (-(v104 * v104)).exp();
    let v106 = -0.9 * v105;
    let v107 = v106.cos();
    let v108 = v107 / (1.0 + v102 * v102);
    let v109 = v108 - v105;
    let v110 = v109 / (1.0 + v107 * v107);
    let v111 = v110 - v108;
    let v112 = (-(v111 * v111)).exp();
    let v113 = 0.5 * v112;
    let v114 = v113 + c;
    let v115 = v114 + v110;
    let v116 = v115 - v111;
    let v117 = v116 / (1.0 + v114 * v114);
    let v118 = v117 + v114;
    let v119 = (-(v118 * v118)).exp();
    let v120 = (-(v119 * v119)).exp();
    let v121 = -0.6 * v120;
    v121 + v120
}

fn chain_hand(a: f64, b: f64, c: f64, d: f64) -> (f64, (f64, f64, f64, f64)) {
    let v0 = d + a;
    let v1 = v0.tanh();
    let v2 = v1 * c;
    let v3 = (-(v2 * v2)).exp();
    let v4 = v3 * 1.25 + v0;
    let v5 = v4 + d;
    let v6 = v5 * -0.9 + a;
    let v7 = v6.cos();
    let v8 = v7 * -0.9 + v5;
    let v9 = (1.0 + v8 * v8).sqrt();
    let v10 = v9.tanh();
    let v11 = v10 * 0.5 + v7;
    let v12 = v11 / (1.0 + v10 * v10);
    let v13 = v12 + c;
    let v14 = v13.tanh();
    let v15 = v14.tanh();
    let v16 = v15 / (1.0 + v10 * v10);
    let v17 = 1.5 * v16;
    let v18 = v17 + b;
    let v19 = v18.tanh();
    let v20 = v19 * -0.9 + v15;
    let v21 = 1.25 * v20;
    let v22 = v21 * v16;
    let v23 = v22 - v21;
    let v24 = (-(v23 * v23)).exp();
    let v25 = 1.25 * v24;
    let v26 = v25 + v22;
    let v27 = v26 * v23;
    let v28 = v27.tanh();
    let v29 = v28.cos();
    let v30 = (1.0 + v29 * v29).sqrt();
    let v31 = v30 - d;
    let v32 = v31 - v30;
    let v33 = v32 * 0.75 + v27;
    let v34 = v33 - v30;
    let v35 = v34.tanh();
    let v36 = v35 * v31;
    let v37 = v36.sin();
    let v38 = (1.0 + v37 * v37).sqrt();
    let v39 = v38 + v37;
    let v40 = v39 - v36;
    let v41 = v40.sin();
    let v42 = -0.9 * v41;
    let v43 = (-(v42 * v42)).exp();
    let v44 = 0.5 * v43;
    let v45 = 0.75 * v44;
    let v46 = v45.sin();
    let v47 = v46 * v43;
    let v48 = 0.5 * v47;
    let v49 = v48.cos();
    let v50 = v49 + a;
    let v51 = v50 - v48;
    let v52 = 1.25 * v51;
    let v53 = v52.tanh();
    let v54 = v53.tanh();
    let v55 = 1.25 * v54;
    let v56 = (1.0 + v55 * v55).sqrt();
    let v57 = v56 / (1.0 + v55 * v55);
    let v58 = v57.sin();
    let v59 = v58 * 0.5 + v53;
    let v60 = v59.tanh();
    let v61 = v60.sin();
    let v62 = v61.tanh();
    let v63 = v62 / (1.0 + v57 * v57);
    let v64 = v63 - v62;
    let v65 = -0.9 * v64;
    let v66 = (-(v65 * v65)).exp();
    let v67 = (1.0 + v66 * v66).sqrt();
    let v68 = v67 - v66;
    let v69 = v68.tanh();
    let v70 = v69 - v66;
    let v71 = v70.tanh();
    let v72 = (1.0 + v71 * v71).sqrt();
    let v73 = v72 / (1.0 + v67 * v67);
    let v74 = v73.tanh();
    let v75 = (1.0 + v74 * v74).sqrt();
    let v76 = v75 * -0.9 + v73;
    let v77 = (-(v76 * v76)).exp();
    let v78 = v77 - v74;
    let v79 = v78 * 1.25 + v75;
    let v80 = v79 * 1.5 + v76;
    let v81 = (1.0 + v80 * v80).sqrt();
    let v82 = v81 - v76;
    let v83 = v82.cos();
    let v84 = v83.cos();
    let v85 = v84 * 0.5 + v81;
    let v86 = (1.0 + v85 * v85).sqrt();
    let v87 = (-(v86 * v86)).exp();
    let v88 = v87.tanh();
    let v89 = (-(v88 * v88)).exp();
    let v90 = v89 / (1.0 + v88 * v88);
    let v91 = 0.75 * v90;
    let v92 = v91 * v88;
    let v93 = v92 * -0.9 + v88;
    let v94 = v93 - v90;
    let v95 = v94 * 1.25 + v90;
    let v96 = v95.tanh();
    let v97 = v96 + a;
    let v98 = v97 - b;
    let v99 = v98 - v95;
    let v100 = (-(v99 * v99)).exp();
    let v101 = (-(v100 * v100)).exp();
    let v102 = v101 * 1.5 + v97;
    let v103 = v102 - v99;
    let v104 = v103 * 1.5 + v98;
    let v105 = (-(v104 * v104)).exp();
    let v106 = -0.9 * v105;
    let v107 = v106.cos();
    let v108 = v107 / (1.0 + v102 * v102);
    let v109 = v108 - v105;
    let v110 = v109 / (1.0 + v107 * v107);
    let v111 = v110 - v108;
    let v112 = (-(v111 * v111)).exp();
    let v113 = 0.5 * v112;
    let v114 = v113 + c;
    let v115 = v114 + v110;
    let v116 = v115 - v111;
    let v117 = v116 / (1.0 + v114 * v114);
    let v118 = v117 + v114;
    let v119 = (-(v118 * v118)).exp();
    let v120 = (-(v119 * v119)).exp();
    let v121 = -0.6 * v120;
    let out = v121 + v120;
    let d_out = 1.0;
    let d_v121 = d_out;
    let mut d_v120 = d_out;
    d_v120 += d_v121 * -0.6;
    let d_v119 = -2.0 * d_v120 * v119 * v120;
    let d_v118 = -2.0 * d_v119 * v118 * v119;
    let d_v117 = d_v118;
    let mut d_v114 = d_v118;
    let d_v116 = d_v117 / (1.0 + v114 * v114);
    d_v114 += -2.0 * d_v117 * v114 * v117 / (1.0 + v114 * v114);
    let d_v115 = d_v116;
    let mut d_v111 = -d_v116;
    d_v114 += d_v115;
    let mut d_v110 = d_v115;
    let d_v113 = d_v114;
    let mut d_c = d_v114;
    let d_v112 = d_v113 * 0.5;
    d_v111 += -2.0 * d_v112 * v111 * v112;
    d_v110 += d_v111;
    let mut d_v108 = -d_v111;
    let d_v109 = d_v110 / (1.0 + v107 * v107);
    let mut d_v107 = -2.0 * d_v110 * v107 * v110 / (1.0 + v107 * v107);
    d_v108 += d_v109;
    let mut d_v105 = -d_v109;
    d_v107 += d_v108 / (1.0 + v102 * v102);
    let mut d_v102 = -2.0 * d_v108 * v102 * v108 / (1.0 + v102 * v102);
    let d_v106 = -d_v107 * v106.sin();
    d_v105 += d_v106 * -0.9;
    let d_v104 = -2.0 * d_v105 * v104 * v105;
    let d_v103 = d_v104 * 1.5;
    let mut d_v98 = d_v104;
    d_v102 += d_v103;
    let mut d_v99 = -d_v103;
    let d_v101 = d_v102 * 1.5;
    let mut d_v97 = d_v102;
    let d_v100 = -2.0 * d_v101 * v100 * v101;
    d_v99 += -2.0 * d_v100 * v99 * v100;
    d_v98 += d_v99;
    let mut d_v95 = -d_v99;
    d_v97 += d_v98;
    let mut d_b = -d_v98;
    let d_v96 = d_v97;
    let mut d_a = d_v97;
    d_v95 += d_v96 * (1.0 - v96 * v96);
    let d_v94 = d_v95 * 1.25;
    let mut d_v90 = d_v95;
    let d_v93 = d_v94;
    d_v90 += -d_v94;
    let d_v92 = d_v93 * -0.9;
    let mut d_v88 = d_v93;
    let d_v91 = d_v92 * v88;
    d_v88 += d_v92 * v91;
    d_v90 += d_v91 * 0.75;
    let d_v89 = d_v90 / (1.0 + v88 * v88);
    d_v88 += -2.0 * d_v90 * v88 * v90 / (1.0 + v88 * v88);
    d_v88 += -2.0 * d_v89 * v88 * v89;
    let d_v87 = d_v88 * (1.0 - v88 * v88);
    let d_v86 = -2.0 * d_v87 * v86 * v87;
    let d_v85 = d_v86 * v85 / v86;
    let d_v84 = d_v85 * 0.5;
    let mut d_v81 = d_v85;
    let d_v83 = -d_v84 * v83.sin();
    let d_v82 = -d_v83 * v82.sin();
    d_v81 += d_v82;
    let mut d_v76 = -d_v82;
    let d_v80 = d_v81 * v80 / v81;
    let d_v79 = d_v80 * 1.5;
    d_v76 += d_v80;
    let d_v78 = d_v79 * 1.25;
    let mut d_v75 = d_v79;
    let d_v77 = d_v78;
    let mut d_v74 = -d_v78;
    d_v76 += -2.0 * d_v77 * v76 * v77;
    d_v75 += d_v76 * -0.9;
    let mut d_v73 = d_v76;
    d_v74 += d_v75 * v74 / v75;
    d_v73 += d_v74 * (1.0 - v74 * v74);
    let d_v72 = d_v73 / (1.0 + v67 * v67);
    let mut d_v67 = -2.0 * d_v73 * v67 * v73 / (1.0 + v67 * v67);
    let d_v71 = d_v72 * v71 / v72;
    let d_v70 = d_v71 * (1.0 - v71 * v71);
    let d_v69 = d_v70;
    let mut d_v66 = -d_v70;
    let d_v68 = d_v69 * (1.0 - v69 * v69);
    d_v67 += d_v68;
    d_v66 += -d_v68;
    d_v66 += d_v67 * v66 / v67;
    let d_v65 = -2.0 * d_v66 * v65 * v66;
    let d_v64 = d_v65 * -0.9;
    let d_v63 = d_v64;
    let mut d_v62 = -d_v64;
    d_v62 += d_v63 / (1.0 + v57 * v57);
    let mut d_v57 = -2.0 * d_v63 * v57 * v63 / (1.0 + v57 * v57);
    let d_v61 = d_v62 * (1.0 - v62 * v62);
    let d_v60 = d_v61 * v60.cos();
    let d_v59 = d_v60 * (1.0 - v60 * v60);
    let d_v58 = d_v59 * 0.5;
    let mut d_v53 = d_v59;
    d_v57 += d_v58 * v57.cos();
    let d_v56 = d_v57 / (1.0 + v55 * v55);
    let mut d_v55 = -2.0 * d_v57 * v55 * v57 / (1.0 + v55 * v55);
    d_v55 += d_v56 * v55 / v56;
    let d_v54 = d_v55 * 1.25;
    d_v53 += d_v54 * (1.0 - v54 * v54);
    let d_v52 = d_v53 * (1.0 - v53 * v53);
    let d_v51 = d_v52 * 1.25;
    let d_v50 = d_v51;
    let mut d_v48 = -d_v51;
    let d_v49 = d_v50;
    d_a += d_v50;
    d_v48 += -d_v49 * v48.sin();
    let d_v47 = d_v48 * 0.5;
    let d_v46 = d_v47 * v43;
    let mut d_v43 = d_v47 * v46;
    let d_v45 = d_v46 * v45.cos();
    let d_v44 = d_v45 * 0.75;
    d_v43 += d_v44 * 0.5;
    let d_v42 = -2.0 * d_v43 * v42 * v43;
    let d_v41 = d_v42 * -0.9;
    let d_v40 = d_v41 * v40.cos();
    let d_v39 = d_v40;
    let mut d_v36 = -d_v40;
    let d_v38 = d_v39;
    let mut d_v37 = d_v39;
    d_v37 += d_v38 * v37 / v38;
    d_v36 += d_v37 * v36.cos();
    let d_v35 = d_v36 * v31;
    let mut d_v31 = d_v36 * v35;
    let d_v34 = d_v35 * (1.0 - v35 * v35);
    let d_v33 = d_v34;
    let mut d_v30 = -d_v34;
    let d_v32 = d_v33 * 0.75;
    let mut d_v27 = d_v33;
    d_v31 += d_v32;
    d_v30 += -d_v32;
    d_v30 += d_v31;
    let mut d_d = -d_v31;
    let d_v29 = d_v30 * v29 / v30;
    let d_v28 = -d_v29 * v28.sin();
    d_v27 += d_v28 * (1.0 - v28 * v28);
    let d_v26 = d_v27 * v23;
    let mut d_v23 = d_v27 * v26;
    let d_v25 = d_v26;
    let mut d_v22 = d_v26;
    let d_v24 = d_v25 * 1.25;
    d_v23 += -2.0 * d_v24 * v23 * v24;
    d_v22 += d_v23;
    let mut d_v21 = -d_v23;
    d_v21 += d_v22 * v16;
    let mut d_v16 = d_v22 * v21;
    let d_v20 = d_v21 * 1.25;
    let d_v19 = d_v20 * -0.9;
    let mut d_v15 = d_v20;
    let d_v18 = d_v19 * (1.0 - v19 * v19);
    let d_v17 = d_v18;
    d_b += d_v18;
    d_v16 += d_v17 * 1.5;
    d_v15 += d_v16 / (1.0 + v10 * v10);
    let mut d_v10 = -2.0 * d_v16 * v10 * v16 / (1.0 + v10 * v10);
    let d_v14 = d_v15 * (1.0 - v15 * v15);
    let d_v13 = d_v14 * (1.0 - v14 * v14);
    let d_v12 = d_v13;
    d_c += d_v13;
    let d_v11 = d_v12 / (1.0 + v10 * v10);
    d_v10 += -2.0 * d_v12 * v10 * v12 / (1.0 + v10 * v10);
    d_v10 += d_v11 * 0.5;
    let mut d_v7 = d_v11;
    let d_v9 = d_v10 * (1.0 - v10 * v10);
    let d_v8 = d_v9 * v8 / v9;
    d_v7 += d_v8 * -0.9;
    let mut d_v5 = d_v8;
    let d_v6 = -d_v7 * v6.sin();
    d_v5 += d_v6 * -0.9;
    d_a += d_v6;
    let d_v4 = d_v5;
    d_d += d_v5;
    let d_v3 = d_v4 * 1.25;
    let mut d_v0 = d_v4;
    let d_v2 = -2.0 * d_v3 * v2 * v3;
    let d_v1 = d_v2 * c;
    d_c += d_v2 * v1;
    d_v0 += d_v1 * (1.0 - v1 * v1);
    d_d += d_v0;
    d_a += d_v0;
    (out, (d_a, d_b, d_c, d_d))
}

// ---------------------------------------------------------------------------------------------
// Checks and benchmarks.
// ---------------------------------------------------------------------------------------------

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-5;
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Asserts that the hand-written gradient agrees with `NAME_grad` to rounding and with central
/// differences to their accuracy.
fn check<const N: usize>(
    name: &str,
    f: impl Fn([f64; N]) -> f64,
    x: [f64; N],
    ours: [f64; N],
    hand: [f64; N],
) {
    for i in 0..N {
        let fd = central_difference(
            |t| {
                let mut y = x;
                y[i] = t;
                f(y)
            },
            x[i],
        );
        assert!(
            rel_err(ours[i], hand[i]) < 1e-12,
            "{name}: d/dx{i}: nabla {} vs hand-written {}",
            ours[i],
            hand[i]
        );
        assert!(
            rel_err(hand[i], fd) < 1e-6,
            "{name}: d/dx{i}: hand-written {} vs finite differences {fd}",
            hand[i]
        );
    }
}

const SMALL_AT: (f64, f64) = (0.7, 1.3);
const CLUSTER_AT: [f64; 6] = [0.0, 0.0, 1.1, 0.1, 0.4, 0.9];
const CHAIN_AT: [f64; 4] = [0.3, -0.7, 1.1, 0.45];

fn verify() {
    let (x, y) = SMALL_AT;
    let (v, (dx, dy)) = small_grad(x, y);
    let (w, (hx, hy)) = small_hand(x, y);
    assert_eq!(v.to_bits(), small(x, y).to_bits());
    assert!(rel_err(v, w) < 1e-15);
    check("small", |[x, y]| small(x, y), [x, y], [dx, dy], [hx, hy]);

    let p = CLUSTER_AT;
    let (v, g) = cluster_grad(p[0], p[1], p[2], p[3], p[4], p[5]);
    let (w, h) = cluster_hand(p[0], p[1], p[2], p[3], p[4], p[5]);
    assert_eq!(
        v.to_bits(),
        cluster(p[0], p[1], p[2], p[3], p[4], p[5]).to_bits()
    );
    assert!(rel_err(v, w) < 1e-14);
    check(
        "cluster",
        |p| cluster(p[0], p[1], p[2], p[3], p[4], p[5]),
        p,
        [g.0, g.1, g.2, g.3, g.4, g.5],
        [h.0, h.1, h.2, h.3, h.4, h.5],
    );

    let [a, b, c, d] = CHAIN_AT;
    let (v, g) = chain_grad(a, b, c, d);
    let (w, h) = chain_hand(a, b, c, d);
    assert_eq!(v.to_bits(), chain(a, b, c, d).to_bits());
    assert_eq!(v.to_bits(), w.to_bits());
    check(
        "chain",
        |p| chain(p[0], p[1], p[2], p[3]),
        CHAIN_AT,
        [g.0, g.1, g.2, g.3],
        [h.0, h.1, h.2, h.3],
    );
}

fn benches(c: &mut Criterion) {
    verify();

    let mut group = c.benchmark_group("small_10");
    let (x, y) = SMALL_AT;
    group.bench_function("primal", |bench| {
        bench.iter(|| small(black_box(x), black_box(y)))
    });
    group.bench_function("nabla_grad", |bench| {
        bench.iter(|| small_grad(black_box(x), black_box(y)))
    });
    group.bench_function("hand_grad", |bench| {
        bench.iter(|| small_hand(black_box(x), black_box(y)))
    });
    group.finish();

    // Each input goes through its own `black_box`: with `black_box(p)` on the whole array, LLVM
    // reloaded it with loads straddling two stores (a store-forwarding stall) in the inlined
    // `cluster_grad` loop only, which serialized iterations and doubled its time.
    let mut group = c.benchmark_group("cluster_50");
    let p = CLUSTER_AT;
    group.bench_function("primal", |bench| {
        bench.iter(|| {
            cluster(
                black_box(p[0]),
                black_box(p[1]),
                black_box(p[2]),
                black_box(p[3]),
                black_box(p[4]),
                black_box(p[5]),
            )
        })
    });
    group.bench_function("nabla_grad", |bench| {
        bench.iter(|| {
            cluster_grad(
                black_box(p[0]),
                black_box(p[1]),
                black_box(p[2]),
                black_box(p[3]),
                black_box(p[4]),
                black_box(p[5]),
            )
        })
    });
    group.bench_function("hand_grad", |bench| {
        bench.iter(|| {
            cluster_hand(
                black_box(p[0]),
                black_box(p[1]),
                black_box(p[2]),
                black_box(p[3]),
                black_box(p[4]),
                black_box(p[5]),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("chain_200");
    let [a, b, c, d] = CHAIN_AT;
    group.bench_function("primal", |bench| {
        bench.iter(|| chain(black_box(a), black_box(b), black_box(c), black_box(d)))
    });
    group.bench_function("nabla_grad", |bench| {
        bench.iter(|| chain_grad(black_box(a), black_box(b), black_box(c), black_box(d)))
    });
    group.bench_function("hand_grad", |bench| {
        bench.iter(|| chain_hand(black_box(a), black_box(b), black_box(c), black_box(d)))
    });
    group.finish();
}

criterion_group!(straight_line, benches);
criterion_main!(straight_line);
