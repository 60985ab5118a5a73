//! The answer to an OTLP export: the partial success the three export responses share, read
//! from a gRPC call's message or an HTTP body.

use prost::Message;
use tonic::codec::{DecodeBuf, Decoder};
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

/// Reads the export response of a gRPC call.
pub struct ResponseDecoder;

impl Decoder for ResponseDecoder {
    type Item = ExportResponse;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<ExportResponse>, Status> {
        ExportResponse::decode(buf)
            .map(Some)
            .map_err(|err| Status::internal(format!("undecodable export response: {err}")))
    }
}
