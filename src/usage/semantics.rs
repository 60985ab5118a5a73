//! Token semantics per source: does the input count include cache reads and writes? Decided by
//! rules kept as data (`builtin_semantics.yaml`), after the configuration's own rules.

use super::dialects::Dialect;
use crate::config::SemanticsRuleConfig;

const BUILTIN_RULES: &str = include_str!("builtin_semantics.yaml");

/// Who emitted a span: its instrumentation scope and SDK.
#[derive(Debug, Clone, Copy, Default)]
pub struct Source<'a> {
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub sdk_name: Option<&'a str>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<SemanticsRuleConfig>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    scope: Option<String>,
    version_below: Option<Vec<u64>>,
    version_at_least: Option<Vec<u64>>,
    sdk_name: Option<String>,
    dialect: Option<Dialect>,
    provider: Option<String>,
    includes_cache: bool,
}

/// Why the semantics rules cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SemanticsError {
    #[error("built-in semantics rules: {0}")]
    BuiltinFile(serde_norway::Error),
    /// A built-in rule that does not compile.
    #[error("{0}")]
    Builtin(RuleError),
    #[error("usage.semantics[{index}]: {error}")]
    Configured { index: usize, error: RuleError },
}

/// What is wrong with one rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("dialect: `{0}` is not a known dialect")]
    UnknownDialect(String),
    #[error("{key}: `{text}` is not a dotted version")]
    Version { key: &'static str, text: String },
    #[error("scope: `{0}`: write an exact name or a prefix ending in `*`")]
    ScopePattern(String),
}

/// The ordered rules; the first match decides, the last built-in rule matches everything.
#[derive(Debug, Clone)]
pub struct SemanticsRules {
    rules: Vec<Rule>,
}

impl SemanticsRules {
    /// The configuration's rules followed by the built-in ones.
    pub fn new(configured: &[SemanticsRuleConfig]) -> Result<Self, SemanticsError> {
        let builtin: RulesFile =
            serde_norway::from_str(BUILTIN_RULES).map_err(SemanticsError::BuiltinFile)?;
        let rules = configured
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                compile(rule).map_err(|error| SemanticsError::Configured { index, error })
            })
            .chain(
                builtin
                    .rules
                    .iter()
                    .map(|rule| compile(rule).map_err(SemanticsError::Builtin)),
            )
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { rules })
    }

    /// Whether the input count includes cached tokens, and the name of the deciding rule.
    pub fn includes_cache(
        &self,
        source: &Source<'_>,
        dialect: Dialect,
        provider: Option<&str>,
    ) -> (bool, &str) {
        self.rules
            .iter()
            .find(|rule| rule.matches(source, dialect, provider))
            .map_or((true, "convention"), |rule| {
                (rule.includes_cache, rule.name.as_str())
            })
    }
}

fn compile(rule: &SemanticsRuleConfig) -> Result<Rule, RuleError> {
    let dialect = match &rule.dialect {
        Some(name) => {
            Some(Dialect::parse(name).ok_or_else(|| RuleError::UnknownDialect(name.clone()))?)
        }
        None => None,
    };
    let version =
        |text: &Option<String>, key: &'static str| -> Result<Option<Vec<u64>>, RuleError> {
            text.as_deref()
                .map(|text| {
                    parse_version(text).ok_or_else(|| RuleError::Version {
                        key,
                        text: text.to_string(),
                    })
                })
                .transpose()
        };
    if let Some(scope) = &rule.scope {
        let stem = scope.strip_suffix('*').unwrap_or(scope);
        if stem.contains('*') {
            return Err(RuleError::ScopePattern(scope.clone()));
        }
    }
    Ok(Rule {
        name: rule.name.clone().unwrap_or_else(|| "configured".into()),
        scope: rule.scope.clone(),
        version_below: version(&rule.scope_version_below, "scope_version_below")?,
        version_at_least: version(&rule.scope_version_at_least, "scope_version_at_least")?,
        sdk_name: rule.sdk_name.as_ref().map(|name| name.to_lowercase()),
        dialect,
        provider: rule
            .provider
            .as_ref()
            .map(|provider| provider.to_lowercase()),
        includes_cache: rule.input_includes_cache,
    })
}

impl Rule {
    fn matches(&self, source: &Source<'_>, dialect: Dialect, provider: Option<&str>) -> bool {
        let scope_ok =
            self.scope
                .as_deref()
                .is_none_or(|pattern| match pattern.strip_suffix('*') {
                    Some(prefix) => source.scope_name.starts_with(prefix),
                    None => source.scope_name == pattern,
                });
        let sdk_ok = self.sdk_name.as_deref().is_none_or(|name| {
            source
                .sdk_name
                .is_some_and(|sdk| sdk.eq_ignore_ascii_case(name))
        });
        let dialect_ok = self.dialect.is_none_or(|wanted| wanted == dialect);
        let provider_ok = self
            .provider
            .as_deref()
            .is_none_or(|wanted| provider == Some(wanted));
        // The version is parsed only for a rule that asks for one and matches otherwise.
        scope_ok && sdk_ok && dialect_ok && provider_ok && self.version_matches(source)
    }

    fn version_matches(&self, source: &Source<'_>) -> bool {
        if self.version_below.is_none() && self.version_at_least.is_none() {
            return true;
        }
        let version = parse_version(source.scope_version);
        let below_ok = self
            .version_below
            .as_ref()
            .is_none_or(|limit| version.as_ref().is_some_and(|v| v < limit));
        let at_least_ok = self
            .version_at_least
            .as_ref()
            .is_none_or(|limit| version.as_ref().is_some_and(|v| v >= limit));
        below_ok && at_least_ok
    }
}

/// `1.2.3`, `v0.40.1`, `1.2.3-beta` → [1, 2, 3]; pre-release tags are ignored.
fn parse_version(text: &str) -> Option<Vec<u64>> {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let parts: Option<Vec<u64>> = core.split('.').map(|part| part.parse().ok()).collect();
    parts.filter(|parts| !parts.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SemanticsRules {
        let configured = vec![SemanticsRuleConfig {
            name: Some("old-lib".into()),
            scope: Some("my.lib*".into()),
            scope_version_below: Some("2.0".into()),
            scope_version_at_least: None,
            sdk_name: None,
            dialect: None,
            provider: None,
            input_includes_cache: false,
        }];
        SemanticsRules::new(&configured).unwrap()
    }

    fn source<'a>(
        scope_name: &'a str,
        scope_version: &'a str,
        sdk_name: Option<&'a str>,
    ) -> Source<'a> {
        Source {
            scope_name,
            scope_version,
            sdk_name,
        }
    }

    #[test]
    fn convention_is_the_default() {
        assert_eq!(
            rules().includes_cache(
                &source("opentelemetry.instrumentation.anthropic", "0.47.0", None),
                Dialect::Semconv,
                Some("anthropic")
            ),
            (true, "convention-includes-cache")
        );
    }

    #[test]
    fn openlit_anthropic_excludes_cache() {
        let rules = rules();
        let decided = rules.includes_cache(
            &source("openlit.otel.tracing", "1.0", Some("openlit")),
            Dialect::Semconv,
            Some("anthropic"),
        );
        assert_eq!(decided, (false, "openlit-anthropic-uncached"));
        let app_provider = rules.includes_cache(
            &source(
                "openlit.instrumentation.anthropic",
                "",
                Some("opentelemetry"),
            ),
            Dialect::Semconv,
            Some("anthropic"),
        );
        assert_eq!(
            app_provider,
            (false, "openlit-anthropic-uncached"),
            "OpenLIT under the app's own TracerProvider: only the scope says OpenLIT"
        );
        let other_library = rules.includes_cache(
            &source(
                "opentelemetry.instrumentation.anthropic",
                "0.62.4",
                Some("openlit"),
            ),
            Dialect::Semconv,
            Some("anthropic"),
        );
        assert_eq!(
            other_library,
            (true, "convention-includes-cache"),
            "another library's span under OpenLIT's TracerProvider"
        );
        let openai = rules.includes_cache(
            &source("openlit.otel.tracing", "1.0", Some("openlit")),
            Dialect::Semconv,
            Some("openai"),
        );
        assert!(openai.0);
    }

    #[test]
    fn openllmetry_bedrock_excludes_cache() {
        let rules = rules();
        let decided = rules.includes_cache(
            &source("opentelemetry.instrumentation.bedrock", "0.62.4", None),
            Dialect::Semconv,
            Some("aws.bedrock"),
        );
        assert_eq!(decided, (false, "bedrock-openllmetry-uncached"));
    }

    #[test]
    fn vercel_v5_anthropic_excludes_cache_and_v6_includes_it() {
        assert!(
            !rules()
                .includes_cache(
                    &source("ai", "", None),
                    Dialect::VercelV5,
                    Some("anthropic")
                )
                .0
        );
        assert!(
            rules()
                .includes_cache(
                    &source("ai", "", None),
                    Dialect::VercelV6,
                    Some("anthropic")
                )
                .0
        );
        assert!(
            rules()
                .includes_cache(&source("ai", "", None), Dialect::VercelV5, Some("openai"))
                .0
        );
    }

    #[test]
    fn configured_rules_come_first_and_compare_versions() {
        assert_eq!(
            rules().includes_cache(
                &source("my.lib.anthropic", "1.9.3", None),
                Dialect::Semconv,
                None
            ),
            (false, "old-lib")
        );
        assert!(
            rules()
                .includes_cache(
                    &source("my.lib.anthropic", "2.0.0", None),
                    Dialect::Semconv,
                    None
                )
                .0
        );
        assert!(
            rules()
                .includes_cache(
                    &source("my.lib.anthropic", "", None),
                    Dialect::Semconv,
                    None
                )
                .0
        );
    }

    #[test]
    fn versions_parse_with_prefixes_and_tags() {
        assert_eq!(parse_version("v0.40.1-beta"), Some(vec![0, 40, 1]));
        assert_eq!(parse_version("x"), None);
    }
}
