//! Parsing, the canonical JSON form and the content hash of a configuration.
//!
//! The hash names a configuration in the store, so a sweep that repeats a
//! point can reuse the stored result. It covers the configuration with every
//! default filled in and object keys sorted, plus the engine's model version.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{ConfigError, MODEL_VERSION, RunConfig};

impl RunConfig {
    /// Returns the configuration as JSON with defaults filled in and every object's
    /// keys sorted, independent of serde_json's `preserve_order` feature.
    pub fn canonical_json(&self) -> Value {
        let value = serde_json::to_value(self).expect("a RunConfig always serialises to JSON");
        sort_keys(value)
    }

    /// Hex SHA-256 of the canonical JSON text followed by [`MODEL_VERSION`].
    pub fn config_hash(&self) -> String {
        let text = serde_json::to_string(&self.canonical_json()).expect("JSON values serialise");
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        hasher.update(MODEL_VERSION.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Parses a JSON configuration and validates it. A parse error names the
    /// dotted path of the offending key.
    pub fn from_json_str(text: &str) -> Result<RunConfig, ConfigError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let config: RunConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                ConfigError::new(
                    error.path().to_string(),
                    "(as written)",
                    format!("{}; fix the JSON value", error.inner()),
                )
            })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML configuration and validates it. A parse error names the
    /// dotted path of the offending key.
    pub fn from_toml_str(text: &str) -> Result<RunConfig, ConfigError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|error| {
            ConfigError::new(
                "(file)",
                "(as written)",
                format!("not valid TOML: {}", error.message()),
            )
        })?;
        let config: RunConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                ConfigError::new(
                    error.path().to_string(),
                    "(as written)",
                    format!("{}; fix the TOML value", error.inner().message()),
                )
            })?;
        config.validate()?;
        Ok(config)
    }
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|left, right| left.0.cmp(&right.0));
            let mut sorted = Map::new();
            for (key, child) in entries {
                sorted.insert(key, sort_keys(child));
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
