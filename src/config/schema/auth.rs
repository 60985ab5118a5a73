//! Who may send to the receivers: bearer tokens, written in the file (usually `${env:…}`) or
//! kept in a file of their own that is re-read when it changes. The Collector's
//! `bearertokenauth` extension has the same two sources (`tokens`, `filename`).

use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

/// A token; never printed (its `Debug` says only that it is there).
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("BearerToken(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for BearerToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TokenVisitor)
    }
}

/// A string, or a whole number (YAML reads `[12345]` as a number; it is still a token).
struct TokenVisitor;

impl serde::de::Visitor<'_> for TokenVisitor {
    type Value = BearerToken;
    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a token (a string)")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<BearerToken, E> {
        if text.trim().is_empty() || text.chars().any(char::is_whitespace) {
            return Err(E::custom("a token is one word, without spaces"));
        }
        Ok(BearerToken(text.to_string()))
    }
    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<BearerToken, E> {
        Ok(BearerToken(number.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<BearerToken, E> {
        Ok(BearerToken(number.to_string()))
    }
}

/// `receivers.otlp.auth`, and its per-protocol override `receivers.otlp.protocols.<p>.auth`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens a sender may present as `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer_tokens: Vec<BearerToken>,
    /// A file of tokens, one a line (blank lines and `#` comments skipped), re-read when it
    /// changes: a rotated Kubernetes Secret takes effect without a restart.
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
}

impl AuthConfig {
    /// Whether any sender must authenticate.
    pub fn is_enabled(&self) -> bool {
        !self.bearer_tokens.is_empty() || self.bearer_token_file.is_some()
    }
}
