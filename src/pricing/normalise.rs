//! Model-name normalisation: the many spellings of one model reduced to its canonical name.
//!
//! `Anthropic/Claude-Sonnet-4-5-20250929`, `us.anthropic.claude-sonnet-4-5-20250929-v1:0` (Bedrock),
//! `claude-sonnet-4-5@20250929` (Vertex) and `claude-sonnet-4-5-latest` all become
//! `claude-sonnet-4-5`; Bedrock ids also say whether they use an in-region endpoint.

/// A model name reduced to its canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedModel {
    /// The name as sent, lower-cased and trimmed.
    pub raw: String,
    pub canonical: String,
    /// A Bedrock id served by an in-region endpoint (no `global.` prefix).
    pub bedrock_regional: bool,
}

const BEDROCK_REGIONS: [&str; 7] = ["global.", "us-gov.", "us.", "eu.", "apac.", "jp.", "au."];
const BEDROCK_VENDORS: [&str; 1] = ["anthropic."];

pub fn normalise(model: &str) -> NormalisedModel {
    let raw = model.trim().to_lowercase();
    // Provider prefixes: `anthropic/…`, `openrouter/anthropic/…`, `models/gemini-…`.
    let mut name = raw.rsplit('/').next().unwrap_or(&raw);
    // Vertex: `claude-sonnet-4-5@20250929`.
    if let Some((base, _)) = name.split_once('@') {
        name = base;
    }
    let (name, bedrock_regional) = strip_bedrock(name);
    let name = strip_suffixes(name);
    NormalisedModel {
        canonical: name.to_string(),
        raw,
        bedrock_regional,
    }
}

/// Removes Bedrock's region and vendor prefixes and `-v1:0` suffix.
fn strip_bedrock(name: &str) -> (&str, bool) {
    let region = BEDROCK_REGIONS
        .iter()
        .find(|region| name.starts_with(*region));
    let without_region = region.map_or(name, |region| &name[region.len()..]);
    let Some(vendor) = BEDROCK_VENDORS
        .iter()
        .find(|vendor| without_region.starts_with(*vendor))
    else {
        return (name, false);
    };
    let mut base = &without_region[vendor.len()..];
    if let Some(position) = base.rfind("-v") {
        let version = &base[position + 2..];
        if !version.is_empty()
            && version
                .split(':')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        {
            base = &base[..position];
        }
    }
    (base, region != Some(&"global."))
}

/// Removes a trailing date (`-20250929`, `-2024-08-06`) or `-latest`.
pub(super) fn strip_suffixes(name: &str) -> &str {
    if let Some(base) = name.strip_suffix("-latest") {
        return base;
    }
    let bytes = name.as_bytes();
    let is_digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let len = bytes.len();
    if len > 9 && bytes[len - 9] == b'-' && is_digits(len - 8..len) && bytes[len - 8] == b'2' {
        return &name[..len - 9];
    }
    if len > 11
        && bytes[len - 11] == b'-'
        && bytes[len - 10] == b'2'
        && is_digits(len - 10..len - 6)
        && bytes[len - 6] == b'-'
        && is_digits(len - 5..len - 3)
        && bytes[len - 3] == b'-'
        && is_digits(len - 2..len)
    {
        return &name[..len - 11];
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(model: &str) -> (String, bool) {
        let normalised = normalise(model);
        (normalised.canonical, normalised.bedrock_regional)
    }

    #[test]
    fn date_suffixes_and_latest_are_removed() {
        assert_eq!(
            canonical("claude-sonnet-4-5-20250929"),
            ("claude-sonnet-4-5".into(), false)
        );
        assert_eq!(canonical("gpt-4o-2024-08-06"), ("gpt-4o".into(), false));
        assert_eq!(
            canonical("claude-3-5-haiku-latest"),
            ("claude-3-5-haiku".into(), false)
        );
        assert_eq!(canonical("gpt-4.1-mini"), ("gpt-4.1-mini".into(), false));
    }

    #[test]
    fn provider_prefixes_and_case_are_removed() {
        assert_eq!(
            canonical("Anthropic/Claude-Opus-4-1"),
            ("claude-opus-4-1".into(), false)
        );
        assert_eq!(
            canonical("openrouter/openai/gpt-5-mini"),
            ("gpt-5-mini".into(), false)
        );
        assert_eq!(
            canonical("models/gemini-2.5-pro"),
            ("gemini-2.5-pro".into(), false)
        );
    }

    #[test]
    fn bedrock_ids_are_reduced_and_regional_endpoints_recognised() {
        assert_eq!(
            canonical("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("claude-sonnet-4-5".into(), true)
        );
        assert_eq!(
            canonical("global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("claude-sonnet-4-5".into(), false)
        );
        assert_eq!(
            canonical("anthropic.claude-3-haiku-20240307-v1:0"),
            ("claude-3-haiku".into(), true)
        );
        assert_eq!(
            canonical("apac.anthropic.claude-haiku-4-5-20251001-v1:0"),
            ("claude-haiku-4-5".into(), true)
        );
    }

    #[test]
    fn vertex_ids_lose_their_version() {
        assert_eq!(
            canonical("claude-sonnet-4-5@20250929"),
            ("claude-sonnet-4-5".into(), false)
        );
    }

    #[test]
    fn names_that_only_look_dated_are_kept() {
        assert_eq!(canonical("gpt-4o-mini"), ("gpt-4o-mini".into(), false));
        assert_eq!(
            canonical("model-12345678"),
            ("model-12345678".into(), false)
        );
    }
}
