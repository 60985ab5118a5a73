//! Arize Phoenix as the agent's backend: the OpenInference run of the OpenLLMetry /
//! OpenInference suite (its single-request priced calls are checked) goes through the agent (with `enrich.output_dialects: [openinference]`)
//! into a real Phoenix (`arize-phoenix` 20.26.1 in its own virtual environment,
//! `tests/python/requirements-phoenix.txt`; `PHOENIX` names its `phoenix` command, by default
//! `target/phoenix-venv/bin/phoenix`), and the spans are read back through Phoenix's GraphQL
//! API: the agent's cost attributes and `llm.cost.*` on the span that prices each call, nothing
//! on its duplicates, and what Phoenix itself shows as the cost of those spans and traces.
//!
//! Phoenix computes its cost column from token counts and its own price table; it reads neither
//! `llm.cost.*` nor `gen_ai.usage.cost.*`. It derives `llm.token_count.*` from a span's
//! `gen_ai.usage.*` when the span has none, but not from the Anthropic SDK's
//! `gen_ai.usage.cache_write.input_tokens`, so it prices the SDK span's cache writes as plain
//! input; and where the SDK's span and OpenInference's describe one call it prices both.

use crate::checks::*;
use crate::harness::*;
use crate::openllmetry_openinference::{CALLS, SCRIPT};
use genai_cost_agent::Agent;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const INSTALL: &str = "python3 -m venv target/phoenix-venv && target/phoenix-venv/bin/pip install \
                       -r tests/python/requirements-phoenix.txt";
const STARTUP_LIMIT: Duration = Duration::from_secs(120);

/// What Phoenix shows for a call: its cost of the span the agent priced, and of the whole trace.
struct PhoenixCost {
    key: &'static str,
    span: f64,
    trace: f64,
}

/// Phoenix's own figures for the OpenInference run (its Sonnet 4.5, GPT-4o and GPT-4o mini
/// prices equal the agent's):
///   anthropic-openinference (agent 0.0555): on the SDK's span Phoenix reads input 40,000 and
///     cache read 30,000 but not the SDK's cache-write name, so the 6,000 writes are input:
///     10,000 × 3 + 30,000 × 0.30 + 800 × 15 = 0.051; OpenInference's span has the writes:
///     0.0555; the trace 0.051 + 0.0555 = 0.1065 (the call counted twice)
///   anthropic-stream-openinference (agent 0.0117): both spans 0.0117, the trace 0.0234
///   openai-openinference (agent 0.022) and openai-stream-openinference (agent 0.0042): one span
///     each, Phoenix agrees
const PHOENIX_COSTS: [PhoenixCost; 4] = [
    PhoenixCost {
        key: "anthropic-openinference",
        span: 0.051,
        trace: 0.1065,
    },
    PhoenixCost {
        key: "anthropic-stream-openinference",
        span: 0.0117,
        trace: 0.0234,
    },
    PhoenixCost {
        key: "openai-openinference",
        span: 0.022,
        trace: 0.022,
    },
    PhoenixCost {
        key: "openai-stream-openinference",
        span: 0.0042,
        trace: 0.0042,
    },
];

/// A Phoenix server on an ephemeral port with its database in a fresh directory; stopped on drop.
struct Phoenix {
    child: Child,
    port: u16,
    directory: std::path::PathBuf,
}

impl Phoenix {
    fn start() -> Phoenix {
        let command = std::env::var("PHOENIX").unwrap_or_else(|_| {
            format!(
                "{}/target/phoenix-venv/bin/phoenix",
                env!("CARGO_MANIFEST_DIR")
            )
        });
        let directory = std::env::temp_dir().join(format!("phoenix-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).unwrap();
        let mut child = Command::new(&command)
            .arg("serve")
            .env("PHOENIX_WORKING_DIR", &directory)
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", "0")
            .env("PHOENIX_GRPC_PORT", "0")
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start `{command}` ({error}): the test needs `{INSTALL}`")
            });
        let (lines, received) = mpsc::channel();
        forward_lines(child.stdout.take().unwrap(), lines.clone());
        forward_lines(child.stderr.take().unwrap(), lines);
        let mut seen = Vec::new();
        let port = loop {
            let Ok(line) = received.recv_timeout(STARTUP_LIMIT) else {
                let _ = child.kill();
                panic!(
                    "Phoenix did not start within {STARTUP_LIMIT:?}:\n{}",
                    seen.join("\n")
                );
            };
            // Uvicorn names the port it bound, not the 0 it was given.
            if let Some(port) = line
                .split("Uvicorn running on http://127.0.0.1:")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
            {
                break port.parse().unwrap();
            }
            seen.push(line);
        };
        Phoenix {
            child,
            port,
            directory,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every span of the default project, with its cost and its trace's, as Phoenix shows them.
    fn spans(&self) -> Vec<StoredSpan> {
        let query = "{ projects { edges { node { name spans(first: 1000) { edges { node { \
                     name spanId attributes costSummary { total { cost } } \
                     trace { traceId costSummary { total { cost } } } } } } } } } }";
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-X", "POST"])
            .args(["-H", "content-type: application/json", "--data-binary"])
            .arg(serde_json::json!({ "query": query }).to_string())
            .arg(format!("{}/graphql", self.endpoint()))
            .output()
            .expect("curl runs");
        let answer: Json = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "Phoenix's GraphQL answer is not JSON ({error}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        });
        let projects = answer["data"]["projects"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("no projects in {answer}"));
        projects
            .iter()
            .flat_map(|project| project["node"]["spans"]["edges"].as_array().unwrap())
            .map(|edge| StoredSpan::read(&edge["node"]))
            .collect()
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// Sends each line of `pipe` to `lines` until it closes (keeps the pipe drained).
fn forward_lines(pipe: impl Read + Send + 'static, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let _ = lines.send(line);
        }
    });
}

/// A span as Phoenix stored it: its attributes nested by their dotted names.
struct StoredSpan {
    name: String,
    span_id: String,
    trace_id: String,
    attributes: Json,
    cost: Option<f64>,
    trace_cost: Option<f64>,
}

impl StoredSpan {
    fn read(node: &Json) -> StoredSpan {
        StoredSpan {
            name: node["name"].as_str().unwrap_or_default().to_string(),
            span_id: node["spanId"].as_str().unwrap_or_default().to_string(),
            trace_id: node["trace"]["traceId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            attributes: serde_json::from_str(node["attributes"].as_str().unwrap_or("{}"))
                .unwrap_or(Json::Null),
            cost: node["costSummary"]["total"]["cost"].as_f64(),
            trace_cost: node["trace"]["costSummary"]["total"]["cost"].as_f64(),
        }
    }

    /// The attribute `key` (`gen_ai.usage.cost.amount`), found by its dotted path.
    fn attribute(&self, key: &str) -> Option<&Json> {
        key.split('.')
            .try_fold(&self.attributes, |value, part| value.get(part))
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.attribute(key).and_then(Json::as_f64)
    }
}

/// Phoenix's floating-point sums, compared with hand-worked decimals.
fn close(actual: Option<f64>, expected: f64) -> bool {
    actual.is_some_and(|actual| (actual - expected).abs() <= 1e-12)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phoenix_receives_the_costs_on_the_spans_that_price_each_call() {
    let phoenix = tokio::task::spawn_blocking(Phoenix::start).await.unwrap();
    let agent = Agent::start(&test_config(
        &phoenix.endpoint(),
        "http/protobuf",
        &["enrich.output_dialects=[openinference]"],
    ))
    .await
    .unwrap();
    let run = main_environment(
        SCRIPT,
        vec!["--protocol", "grpc", "--libraries", "openinference"],
        Transport::Grpc,
    );
    let endpoint = format!("http://{}", agent.grpc_address().unwrap());
    let (emitted, stderr) = tokio::task::spawn_blocking(move || run_script(&run, &endpoint))
        .await
        .unwrap();

    // Phoenix stores spans in batches and prices them as it stores them.
    let phoenix = std::sync::Arc::new(phoenix);
    let mut stored = Vec::new();
    for _ in 0..150 {
        let reader = phoenix.clone();
        stored = tokio::task::spawn_blocking(move || reader.spans())
            .await
            .unwrap();
        if stored.len() >= emitted.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        stored.len(),
        emitted.len(),
        "Phoenix stored {} of the {} spans the app sent\n{stderr}",
        stored.len(),
        emitted.len()
    );

    let mut failures = Vec::new();
    let mut check = |ok: bool, message: String| {
        if !ok {
            failures.push(message);
        }
    };
    let priced_calls = CALLS.iter().filter_map(|call| match &call.expect {
        Expect::Priced(cost) if call.run == "openinference" => Some((call, cost)),
        _ => None,
    });
    for (call, cost) in priced_calls {
        let phoenix_cost = PHOENIX_COSTS
            .iter()
            .find(|figures| figures.key == call.key)
            .expect("Phoenix's figures for every call");
        let trace_id = emitted
            .iter()
            .find(|span| span.attributes.get("app.call") == Some(&Json::from(call.key)))
            .map(|span| span.trace_id.clone())
            .unwrap_or_else(|| panic!("{}: the script made no such call", call.key));
        let spans: Vec<&StoredSpan> = stored
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .collect();
        let priced: Vec<&&StoredSpan> = spans
            .iter()
            .filter(|span| span.attribute("gen_ai.usage.cost.amount").is_some())
            .collect();
        check(
            priced.len() == 1,
            format!(
                "{}: {} spans carry a cost in Phoenix",
                call.key,
                priced.len()
            ),
        );
        let Some(priced) = priced.first() else {
            continue;
        };
        // The agent's figures arrive as written, in both dialects.
        let prompt = cost.input + cost.cache_read + cost.cache_creation;
        for (key, expected) in [
            ("gen_ai.usage.cost.amount", cost.amount),
            ("gen_ai.usage.cost.cache_read", cost.cache_read),
            ("gen_ai.usage.cache.savings", cost.savings),
            ("llm.cost.total", cost.amount),
            ("llm.cost.prompt", prompt),
            ("llm.cost.completion", cost.output),
            ("llm.cost.prompt_details.input", cost.input),
            ("llm.cost.prompt_details.cache_read", cost.cache_read),
            ("llm.cost.prompt_details.cache_write", cost.cache_creation),
        ] {
            check(
                close(priced.number(key), expected),
                format!(
                    "{}: {key} on `{}` in Phoenix is {:?}, expected {expected}",
                    call.key,
                    priced.name,
                    priced.attribute(key)
                ),
            );
        }
        check(
            priced.attribute("gen_ai.usage.cost.price_id") == Some(&Json::from(cost.price_id)),
            format!("{}: the price id did not arrive", call.key),
        );
        // A duplicate keeps its tokens and gets no cost in either dialect.
        for other in spans.iter().filter(|span| span.span_id != priced.span_id) {
            let is_duplicate = other.attribute("gen_ai.usage.cost.unpriced_reason")
                == Some(&Json::from("duplicate"));
            check(
                other.attribute("llm.cost").is_none()
                    && (is_duplicate || other.attribute("llm.token_count").is_none()),
                format!(
                    "{}: `{}` in Phoenix carries {:?}",
                    call.key, other.name, other.attributes
                ),
            );
        }
        // What Phoenix shows.
        check(
            close(priced.cost, phoenix_cost.span) && close(priced.trace_cost, phoenix_cost.trace),
            format!(
                "{}: Phoenix shows {:?} for `{}` and {:?} for the trace, expected {} and {}",
                call.key,
                priced.cost,
                priced.name,
                priced.trace_cost,
                phoenix_cost.span,
                phoenix_cost.trace
            ),
        );
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(agent.shutdown().await);
}
