//! Fits per group beside the pooled fit. Temperature, for one, drives both
//! sigma and forgetting, so a pooled trend can arise between groups that
//! shows no trend within any of them.

use serde::Serialize;

use crate::error::FitError;
use crate::exclusion::check_finite;
use crate::fit::fit_checked;
use crate::options::FitOptions;
use crate::point::FitPoint;
use crate::report::FitReport;

/// The fit of one group, or why it has none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupFit {
    /// Value of the grouping field; runs without one form the group
    /// `null`.
    pub group: Option<String>,
    /// Runs in the group before exclusions.
    pub n_runs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitReport>,
    /// Error message when the group could not be fitted, such as too few
    /// points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The pooled fit and one fit per group, groups in order of first
/// appearance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupedFitReport {
    pub pooled: FitReport,
    pub groups: Vec<GroupFit>,
}

/// Fits all points together and each group of `FitPoint::group` alone. A
/// group that cannot be fitted carries its error instead of failing the
/// whole call; an invalid option or input still fails it.
pub fn fit_groups(points: &[FitPoint], options: &FitOptions) -> Result<GroupedFitReport, FitError> {
    let checked = options.validate()?;
    check_finite(points)?;
    let pooled = fit_checked(points, &checked)?;

    let mut group_names: Vec<Option<String>> = Vec::new();
    for point in points {
        if !group_names.contains(&point.group) {
            group_names.push(point.group.clone());
        }
    }

    let mut groups = Vec::with_capacity(group_names.len());
    for name in group_names {
        let members: Vec<FitPoint> = points
            .iter()
            .filter(|point| point.group == name)
            .cloned()
            .collect();
        let outcome = fit_checked(&members, &checked);
        groups.push(GroupFit {
            group: name,
            n_runs: members.len(),
            fit: outcome.as_ref().ok().cloned(),
            error: outcome.err().map(|error| error.to_string()),
        });
    }

    Ok(GroupedFitReport { pooled, groups })
}
