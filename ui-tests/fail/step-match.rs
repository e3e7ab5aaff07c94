// A `match` on an integer cast of a parameter, picking constants: a step function; and a
// `match` whose pattern binds names out of a value that carries gradient.
use nabla::differentiable;

#[differentiable]
fn bucket(x: f64) -> f64 {
    match (x * 4.0) as i32 {
        0 => 0.1,
        1 => 0.5,
        _ => 1.0,
    }
}

#[differentiable]
fn positive_part(w: f64) -> f64 {
    let kept = if w > 0.0 { Some(w) } else { None };
    match kept {
        Some(v) => v * 2.0,
        None => 0.0,
    }
}

fn main() {}
