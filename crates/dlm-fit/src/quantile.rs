//! Exact linear quantile regression of y on x.
//!
//! The check loss `sum_i rho_q(y_i - a - b x_i)`, with
//! `rho_q(u) = u (q - [u < 0])`, is convex and piecewise linear in (a, b),
//! so its minimum is attained at a vertex: a line through two data points.
//! The solver walks from vertex to vertex. At a vertex it rotates the line
//! about one of the points the line passes through and moves to the best
//! line through that point, which is a weighted quantile of the slopes to
//! all other points (O(n) by selection). It stops when no rotation about
//! any point on the line lowers the loss, which proves optimality. Near
//! the vertex the loss is linear on each cone between the lines through
//! those points. So if it does not fall along any of those lines, it falls
//! in no direction, and a local minimum of a convex function is global. Each accepted step lowers the loss, so no vertex repeats and
//! the walk ends.

use std::cmp::Ordering;

use crate::line::{Line, SolveError, has_distinct_x};

/// Cap on accepted steps. Each step visits a new vertex and a fit usually
/// needs tens of steps, so reaching the cap means something is wrong.
const MAX_STEPS: usize = 100_000;

/// Relative loss decrease below which a step counts as no improvement, so
/// that rounding noise cannot make the walk circle among tied vertices.
const IMPROVEMENT_TOLERANCE: f64 = 1e-12;

/// Relative distance within which a point counts as lying on the line when
/// searching for extra rotation centres at a degenerate vertex.
const ON_LINE_TOLERANCE: f64 = 1e-10;

/// Fits the q-th quantile line exactly. The walk starts near `start`,
/// such as the full-data fit when fitting a bootstrap resample. Without it
/// the walk starts from the least-squares line, shifted to the q-th
/// quantile of its residuals.
pub(crate) fn quantile_line(
    xs: &[f64],
    ys: &[f64],
    q: f64,
    start: Option<Line>,
) -> Result<Line, SolveError> {
    if !has_distinct_x(xs) {
        return Err(SolveError::AllXEqual);
    }

    let mut solver = Solver {
        xs,
        ys,
        q,
        slopes: Vec::with_capacity(xs.len()),
    };

    let hint = match start {
        Some(line) => line,
        None => solver.initial_guess()?,
    };
    let first_centre = nearest_point(xs, ys, hint);

    let (mut line, mut newest) = solver.best_line_through(first_centre);
    let mut previous = first_centre;
    let mut loss = solver.loss(line);

    for _ in 0..MAX_STEPS {
        if loss <= 0.0 {
            return Ok(line);
        }

        let (candidate, touched) = solver.best_line_through(newest);
        let candidate_loss = solver.loss(candidate);
        if improves(candidate_loss, loss) {
            line = candidate;
            loss = candidate_loss;
            previous = newest;
            newest = touched;
            continue;
        }

        // Rotations about the two points that define the vertex do not
        // help; other points on the same line add directions to try.
        match solver.improve_at_degenerate_vertex(line, loss, [previous, newest]) {
            Some((better, centre, touched, better_loss)) => {
                line = better;
                loss = better_loss;
                previous = centre;
                newest = touched;
            }
            None => return Ok(line),
        }
    }

    Err(SolveError::NoConvergence {
        iterations: MAX_STEPS,
    })
}

/// Sum of the check loss of `line` over the points.
pub(crate) fn check_loss(xs: &[f64], ys: &[f64], q: f64, line: Line) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| {
            let residual = y - line.value_at(x);
            if residual >= 0.0 {
                q * residual
            } else {
                (q - 1.0) * residual
            }
        })
        .sum()
}

fn improves(candidate: f64, current: f64) -> bool {
    candidate < current - IMPROVEMENT_TOLERANCE * current.abs()
}

/// Index of the point closest vertically to `line`.
fn nearest_point(xs: &[f64], ys: &[f64], line: Line) -> usize {
    let mut best = 0;
    let mut best_distance = f64::INFINITY;
    for (index, (&x, &y)) in xs.iter().zip(ys).enumerate() {
        let distance = (y - line.value_at(x)).abs();
        if distance < best_distance {
            best = index;
            best_distance = distance;
        }
    }
    best
}

/// Slope from the rotation centre to one other point, with the weight by
/// which the loss's slope derivative jumps when the line passes it.
#[derive(Clone, Copy, Debug)]
struct SlopeCandidate {
    slope: f64,
    weight: f64,
    index: usize,
}

struct Solver<'a> {
    xs: &'a [f64],
    ys: &'a [f64],
    q: f64,
    slopes: Vec<SlopeCandidate>,
}

impl Solver<'_> {
    fn loss(&self, line: Line) -> f64 {
        check_loss(self.xs, self.ys, self.q, line)
    }

    fn initial_guess(&self) -> Result<Line, SolveError> {
        let trend = crate::ols::ols_line(self.xs, self.ys)?;
        let mut residuals: Vec<f64> = self
            .xs
            .iter()
            .zip(self.ys)
            .map(|(&x, &y)| y - trend.value_at(x))
            .collect();
        let rank = ((self.q * residuals.len() as f64) as usize).min(residuals.len() - 1);
        let (_, shift, _) = residuals.select_nth_unstable_by(rank, f64::total_cmp);
        Ok(Line {
            intercept: trend.intercept + *shift,
            slope: trend.slope,
        })
    }

    /// Returns the best line through point `centre` and the index of the
    /// other point it passes through.
    ///
    /// With `e = x_m - x_c` and `s_m` the slope from the centre to point m,
    /// the loss along lines of slope b through the centre is
    /// `sum_{e>0} e rho_q(s_m - b) + sum_{e<0} |e| rho_{1-q}(s_m - b)`.
    /// Its derivative in b is the weight of the slopes below b minus a
    /// constant `target`, so the minimum sits at the first slope where the
    /// cumulative weight reaches `target`: a weighted quantile.
    fn best_line_through(&mut self, centre: usize) -> (Line, usize) {
        let (centre_x, centre_y) = (self.xs[centre], self.ys[centre]);
        let q = self.q;

        self.slopes.clear();
        let mut target = 0.0;
        for (index, (&x, &y)) in self.xs.iter().zip(self.ys).enumerate() {
            let run = x - centre_x;
            if run == 0.0 {
                continue;
            }

            // Weights of the derivative below and above the breakpoint.
            let (below, above) = if run > 0.0 {
                (run * (1.0 - q), run * q)
            } else {
                (-run * q, -run * (1.0 - q))
            };
            target += above;
            self.slopes.push(SlopeCandidate {
                slope: (y - centre_y) / run,
                weight: below + above,
                index,
            });
        }

        // At least one point has a different x, so the list is not empty.
        let chosen = weighted_quantile(&mut self.slopes, target);
        let line = Line {
            intercept: centre_y - chosen.slope * centre_x,
            slope: chosen.slope,
        };
        (line, chosen.index)
    }

    /// Tries rotations about every other point lying on `line` and returns
    /// the first that lowers the loss, with its centre, new point and loss.
    ///
    /// NOTE: each rotation costs O(n), so data with a large share of runs
    /// on one line (such as many exact duplicates) can make this step
    /// O(n^2). Exactly collinear data stop earlier, at zero loss.
    fn improve_at_degenerate_vertex(
        &mut self,
        line: Line,
        loss: f64,
        tried: [usize; 2],
    ) -> Option<(Line, usize, usize, f64)> {
        let on_line: Vec<usize> = (0..self.xs.len())
            .filter(|index| !tried.contains(index))
            .filter(|&index| {
                let (x, y) = (self.xs[index], self.ys[index]);
                let scale = 1.0 + y.abs() + line.intercept.abs() + (line.slope * x).abs();
                (y - line.value_at(x)).abs() <= ON_LINE_TOLERANCE * scale
            })
            .collect();

        for centre in on_line {
            let (candidate, touched) = self.best_line_through(centre);
            let candidate_loss = self.loss(candidate);
            if improves(candidate_loss, loss) {
                return Some((candidate, centre, touched, candidate_loss));
            }
        }
        None
    }
}

/// Returns the first candidate, in slope order, at which the cumulative
/// weight reaches `target`, by quickselect in expected O(n).
fn weighted_quantile(candidates: &mut [SlopeCandidate], target: f64) -> SlopeCandidate {
    let by_slope = |left: &SlopeCandidate, right: &SlopeCandidate| -> Ordering {
        left.slope.total_cmp(&right.slope)
    };
    let mut low = 0;
    let mut high = candidates.len();
    let mut weight_before = 0.0;

    while high - low > 32 {
        let middle = low + (high - low) / 2;
        candidates[low..high].select_nth_unstable_by(middle - low, by_slope);

        let left_weight: f64 = candidates[low..middle]
            .iter()
            .map(|candidate| candidate.weight)
            .sum();
        if weight_before + left_weight >= target {
            high = middle;
            continue;
        }

        weight_before += left_weight;
        if weight_before + candidates[middle].weight >= target {
            return candidates[middle];
        }
        weight_before += candidates[middle].weight;
        low = middle + 1;
    }

    let rest = &mut candidates[low..high];
    rest.sort_unstable_by(by_slope);
    for candidate in rest.iter() {
        weight_before += candidate.weight;
        if weight_before >= target {
            return *candidate;
        }
    }

    // Only rounding can leave the target unreached: the target is a strict
    // part of the total weight. The largest slope is then the minimiser.
    match rest.last() {
        Some(last) => *last,
        None => candidates[low.saturating_sub(1)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn weighted_quantile_matches_sorted_scan() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for count in [1, 2, 5, 33, 34, 100, 1000] {
            let candidates: Vec<SlopeCandidate> = (0..count)
                .map(|index| SlopeCandidate {
                    // Few distinct slopes, so ties are common.
                    slope: rng.random_range(0..20) as f64,
                    weight: rng.random_range(0.1..2.0),
                    index,
                })
                .collect();
            let total: f64 = candidates.iter().map(|candidate| candidate.weight).sum();

            for share in [0.01, 0.3, 0.5, 0.77, 0.99] {
                let target = share * total;
                let mut sorted = candidates.clone();
                sorted.sort_by(|left, right| left.slope.total_cmp(&right.slope));
                let mut cumulative = 0.0;
                let expected = sorted
                    .iter()
                    .find(|candidate| {
                        cumulative += candidate.weight;
                        cumulative >= target
                    })
                    .unwrap()
                    .slope;

                let mut scratch = candidates.clone();
                let chosen = weighted_quantile(&mut scratch, target);
                assert_eq!(chosen.slope, expected, "count {count}, share {share}");
            }
        }
    }

    #[test]
    fn start_line_does_not_change_loss() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let xs: Vec<f64> = (0..500).map(|_| rng.random_range(0.0..1e4)).collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| -x / 3e3 - rng.random_range(0.0..2.0))
            .collect();

        let cold = quantile_line(&xs, &ys, 0.95, None).unwrap();
        let starts = [
            Line {
                intercept: 50.0,
                slope: 1.0,
            },
            Line {
                intercept: -3.0,
                slope: 0.0,
            },
            cold,
        ];
        for start in starts {
            let warm = quantile_line(&xs, &ys, 0.95, Some(start)).unwrap();
            let (cold_loss, warm_loss) = (
                check_loss(&xs, &ys, 0.95, cold),
                check_loss(&xs, &ys, 0.95, warm),
            );
            assert!(
                (cold_loss - warm_loss).abs() <= 1e-9 * cold_loss,
                "start {start:?}: {warm_loss} vs {cold_loss}"
            );
        }
    }
}
