//! `#[differentiable]` on methods (`&self`, `self`, associated functions), calls of such methods
//! from differentiable code, and generic functions over `T: Real`. Every gradient against
//! central finite differences.

mod common;

use common::check_fd;
use nabla::{check_parameters, differentiable, Parameters, Real};
use nalgebra::{DMatrix, DVector};

#[derive(Clone, Copy, Debug, PartialEq, Parameters)]
pub struct Oscillator {
    pub k: f64,
    pub c: f64,
}

impl Oscillator {
    #[differentiable]
    pub fn accel(&self, x: f64, v: f64) -> f64 {
        -self.k * x - self.c * v
    }

    /// Energy after integrating to `t`: calls `self.accel` in a loop.
    #[differentiable]
    pub fn energy(&self, #[no_grad] t: f64) -> f64 {
        let dt = t / 50.0;
        let mut x = 1.0;
        let mut v = 0.0;
        for _ in 0..50 {
            let a = self.accel(x, v);
            v += dt * a;
            x += dt * v;
        }
        0.5 * v * v + 0.5 * self.k * x * x
    }

    #[differentiable]
    pub fn by_value(self, s: f64) -> f64 {
        self.k * s.sin() + self.c * s
    }

    /// An associated function without `self`, calling another through `Self::`.
    #[differentiable]
    pub fn scaled(s: f64, o: &Self) -> f64 {
        Self::by_value(*o, s) * s + Oscillator::accel(o, s, 1.0)
    }
}

fn osc() -> Oscillator {
    Oscillator { k: 2.5, c: 0.3 }
}

#[test]
fn a_method_calling_a_method() {
    let o = osc();
    let (value, g) = o.energy_grad(1.7);
    assert_eq!(value, o.energy(1.7));
    check_parameters(|o: &Oscillator| o.energy(1.7), &o, &g).assert_below(1e-7);
    let (_, scaled) = o.energy_vjp(1.7, 2.0);
    assert_eq!(
        scaled,
        Oscillator {
            k: 2.0 * g.k,
            c: 2.0 * g.c
        }
    );
}

#[test]
fn self_first_then_the_other_parameters() {
    let o = osc();
    let (_, (d_self, dx, dv)) = o.accel_grad(0.4, -0.7);
    assert_eq!(d_self, Oscillator { k: -0.4, c: 0.7 });
    assert_eq!((dx, dv), (-2.5, -0.3));
}

#[test]
fn self_by_value_and_associated_functions() {
    let o = osc();
    let (_, (d_self, ds)) = o.by_value_grad(0.9);
    assert_eq!(
        d_self,
        Oscillator {
            k: 0.9f64.sin(),
            c: 0.9
        }
    );
    assert!((ds - (2.5 * 0.9f64.cos() + 0.3)).abs() < 1e-15);

    let (_, (ds, d_o)) = Oscillator::scaled_grad(0.6, &o);
    check_fd(
        |[s, k, c]| Oscillator::scaled(s, &Oscillator { k, c }),
        [0.6, o.k, o.c],
        [ds, d_o.k, d_o.c],
        "scaled",
    );
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Layer {
    pub w: DMatrix<f64>,
    pub b: DVector<f64>,
}

impl Layer {
    #[differentiable]
    pub fn forward(&self, x: &DVector<f64>) -> DVector<f64> {
        (&self.w * x + &self.b).map(|v| v.tanh())
    }
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Mlp {
    pub layers: Vec<Layer>,
}

impl Mlp {
    /// `layer.forward(..)` on each element of a field.
    #[differentiable]
    pub fn loss(&self, #[no_grad] x: &DVector<f64>, #[no_grad] y: f64) -> f64 {
        let mut h = x.clone();
        for layer in &self.layers {
            h = layer.forward(&h);
        }
        let e = h.sum() - y;
        e * e
    }
}

#[test]
fn methods_of_the_elements_of_a_field() {
    let layer = |rows: usize, cols: usize, seed: f64| Layer {
        w: DMatrix::from_fn(rows, cols, |i, j| (seed + i as f64 - 0.5 * j as f64).sin()),
        b: DVector::from_fn(rows, |i, _| 0.1 * (seed + i as f64).cos()),
    };
    let mlp = Mlp {
        layers: vec![layer(4, 3, 0.3), layer(2, 4, -1.0)],
    };
    let x = DVector::from_vec(vec![0.5, -0.25, 1.0]);
    let (_, g) = mlp.loss_grad(&x, 0.4);
    check_parameters(|m: &Mlp| m.loss(&x, 0.4), &mlp, &g).assert_below(1e-7);

    // A vector result through `_vjp`: the gradient is a `Layer`, and one of `x`.
    let cotangent = DVector::from_vec(vec![1.0, -2.0, 0.5, 0.25]);
    let (_, (d_layer, dx)) = mlp.layers[0].forward_vjp(&x, cotangent.clone());
    let dot = |l: &Layer, x: &DVector<f64>| l.forward(x).dot(&cotangent);
    check_parameters(|l: &Layer| dot(l, &x), &mlp.layers[0], &d_layer).assert_below(1e-8);
    check_parameters(|x: &DVector<f64>| dot(&mlp.layers[0], x), &x, &dx).assert_below(1e-8);
}

#[differentiable]
fn rosen<T: Real>(x: T, y: T) -> T {
    let a = T::ONE - x;
    let b = y - x * x;
    a * a + T::from_f64(100.0) * b * b
}

#[test]
fn one_generic_gradient_for_f32_and_f64() {
    let (_, (dx, dy)) = rosen_grad(0.3f64, -0.4);
    check_fd(|[x, y]| rosen(x, y), [0.3, -0.4], [dx, dy], "rosen f64");
    let (_, (dx32, dy32)) = rosen_grad(0.3f32, -0.4);
    assert!((f64::from(dx32) - dx).abs() < 1e-3 * dx.abs());
    assert!((f64::from(dy32) - dy).abs() < 1e-3 * dy.abs());
}

/// Float functions called through the type parameter (`T::max(a, b)`, `T::exp(x)`, `T::abs`),
/// `abs` on a value of the type parameter, and a fold whose step is one.
#[differentiable]
fn through_the_type<T: Real>(w: &[T], b: T) -> T {
    let top = w.iter().copied().fold(T::from_f64(-1e9), T::max);
    T::max(top, b) * b + T::exp(w[0]) + T::sin(w[1] * b) + w[2].abs() * T::abs(b)
}

#[test]
fn float_functions_called_through_the_type_parameter() {
    let x = [0.4, 1.3, -0.2, 0.7];
    let f = |p: [f64; 4]| through_the_type(&p[..3], p[3]);
    let (value, (dw, db)) = through_the_type_grad(&x[..3], x[3]);
    assert_eq!(value, f(x));
    check_fd(f, x, [dw[0], dw[1], dw[2], db], "through the type");
    let (value32, _) = through_the_type_grad(&[0.4f32, 1.3, -0.2], 0.7);
    assert!((f64::from(value32) - value).abs() < 1e-5);
}

/// Sums and products over a type parameter: `.sum::<T>()`, and typed on the `let`.
#[differentiable]
fn generic_reductions<T: Real>(w: &[T]) -> T {
    let p: T = w.iter().map(|x| *x + T::ONE).product();
    let s: T = w.iter().map(|x| x.sin()).sum();
    p * s
        + (0..w.len())
            .map(|i| w[i] * T::from_f64(i as f64))
            .sum::<T>()
}

#[test]
fn sums_and_products_over_a_type_parameter() {
    let x = [0.4, 1.3, -0.2];
    let f = |p: [f64; 3]| generic_reductions(&p);
    let (value, g) = generic_reductions_grad(&x);
    assert_eq!(value, f(x));
    check_fd(f, x, [g[0], g[1], g[2]], "generic reductions");
    let (value32, _) = generic_reductions_grad(&[0.4f32, 1.3, -0.2]);
    assert!((f64::from(value32) - value).abs() < 1e-5);
}

/// A generic model whose method's closure names the result type (`|acc, &w| -> T { .. }`):
/// the method still returns the float `T`.
#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Folded<T: Real> {
    pub w: Vec<T>,
    pub b: T,
}

impl<T: Real> Folded<T> {
    #[differentiable]
    pub fn q(&self, #[no_grad] x: T) -> T {
        self.w.iter().fold(T::ZERO, |acc, &w| -> T { acc + w * x }) * self.b
    }
}

#[test]
fn a_closure_typed_by_the_impls_parameter() {
    let m = Folded {
        w: vec![1.0f64, 2.0],
        b: 0.5,
    };
    let (value, g) = m.q_grad(3.0);
    assert_eq!(value, m.q(3.0));
    assert_eq!((g.w, g.b), (vec![1.5, 1.5], 9.0));
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Linear<T: Real> {
    pub w: Vec<T>,
    pub b: T,
    #[no_grad]
    pub inputs: usize,
}

/// A generic model in a generic function (indexed on purpose: `l.w[i]` reads an element of a
/// field).
#[differentiable]
#[allow(clippy::needless_range_loop)]
fn linear_loss<T: Real>(l: &Linear<T>, #[no_grad] x: &[T]) -> T {
    let mut y = l.b;
    for i in 0..l.inputs {
        y += l.w[i] * x[i];
    }
    y * y / T::from_usize(l.inputs)
}

/// A `#[no_grad]` count of a model, cast to a float.
#[differentiable]
fn mean_weight(l: &Linear<f64>) -> f64 {
    let mut total = 0.0;
    for w in &l.w {
        total += w;
    }
    total / l.inputs as f64 + l.b
}

#[test]
fn generic_models_and_counts() {
    let x = [0.5, -1.5, 2.0];
    let l = Linear {
        w: vec![0.3, 0.2, -0.4],
        b: 0.1,
        inputs: 3,
    };
    let (_, g) = linear_loss_grad(&l, &x);
    assert_eq!(g.inputs, 3);
    check_parameters(|l: &Linear<f64>| linear_loss(l, &x), &l, &g).assert_below(1e-9);

    let l32 = Linear {
        w: vec![0.3f32, 0.2, -0.4],
        b: 0.1f32,
        inputs: 3,
    };
    let x32 = [0.5f32, -1.5, 2.0];
    let (_, g32) = linear_loss_grad(&l32, &x32);
    assert!((f64::from(g32.b) - g.b).abs() < 1e-5);

    let (_, g) = mean_weight_grad(&l);
    assert_eq!(g.w, vec![1.0 / 3.0; 3]);
    assert_eq!((g.b, g.inputs), (1.0, 3));
}

/// A method result that is a model, then its own method: `t.energy(x)` on a local.
impl Oscillator {
    #[differentiable]
    pub fn stiffer(&self, by: f64) -> Oscillator {
        Oscillator {
            k: self.k * by,
            c: self.c,
        }
    }

    #[differentiable]
    pub fn stiffer_energy(&self, by: f64) -> f64 {
        let t = self.stiffer(by);
        t.accel(1.0, 0.5) * by
    }
}

#[test]
fn methods_of_local_models() {
    let o = osc();
    let (_, (d_o, d_by)) = o.stiffer_energy_grad(1.5);
    check_fd(
        |[k, c, by]| Oscillator { k, c }.stiffer_energy(by),
        [o.k, o.c, 1.5],
        [d_o.k, d_o.c, d_by],
        "stiffer energy",
    );
}

impl<T: Real> Linear<T> {
    /// A generic method returning the impl's float type: `NAME_grad` exists for it.
    #[differentiable]
    pub fn bias_energy(&self) -> T {
        self.b * self.b + self.w[0]
    }
}

impl Linear<f64> {
    /// Vectors sized by a `#[no_grad]` count.
    #[differentiable]
    pub fn spread(&self) -> f64 {
        let v = nalgebra::DVector::from_element(self.inputs, self.b);
        let z = nalgebra::DVector::<f64>::zeros(self.inputs);
        (v + z).norm_squared()
    }
}

#[test]
fn generic_methods_and_counted_vectors() {
    let l = Linear {
        w: vec![0.3, 0.2, -0.4],
        b: 0.5,
        inputs: 3,
    };
    let (_, g) = l.bias_energy_grad();
    assert_eq!((g.b, g.w.clone()), (1.0, vec![1.0, 0.0, 0.0]));
    let (_, g) = l.spread_grad();
    assert_eq!(g.b, 2.0 * 3.0 * 0.5);
}
