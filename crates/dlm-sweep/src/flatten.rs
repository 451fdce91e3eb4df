//! Flat views of nested configurations: dotted paths to leaf values, the
//! form used for CSV columns, filters and the overrides a sweep point sets.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Flattens a JSON configuration into dotted paths and leaf values.
///
/// Tables are walked; everything else is a leaf, so lists (per-layer
/// values, for example) stay whole JSON values. An empty table is kept as
/// a leaf so that no key disappears. A value that is not a table flattens
/// to one entry under the empty path.
pub fn flatten_config(value: &Value) -> BTreeMap<String, Value> {
    let mut flat = BTreeMap::new();
    match value {
        Value::Object(object) => flatten_into("", object, &mut flat),
        leaf => {
            flat.insert(String::new(), leaf.clone());
        }
    }
    flat
}

fn flatten_into(prefix: &str, object: &Map<String, Value>, flat: &mut BTreeMap<String, Value>) {
    for (key, value) in object {
        let path = join_path(prefix, key);
        match value {
            Value::Object(nested) if !nested.is_empty() => flatten_into(&path, nested, flat),
            leaf => {
                flat.insert(path, leaf.clone());
            }
        }
    }
}

/// Joins a dotted prefix and one more key.
pub(crate) fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        return key.to_owned();
    }
    format!("{prefix}.{key}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn flatten_nested_tables() {
        let config = json!({
            "dynamics": {
                "gamma": [1.0, 0.5],
                "schedule": { "kind": "hyperbolic", "tau": 500 },
                "temperature": 0.01
            },
            "ewc": null,
            "extra": {},
            "seed_like": 3
        });

        let flat = flatten_config(&config);

        let expected: BTreeMap<String, Value> = [
            ("dynamics.gamma", json!([1.0, 0.5])),
            ("dynamics.schedule.kind", json!("hyperbolic")),
            ("dynamics.schedule.tau", json!(500)),
            ("dynamics.temperature", json!(0.01)),
            ("ewc", Value::Null),
            ("extra", json!({})),
            ("seed_like", json!(3)),
        ]
        .into_iter()
        .map(|(path, value)| (path.to_owned(), value))
        .collect();
        assert_eq!(flat, expected);
    }

    #[test]
    fn flatten_lists_stay_whole() {
        let config = json!({ "a": [{ "b": 1 }, { "b": 2 }] });

        let flat = flatten_config(&config);

        assert_eq!(flat.len(), 1);
        assert_eq!(flat["a"], json!([{ "b": 1 }, { "b": 2 }]));
    }

    #[test]
    fn flatten_non_table_root() {
        let flat = flatten_config(&json!(4));

        assert_eq!(flat.len(), 1);
        assert_eq!(flat[""], json!(4));
    }
}
