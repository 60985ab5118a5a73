//! Running the instrumented apps: a script process per run (Python or Node) exporting to the
//! agent, the spans it printed, and what the capture backend received from the agent.

pub use crate::common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::checks::Call;

/// The Anthropic Python SDK's own spans, beside most suites' instrumentation.
pub const ANTHROPIC_SDK: &str = "com.anthropic.sdk.python";

/// Exit code of the script when a package is missing.
pub const MISSING_PACKAGES: i32 = 3;
pub const SCRIPT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Attributes the agent may add to a span; every other attribute must arrive as the app sent it.
pub const AGENT_ATTRIBUTES: [&str; 15] = [
    "gen_ai.usage.cost.amount",
    "gen_ai.usage.cost.currency",
    "gen_ai.usage.cost.source",
    "gen_ai.usage.cost.input",
    "gen_ai.usage.cost.output",
    "gen_ai.usage.cost.cache_read",
    "gen_ai.usage.cost.cache_creation",
    "gen_ai.usage.cost.tools",
    "gen_ai.usage.cache.hit_ratio",
    "gen_ai.usage.cache.savings",
    "gen_ai.usage.cost.price_id",
    "gen_ai.usage.cost.input_semantics",
    "gen_ai.usage.cost.unpriced_reason",
    "gen_ai.usage.cost.duplicate_of",
    "gen_ai.usage.cost.threshold_exceeded",
];

/// A span as the Python SDK finished it (before export), printed by the script.
#[derive(Debug, serde::Deserialize)]
pub struct Emitted {
    pub name: String,
    pub scope: String,
    pub scope_version: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub attributes: serde_json::Map<String, Json>,
}

/// A span as the backend received it from the agent, with its instrumentation scope.
pub struct Forwarded {
    pub scope: String,
    pub service_name: Option<String>,
    pub span: Span,
}

impl Forwarded {
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        attribute(&self.span.attributes, key)
    }

    pub fn string(&self, key: &str) -> Option<&str> {
        match self.attribute(key) {
            Some(Value::StringValue(text)) => Some(text),
            _ => None,
        }
    }

    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// Whether the span reports token usage in any dialect (it describes a model call).
    pub fn carries_usage(&self) -> bool {
        self.span
            .attributes
            .iter()
            .any(|kv| USAGE_ATTRIBUTES.contains(&kv.key.as_str()))
    }
}

/// Input and output token counts in the dialects these libraries write.
pub const USAGE_ATTRIBUTES: [&str; 9] = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "ai.usage.inputTokens",
    "ai.usage.outputTokens",
    "ai.usage.tokens",
];

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// One process of a suite: an interpreter, a script and its arguments; `--endpoint` is added,
/// the agent's gRPC or HTTP address as the run's transport says.
pub struct Run {
    /// `python3`, a virtual environment's interpreter, or `node`.
    pub interpreter: String,
    pub script: &'static str,
    pub args: Vec<&'static str>,
    pub transport: Transport,
    /// How to install what the script needs, for the failure message.
    pub install: &'static str,
}

#[derive(Clone, Copy)]
pub enum Transport {
    Grpc,
    Http,
}

/// Runs `run` against `endpoint`; returns the spans it exported and its stderr. Panics with the
/// script's stderr when it fails, and with the install command when its packages are missing.
pub fn run_script(run: &Run, endpoint: &str) -> (Vec<Emitted>, String) {
    let (interpreter, script_name, install) = (&run.interpreter, run.script, run.install);
    let script = format!("{}/{script_name}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(interpreter)
        .args([&script, "--endpoint", endpoint])
        .args(&run.args)
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start `{interpreter}` ({error}): the test needs `{install}`")
        });
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + SCRIPT_TIME_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    let Some(status) = status else {
        panic!(
            "{script_name} did not finish within {SCRIPT_TIME_LIMIT:?}\n--- stderr ---\n{stderr}\n\
             --- stdout ---\n{stdout}"
        );
    };
    if status.code() == Some(MISSING_PACKAGES) {
        panic!("packages for {script_name} are missing; CI must run `{install}`\n{stderr}");
    }
    assert!(
        status.success(),
        "{script_name} failed ({status})\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}"
    );
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("EXPORTED_SPANS "))
        .unwrap_or_else(|| {
            panic!("{script_name} printed no EXPORTED_SPANS line\n{stdout}\n{stderr}")
        });
    let emitted = serde_json::from_str(line).expect("EXPORTED_SPANS is JSON");
    (emitted, stderr)
}

/// Every span the backend received, keyed by span id (hex).
pub fn forwarded_spans(captured: &Captured) -> BTreeMap<String, Forwarded> {
    let mut spans = BTreeMap::new();
    for request in captured.traces.lock().unwrap().iter() {
        for resource in &request.resource_spans {
            let service_name = resource.resource.as_ref().and_then(|resource| {
                match attribute(&resource.attributes, "service.name") {
                    Some(Value::StringValue(name)) => Some(name.clone()),
                    _ => None,
                }
            });
            for scope in &resource.scope_spans {
                let scope_name = scope
                    .scope
                    .as_ref()
                    .map(|scope| scope.name.clone())
                    .unwrap_or_default();
                for span in &scope.spans {
                    let forwarded = Forwarded {
                        scope: scope_name.clone(),
                        service_name: service_name.clone(),
                        span: span.clone(),
                    };
                    let previous = spans.insert(forwarded.span_id(), forwarded);
                    assert!(
                        previous.is_none(),
                        "span {} arrived twice",
                        hex(&span.span_id)
                    );
                }
            }
        }
    }
    spans
}

/// The JSON form of an OTLP attribute value, for comparing with what the script printed.
pub fn as_json(value: &Value) -> Json {
    match value {
        Value::StringValue(text) => Json::from(text.as_str()),
        Value::BoolValue(flag) => Json::from(*flag),
        Value::IntValue(number) => Json::from(*number),
        Value::DoubleValue(number) => Json::from(*number),
        Value::ArrayValue(array) => Json::Array(
            array
                .values
                .iter()
                .map(|item| item.value.as_ref().map(as_json).unwrap_or(Json::Null))
                .collect(),
        ),
        other => Json::from(format!("{other:?}")),
    }
}

pub fn show(value: Option<&Value>) -> String {
    value
        .map(|value| as_json(value).to_string())
        .unwrap_or_else(|| "<absent>".into())
}

/// Every forwarded span with its scope and its gen_ai / llm / anthropic / cost attributes.
pub fn dump(spans: &BTreeMap<String, Forwarded>) -> String {
    let mut text = String::from("--- spans the backend received ---\n");
    for (id, span) in spans {
        let _ = writeln!(
            text,
            "{} [scope {}] span {id} parent {}",
            span.span.name,
            span.scope,
            hex(&span.span.parent_span_id)
        );
        for kv in &span.span.attributes {
            let content = kv.key.contains("messages")
                || kv.key.contains("system_instructions")
                || kv.key.contains(".content")
                || kv.key.starts_with("llm.input_messages")
                || kv.key.starts_with("llm.output_messages")
                || kv.key.starts_with("input.")
                || kv.key.starts_with("output.");
            if !content {
                let _ = writeln!(text, "    {} = {}", kv.key, show(value_of(kv)));
            }
        }
    }
    text
}

pub fn value_of(kv: &KeyValue) -> Option<&Value> {
    kv.value.as_ref()?.value.as_ref()
}

/// What one test runs and expects: script processes, and the calls they make.
pub struct Suite {
    pub runs: Vec<Run>,
    pub calls: &'static [Call],
    /// The apps' `service.name` and the scope of their own (non-LLM) spans.
    pub service_name: &'static str,
    pub app_scope: &'static str,
    /// Scopes of spans that are no model call (an HTTP client's span under one): they pass
    /// exactly as sent, like the app's own.
    pub bystander_scopes: &'static [&'static str],
}

/// A suite of one script in the main environment, exporting over gRPC, whose app scope is
/// its service name.
pub fn one_process(script: &'static str, calls: &'static [Call], service: &'static str) -> Suite {
    Suite {
        runs: vec![main_environment(script, Vec::new(), Transport::Grpc)],
        calls,
        service_name: service,
        app_scope: service,
        bystander_scopes: &[],
    }
}

/// A run of `script` with the interpreter of `tests/python/requirements.txt` (`PYTHON`, by
/// default `python3`).
pub fn main_environment(
    script: &'static str,
    args: Vec<&'static str>,
    transport: Transport,
) -> Run {
    Run {
        interpreter: std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()),
        script,
        args,
        transport,
        install: "python3 -m pip install -r tests/python/requirements.txt",
    }
}
