//! Cluster bootstrap of a fitted line.
//!
//! Seeds of one configuration share everything but their noise, so they
//! are not independent draws. Each resample therefore draws whole clusters
//! (configurations) with replacement, with all their runs, until it has as
//! many clusters as the data. Resample r draws from its own ChaCha8 stream
//! (the seed, stream r), so the result is the same for any number of
//! threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::line::{Line, SolveError};
use crate::options::Method;
use crate::solve::solve_line;

/// Lines fitted to the bootstrap resamples.
#[derive(Clone, Debug, Default)]
pub(crate) struct BootstrapLines {
    /// One line per resample that could be fitted, in resample order.
    pub lines: Vec<Line>,
    /// Resamples without a line, such as those whose runs all share one x.
    pub failed: usize,
}

/// Inputs of one bootstrap.
pub(crate) struct BootstrapPlan<'a> {
    pub xs: &'a [f64],
    pub ys: &'a [f64],
    pub clusters: &'a [Vec<usize>],
    pub method: Method,
    pub q: f64,
    /// The fit on the full data; the quantile solver starts there.
    pub full_line: Line,
    pub resamples: usize,
    pub seed: u64,
}

/// Fits every resample in parallel.
pub(crate) fn bootstrap_lines(plan: &BootstrapPlan<'_>) -> BootstrapLines {
    let outcomes: Vec<Result<Line, SolveError>> = (0..plan.resamples)
        .into_par_iter()
        .map(|resample| fit_resample(plan, resample))
        .collect();

    let mut result = BootstrapLines::default();
    for outcome in outcomes {
        match outcome {
            Ok(line) => result.lines.push(line),
            Err(_) => result.failed += 1,
        }
    }
    result
}

fn fit_resample(plan: &BootstrapPlan<'_>, resample: usize) -> Result<Line, SolveError> {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    rng.set_stream(resample as u64);

    let cluster_count = plan.clusters.len();
    let mut xs = Vec::with_capacity(plan.xs.len());
    let mut ys = Vec::with_capacity(plan.ys.len());
    for _ in 0..cluster_count {
        let cluster = &plan.clusters[rng.random_range(0..cluster_count)];
        for &index in cluster {
            xs.push(plan.xs[index]);
            ys.push(plan.ys[index]);
        }
    }

    solve_line(plan.method, &xs, &ys, plan.q, Some(plan.full_line))
}

/// Linear-interpolation percentile (type 7) of sorted values, `share` in
/// [0, 1].
pub(crate) fn percentile_of_sorted(sorted: &[f64], share: f64) -> f64 {
    let position = share * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    sorted[lower] + fraction * (sorted[upper] - sorted[lower])
}

/// Equal-tailed 95 % percentile interval of `values`, or `None` with fewer
/// than two values.
pub(crate) fn percentile_interval(values: &mut [f64]) -> Option<[f64; 2]> {
    if values.len() < 2 {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    Some([
        percentile_of_sorted(values, 0.025),
        percentile_of_sorted(values, 0.975),
    ])
}
