//! A batch as it is sent: the encoded requests it holds, each still in the buffer it was
//! queued in. Encoded OTLP export requests of one signal concatenate into one valid request, so
//! the batch is sent as its parts one after the other (gRPC sends them as frames of the message
//! body when uncompressed, and into one message to compress otherwise; HTTP, which compresses a
//! body, joins them first), and any run of whole requests is itself a valid batch: a batch the
//! backend refuses for good is split into halves (down to single requests) without copying or
//! decoding.

use crate::otlp::EncodedRequest;
use crate::otlp::Signal;
use bytes::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    signal: Signal,
    /// The requests, in order, with their items.
    parts: Vec<(Bytes, u64)>,
}

impl Batch {
    /// One batch holding every request of `parts` (all of one signal), in order.
    pub fn join(signal: Signal, parts: Vec<EncodedRequest>) -> Self {
        Self {
            signal,
            parts: parts
                .into_iter()
                .map(|part| (part.bytes, part.items))
                .collect(),
        }
    }

    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// Spans, data points or log records in the batch.
    pub fn items(&self) -> u64 {
        self.parts.iter().map(|(_, items)| items).sum()
    }

    /// How many requests the batch joins.
    pub fn requests(&self) -> usize {
        self.parts.len()
    }

    /// The requests' bytes, in order: together, the batch as one request.
    pub fn parts(&self) -> Vec<Bytes> {
        self.parts.iter().map(|(bytes, _)| bytes.clone()).collect()
    }

    /// The whole batch as one request in one buffer (copied unless it holds one request).
    pub fn request(&self) -> EncodedRequest {
        let bytes = match self.parts.as_slice() {
            [(only, _)] => only.clone(),
            parts => {
                let length = parts.iter().map(|(bytes, _)| bytes.len()).sum();
                let mut joined = bytes::BytesMut::with_capacity(length);
                for (bytes, _) in parts {
                    joined.extend_from_slice(bytes);
                }
                joined.freeze()
            }
        };
        EncodedRequest {
            signal: self.signal,
            items: self.items(),
            bytes,
        }
    }

    /// The first half of the requests and the rest, or `None` for a batch of one request.
    pub fn halves(&self) -> Option<(Batch, Batch)> {
        if self.parts.len() < 2 {
            return None;
        }
        let (first, second) = self.parts.split_at(self.parts.len() / 2);
        let half = |parts: &[(Bytes, u64)]| Batch {
            signal: self.signal,
            parts: parts.to_vec(),
        };
        Some((half(first), half(second)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::Payload;
    use crate::test_support::traces_request;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use prost::Message;

    fn request_of(ids: std::ops::Range<u8>) -> EncodedRequest {
        let spans = ids
            .map(|id| Span {
                trace_id: vec![1; 16],
                span_id: vec![id; 8],
                name: format!("span {id}"),
                ..Default::default()
            })
            .collect();
        EncodedRequest::encode(&Payload::Traces(traces_request(spans)))
    }

    fn span_names(batch: &Batch) -> Vec<String> {
        ExportTraceServiceRequest::decode(&batch.request().bytes[..])
            .unwrap()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .flat_map(|scope| &scope.spans)
            .map(|span| span.name.clone())
            .collect()
    }

    #[test]
    fn a_joined_batch_decodes_to_every_request_in_order() {
        let batch = Batch::join(
            Signal::Traces,
            vec![request_of(0..2), request_of(2..3), request_of(3..6)],
        );
        assert_eq!(batch.items(), 6);
        assert_eq!(batch.requests(), 3);
        assert_eq!(
            span_names(&batch),
            ["span 0", "span 1", "span 2", "span 3", "span 4", "span 5"]
        );
    }

    #[test]
    fn halves_split_between_whole_requests_and_decode_on_their_own() {
        let parts = vec![
            request_of(0..2),
            request_of(2..3),
            request_of(3..6),
            request_of(6..7),
            request_of(7..9),
        ];
        let batch = Batch::join(Signal::Traces, parts);
        let (first, second) = batch.halves().unwrap();
        assert_eq!((first.requests(), first.items()), (2, 3));
        assert_eq!((second.requests(), second.items()), (3, 6));
        assert_eq!(span_names(&first), ["span 0", "span 1", "span 2"]);
        assert_eq!(
            span_names(&second),
            ["span 3", "span 4", "span 5", "span 6", "span 7", "span 8"]
        );
        let (third, fourth) = second.halves().unwrap();
        assert_eq!(span_names(&third), ["span 3", "span 4", "span 5"]);
        assert_eq!(span_names(&fourth), ["span 6", "span 7", "span 8"]);
        let (fifth, sixth) = fourth.halves().unwrap();
        assert_eq!(span_names(&fifth), ["span 6"]);
        assert_eq!(span_names(&sixth), ["span 7", "span 8"]);
        assert_eq!(fifth.halves(), None);
    }

    #[test]
    fn a_batch_of_one_request_keeps_its_bytes() {
        let only = request_of(0..3);
        let batch = Batch::join(Signal::Traces, vec![only.clone()]);
        assert_eq!(batch.request(), only);
        assert_eq!(batch.halves(), None);
    }
}
