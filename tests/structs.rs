//! Models as structs: `#[derive(Parameters)]`, field reads at any depth, `Vec`s of layers,
//! structs by value, tuple structs, and passing fields and structs to other differentiable
//! functions. Every gradient against central finite differences (`check_parameters`).

mod common;

use nabla::{check_parameters, differentiable, stop_gradient, Adam, Convention, Parameters};
use nalgebra::{DMatrix, DVector, SVector, Vector2};

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Layer {
    pub w: DMatrix<f64>,
    pub b: DVector<f64>,
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Net {
    pub layers: Vec<Layer>,
    pub scale: f64,
    #[no_grad]
    pub depth: usize,
}

fn layer(rows: usize, cols: usize, seed: f64) -> Layer {
    Layer {
        w: DMatrix::from_fn(rows, cols, |i, j| {
            (seed + 0.7 * i as f64 - 0.4 * j as f64).sin() * 0.8
        }),
        b: DVector::from_fn(rows, |i, _| (seed * 1.3 + i as f64).cos() * 0.3),
    }
}

fn net() -> Net {
    Net {
        layers: vec![layer(3, 2, 0.2), layer(4, 3, 1.1), layer(2, 4, -0.6)],
        scale: 1.5,
        depth: 3,
    }
}

fn input() -> DVector<f64> {
    DVector::from_vec(vec![0.7, -1.2])
}

#[differentiable]
fn net_loss(net: &Net, #[no_grad] x: &DVector<f64>) -> f64 {
    let mut h = x.clone();
    for l in &net.layers {
        h = (&l.w * &h + &l.b).map(|v| v.tanh());
    }
    net.scale * h.norm_squared()
}

#[test]
fn a_vec_of_layers_and_a_scalar_field() {
    let (net, x) = (net(), input());
    let (value, g) = net_loss_grad(&net, &x);
    assert_eq!(value, net_loss(&net, &x));
    // `#[no_grad]` fields are carried over unchanged.
    assert_eq!(g.depth, 3);
    check_parameters(|n: &Net| net_loss(n, &x), &net, &g).assert_below(1e-7);
}

/// The same network, indexed: `net.layers[i].w` at depth three.
#[differentiable]
fn indexed_loss(net: &Net, #[no_grad] x: &DVector<f64>) -> f64 {
    let mut h = x.clone();
    for i in 0..net.layers.len() {
        h = (&net.layers[i].w * &h + &net.layers[i].b).map(|v| v.tanh());
    }
    let first = net.layers[0].b[1];
    net.scale * h.norm_squared() + first * first
}

#[test]
fn fields_of_indexed_elements() {
    let (net, x) = (net(), input());
    let (_, g) = indexed_loss_grad(&net, &x);
    check_parameters(|n: &Net| indexed_loss(n, &x), &net, &g).assert_below(1e-7);
}

#[derive(Clone, Copy, Debug, PartialEq, Parameters)]
pub struct State {
    pub x: f64,
    pub v: f64,
}

/// A `Copy` struct by value, beside a plain parameter.
#[differentiable]
fn energy(s: State, k: f64) -> f64 {
    let kinetic = 0.5 * s.v * s.v;
    kinetic + 0.5 * k * s.x * s.x
}

#[test]
fn a_copy_struct_by_value() {
    let s = State { x: 0.3, v: -1.2 };
    let (_, (ds, dk)) = energy_grad(s, 2.0);
    assert_eq!(
        ds,
        State {
            x: 2.0 * 0.3,
            v: -1.2
        }
    );
    assert_eq!(dk, 0.5 * 0.3 * 0.3);
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Affine(pub SVector<f64, 2>, pub f64, #[no_grad] pub &'static str);

#[differentiable]
fn affine(a: &Affine, #[no_grad] x: Vector2<f64>) -> f64 {
    let y = a.0.dot(&x) + a.1;
    y.sin()
}

#[test]
fn a_tuple_struct() {
    let a = Affine(Vector2::new(0.4, -0.9), 0.25, "affine");
    let x = Vector2::new(1.5, 0.5);
    let (_, g) = affine_grad(&a, x);
    assert_eq!(g.2, "affine");
    check_parameters(|a: &Affine| affine(a, x), &a, &g).assert_below(1e-8);
}

#[differentiable]
fn layer_energy(l: &Layer) -> f64 {
    l.w.norm_squared() + l.b.sum()
}

#[differentiable]
fn squared(s: f64) -> f64 {
    s * s
}

/// A struct, an element of its `Vec` and a field passed to other differentiable functions.
#[differentiable]
fn composed(net: &Net) -> f64 {
    let mut total = squared(net.scale);
    for l in &net.layers {
        total += layer_energy(l);
    }
    total + layer_energy(&net.layers[1]) * net.scale
}

#[test]
fn fields_and_elements_passed_on() {
    let net = net();
    let (_, g) = composed_grad(&net);
    check_parameters(composed, &net, &g).assert_below(1e-7);
}

#[test]
fn adam_steps_a_struct_in_each_convention() {
    for (convention, decay) in [(Convention::PyTorch, 0.0), (Convention::Keras, 1e-3)] {
        let mut net = net();
        let x = input();
        let mut opt = Adam::new(0.01)
            .convention(convention)
            .decoupled_weight_decay(decay);
        let before = net_loss(&net, &x);
        for _ in 0..50 {
            let (_, g) = net_loss_grad(&net, &x);
            opt.step(&mut net, &g).unwrap();
        }
        assert!(net_loss(&net, &x) < 0.5 * before, "{convention:?}");
        assert_eq!(net.depth, 3);
    }
}

/// One explicit Euler step, returning a new state: a struct result through `_vjp`.
#[differentiable]
fn euler_step(s: State, k: f64, #[no_grad] dt: f64) -> State {
    State {
        x: s.x + dt * s.v,
        v: s.v - dt * k * s.x,
    }
}

/// Many steps, with the state rebuilt as a struct literal in a loop.
#[differentiable]
fn final_energy(s0: State, k: f64) -> f64 {
    let mut s = s0;
    for _ in 0..20 {
        s = State {
            x: s.x + 0.05 * s.v,
            v: s.v - 0.05 * k * s.x,
        };
    }
    let step = euler_step(s, k, 0.05);
    0.5 * step.v * step.v + 0.5 * k * step.x * step.x
}

#[test]
fn struct_literals_as_values_and_results() {
    let s = State { x: 0.8, v: -0.3 };
    let cotangent = State { x: 1.5, v: -2.0 };
    let (next, (ds, dk)) = euler_step_vjp(s, 3.0, 0.1, cotangent);
    assert_eq!(next, euler_step(s, 3.0, 0.1));
    // d<c, step>/ds and /dk, from the two linear update formulas.
    let want = State {
        x: cotangent.x - 0.1 * 3.0 * cotangent.v,
        v: 0.1 * cotangent.x + cotangent.v,
    };
    assert!((ds.x - want.x).abs() < 1e-14 && (ds.v - want.v).abs() < 1e-14);
    assert!((dk - (-0.1 * s.x * cotangent.v)).abs() < 1e-14);

    let (_, (ds, dk)) = final_energy_grad(s, 3.0);
    common::check_fd(
        |[x, v, k]| final_energy(State { x, v }, k),
        [s.x, s.v, 3.0],
        [ds.x, ds.v, dk],
        "final energy",
    );
}

/// A `#[no_grad]` field holds the field's value in a gradient value, never a gradient: reads of
/// it send nothing back, and a struct literal's cotangent has nothing for it.
#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Tagged {
    pub x: f64,
    #[no_grad]
    pub e: f64,
    #[no_grad]
    pub count: usize,
}

/// A value that carries gradient goes into a `#[no_grad]` field only through
/// `stop_gradient` (otherwise it is a compile error: see `ui-tests/fail/no-grad-field-store.rs`).
#[differentiable]
fn make_tagged(k: f64) -> Tagged {
    Tagged {
        x: k,
        e: nabla::stop_gradient(k * k),
        count: 3,
    }
}

#[differentiable]
fn through_tagged(k: f64) -> f64 {
    let t = make_tagged(k);
    t.x + t.e
}

#[differentiable]
fn read_tagged(t: &Tagged) -> f64 {
    t.x * t.e / t.count as f64
}

/// Integer arithmetic on a `#[no_grad]` count.
#[differentiable]
fn counted(t: &Tagged) -> f64 {
    let next = t.count + 1;
    t.x * next as f64
}

#[differentiable]
fn power_of(x: f64, #[no_grad] n: usize) -> f64 {
    x.powi(n as i32)
}

#[differentiable]
fn scaled_by(x: f64, #[no_grad] s: f64) -> f64 {
    x * s
}

/// `#[no_grad]` fields passed on to parameters that take no gradient: data to data.
#[differentiable]
fn tagged_through_calls(t: &Tagged) -> f64 {
    power_of(t.x, t.count) + scaled_by(t.x, t.e)
}

impl Tagged {
    #[differentiable]
    fn through_calls(&self, y: f64) -> f64 {
        power_of(self.x * y, self.count) + scaled_by(y, self.e)
    }
}

impl State {
    #[differentiable]
    fn stepped(&self, k: f64) -> State {
        State {
            x: self.x + 0.1 * self.v,
            v: self.v - 0.1 * k * self.x,
        }
    }

    /// A copy of `self` made by dereferencing it keeps the model's methods.
    #[differentiable]
    fn run(&self, k: f64) -> f64 {
        let mut s = *self;
        for _ in 0..10 {
            s = s.stepped(k);
        }
        s.x * s.v
    }
}

#[test]
fn a_dereferenced_copy_keeps_its_methods() {
    let p = State { x: 1.0, v: 0.5 };
    let (value, (g, dk)) = p.run_grad(2.0);
    assert_eq!(value, p.run(2.0));
    let h = 1e-6;
    let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
    assert!((dk - fd(&|e| p.run(2.0 + e))).abs() < 1e-7);
    assert!((g.x - fd(&|e| State { x: 1.0 + e, v: 0.5 }.run(2.0))).abs() < 1e-7);
    assert!((g.v - fd(&|e| State { x: 1.0, v: 0.5 + e }.run(2.0))).abs() < 1e-7);
}

#[test]
fn no_grad_fields_pass_on_to_parameters_that_take_none() {
    let t = Tagged {
        x: 1.5,
        e: 0.25,
        count: 3,
    };
    let (value, g) = tagged_through_calls_grad(&t);
    assert_eq!(value, tagged_through_calls(&t));
    assert!((g.x - (3.0 * 1.5 * 1.5 + 0.25)).abs() < 1e-12);
    assert_eq!(
        (g.e, g.count),
        (0.25, 3),
        "`#[no_grad]` fields hold their values"
    );
    let (value, (g, dy)) = t.through_calls_grad(2.0);
    assert_eq!(value, t.through_calls(2.0));
    // (x y)^3 + y e: d/dx = 3 x^2 y^3, d/dy = 3 x^3 y^2 + e.
    assert!((g.x - 3.0 * 1.5 * 1.5 * 8.0).abs() < 1e-12);
    assert!((dy - (3.0 * 1.5f64.powi(3) * 4.0 + 0.25)).abs() < 1e-12);
}

#[test]
fn no_grad_fields_carry_no_gradient() {
    // d/dk of `t.x + t.e` where `e` holds a value with its gradient stopped: 1.
    let (_, dk) = through_tagged_grad(3.0);
    assert_eq!(dk, 1.0);
    let t = Tagged {
        x: 2.0,
        e: 5.0,
        count: 4,
    };
    assert_eq!(counted_grad(&t).1.x, 5.0);
    let (_, g) = read_tagged_grad(&t);
    assert_eq!(
        g,
        Tagged {
            x: 5.0 / 4.0,
            e: 5.0,
            count: 4
        }
    );
}

/// State structs built in loops and branches, read field by field (a struct local to a loop
/// body is read by value), and nested non-`Copy` structs.
#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Inner {
    pub a: f64,
}

#[derive(Clone, Debug, PartialEq, Parameters)]
pub struct Outer {
    pub inner: Inner,
    pub c: f64,
    #[no_grad]
    pub data: Vec<f64>,
}

#[differentiable]
fn build_outer(a: f64) -> Outer {
    Outer {
        inner: Inner { a: a * a },
        c: a,
        data: vec![1.0, 2.0],
    }
}

#[differentiable]
fn loop_local_structs(a: f64, m: &Outer) -> f64 {
    let mut y = a;
    for _ in 0..3 {
        let s = State { x: y, v: a };
        y = s.x * s.v + m.data[1] * m.c;
        if y > 0.0 {
            let t = State { x: y, v: 0.5 };
            y = t.x * t.v;
        }
    }
    let o = build_outer(y);
    o.inner.a + o.c + m.data[0] * m.inner.a
}

#[test]
fn structs_local_to_loops_and_branches() {
    let m = Outer {
        inner: Inner { a: 0.4 },
        c: -0.3,
        data: vec![0.5, 1.5],
    };
    let (_, (da, dm)) = loop_local_structs_grad(0.8, &m);
    assert_eq!(dm.data, m.data);
    common::check_fd(
        |[a, inner, c]| {
            let m = Outer {
                inner: Inner { a: inner },
                c,
                data: vec![0.5, 1.5],
            };
            loop_local_structs(a, &m)
        },
        [0.8, 0.4, -0.3],
        [da, dm.inner.a, dm.c],
        "loop-local structs",
    );
}

#[derive(Clone, Parameters)]
struct Schedule {
    rate: f64,
}

/// A field copied into a local that a product then replaces (`lr = lr * decay`).
#[differentiable]
#[allow(clippy::assign_op_pattern)] // written out as users write it
fn decayed(s: &Schedule, #[no_grad] decay: f64) -> f64 {
    let mut lr = s.rate;
    let first = lr * lr;
    lr = lr * decay;
    first * lr
}

#[test]
fn a_field_copy_replaced_by_a_product() {
    let (value, g) = decayed_grad(&Schedule { rate: 0.7 }, 3.0);
    assert_eq!(value, decayed(&Schedule { rate: 0.7 }, 3.0));
    // 3 r³: 9 r².
    assert!((g.rate - 9.0 * 0.49).abs() < 1e-12, "{}", g.rate);
}

#[derive(Clone, Parameters)]
struct Critic {
    w: f64,
}

impl Critic {
    #[differentiable]
    fn value(&self, s: f64) -> f64 {
        self.w * s
    }

    /// A temporal-difference loss: the target is the model's own value, held constant.
    #[differentiable]
    fn td_loss(&self, s: f64, #[no_grad] next: f64) -> f64 {
        let predicted = self.value(s);
        let target = stop_gradient(self.value(next));
        (predicted - target) * (predicted - target)
    }
}

#[test]
fn a_method_called_inside_and_outside_stop_gradient() {
    let critic = Critic { w: 0.5 };
    let (value, (g, ds)) = critic.td_loss_grad(1.0, 2.0);
    assert_eq!(value, 0.25);
    // 2 (w s - w n) s and 2 (w s - w n) w, the target held constant.
    assert_eq!((g.w, ds), (-1.0, -0.5));
}

/// A model named with one capital letter, whose method returns it by name: a one-letter result
/// type is read as the `impl`'s float type parameter unless the body builds the struct.
#[derive(Parameters, Clone, Debug)]
struct S {
    w: f64,
    b: f64,
}

impl S {
    #[differentiable]
    fn scaled(&self, k: f64) -> S {
        S {
            w: self.w * k,
            b: self.b + k,
        }
    }

    #[differentiable]
    fn loss(&self, x: f64) -> f64 {
        let s = self.scaled(x);
        s.w * s.b
    }
}

#[test]
fn a_one_letter_model_returned_by_name() {
    let s = S { w: 1.5, b: -0.5 };
    let (value, (g, dx)) = s.loss_grad(2.0);
    assert_eq!(value, s.loss(2.0));
    check_parameters(|s: &S| s.loss(2.0), &s, &g).assert_below(1e-8);
    // d/dx of w x (b + x) = w (b + 2x)
    assert!((dx - 1.5 * (-0.5 + 4.0)).abs() < 1e-12, "{dx}");
}

/// Data a model keeps in `#[no_grad]` fields of types that derive nothing: a config struct with
/// its own fields (`self.table.inner.offset`), rows (`self.rows[i][j]`), a tuple; their fields,
/// elements and parts read below the model, and passed to parameters that take no gradient.
#[derive(Clone, Debug)]
struct Table {
    xs: Vec<f64>,
    scale: f64,
    inner: TableInner,
}

#[derive(Clone, Debug)]
struct TableInner {
    offset: f64,
    grid: Vec<Vec<f64>>,
}

#[derive(Parameters, Clone, Debug)]
struct Weights {
    w: Vec<f64>,
    b: f64,
}

#[derive(Parameters, Clone, Debug)]
struct WithData {
    layer: Weights,
    k: f64,
    #[no_grad]
    table: Table,
    #[no_grad]
    rows: Vec<Vec<f64>>,
    #[no_grad]
    pair: (f64, usize),
}

#[differentiable]
fn shifted(x: f64, #[no_grad] by: f64) -> f64 {
    x + by
}

#[differentiable]
fn weighted(w: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

impl WithData {
    #[differentiable]
    fn loss(&self, x: f64) -> f64 {
        let mut s = self.k * self.table.scale * x;
        for i in 0..self.table.xs.len() {
            s += self.layer.w[i % 2] * self.table.xs[i];
        }
        s += self.table.inner.offset * self.layer.b;
        for i in 0..self.rows.len() {
            for j in 0..self.rows[i].len() {
                s += self.k * self.rows[i][j] * self.table.inner.grid[i][j];
            }
        }
        s += shifted(self.layer.b, self.table.inner.offset);
        s += shifted(self.k, self.table.xs[2]);
        s += weighted(&self.layer.w, &self.table.xs[0..2]);
        s += self.pair.0 * self.k;
        let rest = &self.table.xs[1..];
        s += rest[0] * self.k;
        s * s
    }
}

#[test]
fn data_of_any_type_in_no_grad_fields() {
    let m = WithData {
        layer: Weights {
            w: vec![0.5, -0.3],
            b: 0.2,
        },
        k: 1.5,
        table: Table {
            xs: vec![1.0, 2.0, 3.0],
            scale: 0.7,
            inner: TableInner {
                offset: 0.25,
                grid: vec![vec![1.0, 2.0], vec![3.0]],
            },
        },
        rows: vec![vec![0.1, 0.2], vec![0.3]],
        pair: (2.0, 3),
    };
    let (value, (g, dx)) = m.loss_grad(1.3);
    assert_eq!(value, m.loss(1.3));
    check_parameters(|m: &WithData| m.loss(1.3), &m, &g).assert_below(1e-8);
    // d/dx of s² where ds/dx = k · scale
    assert!((dx - 2.0 * value.sqrt() * 1.5 * 0.7).abs() < 1e-9, "{dx}");
    // `#[no_grad]` fields are carried over unchanged.
    assert_eq!(g.table.inner.grid, m.table.inner.grid);
    assert_eq!(g.pair, (2.0, 3));
}

/// A `map` over a `#[no_grad]` matrix field whose closure reads a trained field: the gradient
/// of what the closure reads is summed whatever the receiver is.
#[derive(Parameters, Clone, Debug)]
struct Mapped {
    b: f64,
    #[no_grad]
    x: DVector<f64>,
    #[no_grad]
    table: DMatrix<f64>,
    w: DVector<f64>,
}

impl Mapped {
    #[differentiable]
    fn loss(&self) -> f64 {
        let b = self.b;
        self.x.map(|t| t * self.b).sum()
            + self.table.map(|t| (t * b).sin()).sum()
            + self.w.map(|t| (t * b).tanh()).sum()
    }
}

#[test]
fn a_map_over_data_that_reads_a_trained_field() {
    let m = Mapped {
        b: 0.7,
        x: DVector::from_vec(vec![0.2, -0.1, 0.6]),
        table: DMatrix::from_vec(2, 2, vec![0.3, 0.5, -1.0, 2.0]),
        w: DVector::from_vec(vec![1.0, 2.0]),
    };
    let (value, g) = m.loss_grad();
    assert_eq!(value, m.loss());
    check_parameters(|m: &Mapped| m.loss(), &m, &g).assert_below(1e-8);
    assert!(g.b.abs() > 0.1, "{}", g.b);
}

/// A one-letter model's own method called by its path (`V::norm(&self.v)`): a method of the
/// struct, not the float method its name shares.
#[derive(Parameters, Clone, Debug)]
struct V {
    x: f64,
    y: f64,
}

impl V {
    #[differentiable]
    fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

#[derive(Parameters, Clone, Debug)]
struct Scaled {
    v: V,
    b: f64,
}

impl Scaled {
    #[differentiable]
    fn loss(&self) -> f64 {
        V::norm(&self.v) * self.b
    }
}

#[test]
fn a_one_letter_models_method_called_by_its_path() {
    let s = Scaled {
        v: V { x: 3.0, y: 4.0 },
        b: 2.0,
    };
    let (value, g) = s.loss_grad();
    assert_eq!(value, 10.0);
    assert_eq!((g.v.x, g.v.y, g.b), (1.2000000000000002, 1.6, 5.0));
    check_parameters(|s: &Scaled| s.loss(), &s, &g).assert_below(1e-8);
}

/// Elements and parts of `#[no_grad]` fields of any type passed to parameters that take no
/// gradient: two levels down (`self.rows[0][1]`), integers, strings, structs, and rows.
#[derive(Clone, Debug)]
struct Scale {
    by: f64,
}

#[derive(Parameters, Clone, Debug)]
struct Indexed {
    w: Vec<f64>,
    b: f64,
    #[no_grad]
    rows: Vec<Vec<f64>>,
    #[no_grad]
    picks: Vec<usize>,
    #[no_grad]
    scales: Vec<Scale>,
    #[no_grad]
    names: Vec<String>,
}

#[differentiable]
fn times_data(x: f64, #[no_grad] d: f64) -> f64 {
    x * d
}

#[differentiable]
fn first_times(w: &[f64], #[no_grad] d: &[f64]) -> f64 {
    w[0] * d[0]
}

#[differentiable]
fn squared_at(w: &[f64], #[no_grad] i: usize) -> f64 {
    w[i] * w[i]
}

#[differentiable]
fn scaled(x: f64, #[no_grad] s: &Scale) -> f64 {
    x * s.by
}

#[differentiable]
fn over_rows(w: &[f64], #[no_grad] rows: &[Vec<f64>]) -> f64 {
    w[0] * rows[0][0]
}

#[differentiable]
fn by_length(x: f64, #[no_grad] name: &str) -> f64 {
    x * name.len() as f64
}

impl Indexed {
    #[differentiable]
    fn loss(&self) -> f64 {
        times_data(self.b, self.rows[0][1])
            + first_times(&self.w, &self.rows[1][..])
            + squared_at(&self.w, self.picks[1])
            + scaled(self.w[0], &self.scales[0])
            + over_rows(&self.w, &self.rows[1..])
            + by_length(self.w[1], &self.names[0])
            + first_times(&self.w[1..], &self.rows[0][..1])
    }
}

#[test]
fn elements_of_data_of_any_type_passed_as_data() {
    let m = Indexed {
        w: vec![0.5, -1.5],
        b: 0.7,
        rows: vec![vec![1.0, 2.0], vec![3.0]],
        picks: vec![0, 1],
        scales: vec![Scale { by: 2.0 }],
        names: vec!["abc".into()],
    };
    let (value, g) = m.loss_grad();
    assert_eq!(value, m.loss());
    check_parameters(|m: &Indexed| m.loss(), &m, &g).assert_below(1e-8);
    assert_eq!(g.picks, m.picks);
}

/// Data read through the elements of a `#[no_grad]` field (`for c in &self.scales`,
/// `self.scales[0].by`, `self.pairs[i].0`) and through a name bound to a field
/// (`let c = &self.scale;`): each element and name stands for the field's own slot.
#[derive(Parameters, Clone, Debug)]
struct ThroughElements {
    b: f64,
    w: Vec<f64>,
    #[no_grad]
    scales: Vec<Scale>,
    #[no_grad]
    scale: Scale,
    #[no_grad]
    pairs: Vec<(usize, f64)>,
}

impl ThroughElements {
    #[differentiable]
    fn loss(&self) -> f64 {
        let mut s = 0.0;
        for c in &self.scales {
            s += c.by * self.b;
        }
        s += self.scales[0].by * self.b + self.w[1] * self.w[0];
        let c = &self.scale;
        s += c.by * self.b;
        for i in 0..self.pairs.len() {
            s += self.pairs[i].1 * self.w[self.pairs[i].0];
        }
        s * s
    }
}

#[test]
fn data_read_through_elements_and_names() {
    let m = ThroughElements {
        b: 0.7,
        w: vec![0.5, 2.0],
        scales: vec![Scale { by: 2.0 }, Scale { by: -1.0 }],
        scale: Scale { by: 3.0 },
        pairs: vec![(1, 0.5), (0, 2.0)],
    };
    let (value, g) = m.loss_grad();
    assert_eq!(value, m.loss());
    check_parameters(|m: &ThroughElements| m.loss(), &m, &g).assert_below(1e-8);
}

/// A count in a `#[no_grad]` field or a data parameter's field, copied into a local and used as
/// a range's end and as a buffer's capacity.
struct Steps {
    dt: f64,
    steps: usize,
}

#[differentiable]
fn stepped_decay(k: f64, #[no_grad] cfg: &Steps) -> f64 {
    let n = cfg.steps;
    let mut x = 1.0;
    for _ in 0..n {
        x -= cfg.dt * k * x;
    }
    // Kept as written, with the field init shorthand of a struct literal.
    let steps = cfg.steps;
    let again = nabla::stop_gradient(Steps { dt: cfg.dt, steps }.steps as f64);
    x * again / n as f64
}

#[derive(Parameters, Clone, Debug)]
struct Counted {
    k: f64,
    #[no_grad]
    n: usize,
}

impl Counted {
    #[differentiable]
    fn ramp(&self) -> Vec<f64> {
        let n = self.n;
        let mut out = Vec::with_capacity(self.n);
        // A method of the count itself (`usize::max`), not of a reference to it.
        let m = n.max(1);
        for i in 0..m {
            out.push(self.k * i as f64);
        }
        out
    }
}

#[test]
fn counts_copied_from_fields() {
    let cfg = Steps { dt: 0.1, steps: 3 };
    let (value, dk) = stepped_decay_grad(0.5, &cfg);
    assert_eq!(value, stepped_decay(0.5, &cfg));
    assert!((dk - 3.0 * 0.95f64.powi(2) * -0.1).abs() < 1e-12, "{dk}");
    let m = Counted { k: 2.0, n: 3 };
    let (value, g) = m.ramp_vjp(vec![1.0, 1.0, 1.0]);
    assert_eq!(value, vec![0.0, 2.0, 4.0]);
    assert_eq!(g.k, 3.0);
}

/// Models held by a parameter (`layers: &[Affine2]`, `ms: &[WithScale]`): their elements are
/// read where they lie, iterated and indexed, with data inside them.
#[derive(Parameters, Clone, Debug)]
struct Dense {
    w: DMatrix<f64>,
    b: DVector<f64>,
}

#[derive(Parameters, Clone, Debug)]
struct WithScale {
    b: f64,
    #[no_grad]
    scale: Scale,
}

#[differentiable]
fn through_layers(layers: &[Dense], #[no_grad] x: &DVector<f64>) -> f64 {
    let mut h = x.clone();
    for l in layers {
        h = (&l.w * &h + &l.b).map(|v| v.tanh());
    }
    h.norm_squared() + layers[0].b[1] * layers[1].b[0]
}

#[differentiable]
fn scaled_models(ms: &[WithScale]) -> f64 {
    let mut s = 0.0;
    for m in ms {
        s += m.scale.by * m.b * m.b;
    }
    s + ms[0].b * ms[1].scale.by
}

#[derive(Parameters, Clone, Debug)]
struct Stack {
    layers: Vec<Dense>,
    ms: Vec<WithScale>,
}

#[test]
fn models_held_by_a_parameter() {
    let dense = |r: usize, c: usize, s: f64| Dense {
        w: DMatrix::from_fn(r, c, |i, j| s * (0.3 + 0.1 * i as f64 - 0.2 * j as f64)),
        b: DVector::from_fn(r, |i, _| s * (0.05 - 0.1 * i as f64)),
    };
    let stack = Stack {
        layers: vec![dense(2, 2, 1.0), dense(1, 2, -0.7)],
        ms: vec![
            WithScale {
                b: 1.0,
                scale: Scale { by: 2.0 },
            },
            WithScale {
                b: -0.5,
                scale: Scale { by: 3.0 },
            },
        ],
    };
    let x = DVector::from_vec(vec![0.3, -1.2]);
    let (value, layers) = through_layers_grad(&stack.layers, &x);
    assert_eq!(value, through_layers(&stack.layers, &x));
    let (value, ms) = scaled_models_grad(&stack.ms);
    assert_eq!(value, scaled_models(&stack.ms));
    let g = Stack { layers, ms };
    let f = |s: &Stack| through_layers(&s.layers, &x) + scaled_models(&s.ms);
    check_parameters(f, &stack, &g).assert_below(1e-8);
}

/// An `Option` kept in a `#[no_grad]` field, read with a literal default, with a default from a
/// data field, and with a default that carries gradient.
#[derive(Parameters, Clone, Debug)]
struct Clipped {
    w: f64,
    #[no_grad]
    clip: Option<f64>,
    #[no_grad]
    fallback: f64,
}

impl Clipped {
    #[differentiable]
    fn loss(&self, x: f64) -> f64 {
        let c = self.clip.unwrap_or(1.0);
        let on = if self.clip.is_some() { 2.0 } else { 1.0 };
        self.w * x * c * on
    }

    #[differentiable]
    fn defaults(&self, x: f64) -> f64 {
        self.clip.unwrap_or(self.fallback) * x + self.clip.unwrap_or(self.w * x)
    }
}

#[test]
fn an_option_in_a_data_field() {
    for clip in [Some(0.5), None] {
        let m = Clipped {
            w: 2.0,
            clip,
            fallback: 0.25,
        };
        let (value, (g, dx)) = m.loss_grad(3.0);
        assert_eq!(value, m.loss(3.0));
        let c = clip.map_or(1.0, |c| c * 2.0);
        assert_eq!((g.w, dx, g.clip), (3.0 * c, 2.0 * c, clip));
        // d/dw and d/dx of `clip * x + clip` (`Some`) and of `0.25 * x + w * x` (`None`).
        let (value, (g, dx)) = m.defaults_grad(3.0);
        assert_eq!(value, m.defaults(3.0));
        let want = match clip {
            Some(c) => (0.0, c),
            None => (3.0, 0.25 + 2.0),
        };
        assert_eq!((g.w, dx), want);
    }
}

/// A `#[no_grad]` count in an integer remainder, and an enum field tested with `matches!`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Season {
    Flat,
    Peaked(u8),
}

#[derive(Parameters, Clone, Debug)]
struct Seasonal {
    w: Vec<f64>,
    #[no_grad]
    period: usize,
    #[no_grad]
    season: Season,
}

impl Seasonal {
    #[differentiable]
    fn level(&self, #[no_grad] t: usize) -> f64 {
        let mut acc = 0.0;
        for i in 0..t {
            if i % self.period == 0 {
                acc += self.w[i % self.period] * 2.0;
            } else {
                acc += self.w[t % self.period];
            }
        }
        if matches!(self.season, Season::Peaked(2) | Season::Peaked(3)) {
            acc * acc
        } else {
            acc
        }
    }
}

#[test]
fn integer_remainders_and_matches_on_data_fields() {
    for season in [Season::Flat, Season::Peaked(2)] {
        let m = Seasonal {
            w: vec![1.0, 2.0, 3.0],
            period: 3,
            season,
        };
        let (value, g) = m.level_grad(5);
        assert_eq!(value, m.level(5));
        // acc = 4 w0 + 3 w2 (t = 5, period 3), squared when peaked.
        let acc = 4.0 * 1.0 + 3.0 * 3.0;
        let scale = if season == Season::Flat {
            1.0
        } else {
            2.0 * acc
        };
        assert_eq!(g.w, vec![4.0 * scale, 0.0, 3.0 * scale]);
        assert_eq!((g.period, g.season), (3, season));
    }
}
