//! The receiving stage: OTLP over gRPC and HTTP, transport only. Both hand each request to the
//! pipeline's [`Intake`]; a full queue there becomes a retryable answer to the sender. The
//! transport under them (connection limits, timeouts, the admission budget, the memory
//! limiter) is shared by both protocols.

mod admission;
mod auth;
mod codec;
mod connection;
mod descriptors;
mod grpc;
mod http;
mod memory_limiter;
mod pings;
mod rejection;
mod serve;
mod telemetry_endpoint;
mod tls;

use crate::otlp::validate;
pub use crate::otlp::validate::InvalidRequest;
pub use admission::{Admission, AdmissionLimits};
pub use auth::{check_token_file, BearerAuth, TokenFileError};
pub use connection::{CloseReason, Connection, ConnectionTimeouts};
pub use descriptors::{
    descriptor_plan, raise_descriptor_limit, DescriptorPlan, TELEMETRY_CONNECTIONS,
};
pub use grpc::{serve_grpc, GrpcReceiver};
pub use http::{serve_http, HttpReceiver};
pub use memory_limiter::{resident_bytes, LimiterError, MemoryLimiter};
pub use pings::PingPolicy;
pub use serve::{serve, Handler, Http2Limits, Responding, ServeLimits};
pub use telemetry_endpoint::serve_telemetry;
pub use tls::{ReceiverTls, ServerTls};

/// An error of any kind, as bodies and services pass them on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

use crate::otlp::scan::{self, ScanError};
use crate::otlp::Signal;
use crate::otlp::{EncodedRequest, Payload};
use crate::pipeline::{Intake, Request, ScannedTraces};
use crate::telemetry::AgentCounters;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::sync::Arc;
use std::time::Duration;

/// What each receiver needs besides its listener and its protocol's own settings.
pub struct ReceiverCommon {
    pub intake: Arc<Intake>,
    pub counters: Arc<AgentCounters>,
    pub admission: Arc<Admission>,
    /// How long a request's message or body may take to arrive.
    pub read_timeout: Duration,
    pub limits: ServeLimits,
    /// Bearer tokens a request must present, if any.
    pub auth: Option<Arc<BearerAuth>>,
}

/// An OTLP export request type, tied to its signal and its response.
pub trait SignalRequest:
    prost::Message + serde::de::DeserializeOwned + Default + Send + 'static
{
    type Response: prost::Message + serde::Serialize + Default;
    fn into_payload(self) -> Payload;
    /// Refuses what a backend's decoder would refuse (see [`validate`]).
    fn check(&self) -> Result<(), InvalidRequest>;
    /// Validates protobuf bytes of this request without decoding them: what prost and
    /// [`validate`] refuse is refused (see [`crate::otlp::scan`]).
    fn scan(bytes: Bytes) -> Result<Request, ScanError>;
}

impl SignalRequest for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Traces(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_traces(self)
    }
    fn scan(bytes: Bytes) -> Result<Request, ScanError> {
        let index = scan::scan_traces(&bytes)?;
        Ok(Request::Traces(ScannedTraces::new(bytes, index)))
    }
}

impl SignalRequest for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Metrics(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_metrics(self)
    }
    fn scan(bytes: Bytes) -> Result<Request, ScanError> {
        let items = scan::scan_metrics(&bytes)?;
        Ok(as_received(Signal::Metrics, items, bytes))
    }
}

impl SignalRequest for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    fn into_payload(self) -> Payload {
        Payload::Logs(self)
    }
    fn check(&self) -> Result<(), InvalidRequest> {
        validate::check_logs(self)
    }
    fn scan(bytes: Bytes) -> Result<Request, ScanError> {
        let items = scan::scan_logs(&bytes)?;
        Ok(as_received(Signal::Logs, items, bytes))
    }
}

/// Metrics or logs, passed on as they arrived.
fn as_received(signal: Signal, items: u64, bytes: Bytes) -> Request {
    Request::AsReceived(EncodedRequest {
        signal,
        items,
        bytes,
    })
}
