//! The check of one generated program: its gradient against central finite differences, at
//! random points where the program is smooth.
//!
//! Generated programs branch on values that carry gradient and use `max`, `min` and `abs`, so
//! some points lie within a finite-difference step of a kink or a jump, where the difference
//! quotient is meaningless. Such points are recognized from the primal alone, without looking at
//! the gradient under test: two Richardson-extrapolated central differences with steps `h` and
//! `h/2` agree to ~1e-12 where the function is smooth, and differ by about the size of the kink
//! where one lies within the stencil. Those points are skipped and another is drawn.

use crate::common::{rel_err, FD_TOL};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// One generated program, as a function of a flat vector of its inputs that carry gradient.
pub struct Case {
    pub name: &'static str,
    /// Length of the flat input.
    pub dims: usize,
    pub f: fn(&[f64]) -> f64,
    /// `NAME_grad`: the value and the gradient, flattened like the input.
    pub grad: fn(&[f64]) -> (f64, Vec<f64>),
}

/// Smooth points checked per program, and the points drawn to find them.
const POINTS: usize = 3;
const DRAWS: usize = 12;
/// The range of the inputs (the generator keeps every value bounded for inputs in it).
const INPUT: f64 = 1.5;
/// Finite-difference step (inputs are of order one).
const STEP: f64 = 1e-3;
/// Two extrapolated differences further apart than this mean a kink or jump within the step.
const SMOOTH_TOL: f64 = 1e-8;
/// `NAME_grad`'s value is the primal's, up to rounding.
const VALUE_TOL: f64 = 1e-12;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// The gradient differs from finite differences at a smooth point.
    WrongGradient,
    /// `NAME_grad`'s value differs from the primal's.
    WrongValue,
    /// `NAME_grad` panicked where the primal did not.
    GradientPanic,
    /// The primal panicked or was not finite: a bug of the generator, not of nabla.
    BadProgram,
    /// No drawn point was smooth.
    NoSmoothPoint,
}

pub struct Failure {
    pub case: &'static str,
    pub kind: FailureKind,
    pub point: Vec<f64>,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} {:?} at {:?}: {}",
            self.case, self.kind, self.point, self.detail
        )
    }
}

/// What checking a corpus found.
#[derive(Default)]
pub struct Report {
    pub programs: usize,
    pub points: usize,
    /// Points drawn but skipped, because a kink or jump lay within a step of them.
    pub skipped: usize,
    pub failures: Vec<Failure>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "{} programs, {} points checked, {} points skipped near a kink, {} failures",
            self.programs,
            self.points,
            self.skipped,
            self.failures.len()
        )?;
        let mut kinds: Vec<FailureKind> = self.failures.iter().map(|x| x.kind).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            let n = self.failures.iter().filter(|x| x.kind == k).count();
            writeln!(f, "  {k:?}: {n}")?;
        }
        for x in &self.failures {
            writeln!(f, "{x}")?;
        }
        Ok(())
    }
}

/// Checks every case.
pub fn run(cases: &[Case]) -> Report {
    let mut report = Report::default();
    for case in cases {
        report.programs += 1;
        if let Err(failure) = check(case, &mut report) {
            report.failures.push(failure);
        }
    }
    report
}

/// Checks `case` at `POINTS` smooth points (fewer if the draws run out, but at least one).
fn check(case: &Case, report: &mut Report) -> Result<(), Failure> {
    let mut rng = SplitMix(fnv1a(case.name));
    let mut checked = 0;
    for _ in 0..DRAWS {
        let x: Vec<f64> = (0..case.dims)
            .map(|_| (2.0 * rng.unit() - 1.0) * INPUT)
            .collect();
        let fail = |kind, detail: String| Failure {
            case: case.name,
            kind,
            point: x.clone(),
            detail,
        };
        let value = match catch_unwind(|| (case.f)(&x)) {
            Ok(v) if v.is_finite() => v,
            Ok(v) => return Err(fail(FailureKind::BadProgram, format!("primal is {v}"))),
            Err(e) => {
                let msg = format!("primal panicked: {}", panic_message(&e));
                return Err(fail(FailureKind::BadProgram, msg));
            }
        };
        let (v, g) = match catch_unwind(|| (case.grad)(&x)) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("gradient panicked: {}", panic_message(&e));
                return Err(fail(FailureKind::GradientPanic, msg));
            }
        };
        if rel_err(v, value) > VALUE_TOL || v.is_nan() {
            let msg = format!("value {v:e}, primal {value:e}");
            return Err(fail(FailureKind::WrongValue, msg));
        }
        let Some(fd) = smooth_gradient(case.f, &x) else {
            report.skipped += 1;
            continue;
        };
        for (i, (&got, &want)) in g.iter().zip(&fd).enumerate() {
            let e = rel_err(got, want);
            if e >= FD_TOL || got.is_nan() {
                let msg = format!(
                    "d/dx[{i}]: gradient {got:e}, finite differences {want:e} \
                     (relative error {e:e}); gradient {g:?}, finite differences {fd:?}"
                );
                return Err(fail(FailureKind::WrongGradient, msg));
            }
        }
        report.points += 1;
        checked += 1;
        if checked == POINTS {
            break;
        }
    }
    if checked == 0 {
        let msg = format!("none of {DRAWS} points was smooth");
        return Err(Failure {
            case: case.name,
            kind: FailureKind::NoSmoothPoint,
            point: Vec::new(),
            detail: msg,
        });
    }
    Ok(())
}

/// Finite-difference gradient of `f` at `x`, or `None` if `f` is not smooth within a step of
/// `x` along some coordinate.
fn smooth_gradient(f: fn(&[f64]) -> f64, x: &[f64]) -> Option<Vec<f64>> {
    let mut g = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let d = |h: f64| {
            let at = |t: f64| {
                let mut y = x.to_vec();
                y[i] += t;
                catch_unwind(AssertUnwindSafe(|| f(&y))).unwrap_or(f64::NAN)
            };
            (at(h) - at(-h)) / (2.0 * h)
        };
        let (d1, d2, d4) = (d(STEP), d(STEP / 2.0), d(STEP / 4.0));
        let coarse = (4.0 * d2 - d1) / 3.0;
        let fine = (4.0 * d4 - d2) / 3.0;
        // NaN (a step that left the domain) counts as not smooth.
        let e = rel_err(coarse, fine);
        if e.is_nan() || e >= SMOOTH_TOL {
            return None;
        }
        g.push(fine);
    }
    Some(g)
}

fn panic_message(e: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// The points of each program come from its name, so that a failure names a point that
/// reproduces alone.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}
