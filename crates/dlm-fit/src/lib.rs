//! Statistics of the conjectured forgetting bound `F <= F0 * exp(-sigma / sigma0)`.
//!
//! The library takes one [`FitPoint`] per run and fits a line to
//! `y = ln F` against `x = sigma` (or `log10 sigma`) in one of three ways:
//! the upper envelope, exact linear quantile regression, or least squares.
//! It reports `F0`, the decay rate `k = 1/sigma0`, cluster-bootstrap
//! intervals, exclusions by reason, Spearman's rho with a permutation
//! p-value and a verdict read off the interval of `k`. It also compares
//! forgetting against baseline runs and draws the fit as SVG.
//!
//! Everything is a pure function of the input and the seed: the bootstrap
//! and permutation streams are fixed per resample, so results do not depend
//! on the number of rayon threads.

mod baseline;
mod bootstrap;
mod columns;
mod envelope;
mod error;
mod exclusion;
mod fit;
mod grouped;
mod line;
mod ols;
mod options;
mod plot;
mod point;
mod quantile;
mod report;
mod solve;
mod spearman;
mod warnings;

pub use baseline::{ArmSummary, BaselineRatio, baseline_ratio};
pub use columns::{
    CLUSTER_COLUMN, CellError, DEFAULT_LABEL_COLUMNS, DIVERGED_COLUMN, FitColumns, ID_COLUMNS,
    LEARNING_ACCURACY_COLUMN, default_label_column, fit_point_from_cells,
};
pub use error::FitError;
pub use exclusion::ExclusionCounts;
pub use fit::{MIN_BOOTSTRAP_CLUSTERS, MIN_POINTS, fit};
pub use grouped::{GroupFit, GroupedFitReport, fit_groups};
pub use line::Line;
pub use options::{FitOptions, Method, XScale};
pub use plot::{PlotOptions, render_svg};
pub use point::FitPoint;
pub use report::{BootstrapSummary, FitReport, LeveragePoint, Verdict};
pub use warnings::{
    FitWarning, HIGH_LEVERAGE, MAX_LINEAR_DECADES, MIN_RELIABLE_CLUSTERS, SPEARMAN_ALPHA,
    WarningKind,
};
