//! The test of `.filter(|v| ..)` in a differentiated sum, product, fold or `for` loop.

/// Runs a `filter` closure on one item as `Iterator::filter` does, by reference. Taking the
/// item first fixes the closure's parameter type, which a closure called where it is written
/// (`(|v| **v > 0.0)(&&x)`) leaves to inference, too late for `**v`. The test is `Fn`: it
/// decides and changes nothing it captures (the macro refuses one that assigns a variable).
#[inline(always)]
pub fn keeps<T: ?Sized, F: Fn(&T) -> bool>(item: &T, test: F) -> bool {
    test(item)
}

#[cfg(test)]
mod tests {
    use super::keeps;

    #[test]
    fn tests_the_item_as_filter_does() {
        let xs: [f64; 3] = [1.5, -2.0, 0.5];
        let by_filter: Vec<bool> = xs
            .iter()
            .map(|x| xs.iter().filter(|v| **v > 0.0).any(|v| v == x))
            .collect();
        let by_keeps: Vec<bool> = (0..xs.len())
            .map(|i| keeps(&&xs[i], |v| **v > 0.0))
            .collect();
        assert_eq!(by_keeps, by_filter);
        assert_eq!(by_keeps, [true, false, true]);
        // Items by value (`xs.iter().copied()`): the closure takes `&f64`.
        assert!(keeps(&xs[1], |v| v.abs() > 1.0));
    }
}
