// A result whose type's name does not tell whether it is a float (an alias, a struct) has a
// `NAME_grad` all the same; called for a struct, it says to use `NAME_vjp`.
use nabla::{differentiable, Parameters};

#[derive(Clone, Copy, Parameters)]
struct State {
    pos: f64,
    vel: f64,
}

#[differentiable]
fn step(s: State, dt: f64) -> State {
    State {
        pos: s.pos + dt * s.vel,
        vel: s.vel * 0.9,
    }
}

fn main() {
    let s = State { pos: 1.0, vel: 2.0 };
    let _ = step_grad(s, 0.1);
}
