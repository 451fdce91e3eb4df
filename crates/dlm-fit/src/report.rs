//! The result of a fit, serialised as the JSON object that the command
//! line and the HTTP API return.

use serde::Serialize;

use crate::exclusion::ExclusionCounts;
use crate::line::Line;
use crate::options::{Method, XScale};
use crate::warnings::FitWarning;

/// Plain-language reading of the decay rate's bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The whole 95 % interval of k lies above 0: forgetting falls with
    /// sigma.
    Supported,
    /// The whole interval lies below 0: forgetting rises with sigma.
    Contradicted,
    /// The interval contains 0, or there is no interval.
    Inconclusive,
}

impl Verdict {
    /// Reads the verdict off an interval of the decay rate k.
    pub fn from_interval(interval: Option<[f64; 2]>) -> Verdict {
        match interval {
            Some([low, _]) if low > 0.0 => Verdict::Supported,
            Some([_, high]) if high < 0.0 => Verdict::Contradicted,
            _ => Verdict::Inconclusive,
        }
    }

    /// Returns the lowercase name used in JSON, as in `supported`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Contradicted => "contradicted",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// Returns one sentence for human-readable output.
    pub fn explanation(self) -> &'static str {
        match self {
            Verdict::Supported => {
                "supported: the whole 95% interval of the decay rate k is above 0, so forgetting falls as sigma grows"
            }
            Verdict::Contradicted => {
                "contradicted: the whole 95% interval of the decay rate k is below 0, so forgetting rises as sigma grows"
            }
            Verdict::Inconclusive => {
                "inconclusive: the 95% interval of the decay rate k contains 0 (or could not be computed), so the data do not decide"
            }
        }
    }
}

/// A usable run with one of the largest leverages on the fitted slope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeveragePoint {
    pub id: String,
    pub sigma: f64,
    pub forgetting: f64,
    /// Hat value `1/n + (x - mean x)^2 / sum (x - mean x)^2` in fit
    /// coordinates, clamped to [0, 1] because it is a share; near 1, one
    /// run alone sets the slope.
    pub leverage: f64,
}

/// Summary of the bootstrap resamples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BootstrapSummary {
    pub resamples: usize,
    /// Resamples that produced no line (all runs at one x).
    pub failed: usize,
    pub clusters: usize,
    pub seed: u64,
}

/// Everything one fit reports. Field names in JSON follow the notation of
/// the bound: `F0`, `k`, `sigma0`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitReport {
    pub method: Method,
    /// `linear` (x = sigma) or `log` (x = log10 sigma).
    pub x_scale: XScale,
    /// Quantile of the `quantile` method, absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
    /// Bound at x = 0, `exp(ln_F0)`.
    #[serde(rename = "F0")]
    pub f0: f64,
    /// Intercept of the fitted line in y = ln F.
    #[serde(rename = "ln_F0")]
    pub ln_f0: f64,
    /// Decay rate: minus the slope of ln F against x.
    pub k: f64,
    /// `1/k`, in units of x (sigma, or decades of sigma under the log
    /// scale); only where k > 0.
    pub sigma0: Option<f64>,
    /// Under the log scale F is proportional to `sigma^(-exponent)` with
    /// `exponent = k / ln 10`; absent under the linear scale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_law_exponent: Option<f64>,
    /// Bootstrap 95 % interval of F0, `null` without resamples.
    #[serde(rename = "F0_ci")]
    pub f0_ci: Option<[f64; 2]>,
    pub k_ci: Option<[f64; 2]>,
    /// Learning-accuracy threshold of the fit, if any.
    pub min_learning_accuracy: Option<f64>,
    pub n_used: usize,
    pub n_excluded: ExclusionCounts,
    /// Share of the used runs strictly above the fitted line.
    pub share_above: f64,
    pub spearman_rho: Option<f64>,
    pub spearman_p: Option<f64>,
    pub verdict: Verdict,
    /// Checks that qualify the verdict, such as one run carrying the slope
    /// or no rank trend behind a supported verdict; empty when none apply.
    pub warnings: Vec<FitWarning>,
    pub bootstrap: BootstrapSummary,
    /// Runs with the largest leverage, highest first.
    pub leverage: Vec<LeveragePoint>,
    /// The fit on the log scale, when both scales were requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_scale: Option<Box<FitReport>>,
    /// The fitted line in fit coordinates.
    #[serde(skip)]
    pub line: Line,
    /// Lines of the successful resamples, for the plot's interval band.
    #[serde(skip)]
    pub bootstrap_lines: Vec<Line>,
}
