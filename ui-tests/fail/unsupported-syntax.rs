// Constructs the macro does not differentiate: each is named, none panics.
use nabla::differentiable;

#[differentiable]
fn syntax(x: f64) -> f64 {
    let a = unsafe { x * 2.0 };
    let f = |t: f64| t * x;
    let s = format!("{x}");
    let p = &x as *const f64;
    a + f(1.0)
}

fn main() {}
