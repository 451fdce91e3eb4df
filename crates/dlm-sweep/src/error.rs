//! The one error type of the crate. Every message names the field or point
//! at fault, the offending value and what to change, because sweep files are
//! written by hand and rejected over HTTP where no stack trace is shown.

use serde_json::Value;

use crate::format::SpecFormat;

/// Error from parsing, planning or expanding a sweep.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    #[error("unknown sweep file format `{given}`: {fix}")]
    UnknownFormat { given: String, fix: String },

    #[error("invalid {format} in the sweep file: {message}")]
    Syntax { format: SpecFormat, message: String },

    /// The whole document is not a table: an empty YAML file, a list or
    /// a single value.
    #[error(
        "invalid sweep file: expected a table with `name` and optionally `base`, `grid`, \
         `random`, `include`, `seeds` and `baselines`, found {found}"
    )]
    NotATable { found: String },

    #[error("unknown key `{key}` in {section}; expected one of: {}", expected.join(", "))]
    UnknownKey {
        section: String,
        key: String,
        expected: Vec<&'static str>,
    },

    #[error("missing `{field}`: {fix}")]
    MissingField { field: String, fix: String },

    #[error("invalid `{field}` = {value}: {reason}")]
    InvalidField {
        field: String,
        value: String,
        reason: String,
    },

    #[error(
        "unknown config path `{path}` in `{section}`{}",
        describe_nearest(nearest)
    )]
    UnknownPath {
        section: String,
        path: String,
        nearest: Vec<String>,
    },

    #[error(
        "config path `{path}` in `{section}` goes below `{parent}`, which is a single value, \
         not a table; set `{parent}` itself"
    )]
    PathBelowValue {
        section: String,
        path: String,
        parent: String,
    },

    #[error(
        "the sweep expands to {} runs, over the limit of {limit}; \
         use fewer grid values, random samples or seeds, or raise the limit",
        describe_count(*count)
    )]
    TooManyRuns { count: u128, limit: u64 },

    /// A point (or one of its baselines) whose configuration is invalid.
    /// `point` names it and the values it sets; `field` is the dotted
    /// config path at fault.
    #[error("{point}: {reason}")]
    InvalidPoint {
        point_index: u64,
        point: String,
        field: String,
        reason: String,
    },
}

impl SweepError {
    /// Builds an [`SweepError::InvalidField`] showing `value` compactly.
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: &Value,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidField {
            field: field.into(),
            value: show_value(value),
            reason: reason.into(),
        }
    }
}

/// Maximum length of one value shown in an error message, in characters.
const SHOWN_VALUE_CHARS: usize = 80;

/// Renders a value as compact JSON, cut to [`SHOWN_VALUE_CHARS`] characters
/// so that a wrong 10,000-element list does not flood the message.
pub(crate) fn show_value(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHOWN_VALUE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SHOWN_VALUE_CHARS).collect();
    format!("{cut}...")
}

fn describe_nearest(nearest: &[String]) -> String {
    if nearest.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = nearest.iter().map(|path| format!("`{path}`")).collect();
    format!("; nearest known paths: {}", quoted.join(", "))
}

fn describe_count(count: u128) -> String {
    if count == u128::MAX {
        return format!("more than {}", u128::MAX - 1);
    }
    count.to_string()
}
