//! Errors of the fit library. Every invalid input is reported with the
//! field, the value and what to change; no input makes the library panic.

use crate::exclusion::ExclusionCounts;

/// Failure of a fit, with the input that caused it.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FitError {
    /// Fewer usable points than a straight line with an interval needs.
    #[error(
        "too few usable points: {used} remain after exclusions ({excluded}), at least {required} are required; \
         relax the filters (for example the learning-accuracy threshold) or add runs"
    )]
    TooFewPoints {
        used: usize,
        required: usize,
        excluded: ExclusionCounts,
    },

    /// Every usable point has the same x value, so no slope is defined.
    #[error(
        "all {count} usable points have the same {x_name} = {value}; a decay rate needs runs at different sigma"
    )]
    AllSigmaEqual {
        count: usize,
        x_name: &'static str,
        value: f64,
    },

    /// An input value is NaN or infinite.
    #[error(
        "invalid {field} = {value} in row {row}: values must be finite; use an empty value for a missing one"
    )]
    NonFinite {
        row: String,
        field: &'static str,
        value: f64,
    },

    /// The quantile is outside the open interval (0, 1).
    #[error("invalid q = {q}: the quantile must lie strictly between 0 and 1, for example 0.95")]
    InvalidQuantile { q: f64 },

    /// Any other option outside its valid range.
    #[error("invalid {field} = {value}: {reason}")]
    InvalidOption {
        field: &'static str,
        value: String,
        reason: &'static str,
    },

    /// The baseline comparison has no usable run in one of its two groups,
    /// or a mean that makes the ratio undefined.
    #[error("baseline ratio undefined: {reason}")]
    BaselineUndefined { reason: String },

    /// The plot could not be drawn.
    #[error("plot failed: {reason}")]
    Plot { reason: String },

    /// The exact solver stopped without proving optimality.
    #[error("the {method} solver did not reach an optimal line within {iterations} pivots")]
    NoConvergence {
        method: &'static str,
        iterations: usize,
    },
}
