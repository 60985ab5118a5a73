//! A gRPC codec for compressed sends of already encoded OTLP requests — a batch's requests
//! written one after the other into the message, which makes them one request — so a batch is
//! encoded once however many times it is retried; it decodes the export response's partial
//! success.

use bytes::{BufMut, Bytes};
use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// The shape shared by the three OTLP export responses: field 1 is the partial success, whose
/// field 1 counts rejected items and field 2 says why.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<PartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

pub struct RawEncoder;
pub struct ResponseDecoder;

impl Codec for RawCodec {
    type Encode = Vec<Bytes>;
    type Decode = ExportResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        ResponseDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<Bytes>;
    type Error = Status;

    fn encode(&mut self, parts: Vec<Bytes>, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(parts.iter().map(Bytes::len).sum());
        for part in parts {
            buf.put(part);
        }
        Ok(())
    }
}

impl Decoder for ResponseDecoder {
    type Item = ExportResponse;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<ExportResponse>, Status> {
        ExportResponse::decode(buf)
            .map(Some)
            .map_err(|err| Status::internal(format!("undecodable export response: {err}")))
    }
}
