//! The role of a run in a sweep: a point the researcher listed, or a
//! baseline added to compare against it. The store keeps it by name.

use std::fmt;
use std::str::FromStr;

use dlm_sim::Baseline;
use serde::{Serialize, Serializer};

use crate::error::SweepError;

/// Role of a run in the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunRole {
    /// A point the sweep file lists (grid, random sample or `include`
    /// entry), whatever its dynamics method.
    Dlm,
    /// The matched baseline of a point, added by `baselines`.
    Baseline(Baseline),
}

impl RunRole {
    pub fn is_baseline(self) -> bool {
        matches!(self, Self::Baseline(_))
    }

    /// Names the role: `dlm`, `sgd`, `sgld` or `ewc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dlm => "dlm",
            Self::Baseline(baseline) => baseline.as_str(),
        }
    }
}

impl fmt::Display for RunRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for RunRole {
    type Err = SweepError;

    /// Parses the names [`RunRole::as_str`] returns.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name == "dlm" {
            return Ok(Self::Dlm);
        }
        match name.parse::<Baseline>() {
            Ok(baseline) => Ok(Self::Baseline(baseline)),
            Err(_) => Err(SweepError::InvalidField {
                field: "role".to_owned(),
                value: format!("{name:?}"),
                reason: "expected \"dlm\", \"sgd\", \"sgld\" or \"ewc\"".to_owned(),
            }),
        }
    }
}

impl Serialize for RunRole {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
