// Constructs the macro does not differentiate: each is named, none panics.
use nabla::differentiable;

macro_rules! twice {
    ($e:expr) => {
        $e * 2.0
    };
}

#[differentiable]
fn syntax(x: f64) -> f64 {
    let a = unsafe { x * 2.0 };
    let f = |t: f64| t * x;
    let s = twice!(x);
    let p = &x as *const f64;
    a + f(1.0)
}

#[differentiable]
fn labeled(w: &[f64]) -> f64 {
    let mut s = 0.0;
    'rows: for i in 0..2 {
        for j in 0..3 {
            if w[j] > 1.0 {
                continue 'rows;
            }
            s += w[i] * w[j];
        }
    }
    s
}

#[differentiable]
fn over_an_iterator(w: f64, #[no_grad] xs: impl Iterator<Item = f64>) -> f64 {
    let mut s = 0.0;
    for x in xs {
        s += w * x;
    }
    s
}

#[differentiable]
fn adapted_iterator(w: f64, #[no_grad] xs: impl Iterator<Item = f64>) -> f64 {
    let mut s = 0.0;
    for (i, x) in xs.enumerate() {
        s += w * x * i as f64;
    }
    s
}

#[differentiable]
fn summed_iterator(w: f64, #[no_grad] xs: impl Iterator<Item = f64>) -> f64 {
    xs.map(|x| x * w).sum::<f64>()
}

// One error for the item: the call of the function it defines is no second one.
#[differentiable]
fn nested_function(x: f64) -> f64 {
    fn twice(v: f64) -> f64 {
        2.0 * v
    }
    twice(x) * x
}

// One error for `let .. else`, not a second for its refutable pattern.
#[differentiable]
fn let_else(w: &[f64]) -> f64 {
    let Some(last) = w.last() else {
        return 0.0;
    };
    last * 2.0
}

// The field assigned is named, and how to write it instead.
#[differentiable]
fn field_assignment(p: nalgebra::Vector2<f64>, v: f64) -> f64 {
    let mut q = p;
    q.y *= v;
    q.x * q.y
}

#[derive(Clone, Copy, nabla::Parameters)]
struct Body {
    pos: f64,
    vel: f64,
}

#[differentiable]
fn struct_field_assignment(b: Body, dt: f64) -> f64 {
    let mut s = b;
    s.pos += dt * s.vel;
    s.pos
}

#[derive(Clone, Copy, nabla::Parameters)]
pub struct Pair(pub f64, pub f64);

// A `..` among a tuple struct's fields, and a struct pattern declared without a value.
#[differentiable]
fn partly_named(p: Pair) -> f64 {
    let Pair(a, ..) = p;
    let Pair { 0: _b, 1: _c };
    a * 2.0
}

fn main() {}
