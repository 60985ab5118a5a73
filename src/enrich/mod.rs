//! Per request: read each span's usage, decide which spans are priced (model calls, once per
//! call), price them and attach the cost, and describe each model call for the derived metrics.
//! Spans without gen_ai usage pass untouched; the app's own attributes are never changed.

pub mod attributes;
mod duplicates;
pub mod hold;
mod price_memo;
mod records;

pub use duplicates::{CallIdentity, DuplicateTracker, Memory};
pub use records::Dimensions;

use crate::config::{Config, ConfigDate, ExistingCostPolicy, OutputDialect};
use crate::metrics::{CallRecord, CallSpan, Dimension};
use crate::otlp::added::Added;
use crate::otlp::validate::hex;
use crate::otlp::view::{Attributes, SpanView, TraceRequestView};
use crate::pricing::attributes as names;
use crate::pricing::{
    cost_of, Catalog, CatalogCell, CatalogError, CostBreakdown, PriceTime, UnpricedReason,
};
use crate::telemetry::AgentCounters;
use crate::usage::{
    CallFacts, ExistingCost, SemanticsError, Source, SpanUsage, TokenUsage, UsageReader,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use price_memo::PriceMemo;
use records::{Ancestry, Location};
use rust_decimal::Decimal;
use std::sync::Arc;

/// What enrichment did to one request.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EnrichOutcome {
    pub spans: u64,
    pub priced: u64,
    pub unpriced: u64,
    /// One record per model call, for the derived metrics (empty when metrics are off).
    pub records: Vec<CallRecord>,
    /// Priced spans missing attribution keys whose ancestors are outside this request.
    pub awaiting: Vec<Awaiting>,
}

/// A priced span that could still learn attribution keys from ancestors sent later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awaiting {
    pub location: (usize, usize, usize),
    /// Index of the span's record in [`EnrichOutcome::records`].
    pub record: usize,
    pub missing: Vec<String>,
}

/// What enrichment decided for one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanOutcome {
    Untouched,
    Priced,
    Unpriced(UnpricedReason),
}

/// A priced call: the cost and the id of the price used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedCall {
    pub cost: CostBreakdown,
    pub price_id: String,
}

/// Why the enricher the configuration describes cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum EnricherError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Usage(#[from] SemanticsError),
}

/// Prices spans against one catalog.
pub struct Enricher {
    /// The catalog in force (replaced whole when its files change).
    catalog: Arc<CatalogCell>,
    reader: UsageReader,
    duplicates: Option<DuplicateTracker>,
    existing_cost: ExistingCostPolicy,
    output_dialects: Vec<OutputDialect>,
    /// Dimensions of the derived metrics; `None` when metrics are off.
    dimensions: Option<Dimensions>,
}

/// A model call as the metrics will see it, before its cost is settled.
#[derive(Clone)]
struct CallDraft {
    span: CallSpan,
    usage: Option<TokenUsage>,
    dimensions: Vec<Dimension>,
}

/// A priced call: the cost attributes to add, the cost and the price it came from (none for a
/// cost the span reported itself).
struct Charge {
    attributes: Vec<Added>,
    cost: CostBreakdown,
    price_id: Option<String>,
}

/// What a span's own attributes say about its price.
enum Pricing {
    Priced(Charge),
    Unpriced(UnpricedReason),
    /// A model call that reports no usage: nothing to add, but it counts as a request.
    NoUsage,
}

impl From<Result<Charge, UnpricedReason>> for Pricing {
    fn from(result: Result<Charge, UnpricedReason>) -> Self {
        match result {
            Ok(charge) => Pricing::Priced(charge),
            Err(reason) => Pricing::Unpriced(reason),
        }
    }
}

/// What happens to one span once duplicates are settled.
struct Decision {
    attributes: Vec<Added>,
    outcome: SpanOutcome,
    record: Option<CallRecord>,
}

/// The decision for one span with usage, before duplicates are settled.
struct Plan {
    location: Location,
    precision: u8,
    identity: Option<CallIdentity>,
    pricing: Pricing,
    /// Usage and dimensions for the metrics; `None` for spans that are not model calls.
    call: Option<CallDraft>,
    duration_seconds: Decimal,
    /// The model name of a span whose model has no price (for the unpriced-by-model count).
    unknown_model: Option<Box<str>>,
}

impl Enricher {
    pub fn new(catalog: Catalog, reader: UsageReader) -> Self {
        Self {
            catalog: Arc::new(CatalogCell::new(catalog)),
            reader,
            duplicates: None,
            existing_cost: ExistingCostPolicy::Compute,
            output_dialects: Vec::new(),
            dimensions: None,
        }
    }

    /// The enricher the configuration describes; `Err` says what is wrong.
    pub fn from_config(config: &Config) -> Result<Self, EnricherError> {
        Ok(Self::configured(
            config,
            Catalog::build(&config.pricing)?,
            UsageReader::from_config(&config.usage)?,
        ))
    }

    /// The enricher the configuration describes, with its catalog and reader built.
    pub fn configured(config: &Config, catalog: Catalog, reader: UsageReader) -> Self {
        let duplicates = &config.usage.duplicates;
        Self {
            catalog: Arc::new(CatalogCell::new(catalog)),
            reader,
            duplicates: duplicates
                .enabled
                .then(|| DuplicateTracker::new(duplicates.window.0, duplicates.max_entries)),
            existing_cost: config.enrich.existing_cost,
            output_dialects: config.enrich.output_dialects.clone(),
            // The ledger and the live page record the same calls as the metrics, with the
            // same dimensions.
            dimensions: config
                .records_calls()
                .then(|| Dimensions::from_config(&config.metrics)),
        }
    }

    /// The catalog in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.current()
    }

    /// Where the catalog in force is kept, for whatever replaces it.
    pub fn catalog_cell(&self) -> &Arc<CatalogCell> {
        &self.catalog
    }

    /// Enriches every span of `request` in place, counts what happened and describes each
    /// model call for the metrics.
    pub fn enrich_request(
        &self,
        request: &mut ExportTraceServiceRequest,
        counters: &AgentCounters,
    ) -> EnrichOutcome {
        let (outcome, additions) = self.enrich(&*request, counters);
        for ((r, s, i), attributes) in additions {
            request.resource_spans[r].scope_spans[s].spans[i]
                .attributes
                .extend(attributes.iter().map(Added::to_key_value));
        }
        outcome
    }

    /// Decides every span of `request`, counts what happened and describes each model call
    /// for the metrics; returns the attributes to add to each span (one entry per span, in
    /// request order).
    pub fn enrich<'a>(
        &self,
        request: impl TraceRequestView<'a>,
        counters: &AgentCounters,
    ) -> (EnrichOutcome, Vec<(Location, Vec<Added>)>) {
        let mut outcome = EnrichOutcome::default();
        let mut plans = Vec::new();
        // One catalog for the whole request, whatever replaces it meanwhile.
        let catalog = self.catalog.current();
        let mut prices = PriceMemo::new(&catalog);
        for r in 0..request.resource_count() {
            let resource = request.resource_attributes(r);
            let sdk_name = resource.str("telemetry.sdk.name");
            for s in 0..request.scope_count(r) {
                let (scope_name, scope_version) = request.scope(r, s);
                let source = Source {
                    scope_name,
                    scope_version,
                    sdk_name,
                };
                for i in 0..request.span_count(r, s) {
                    outcome.spans += 1;
                    let span = request.span((r, s, i));
                    if let Some(plan) = self.plan(span, (r, s, i), &source, resource, &mut prices) {
                        plans.push(plan);
                    }
                }
            }
        }
        if plans.is_empty() {
            return (outcome, Vec::new());
        }
        // The most precise span of a call is decided first, so it is the one priced.
        plans.sort_by_key(|plan| std::cmp::Reverse(plan.precision));
        let mut additions = Vec::with_capacity(plans.len());
        let mut drafts = Vec::new();
        // One lock of the duplicate memory for the whole request.
        let mut memory = self.duplicates.as_ref().and_then(DuplicateTracker::memory);
        // One index of the request's spans, built only if a duplicate check or an attribution
        // key needs to walk up from a span.
        let ancestry = Ancestry::of_request(request);
        for mut plan in plans {
            let location = plan.location;
            let unknown_model = plan.unknown_model.take();
            let is_ancestor =
                |id: duplicates::SpanId| ancestry.has_ancestor(request.span(location), &id);
            let decision = self.decide(memory.as_mut(), plan, is_ancestor);
            match decision.outcome {
                SpanOutcome::Priced => outcome.priced += 1,
                SpanOutcome::Unpriced(reason) => {
                    outcome.unpriced += 1;
                    counters.unpriced(reason);
                    if let Some(model) = unknown_model {
                        counters.unpriced_model(reason, &model);
                    }
                }
                SpanOutcome::Untouched => {}
            }
            if let Some(record) = decision.record {
                drafts.push((location, record));
            }
            additions.push((location, decision.attributes));
        }
        drop(memory);
        if !drafts.is_empty() {
            outcome.awaiting = self.attribute(request, &ancestry, &mut drafts, &mut additions);
        }
        additions.retain(|(_, attributes)| !attributes.is_empty());
        // One entry per span, in request order: its cost, then copied attribution keys.
        additions.sort_by_key(|(location, _)| *location);
        additions.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1.append(&mut later.1);
            }
            same
        });
        counters.priced(outcome.priced);
        outcome.records = drafts.into_iter().map(|(_, record)| record).collect();
        (outcome, additions)
    }

    /// Prices a lone span (outside any request), without duplicate detection or metrics.
    pub fn enrich_span(&self, span: &mut Span, source: &Source<'_>) -> SpanOutcome {
        let no_resource: &[KeyValue] = &[];
        let catalog = self.catalog.current();
        let mut prices = PriceMemo::new(&catalog);
        let Some(plan) = self.plan(&*span, (0, 0, 0), source, no_resource, &mut prices) else {
            return SpanOutcome::Untouched;
        };
        let (attributes, outcome) = match plan.pricing {
            Pricing::NoUsage => return SpanOutcome::Untouched,
            Pricing::Priced(charge) => (charge.attributes, SpanOutcome::Priced),
            Pricing::Unpriced(reason) => (unpriced(reason), SpanOutcome::Unpriced(reason)),
        };
        span.attributes
            .extend(attributes.iter().map(Added::to_key_value));
        outcome
    }

    /// What to do with one span; `None` for spans that are not model calls and carry no usage.
    fn plan<'a>(
        &self,
        span: impl SpanView<'a>,
        location: Location,
        source: &Source<'_>,
        resource: impl Attributes<'a>,
        prices: &mut PriceMemo<'a, '_>,
    ) -> Option<Plan> {
        let dimensions = |facts: &CallFacts<'_>| {
            self.dimensions
                .as_ref()
                .map(|dimensions| dimensions.of_call(facts, span, resource))
        };
        if !span.may_carry_gen_ai() {
            return None;
        }
        let usage = self.reader.read(span.attributes(), span.name(), source);
        // Most spans carry no usage: they are decided by the one walk over their attributes.
        if matches!(usage, SpanUsage::Absent) || names::already_enriched(span.attributes()) {
            return None;
        }
        // Nanoseconds as seconds: the same digits, nine of them after the point.
        let duration_seconds = Decimal::from_i128_with_scale(
            i128::from(
                span.end_time_unix_nano()
                    .saturating_sub(span.start_time_unix_nano()),
            ),
            9,
        );
        let bare = |pricing| Plan {
            location,
            precision: 0,
            identity: None,
            pricing,
            call: None,
            duration_seconds,
            unknown_model: None,
        };
        match usage {
            SpanUsage::Absent => None,
            SpanUsage::Aggregate => Some(bare(Pricing::Unpriced(UnpricedReason::AggregateSpan))),
            SpanUsage::Invalid => Some(bare(Pricing::Unpriced(UnpricedReason::InvalidUsage))),
            SpanUsage::CallWithoutUsage(facts) => {
                let call = dimensions(&facts).map(|dimensions| CallDraft {
                    span: records::call_span(span),
                    usage: None,
                    dimensions,
                });
                call.map(|call| Plan {
                    call: Some(call),
                    ..bare(Pricing::NoUsage)
                })
            }
            SpanUsage::Present(facts) => {
                let pricing: Pricing = self.cost_attributes(&facts, span, prices).into();
                let unknown_model = match pricing {
                    Pricing::Unpriced(UnpricedReason::UnknownModel) => facts.model.map(Box::from),
                    _ => None,
                };
                Some(Plan {
                    location,
                    precision: facts.precision,
                    identity: Some(CallIdentity {
                        trace_id: duplicates::trace_id(span.trace_id()),
                        span_id: duplicates::span_id(span.span_id()),
                        parent_span_id: (!span.parent_span_id().is_empty())
                            .then(|| duplicates::span_id(span.parent_span_id())),
                        response_id: facts.response_id.map(str::to_string),
                        fingerprint: (facts.usage.input, facts.usage.output),
                        interval: (span.start_time_unix_nano(), span.end_time_unix_nano()),
                    }),
                    pricing,
                    call: dimensions(&facts).map(|dimensions| CallDraft {
                        span: records::call_span(span),
                        usage: Some(facts.usage),
                        dimensions,
                    }),
                    duration_seconds,
                    unknown_model,
                })
            }
        }
    }

    /// The cost attributes of a model-call span and its cost, or why it cannot be priced.
    fn cost_attributes<'a>(
        &self,
        facts: &CallFacts<'a>,
        span: impl SpanView<'a>,
        prices: &mut PriceMemo<'a, '_>,
    ) -> Result<Charge, UnpricedReason> {
        let currency = prices.catalog().currency();
        let (mut attributes, cost, price_id) = match (self.existing_cost, &facts.existing_cost) {
            (ExistingCostPolicy::Trust, Some(existing)) => (
                attributes::provider_cost(existing, currency),
                trusted_cost(existing),
                None,
            ),
            _ => {
                let priced = Self::price_with(
                    prices,
                    facts,
                    PriceTime::started(span.start_time_unix_nano()),
                )?;
                let mut attributes = attributes::local_cost(
                    &facts.usage,
                    &priced.cost,
                    currency,
                    &priced.price_id,
                    facts.semantics.as_str(),
                );
                attributes.extend(attributes::dialect_cost(
                    &self.output_dialects,
                    &priced.cost,
                    span.attributes(),
                ));
                (attributes, priced.cost, Some(priced.price_id))
            }
        };
        if let Some(key) = facts.invalid_existing_cost {
            attributes.push(attributes::string(names::INVALID_EXISTING_COST, key));
        }
        if let Some(highest) = self
            .dimensions
            .as_ref()
            .and_then(|dimensions| dimensions.exceeded(cost.total).last().copied())
        {
            attributes.push(attributes::money(names::THRESHOLD_EXCEEDED, highest));
        }
        Ok(Charge {
            attributes,
            cost,
            price_id,
        })
    }

    /// Prices the call a span describes, at the prices in force at the start of `at` (UTC).
    pub fn price(
        &self,
        facts: &CallFacts<'_>,
        at: ConfigDate,
    ) -> Result<PricedCall, UnpricedReason> {
        self.price_at(facts, PriceTime::day(at))
    }

    /// Prices the call a span describes, at the prices in force at `at`.
    pub fn price_at(
        &self,
        facts: &CallFacts<'_>,
        at: PriceTime,
    ) -> Result<PricedCall, UnpricedReason> {
        Self::price_with(&mut PriceMemo::new(&self.catalog.current()), facts, at)
    }

    /// [`Enricher::price`], with the prices `memo` has resolved for this request.
    fn price_with<'a>(
        memo: &mut PriceMemo<'a, '_>,
        facts: &CallFacts<'a>,
        at: PriceTime,
    ) -> Result<PricedCall, UnpricedReason> {
        let model = facts.model.ok_or(UnpricedReason::MissingModel)?;
        let applied = memo
            .applied(
                model,
                facts.provider.as_deref(),
                facts.server_address,
                at,
                facts.usage.input,
                facts.batch,
            )
            .ok_or(UnpricedReason::UnknownModel)?;
        Ok(PricedCall {
            cost: cost_of(&facts.usage, &applied),
            price_id: applied.price_id,
        })
    }

    /// Settles duplicates: the attributes to add and the call's metrics record.
    fn decide(
        &self,
        memory: Option<&mut Memory<'_>>,
        plan: Plan,
        is_ancestor: impl Fn(duplicates::SpanId) -> bool,
    ) -> Decision {
        let Plan {
            pricing,
            identity,
            call,
            duration_seconds,
            ..
        } = plan;
        // Called once, on whichever path ends: the draft moves into the record.
        let record = move |charged: Option<(CostBreakdown, Option<String>)>,
                           unpriced: Option<UnpricedReason>| {
            call.map(
                |CallDraft {
                     span,
                     usage,
                     dimensions,
                 }| {
                    let (cost, price_id) = charged.unzip();
                    CallRecord {
                        thresholds_exceeded: match (&self.dimensions, &cost) {
                            (Some(configured), Some(cost)) => configured.exceeded(cost.total),
                            _ => Vec::new(),
                        },
                        span,
                        dimensions,
                        usage,
                        cost,
                        price_id: price_id.flatten(),
                        duration_seconds: Some(duration_seconds),
                        unpriced,
                    }
                },
            )
        };
        let unpriced_decision = |reason, record| Decision {
            attributes: unpriced(reason),
            outcome: SpanOutcome::Unpriced(reason),
            record,
        };
        let Charge {
            attributes,
            cost,
            price_id,
        } = match pricing {
            Pricing::Priced(charge) => charge,
            Pricing::Unpriced(
                reason @ (UnpricedReason::AggregateSpan | UnpricedReason::Duplicate),
            ) => return unpriced_decision(reason, None),
            Pricing::Unpriced(reason) => {
                return unpriced_decision(reason, record(None, Some(reason)))
            }
            Pricing::NoUsage => {
                return Decision {
                    attributes: Vec::new(),
                    outcome: SpanOutcome::Untouched,
                    record: record(None, None),
                }
            }
        };
        match memory
            .zip(identity.as_ref())
            .and_then(|(memory, identity)| memory.check_and_remember_within(identity, is_ancestor))
        {
            Some(priced_span) => {
                let mut decision = unpriced_decision(UnpricedReason::Duplicate, None);
                decision
                    .attributes
                    .push(attributes::string(names::DUPLICATE_OF, &hex(&priced_span)));
                decision
            }
            None => Decision {
                attributes,
                outcome: SpanOutcome::Priced,
                record: record(Some((cost, price_id)), None),
            },
        }
    }

    /// Adds the attribution keys to each record's dimensions, copying inherited ones onto spans;
    /// returns the records still missing keys whose ancestors are outside the request.
    fn attribute<'a, R: TraceRequestView<'a>>(
        &self,
        request: R,
        ancestry: &Ancestry<'a, R>,
        drafts: &mut [(Location, CallRecord)],
        additions: &mut Vec<(Location, Vec<Added>)>,
    ) -> Vec<Awaiting> {
        let Some(dimensions) = self
            .dimensions
            .as_ref()
            .filter(|dimensions| !dimensions.attribution_keys.is_empty())
        else {
            return Vec::new();
        };
        let mut awaiting = Vec::new();
        for (index, ((r, s, i), record)) in drafts.iter_mut().enumerate() {
            let resource = request.resource_attributes(*r);
            let span = request.span((*r, *s, *i));
            let mut copied = Vec::new();
            let found =
                records::attribution(&dimensions.attribution_keys, span, ancestry, resource);
            let missing: Vec<String> = dimensions
                .attribution_keys
                .iter()
                .filter(|key| !found.iter().any(|(have, _, _)| have == *key))
                .map(|key| key.to_string())
                .collect();
            for (key, value, inherited) in found {
                if inherited && dimensions.copy_to_span {
                    copied.push(attributes::string(key.to_string(), &value));
                }
                record.dimensions.push((key, value));
            }
            if !copied.is_empty() {
                additions.push(((*r, *s, *i), copied));
            }
            if !missing.is_empty() && ancestry.leaves_request(span) {
                awaiting.push(Awaiting {
                    location: (*r, *s, *i),
                    record: index,
                    missing,
                });
            }
        }
        awaiting
    }
}

/// A provider-reported cost as a breakdown (only what the span says).
fn trusted_cost(existing: &ExistingCost) -> CostBreakdown {
    let exact = |value: f64| Decimal::from_f64_retain(value).unwrap_or_default();
    CostBreakdown {
        input: existing.prompt.map(exact).unwrap_or_default(),
        output: existing.completion.map(exact).unwrap_or_default(),
        total: exact(existing.total),
        ..CostBreakdown::default()
    }
}

fn unpriced(reason: UnpricedReason) -> Vec<Added> {
    vec![attributes::string(names::UNPRICED_REASON, reason.as_str())]
}

#[cfg(test)]
mod tests;
