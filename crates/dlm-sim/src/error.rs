//! Errors that stop a run before it starts. Divergence is not among them:
//! a diverged run is a result, recorded in its report.

use std::path::PathBuf;

use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration breaks a rule, possibly one that depends on the
    /// loaded data (a batch larger than a task's training set).
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),

    /// A data file could not be read or parsed.
    #[error("failed to load data from {}: {reason}", path.display())]
    DataLoad { path: PathBuf, reason: String },
}

impl SimError {
    pub(crate) fn data_load(path: &std::path::Path, reason: impl Into<String>) -> Self {
        SimError::DataLoad {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
