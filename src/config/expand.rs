//! `${env:VAR}` and `${env:VAR:-default}` expansion of the configuration text, as the
//! OpenTelemetry Collector does it; `$$` writes a literal `$`.

use super::ConfigError;

/// Expands every `${env:…}` reference in `text`, reading variables through `lookup`. YAML
/// comments are left as they are, references in them included.
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
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let (code, comment) = line.split_at(comment_start(line));
        expand_line(code, index + 1, &lookup, &mut out, &mut warnings)?;
        out.push_str(comment);
    }
    Ok((out, warnings))
}

/// Where a line's comment begins: a `#` outside quotes, at the start or after white space.
fn comment_start(line: &str) -> usize {
    let mut quote = None;
    let mut previous = ' ';
    for (offset, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if previous.is_whitespace() => return offset,
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
        previous = c;
    }
    line.len()
}

fn expand_line(
    line_text: &str,
    line: usize,
    lookup: &impl Fn(&str) -> Option<String>,
    out: &mut String,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let mut rest = line_text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
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
            out.push_str(&resolve(&body_and_tail[..end], line, lookup, warnings)?);
            rest = &body_and_tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(())
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
    fn references_in_comments_are_left_alone() {
        let (out, warnings) = expand_env(
            "# set ${env:MISSING} here\nkey: \"a # b ${env:HOST}\" # ${env:NOPE}\n",
            env,
        )
        .unwrap();
        assert_eq!(
            out,
            "# set ${env:MISSING} here\nkey: \"a # b collector:4317\" # ${env:NOPE}\n"
        );
        assert!(warnings.is_empty());
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
