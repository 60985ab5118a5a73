//! Reading token usage off a span: every dialect's attribute names ([`dialects`]), which spans
//! are model calls ([`call_kind`]), and whether the input count includes cached tokens
//! ([`semantics`]). The result is always the convention's reading: input includes cache reads
//! and writes, output includes reasoning.

pub mod call_kind;
pub mod dialects;
pub mod semantics;

pub use dialects::Dialect;
pub use semantics::{RuleError, SemanticsError, SemanticsRules, Source};

use crate::config::UsageConfig;
use crate::otlp::view::{AttrValue, Attributes};
use call_kind::{is_aggregate, KindMarkers};
use dialects::{classify, Field};

/// Token counts of one model call, in the convention's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenUsage {
    /// All input tokens, cache reads and writes included.
    pub input: u64,
    /// All output tokens, reasoning included.
    pub output: u64,
    pub cache_read: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    pub reasoning: u64,
    pub web_searches: u64,
}

impl TokenUsage {
    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m + self.cache_write_1h
    }
    /// Input tokens neither read from nor written to the cache.
    pub fn uncached_input(&self) -> u64 {
        self.input - self.cache_read - self.cache_write()
    }
    /// Cache-read tokens over all input tokens as the nearest double (both counts are exact
    /// doubles, so one division rounds correctly); zero without input.
    pub fn cache_hit_ratio(&self) -> f64 {
        if self.input == 0 {
            return 0.0;
        }
        self.cache_read as f64 / self.input as f64
    }
}

/// How the span's input count was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSemantics {
    /// Input includes cached tokens, as the source's rule says.
    IncludesCache,
    /// Input excludes cached tokens, as the source's rule says; they were added.
    ExcludesCache,
    /// The rule said "includes", but the cache parts exceed the input: read as "excludes".
    ExcludesCacheInferred,
}

impl InputSemantics {
    pub fn as_str(self) -> &'static str {
        match self {
            InputSemantics::IncludesCache => "includes_cache",
            InputSemantics::ExcludesCache => "excludes_cache",
            InputSemantics::ExcludesCacheInferred => "excludes_cache_inferred",
        }
    }
}

/// A cost the instrumentation already wrote on the span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExistingCost {
    pub total: f64,
    pub prompt: Option<f64>,
    pub completion: Option<f64>,
}

/// What a model-call span says.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFacts<'a> {
    /// The billed model: the response model, else the request model.
    pub model: Option<&'a str>,
    pub request_model: Option<&'a str>,
    pub response_model: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub provider: Option<String>,
    /// The host the call was sent to (`server.address`).
    pub server_address: Option<&'a str>,
    pub response_id: Option<&'a str>,
    pub usage: TokenUsage,
    pub semantics: InputSemantics,
    pub dialect: Dialect,
    /// How much detail the span gives (more token kinds, a 5m/1h split): the more precise of two
    /// spans for one call is the one priced.
    pub precision: u8,
    pub batch: bool,
    /// A cost the instrumentation wrote, when every cost attribute present is a finite,
    /// non-negative number.
    pub existing_cost: Option<ExistingCost>,
    /// The first cost attribute present that is not such a number: the span's cost is not
    /// believed (and the span says so).
    pub invalid_existing_cost: Option<&'a str>,
}

/// What a span says about token usage.
#[derive(Debug, Clone, PartialEq)]
pub enum SpanUsage<'a> {
    /// No token attribute: not a model call.
    Absent,
    /// Usage on a span that wraps model calls (agent, chain, workflow, Vercel parent).
    Aggregate,
    Present(CallFacts<'a>),
    /// Counts that are not counts (negative, fractional, text) or parts larger than the whole.
    Invalid,
    /// A model call that reports no usage (failed calls, some streams): nothing to price, but
    /// it counts as a request. The usage in the facts is zero.
    CallWithoutUsage(CallFacts<'a>),
}

/// `gen_ai.operation.name` values of model calls.
const MODEL_CALL_OPERATIONS: [&str; 5] = [
    "chat",
    "text_completion",
    "generate_content",
    "embeddings",
    "completion",
];

/// One attribute value found for a field, with the rank of the name it came from.
#[derive(Clone, Copy)]
struct Slot<'a> {
    rank: u8,
    dialect: Dialect,
    key: &'a str,
    value: AttrValue<'a>,
}

/// Reads usage according to the configuration.
#[derive(Debug, Clone)]
pub struct UsageReader {
    rules: SemanticsRules,
    /// Configured attribute names and the field each carries.
    extra_names: Vec<(String, Field)>,
    batch_attribute: String,
    batch_value: String,
    /// The largest token count believed.
    max_tokens: u64,
}

impl UsageReader {
    pub fn from_config(config: &UsageConfig) -> Result<Self, SemanticsError> {
        let named = |names: &[String], field: Field| {
            names
                .iter()
                .map(move |name| (name.clone(), field))
                .collect::<Vec<_>>()
        };
        let mut extra_names = named(&config.cache_write_1h_attributes, Field::CacheWrite1h);
        extra_names.extend(named(
            &config.cache_write_5m_attributes,
            Field::CacheWrite5m,
        ));
        extra_names.extend(named(&config.web_search_attributes, Field::WebSearches));
        Ok(Self {
            rules: SemanticsRules::new(&config.semantics)?,
            extra_names,
            batch_attribute: config.batch.attribute.clone(),
            batch_value: config.batch.value.clone(),
            max_tokens: config.max_tokens_per_call,
        })
    }

    /// The field an attribute name carries: a dialect's name, else a configured one.
    fn known(&self, key: &str) -> Option<dialects::Known> {
        classify(key).or_else(|| {
            self.extra_names
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, field)| dialects::Known {
                    field: *field,
                    rank: 100,
                    dialect: Dialect::Semconv,
                })
        })
    }

    /// Reads the usage of one span.
    pub fn read<'a>(
        &self,
        attributes: impl Attributes<'a>,
        span_name: &str,
        source: &Source<'_>,
    ) -> SpanUsage<'a> {
        let mut slots: [Option<Slot<'a>>; Field::COUNT] = [None; Field::COUNT];
        let mut batch = false;
        let mut vercel_v6 = false;
        let wanted = |key: &str| self.known(key).is_some() || key == self.batch_attribute;
        for (key, value) in attributes.entries_where(wanted) {
            if value == AttrValue::Empty {
                continue;
            }
            let known = self.known(key);
            if let Some(known) = known {
                vercel_v6 |= known.dialect == Dialect::VercelV6;
                let slot = &mut slots[known.field as usize];
                if slot.is_none_or(|existing| known.rank < existing.rank) {
                    *slot = Some(Slot {
                        rank: known.rank,
                        dialect: known.dialect,
                        key,
                        value,
                    });
                }
            } else if key == self.batch_attribute {
                batch = value_matches(value, &self.batch_value);
            }
        }
        let slot = |field: Field| slots[field as usize];
        let text = |field: Field| slot(field).and_then(|slot| non_empty_str(slot.value));
        let bare_facts = || CallFacts {
            model: text(Field::ResponseModel).or(text(Field::RequestModel)),
            request_model: text(Field::RequestModel),
            response_model: text(Field::ResponseModel),
            operation: text(Field::Operation),
            provider: text(Field::Provider).map(normalise_provider),
            server_address: text(Field::ServerAddress),
            response_id: text(Field::ResponseId),
            usage: TokenUsage::default(),
            semantics: InputSemantics::IncludesCache,
            dialect: Dialect::Semconv,
            precision: 0,
            batch,
            existing_cost: None,
            invalid_existing_cost: None,
        };
        if slot(Field::Input).is_none() && slot(Field::Output).is_none() {
            let operation = text(Field::Operation);
            let model_call = operation.map_or(
                text(Field::RequestModel).is_some() || text(Field::ResponseModel).is_some(),
                |op| {
                    MODEL_CALL_OPERATIONS
                        .iter()
                        .any(|known| op.eq_ignore_ascii_case(known))
                },
            ) || text(Field::OpenInferenceKind)
                .is_some_and(|kind| kind.eq_ignore_ascii_case("llm"));
            return if model_call {
                SpanUsage::CallWithoutUsage(bare_facts())
            } else {
                SpanUsage::Absent
            };
        }
        let markers = KindMarkers {
            operation: text(Field::Operation),
            openinference_kind: text(Field::OpenInferenceKind),
            traceloop_kind: text(Field::TraceloopKind),
            vercel_operation: text(Field::VercelOperation),
        };
        if is_aggregate(&markers, span_name) {
            return SpanUsage::Aggregate;
        }
        let mut dialect = slot(Field::Input)
            .or(slot(Field::Output))
            .map_or(Dialect::Semconv, |slot| slot.dialect);
        if vercel_v6 && dialect == Dialect::VercelV5 {
            dialect = Dialect::VercelV6;
        }
        let provider = text(Field::Provider).map(normalise_provider);
        let Some(counts) = RawCounts::read(&slots, self.max_tokens) else {
            return SpanUsage::Invalid;
        };
        let (includes_cache, _) = self
            .rules
            .includes_cache(source, dialect, provider.as_deref());
        let Some((usage, semantics)) = counts
            .into_usage(includes_cache)
            .filter(|(usage, _)| usage.input.max(usage.output) <= self.max_tokens)
        else {
            return SpanUsage::Invalid;
        };
        SpanUsage::Present(CallFacts {
            provider,
            usage,
            semantics,
            dialect,
            precision: counts.precision(),
            existing_cost: existing_cost(&slots).ok().flatten(),
            invalid_existing_cost: existing_cost(&slots).err(),
            ..bare_facts()
        })
    }
}

/// The counts as found, before token semantics are applied.
#[derive(Debug, Clone, Copy)]
struct RawCounts {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    cache_write_5m: Option<u64>,
    cache_write_1h: Option<u64>,
    reasoning: Option<u64>,
    web_searches: Option<u64>,
}

impl RawCounts {
    /// `None` when a present attribute is not a whole, non-negative count up to `max`.
    fn read(slots: &[Option<Slot<'_>>; Field::COUNT], max: u64) -> Option<RawCounts> {
        let count = |field: Field| -> Option<Option<u64>> {
            match slots[field as usize] {
                None => Some(None),
                Some(slot) => token_count(slot.value)
                    .filter(|count| *count <= max)
                    .map(Some),
            }
        };
        Some(RawCounts {
            input: count(Field::Input)?,
            output: count(Field::Output)?,
            cache_read: count(Field::CacheRead)?,
            cache_write: count(Field::CacheWrite)?,
            cache_write_5m: count(Field::CacheWrite5m)?,
            cache_write_1h: count(Field::CacheWrite1h)?,
            reasoning: count(Field::Reasoning)?,
            web_searches: count(Field::WebSearches)?,
        })
    }

    fn precision(&self) -> u8 {
        let kinds = [
            self.input,
            self.output,
            self.cache_read,
            self.cache_write.or(self.cache_write_5m),
            self.reasoning,
        ];
        let split = if self.cache_write_1h.is_some() { 2 } else { 0 };
        kinds.iter().filter(|count| count.is_some()).count() as u8 + split
    }

    /// The convention's reading, or `None` when the parts cannot fit the whole.
    fn into_usage(self, includes_cache: bool) -> Option<(TokenUsage, InputSemantics)> {
        let cache_read = self.cache_read.unwrap_or(0);
        let (cache_write_5m, cache_write_1h) = self.split_cache_write()?;
        let cached = cache_read
            .checked_add(cache_write_5m)?
            .checked_add(cache_write_1h)?;
        let reported_input = self.input.unwrap_or(0);
        let (input, semantics) = if !includes_cache {
            (
                reported_input.checked_add(cached)?,
                InputSemantics::ExcludesCache,
            )
        } else if cached <= reported_input {
            (reported_input, InputSemantics::IncludesCache)
        } else {
            (
                reported_input.checked_add(cached)?,
                InputSemantics::ExcludesCacheInferred,
            )
        };
        let output = self.output.unwrap_or(0);
        let reasoning = self.reasoning.unwrap_or(0);
        if reasoning > output {
            return None;
        }
        let usage = TokenUsage {
            input,
            output,
            cache_read,
            cache_write_5m,
            cache_write_1h,
            reasoning,
            web_searches: self.web_searches.unwrap_or(0),
        };
        Some((usage, semantics))
    }

    /// Cache writes split by lifetime: the 1-hour count when given, the rest at 5 minutes.
    fn split_cache_write(&self) -> Option<(u64, u64)> {
        let one_hour = self.cache_write_1h.unwrap_or(0);
        let total = match (self.cache_write, self.cache_write_5m) {
            (Some(total), _) => total,
            (None, Some(five_minutes)) => five_minutes.checked_add(one_hour)?,
            (None, None) => one_hour,
        };
        let five_minutes = total.checked_sub(one_hour)?;
        if self
            .cache_write_5m
            .is_some_and(|given| self.cache_write.is_some() && given != five_minutes)
        {
            return None;
        }
        Some((five_minutes, one_hour))
    }
}

/// The cost already on the span; `Err` names the first cost attribute that is not a finite,
/// non-negative number.
fn existing_cost<'a>(
    slots: &[Option<Slot<'a>>; Field::COUNT],
) -> Result<Option<ExistingCost>, &'a str> {
    let number = |field: Field| match slots[field as usize] {
        None => Ok(None),
        Some(slot) => money(slot.value).map(Some).ok_or(slot.key),
    };
    let (total, prompt, completion) = (
        number(Field::ExistingCost)?,
        number(Field::ExistingCostPrompt)?,
        number(Field::ExistingCostCompletion)?,
    );
    Ok(total.map(|total| ExistingCost {
        total,
        prompt,
        completion,
    }))
}

fn money(value: AttrValue<'_>) -> Option<f64> {
    match value {
        AttrValue::Double(number) => Some(number),
        AttrValue::Int(number) => Some(number as f64),
        AttrValue::Str(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|number: &f64| number.is_finite() && *number >= 0.0)
}

fn value_matches(value: AttrValue<'_>, wanted: &str) -> bool {
    match value {
        AttrValue::Str(text) => text.eq_ignore_ascii_case(wanted),
        AttrValue::Bool(flag) => flag.to_string() == wanted.to_ascii_lowercase(),
        AttrValue::Int(number) => number.to_string() == wanted,
        _ => false,
    }
}

/// `anthropic.messages` (Vercel) → `anthropic`; other names lower-cased as they are.
fn normalise_provider(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.split_once('.') {
        Some((
            vendor @ ("anthropic" | "openai" | "mistral" | "groq" | "deepseek" | "xai" | "cohere"),
            _,
        )) => vendor.to_string(),
        _ => lower,
    }
}

fn non_empty_str(value: AttrValue<'_>) -> Option<&str> {
    match value {
        AttrValue::Str(text) if !text.trim().is_empty() => Some(text),
        _ => None,
    }
}

/// Accepts integers, integral doubles and decimal strings of whole numbers; nothing negative.
fn token_count(value: AttrValue<'_>) -> Option<u64> {
    match value {
        AttrValue::Int(count) => u64::try_from(count).ok(),
        AttrValue::Double(count) if count.fract() == 0.0 && (0.0..9.0e15).contains(&count) => {
            Some(count as u64)
        }
        AttrValue::Str(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
