//! The upper envelope: the line on or above every point with the smallest
//! mean vertical gap.
//!
//! The mean gap of a line y = a + b x above points (x_i, y_i) is
//! `a + b * mean(x) - mean(y)`, so the problem is to minimise the line's
//! height at `mean(x)` subject to lying above every point. The feasible lines
//! lie above the upper convex hull, and the lowest one at `mean(x)` is the
//! hull edge whose x range contains `mean(x)`. That edge is the exact optimum
//! of the two-variable linear programme, found in O(n log n).

use crate::line::{Line, SolveError, has_distinct_x};

/// Fits the upper envelope line. When `mean(x)` falls exactly on a hull
/// vertex, every line through that vertex between its two edges is
/// optimal. The edge to the right of the vertex is then returned.
pub(crate) fn envelope_line(xs: &[f64], ys: &[f64]) -> Result<Line, SolveError> {
    if !has_distinct_x(xs) {
        return Err(SolveError::AllXEqual);
    }

    let hull = upper_hull(xs, ys);
    let x_mean = xs.iter().sum::<f64>() / xs.len() as f64;

    // The hull has at least two vertices because the x values differ.
    let last_edge = hull.len() - 2;
    let edge = hull
        .windows(2)
        .position(|pair| pair[0].0 <= x_mean && x_mean < pair[1].0)
        .unwrap_or(if x_mean < hull[0].0 { 0 } else { last_edge });

    Ok(Line::through(hull[edge], hull[edge + 1]))
}

/// Returns the vertices of the upper convex hull from left to right,
/// keeping only the highest point of each x and dropping collinear middle
/// points (Andrew's monotone chain).
fn upper_hull(xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
    points.sort_by(|left, right| left.0.total_cmp(&right.0).then(left.1.total_cmp(&right.1)));

    let mut hull: Vec<(f64, f64)> = Vec::new();
    for point in points {
        // Sorted by y within equal x, so a later point of the same x is higher.
        if let Some(last) = hull.last()
            && last.0 == point.0
        {
            hull.pop();
        }

        while hull.len() >= 2 {
            let origin = hull[hull.len() - 2];
            let middle = hull[hull.len() - 1];
            let cross = (middle.0 - origin.0) * (point.1 - origin.1)
                - (middle.1 - origin.1) * (point.0 - origin.0);
            // A left turn or a straight line means `middle` is not above the
            // chord from `origin` to `point`.
            if cross < 0.0 {
                break;
            }
            hull.pop();
        }
        hull.push(point);
    }
    hull
}
