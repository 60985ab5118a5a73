//! Finding a span's model in genai-prices' data: the provider first (by the name the span gives,
//! else by the host it was sent to, else — only when no provider is named — by the providers'
//! model rules), then that provider's models in order, then the providers it falls back to, then
//! once more with a compact date written out. A provider name that names no provider of the data
//! (a self-hosted `ollama`, say) does not fall through to the model rules: its price would be a
//! guess.

use super::{MatchRule, ProviderFoundBy, SharedMatch, SharedPrices, SharedProvider};

impl SharedPrices {
    /// The model `model` names, for a span that names `provider` (`gen_ai.provider.name` or
    /// `gen_ai.system`) and was sent to `server_address`. Entries for which `disabled` holds are
    /// passed over, as if not listed.
    pub fn find(
        &self,
        model: &str,
        provider: Option<&str>,
        server_address: Option<&str>,
        disabled: &impl Fn(usize) -> bool,
    ) -> Option<SharedMatch> {
        let mut model = model.trim().to_lowercase();
        let mut provider = provider.map(|name| name.trim().to_lowercase());
        // LiteLLM names the provider in the model: `anthropic/claude-…`.
        if provider.as_deref() == Some("litellm") {
            if let Some((prefix, rest)) = model.split_once('/') {
                if self.provider_named(prefix).is_some() {
                    (provider, model) = (Some(prefix.to_string()), rest.to_string());
                }
            }
        }
        let (chosen, found_by) = self.provider_of(&model, provider.as_deref(), server_address)?;
        let in_provider = |name: &str| {
            std::iter::once(chosen)
                .chain(self.providers[chosen].fallbacks.iter().copied())
                .find_map(|listed_by| {
                    self.providers[listed_by]
                        .models
                        .iter()
                        .find(|(rule, entry)| !disabled(*entry) && rule.matches(name))
                        .map(|(_, entry)| SharedMatch {
                            entry: *entry,
                            provider: chosen,
                            listed_by,
                            provider_found_by: found_by,
                        })
                })
        };
        in_provider(&model)
            .or_else(|| expand_compact_date(&model).and_then(|name| in_provider(&name)))
    }

    fn provider_of(
        &self,
        model: &str,
        provider: Option<&str>,
        server_address: Option<&str>,
    ) -> Option<(usize, ProviderFoundBy)> {
        if let Some(found) = provider.and_then(|name| self.provider_named(name)) {
            return Some(found);
        }
        if let Some(found) = server_address.and_then(|host| self.provider_at(host)) {
            return Some(found);
        }
        if provider.is_some_and(|name| !name.is_empty() && name != "litellm") {
            return None;
        }
        self.first_provider(|provider| &provider.model_match, model)
            .map(|index| (index, ProviderFoundBy::ModelRule))
    }

    /// The first provider whose rule (`rule_of` it) covers `name`.
    fn first_provider(
        &self,
        rule_of: impl Fn(&SharedProvider) -> &Option<MatchRule>,
        name: &str,
    ) -> Option<usize> {
        self.providers.iter().position(|provider| {
            rule_of(provider)
                .as_ref()
                .is_some_and(|rule| rule.matches(name))
        })
    }

    /// The provider `name` (lower-cased) names: by id or a known alias, else by a provider's
    /// `provider_match` rule.
    pub(super) fn provider_named(&self, name: &str) -> Option<(usize, ProviderFoundBy)> {
        let id = alias(name);
        self.providers
            .iter()
            .position(|provider| provider.id == id)
            .map(|index| (index, ProviderFoundBy::Id))
            .or_else(|| {
                self.first_provider(|provider| &provider.provider_match, name)
                    .map(|index| (index, ProviderFoundBy::ProviderRule))
            })
    }

    /// The id of the provider `name` names (any case), or `None`.
    pub fn provider_id(&self, name: &str) -> Option<&str> {
        let (index, _) = self.provider_named(&name.trim().to_lowercase())?;
        Some(&self.providers[index].id)
    }

    /// The provider whose API address is `host` (`server.address`).
    fn provider_at(&self, host: &str) -> Option<(usize, ProviderFoundBy)> {
        let url = format!("https://{}", host.trim().to_lowercase());
        self.providers
            .iter()
            .position(|provider| provider.api_pattern.is_match(&url))
            .map(|index| (index, ProviderFoundBy::ApiHost))
    }
}

/// OpenTelemetry's and the instrumentations' provider names (`gen_ai.provider.name`, older
/// `gen_ai.system` values, the Vercel AI SDK's) that name a genai-prices provider by another
/// word than its id or `provider_match`.
fn alias(name: &str) -> &str {
    match name {
        _ if name.starts_with("azure") || name.starts_with("az.ai.") => "azure",
        "x_ai" => "x-ai",
        "mistral_ai" => "mistral",
        "gcp.vertex_ai" | "gcp.gemini" | "gcp.gen_ai" | "vertex_ai" | "vertexai" => "google",
        "aws.bedrock" => "aws",
        "togetherai" | "together.ai" => "together",
        other => other,
    }
}

/// `name` with every compact date (`-YYYYMMDD`, a real date of 20xx, followed by `-`, `:` or
/// the end) written `-YYYY-MM-DD`; `None` when it has none.
pub(super) fn expand_compact_date(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let is_date_at = |dash: usize| {
        let Some(digits) = bytes.get(dash + 1..dash + 9) else {
            return false;
        };
        bytes[dash] == b'-'
            && digits.iter().all(u8::is_ascii_digit)
            && digits.starts_with(b"20")
            && matches!(bytes.get(dash + 9), None | Some(b'-' | b':'))
            && crate::config::ConfigDate::parse(&format!(
                "{}-{}-{}",
                &name[dash + 1..dash + 5],
                &name[dash + 5..dash + 7],
                &name[dash + 7..dash + 9]
            ))
            .is_ok()
    };
    let mut expanded = String::with_capacity(name.len() + 4);
    let mut copied = 0;
    let mut dash = 0;
    while dash < bytes.len() {
        if is_date_at(dash) {
            expanded.push_str(&name[copied..dash + 5]);
            expanded.push('-');
            expanded.push_str(&name[dash + 5..dash + 7]);
            expanded.push('-');
            expanded.push_str(&name[dash + 7..dash + 9]);
            copied = dash + 9;
            dash += 9;
        } else {
            dash += 1;
        }
    }
    (copied > 0).then(|| expanded + &name[copied..])
}
