//! Dispatch from a fit method to its line solver.

use crate::envelope::envelope_line;
use crate::line::{Line, SolveError};
use crate::ols::ols_line;
use crate::options::Method;
use crate::quantile::quantile_line;

/// Fits the line of `method` to the points. `start` only guides the
/// quantile solver: it changes the result only when several lines share
/// the minimum loss, and then only which of them is returned.
pub(crate) fn solve_line(
    method: Method,
    xs: &[f64],
    ys: &[f64],
    q: f64,
    start: Option<Line>,
) -> Result<Line, SolveError> {
    match method {
        Method::Envelope => envelope_line(xs, ys),
        Method::Quantile => quantile_line(xs, ys, q, start),
        Method::Ols => ols_line(xs, ys),
    }
}
