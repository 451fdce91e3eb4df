//! JSON decoding that rejects a key repeated in one object. `serde_json`
//! keeps the last value of a repeated key, so a sweep sent as JSON could
//! silently lose a grid axis that TOML and YAML readers would reject.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses JSON text into a value, rejecting repeated object keys.
pub(crate) fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // Non-finite numbers are not JSON; `Value::from` maps them to null.
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = sequence.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}` in one object; keep one"
                )));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strict_json_matches_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "s"], "b": {"c": {}}}"#;

        let value = from_str(text).unwrap();

        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(value["a"][3], json!(u64::MAX));
    }

    #[test]
    fn strict_json_rejects_repeated_key() {
        let error = from_str(r#"{"grid": {"x": [1]}, "seeds": 1, "grid": {}}"#).unwrap_err();

        assert!(
            error.to_string().contains("duplicate key `grid`"),
            "{error}"
        );
    }

    #[test]
    fn strict_json_rejects_trailing_text() {
        assert!(from_str(r#"{"a": 1} {"b": 2}"#).is_err());
    }
}
