//! Filters and sort keys of the run listing: `metric.NAME`, `config.PATH`
//! or a run field, checked against the fields a sweep really has.
//!
//! A filter is `KEY OP VALUE` with OP one of `=`, `!=`, `<`, `<=`, `>`,
//! `>=`. A numeric field compares numerically with a VALUE that parses as
//! a number; a text field compares with VALUE as text, byte for byte, even
//! when VALUE looks like a number. A missing value (an undefined metric, a
//! run without a result) matches no comparison except `!=`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use dlm_store::ExportRow;
use serde_json::Value;

use crate::problem::HttpError;

/// Run fields that filters and sorts accept besides metrics and
/// configuration paths.
pub(crate) const RUN_FIELDS: [&str; 5] = ["run_id", "seed", "role", "state", "diverged"];

/// Prefix of metric keys, such as `metric.F`.
pub(crate) const METRIC_PREFIX: &str = "metric.";

/// Prefix of configuration keys, such as `config.dynamics.alpha`.
pub(crate) const CONFIG_PREFIX: &str = "config.";

/// Comparison operators, two-character ones first so `<=` is not read as `<`.
const OPERATORS: [(&str, Operator); 6] = [
    ("<=", Operator::AtMost),
    (">=", Operator::AtLeast),
    ("!=", Operator::NotEqual),
    ("<", Operator::Below),
    (">", Operator::Above),
    ("=", Operator::Equal),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Below,
    AtMost,
    Above,
    AtLeast,
}

/// A value of a run's field, ordered numbers first, then text, then
/// missing values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum FieldValue {
    Number(f64),
    Text(String),
    Missing,
}

impl FieldValue {
    fn parse(text: &str) -> FieldValue {
        match text.parse::<f64>() {
            Ok(number) if number.is_finite() => FieldValue::Number(number),
            _ => FieldValue::Text(text.to_string()),
        }
    }

    fn from_json(value: Option<&Value>) -> FieldValue {
        match value {
            None | Some(Value::Null) => FieldValue::Missing,
            Some(Value::Number(number)) => number.as_f64().map_or(FieldValue::Missing, FieldValue::Number),
            Some(Value::String(text)) => FieldValue::Text(text.clone()),
            Some(Value::Bool(flag)) => FieldValue::Text(flag.to_string()),
            Some(other) => FieldValue::Text(other.to_string()),
        }
    }

    /// Orders numbers numerically, text lexically, numbers before text and
    /// missing values last.
    pub(crate) fn compare(&self, other: &FieldValue) -> Ordering {
        match (self, other) {
            (FieldValue::Number(left), FieldValue::Number(right)) => left.total_cmp(right),
            (FieldValue::Text(left), FieldValue::Text(right)) => left.cmp(right),
            (FieldValue::Missing, FieldValue::Missing) => Ordering::Equal,
            (FieldValue::Number(_), _) | (FieldValue::Text(_), FieldValue::Missing) => Ordering::Less,
            _ => Ordering::Greater,
        }
    }
}

/// The fields a sweep's runs have, against which keys are checked.
pub(crate) struct KnownFields {
    /// Configuration columns of the sweep's CSV layout, `config.` included.
    pub(crate) config_columns: Vec<String>,
}

impl KnownFields {
    /// Checks that `key` names a run field, a metric or a configuration
    /// path of this sweep; `parameter` names the query parameter in errors.
    pub(crate) fn check(&self, parameter: &str, key: &str) -> Result<(), HttpError> {
        let known = RUN_FIELDS.contains(&key)
            || key
                .strip_prefix(METRIC_PREFIX)
                .is_some_and(|name| dlm_sim::Summary::METRIC_NAMES.contains(&name))
            || self.config_columns.iter().any(|column| column == key);
        if known {
            return Ok(());
        }
        let metrics: Vec<String> = dlm_sim::Summary::METRIC_NAMES
            .iter()
            .map(|name| format!("{METRIC_PREFIX}{name}"))
            .collect();
        let config = if self.config_columns.is_empty() {
            "(this sweep has no runs, so no configuration paths)".to_string()
        } else {
            self.config_columns.join(", ")
        };
        Err(HttpError::invalid(
            parameter,
            key,
            format!(
                "unknown field; use a run field ({}), a metric ({}) or a configuration path of this sweep ({config})",
                RUN_FIELDS.join(", "),
                metrics.join(", "),
            ),
        ))
    }
}

/// One `KEY OP VALUE` condition.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    key: String,
    operator: Operator,
    value: FieldValue,
    /// VALUE as written, compared with text fields.
    text: String,
}

impl Filter {
    /// Parses `text` and checks its key against `known`.
    pub(crate) fn parse(text: &str, known: &KnownFields) -> Result<Filter, HttpError> {
        let position = text.find(['<', '>', '!', '=']).ok_or_else(|| {
            HttpError::invalid(
                "filter",
                text,
                "missing operator; write KEY OP VALUE with OP one of =, !=, <, <=, >, >=",
            )
        })?;
        let (key, rest) = text.split_at(position);
        let (symbol, operator) = OPERATORS
            .iter()
            .find(|(symbol, _)| rest.starts_with(symbol))
            .ok_or_else(|| {
                HttpError::invalid("filter", text, "invalid operator; use =, !=, <, <=, > or >=")
            })?;
        let value = rest[symbol.len()..].trim();
        let key = key.trim();
        known.check("filter", key)?;
        if value.is_empty() {
            return Err(HttpError::invalid("filter", text, "missing value after the operator"));
        }

        Ok(Filter {
            key: key.to_string(),
            operator: *operator,
            value: FieldValue::parse(value),
            text: value.to_string(),
        })
    }

    /// Returns whether `row` satisfies the condition.
    pub(crate) fn matches(&self, row: &RowFields) -> bool {
        let actual = row.value(&self.key);
        if actual == FieldValue::Missing {
            return self.operator == Operator::NotEqual;
        }
        let ordering = match (&actual, &self.value) {
            (FieldValue::Number(_), FieldValue::Number(_)) => actual.compare(&self.value),
            (FieldValue::Text(actual), _) => actual.as_str().cmp(self.text.as_str()),
            // A number never equals text, so `seed=abc` matches nothing.
            _ => return self.operator == Operator::NotEqual,
        };
        match self.operator {
            Operator::Equal => ordering == Ordering::Equal,
            Operator::NotEqual => ordering != Ordering::Equal,
            Operator::Below => ordering == Ordering::Less,
            Operator::AtMost => ordering != Ordering::Greater,
            Operator::Above => ordering == Ordering::Greater,
            Operator::AtLeast => ordering != Ordering::Less,
        }
    }
}

/// A row with its configuration flattened, for looking fields up by key.
pub(crate) struct RowFields<'a> {
    pub(crate) row: &'a ExportRow,
    pub(crate) config: BTreeMap<String, Value>,
}

impl<'a> RowFields<'a> {
    /// Flattens the row's stored configuration.
    pub(crate) fn new(row: &'a ExportRow) -> Result<RowFields<'a>, HttpError> {
        let config: Value = serde_json::from_str(&row.canonical_config).map_err(|error| {
            HttpError::Internal(format!("run {} has an invalid stored configuration: {error}", row.run_id))
        })?;
        Ok(RowFields {
            row,
            config: dlm_sweep::flatten_config(&config),
        })
    }

    /// Returns the value of a checked key.
    pub(crate) fn value(&self, key: &str) -> FieldValue {
        if let Some(name) = key.strip_prefix(METRIC_PREFIX) {
            return self.row.metric(name).map_or(FieldValue::Missing, FieldValue::Number);
        }
        if let Some(path) = key.strip_prefix(CONFIG_PREFIX) {
            return FieldValue::from_json(self.config.get(path));
        }
        match key {
            "run_id" => FieldValue::Number(self.row.run_id as f64),
            // NOTE: seeds above 2^53 lose precision as f64, so such seeds
            // may match neighbours in comparisons.
            "seed" => FieldValue::Number(self.row.seed as f64),
            "role" => FieldValue::Text(self.row.role.clone()),
            "state" => FieldValue::Text(self.row.state.as_str().to_string()),
            "diverged" => self.row.diverged.map_or(FieldValue::Missing, |flag| FieldValue::Text(flag.to_string())),
            _ => FieldValue::Missing,
        }
    }
}
