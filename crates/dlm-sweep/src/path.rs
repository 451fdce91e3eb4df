//! Dotted config paths (`dynamics.schedule.tau`): which ones the engine's
//! configuration has, the nearest known ones to a misspelt path, and
//! setting a value at a path inside a partial configuration.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::SweepError;
use crate::flatten::join_path;
use crate::read::type_name;

/// Number of suggestions an unknown-path error lists.
const SUGGESTIONS: usize = 3;

/// The paths of a full configuration: every table and every leaf.
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownPaths {
    /// Path to the value's kind there.
    paths: BTreeMap<String, NodeKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Table,
    /// A null leaf: an optional part that is absent by default, whose keys
    /// this set cannot list; deserialising the configuration checks them.
    Absent,
    /// Any other leaf: a number, string, boolean or list.
    Value,
}

impl KnownPaths {
    /// Adds every path of `config` (a full configuration as JSON).
    pub(crate) fn add_config(&mut self, config: &Value) {
        if let Value::Object(object) = config {
            self.add_object("", object);
        }
    }

    fn add_object(&mut self, prefix: &str, object: &Map<String, Value>) {
        for (key, value) in object {
            let path = join_path(prefix, key);
            match value {
                Value::Object(nested) => {
                    self.paths.insert(path.clone(), NodeKind::Table);
                    self.add_object(&path, nested);
                }
                Value::Null => {
                    self.paths.entry(path).or_insert(NodeKind::Absent);
                }
                _ => {
                    self.paths.entry(path).or_insert(NodeKind::Value);
                }
            }
        }
    }

    /// Checks that `path` names a part of the configuration. `section`
    /// names where the path was written, for the error message.
    pub(crate) fn check(&self, section: &str, path: &str) -> Result<(), SweepError> {
        if self.paths.contains_key(path) {
            return Ok(());
        }

        // A path below an optional part that is absent by default cannot be
        // checked here; deserialising each point's configuration checks it.
        let mut prefix = path;
        while let Some((parent, _)) = prefix.rsplit_once('.') {
            match self.paths.get(parent) {
                Some(NodeKind::Absent) => return Ok(()),
                Some(NodeKind::Value) => {
                    return Err(SweepError::PathBelowValue {
                        section: section.to_owned(),
                        path: path.to_owned(),
                        parent: parent.to_owned(),
                    });
                }
                Some(NodeKind::Table) | None => prefix = parent,
            }
        }

        Err(SweepError::UnknownPath {
            section: section.to_owned(),
            path: path.to_owned(),
            nearest: self.nearest(path),
        })
    }

    /// Lists the known paths closest to `path` by edit distance, closest first.
    fn nearest(&self, path: &str) -> Vec<String> {
        let mut ranked: Vec<(usize, &String)> = self
            .paths
            .keys()
            .map(|known| (strsim::levenshtein(path, known), known))
            .collect();
        ranked.sort();
        ranked
            .into_iter()
            .take(SUGGESTIONS)
            .map(|(_, known)| known.clone())
            .collect()
    }
}

/// Sets `value` at the dotted `path` inside `config`, creating the tables
/// on the way (a partial configuration may lack them). A null on the way
/// is replaced by a table, so optional parts that are absent can be set.
/// A table value is merged into the table already there: it sets the keys
/// it lists and keeps the others.
pub(crate) fn set_path(
    config: &mut Map<String, Value>,
    path: &str,
    value: Value,
) -> Result<(), String> {
    let mut table = config;
    let mut walked = String::new();
    let mut segments = path.split('.').peekable();

    while let Some(segment) = segments.next() {
        if segment.is_empty() {
            return Err(format!("`{path}` has an empty key between dots"));
        }

        if segments.peek().is_none() {
            match table.get_mut(segment) {
                Some(existing) => merge_value(existing, value),
                None => {
                    table.insert(segment.to_owned(), value);
                }
            }
            return Ok(());
        }

        walked = join_path(&walked, segment);
        let slot = table
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        table = match slot {
            Value::Object(nested) => nested,
            other => {
                return Err(format!(
                    "cannot set `{path}` because `{walked}` is {}, not a table",
                    type_name(other)
                ));
            }
        };
    }
    Err(format!("`{path}` is an empty path"))
}

/// Looks up the value at a dotted path, where a segment may end in list
/// indices (`model.hidden[1]`, the form serde error paths use).
pub(crate) fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = value;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(position) => segment.split_at(position),
            None => (segment, ""),
        };
        if !key.is_empty() {
            node = node.as_object()?.get(key)?;
        }
        for index in indices.split('[').filter(|part| !part.is_empty()) {
            let index: usize = index.strip_suffix(']')?.parse().ok()?;
            node = node.as_array()?.get(index)?;
        }
    }
    Some(node)
}

/// Merges `value` into `target`: tables key by key, recursively; any
/// other value replaces the target.
fn merge_value(target: &mut Value, value: Value) {
    match (target, value) {
        (Value::Object(existing), Value::Object(update)) => {
            for (key, item) in update {
                match existing.get_mut(&key) {
                    Some(slot) => merge_value(slot, item),
                    None => {
                        existing.insert(key, item);
                    }
                }
            }
        }
        (target, value) => *target = value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn known() -> KnownPaths {
        let mut known = KnownPaths::default();
        known.add_config(&json!({
            "dynamics": {
                "alpha": 0.0,
                "gamma": 1.0,
                "schedule": { "kind": "constant" },
                "temperature": 0.0
            },
            "ewc": null
        }));
        known
    }

    #[test]
    fn check_accepts_tables_leaves_and_absent_parts() {
        let known = known();

        for path in [
            "dynamics",
            "dynamics.gamma",
            "dynamics.schedule",
            "ewc",
            "ewc.lambda",
        ] {
            assert!(known.check("grid", path).is_ok(), "{path} rejected");
        }
    }

    #[test]
    fn check_unknown_path_suggests_nearest() {
        let error = known().check("grid", "dynamics.temprature").unwrap_err();

        let SweepError::UnknownPath { path, nearest, .. } = &error else {
            panic!("unexpected error {error}");
        };
        assert_eq!(path, "dynamics.temprature");
        assert_eq!(nearest[0], "dynamics.temperature");
        assert!(
            error.to_string().contains("`dynamics.temperature`"),
            "{error}"
        );
    }

    #[test]
    fn check_rejects_path_below_value() {
        let error = known().check("grid", "dynamics.alpha.first").unwrap_err();

        let SweepError::PathBelowValue { parent, .. } = &error else {
            panic!("unexpected error {error}");
        };
        assert_eq!(parent, "dynamics.alpha");
    }

    #[test]
    fn set_path_creates_and_replaces() {
        let mut config = json!({ "dynamics": { "gamma": 1.0 }, "ewc": null })
            .as_object()
            .unwrap()
            .clone();

        set_path(&mut config, "dynamics.schedule.tau", json!(500)).unwrap();
        set_path(&mut config, "dynamics.gamma", json!([1.0, 0.5])).unwrap();
        set_path(&mut config, "ewc.lambda", json!(10.0)).unwrap();

        let expected = json!({
            "dynamics": { "gamma": [1.0, 0.5], "schedule": { "tau": 500 } },
            "ewc": { "lambda": 10.0 }
        });
        assert_eq!(Value::Object(config), expected);
    }

    #[test]
    fn set_path_merges_tables() {
        let mut config = json!({
            "dynamics": { "gamma": 1.0, "schedule": { "kind": "exponential", "tau": 77 } }
        })
        .as_object()
        .unwrap()
        .clone();

        set_path(
            &mut config,
            "dynamics.schedule",
            json!({ "kind": "constant" }),
        )
        .unwrap();
        set_path(&mut config, "dynamics", json!({ "alpha": [0.5, 0.0] })).unwrap();
        set_path(&mut config, "dynamics.alpha", json!(0.1)).unwrap();

        let expected = json!({
            "dynamics": {
                "alpha": 0.1,
                "gamma": 1.0,
                "schedule": { "kind": "constant", "tau": 77 }
            }
        });
        assert_eq!(Value::Object(config), expected);
    }

    #[test]
    fn set_path_rejects_value_on_the_way() {
        let mut config = json!({ "dynamics": { "gamma": 1.0 } })
            .as_object()
            .unwrap()
            .clone();

        let error = set_path(&mut config, "dynamics.gamma.first", json!(1)).unwrap_err();

        assert!(error.contains("`dynamics.gamma` is a number"), "{error}");
    }

    #[test]
    fn value_at_follows_keys_and_indices() {
        let config = json!({ "model": { "hidden": [16, 32] }, "grid": [[1, 2], [3]] });

        assert_eq!(value_at(&config, "model.hidden[1]"), Some(&json!(32)));
        assert_eq!(value_at(&config, "grid[0][1]"), Some(&json!(2)));
        assert_eq!(
            value_at(&config, "model"),
            Some(&json!({ "hidden": [16, 32] }))
        );
        assert_eq!(value_at(&config, "model.hidden[2]"), None);
        assert_eq!(value_at(&config, "model.width"), None);
        assert_eq!(value_at(&config, "model.hidden[x]"), None);
    }

    #[test]
    fn set_path_rejects_empty_key() {
        let mut config = Map::new();

        let error = set_path(&mut config, "dynamics..gamma", json!(1)).unwrap_err();

        assert!(error.contains("empty key"), "{error}");
    }
}
