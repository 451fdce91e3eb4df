//! Ordinary least squares of y on x: the average trend, reported for
//! reference because a mean line is not a bound.

use crate::line::{Line, SolveError, has_distinct_x};

/// Fits y = a + b x by least squares, using centred sums so that large x
/// values keep their precision.
pub(crate) fn ols_line(xs: &[f64], ys: &[f64]) -> Result<Line, SolveError> {
    if !has_distinct_x(xs) {
        return Err(SolveError::AllXEqual);
    }

    let count = xs.len() as f64;
    let x_mean = xs.iter().sum::<f64>() / count;
    let y_mean = ys.iter().sum::<f64>() / count;

    let mut sxx = 0.0;
    let mut sxy = 0.0;
    for (&x, &y) in xs.iter().zip(ys) {
        let dx = x - x_mean;
        sxx += dx * dx;
        sxy += dx * (y - y_mean);
    }

    let slope = sxy / sxx;
    Ok(Line {
        intercept: y_mean - slope * x_mean,
        slope,
    })
}
