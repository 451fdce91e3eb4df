//! The table layout runs are read from: which named column gives each field
//! of a [`FitPoint`], and how a cell's text becomes a value.
//!
//! `dlm fit` reads CSV files through it, and a sweep export turns its rows
//! into points through it too, so a CSV file written by the export and read
//! back by `dlm fit` gives exactly the points the export fits directly.

use crate::point::FitPoint;

/// Column that marks a run as diverged.
pub const DIVERGED_COLUMN: &str = "diverged";

/// Column with the learning accuracy, a fraction from 0 to 1.
pub const LEARNING_ACCURACY_COLUMN: &str = "LA";

/// Column with the configuration id, whose runs the bootstrap resamples
/// together.
pub const CLUSTER_COLUMN: &str = "config_hash";

/// Columns that carry a run id, tried in order.
pub const ID_COLUMNS: [&str; 2] = ["run_id", "id"];

/// Columns that name the coupling form, tried in order when no label column
/// is chosen: hand-made files, and sweep exports with their `config.` prefix.
pub const DEFAULT_LABEL_COLUMNS: [&str; 3] =
    ["coupling", "dynamics.coupling", "config.dynamics.coupling"];

/// The names of the columns a fit reads beyond the fixed ones above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitColumns {
    /// Column with the entropy production sigma.
    pub sigma: String,
    /// Column with the forgetting measure (F or a forgetting rate).
    pub forgetting: String,
    /// Column whose value groups the runs into separate fits.
    pub group: Option<String>,
    /// Column whose value colours the points of the plot.
    pub label: Option<String>,
}

/// A cell whose text is not a valid value of its column.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CellError {
    #[error(
        "invalid number {value:?} in column {column:?}; use a decimal number, or an empty cell or null for a missing value"
    )]
    InvalidNumber { column: String, value: String },

    #[error("invalid diverged value {value:?}; use true, false, 1 or 0")]
    InvalidDiverged { value: String },
}

/// Returns the first of [`DEFAULT_LABEL_COLUMNS`] that `has_column` accepts.
pub fn default_label_column(has_column: impl Fn(&str) -> bool) -> Option<&'static str> {
    DEFAULT_LABEL_COLUMNS
        .into_iter()
        .find(|name| has_column(name))
}

/// Builds one run's point from its cells, looked up by column name.
///
/// `cell` returns a column's text, or `None` when the table has no such
/// column. Empty cells and `null` mean missing. `row_name` (such as
/// `line 3`) replaces the id without an id column and the cluster
/// without a configuration column, so that each such row is its own cluster.
pub fn fit_point_from_cells<'a>(
    cell: impl Fn(&str) -> Option<&'a str>,
    columns: &FitColumns,
    row_name: &str,
) -> Result<FitPoint, CellError> {
    let text = |column: &str| {
        cell(column)
            .map(str::trim)
            .filter(|value| !is_missing(value))
    };
    let number = |column: &str| -> Result<Option<f64>, CellError> {
        let Some(value) = text(column) else {
            return Ok(None);
        };
        let parsed = value.parse::<f64>().map_err(|_| CellError::InvalidNumber {
            column: column.to_string(),
            value: value.to_string(),
        })?;
        Ok(Some(parsed))
    };

    let diverged = match text(DIVERGED_COLUMN) {
        None => false,
        Some(value) => parse_flag(value).ok_or_else(|| CellError::InvalidDiverged {
            value: value.to_string(),
        })?,
    };
    let id = ID_COLUMNS
        .iter()
        .find(|name| cell(name).is_some())
        .and_then(|name| text(name))
        .unwrap_or(row_name);

    Ok(FitPoint {
        sigma: number(&columns.sigma)?,
        forgetting: number(&columns.forgetting)?,
        diverged,
        learning_accuracy: number(LEARNING_ACCURACY_COLUMN)?,
        cluster: text(CLUSTER_COLUMN).unwrap_or(row_name).to_string(),
        group: columns.group.as_deref().and_then(text).map(str::to_string),
        label: columns.label.as_deref().and_then(text).map(str::to_string),
        id: id.to_string(),
    })
}

fn is_missing(value: &str) -> bool {
    value.is_empty() || value.eq_ignore_ascii_case("null")
}

fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" => Some(true),
        "false" | "f" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> FitColumns {
        FitColumns {
            sigma: "sigma".to_string(),
            forgetting: "F".to_string(),
            group: Some("T".to_string()),
            label: Some("coupling".to_string()),
        }
    }

    fn lookup<'a>(cells: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| {
            cells
                .iter()
                .find(|(column, _)| *column == name)
                .map(|(_, value)| *value)
        }
    }

    #[test]
    fn cells_fill_every_field() {
        let cells = [
            ("run_id", "7"),
            ("sigma", "2.5"),
            ("F", " 0.125 "),
            ("diverged", "false"),
            ("LA", "0.9"),
            ("config_hash", "abc"),
            ("T", "0.01"),
            ("coupling", "tanh"),
        ];
        let point = fit_point_from_cells(lookup(&cells), &columns(), "line 2").unwrap();
        let expected = FitPoint {
            sigma: Some(2.5),
            forgetting: Some(0.125),
            diverged: false,
            learning_accuracy: Some(0.9),
            cluster: "abc".to_string(),
            group: Some("0.01".to_string()),
            label: Some("tanh".to_string()),
            id: "7".to_string(),
        };
        assert_eq!(point, expected);
    }

    #[test]
    fn missing_cells_and_columns() {
        let cells = [("sigma", ""), ("F", "NULL"), ("diverged", ""), ("id", "")];
        let point = fit_point_from_cells(lookup(&cells), &columns(), "line 4").unwrap();
        assert_eq!(point.sigma, None);
        assert_eq!(point.forgetting, None);
        assert!(!point.diverged);
        assert_eq!(point.learning_accuracy, None);
        assert_eq!(point.cluster, "line 4");
        assert_eq!(point.id, "line 4");
        assert_eq!(point.group, None);
    }

    #[test]
    fn invalid_cells_name_the_value() {
        let cases: [(&[(&str, &str)], CellError); 2] = [
            (
                &[("sigma", "1"), ("F", "abc")],
                CellError::InvalidNumber {
                    column: "F".to_string(),
                    value: "abc".to_string(),
                },
            ),
            (
                &[("sigma", "1"), ("F", "1"), ("diverged", "maybe")],
                CellError::InvalidDiverged {
                    value: "maybe".to_string(),
                },
            ),
        ];
        for (cells, expected) in cases {
            let error = fit_point_from_cells(lookup(cells), &columns(), "line 2").unwrap_err();
            assert_eq!(error, expected);
        }
    }

    #[test]
    fn default_label_prefers_plain_names() {
        let header = ["config.dynamics.coupling", "coupling"];
        let chosen = default_label_column(|name| header.contains(&name));
        assert_eq!(chosen, Some("coupling"));

        let export_header = ["run_id", "config.dynamics.coupling"];
        let chosen = default_label_column(|name| export_header.contains(&name));
        assert_eq!(chosen, Some("config.dynamics.coupling"));
    }
}
