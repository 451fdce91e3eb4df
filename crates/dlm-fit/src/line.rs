//! Straight lines y = intercept + slope * x in fit coordinates, and the
//! ways a line solver can fail.

/// A line y = intercept + slope * x. In a fit, y = ln F, so
/// `F0 = exp(intercept)` and the decay rate is `k = -slope`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub intercept: f64,
    pub slope: f64,
}

impl Line {
    /// Builds the line through two points with different x.
    pub fn through(first: (f64, f64), second: (f64, f64)) -> Line {
        let slope = (second.1 - first.1) / (second.0 - first.0);
        let intercept = first.1 - slope * first.0;
        Line { intercept, slope }
    }

    /// Evaluates the line at `x`.
    pub fn value_at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// Failure of a line solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SolveError {
    /// All x values are equal, so the slope is undefined.
    AllXEqual,
    /// The pivoting solver hit its iteration cap without proving optimality.
    NoConvergence { iterations: usize },
}

/// Returns true when `xs` contains at least two different values.
pub(crate) fn has_distinct_x(xs: &[f64]) -> bool {
    match xs.first() {
        Some(&first) => xs.iter().any(|&x| x != first),
        None => false,
    }
}
