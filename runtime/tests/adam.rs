//! Adam against independent references: scalar re-implementations of the published algorithms
//! (written here from the formulas, sharing no code with the optimizer) and Keras's own golden
//! values.

use nabla_runtime::{Adam, Convention, OptimError};
use nalgebra::{DMatrix, DVector, SMatrix, SVector};

// ---------------------------------------------------------------------------------------------
// References, one loop per element, straight from the formulas.
// ---------------------------------------------------------------------------------------------

/// Hyperparameters shared by a reference and the optimizer under test.
#[derive(Clone, Copy, Debug)]
struct Hyper {
    lr: f64,
    b1: f64,
    b2: f64,
    eps: f64,
    amsgrad: bool,
    /// L2 weight decay (added to the gradient).
    l2: f64,
    /// Decoupled weight decay (AdamW).
    decoupled: f64,
    keras: bool,
}

/// PyTorch's defaults, written out here so that the optimizer's defaults are tested too.
const TORCH: Hyper = Hyper {
    lr: 1e-3,
    b1: 0.9,
    b2: 0.999,
    eps: 1e-8,
    amsgrad: false,
    l2: 0.0,
    decoupled: 0.0,
    keras: false,
};

impl Hyper {
    fn keras(self) -> Self {
        Hyper {
            keras: true,
            ..self
        }
    }

    fn amsgrad(self) -> Self {
        Hyper {
            amsgrad: true,
            ..self
        }
    }

    /// The optimizer under test, configured through its public builders.
    fn adam(&self) -> Adam {
        let convention = if self.keras {
            Convention::Keras
        } else {
            Convention::PyTorch
        };
        Adam::new(self.lr)
            .betas(self.b1, self.b2)
            .eps(self.eps)
            .amsgrad(self.amsgrad)
            .weight_decay(self.l2)
            .decoupled_weight_decay(self.decoupled)
            .convention(convention)
    }
}

/// Adam in `f64`, element by element.
struct Reference {
    h: Hyper,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
    vmax: Vec<f64>,
}

impl Reference {
    fn new(h: Hyper, n: usize) -> Self {
        Reference {
            h,
            t: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
            vmax: vec![0.0; n],
        }
    }

    fn step(&mut self, p: &mut [f64], g: &[f64]) {
        assert_eq!(p.len(), g.len());
        self.t += 1;
        for (i, &g) in g.iter().enumerate() {
            if self.h.keras {
                self.keras_element(i, p, g);
            } else {
                self.torch_element(i, p, g);
            }
        }
    }

    /// PyTorch `Adam`/`AdamW` (torch.optim docs, algorithm box): L2 decay joins the gradient,
    /// decoupled decay shrinks the parameter first; both moments bias-corrected; AMSGrad takes
    /// the maximum of the raw second moment and corrects it afterwards.
    fn torch_element(&mut self, i: usize, p: &mut [f64], g: f64) {
        let h = self.h;
        let g = g + h.l2 * p[i];
        p[i] *= 1.0 - h.lr * h.decoupled;
        self.m[i] = h.b1 * self.m[i] + (1.0 - h.b1) * g;
        self.v[i] = h.b2 * self.v[i] + (1.0 - h.b2) * g * g;
        let m_hat = self.m[i] / (1.0 - h.b1.powi(self.t));
        let v_used = if h.amsgrad {
            self.vmax[i] = self.vmax[i].max(self.v[i]);
            self.vmax[i]
        } else {
            self.v[i]
        };
        let v_hat = v_used / (1.0 - h.b2.powi(self.t));
        p[i] -= h.lr * m_hat / (v_hat.sqrt() + h.eps);
    }

    /// Keras 3 `Adam` (keras/src/optimizers/adam.py): the bias correction lives in the step
    /// size `alpha` and `eps` is added to the uncorrected root; AMSGrad keeps `v_hat = max`.
    fn keras_element(&mut self, i: usize, p: &mut [f64], g: f64) {
        let h = self.h;
        let g = g + h.l2 * p[i];
        p[i] *= 1.0 - h.lr * h.decoupled;
        let alpha = h.lr * (1.0 - h.b2.powi(self.t)).sqrt() / (1.0 - h.b1.powi(self.t));
        self.m[i] = h.b1 * self.m[i] + (1.0 - h.b1) * g;
        self.v[i] = h.b2 * self.v[i] + (1.0 - h.b2) * g * g;
        let v = if h.amsgrad {
            self.vmax[i] = self.vmax[i].max(self.v[i]);
            self.vmax[i]
        } else {
            self.v[i]
        };
        p[i] -= alpha * self.m[i] / (v.sqrt() + h.eps);
    }
}

// ---------------------------------------------------------------------------------------------
// Test data and comparison.
// ---------------------------------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    /// Uniform in [-1, 1), with a 24-bit mantissa so the value is exact in `f32` too.
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        bits as f64 / (1u64 << 23) as f64 - 1.0
    }
}

/// Gradient magnitudes cycled over the elements: ordinary, large, tiny (where `eps` matters)
/// and exactly zero (a parameter that receives no gradient).
const SCALES: [f64; 7] = [1.0, 0.1, 10.0, 1e-3, 1.0 / 1_048_576.0, 0.0, 3.0];

/// `steps` gradients of `n` elements, exactly representable in `f32`.
fn gradients(seed: u64, steps: usize, n: usize) -> Vec<Vec<f64>> {
    let mut rng = Rng(seed);
    (0..steps)
        .map(|_| {
            (0..n)
                .map(|i| f64::from((SCALES[i % SCALES.len()] * rng.next()) as f32))
                .collect()
        })
        .collect()
}

fn initial(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Rng(seed);
    (0..n).map(|_| 2.0 * rng.next()).collect()
}

/// ADBench's error measure, |a - b| / max(1, |a| + |b|): relative for large values, absolute
/// near zero.
fn error(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1.0)
}

#[track_caller]
fn assert_close(ours: &[f64], reference: &[f64], tol: f64, what: &str) {
    assert_eq!(ours.len(), reference.len());
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        assert!(
            error(a, b) <= tol,
            "{what}: element {i}: ours {a:e}, reference {b:e}, error {:e}",
            error(a, b)
        );
    }
}

const STEPS: usize = 25;
/// Not a multiple of any vector width, so both the vector body and the remainder are used.
const N: usize = 67;

/// Runs the optimizer on `f64` parameters and the reference side by side, comparing after
/// every step.
fn trajectory_f64(h: Hyper, opt: Adam, what: &str) {
    let mut opt = opt;
    let mut reference = Reference::new(h, N);
    let mut ours = initial(1, N);
    let mut theirs = ours.clone();
    for (t, g) in gradients(2, STEPS, N).iter().enumerate() {
        opt.step(&mut ours, g).unwrap();
        reference.step(&mut theirs, g);
        assert_close(
            &ours,
            &theirs,
            1e-12,
            &format!("{what}, f64, step {}", t + 1),
        );
    }
    assert_eq!(opt.steps(), STEPS as u64);
    // The trajectory moved: comparing parameters that never changed would prove nothing.
    assert!(ours
        .iter()
        .zip(initial(1, N))
        .any(|(a, b)| (a - b).abs() > 1e-3));
}

/// The same with `f32` parameters and gradients against the `f64` reference.
fn trajectory_f32(h: Hyper, opt: Adam, what: &str) {
    let mut opt = opt;
    let mut reference = Reference::new(h, N);
    let start = initial(1, N);
    let mut ours: Vec<f32> = start.iter().map(|&x| x as f32).collect();
    let mut theirs: Vec<f64> = ours.iter().map(|&x| f64::from(x)).collect();
    for (t, g) in gradients(2, STEPS, N).iter().enumerate() {
        let g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
        opt.step(&mut ours, &g32).unwrap();
        reference.step(&mut theirs, g);
        let widened: Vec<f64> = ours.iter().map(|&x| f64::from(x)).collect();
        assert_close(
            &widened,
            &theirs,
            1e-5,
            &format!("{what}, f32, step {}", t + 1),
        );
    }
}

fn trajectories(h: Hyper, what: &str) {
    trajectory_f64(h, h.adam(), what);
    trajectory_f32(h, h.adam(), what);
}

// ---------------------------------------------------------------------------------------------
// Trajectories against the references.
// ---------------------------------------------------------------------------------------------

#[test]
fn defaults_are_pytorch() {
    let h = Hyper { lr: 0.01, ..TORCH };
    trajectory_f64(h, Adam::new(0.01), "defaults");
    trajectory_f32(h, Adam::new(0.01), "defaults");
}

#[test]
fn pytorch_convention() {
    trajectories(Hyper { lr: 0.05, ..TORCH }, "pytorch");
}

#[test]
fn keras_convention() {
    trajectories(
        Hyper {
            lr: 0.05,
            eps: 1e-7,
            ..TORCH
        }
        .keras(),
        "keras",
    );
}

#[test]
fn amsgrad_pytorch_convention() {
    trajectories(Hyper { lr: 0.05, ..TORCH }.amsgrad(), "amsgrad pytorch");
}

#[test]
fn amsgrad_keras_convention() {
    trajectories(
        Hyper {
            lr: 0.05,
            eps: 1e-7,
            ..TORCH
        }
        .keras()
        .amsgrad(),
        "amsgrad keras",
    );
}

#[test]
fn l2_weight_decay() {
    let h = Hyper {
        lr: 0.05,
        l2: 0.1,
        ..TORCH
    };
    trajectories(h, "l2 pytorch");
    trajectories(h.keras(), "l2 keras");
    trajectories(h.amsgrad(), "l2 amsgrad");
}

#[test]
fn decoupled_weight_decay() {
    let h = Hyper {
        lr: 0.05,
        decoupled: 0.5,
        ..TORCH
    };
    trajectories(h, "adamw pytorch");
    trajectories(h.keras(), "adamw keras");
    trajectories(h.amsgrad(), "adamw amsgrad");
}

#[test]
fn both_weight_decays_together() {
    trajectories(
        Hyper {
            lr: 0.02,
            l2: 0.3,
            decoupled: 0.2,
            ..TORCH
        },
        "l2 and adamw",
    );
}

#[test]
fn non_default_betas_and_eps() {
    let h = Hyper {
        lr: 0.1,
        b1: 0.5,
        b2: 0.75,
        eps: 1e-3,
        ..TORCH
    };
    trajectories(h, "betas/eps pytorch");
    trajectories(h.keras(), "betas/eps keras");
    trajectories(h.amsgrad(), "betas/eps amsgrad");
    // beta1 = 0: no momentum at all.
    trajectories(
        Hyper {
            b1: 0.0,
            b2: 0.99,
            ..h
        },
        "beta1 zero",
    );
}

/// Gradients that depend on the parameters (a quadratic bowl), so that any error compounds.
#[test]
fn trajectory_on_a_quadratic() {
    for h in [
        Hyper { lr: 0.1, ..TORCH },
        Hyper { lr: 0.1, ..TORCH }.keras().amsgrad(),
    ] {
        let target = initial(7, N);
        let grad = |p: &[f64]| -> Vec<f64> {
            p.iter()
                .zip(&target)
                .enumerate()
                .map(|(i, (p, t))| SCALES[i % SCALES.len()] * 2.0 * (p - t))
                .collect()
        };
        let mut opt = h.adam();
        let mut reference = Reference::new(h, N);
        let mut ours = initial(1, N);
        let mut theirs = ours.clone();
        for t in 0..60 {
            let (g_ours, g_theirs) = (grad(&ours), grad(&theirs));
            opt.step(&mut ours, &g_ours).unwrap();
            reference.step(&mut theirs, &g_theirs);
            assert_close(
                &ours,
                &theirs,
                1e-12,
                &format!("quadratic {h:?}, step {}", t + 1),
            );
        }
    }
}

#[test]
fn learning_rate_change_keeps_the_moments() {
    let h = Hyper { lr: 0.05, ..TORCH };
    let mut opt = h.adam();
    let mut reference = Reference::new(h, N);
    let mut ours = initial(1, N);
    let mut theirs = ours.clone();
    for (t, g) in gradients(3, STEPS, N).iter().enumerate() {
        if t == 10 {
            opt.set_learning_rate(0.01);
            reference.h.lr = 0.01;
            assert_eq!(opt.learning_rate(), 0.01);
        }
        opt.step(&mut ours, g).unwrap();
        reference.step(&mut theirs, g);
        assert_close(&ours, &theirs, 1e-12, &format!("lr change, step {}", t + 1));
    }
}

/// A large block runs through the wide vector loops (and their remainders) of every kernel.
#[test]
fn large_block() {
    let n = 4099;
    for h in [
        Hyper { lr: 0.05, ..TORCH },
        Hyper { lr: 0.05, ..TORCH }.amsgrad(),
    ] {
        let mut opt = h.adam();
        let mut reference = Reference::new(h, n);
        let mut ours = initial(4, n);
        let mut theirs = ours.clone();
        for g in gradients(5, 3, n) {
            opt.step(&mut ours, &g).unwrap();
            reference.step(&mut theirs, &g);
        }
        assert_close(&ours, &theirs, 1e-12, "large block");
    }
}

/// A block long enough to be split across threads by the `rayon` feature: the result is the
/// same, chunk boundaries included, and a bad value near the end is still found first.
#[test]
fn block_above_the_parallel_threshold() {
    let n = (1 << 17) + 3;
    let h = Hyper { lr: 0.05, ..TORCH }.amsgrad();
    let mut opt = h.adam();
    let mut reference = Reference::new(h, n);
    let mut ours = initial(4, n);
    let mut theirs = ours.clone();
    let grads = gradients(6, 3, n);
    for g in &grads {
        opt.step(&mut ours, g).unwrap();
        reference.step(&mut theirs, g);
    }
    assert_close(&ours, &theirs, 1e-12, "parallel block");

    let mut poisoned = grads[0].clone();
    poisoned[n - 2] = f64::NAN;
    poisoned[n - 1] = f64::INFINITY;
    let before = ours.clone();
    assert!(matches!(
        opt.step(&mut ours, &poisoned),
        Err(OptimError::NonFiniteGradient { index, .. }) if index == n - 2
    ));
    assert_eq!(ours, before);
}

// ---------------------------------------------------------------------------------------------
// Keras's golden values (keras/src/optimizers/adam_test.py), reproduced exactly.
// ---------------------------------------------------------------------------------------------

/// numpy's `assertAllClose`: |a - b| <= atol + rtol * |b|.
#[track_caller]
fn assert_all_close(actual: &[f32], desired: &[f64], rtol: f64, atol: f64) {
    for (i, (&a, &b)) in actual.iter().zip(desired).enumerate() {
        let a = f64::from(a);
        assert!(
            (a - b).abs() <= atol + rtol * b.abs(),
            "element {i}: {a} is not close to {b}"
        );
    }
}

/// `test_correctness_with_golden`: `Adam(amsgrad=True)` with Keras's defaults (lr 1e-3,
/// eps 1e-7) on `x = ones(10)` in `float32`: one step with gradient 0.01 everywhere, then
/// steps with `arange(0.1, 1.1, 0.1)`, compared to the golden value before each of those.
#[test]
fn keras_golden_amsgrad() {
    let mut opt = Adam::new(0.001)
        .eps(1e-7)
        .amsgrad(true)
        .convention(Convention::Keras);
    let mut x = vec![1.0f32; 10];
    let grads: Vec<f32> = (1..=10).map(|i| 0.1 * i as f32).collect();
    let first_grads = vec![0.01f32; 10];
    let golden = [0.999, 0.9982, 0.9974, 0.9965, 0.9955];

    opt.step(&mut x, &first_grads).unwrap();
    for row in golden {
        assert_all_close(&x, &[row; 10], 5e-4, 5e-4);
        opt.step(&mut x, &grads).unwrap();
    }
}

/// `test_single_step`: `Adam(learning_rate=0.5)`, one step.
#[test]
fn keras_golden_single_step() {
    let mut opt = Adam::new(0.5).eps(1e-7).convention(Convention::Keras);
    let mut vars = [1.0f32, 2.0, 3.0, 4.0];
    opt.step(&mut vars, &[1.0, 6.0, 7.0, 2.0]).unwrap();
    assert_all_close(&vars, &[0.5, 1.5, 2.5, 3.5], 1e-4, 1e-4);
}

/// `test_weight_decay`: Keras's `weight_decay` is decoupled (`var -= var * wd * lr`); three
/// fresh optimizers with lr 1 and decay 0.004 each take one step with a zero gradient.
#[test]
fn keras_golden_weight_decay() {
    let mut var1 = 2.0f32;
    for _ in 0..3 {
        let mut opt = Adam::new(1.0)
            .eps(1e-7)
            .decoupled_weight_decay(0.004)
            .convention(Convention::Keras);
        opt.step(&mut var1, &0.0).unwrap();
    }
    assert!((f64::from(var1) - 1.9760959).abs() < 1.5e-6, "{var1}");
}

// ---------------------------------------------------------------------------------------------
// Nothing lost.
// ---------------------------------------------------------------------------------------------

/// A NaN gradient in the middle of training is refused, names its index, changes nothing, and
/// the rest of the trajectory is exactly the one where it never came.
#[test]
fn non_finite_gradient_changes_nothing() {
    for h in [
        Hyper { lr: 0.05, ..TORCH },
        Hyper { lr: 0.05, ..TORCH }.keras().amsgrad(),
    ] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let good = gradients(9, 20, N);
            let mut opt = h.adam();
            let mut clean = h.adam();
            let mut reference = Reference::new(h, N);
            let mut ours = initial(1, N);
            let mut unbothered = ours.clone();
            let mut theirs = ours.clone();
            for (t, g) in good.iter().enumerate() {
                if t == 10 {
                    let before = ours.clone();
                    let mut poisoned = g.clone();
                    poisoned[41] = bad;
                    poisoned[60] = f64::NAN;
                    let err = opt.step(&mut ours, &poisoned).unwrap_err();
                    match err {
                        OptimError::NonFiniteGradient { index: 41, value } => {
                            assert!(
                                value.is_nan() == bad.is_nan() && (bad.is_nan() || value == bad)
                            );
                        }
                        other => panic!("wrong error {other:?}"),
                    }
                    assert_eq!(ours, before, "parameters changed");
                    assert_eq!(opt.steps(), 10);
                }
                opt.step(&mut ours, g).unwrap();
                clean.step(&mut unbothered, g).unwrap();
                reference.step(&mut theirs, g);
                assert_eq!(ours, unbothered, "step {}: trajectory differs", t + 1);
                assert_close(&ours, &theirs, 1e-12, "after a refused step");
            }
            assert_eq!(opt.steps(), 20);
        }
    }
}

#[test]
fn non_finite_f32_gradient_is_refused() {
    let mut opt = Adam::new(0.1);
    let mut p = vec![1.0f32; 40];
    opt.step(&mut p, &vec![0.5; 40]).unwrap();
    let before = p.clone();
    let mut g = vec![0.5f32; 40];
    g[33] = f32::INFINITY;
    assert_eq!(
        opt.step(&mut p, &g),
        Err(OptimError::NonFiniteGradient {
            index: 33,
            value: f64::INFINITY
        })
    );
    assert_eq!(p, before);
    assert_eq!(opt.steps(), 1);
}

/// The index counts elements across blocks, in walk order: tuple members in order,
/// matrices column-major.
#[test]
fn non_finite_index_is_flat_across_blocks() {
    let mut opt = Adam::new(0.1);
    let mut p = (1.0f64, vec![1.0f32; 5], DMatrix::<f64>::zeros(2, 3));
    let mut g = (0.1, vec![0.1f32; 5], DMatrix::<f64>::zeros(2, 3));
    g.2[(1, 2)] = f64::NEG_INFINITY; // column-major position 5
    let before = p.clone();
    let err = opt.step(&mut p, &g).unwrap_err();
    assert_eq!(
        err,
        OptimError::NonFiniteGradient {
            index: 1 + 5 + 5,
            value: f64::NEG_INFINITY
        }
    );
    assert_eq!(p, before);
}

#[test]
fn size_mismatch_changes_nothing() {
    let mut opt = Adam::new(0.1);
    let mut p = vec![1.0f64; 5];
    assert_eq!(
        opt.step(&mut p, &vec![0.1; 4]),
        Err(OptimError::SizeMismatch {
            expected: 5,
            found: 4
        })
    );
    assert_eq!(p, vec![1.0; 5]);
    assert_eq!(opt.steps(), 0);

    // On a later step too, and inside a tuple, before a NaN in a later block.
    opt.step(&mut p, &vec![0.1; 5]).unwrap();
    let mut t = (p.clone(), vec![2.0f32; 3]);
    let mut opt2 = Adam::new(0.1);
    opt2.step(&mut t, &(vec![0.1; 5], vec![0.1; 3])).unwrap();
    let before = t.clone();
    assert_eq!(
        opt2.step(&mut t, &(vec![0.1; 5], vec![0.1, 0.1, 0.1, f32::NAN])),
        Err(OptimError::SizeMismatch {
            expected: 3,
            found: 4
        })
    );
    assert_eq!(t, before);
    assert_eq!(opt2.steps(), 1);
}

#[test]
fn shape_mismatch_is_refused_even_with_equal_sizes() {
    let mut opt = Adam::new(0.1);
    let mut p = DMatrix::<f64>::from_element(2, 3, 1.0);
    let err = opt
        .step(&mut p, &DMatrix::from_element(3, 2, 0.1))
        .unwrap_err();
    assert_eq!(
        err,
        OptimError::ShapeMismatch {
            expected: (2, 3),
            found: (3, 2)
        }
    );
    assert_eq!(p, DMatrix::from_element(2, 3, 1.0));
}

#[test]
fn state_mismatch_changes_nothing() {
    let mut opt = Adam::new(0.1);
    let mut p = vec![1.0f64; 5];
    opt.step(&mut p, &vec![0.1; 5]).unwrap();

    let mut longer = vec![1.0f64; 6];
    assert_eq!(
        opt.step(&mut longer, &vec![0.1; 6]),
        Err(OptimError::StateMismatch {
            expected: 5,
            found: 6
        })
    );
    assert_eq!(longer, vec![1.0; 6]);
    assert_eq!(opt.steps(), 1);

    // Same number of elements, other layout: still refused.
    let mut split = (vec![1.0f64; 2], vec![1.0f64; 3]);
    assert!(matches!(
        opt.step(&mut split, &(vec![0.1; 2], vec![0.1; 3])),
        Err(OptimError::StateMismatch {
            expected: 5,
            found: 5
        })
    ));
    let mut single = vec![1.0f32; 5];
    assert!(opt.step(&mut single, &vec![0.1; 5]).is_err());

    // The original parameters still work, and `reset` accepts the new ones.
    opt.step(&mut p, &vec![0.1; 5]).unwrap();
    assert_eq!(opt.steps(), 2);
    opt.reset();
    assert_eq!(opt.steps(), 0);
    opt.step(&mut longer, &vec![0.1; 6]).unwrap();
}

#[test]
fn error_messages_are_lowercase_without_period() {
    let errors = [
        OptimError::NonFiniteGradient {
            index: 3,
            value: f64::NAN,
        },
        OptimError::SizeMismatch {
            expected: 5,
            found: 4,
        },
        OptimError::ShapeMismatch {
            expected: (2, 3),
            found: (3, 2),
        },
        OptimError::StateMismatch {
            expected: 5,
            found: 6,
        },
        OptimError::StateMismatch {
            expected: 5,
            found: 5,
        },
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(msg.starts_with(char::is_lowercase), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
        let _: &dyn std::error::Error = &e;
    }
    assert_eq!(
        errors[0].to_string(),
        "non-finite gradient: element 3 is NaN; parameters and optimizer state are unchanged"
    );
    assert_eq!(
        errors[1].to_string(),
        "gradient block has 4 elements but its parameter block has 5"
    );
    assert_eq!(
        errors[2].to_string(),
        "gradient matrix is 3x2 but its parameter matrix is 2x3"
    );
    assert!(errors[3].to_string().contains("6 elements"));
}

// ---------------------------------------------------------------------------------------------
// Parameter types and state.
// ---------------------------------------------------------------------------------------------

type Mixed = (
    SVector<f64, 3>,
    f32,
    DMatrix<f64>,
    [f32; 4],
    Vec<f64>,
    DVector<f32>,
    SMatrix<f32, 2, 3>,
    f64,
);

fn flatten(p: &Mixed) -> (Vec<f64>, Vec<bool>) {
    let mut out = Vec::new();
    let mut is_f32 = Vec::new();
    let mut push = |xs: &[f64], f32: bool| {
        out.extend_from_slice(xs);
        is_f32.extend(std::iter::repeat_n(f32, xs.len()));
    };
    let widen = |xs: &[f32]| xs.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    push(p.0.as_slice(), false);
    push(&[f64::from(p.1)], true);
    push(p.2.as_slice(), false);
    push(&widen(&p.3), true);
    push(&p.4, false);
    push(&widen(p.5.as_slice()), true);
    push(&widen(p.6.as_slice()), true);
    push(&[p.7], false);
    (out, is_f32)
}

fn unflatten(x: &[f64]) -> Mixed {
    let f = |r: std::ops::Range<usize>| x[r].to_vec();
    let n = |r: std::ops::Range<usize>| x[r].iter().map(|&v| v as f32).collect::<Vec<_>>();
    (
        SVector::from_column_slice(&x[0..3]),
        x[3] as f32,
        DMatrix::from_column_slice(2, 2, &x[4..8]),
        n(8..12).try_into().unwrap(),
        f(12..17),
        DVector::from_vec(n(17..20)),
        SMatrix::from_column_slice(&n(20..26)),
        x[26],
    )
}

/// A tuple of eight members mixing `f32` and `f64` and nalgebra types: every member follows
/// the reference, so the `f32` and `f64` state buffers are walked in the right order.
#[test]
fn tuple_mixing_f32_f64_and_nalgebra() {
    let n = 27;
    for h in [
        Hyper { lr: 0.05, ..TORCH },
        Hyper {
            lr: 0.05,
            decoupled: 0.1,
            ..TORCH
        }
        .keras()
        .amsgrad(),
    ] {
        let mut opt = h.adam();
        let mut reference = Reference::new(h, n);
        let mut params: Mixed = unflatten(&initial(11, n));
        let (mut theirs, is_f32) = flatten(&params);
        for (t, g) in gradients(12, STEPS, n).iter().enumerate() {
            let grads: Mixed = unflatten(g);
            opt.step(&mut params, &grads).unwrap();
            reference.step(&mut theirs, g);
            let (ours, _) = flatten(&params);
            for i in 0..n {
                let tol = if is_f32[i] { 1e-5 } else { 1e-12 };
                assert!(
                    error(ours[i], theirs[i]) <= tol,
                    "step {} element {i}: {} vs {}",
                    t + 1,
                    ours[i],
                    theirs[i]
                );
            }
        }
    }
}

/// The moments live in the optimizer between steps: two optimizers fed the same gradients
/// agree with each other and with the reference, and `reset` starts over.
#[test]
fn state_is_reused_across_steps_and_reset_starts_over() {
    let h = Hyper { lr: 0.05, ..TORCH };
    let grads = gradients(13, 10, N);
    let mut opt = h.adam();
    let mut p = initial(1, N);
    for g in &grads {
        opt.step(&mut p, g).unwrap();
    }
    let mut reference = Reference::new(h, N);
    let mut theirs = initial(1, N);
    for g in &grads {
        reference.step(&mut theirs, g);
    }
    assert_close(&p, &theirs, 1e-12, "ten steps");

    // After `reset`, the optimizer behaves as a fresh one.
    opt.reset();
    let mut fresh = h.adam();
    let mut a = initial(1, N);
    let mut b = a.clone();
    for g in &grads {
        opt.step(&mut a, g).unwrap();
        fresh.step(&mut b, g).unwrap();
    }
    assert_eq!(a, b);
}

/// AMSGrad turned on after some steps starts its running maximum from zero.
#[test]
fn amsgrad_turned_on_later() {
    let h = Hyper { lr: 0.05, ..TORCH };
    let grads = gradients(14, 12, N);
    let mut opt = h.adam();
    let mut reference = Reference::new(h, N);
    let mut ours = initial(1, N);
    let mut theirs = ours.clone();
    for (t, g) in grads.iter().enumerate() {
        if t == 6 {
            opt = opt.amsgrad(true);
            reference.h.amsgrad = true;
        }
        opt.step(&mut ours, g).unwrap();
        reference.step(&mut theirs, g);
        assert_close(&ours, &theirs, 1e-12, "amsgrad later");
    }
}

#[test]
fn scalar_and_empty_parameters() {
    let h = Hyper { lr: 0.1, ..TORCH };
    let mut opt = h.adam();
    let mut reference = Reference::new(h, 1);
    let mut x = 0.5f64;
    let mut theirs = [0.5f64];
    for t in 0..STEPS {
        let g = (t as f64 - 12.0) / 7.0;
        opt.step(&mut x, &g).unwrap();
        reference.step(&mut theirs, &[g]);
        assert_close(&[x], &theirs, 1e-12, "scalar");
    }
    let mut empty: Vec<f64> = Vec::new();
    Adam::new(0.1).step(&mut empty, &Vec::new()).unwrap();
}
