//! A dynamics parameter given either once for the whole network or once per
//! weight layer, so sweeps can vary one layer's dissipation or temperature.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A scalar applied to every weight layer, or one value per weight layer
/// (input layer first, output layer last).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerLayer {
    Scalar(f64),
    Layers(Vec<f64>),
}

impl PerLayer {
    /// Expands the value to one entry per weight layer. The caller has
    /// checked a list's length with [`PerLayer::len_matches`].
    pub fn resolve(&self, layers: usize) -> Vec<f64> {
        match self {
            PerLayer::Scalar(value) => vec![*value; layers],
            PerLayer::Layers(values) => values.clone(),
        }
    }

    pub fn len_matches(&self, layers: usize) -> bool {
        match self {
            PerLayer::Scalar(_) => true,
            PerLayer::Layers(values) => values.len() == layers,
        }
    }

    pub fn values(&self) -> &[f64] {
        match self {
            PerLayer::Scalar(value) => std::slice::from_ref(value),
            PerLayer::Layers(values) => values,
        }
    }

    /// True when every layer's value is zero.
    pub fn is_zero(&self) -> bool {
        self.values().iter().all(|value| *value == 0.0)
    }
}

impl fmt::Display for PerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PerLayer::Scalar(value) => write!(f, "{value}"),
            PerLayer::Layers(values) => write!(f, "{values:?}"),
        }
    }
}
