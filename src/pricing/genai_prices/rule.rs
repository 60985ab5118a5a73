//! genai-prices' match rules: which model names (or provider names) a rule covers.
//!
//! The literal rules compare case-insensitively; `regex` searches anywhere in the text (it may
//! use look-ahead, hence `fancy-regex`). Callers lower-case the text once before matching, as
//! genai-prices does, so a regex sees lower-case text. A regex is checked when the data is read
//! but compiled for use only when a lookup first needs it: the data holds ~110 of them (model
//! rules and API addresses) at ~75 KB each compiled, and most are never evaluated.

use serde::Deserialize;
use std::sync::OnceLock;

/// A rule as written in the data: an object with exactly one key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(super) enum RuleText {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(String),
    Or(Vec<RuleText>),
    And(Vec<RuleText>),
}

/// A compiled rule; literals are lower-cased once.
#[derive(Debug, Clone)]
pub enum MatchRule {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(Box<LazyRegex>),
    Or(Vec<MatchRule>),
    And(Vec<MatchRule>),
}

/// A regex in the data that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("regex `{pattern}`: {error}")]
pub struct RuleError {
    pattern: String,
    error: Box<fancy_regex::Error>,
}

impl MatchRule {
    pub(super) fn compile(text: &RuleText) -> Result<MatchRule, RuleError> {
        let all = |rules: &[RuleText]| -> Result<Vec<MatchRule>, RuleError> {
            rules.iter().map(MatchRule::compile).collect()
        };
        Ok(match text {
            RuleText::Equals(value) => MatchRule::Equals(value.to_lowercase()),
            RuleText::StartsWith(value) => MatchRule::StartsWith(value.to_lowercase()),
            RuleText::EndsWith(value) => MatchRule::EndsWith(value.to_lowercase()),
            RuleText::Contains(value) => MatchRule::Contains(value.to_lowercase()),
            RuleText::Regex(pattern) => MatchRule::Regex(Box::new(LazyRegex::new(pattern)?)),
            RuleText::Or(rules) => MatchRule::Or(all(rules)?),
            RuleText::And(rules) => MatchRule::And(all(rules)?),
        })
    }

    /// Whether the rule covers `lower`, a lower-cased name.
    pub fn matches(&self, lower: &str) -> bool {
        match self {
            MatchRule::Equals(value) => lower == value,
            MatchRule::StartsWith(value) => lower.starts_with(value.as_str()),
            MatchRule::EndsWith(value) => lower.ends_with(value.as_str()),
            MatchRule::Contains(value) => lower.contains(value.as_str()),
            // A regex too costly to decide counts as no match.
            MatchRule::Regex(regex) => regex.is_match(lower),
            MatchRule::Or(rules) => rules.iter().any(|rule| rule.matches(lower)),
            MatchRule::And(rules) => rules.iter().all(|rule| rule.matches(lower)),
        }
    }
}

impl std::fmt::Display for MatchRule {
    /// `starts_with "claude-sonnet-4-5"`, `or(equals "a", regex "^b")`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all = |f: &mut std::fmt::Formatter<'_>, word: &str, rules: &[MatchRule]| {
            let parts: Vec<String> = rules.iter().map(ToString::to_string).collect();
            write!(f, "{word}({})", parts.join(", "))
        };
        match self {
            MatchRule::Equals(value) => write!(f, "equals {value:?}"),
            MatchRule::StartsWith(value) => write!(f, "starts_with {value:?}"),
            MatchRule::EndsWith(value) => write!(f, "ends_with {value:?}"),
            MatchRule::Contains(value) => write!(f, "contains {value:?}"),
            MatchRule::Regex(regex) => write!(f, "regex {:?}", regex.as_str()),
            MatchRule::Or(rules) => all(f, "or", rules),
            MatchRule::And(rules) => all(f, "and", rules),
        }
    }
}

/// A regex checked when read, compiled on its first use.
#[derive(Debug, Clone)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<fancy_regex::Regex>>,
}

impl LazyRegex {
    /// Checks that `pattern` compiles (and lets the compiled form go).
    pub fn new(pattern: &str) -> Result<Self, RuleError> {
        fancy_regex::Regex::new(pattern).map_err(|error| RuleError {
            pattern: pattern.to_string(),
            error: Box::new(error),
        })?;
        Ok(LazyRegex {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        })
    }

    /// Whether the regex matches anywhere in `text`; a regex too costly to decide counts as no
    /// match.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled
            .get_or_init(|| fancy_regex::Regex::new(&self.pattern).ok())
            .as_ref()
            .is_some_and(|regex| regex.is_match(text).unwrap_or(false))
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> MatchRule {
        MatchRule::compile(&serde_json::from_str(json).unwrap()).unwrap()
    }

    #[test]
    fn literal_rules_compare_case_insensitively() {
        assert!(rule(r#"{"equals":"GPT-4o"}"#).matches("gpt-4o"));
        assert!(!rule(r#"{"equals":"gpt-4o"}"#).matches("gpt-4o-mini"));
        assert!(rule(r#"{"starts_with":"MiniMax-M"}"#).matches("minimax-m2"));
        assert!(rule(r#"{"ends_with":"-v1:0"}"#).matches("anthropic.claude-v1:0"));
        assert!(rule(r#"{"contains":"claude"}"#).matches("us.anthropic.claude-x"));
    }

    #[test]
    fn regex_searches_anywhere_and_may_look_ahead() {
        assert!(rule(r#"{"regex":"^o[134]"}"#).matches("o3-mini"));
        assert!(rule(r#"{"regex":"mini"}"#).matches("o3-mini"));
        let not_tts = rule(
            r#"{"and":[{"starts_with":"gemini-2.5-pro"},{"regex":"^(?!.*-[tT][tT][sS](?:$|-))"}]}"#,
        );
        assert!(not_tts.matches("gemini-2.5-pro"));
        assert!(!not_tts.matches("gemini-2.5-pro-preview-tts"));
    }

    #[test]
    fn a_rule_reads_as_written() {
        let text = r#"{"or":[{"starts_with":"Claude-3-5"},{"and":[{"contains":"x"},{"regex":"^o[13]"}]}]}"#;
        assert_eq!(
            rule(text).to_string(),
            r#"or(starts_with "claude-3-5", and(contains "x", regex "^o[13]"))"#
        );
    }

    #[test]
    fn or_and_combine() {
        let either = rule(r#"{"or":[{"equals":"a"},{"starts_with":"b"}]}"#);
        assert!(either.matches("a") && either.matches("bc") && !either.matches("c"));
        let both = rule(r#"{"and":[{"contains":"hugging"},{"contains":"groq"}]}"#);
        assert!(both.matches("huggingface_groq") && !both.matches("groq"));
    }

    #[test]
    fn a_rule_with_two_keys_or_an_unknown_key_is_refused() {
        assert!(serde_json::from_str::<RuleText>(r#"{"equals":"a","contains":"b"}"#).is_err());
        assert!(serde_json::from_str::<RuleText>(r#"{"like":"a"}"#).is_err());
    }
}
