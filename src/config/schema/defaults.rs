//! Default values of the configuration keys.

use crate::config::values::{ConfigDuration, ListenAddress, MebiBytes, Multiplier};
use std::time::Duration;

pub(super) fn yes() -> bool {
    true
}
pub(super) fn four_mib() -> MebiBytes {
    MebiBytes(4 << 20)
}
pub(super) fn default_grpc_endpoint() -> ListenAddress {
    ListenAddress("localhost:4317".into())
}
pub(super) fn default_http_endpoint() -> ListenAddress {
    ListenAddress("localhost:4318".into())
}
pub(super) fn default_telemetry_endpoint() -> ListenAddress {
    ListenAddress("localhost:13133".into())
}
pub(super) fn default_currency() -> String {
    "USD".into()
}
pub(super) fn default_queue_items() -> usize {
    100_000
}
pub(super) fn default_queue_mib() -> u64 {
    256
}
pub(super) fn default_consumers() -> usize {
    4
}
pub(super) fn default_batch_items() -> usize {
    8192
}
/// Well below the 4 MiB a gRPC server (the OpenTelemetry Collector's included) takes by
/// default, and what bounds the memory of the batches in flight: `num_consumers` of them. Under
/// the load benchmark, 1 MiB batches gave a peak RSS ~15 MB lower than 3 MiB ones at the same
/// CPU per span (README, "Load benchmark").
pub(super) fn one_mib() -> MebiBytes {
    MebiBytes(1 << 20)
}
pub(super) fn default_bedrock_regional() -> Multiplier {
    Multiplier(rust_decimal::Decimal::new(11, 1))
}
/// Ten times the largest context window offered today (10M tokens), far below what would
/// make a forged or corrupted count look like real spend.
pub(super) fn default_max_tokens_per_call() -> u64 {
    100_000_000
}
pub(super) fn default_web_search_attributes() -> Vec<String> {
    vec![
        "gen_ai.usage.web_search_requests".into(),
        "anthropic.usage.server_tool_use.web_search_requests".into(),
    ]
}
pub(super) fn default_batch_attribute() -> String {
    "gen_ai.request.batch".into()
}
pub(super) fn default_batch_value() -> String {
    "true".into()
}
pub(super) fn default_duplicate_entries() -> usize {
    100_000
}
pub(super) fn five_minutes() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(300))
}
pub(super) fn zero_seconds() -> ConfigDuration {
    ConfigDuration(Duration::ZERO)
}
pub(super) fn thirty_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(30))
}
pub(super) fn default_multiplier() -> f64 {
    1.5
}
pub(super) fn one_minute() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(60))
}
pub(super) fn one_hour() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(3600))
}
pub(super) fn five_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(5))
}
pub(super) fn default_cardinality_limit() -> usize {
    2000
}
pub(super) fn default_hold_spans() -> usize {
    10_000
}
pub(super) fn sixteen_mib() -> MebiBytes {
    MebiBytes(16 << 20)
}
pub(super) fn default_prometheus_endpoint() -> ListenAddress {
    ListenAddress("localhost:9464".into())
}
pub(super) fn one_second() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(1))
}
pub(super) fn ten_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(10))
}
pub(super) fn two_hundred_ms() -> ConfigDuration {
    ConfigDuration(Duration::from_millis(200))
}
pub(super) fn two_minutes() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(120))
}
pub(super) fn two_hours() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(7200))
}
pub(super) fn twenty_seconds() -> ConfigDuration {
    ConfigDuration(Duration::from_secs(20))
}
pub(super) fn default_concurrent_streams() -> u32 {
    100
}
pub(super) fn default_request_limit() -> MebiBytes {
    MebiBytes(64 << 20)
}
pub(super) fn default_small_request_reserve() -> MebiBytes {
    MebiBytes(16 << 20)
}
pub(super) fn default_waiting_limit() -> MebiBytes {
    MebiBytes(32 << 20)
}
pub(super) fn default_connection_limit() -> MebiBytes {
    MebiBytes(16 << 20)
}
