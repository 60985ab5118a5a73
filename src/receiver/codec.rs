//! The gRPC codec of the OTLP export services: the message's bytes are validated by the scan
//! (not decoded) and handed on as a pipeline [`Request`]; a refusal is the client's
//! (`INVALID_ARGUMENT`, saying what is wrong, counted and logged). A decompressed message's
//! bytes are reserved in the admission budget first.

use super::admission::Ticket;
use super::rejection::Rejections;
use super::SignalRequest;
use crate::otlp::scan::ScanError;
use crate::otlp::status_with_retry_info;
use crate::pipeline::Request;
use bytes::Buf;
use std::marker::PhantomData;
use std::sync::Arc;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

/// What decoding needs to know about its request.
#[derive(Clone)]
pub struct DecodeContext {
    pub ticket: Arc<Ticket>,
    /// The message arrives compressed: its decompressed bytes are new memory.
    pub compressed: bool,
    pub rejections: Arc<Rejections>,
    /// The status of a refusal (`UNAVAILABLE` or `RESOURCE_EXHAUSTED`).
    pub refuse_with: Code,
}

pub struct OtlpCodec<R> {
    context: DecodeContext,
    request: PhantomData<fn() -> R>,
}

impl<R> OtlpCodec<R> {
    pub fn new(context: DecodeContext) -> Self {
        Self {
            context,
            request: PhantomData,
        }
    }
}

pub struct ResponseEncoder<M>(PhantomData<fn(M)>);

pub struct RequestDecoder<R> {
    context: DecodeContext,
    request: PhantomData<fn() -> R>,
}

impl<R: SignalRequest> Codec for OtlpCodec<R> {
    type Encode = R::Response;
    type Decode = Request;
    type Encoder = ResponseEncoder<R::Response>;
    type Decoder = RequestDecoder<R>;

    fn encoder(&mut self) -> Self::Encoder {
        ResponseEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder {
            context: self.context.clone(),
            request: PhantomData,
        }
    }
}

impl<M: prost::Message> Encoder for ResponseEncoder<M> {
    type Item = M;
    type Error = Status;

    fn encode(&mut self, item: M, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf)
            .map_err(|err| Status::internal(format!("encoding the response failed: {err}")))
    }
}

/// `ExportTraceServiceRequest` and the like: the message name without its module path.
fn message_name<R>() -> &'static str {
    let full = std::any::type_name::<R>();
    full.rsplit("::").next().unwrap_or(full)
}

impl<R: SignalRequest> Decoder for RequestDecoder<R> {
    type Item = Request;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Request>, Status> {
        let context = &self.context;
        if context.compressed {
            context
                .ticket
                .try_reserve(buf.remaining())
                .map_err(|overload| {
                    status_with_retry_info(
                        context.refuse_with,
                        &overload.to_string(),
                        overload.retry_after(),
                    )
                })?;
        }
        let bytes = buf.copy_to_bytes(buf.remaining());
        R::scan(bytes).map(Some).map_err(|error| {
            let message = match error {
                ScanError::Invalid(invalid) => invalid.to_string(),
                malformed => format!(
                    "the request is not a valid {} protobuf message: {malformed}",
                    message_name::<R>()
                ),
            };
            context.rejections.reject("gRPC", &message);
            Status::invalid_argument(message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

    #[test]
    fn the_message_name_has_no_module_path() {
        assert_eq!(
            message_name::<ExportTraceServiceRequest>(),
            "ExportTraceServiceRequest"
        );
    }
}
