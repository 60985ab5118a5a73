use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(text: &str) -> Result<LoadedConfig, ConfigError> {
    load_str(text, &[], no_env)
}

#[test]
fn empty_file_gives_defaults_with_debug_exporter() {
    let loaded = load("").unwrap();
    let config = &loaded.config;
    assert_eq!(
        config.receivers.otlp.protocols.grpc.endpoint.0,
        "localhost:4317"
    );
    assert_eq!(
        config.receivers.otlp.protocols.http.endpoint.0,
        "localhost:4318"
    );
    assert_eq!(config.service.telemetry.endpoint.0, "localhost:13133");
    assert_eq!(config.pricing.currency, "USD");
    assert!(loaded.otlp.is_empty());
    assert!(loaded.debug_exporter_enabled());
}

#[test]
fn unknown_key_is_refused_with_its_name_and_line() {
    let err =
        load("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpiont: localhost:1\n")
            .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("unknown field `endpiont`"), "{message}");
    assert!(message.contains("line 5"), "{message}");
}

#[test]
fn bad_value_is_refused_with_its_key_and_line() {
    let err = load("exporters:\n  otlp:\n    endpoint: http://x:4317\n    timeout: 5 seconds\n")
        .unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("exporters.otlp.timeout: "), "{message}");
    assert!(
        message.contains("the value given (9 characters) has an unknown unit"),
        "{message}"
    );
    assert!(!message.contains("seconds"), "{message}");
    assert!(message.contains("line 4"), "{message}");
}

#[test]
fn float_price_is_refused_as_inexact() {
    let text = "pricing:\n  models:\n    - id: m\n      match: [m]\n      input: 0.3\n      output: \"1\"\n";
    let message = load(text).unwrap_err().to_string();
    assert!(
        message.contains("write prices as quoted decimal strings (\"0.3\")"),
        "{message}"
    );
    assert!(message.contains("line 5"), "{message}");
}

#[test]
fn duplicate_price_ids_are_refused() {
    let text = "pricing:\n  models:\n    - {id: m, match: [a], input: \"1\", output: \"2\"}\n    - {id: m, match: [b], input: \"1\", output: \"2\"}\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "pricing.models[1].id: `m` is used by an earlier entry"
    );
}

#[test]
fn pattern_with_inner_star_is_refused() {
    let text =
        "pricing:\n  models:\n    - {id: m, match: [\"a*b\"], input: \"1\", output: \"2\"}\n";
    assert_eq!(
        load(text).unwrap_err().to_string(),
        "pricing.models[0].match: `a*b`: write an exact model name or a prefix ending in a single `*`"
    );
}

#[test]
fn set_overrides_apply_after_the_file() {
    let overrides = vec![
        "exporters.otlp.endpoint=127.0.0.1:9999".to_string(),
        "exporters.otlp.protocol=http/protobuf".to_string(),
    ];
    let loaded = load_str(
        "exporters:\n  otlp:\n    endpoint: \"\"\n",
        &overrides,
        no_env,
    )
    .unwrap();
    let otlp = loaded.otlp[0].settings.clone();
    assert_eq!(
        otlp.signals[0].target.as_deref(),
        Some("http://127.0.0.1:9999/v1/traces")
    );
    assert_eq!(otlp.protocol, OtlpProtocol::HttpProtobuf);
}

#[test]
fn bad_override_value_is_refused() {
    let overrides = vec!["service.shutdown_timeout=forever".to_string()];
    let message = load_str("", &overrides, no_env).unwrap_err().to_string();
    assert!(
        message.starts_with("after --set overrides: service.shutdown_timeout: "),
        "{message}"
    );
}

#[test]
fn environment_fills_the_default_config_pattern() {
    let text = "exporters:\n  otlp:\n    endpoint: ${env:OTEL_EXPORTER_OTLP_ENDPOINT:-}\n";
    let env = |name: &str| {
        (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://tempo:4317".to_string())
    };
    let loaded = load_str(text, &[], env).unwrap();
    assert_eq!(
        loaded.otlp[0].settings.signals[0].target.as_deref(),
        Some("http://tempo:4317")
    );
    assert!(!loaded.debug_exporter_enabled());
    assert!(load(text).unwrap().otlp.is_empty());
}

#[test]
fn no_exporter_at_all_is_refused() {
    let message = load("exporters:\n  debug:\n    enabled: never\n")
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("exporters: no exporter"), "{message}");
}

#[test]
fn the_repository_default_config_is_valid() {
    let text = include_str!("../../config.yaml");
    let loaded = load(text).unwrap();
    assert!(loaded.config.pricing.builtin);
    assert!(loaded.debug_exporter_enabled());
}

#[test]
fn named_otlp_exporters_have_their_own_settings_and_signals() {
    let text = "exporters:\n  otlp/tempo:\n    endpoint: http://tempo:4317\n    signals: [traces]\n  otlp/metrics:\n    endpoint: http://mimir:4318\n    protocol: http/protobuf\n    signals: [metrics]\n";
    let env = |name: &str| {
        (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://ignored:4317".to_string())
    };
    let loaded = load_str(text, &[], env).unwrap();
    let named: Vec<(&str, Option<&str>, [bool; 3])> = loaded
        .otlp
        .iter()
        .map(|exporter| {
            (
                exporter.name.as_str(),
                exporter.settings.signals[1].target.as_deref(),
                exporter.signals,
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![
            (
                "otlp/metrics",
                Some("http://mimir:4318/v1/metrics"),
                [false, true, false]
            ),
            (
                "otlp/tempo",
                Some("http://tempo:4317"),
                [true, false, false]
            )
        ]
    );
    assert!(!loaded.debug_exporter_enabled());
}

#[test]
fn unknown_exporter_types_and_bad_named_settings_are_refused() {
    let message = load("exporters:\n  zipkin:\n    endpoint: x\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("unknown exporter `zipkin`: use otlp, otlp/<name>, debug or ledger"),
        "{message}"
    );
    let message = load("exporters:\n  otlp/tempo:\n    endpoint: http://tempo:4317\n    tls: {}\n")
        .unwrap_err()
        .to_string();
    assert_eq!(message, "exporters.otlp/tempo.tls: the endpoint is plain text (http://): write https:// for TLS, or set insecure: true");
}

#[test]
fn retry_settings_that_cannot_work_are_refused() {
    let message = load("exporters:\n  otlp:\n    retry_on_failure:\n      multiplier: 0.5\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "exporters.otlp.retry_on_failure.multiplier: must be from 1 to 10"
    );
    let message = load("exporters:\n  otlp:\n    retry_on_failure:\n      initial_interval: 1m\n      max_interval: 1s\n").unwrap_err().to_string();
    assert_eq!(
        message,
        "exporters.otlp.retry_on_failure: needs 0 < initial_interval ≤ max_interval"
    );
}

#[test]
fn the_runtime_has_one_worker_thread_unless_told_otherwise_and_at_most_1024() {
    assert_eq!(load("").unwrap().config.service.worker_threads, 1);
    assert_eq!(
        load("service:\n  worker_threads: 4\n")
            .unwrap()
            .config
            .service
            .worker_threads,
        4
    );
    for threads in ["0", "1025"] {
        let message = load(&format!("service:\n  worker_threads: {threads}\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(message, "service.worker_threads: must be 1 to 1024");
    }
}

#[test]
fn a_duplicate_memory_of_no_calls_or_beyond_a_hundred_million_is_refused() {
    for entries in ["0", "100000001"] {
        let message = load(&format!(
            "usage:\n  duplicates:\n    max_entries: {entries}\n"
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            message,
            "usage.duplicates.max_entries: must be 1 to 100000000"
        );
    }
    assert!(load("usage:\n  duplicates:\n    max_entries: 100000000\n").is_ok());
}

#[test]
fn a_small_request_reserve_that_leaves_no_room_for_the_largest_request_is_refused() {
    let admission = |text: &str| {
        load(&format!("receivers:\n  otlp:\n    admission:\n{text}"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        admission("      request_limit_mib: 16\n      small_request_reserve_mib: 16\n"),
        "receivers.otlp.admission.small_request_reserve_mib: must be less than request_limit_mib"
    );
    assert_eq!(
        admission("      request_limit_mib: 18\n      small_request_reserve_mib: 16\n"),
        "receivers.otlp.admission.request_limit_mib: 18 MiB less the small requests' reserve of 16 MiB is less than what the largest request the receivers accept holds as sent and decompressed (8 MiB): such a request could never be admitted"
    );
    assert_eq!(
        admission("      per_connection_limit_mib: 4\n"),
        "receivers.otlp.admission.per_connection_limit_mib: 4 MiB is less than what the largest request the receivers accept holds as sent and decompressed (8 MiB): such a request could never be admitted"
    );
}

#[test]
fn per_signal_endpoint_variables_win_and_route_only_their_signal() {
    let env = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" => Some("http://tempo:4318/v1/traces".to_string()),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/protobuf".to_string()),
        _ => None,
    };
    let loaded = load_str("", &[], env).unwrap();
    let exporter = &loaded.otlp[0];
    assert_eq!(exporter.signals, [true, false, false]);
    assert_eq!(
        exporter.settings.signals[0].target.as_deref(),
        Some("http://tempo:4318/v1/traces")
    );
    assert_eq!(exporter.settings.signals[1].target, None);

    let both = |name: &str| match name {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_string()),
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" => Some("http://loki:3100/otlp/v1/logs".to_string()),
        "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/protobuf".to_string()),
        _ => None,
    };
    let settings = load_str("", &[], both).unwrap().otlp[0].settings.clone();
    assert_eq!(
        settings.signals[0].target.as_deref(),
        Some("http://collector:4318/v1/traces")
    );
    assert_eq!(
        settings.signals[2].target.as_deref(),
        Some("http://loki:3100/otlp/v1/logs")
    );
}

#[test]
fn the_standard_variable_alone_routes_every_signal() {
    let env = |name: &str| {
        (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://collector:4317".to_string())
    };
    let loaded = load_str("", &[], env).unwrap();
    assert_eq!(loaded.otlp[0].signals, [true, true, true]);
}

#[test]
fn intervals_too_short_or_durations_too_long_are_refused() {
    assert_eq!(
        load("metrics:\n  interval: 0s\n").unwrap_err().to_string(),
        "metrics.interval: must be at least 100ms"
    );
    let message = load("service:\n  shutdown_timeout: 2562047788015215h\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("is out of range (at most 30 days)"),
        "{message}"
    );
}

#[test]
fn the_tls_section_has_the_collectors_names() {
    let text = "exporters:\n  otlp:\n    endpoint: https://collector:4317\n    tls:\n      server_name_override: collector.internal\n      insecure_skip_verify: true\n";
    let loaded = load(text).unwrap();
    let tls = loaded.otlp[0].settings.signals[0].tls.clone().unwrap();
    assert_eq!(tls.server_name.as_deref(), Some("collector.internal"));
    assert!(tls.insecure_skip_verify);
    let message = load(
        "exporters:\n  otlp:\n    endpoint: https://collector:4317\n    tls:\n      ca_pem: x\n",
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("unknown field `ca_pem`"), "{message}");
    assert!(message.contains("line 5"), "{message}");
}

#[test]
fn tokens_without_tls_are_warned_about_and_never_printed() {
    let loaded =
        load("receivers:\n  otlp:\n    auth:\n      bearer_tokens: [s3cret-token]\n").unwrap();
    assert_eq!(
        loaded.warnings,
        [
            "receivers.otlp.auth: bearer tokens are sent in plain text to the grpc receiver; set receivers.otlp.protocols.grpc.tls",
            "receivers.otlp.auth: bearer tokens are sent in plain text to the http receiver; set receivers.otlp.protocols.http.tls",
        ]
    );
    assert!(!format!("{loaded:?}").contains("s3cret"));
    let message = load("receivers:\n  otlp:\n    auth:\n      bearer_tokens: [\"two words\"]\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("a token is one word, without spaces"),
        "{message}"
    );
    assert!(!message.contains("two words"), "{message}");
}

#[test]
fn reconcile_reads_its_defaults_and_refuses_what_cannot_run() {
    let loaded = load("reconcile:\n  anthropic: {}\n").unwrap();
    let reconcile = loaded.config.reconcile.unwrap();
    assert_eq!(
        (
            reconcile.interval.0,
            reconcile.days,
            reconcile.tolerance.tokens.0,
            reconcile.tolerance.cost.0
        ),
        (
            std::time::Duration::from_secs(3600),
            7,
            rust_decimal::Decimal::new(2, 2),
            rust_decimal::Decimal::new(2, 2)
        )
    );
    assert!(reconcile.openai.is_none());
    for (text, message) in [
        ("reconcile: {}\n", "set anthropic, openai or both"),
        (
            "reconcile:\n  interval: 0s\n  openai: {}\n",
            "reconcile.interval",
        ),
        ("reconcile:\n  days: 0\n  openai: {}\n", "reconcile.days"),
        (
            "reconcile:\n  openai:\n    admin_key: x\n",
            "unknown field `admin_key`",
        ),
    ] {
        let error = load(text).unwrap_err().to_string();
        assert!(error.contains(message), "{text}: {error}");
    }
}
