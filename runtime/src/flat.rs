//! A flat view of [`Parameters`]: every float of a parameter value, in walk order, as `f64`.
//!
//! [`check_parameters`](crate::check_parameters) uses it to check the gradient of a model struct
//! coordinate by coordinate, as [`check_gradient`](crate::check_gradient) does for slices.

use crate::parameters::{BlockVisitor, Parameters};

/// The floats of `params` and of `gradient`, in the order an optimizer walks them, widened to
/// `f64`. `None` when the gradient's shape does not match the parameters'.
pub fn flatten<P: Parameters + Clone>(
    params: &P,
    gradient: &P::Gradient,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut reader = Reader::default();
    params.clone().visit_blocks(gradient, &mut reader);
    (!reader.mismatched).then_some((reader.params, reader.grads))
}

/// Overwrites the floats of `params` with `values`, in walk order (`gradient` gives the walk
/// its shape). Returns how many values were written.
pub fn write_flat<P: Parameters>(params: &mut P, gradient: &P::Gradient, values: &[f64]) -> usize {
    let mut writer = Writer { values, next: 0 };
    params.visit_blocks(gradient, &mut writer);
    writer.next
}

#[derive(Default)]
struct Reader {
    params: Vec<f64>,
    grads: Vec<f64>,
    mismatched: bool,
}

impl BlockVisitor for Reader {
    fn f32_block(&mut self, params: &mut [f32], grads: &[f32]) {
        self.mismatched |= params.len() != grads.len();
        self.params.extend(params.iter().map(|&x| f64::from(x)));
        self.grads.extend(grads.iter().map(|&x| f64::from(x)));
    }

    fn f64_block(&mut self, params: &mut [f64], grads: &[f64]) {
        self.mismatched |= params.len() != grads.len();
        self.params.extend_from_slice(params);
        self.grads.extend_from_slice(grads);
    }

    fn shape_mismatch(&mut self, _expected: (usize, usize), _found: (usize, usize)) {
        self.mismatched = true;
    }
}

struct Writer<'a> {
    values: &'a [f64],
    next: usize,
}

impl Writer<'_> {
    fn take(&mut self, n: usize) -> &[f64] {
        let end = (self.next + n).min(self.values.len());
        let taken = &self.values[self.next.min(end)..end];
        self.next = end;
        taken
    }
}

impl BlockVisitor for Writer<'_> {
    fn f32_block(&mut self, params: &mut [f32], _grads: &[f32]) {
        let n = params.len();
        for (p, &v) in params.iter_mut().zip(self.take(n)) {
            *p = v as f32;
        }
    }

    fn f64_block(&mut self, params: &mut [f64], _grads: &[f64]) {
        let values = self.take(params.len());
        params[..values.len()].copy_from_slice(values);
    }

    fn shape_mismatch(&mut self, _expected: (usize, usize), _found: (usize, usize)) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector2;

    #[test]
    fn flattens_and_writes_back_in_walk_order() {
        let p = (1.5f32, Vector2::new(2.0f64, 3.0), vec![4.0f64]);
        let g = (0.5f32, Vector2::new(0.1, 0.2), vec![0.3]);
        let (xs, gs) = flatten(&p, &g).unwrap();
        assert_eq!(xs, vec![1.5, 2.0, 3.0, 4.0]);
        assert_eq!(gs, vec![0.5, 0.1, 0.2, 0.3]);
        let mut q = p.clone();
        assert_eq!(write_flat(&mut q, &g, &[-1.0, -2.0, -3.0, -4.0]), 4);
        assert_eq!(q, (-1.0, Vector2::new(-2.0, -3.0), vec![-4.0]));
    }

    #[test]
    fn a_gradient_of_another_shape_has_no_flat_view() {
        assert!(flatten(&vec![1.0f64, 2.0], &vec![1.0]).is_none());
    }
}
