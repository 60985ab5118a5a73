//! Per request: read each span's usage, decide which spans are priced (model calls, once per
//! call), price them and attach the cost. Spans without gen_ai usage pass untouched; the app's
//! own attributes are never changed or removed.

pub mod attributes;
mod duplicates;

pub use duplicates::{CallIdentity, DuplicateTracker};

use crate::config::{Config, ConfigDate, ExistingCostPolicy, OutputDialect};
use crate::pricing::{cost_of, Catalog, CostBreakdown};
use crate::telemetry::{AgentCounters, UnpricedReason};
use crate::usage::{CallFacts, Source, SpanUsage, UsageReader};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

/// What enrichment did to one request.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EnrichOutcome {
    pub spans: u64,
    pub priced: u64,
    pub unpriced: u64,
}

/// What enrichment decided for one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanOutcome {
    Untouched,
    Priced,
    Unpriced(UnpricedReason),
}

/// A priced call: the cost and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedCall {
    pub cost: CostBreakdown,
    pub price_id: String,
}

/// Prices spans against one catalog.
pub struct Enricher {
    catalog: Catalog,
    reader: UsageReader,
    duplicates: Option<DuplicateTracker>,
    existing_cost: ExistingCostPolicy,
    output_dialects: Vec<OutputDialect>,
}

/// Where a span sits in its request.
type Location = (usize, usize, usize);

/// A span with usage, waiting for the decision whether it is priced.
struct Candidate {
    location: Location,
    precision: u8,
    identity: CallIdentity,
    attributes: Result<Vec<KeyValue>, UnpricedReason>,
}

impl Enricher {
    pub fn new(catalog: Catalog, reader: UsageReader) -> Self {
        Self {
            catalog,
            reader,
            duplicates: None,
            existing_cost: ExistingCostPolicy::Compute,
            output_dialects: Vec::new(),
        }
    }

    /// The enricher the configuration describes; `Err` says what is wrong.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let duplicates = &config.usage.duplicates;
        Ok(Self {
            catalog: Catalog::build(&config.pricing)?,
            reader: UsageReader::from_config(&config.usage)?,
            duplicates: duplicates
                .enabled
                .then(|| DuplicateTracker::new(duplicates.window.0, duplicates.max_entries)),
            existing_cost: config.enrich.existing_cost,
            output_dialects: config.enrich.output_dialects.clone(),
        })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Enriches every span of `request` in place and counts what happened.
    pub fn enrich_request(
        &self,
        request: &mut ExportTraceServiceRequest,
        counters: &AgentCounters,
    ) -> EnrichOutcome {
        let mut outcome = EnrichOutcome::default();
        let mut additions: Vec<(Location, Vec<KeyValue>)> = Vec::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        for (r, resource_spans) in request.resource_spans.iter().enumerate() {
            let sdk_name = resource_spans
                .resource
                .as_ref()
                .and_then(|resource| string_attribute(&resource.attributes, "telemetry.sdk.name"));
            for (s, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
                let scope = scope_spans.scope.as_ref();
                let source = Source {
                    scope_name: scope.map_or("", |scope| scope.name.as_str()),
                    scope_version: scope.map_or("", |scope| scope.version.as_str()),
                    sdk_name,
                };
                for (i, span) in scope_spans.spans.iter().enumerate() {
                    outcome.spans += 1;
                    match self.plan(span, &source) {
                        Plan::Untouched => {}
                        Plan::Unpriced(reason) => additions.push(((r, s, i), unpriced(reason))),
                        Plan::Candidate(precision, identity, attributes) => {
                            candidates.push(Candidate {
                                location: (r, s, i),
                                precision,
                                identity,
                                attributes,
                            })
                        }
                    }
                }
            }
        }
        // The most precise span of a call is offered first, so it is the one priced.
        candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.precision));
        for candidate in candidates {
            additions.push((candidate.location, self.decide(candidate)));
        }
        for ((r, s, i), attributes) in additions {
            match attributes
                .iter()
                .find(|kv| kv.key == attributes::UNPRICED_REASON)
                .and_then(reason_of)
            {
                Some(reason) => {
                    outcome.unpriced += 1;
                    counters.unpriced(reason);
                }
                None => outcome.priced += 1,
            }
            request.resource_spans[r].scope_spans[s].spans[i]
                .attributes
                .extend(attributes);
        }
        counters.priced(outcome.priced);
        outcome
    }

    /// Prices a lone span (outside any request), without duplicate detection.
    pub fn enrich_span(&self, span: &mut Span, source: &Source<'_>) -> SpanOutcome {
        let (attributes, outcome) = match self.plan(span, source) {
            Plan::Untouched => return SpanOutcome::Untouched,
            Plan::Unpriced(reason) => (unpriced(reason), SpanOutcome::Unpriced(reason)),
            Plan::Candidate(_, _, Ok(attributes)) => (attributes, SpanOutcome::Priced),
            Plan::Candidate(_, _, Err(reason)) => (unpriced(reason), SpanOutcome::Unpriced(reason)),
        };
        span.attributes.extend(attributes);
        outcome
    }

    fn plan(&self, span: &Span, source: &Source<'_>) -> Plan {
        if attributes::already_enriched(&span.attributes) {
            return Plan::Untouched;
        }
        let facts = match self.reader.read(&span.attributes, &span.name, source) {
            SpanUsage::Absent => return Plan::Untouched,
            SpanUsage::Aggregate => return Plan::Unpriced(UnpricedReason::AggregateSpan),
            SpanUsage::Invalid => return Plan::Unpriced(UnpricedReason::InvalidUsage),
            SpanUsage::Present(facts) => facts,
        };
        let identity = CallIdentity {
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            parent_span_id: span.parent_span_id.clone(),
            response_id: facts.response_id.map(str::to_string),
            fingerprint: (facts.usage.input, facts.usage.output),
        };
        let attributes = self.cost_attributes(&facts, span);
        Plan::Candidate(facts.precision, identity, attributes)
    }

    /// The cost attributes of a model-call span, or why it cannot be priced.
    fn cost_attributes(
        &self,
        facts: &CallFacts<'_>,
        span: &Span,
    ) -> Result<Vec<KeyValue>, UnpricedReason> {
        if let (ExistingCostPolicy::Trust, Some(existing)) =
            (self.existing_cost, &facts.existing_cost)
        {
            return Ok(attributes::provider_cost(existing, self.catalog.currency()));
        }
        let priced = self.price(facts, span_date(span))?;
        let mut attributes = attributes::local_cost(
            &priced.cost,
            self.catalog.currency(),
            &priced.price_id,
            facts.semantics.as_str(),
        );
        attributes.extend(attributes::dialect_cost(
            &self.output_dialects,
            &priced.cost,
            &span.attributes,
        ));
        Ok(attributes)
    }

    /// Prices the call a span describes, at the prices in force on `at`.
    pub fn price(
        &self,
        facts: &CallFacts<'_>,
        at: ConfigDate,
    ) -> Result<PricedCall, UnpricedReason> {
        let model = facts.model.ok_or(UnpricedReason::MissingModel)?;
        let found = self
            .catalog
            .lookup(model)
            .ok_or(UnpricedReason::UnknownModel)?;
        let applied = self
            .catalog
            .apply(&found, at, facts.usage.input, facts.batch);
        Ok(PricedCall {
            cost: cost_of(&facts.usage, &applied),
            price_id: applied.price_id,
        })
    }

    fn decide(&self, candidate: Candidate) -> Vec<KeyValue> {
        let attributes = match candidate.attributes {
            Ok(attributes) => attributes,
            Err(reason) => return unpriced(reason),
        };
        let earlier = self
            .duplicates
            .as_ref()
            .and_then(|tracker| tracker.check_and_remember(&candidate.identity));
        match earlier {
            Some(priced_span) => {
                let mut marked = unpriced(UnpricedReason::Duplicate);
                marked.push(attributes::string(
                    attributes::DUPLICATE_OF,
                    &hex(&priced_span),
                ));
                marked
            }
            None => attributes,
        }
    }
}

enum Plan {
    Untouched,
    Unpriced(UnpricedReason),
    Candidate(u8, CallIdentity, Result<Vec<KeyValue>, UnpricedReason>),
}

fn unpriced(reason: UnpricedReason) -> Vec<KeyValue> {
    vec![attributes::string(
        attributes::UNPRICED_REASON,
        reason.as_str(),
    )]
}

fn reason_of(attribute: &KeyValue) -> Option<UnpricedReason> {
    match attribute.value.as_ref()?.value.as_ref()? {
        Value::StringValue(text) => UnpricedReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == text),
        _ => None,
    }
}

fn string_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(text) => Some(text.as_str()),
            _ => None,
        }
    })
}

/// The UTC date a span started; today for spans without a start time.
fn span_date(span: &Span) -> ConfigDate {
    match span.start_time_unix_nano {
        0 => ConfigDate::today(),
        nanos => ConfigDate::from_unix_nanos(nanos),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests;
