//! Checks of the receiver limits and the memory limiter that the schema alone cannot express:
//! ranges, and values that only make sense together. Errors name the key.

use super::{invalid, ConfigError};
use crate::config::{
    AdmissionConfig, Config, GrpcReceiverConfig, HttpReceiverConfig, MemoryLimiterConfig,
};
use std::time::Duration;

const GRPC: &str = "receivers.otlp.protocols.grpc";
const HTTP: &str = "receivers.otlp.protocols.http";

pub(super) fn validate_limits(config: &Config) -> Result<(), ConfigError> {
    let otlp = &config.receivers.otlp;
    validate_grpc(&otlp.protocols.grpc)?;
    validate_http(&otlp.protocols.http)?;
    validate_admission(&otlp.admission, config)?;
    validate_memory_limiter(&config.memory_limiter)
}

fn at_least(
    key: String,
    value: Duration,
    minimum: Duration,
    text: &str,
) -> Result<(), ConfigError> {
    if value < minimum {
        return Err(invalid(&key, format!("must be at least {text}")));
    }
    Ok(())
}

fn validate_max_connections(prefix: &str, value: Option<usize>) -> Result<(), ConfigError> {
    match value {
        Some(count) if !(1..=1_000_000).contains(&count) => Err(invalid(
            &format!("{prefix}.max_connections"),
            "must be 1 to 1000000 (leave it out to derive it from the file-descriptor limit)",
        )),
        _ => Ok(()),
    }
}

fn validate_grpc(grpc: &GrpcReceiverConfig) -> Result<(), ConfigError> {
    if !(1..=10_000).contains(&grpc.max_concurrent_streams) {
        return Err(invalid(
            &format!("{GRPC}.max_concurrent_streams"),
            "must be 1 to 10000",
        ));
    }
    validate_max_connections(GRPC, grpc.max_connections)?;
    let ms = Duration::from_millis;
    at_least(
        format!("{GRPC}.read_timeout"),
        grpc.read_timeout.0,
        ms(100),
        "100ms",
    )?;
    let server = &grpc.keepalive.server_parameters;
    let key = |name: &str| format!("{GRPC}.keepalive.server_parameters.{name}");
    for (name, value) in [
        ("max_connection_idle", server.max_connection_idle.0),
        ("max_connection_age", server.max_connection_age.0),
        ("time", server.time.0),
    ] {
        // Zero turns these off; anything else must be long enough to let a call through.
        if !value.is_zero() {
            at_least(key(name), value, ms(100), "100ms (or 0s for never)")?;
        }
    }
    if !server.time.0.is_zero() {
        at_least(key("timeout"), server.timeout.0, ms(100), "100ms")?;
    }
    if !server.max_connection_age_grace.0.is_zero() && server.max_connection_age.0.is_zero() {
        return Err(invalid(
            &key("max_connection_age_grace"),
            "needs max_connection_age",
        ));
    }
    Ok(())
}

fn validate_http(http: &HttpReceiverConfig) -> Result<(), ConfigError> {
    validate_max_connections(HTTP, http.max_connections)?;
    let minimum = Duration::from_millis(100);
    for (name, value) in [
        ("read_header_timeout", http.read_header_timeout.0),
        ("read_timeout", http.read_timeout.0),
        ("idle_timeout", http.idle_timeout.0),
    ] {
        at_least(format!("{HTTP}.{name}"), value, minimum, "100ms")?;
    }
    Ok(())
}

fn validate_admission(admission: &AdmissionConfig, config: &Config) -> Result<(), ConfigError> {
    let key = |name: &str| format!("receivers.otlp.admission.{name}");
    let limit = admission.request_limit_mib.0;
    let protocols = &config.receivers.otlp.protocols;
    // One request holds its bytes as sent and, compressed, as inflated: up to twice the largest
    // size a receiver accepts.
    let largest = 2 * protocols
        .grpc
        .max_recv_msg_size_mib
        .0
        .max(protocols.http.max_request_body_size_mib.0);
    let reserve = admission.small_request_reserve_mib.0;
    if reserve >= limit {
        return Err(invalid(
            &key("small_request_reserve_mib"),
            "must be less than request_limit_mib",
        ));
    }
    if limit - reserve < largest {
        return Err(invalid(
            &key("request_limit_mib"),
            format!(
                "{} MiB less the small requests' reserve of {} MiB is less than what the largest request the receivers accept holds as sent and decompressed ({} MiB): such a request could never be admitted",
                limit >> 20,
                reserve >> 20,
                largest >> 20
            ),
        ));
    }
    if admission.per_connection_limit_mib.0 > limit {
        return Err(invalid(
            &key("per_connection_limit_mib"),
            "must not exceed request_limit_mib",
        ));
    }
    if admission.per_connection_limit_mib.0 < largest {
        return Err(invalid(
            &key("per_connection_limit_mib"),
            format!(
                "{} MiB is less than what the largest request the receivers accept holds as sent and decompressed ({} MiB): such a request could never be admitted",
                admission.per_connection_limit_mib.0 >> 20,
                largest >> 20
            ),
        ));
    }
    if admission.wait_timeout.0 > Duration::from_secs(60) {
        return Err(invalid(&key("wait_timeout"), "must be at most 60s"));
    }
    Ok(())
}

fn validate_memory_limiter(limiter: &MemoryLimiterConfig) -> Result<(), ConfigError> {
    let key = |name: &str| format!("memory_limiter.{name}");
    if limiter.limit_mib > 0 && limiter.limit_percentage > 0 {
        return Err(invalid(
            &key("limit_mib"),
            "set either limit_mib or limit_percentage, not both",
        ));
    }
    if limiter.limit_percentage > 100 || limiter.spike_limit_percentage > 100 {
        return Err(invalid(
            &key("limit_percentage"),
            "percentages must be 0 to 100",
        ));
    }
    if limiter.limit_mib > 0 && limiter.spike_limit_mib >= limiter.limit_mib {
        return Err(invalid(
            &key("spike_limit_mib"),
            "must be less than limit_mib",
        ));
    }
    if limiter.limit_percentage > 0 && limiter.spike_limit_percentage >= limiter.limit_percentage {
        return Err(invalid(
            &key("spike_limit_percentage"),
            "must be less than limit_percentage",
        ));
    }
    if limiter.enabled() {
        let interval = limiter.check_interval.0;
        if interval < Duration::from_millis(10) || interval > Duration::from_secs(60) {
            return Err(invalid(&key("check_interval"), "must be 10ms to 60s"));
        }
    }
    Ok(())
}
