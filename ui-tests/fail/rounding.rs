// Rounding has derivative zero wherever it is defined; cast to an integer it is a step value,
// fine as an index but not as a number.
use nabla::differentiable;

#[differentiable]
fn rounded(x: f64) -> f64 {
    x.round() + x.round_ties_even() + x.floor() + x.ceil() + x.trunc() + f64::floor(x * 2.0)
}

#[differentiable]
fn binned(x: f64, #[no_grad] table: &[f64]) -> f64 {
    let bin = x.floor() as usize;
    table[bin] * x + bin as f64
}

/// A sum or fold rounded: the message shows the call as written.
#[differentiable]
fn rounded_totals(w: &[f64]) -> f64 {
    let squares = w.iter().fold(0.0, |a, v| a + v * v).round();
    w.iter().sum::<f64>().floor() + squares + w[0]
}

fn main() {}
