//! OTLP on its wire bytes: a validating scan that refuses what prost would refuse and indexes
//! where the spans are, zero-copy views of what the pipeline reads, and the splice that appends
//! attributes to spans without decoding and encoding the rest; and the request kinds themselves
//! (the three signals, a decoded request, a request encoded once).

pub mod added;
pub mod decoded;
mod draining;
pub mod fields;
pub mod index;
mod payload;
pub mod retry_info;
pub mod scan;
pub mod schema;
pub mod splice;
pub mod text;
pub mod validate;
pub mod view;
pub mod wire;
pub mod wire_view;

pub use payload::{EncodedRequest, Payload, Signal};
pub use retry_info::{retry_delay, status_with_retry_info};
