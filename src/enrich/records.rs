//! What the derived metrics need from a request's model calls: the dimensions of each call
//! (operation, provider, models, error type, service, resource keys) and the user's attribution
//! keys, read from the span, else its ancestors in the same request, else its resource.

use crate::config::MetricsConfig;
use crate::metrics::{CallSpan, Dimension, DimensionKey};
use crate::otlp::view::{Attributes, SpanView, TraceRequestView};
use crate::usage::CallFacts;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::cell::OnceCell;

pub use crate::otlp::view::Location;

/// How deep the ancestor walk goes before giving up (cycles in bad data end it too).
const MAX_ANCESTRY: usize = 32;

/// The names of the dimensions every call may have, in their order.
const CALL_KEYS: [&str; 6] = [
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "error.type",
    "service.name",
];

/// The configured dimensions; names are shared by every call's record.
#[derive(Debug, Clone)]
pub struct Dimensions {
    call_keys: [DimensionKey; 6],
    pub resource_keys: Vec<DimensionKey>,
    pub attribution_keys: Vec<DimensionKey>,
    pub copy_to_span: bool,
    /// Ascending.
    pub thresholds: Vec<Decimal>,
}

impl Dimensions {
    pub fn from_config(config: &MetricsConfig) -> Self {
        let mut thresholds: Vec<Decimal> = config
            .cost_thresholds
            .iter()
            .map(|threshold| threshold.0)
            .collect();
        thresholds.sort();
        thresholds.dedup();
        Self {
            call_keys: CALL_KEYS.map(DimensionKey::from),
            resource_keys: shared(&config.resource_keys),
            attribution_keys: shared(&config.attribution.keys),
            copy_to_span: config.attribution.copy_to_span,
            thresholds,
        }
    }

    /// The dimensions a call has on its own: from its span and its resource.
    pub fn of_call<'a>(
        &self,
        facts: &CallFacts<'_>,
        span: impl SpanView<'a>,
        resource: impl Attributes<'a>,
    ) -> Vec<Dimension> {
        let mut dimensions =
            Vec::with_capacity(8 + self.resource_keys.len() + self.attribution_keys.len());
        let mut push = |key: &DimensionKey, value: Option<&str>| {
            if let Some(value) = value {
                dimensions.push((key.clone(), value.to_string()));
            }
        };
        let [operation, provider, request_model, response_model, error, service] = &self.call_keys;
        push(operation, facts.operation);
        push(provider, facts.provider.as_deref());
        push(request_model, facts.request_model);
        push(response_model, facts.response_model);
        push(error, error_type(span).as_deref());
        push(service, resource.str("service.name"));
        for key in &self.resource_keys {
            push(key, resource.str(key));
        }
        dimensions
    }

    /// Thresholds `total` exceeds.
    pub fn exceeded(&self, total: Decimal) -> Vec<Decimal> {
        self.thresholds
            .iter()
            .copied()
            .filter(|threshold| total > *threshold)
            .collect()
    }
}

fn shared(names: &[String]) -> Vec<DimensionKey> {
    names
        .iter()
        .map(|name| DimensionKey::from(name.as_str()))
        .collect()
}

/// `error.type` of a failed call: the attribute, else `_OTHER` when the span status is ERROR.
fn error_type<'a>(span: impl SpanView<'a>) -> Option<String> {
    if let Some(value) = span.attributes().text("error.type") {
        return Some(value);
    }
    let failed = span.status_code() == StatusCode::Error as i32;
    failed.then(|| "_OTHER".to_string())
}

/// Which span describes a call, and when.
pub fn call_span<'a>(span: impl SpanView<'a>) -> CallSpan {
    CallSpan {
        trace_id: span.trace_id().try_into().unwrap_or_default(),
        span_id: span.span_id().try_into().unwrap_or_default(),
        start_unix_nano: span.start_time_unix_nano(),
        end_unix_nano: span.end_time_unix_nano(),
        failed: span.status_code() == StatusCode::Error as i32,
    }
}

/// Spans by (trace id, span id).
type SpansById<'a, S> = FxHashMap<(&'a [u8], &'a [u8]), S>;

/// Spans of one request by id, to walk from a span to its ancestors. The index is built on
/// the first walk: calls that carry every key themselves never need it.
pub struct Ancestry<'a, R: TraceRequestView<'a>> {
    request: R,
    by_id: OnceCell<SpansById<'a, R::Span>>,
}

impl<'a, R: TraceRequestView<'a>> Ancestry<'a, R> {
    pub fn of_request(request: R) -> Self {
        Self {
            request,
            by_id: OnceCell::new(),
        }
    }

    fn by_id(&self) -> &SpansById<'a, R::Span> {
        self.by_id.get_or_init(|| {
            let mut by_id = FxHashMap::default();
            by_id.reserve(self.request.total_spans());
            by_id.extend(
                self.request
                    .spans()
                    .map(|(_, span)| ((span.trace_id(), span.span_id()), span)),
            );
            by_id
        })
    }

    /// Whether the ancestors of `span` leave the request before reaching the trace's root.
    pub fn leaves_request(&self, span: R::Span) -> bool {
        let mut parent = span.parent_span_id();
        for _ in 0..MAX_ANCESTRY {
            if parent.is_empty() {
                return false;
            }
            match self.by_id().get(&(span.trace_id(), parent)) {
                Some(ancestor) => parent = ancestor.parent_span_id(),
                None => return true,
            }
        }
        false
    }

    /// Whether the span `id` is an ancestor of `span` within the request.
    pub fn has_ancestor(&self, span: R::Span, id: &[u8]) -> bool {
        let mut parent = span.parent_span_id();
        for _ in 0..MAX_ANCESTRY {
            if parent.is_empty() {
                return false;
            }
            if parent == id {
                return true;
            }
            match self.by_id().get(&(span.trace_id(), parent)) {
                Some(ancestor) => parent = ancestor.parent_span_id(),
                None => return false,
            }
        }
        false
    }

    /// The value of `key` on the nearest ancestor of `span` that has it.
    pub fn inherited(&self, span: R::Span, key: &str) -> Option<String> {
        let mut parent = span.parent_span_id();
        for _ in 0..MAX_ANCESTRY {
            if parent.is_empty() {
                return None;
            }
            let ancestor = self.by_id().get(&(span.trace_id(), parent))?;
            if let Some(value) = ancestor.attributes().text(key) {
                return Some(value);
            }
            parent = ancestor.parent_span_id();
        }
        None
    }
}

/// Attribution values of one span: (key, value, whether it must be copied onto the span).
pub fn attribution<'a, R: TraceRequestView<'a>>(
    keys: &[DimensionKey],
    span: R::Span,
    ancestry: &Ancestry<'a, R>,
    resource: impl Attributes<'a>,
) -> Vec<(DimensionKey, String, bool)> {
    keys.iter()
        .filter_map(|key| {
            if let Some(own) = span.attributes().text(key) {
                return Some((key.clone(), own, false));
            }
            ancestry
                .inherited(span, key)
                .or_else(|| resource.text(key))
                .map(|value| (key.clone(), value, true))
        })
        .collect()
}
