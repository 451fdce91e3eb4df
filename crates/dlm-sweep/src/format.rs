//! Sweep file formats: TOML, YAML and JSON all decode to one JSON document,
//! so the rest of the crate reads a single schema whatever the researcher
//! wrote (and the HTTP API, which receives JSON, shares the same code).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde_json::Value;

use crate::error::SweepError;
use crate::strict_json;

/// The text format of a sweep file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecFormat {
    Toml,
    Yaml,
    Json,
}

impl SpecFormat {
    /// Picks the format from a file name's extension (`.toml`, `.yaml`,
    /// `.yml` or `.json`, in any letter case).
    pub fn from_path(path: &Path) -> Result<Self, SweepError> {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or("");
        match extension.to_ascii_lowercase().as_str() {
            "toml" => Ok(Self::Toml),
            "yaml" | "yml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            _ => Err(SweepError::UnknownFormat {
                given: path.display().to_string(),
                fix: "name the file *.toml, *.yaml, *.yml or *.json".to_owned(),
            }),
        }
    }

    /// Picks the format from an HTTP `Content-Type` value such as
    /// `application/json; charset=utf-8` or `application/yaml`.
    pub fn from_content_type(content_type: &str) -> Result<Self, SweepError> {
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            "application/json" => Ok(Self::Json),
            "application/toml" | "text/toml" | "text/x-toml" => Ok(Self::Toml),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
                Ok(Self::Yaml)
            }
            _ => Err(SweepError::UnknownFormat {
                given: content_type.to_owned(),
                fix: "send the sweep as application/json, application/toml or application/yaml"
                    .to_owned(),
            }),
        }
    }

    /// Decodes `text` into a JSON document without checking the sweep schema.
    pub fn decode(self, text: &str) -> Result<Value, SweepError> {
        let decoded = match self {
            Self::Toml => toml::from_str::<Value>(text).map_err(|error| error.to_string()),
            Self::Yaml => serde_saphyr::from_str::<Value>(text).map_err(|error| error.to_string()),
            Self::Json => strict_json::from_str(text).map_err(|error| error.to_string()),
        };
        decoded.map_err(|message| SweepError::Syntax {
            format: self,
            message: message.trim_end().to_owned(),
        })
    }
}

impl fmt::Display for SpecFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Toml => "TOML",
            Self::Yaml => "YAML",
            Self::Json => "JSON",
        };
        formatter.write_str(name)
    }
}

impl FromStr for SpecFormat {
    type Err = SweepError;

    /// Parses a format name (`toml`, `yaml`, `yml` or `json`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "toml" => Ok(Self::Toml),
            "yaml" | "yml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            _ => Err(SweepError::UnknownFormat {
                given: name.to_owned(),
                fix: "use toml, yaml or json".to_owned(),
            }),
        }
    }
}
