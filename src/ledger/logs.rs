//! The ledger as OTLP log records, for a log store that keeps it at scale: one record per model
//! call, under a resource with the app's `service.name`, carrying the call's trace and span id,
//! the ledger's JSON line as its body (amounts exact), and attributes named as on the span
//! (`gen_ai.usage.*` counts, `gen_ai.usage.cost.*` as doubles, the call's dimensions and
//! attribution keys) to filter and sum on.

use super::entry::LedgerEntry;
use crate::metrics::CallRecord;
use crate::pricing::attributes as names;
use crate::pricing::attributes::decimal_to_f64;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The records' event name and instrumentation scope.
pub const EVENT_NAME: &str = "genai_cost_agent.ledger.call";
pub const SCOPE: &str = "genai-cost-agent/ledger";

/// The log request of `records` (priced in `currency`): one resource per service.
pub fn request(records: &[CallRecord], currency: &str) -> ExportLogsServiceRequest {
    let observed = crate::metrics::unix_nanos_now();
    let mut by_service: BTreeMap<Option<&str>, Vec<LogRecord>> = BTreeMap::new();
    for record in records {
        let service = record.dimension("service.name");
        by_service
            .entry(service)
            .or_default()
            .push(log_record(record, currency, observed));
    }
    ExportLogsServiceRequest {
        resource_logs: by_service
            .into_iter()
            .map(|(service, log_records)| ResourceLogs {
                resource: Some(Resource {
                    attributes: service
                        .map(|service| vec![text("service.name", service)])
                        .unwrap_or_default(),
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: SCOPE.into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    log_records,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

fn log_record(record: &CallRecord, currency: &str, observed: u64) -> LogRecord {
    let entry = LedgerEntry::of(record, currency);
    let mut attributes: Vec<KeyValue> = record
        .dimensions
        .iter()
        .filter(|(key, _)| &**key != "service.name")
        .map(|(key, value)| text(key, value))
        .collect();
    if let Some(usage) = &record.usage {
        for (key, count) in [
            ("gen_ai.usage.input_tokens", usage.input),
            ("gen_ai.usage.output_tokens", usage.output),
            ("gen_ai.usage.cache_read.input_tokens", usage.cache_read),
            (
                "gen_ai.usage.cache_creation.input_tokens",
                usage.cache_write(),
            ),
        ] {
            attributes.push(int(key, count));
        }
    }
    if let Some(cost) = &record.cost {
        for (key, amount) in [
            (names::COST_AMOUNT, cost.total),
            (names::COST_INPUT, cost.input),
            (names::COST_OUTPUT, cost.output),
            (names::COST_CACHE_READ, cost.cache_read),
            (names::COST_CACHE_CREATION, cost.cache_creation),
            (names::COST_TOOLS, cost.tools),
            (names::CACHE_SAVINGS, cost.savings),
        ] {
            attributes.push(double(key, amount));
        }
        attributes.push(text(names::COST_CURRENCY, currency));
    }
    if let Some(price_id) = &record.price_id {
        attributes.push(text(names::PRICE_ID, price_id));
    }
    if let Some(reason) = record.unpriced {
        attributes.push(text(names::UNPRICED_REASON, reason.as_str()));
    }
    LogRecord {
        time_unix_nano: record.span.end_unix_nano,
        observed_time_unix_nano: observed,
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".into(),
        body: serde_json::to_string(&entry).ok().map(|line| AnyValue {
            value: Some(Value::StringValue(line)),
        }),
        attributes,
        trace_id: record.span.trace_id.to_vec(),
        span_id: record.span.span_id.to_vec(),
        event_name: EVENT_NAME.into(),
        ..Default::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    key_value(key, Value::StringValue(value.into()))
}

fn int(key: &str, value: u64) -> KeyValue {
    key_value(
        key,
        Value::IntValue(i64::try_from(value).unwrap_or(i64::MAX)),
    )
}

fn double(key: &str, value: Decimal) -> KeyValue {
    key_value(key, Value::DoubleValue(decimal_to_f64(value)))
}

fn key_value(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}
