//! Options of a fit, and their validation into a checked form that the
//! rest of the library trusts without checking again.

use serde::Serialize;

use crate::error::FitError;

/// Kind of line fitted to `y = ln F` against x.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The line on or above every point with the smallest mean vertical gap.
    #[default]
    Envelope,
    /// Linear quantile regression at quantile `q`.
    Quantile,
    /// Ordinary least squares, a reference trend rather than a bound.
    Ols,
}

impl Method {
    /// Lowercase name used in reports, the command line and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            Method::Envelope => "envelope",
            Method::Quantile => "quantile",
            Method::Ols => "ols",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = FitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "envelope" => Ok(Method::Envelope),
            "quantile" => Ok(Method::Quantile),
            "ols" => Ok(Method::Ols),
            _ => Err(FitError::InvalidOption {
                field: "method",
                value: text.to_string(),
                reason: "expected envelope, quantile or ols",
            }),
        }
    }
}

/// The x coordinate of a fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum XScale {
    /// x = sigma, the form of the conjectured bound.
    #[default]
    Linear,
    /// x = log10 sigma, a power law in sigma; runs with sigma <= 0 are
    /// excluded.
    Log,
    /// Both fits: the linear one as the main report and the log one beside
    /// it.
    Both,
}

impl XScale {
    /// Lowercase name used in reports, the command line and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            XScale::Linear => "linear",
            XScale::Log => "log",
            XScale::Both => "both",
        }
    }
}

impl std::str::FromStr for XScale {
    type Err = FitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "linear" => Ok(XScale::Linear),
            "log" => Ok(XScale::Log),
            "both" => Ok(XScale::Both),
            _ => Err(FitError::InvalidOption {
                field: "x_scale",
                value: text.to_string(),
                reason: "expected linear, log or both",
            }),
        }
    }
}

/// Everything a fit can be asked to do. Build it with `Default` and
/// override fields; `fit` validates it once.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    pub method: Method,
    pub x_scale: XScale,
    /// Quantile of the `quantile` method, strictly between 0 and 1.
    pub q: f64,
    /// Number of bootstrap resamples; 0 disables the intervals (and makes
    /// the verdict inconclusive).
    pub bootstrap: usize,
    /// Seed of the bootstrap and permutation random streams.
    pub seed: u64,
    /// Runs whose learning accuracy is below this value (or missing) are
    /// excluded, because a run that learned nothing has nothing to lose.
    pub min_learning_accuracy: Option<f64>,
    /// Number of random permutations behind Spearman's p-value; 0 disables
    /// the p-value.
    pub permutations: usize,
    /// Number of highest-leverage points named in the report.
    pub leverage_top: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            method: Method::Envelope,
            x_scale: XScale::Linear,
            q: 0.95,
            bootstrap: 1000,
            seed: 0,
            min_learning_accuracy: None,
            permutations: 999,
            leverage_top: 5,
        }
    }
}

/// Options that passed validation. Only `FitOptions::validate` builds
/// one, so code that receives it trusts every field.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CheckedOptions(FitOptions);

impl std::ops::Deref for CheckedOptions {
    type Target = FitOptions;

    fn deref(&self) -> &FitOptions {
        &self.0
    }
}

/// Upper limit on resamples and permutations, far above any useful value,
/// so that a typing slip cannot start a run of hours.
const MAX_RESAMPLES: usize = 1_000_000;

impl FitOptions {
    /// Checks the options the way `fit` does, without data, so a
    /// caller can reject them before any expensive work.
    pub fn check(&self) -> Result<(), FitError> {
        self.validate().map(|_| ())
    }

    pub(crate) fn validate(&self) -> Result<CheckedOptions, FitError> {
        // Only the quantile method reads q, so an unused q is never an error.
        if self.method == Method::Quantile && !(self.q > 0.0 && self.q < 1.0) {
            return Err(FitError::InvalidQuantile { q: self.q });
        }

        if self.bootstrap > MAX_RESAMPLES {
            return Err(FitError::InvalidOption {
                field: "bootstrap",
                value: self.bootstrap.to_string(),
                reason: "at most 1000000 resamples; 1000 is the usual choice",
            });
        }

        if self.permutations > MAX_RESAMPLES {
            return Err(FitError::InvalidOption {
                field: "permutations",
                value: self.permutations.to_string(),
                reason: "at most 1000000 permutations; 999 is the usual choice",
            });
        }

        if let Some(threshold) = self.min_learning_accuracy
            && !(0.0..=1.0).contains(&threshold)
        {
            return Err(FitError::InvalidOption {
                field: "min_learning_accuracy",
                value: threshold.to_string(),
                reason: "learning accuracy is a fraction from 0 to 1, so use for example 0.6 rather than 60",
            });
        }

        Ok(CheckedOptions(self.clone()))
    }
}
