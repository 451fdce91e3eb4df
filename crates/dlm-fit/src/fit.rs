//! The fit of the bound to a set of runs: exclusions, the line, its
//! bootstrap intervals, the rank correlation and the verdict.

use crate::bootstrap::{BootstrapLines, BootstrapPlan, bootstrap_lines, percentile_interval};
use crate::error::FitError;
use crate::exclusion::{Prepared, Selection, check_finite, prepare};
use crate::line::{Line, SolveError, has_distinct_x};
use crate::options::{CheckedOptions, FitOptions, Method, XScale};
use crate::point::FitPoint;
use crate::report::{BootstrapSummary, FitReport, LeveragePoint, Verdict};
use crate::solve::solve_line;
use crate::spearman::spearman;
use crate::warnings::{WarningInputs, fit_warnings};

/// Minimum number of usable runs in a fit. Two runs define any line, so a
/// third is the first that can test one.
pub const MIN_POINTS: usize = 3;

/// Minimum number of clusters for bootstrap intervals; with fewer the
/// intervals are absent and the verdict is inconclusive.
pub const MIN_BOOTSTRAP_CLUSTERS: usize = 2;

/// Mixed into the seed of the permutation test so that its random streams
/// differ from the bootstrap's.
const PERMUTATION_SEED_KEY: u64 = 0x5350_4541_524d_414e;

/// A point counts as above the line when its residual exceeds this share
/// of its size, so that points on the line stay on it despite rounding.
const ABOVE_TOLERANCE: f64 = 1e-9;

/// Fits the bound `F <= F0 * exp(-k x)` to `points`, with x = sigma or
/// log10 sigma as `options.x_scale` selects.
pub fn fit(points: &[FitPoint], options: &FitOptions) -> Result<FitReport, FitError> {
    let checked = options.validate()?;
    check_finite(points)?;
    fit_checked(points, &checked)
}

pub(crate) fn fit_checked(
    points: &[FitPoint],
    options: &CheckedOptions,
) -> Result<FitReport, FitError> {
    match options.x_scale {
        XScale::Linear => fit_on_scale(points, options, XScale::Linear),
        XScale::Log => fit_on_scale(points, options, XScale::Log),
        XScale::Both => {
            let mut linear = fit_on_scale(points, options, XScale::Linear)?;
            let log = fit_on_scale(points, options, XScale::Log)?;
            linear.log_scale = Some(Box::new(log));
            Ok(linear)
        }
    }
}

fn fit_on_scale(
    points: &[FitPoint],
    options: &CheckedOptions,
    scale: XScale,
) -> Result<FitReport, FitError> {
    let log_x = scale == XScale::Log;
    let prepared = prepare(
        points,
        Selection {
            log_x,
            min_learning_accuracy: options.min_learning_accuracy,
        },
    );

    if prepared.len() < MIN_POINTS {
        return Err(FitError::TooFewPoints {
            used: prepared.len(),
            required: MIN_POINTS,
            excluded: prepared.excluded,
        });
    }
    if !has_distinct_x(&prepared.xs) {
        return Err(FitError::AllSigmaEqual {
            count: prepared.len(),
            x_name: if log_x { "log10 sigma" } else { "sigma" },
            value: prepared.xs[0],
        });
    }

    let line = solve_line(options.method, &prepared.xs, &prepared.ys, options.q, None)
        .map_err(|error| solver_failure(options.method, error))?;

    // One cluster resampled is always the same data, which would give a
    // zero-width interval and a confident verdict from no information.
    let bootstrap = if options.bootstrap == 0 || prepared.clusters.len() < MIN_BOOTSTRAP_CLUSTERS {
        BootstrapLines::default()
    } else {
        bootstrap_lines(&BootstrapPlan {
            xs: &prepared.xs,
            ys: &prepared.ys,
            clusters: &prepared.clusters,
            method: options.method,
            q: options.q,
            full_line: line,
            resamples: options.bootstrap,
            seed: options.seed,
        })
    };

    let mut f0_draws: Vec<f64> = bootstrap
        .lines
        .iter()
        .map(|draw| draw.intercept.exp())
        .collect();
    let mut k_draws: Vec<f64> = bootstrap.lines.iter().map(|draw| -draw.slope).collect();
    let f0_ci = percentile_interval(&mut f0_draws);
    let k_ci = percentile_interval(&mut k_draws);

    let correlation = spearman(
        &prepared.xs,
        &prepared.ys,
        options.permutations,
        options.seed ^ PERMUTATION_SEED_KEY,
    );

    let k = -line.slope;
    let verdict = Verdict::from_interval(k_ci);
    let leverage = top_leverage(points, &prepared, options.leverage_top);
    let sigmas: Vec<f64> = prepared
        .source
        .iter()
        .map(|&index| points[index].sigma.unwrap_or_default())
        .collect();
    let warnings = fit_warnings(&WarningInputs {
        verdict,
        log_x,
        leverage: &leverage,
        spearman_rho: correlation.rho,
        spearman_p: correlation.p_value,
        sigmas: &sigmas,
        clusters: prepared.clusters.len(),
    });

    Ok(FitReport {
        method: options.method,
        x_scale: scale,
        q: (options.method == Method::Quantile).then_some(options.q),
        f0: line.intercept.exp(),
        ln_f0: line.intercept,
        k,
        sigma0: (k > 0.0).then(|| 1.0 / k),
        power_law_exponent: log_x.then(|| k / std::f64::consts::LN_10),
        f0_ci,
        k_ci,
        min_learning_accuracy: options.min_learning_accuracy,
        n_used: prepared.len(),
        n_excluded: prepared.excluded,
        share_above: share_above(&prepared, line),
        spearman_rho: correlation.rho,
        spearman_p: correlation.p_value,
        verdict,
        warnings,
        bootstrap: BootstrapSummary {
            resamples: options.bootstrap,
            failed: bootstrap.failed,
            clusters: prepared.clusters.len(),
            seed: options.seed,
        },
        leverage,
        log_scale: None,
        line,
        bootstrap_lines: bootstrap.lines,
    })
}

fn solver_failure(method: Method, error: SolveError) -> FitError {
    match error {
        SolveError::NoConvergence { iterations } => FitError::NoConvergence {
            method: method.name(),
            iterations,
        },
        // The caller checked for distinct x before solving.
        SolveError::AllXEqual => FitError::InvalidOption {
            field: "sigma",
            value: "all equal".to_string(),
            reason: "a decay rate needs runs at different sigma",
        },
    }
}

/// Share of used points strictly above `line`.
fn share_above(prepared: &Prepared, line: Line) -> f64 {
    let above = prepared
        .xs
        .iter()
        .zip(&prepared.ys)
        .filter(|&(&x, &y)| {
            let fitted = line.value_at(x);
            y - fitted > ABOVE_TOLERANCE * (1.0 + y.abs().max(fitted.abs()))
        })
        .count();
    above as f64 / prepared.len() as f64
}

/// Returns the `count` used runs with the largest hat values, highest
/// first.
fn top_leverage(points: &[FitPoint], prepared: &Prepared, count: usize) -> Vec<LeveragePoint> {
    let n = prepared.len() as f64;
    let x_mean = prepared.xs.iter().sum::<f64>() / n;
    let sxx: f64 = prepared.xs.iter().map(|x| (x - x_mean).powi(2)).sum();

    let mut ranked: Vec<(usize, f64)> = prepared
        .xs
        .iter()
        .enumerate()
        // Rounding can push a hat value just past 1 (or, in principle, below
        // 0), and it is a share of the fit, so it is clamped.
        .map(|(position, x)| {
            let leverage = 1.0 / n + (x - x_mean).powi(2) / sxx;
            (position, leverage.clamp(0.0, 1.0))
        })
        .collect();
    ranked.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));

    ranked
        .into_iter()
        .take(count)
        .map(|(position, leverage)| {
            let point = &points[prepared.source[position]];
            LeveragePoint {
                id: point.id.clone(),
                sigma: point.sigma.unwrap_or_default(),
                forgetting: point.forgetting.unwrap_or_default(),
                leverage,
            }
        })
        .collect()
}
