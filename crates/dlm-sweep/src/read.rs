//! Readers for the sections of a sweep file. They work on decoded JSON and
//! name the offending field in every error, so TOML, YAML and JSON files get
//! the same messages.

use std::collections::{BTreeMap, BTreeSet};

use dlm_sim::Baseline;
use serde_json::{Map, Value};

use crate::error::{SweepError, show_value};
use crate::spec::{GridAxis, MAX_NAME_CHARS, Seeds};

/// The place in the sweep file being read, as a dotted path for messages.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    path: String,
}

impl Section {
    /// The whole sweep file.
    pub(crate) fn root() -> Self {
        Self {
            path: String::new(),
        }
    }

    pub(crate) fn child(&self, key: &str) -> Self {
        if self.path.is_empty() {
            return Self {
                path: key.to_owned(),
            };
        }
        Self {
            path: format!("{}.{key}", self.path),
        }
    }

    pub(crate) fn item(&self, index: usize) -> Self {
        Self {
            path: format!("{}[{index}]", self.path),
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// How the section is named in prose.
    pub(crate) fn describe(&self) -> String {
        if self.path.is_empty() {
            return "the sweep file".to_owned();
        }
        format!("`{}`", self.path)
    }

    pub(crate) fn reject_unknown_keys(
        &self,
        object: &Map<String, Value>,
        known: &[&'static str],
    ) -> Result<(), SweepError> {
        let unknown = object.keys().find(|key| !known.contains(&key.as_str()));
        match unknown {
            None => Ok(()),
            Some(key) => Err(SweepError::UnknownKey {
                section: self.describe(),
                key: key.clone(),
                expected: known.to_vec(),
            }),
        }
    }
}

/// Names a JSON value's type the way a sweep file author thinks of it.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

pub(crate) fn expect_object<'a>(
    section: &Section,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, SweepError> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(SweepError::invalid(
            section.path(),
            other,
            format!("expected a table, found {}", type_name(other)),
        )),
    }
}

pub(crate) fn expect_array<'a>(
    section: &Section,
    value: &'a Value,
) -> Result<&'a Vec<Value>, SweepError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(SweepError::invalid(
            section.path(),
            other,
            format!("expected a list, found {}", type_name(other)),
        )),
    }
}

pub(crate) fn expect_u64(section: &Section, value: &Value) -> Result<u64, SweepError> {
    match value.as_u64() {
        Some(number) => Ok(number),
        None => Err(SweepError::invalid(
            section.path(),
            value,
            format!(
                "expected a whole number from 0 to {}, found {}",
                u64::MAX,
                type_name(value)
            ),
        )),
    }
}

pub(crate) fn expect_f64(section: &Section, value: &Value) -> Result<f64, SweepError> {
    match value.as_f64() {
        Some(number) if number.is_finite() => Ok(number),
        _ => Err(SweepError::invalid(
            section.path(),
            value,
            format!("expected a finite number, found {}", type_name(value)),
        )),
    }
}

pub(crate) fn read_name(value: Option<&Value>) -> Result<String, SweepError> {
    let Some(value) = value else {
        return Err(SweepError::MissingField {
            field: "name".to_owned(),
            fix: "add `name = \"...\"` describing the sweep".to_owned(),
        });
    };
    let Value::String(name) = value else {
        return Err(SweepError::invalid(
            "name",
            value,
            format!("expected a string, found {}", type_name(value)),
        ));
    };
    if name.trim().is_empty() {
        return Err(SweepError::invalid(
            "name",
            value,
            "must contain a visible character",
        ));
    }
    // PostgreSQL text columns cannot hold U+0000, so such a name could not
    // be stored verbatim.
    if name.contains('\0') {
        return Err(SweepError::invalid(
            "name",
            value,
            "contains the NUL character U+0000, which cannot be stored; remove it",
        ));
    }
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Err(SweepError::invalid(
            "name",
            value,
            format!("is {length} characters long, over the maximum of {MAX_NAME_CHARS}"),
        ));
    }
    Ok(name.clone())
}

/// Reads the grid: a table of dotted config paths to non-empty lists.
/// Nested tables are joined into dotted paths (`dynamics = { gamma = [..] }`
/// is `"dynamics.gamma" = [..]`), which is unambiguous because an axis is
/// always a list and a table-valued axis value sits inside that list.
pub(crate) fn read_grid(value: &Value) -> Result<Vec<GridAxis>, SweepError> {
    let section = Section::root().child("grid");
    let object = expect_object(&section, value)?;

    let mut axes = BTreeMap::new();
    collect_axes(&section, "", object, &mut axes)?;

    let grid = axes
        .into_iter()
        .map(|(path, values)| GridAxis { path, values })
        .collect();
    Ok(grid)
}

fn collect_axes(
    section: &Section,
    prefix: &str,
    object: &Map<String, Value>,
    axes: &mut BTreeMap<String, Vec<Value>>,
) -> Result<(), SweepError> {
    for (key, value) in object {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let field = section.child(&path);

        match value {
            Value::Object(nested) => collect_axes(section, &path, nested, axes)?,
            Value::Array(values) if values.is_empty() => {
                return Err(SweepError::invalid(
                    field.path(),
                    value,
                    "an axis needs at least one value; remove the axis to keep the base value",
                ));
            }
            Value::Array(values) => {
                if axes.insert(path, values.clone()).is_some() {
                    return Err(SweepError::invalid(
                        field.path(),
                        value,
                        "the path is given twice (once dotted, once as nested tables); keep one",
                    ));
                }
            }
            other => {
                return Err(SweepError::invalid(
                    field.path(),
                    other,
                    format!(
                        "expected a list of values, found {}; write [{}] for a single value",
                        type_name(other),
                        show_value(other)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads `include`: a list of tables, each mapping dotted config paths to
/// the value that point sets. A table value sets the keys it lists, so
/// nested tables and dotted keys mean the same.
pub(crate) fn read_include(value: &Value) -> Result<Vec<BTreeMap<String, Value>>, SweepError> {
    let section = Section::root().child("include");
    let items = expect_array(&section, value)?;

    let mut points = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let overrides = expect_object(&section.item(index), item)?;
        let point = overrides
            .iter()
            .map(|(path, value)| (path.clone(), value.clone()))
            .collect();
        points.push(point);
    }
    Ok(points)
}

/// Reads `seeds`: a count `n` (seeds `0..n`) or a list of distinct seeds.
pub(crate) fn read_seeds(value: &Value) -> Result<Seeds, SweepError> {
    let section = Section::root().child("seeds");
    if let Value::Array(items) = value {
        if items.is_empty() {
            return Err(SweepError::invalid(
                section.path(),
                value,
                "list at least one seed, or give a count such as `seeds = 3`",
            ));
        }
        let mut seen = BTreeSet::new();
        let mut seeds = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let seed = expect_u64(&section.item(index), item)?;
            if !seen.insert(seed) {
                return Err(SweepError::invalid(
                    section.path(),
                    value,
                    format!("seed {seed} is listed twice; list each seed once"),
                ));
            }
            seeds.push(seed);
        }
        return Ok(Seeds::List(seeds));
    }

    let count = read_positive_count(&section, value)?;
    Ok(Seeds::Count(count))
}

/// Names accepted in `baselines`.
const BASELINE_NAMES: &str = "\"sgd\", \"sgld\" or \"ewc\"";

/// Reads `baselines`: a list of distinct baseline kinds.
pub(crate) fn read_baselines(value: &Value) -> Result<Vec<Baseline>, SweepError> {
    let section = Section::root().child("baselines");
    let items = expect_array(&section, value)?;

    let mut baselines = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = section.item(index);
        let parsed = item.as_str().and_then(|name| name.parse::<Baseline>().ok());
        let Some(baseline) = parsed else {
            return Err(SweepError::invalid(
                field.path(),
                item,
                format!("expected {BASELINE_NAMES}"),
            ));
        };
        if baselines.contains(&baseline) {
            return Err(SweepError::invalid(
                section.path(),
                value,
                format!(
                    "{} is listed twice; list each baseline once",
                    show_value(item)
                ),
            ));
        }
        baselines.push(baseline);
    }
    Ok(baselines)
}

/// Reads a count that must be at least 1.
pub(crate) fn read_positive_count(section: &Section, value: &Value) -> Result<u64, SweepError> {
    let count = expect_u64(section, value)?;
    if count == 0 {
        return Err(SweepError::invalid(
            section.path(),
            value,
            "must be at least 1",
        ));
    }
    Ok(count)
}
