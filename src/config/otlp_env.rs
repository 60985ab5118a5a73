//! The OTLP exporter's effective settings: the config file first, then the standard
//! `OTEL_EXPORTER_OTLP_*` environment variables (a signal's own variable before the general one),
//! then the specification's defaults. Each signal is resolved on its own.

use super::otlp_tls::{TlsOptions, TlsSettings};
use super::redact::given;
use super::{Compression, ConfigError, OtlpExporterConfig, OtlpProtocol};
use std::time::Duration;

/// Where and how the OTLP exporter sends, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpExporterSettings {
    pub protocol: OtlpProtocol,
    pub compression: Compression,
    /// By signal: traces, metrics, logs.
    pub signals: [SignalSettings; 3],
}

/// How one signal is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalSettings {
    /// gRPC: `http(s)://host:port`; HTTP: the full URL batches are posted to. `None`: no
    /// endpoint, the signal is not sent.
    pub target: Option<String>,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    /// Set when `target` is `https://`.
    pub tls: Option<TlsSettings>,
}

/// A signal as the variables name it, and the path HTTP appends to the general endpoint.
struct SignalVariables {
    name: &'static str,
    path: &'static str,
}

const SIGNALS: [SignalVariables; 3] = [
    SignalVariables {
        name: "TRACES",
        path: "/v1/traces",
    },
    SignalVariables {
        name: "METRICS",
        path: "/v1/metrics",
    },
    SignalVariables {
        name: "LOGS",
        path: "/v1/logs",
    },
];

pub(super) const KEY: &str = "exporters.otlp";

/// An error of the key `exporters.otlp.<field>` (renamed for `otlp/<name>` by the caller).
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{KEY}.{field}"),
        message: message.into(),
    }
}

/// The value of `variable` read as the configuration file reads `field`; the default when unset
/// or blank.
fn from_variable<T: serde::de::DeserializeOwned + Default>(
    env: &impl Fn(&str) -> Option<String>,
    variable: &str,
    field: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    use serde::de::IntoDeserializer;
    match env(variable).as_deref().map(str::trim) {
        None | Some("") => Ok(T::default()),
        Some(value) => {
            T::deserialize(value.into_deserializer()).map_err(|_: serde::de::value::Error| {
                invalid(
                    field,
                    format!("{variable}: {} is not {expected}", given(value)),
                )
            })
        }
    }
}

/// `OTEL_EXPORTER_OTLP_<SIGNAL>_<SUFFIX>`, else `OTEL_EXPORTER_OTLP_<SUFFIX>`: the name of the
/// first one set to something other than blanks, and its value.
pub(super) fn variable(
    env: &impl Fn(&str) -> Option<String>,
    signal: &str,
    suffix: &str,
) -> Option<(String, String)> {
    [
        format!("OTEL_EXPORTER_OTLP_{signal}_{suffix}"),
        format!("OTEL_EXPORTER_OTLP_{suffix}"),
    ]
    .into_iter()
    .find_map(|name| {
        env(&name)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (name, value))
    })
}

/// Resolves the exporter's settings; `None` when no endpoint is configured anywhere.
pub fn resolve_otlp_exporter(
    config: &OtlpExporterConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpExporterSettings>, ConfigError> {
    let endpoint = match &config.endpoint {
        Some(endpoint) => endpoint.trim().to_string(),
        None => env("OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_default()
            .trim()
            .to_string(),
    };
    // Per-signal endpoints apply when the file names no endpoint, and win over the general one.
    let own_endpoints = SIGNALS.map(|signal| match &config.endpoint {
        Some(_) => None,
        None => env(&format!("OTEL_EXPORTER_OTLP_{}_ENDPOINT", signal.name))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty()),
    });
    if endpoint.is_empty() && own_endpoints.iter().all(Option::is_none) {
        return Ok(None);
    }
    let protocol = match config.protocol {
        Some(protocol) => protocol,
        None => from_variable(
            env,
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "protocol",
            "grpc or http/protobuf",
        )?,
    };
    let compression = match config.compression {
        Some(compression) => compression,
        None => from_variable(
            env,
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "compression",
            "gzip, zstd or none",
        )?,
    };
    let [traces, metrics, logs] = [0, 1, 2].map(|index| {
        let endpoint = match &own_endpoints[index] {
            Some(own) => Endpoint::Own(own),
            None if endpoint.is_empty() => Endpoint::None,
            None => Endpoint::General(&endpoint),
        };
        resolve_signal(config, env, &SIGNALS[index], endpoint, protocol)
    });
    Ok(Some(OtlpExporterSettings {
        protocol,
        compression,
        signals: [traces?, metrics?, logs?],
    }))
}

/// The endpoint a signal is sent to, as written.
enum Endpoint<'a> {
    /// From `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`: for HTTP the full URL.
    Own(&'a str),
    /// The exporter's: for HTTP the base URL.
    General(&'a str),
    None,
}

fn resolve_signal(
    config: &OtlpExporterConfig,
    env: &impl Fn(&str) -> Option<String>,
    signal: &SignalVariables,
    endpoint: Endpoint,
    protocol: OtlpProtocol,
) -> Result<SignalSettings, ConfigError> {
    let tls = TlsOptions::resolve(config.tls.as_ref(), env, signal.name)?;
    let scheme = tls.default_scheme();
    let target = match endpoint {
        Endpoint::Own(own) => Some(normalise_signal_endpoint(own, protocol, scheme)?),
        Endpoint::General(general) => {
            let base = normalise_endpoint(general, protocol, scheme)?;
            Some(match protocol {
                OtlpProtocol::HttpProtobuf => format!("{base}{}", signal.path),
                OtlpProtocol::Grpc => base,
            })
        }
        Endpoint::None => None,
    };
    let tls = match &target {
        Some(target) => tls.for_target(target)?,
        None => None,
    };
    Ok(SignalSettings {
        target,
        headers: resolve_headers(config, env, signal.name)?,
        timeout: resolve_timeout(config, env, signal.name)?,
        tls,
    })
}

/// The file's timeout, else the signal's variable, else the general one, else 10 s.
fn resolve_timeout(
    config: &OtlpExporterConfig,
    env: &impl Fn(&str) -> Option<String>,
    signal: &str,
) -> Result<Duration, ConfigError> {
    let timeout = match (config.timeout, variable(env, signal, "TIMEOUT")) {
        (Some(timeout), _) => timeout.0,
        (None, Some((name, ms))) => Duration::from_millis(ms.trim().parse().map_err(|_| {
            invalid(
                "timeout",
                format!("{name}=`{ms}` is not a number of milliseconds"),
            )
        })?),
        (None, None) => Duration::from_secs(10),
    };
    if timeout.is_zero() {
        return Err(invalid("timeout", "must be longer than zero"));
    }
    Ok(timeout)
}

/// The signal's header variable (else the general one), with the file's headers over it by name.
fn resolve_headers(
    config: &OtlpExporterConfig,
    env: &impl Fn(&str) -> Option<String>,
    signal: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut headers = match variable(env, signal, "HEADERS") {
        Some((name, list)) => parse_header_list(&name, &list)?,
        None => Vec::new(),
    };
    for (name, value) in &config.headers {
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    for (name, value) in &headers {
        check_header(name, value)?;
    }
    Ok(headers)
}

/// `scheme://host:port[/path]` without a trailing slash; `default_scheme` when none is written.
fn normalise_endpoint(
    endpoint: &str,
    protocol: OtlpProtocol,
    default_scheme: &str,
) -> Result<String, ConfigError> {
    let with_scheme = if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.to_string()
    } else if endpoint.contains("://") {
        return Err(invalid(
            "endpoint",
            format!(
                "{}: the scheme must be http:// or https://",
                given(endpoint)
            ),
        ));
    } else {
        format!("{default_scheme}://{endpoint}")
    };
    let uri: http::Uri = with_scheme.parse().map_err(|err| {
        invalid(
            "endpoint",
            format!("{} is not a URL: {err}", given(endpoint)),
        )
    })?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(
            "endpoint",
            format!("{} has no host", given(endpoint)),
        ));
    }
    let trimmed = with_scheme.trim_end_matches('/').to_string();
    if protocol == OtlpProtocol::Grpc && uri.path() != "/" && !uri.path().is_empty() {
        return Err(invalid(
            "endpoint",
            format!("{}: a gRPC endpoint has no path", given(endpoint)),
        ));
    }
    Ok(trimmed)
}

/// A per-signal endpoint: for HTTP a full URL kept as it is (the specification's rule).
fn normalise_signal_endpoint(
    endpoint: &str,
    protocol: OtlpProtocol,
    default_scheme: &str,
) -> Result<String, ConfigError> {
    let normalised = normalise_endpoint(endpoint, protocol, default_scheme)?;
    Ok(
        if protocol == OtlpProtocol::HttpProtobuf && endpoint.ends_with('/') {
            format!("{normalised}/")
        } else {
            normalised
        },
    )
}

/// Parses the header variable `source`: `key=value` pairs separated by commas, values
/// percent-encoded (W3C baggage format, as the specification says).
fn parse_header_list(source: &str, list: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut headers = Vec::new();
    for pair in list
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
    {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid("headers", format!("{source}: `{pair}` is not key=value")))?;
        headers.push((
            name.trim().to_ascii_lowercase(),
            percent_decode(value.trim()),
        ));
    }
    Ok(headers)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%' && index + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[index + 1..index + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check_header(name: &str, value: &str) -> Result<(), ConfigError> {
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        invalid(
            "headers",
            format!("{} is not a valid header name", given(name)),
        )
    })?;
    http::HeaderValue::from_str(value).map_err(|_| {
        invalid(
            "headers",
            format!("the value of `{name}` is not a valid header value"),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::env_of;
    use std::collections::BTreeMap;

    #[test]
    fn no_endpoint_anywhere_means_no_exporter() {
        let resolved = resolve_otlp_exporter(&OtlpExporterConfig::default(), &env_of(&[])).unwrap();
        assert_eq!(resolved, None);
    }

    fn resolve(
        config: &OtlpExporterConfig,
        pairs: &'static [(&'static str, &'static str)],
    ) -> OtlpExporterSettings {
        resolve_otlp_exporter(config, &env_of(pairs))
            .unwrap()
            .unwrap()
    }

    fn refusal(
        config: &OtlpExporterConfig,
        pairs: &'static [(&'static str, &'static str)],
    ) -> String {
        resolve_otlp_exporter(config, &env_of(pairs))
            .unwrap_err()
            .to_string()
    }

    fn to_collector() -> OtlpExporterConfig {
        OtlpExporterConfig {
            endpoint: Some("http://127.0.0.1:4317".into()),
            ..Default::default()
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn protocol_and_compression_variables_take_the_file_names_only() {
        let refusal = |pairs: &'static [(&'static str, &'static str)]| {
            resolve_otlp_exporter(&OtlpExporterConfig::default(), &env_of(pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refusal(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ]),
            "exporters.otlp.protocol: OTEL_EXPORTER_OTLP_PROTOCOL: the value given (9 characters) is not grpc or http/protobuf"
        );
        assert_eq!(
            refusal(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", " brotli "),
            ]),
            "exporters.otlp.compression: OTEL_EXPORTER_OTLP_COMPRESSION: the value given (6 characters) is not gzip, zstd or none"
        );
        let settings = resolve_otlp_exporter(
            &OtlpExporterConfig::default(),
            &env_of(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", " "),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.protocol, OtlpProtocol::Grpc);
        assert_eq!(settings.compression, Compression::Zstd);
    }

    #[test]
    fn standard_variables_fill_what_the_file_leaves_out() {
        let settings = resolve(
            &OtlpExporterConfig::default(),
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318/"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "Authorization=Bearer%20abc, x-team=ml",
                ),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ],
        );
        assert_eq!(settings.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(settings.compression, Compression::None);
        let targets = settings
            .signals
            .each_ref()
            .map(|signal| signal.target.as_deref());
        assert_eq!(
            targets,
            [
                Some("http://collector:4318/v1/traces"),
                Some("http://collector:4318/v1/metrics"),
                Some("http://collector:4318/v1/logs")
            ]
        );
        for signal in &settings.signals {
            assert_eq!(
                signal.headers,
                pairs(&[("authorization", "Bearer abc"), ("x-team", "ml")])
            );
            assert_eq!(signal.timeout, Duration::from_millis(2500));
            assert_eq!(signal.tls, None);
        }
    }

    #[test]
    fn file_headers_override_environment_headers() {
        let config = OtlpExporterConfig {
            headers: BTreeMap::from([("X-Team".to_string(), "search".to_string())]),
            ..to_collector()
        };
        let settings = resolve(
            &config,
            &[("OTEL_EXPORTER_OTLP_HEADERS", "x-team=ml,x-a=1")],
        );
        assert_eq!(settings.protocol, OtlpProtocol::Grpc);
        assert_eq!(settings.compression, Compression::Gzip);
        for signal in &settings.signals {
            assert_eq!(signal.target.as_deref(), Some("http://127.0.0.1:4317"));
            assert_eq!(signal.headers, pairs(&[("x-a", "1"), ("x-team", "search")]));
            assert_eq!(signal.timeout, Duration::from_secs(10));
        }
    }

    #[test]
    fn a_signal_variable_replaces_the_general_one_for_its_signal_only() {
        let settings = resolve(
            &to_collector(),
            &[
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-team=ml,x-a=1"),
                ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=t1"),
                ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "  "),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
                ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "500"),
            ],
        );
        let [traces, metrics, logs] = &settings.signals;
        assert_eq!(traces.headers, pairs(&[("x-tenant", "t1")]));
        assert_eq!(metrics.headers, pairs(&[("x-team", "ml"), ("x-a", "1")]));
        assert_eq!(logs.headers, metrics.headers, "a blank variable is unset");
        assert_eq!(traces.timeout, Duration::from_millis(3000));
        assert_eq!(metrics.timeout, Duration::from_millis(500));
        assert_eq!(logs.timeout, Duration::from_millis(3000));
    }

    #[test]
    fn the_file_wins_over_signal_variables() {
        let config = OtlpExporterConfig {
            headers: BTreeMap::from([("x-tenant".to_string(), "file".to_string())]),
            timeout: Some(crate::config::ConfigDuration(Duration::from_secs(4))),
            ..to_collector()
        };
        let settings = resolve(
            &config,
            &[
                ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=t1,x-b=2"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "500"),
            ],
        );
        let [traces, metrics, _] = &settings.signals;
        assert_eq!(traces.headers, pairs(&[("x-b", "2"), ("x-tenant", "file")]));
        assert_eq!(metrics.headers, pairs(&[("x-tenant", "file")]));
        assert_eq!(traces.timeout, Duration::from_secs(4));
        assert_eq!(metrics.timeout, Duration::from_secs(4));
    }

    #[test]
    fn bad_signal_variables_are_refused_by_name() {
        assert_eq!(
            refusal(&to_collector(), &[("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "5s")]),
            "exporters.otlp.timeout: OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=`5s` is not a number of milliseconds"
        );
        assert_eq!(
            refusal(
                &to_collector(),
                &[("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "0")]
            ),
            "exporters.otlp.timeout: must be longer than zero"
        );
        assert_eq!(
            refusal(
                &to_collector(),
                &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=1,b")]
            ),
            "exporters.otlp.headers: OTEL_EXPORTER_OTLP_TRACES_HEADERS: `b` is not key=value"
        );
    }

    #[test]
    fn empty_endpoint_in_file_disables_even_with_environment() {
        let env = env_of(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4317")]);
        let config = OtlpExporterConfig {
            endpoint: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(resolve_otlp_exporter(&config, &env).unwrap(), None);
    }

    #[test]
    fn other_schemes_are_refused_with_the_key() {
        let config = OtlpExporterConfig {
            endpoint: Some("grpc://x:4317".into()),
            ..Default::default()
        };
        assert_eq!(
            refusal(&config, &[]),
            "exporters.otlp.endpoint: the value given (13 characters): the scheme must be http:// or https://"
        );
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
