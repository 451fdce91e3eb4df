//! Warnings that qualify a fit's verdict. The verdict reads only the
//! interval of the decay rate, and that interval can exclude 0 while the
//! slope rests on one extreme run, while the ranks show no trend, or while
//! there are too few configurations to resample. Each warning names the
//! check that failed so that a reader does not take the verdict alone.

use serde::Serialize;

use crate::report::{LeveragePoint, Verdict};

/// Leverage above which one run carries the slope: a hat value above 0.5
/// means the run pulls the line more than all others together.
pub const HIGH_LEVERAGE: f64 = 0.5;

/// Spearman p-value at or below which the rank test counts as significant.
pub const SPEARMAN_ALPHA: f64 = 0.05;

/// Decades of sigma above which a linear-scale fit is dominated by the
/// runs at the top of the range.
pub const MAX_LINEAR_DECADES: f64 = 6.0;

/// Number of configurations below which the cluster bootstrap can produce
/// only a few distinct resamples, so its interval is rough.
pub const MIN_RELIABLE_CLUSTERS: usize = 10;

/// Check that a warning comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// One run has a leverage above [`HIGH_LEVERAGE`].
    HighLeverage,
    /// The Spearman test is significant with the sign opposite to the
    /// verdict.
    SpearmanDisagrees,
    /// The verdict is supported or contradicted but the Spearman p-value
    /// is above [`SPEARMAN_ALPHA`].
    NoMonotoneTrend,
    /// Sigma spans more than [`MAX_LINEAR_DECADES`] decades under the
    /// linear scale.
    WideSigmaRange,
    /// Fewer than [`MIN_RELIABLE_CLUSTERS`] configurations.
    FewClusters,
}

/// One warning of a fit report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitWarning {
    pub kind: WarningKind,
    /// One sentence for people, with the numbers behind the warning.
    pub message: String,
}

/// Inputs of the warning checks.
pub(crate) struct WarningInputs<'a> {
    pub verdict: Verdict,
    pub log_x: bool,
    /// Runs with the largest leverage, highest first.
    pub leverage: &'a [LeveragePoint],
    pub spearman_rho: Option<f64>,
    pub spearman_p: Option<f64>,
    /// Sigma of every used run.
    pub sigmas: &'a [f64],
    pub clusters: usize,
}

/// Returns the warnings that apply, in the order of [`WarningKind`].
pub(crate) fn fit_warnings(inputs: &WarningInputs<'_>) -> Vec<FitWarning> {
    let mut warnings = Vec::new();

    if let Some(top) = inputs.leverage.first()
        && top.leverage > HIGH_LEVERAGE
    {
        let advice = if inputs.log_x {
            "check that run before trusting the slope"
        } else {
            "compare the log x-scale (--x-scale log)"
        };
        warnings.push(FitWarning {
            kind: WarningKind::HighLeverage,
            message: format!(
                "the fit rests on run {} (leverage {:.2}); {advice}",
                top.id, top.leverage
            ),
        });
    }

    if let Some(warning) = spearman_warning(inputs) {
        warnings.push(warning);
    }

    if !inputs.log_x
        && let Some(decades) = positive_decades(inputs.sigmas)
        && decades > MAX_LINEAR_DECADES
    {
        warnings.push(FitWarning {
            kind: WarningKind::WideSigmaRange,
            message: format!(
                "sigma spans {decades:.1} decades, so the runs at the top of the range decide the linear fit; \
                 compare the log x-scale (--x-scale log)"
            ),
        });
    }

    if inputs.clusters < MIN_RELIABLE_CLUSTERS {
        warnings.push(FitWarning {
            kind: WarningKind::FewClusters,
            message: format!(
                "only {} configurations (clusters) were resampled, fewer than {MIN_RELIABLE_CLUSTERS}, \
                 so the bootstrap interval is rough",
                inputs.clusters
            ),
        });
    }

    warnings
}

/// Compares the verdict with the rank test. A bound that is true comes with
/// a negative rho, so `supported` expects rho < 0 and `contradicted`
/// expects rho > 0.
fn spearman_warning(inputs: &WarningInputs<'_>) -> Option<FitWarning> {
    let (Some(rho), Some(p)) = (inputs.spearman_rho, inputs.spearman_p) else {
        return None;
    };
    let expected_sign = match inputs.verdict {
        Verdict::Supported => -1.0,
        Verdict::Contradicted => 1.0,
        Verdict::Inconclusive => return None,
    };
    let numbers = format!("Spearman rho={rho:.3}, p={p:.3}");

    if p > SPEARMAN_ALPHA {
        return Some(FitWarning {
            kind: WarningKind::NoMonotoneTrend,
            message: format!(
                "no monotone trend: {numbers}, although the verdict is {}",
                inputs.verdict.name()
            ),
        });
    }
    if rho * expected_sign < 0.0 {
        return Some(FitWarning {
            kind: WarningKind::SpearmanDisagrees,
            message: format!(
                "the verdict {} disagrees in sign with a significant rank test: {numbers}",
                inputs.verdict.name()
            ),
        });
    }
    None
}

/// Decades between the smallest and largest positive sigma, `None` with
/// fewer than two positive values.
fn positive_decades(sigmas: &[f64]) -> Option<f64> {
    let positive = sigmas.iter().copied().filter(|&sigma| sigma > 0.0);
    let (low, high, count) = positive.fold(
        (f64::INFINITY, f64::NEG_INFINITY, 0usize),
        |(low, high, count), sigma| (low.min(sigma), high.max(sigma), count + 1),
    );
    (count >= 2).then(|| high.log10() - low.log10())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        verdict: Verdict,
        rho: f64,
        p: f64,
        sigmas: &'a [f64],
        leverage: &'a [LeveragePoint],
    ) -> WarningInputs<'a> {
        WarningInputs {
            verdict,
            log_x: false,
            leverage,
            spearman_rho: Some(rho),
            spearman_p: Some(p),
            sigmas,
            clusters: 20,
        }
    }

    fn kinds(inputs: &WarningInputs<'_>) -> Vec<WarningKind> {
        fit_warnings(inputs)
            .iter()
            .map(|warning| warning.kind)
            .collect()
    }

    const SIGMAS: [f64; 3] = [10.0, 100.0, 1000.0];

    #[test]
    fn spearman_cases() {
        // (verdict, rho, p, expected warning)
        let cases = [
            (Verdict::Supported, -0.5, 0.001, None),
            (
                Verdict::Supported,
                0.5,
                0.001,
                Some(WarningKind::SpearmanDisagrees),
            ),
            (
                Verdict::Supported,
                0.069,
                0.58,
                Some(WarningKind::NoMonotoneTrend),
            ),
            (Verdict::Contradicted, 0.5, 0.001, None),
            (
                Verdict::Contradicted,
                -0.5,
                0.01,
                Some(WarningKind::SpearmanDisagrees),
            ),
            (
                Verdict::Contradicted,
                0.1,
                0.2,
                Some(WarningKind::NoMonotoneTrend),
            ),
            (Verdict::Inconclusive, 0.5, 0.001, None),
            (Verdict::Inconclusive, 0.0, 0.9, None),
        ];
        for (verdict, rho, p, expected) in cases {
            let found = kinds(&inputs(verdict, rho, p, &SIGMAS, &[]));
            assert_eq!(
                found,
                expected.into_iter().collect::<Vec<_>>(),
                "{verdict:?} rho={rho} p={p}"
            );
        }
    }

    #[test]
    fn spearman_message_names_numbers() {
        let warnings = fit_warnings(&inputs(Verdict::Supported, 0.069, 0.58, &SIGMAS, &[]));

        assert_eq!(
            warnings[0].message,
            "no monotone trend: Spearman rho=0.069, p=0.580, although the verdict is supported"
        );
    }

    #[test]
    fn leverage_threshold() {
        for (leverage, expected) in [(0.99, true), (0.51, true), (0.5, false), (0.2, false)] {
            let top = [LeveragePoint {
                id: "run-7".to_string(),
                sigma: 1.0,
                forgetting: 0.1,
                leverage,
            }];
            let warnings = fit_warnings(&inputs(Verdict::Inconclusive, 0.0, 0.9, &SIGMAS, &top));
            let found = warnings
                .iter()
                .any(|warning| warning.kind == WarningKind::HighLeverage);

            assert_eq!(found, expected, "leverage {leverage}");
            if expected {
                assert!(
                    warnings[0].message.contains("run run-7 (leverage"),
                    "{}",
                    warnings[0].message
                );
            }
        }
    }

    #[test]
    fn sigma_range_threshold() {
        // (sigmas, log scale, expected warning)
        let cases: [(&[f64], bool, bool); 5] = [
            (&[1.0, 1.0e7], false, true),
            (&[1.0, 1.0e6], false, false),
            (&[-5.0, 1.0e-3, 1.0e4], false, true),
            (&[1.0, 1.0e30], true, false),
            (&[0.0, 1.0e30], false, false),
        ];
        for (sigmas, log_x, expected) in cases {
            let mut checked = inputs(Verdict::Inconclusive, 0.0, 0.9, sigmas, &[]);
            checked.log_x = log_x;
            let found = kinds(&checked).contains(&WarningKind::WideSigmaRange);

            assert_eq!(found, expected, "{sigmas:?} log {log_x}");
        }
    }

    #[test]
    fn cluster_threshold() {
        for (clusters, expected) in [(9, true), (10, false), (2, true)] {
            let mut checked = inputs(Verdict::Inconclusive, 0.0, 0.9, &SIGMAS, &[]);
            checked.clusters = clusters;
            let found = kinds(&checked).contains(&WarningKind::FewClusters);

            assert_eq!(found, expected, "{clusters} clusters");
        }
    }
}
