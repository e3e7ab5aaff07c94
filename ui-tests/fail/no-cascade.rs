// After an error, `f`, `f_grad` and `f_vjp` still exist with their signatures: code calling them
// gets no secondary errors, only the real one.
use nabla::differentiable;

#[differentiable]
fn f(x: f64, w: f64) -> f64 {
    x.floor() * w
}

fn main() {
    let (value, (dx, dw)) = f_grad(1.5, 2.0);
    let (_, (vx, vw)) = f_vjp(1.5, 2.0, 1.0);
    println!("{} {dx} {dw} {vx} {vw}", value + f(1.0, 2.0));
}
