// Signatures and bodies that compile without the attribute compile with it: generic parameters
// the arguments do not mention, `impl Trait` and pattern parameters, raw identifiers, an empty
// statement.
use nabla::differentiable;

#[differentiable]
fn scaled<const N: usize>(x: f64) -> f64 {
    x * x * N as f64
}

#[differentiable]
fn tagged<T: Default>(x: f64) -> f64 {
    let _unused = T::default();
    x.sin()
}

#[differentiable]
#[allow(redundant_semicolons)]
fn keyed(r#in: f64, _key: impl Copy, (n, m): (usize, usize)) -> f64 {
    ;
    r#in * (n + m) as f64
}

fn main() {
    assert_eq!(scaled_grad::<3>(2.0), (12.0, 12.0));
    assert_eq!(tagged_grad::<u8>(0.0), (0.0, 1.0));
    assert_eq!(keyed_grad(2.0, 'k', (1, 2)), (6.0, 3.0));
}
