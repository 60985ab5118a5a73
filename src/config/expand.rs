//! `${env:VAR}` and `${env:VAR:-default}` expansion of the configuration text, as the
//! OpenTelemetry Collector does it; `$$` writes a literal `$`.

use super::ConfigError;

/// Expands every `${env:…}` reference in `text`, reading variables through `lookup`.
///
/// An unset variable without a default expands to the empty string (the Collector's rule) and is
/// reported in the returned warnings. A value spanning several lines is refused: it would change
/// the YAML structure instead of filling one value.
pub fn expand_env(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut warnings = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let line = line_of(text, text.len() - rest.len() + pos);
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let end = body_and_tail
                .find('}')
                .ok_or_else(|| ConfigError::Expansion {
                    line,
                    message: "`${` without a closing `}`".into(),
                })?;
            let body = &body_and_tail[..end];
            out.push_str(&resolve(body, line, &lookup, &mut warnings)?);
            rest = &body_and_tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok((out, warnings))
}

fn resolve(
    body: &str,
    line: usize,
    lookup: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<String, ConfigError> {
    let reference = body
        .strip_prefix("env:")
        .ok_or_else(|| ConfigError::Expansion {
            line,
            message: format!(
                "`${{{body}}}`: only `${{env:VAR}}` and `${{env:VAR:-default}}` are supported"
            ),
        })?;
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ConfigError::Expansion {
            line,
            message: format!("`{name}` is not a valid environment variable name"),
        });
    }
    let value = match (lookup(name), default) {
        (Some(value), _) => value,
        (None, Some(default)) => default.to_string(),
        (None, None) => {
            warnings.push(format!(
                "line {line}: environment variable {name} is not set; using an empty value"
            ));
            String::new()
        }
    };
    if value.contains('\n') {
        return Err(ConfigError::Expansion {
            line,
            message: format!("environment variable {name} spans several lines"),
        });
    }
    Ok(value)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("collector:4317".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn set_variable_is_substituted() {
        let (out, warnings) = expand_env("endpoint: ${env:HOST}\n", env).unwrap();
        assert_eq!(out, "endpoint: collector:4317\n");
        assert!(warnings.is_empty());
    }

    #[test]
    fn default_applies_only_when_unset() {
        let (out, _) = expand_env("a: ${env:MISSING:-x:1}\nb: ${env:EMPTY:-y}\n", env).unwrap();
        assert_eq!(out, "a: x:1\nb: \n");
    }

    #[test]
    fn unset_without_default_is_empty_with_a_warning() {
        let (out, warnings) = expand_env("\n\nkey: ${env:MISSING}", env).unwrap();
        assert_eq!(out, "\n\nkey: ");
        assert_eq!(
            warnings,
            vec!["line 3: environment variable MISSING is not set; using an empty value"]
        );
    }

    #[test]
    fn double_dollar_is_a_literal_dollar() {
        let (out, _) = expand_env("price: $$5 and $${env:HOST}", env).unwrap();
        assert_eq!(out, "price: $5 and ${env:HOST}");
    }

    #[test]
    fn unknown_scheme_is_an_error_naming_the_line() {
        let err = expand_env("a: 1\nb: ${file:/etc/x}", env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: `${file:/etc/x}`: only `${env:VAR}` and `${env:VAR:-default}` are supported"
        );
    }

    #[test]
    fn unclosed_reference_is_an_error() {
        let err = expand_env("a: ${env:HOST", env).unwrap_err();
        assert_eq!(err.to_string(), "line 1: `${` without a closing `}`");
    }
}
