//! The pipeline's side of the attribution hold: spans awaiting their ancestors leave their
//! request for the hold, later requests resolve them, and released spans are queued as a
//! request of their own.

use super::{wanted, Intake};
use crate::enrich::hold::{HeldSpan, HoldBuffer, Release};
use crate::enrich::{Awaiting, EnrichOutcome};
use crate::metrics::CallRecord;
use crate::otlp::added::Added;
use crate::otlp::view::{Location, SpanView, TraceRequestView};
use crate::otlp::Signal;
use crate::otlp::{EncodedRequest, Payload};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use std::collections::HashSet;
use std::time::Instant;

/// Records of the spans that stay in the request, and held spans ready to go.
pub(super) type Held = (Vec<CallRecord>, Vec<(HeldSpan, Release)>);

impl Intake {
    /// Moves spans awaiting their ancestors from `request` into the hold (as far as it has room),
    /// lets the request's spans resolve earlier held ones, and returns the records of the spans
    /// that stay in the request and the held spans now ready to go.
    pub(super) fn hold_awaiting(
        &self,
        request: &mut ExportTraceServiceRequest,
        outcome: EnrichOutcome,
    ) -> Held {
        let mut moved = HashSet::new();
        let held = self.hold_each(
            outcome,
            |(r, s, i)| {
                let resource_spans = &request.resource_spans[r];
                let scope_spans = &resource_spans.scope_spans[s];
                HeldParts {
                    resource: resource_spans.resource.clone(),
                    resource_schema_url: resource_spans.schema_url.clone(),
                    scope: scope_spans.scope.clone(),
                    scope_schema_url: scope_spans.schema_url.clone(),
                    span: scope_spans.spans[i].clone(),
                }
            },
            |location| {
                moved.insert(location);
            },
        );
        remove_spans(request, &moved);
        self.observe_and_take(&*request, held)
    }

    /// Holds each awaiting span that fits (`parts` gives what it is made of, `moved` learns
    /// which left the request); returns the records of the spans that stay.
    pub(super) fn hold_each(
        &self,
        outcome: EnrichOutcome,
        mut parts: impl FnMut(Location) -> HeldParts,
        mut moved: impl FnMut(Location),
    ) -> Vec<CallRecord> {
        let Some(Ok(mut hold)) = self.hold.as_ref().map(|hold| hold.lock()) else {
            return outcome.records;
        };
        let mut records: Vec<Option<CallRecord>> = outcome.records.into_iter().map(Some).collect();
        for Awaiting {
            location,
            record,
            missing,
        } in outcome.awaiting
        {
            let Some(call) = records[record].clone() else {
                continue;
            };
            let HeldParts {
                resource,
                resource_schema_url,
                scope,
                scope_schema_url,
                span,
            } = parts(location);
            let held = HeldSpan::new(
                resource,
                resource_schema_url,
                scope,
                scope_schema_url,
                span,
                call,
                missing,
            );
            match hold.hold(held) {
                Ok(()) => {
                    moved(location);
                    records[record] = None;
                    self.counters.held();
                }
                Err(_) => self.counters.hold_full(),
            }
        }
        records.into_iter().flatten().collect()
    }

    /// Lets the spans of `request` resolve held ones; returns `kept` and what is ready to go.
    pub(super) fn observe_and_take<'a>(
        &self,
        request: impl TraceRequestView<'a>,
        kept: Vec<CallRecord>,
    ) -> Held {
        self.observe_and_take_spans(
            request.spans().map(|(_, span)| (span, &[][..] as &[Added])),
            kept,
        )
    }

    /// Like [`Intake::observe_and_take`], for some of a request's spans, each with the
    /// attributes enrichment adds to it.
    pub(super) fn observe_and_take_spans<'a, 'b>(
        &self,
        spans: impl Iterator<Item = (impl SpanView<'a>, &'b [Added])>,
        kept: Vec<CallRecord>,
    ) -> Held {
        let Some(Ok(mut hold)) = self.hold.as_ref().map(|hold| hold.lock()) else {
            return (kept, Vec::new());
        };
        hold.observe_spans(spans);
        let ready = hold.take_ready(Instant::now(), false);
        (kept, ready)
    }

    /// Sends held spans whose wait is over; all of them with `everything` (at shutdown).
    pub fn release_due(&self, everything: bool) {
        let ready = match self.hold.as_ref().map(|hold| hold.lock()) {
            Some(Ok(mut hold)) => hold.take_ready(Instant::now(), everything),
            _ => return,
        };
        self.release(ready, everything);
    }

    /// Queues released spans as one request and records their metrics. When the queue is full
    /// they go back into the hold for the next attempt (at shutdown they are counted as lost).
    pub(super) fn release(&self, ready: Vec<(HeldSpan, Release)>, shutting_down: bool) {
        if ready.is_empty() {
            return;
        }
        let count = ready.len() as u64;
        let payload = Payload::Traces(as_request(&ready));
        match self
            .reserve(Signal::Traces, wanted(&payload))
            .and_then(|reservations| self.send(reservations, EncodedRequest::encode_owned(payload)))
        {
            // Nobody waits for held spans: a persistent queue's writer counts its own failures.
            Ok(_) => {
                for (_, release) in &ready {
                    self.counters.released(*release);
                }
                let records: Vec<CallRecord> =
                    ready.into_iter().map(|(held, _)| held.record).collect();
                self.record(records);
            }
            Err(_) if shutting_down => {
                self.counters.send_failed(Signal::Traces, count);
                tracing::error!("{count} held spans could not be queued at shutdown and are lost");
            }
            Err(_) => self.put_back(ready),
        }
    }

    fn put_back(&self, ready: Vec<(HeldSpan, Release)>) {
        let Some(Ok(mut hold)) = self.hold.as_ref().map(|hold| hold.lock()) else {
            return;
        };
        for (held, _) in ready {
            if HoldBuffer::put_back(&mut hold, held).is_err() {
                self.counters.send_failed(Signal::Traces, 1);
                tracing::warn!("a held span was dropped: the export queue and the hold are full");
            }
        }
    }
}

/// What a held span is made of, however its request was held.
pub(super) struct HeldParts {
    pub resource: Option<opentelemetry_proto::tonic::resource::v1::Resource>,
    pub resource_schema_url: String,
    pub scope: Option<opentelemetry_proto::tonic::common::v1::InstrumentationScope>,
    pub scope_schema_url: String,
    pub span: opentelemetry_proto::tonic::trace::v1::Span,
}

/// Released spans as one request, each under its own resource and scope.
fn as_request(ready: &[(HeldSpan, Release)]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: ready
            .iter()
            .map(|(held, _)| ResourceSpans {
                resource: held.resource.clone(),
                schema_url: held.resource_schema_url.clone(),
                scope_spans: vec![ScopeSpans {
                    scope: held.scope.clone(),
                    spans: vec![held.span.clone()],
                    schema_url: held.scope_schema_url.clone(),
                }],
            })
            .collect(),
    }
}

/// Removes the spans at `locations` from `request`.
fn remove_spans(request: &mut ExportTraceServiceRequest, locations: &HashSet<Location>) {
    if locations.is_empty() {
        return;
    }
    for (r, resource_spans) in request.resource_spans.iter_mut().enumerate() {
        for (s, scope_spans) in resource_spans.scope_spans.iter_mut().enumerate() {
            let mut index = 0;
            scope_spans.spans.retain(|_| {
                let keep = !locations.contains(&(r, s, index));
                index += 1;
                keep
            });
        }
    }
}
