//! The checks that need built components (TLS and token files, the catalog, the usage rules),
//! through `load_str` as `validate` and `run` make them: the configuration, then its components.

use super::Components;
use crate::config::{self, ConfigError, LoadedConfig};

fn no_env(_: &str) -> Option<String> {
    None
}

/// The configuration `text` loaded and its components built.
fn load_str(
    text: &str,
    overrides: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<LoadedConfig, ConfigError> {
    let loaded = config::load_str(text, overrides, env)?;
    Components::build(&loaded)?;
    Ok(loaded)
}

fn load(text: &str) -> Result<LoadedConfig, ConfigError> {
    load_str(text, &[], no_env)
}

#[test]
fn tls_files_are_read_at_load_and_a_missing_one_is_named_by_its_key() {
    let text = "exporters:\n  otlp/tempo:\n    endpoint: https://tempo:4317\n    tls:\n      ca_file: /nonexistent/ca.pem\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "exporters.otlp/tempo.tls.ca_file: cannot read the file it names (19 characters): No such file or directory (os error 2)"
    );
    let env = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("https://collector:4317".to_string()),
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE" => Some("/nonexistent/client.pem".to_string()),
        "OTEL_EXPORTER_OTLP_CLIENT_KEY" => Some("/nonexistent/client.key".to_string()),
        _ => None,
    };
    assert_eq!(
        load_str("", &[], env).unwrap_err().to_string(),
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cannot read the file it names (23 characters): No such file or directory (os error 2)"
    );
}

#[test]
fn a_secret_typed_into_the_wrong_key_is_never_printed_back() {
    const SECRET: &str = "sk-SECRET-4f9a";
    let placed = [
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    timeout: {}\n",
        "exporters:\n  otlp:\n    endpoint: \"grpc://{}\"\n",
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    protocol: {}\n",
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    compression: {}\n",
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    headers: \"authorization: Bearer {}\"\n",
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    headers:\n      \"{} x\": v\n",
        "exporters:\n  otlp:\n    endpoint: https://x:4317\n    tls:\n      ca_file: {}\n",
        "exporters:\n  otlp:\n    endpoint: https://x:4317\n    tls:\n      server_name: \"{} x\"\n",
        "exporters:\n  otlp:\n    endpoint: http://x:4317\n    sending_queue:\n      queue_size_mib: {}\n",
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: {}\n",
        "pricing:\n  currency: {}\n",
        "metrics:\n  temporality: {}\n",
        "pricing:\n  models:\n    - {id: m, match: [m], input: \"{}\", output: \"1\"}\n",
    ];
    for pattern in placed {
        let text = pattern.replace("{}", SECRET);
        let message = load(&text).unwrap_err().to_string();
        assert!(!message.contains("SECRET"), "{text}\n→ {message}");
    }
    for assignment in [
        format!("service.shutdown_timeout={SECRET}"),
        format!("exporters.otlp.protocol={SECRET}"),
        format!("a.b={SECRET}: ["),
    ] {
        let message = load_str("", std::slice::from_ref(&assignment), no_env)
            .unwrap_err()
            .to_string();
        assert!(!message.contains("SECRET"), "{assignment}\n→ {message}");
    }
    let env = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://x:4317".to_string()),
        "OTEL_EXPORTER_OTLP_TIMEOUT" | "OTEL_EXPORTER_OTLP_INSECURE" => Some(SECRET.to_string()),
        _ => None,
    };
    let message = load_str("", &[], env).unwrap_err().to_string();
    assert!(!message.contains("SECRET"), "{message}");
}

#[test]
fn receiver_tls_and_token_files_are_read_at_load_and_named_by_their_key() {
    let text = "receivers:\n  otlp:\n    protocols:\n      grpc:\n        tls:\n          cert_file: /nonexistent/tls.crt\n          key_file: /nonexistent/tls.key\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "receivers.otlp.protocols.grpc.tls.cert_file: cannot read the file it names (20 characters): No such file or directory (os error 2)"
    );
    let text = "receivers:\n  otlp:\n    auth:\n      bearer_token_file: /nonexistent/tokens\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "receivers.otlp.auth.bearer_token_file: cannot read the token file: No such file or directory (os error 2)"
    );
    let text = "receivers:\n  otlp:\n    protocols:\n      http:\n        auth:\n          bearer_token_file: /nonexistent/tokens\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "receivers.otlp.protocols.http.auth.bearer_token_file: cannot read the token file: No such file or directory (os error 2)"
    );
}
