//! The input of every fit: one record per run, as the store or a CSV file
//! provides it, before any filtering.

/// One run's entry in a fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitPoint {
    /// Entropy production of the run; `None` when it is undefined, for
    /// example when some temperature was zero.
    pub sigma: Option<f64>,
    /// Forgetting measure of the run (F or the forgetting rate); `None` when
    /// missing.
    pub forgetting: Option<f64>,
    /// Whether the run diverged; diverged runs never enter a fit.
    pub diverged: bool,
    /// Learning accuracy (mean accuracy on each task right after training
    /// it), used by the optional plasticity filter.
    pub learning_accuracy: Option<f64>,
    /// Configuration id. The bootstrap resamples clusters, so all seeds of
    /// one configuration are drawn or left out together.
    pub cluster: String,
    /// Value of the grouping field, when the fit is grouped.
    pub group: Option<String>,
    /// Colour class of the point in the plot, such as the coupling form.
    pub label: Option<String>,
    /// Run id or row number, used in leverage reports and error messages.
    pub id: String,
}
