//! How configuration errors speak of the values they refuse: never by the value itself. A
//! token, key or header typed into the wrong key (or an `${env:…}` secret expanded into one)
//! must not be printed back to a terminal, a CI log or a pod's events; the error names the key
//! and line, and says what the value looks like (its length) and what was expected.

/// The words an error uses for a value the user gave.
pub fn given(value: &str) -> String {
    if value.is_empty() {
        return "the empty value".to_string();
    }
    format!("the value given ({})", length(value))
}

/// The words an error uses for a file path the user gave.
pub fn given_file(path: &std::path::Path) -> String {
    format!(
        "the file it names ({})",
        length(&path.display().to_string())
    )
}

/// `empty`, `1 character`, `N characters`.
fn length(value: &str) -> String {
    match value.chars().count() {
        0 => "empty".to_string(),
        1 => "1 character".to_string(),
        count => format!("{count} characters"),
    }
}

/// `message` (from the YAML reader or serde) with every quoted value it repeats replaced by its
/// length: `invalid type: string "…"`, `invalid value: string "…"`, `unknown variant `…``.
/// Key names (`unknown field `…``) are kept: they are the schema's words or the user's typo.
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let string_at = rest.find("string \"").map(|at| (at, Quoted::Double));
        let variant_at = rest
            .find("unknown variant `")
            .map(|at| (at, Quoted::Backtick));
        let next = match (string_at, variant_at) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((at, quoted)) = next else {
            out.push_str(rest);
            return out;
        };
        let (prefix, open) = match quoted {
            Quoted::Double => ("string ", "string \"".len()),
            Quoted::Backtick => ("unknown variant ", "unknown variant `".len()),
        };
        out.push_str(&rest[..at]);
        let inner = &rest[at + open..];
        let Some(end) = quoted.closing(inner) else {
            out.push_str(&rest[at..]);
            return out;
        };
        out.push_str(prefix);
        out.push('(');
        let unescaped = inner[..end].replace("\\\"", "\"").replace("\\\\", "\\");
        out.push_str(&length(&unescaped));
        out.push(')');
        rest = &inner[end + 1..];
    }
}

#[derive(Clone, Copy)]
enum Quoted {
    Double,
    Backtick,
}

impl Quoted {
    /// Where the quoted text starting at `inner` ends (its closing quote; `\"` is escaped).
    fn closing(self, inner: &str) -> Option<usize> {
        match self {
            Quoted::Backtick => inner.find('`'),
            Quoted::Double => {
                let mut escaped = false;
                for (index, c) in inner.char_indices() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => return Some(index),
                        _ => escaped = false,
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_spoken_of_by_its_length() {
        assert_eq!(given("sk-ant-abc"), "the value given (10 characters)");
        assert_eq!(given("x"), "the value given (1 character)");
        assert_eq!(given(""), "the empty value");
    }

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        assert_eq!(
            without_values(
                "exporters.otlp.headers: invalid type: string \"Bearer s3cr\\\"et\", expected a map at line 4 column 14"
            ),
            "exporters.otlp.headers: invalid type: string (14 characters), expected a map at line 4 column 14"
        );
        assert_eq!(
            without_values(
                "exporters.otlp.protocol: unknown variant `sk-live-123`, expected `grpc` or `http/protobuf`"
            ),
            "exporters.otlp.protocol: unknown variant (11 characters), expected `grpc` or `http/protobuf`"
        );
        assert_eq!(
            without_values("a: invalid value: string \"\", expected x; b: string \"q\""),
            "a: invalid value: string (empty), expected x; b: string (1 character)"
        );
    }

    #[test]
    fn key_names_are_kept() {
        let message = "receivers: unknown field `endpiont`, expected `grpc` at line 5 column 9";
        assert_eq!(without_values(message), message);
    }
}
