//! `--set dotted.path=value` overrides, applied to the parsed document as the Collector's
//! `--set` does: missing maps along the path are created, the value is read as a YAML scalar.

use super::ConfigError;
use serde_norway::{Mapping, Value};

/// Applies one `path=value` override to `document`.
pub fn apply_override(document: &mut Value, assignment: &str) -> Result<(), ConfigError> {
    let path_of = assignment
        .split_once('=')
        .map_or(assignment, |(path, _)| path);
    let invalid = |message: &str| ConfigError::Override {
        path: path_of.to_string(),
        message: super::redact::without_values(message),
    };
    let (path, raw_value) = assignment
        .split_once('=')
        .ok_or_else(|| invalid("expected `dotted.path=value`"))?;
    let keys: Vec<&str> = path.split('.').collect();
    if keys.iter().any(|key| key.is_empty()) {
        return Err(invalid("the path has an empty key"));
    }
    let value: Value = serde_norway::from_str(raw_value)
        .map_err(|err| invalid(&format!("the value is not valid YAML: {err}")))?;
    let mut node = document;
    for key in &keys[..keys.len() - 1] {
        if node.is_null() {
            *node = Value::Mapping(Mapping::new());
        }
        let map = node
            .as_mapping_mut()
            .ok_or_else(|| invalid(&format!("`{key}` is inside a value that is not a map")))?;
        node = map
            .entry(Value::String((*key).to_string()))
            .or_insert(Value::Null);
    }
    if node.is_null() {
        *node = Value::Mapping(Mapping::new());
    }
    let last = keys[keys.len() - 1];
    node.as_mapping_mut()
        .ok_or_else(|| invalid(&format!("`{last}` is inside a value that is not a map")))?
        .insert(Value::String(last.to_string()), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_replaces_a_nested_value_and_creates_missing_maps() {
        let mut doc: Value =
            serde_norway::from_str("exporters:\n  otlp:\n    endpoint: a\n").unwrap();
        apply_override(&mut doc, "exporters.otlp.endpoint=http://b:4317").unwrap();
        apply_override(&mut doc, "service.telemetry.endpoint=127.0.0.1:0").unwrap();
        let expected: Value = serde_norway::from_str(
            "exporters:\n  otlp:\n    endpoint: http://b:4317\nservice:\n  telemetry:\n    endpoint: 127.0.0.1:0\n",
        )
        .unwrap();
        assert_eq!(doc, expected);
    }

    #[test]
    fn override_value_is_a_yaml_scalar() {
        let mut doc = Value::Null;
        apply_override(&mut doc, "a.b=42").unwrap();
        assert_eq!(doc["a"]["b"], Value::Number(42.into()));
    }

    #[test]
    fn override_without_equals_is_refused() {
        let err = apply_override(&mut Value::Null, "a.b").unwrap_err();
        assert_eq!(err.to_string(), "--set a.b=…: expected `dotted.path=value`");
    }

    #[test]
    fn override_through_a_scalar_is_refused() {
        let mut doc: Value = serde_norway::from_str("a: 1").unwrap();
        let err = apply_override(&mut doc, "a.b=2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "--set a.b=…: `b` is inside a value that is not a map"
        );
    }
}
