//! The fit flags that `dlm fit` and `dlm sweep` share, turned into the
//! statistics library's options in one place so both commands fit the same
//! way and reject the same values.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use dlm_fit::{FitOptions, Method, XScale};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MethodArg {
    Envelope,
    Quantile,
    Ols,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum XScaleArg {
    Linear,
    Log,
    Both,
}

/// Fit settings: the method, the x axis, the bootstrap and the exclusions.
#[derive(Debug, Args)]
pub struct FitFlags {
    /// Line fitted to ln F: the upper envelope, quantile regression or
    /// least squares.
    #[arg(long, value_enum, default_value = "envelope")]
    pub method: MethodArg,

    /// x axis of the fit: sigma (linear), log10 sigma (log) or both.
    #[arg(long, value_enum, default_value = "linear")]
    pub x_scale: XScaleArg,

    /// Quantile of the quantile method, strictly between 0 and 1.
    #[arg(long, default_value_t = 0.95)]
    pub q: f64,

    /// Number of bootstrap resamples behind the 95% intervals (0 disables
    /// them).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,

    /// Seed of the bootstrap and of the permutation test.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Exclude runs whose learning accuracy (LA, a fraction from 0 to 1) is
    /// below this fraction, for example 0.6.
    #[arg(long, value_name = "FRACTION")]
    pub min_la: Option<f64>,

    /// Number of permutations behind Spearman's p-value (0 disables it).
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
}

impl FitFlags {
    /// Returns the library's options, checked before any data is read. The
    /// flags whose library names differ from the flag names are checked
    /// first, so that the error names the flag the user typed.
    pub fn to_options(&self) -> Result<FitOptions> {
        if let Some(threshold) = self.min_la
            && !(0.0..=1.0).contains(&threshold)
        {
            bail!(
                "invalid --min-la {threshold}: learning accuracy is a fraction from 0 to 1, \
                 so use for example 0.6 rather than 60"
            );
        }

        let options = FitOptions {
            method: match self.method {
                MethodArg::Envelope => Method::Envelope,
                MethodArg::Quantile => Method::Quantile,
                MethodArg::Ols => Method::Ols,
            },
            x_scale: match self.x_scale {
                XScaleArg::Linear => XScale::Linear,
                XScaleArg::Log => XScale::Log,
                XScaleArg::Both => XScale::Both,
            },
            q: self.q,
            bootstrap: self.bootstrap,
            seed: self.seed,
            min_learning_accuracy: self.min_la,
            permutations: self.permutations,
            ..FitOptions::default()
        };
        options.check()?;
        Ok(options)
    }
}
