//! Per span: read usage, find the price, compute the cost, attach it. Spans without gen_ai usage
//! pass untouched; the app's own attributes are never changed or removed.

pub mod attributes;

use crate::pricing::{cost_of, Catalog};
use crate::telemetry::{AgentCounters, UnpricedReason};
use crate::usage::{read_usage, SpanUsage};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

/// What enrichment did to one request.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EnrichOutcome {
    pub spans: u64,
    pub priced: u64,
    pub unpriced: u64,
}

/// Prices spans against one catalog.
pub struct Enricher {
    catalog: Catalog,
}

impl Enricher {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    /// Enriches every span of `request` in place and counts what happened.
    pub fn enrich_request(
        &self,
        request: &mut ExportTraceServiceRequest,
        counters: &AgentCounters,
    ) -> EnrichOutcome {
        let mut outcome = EnrichOutcome::default();
        let spans = request
            .resource_spans
            .iter_mut()
            .flat_map(|resource| resource.scope_spans.iter_mut())
            .flat_map(|scope| scope.spans.iter_mut());
        for span in spans {
            outcome.spans += 1;
            match self.enrich_span(span) {
                SpanOutcome::Priced => outcome.priced += 1,
                SpanOutcome::Unpriced(reason) => {
                    outcome.unpriced += 1;
                    counters.unpriced(reason);
                }
                SpanOutcome::Untouched => {}
            }
        }
        counters.priced(outcome.priced);
        outcome
    }

    /// Prices one span, adding attributes; returns what it did.
    pub fn enrich_span(&self, span: &mut Span) -> SpanOutcome {
        if attributes::already_enriched(&span.attributes) {
            return SpanOutcome::Untouched;
        }
        let priced = match read_usage(&span.attributes) {
            SpanUsage::Absent => return SpanOutcome::Untouched,
            SpanUsage::Invalid => Err(UnpricedReason::InvalidUsage),
            SpanUsage::Present { model: None, .. } => Err(UnpricedReason::MissingModel),
            SpanUsage::Present {
                model: Some(model),
                usage,
            } => match self.catalog.lookup(model) {
                Some(price) => Ok((cost_of(&usage, price), price.id.clone())),
                None => Err(UnpricedReason::UnknownModel),
            },
        };
        match priced {
            Ok((cost, price_id)) => {
                attributes::push_cost(
                    &mut span.attributes,
                    &cost,
                    self.catalog.currency(),
                    &price_id,
                );
                SpanOutcome::Priced
            }
            Err(reason) => {
                attributes::push_unpriced(&mut span.attributes, reason.as_str());
                SpanOutcome::Unpriced(reason)
            }
        }
    }
}

/// What enrichment did to one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanOutcome {
    Untouched,
    Priced,
    Unpriced(UnpricedReason),
}

#[cfg(test)]
mod tests;
