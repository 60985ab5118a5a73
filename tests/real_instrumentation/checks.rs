//! What the agent must have done with each call, checked on what the backend received.
//!
//! Prices (USD per million tokens, built-in catalog):
//!   Sonnet 4.5: input 3, output 15, cache read 0.30, cache write 5m 3.75, 1h 6
//!   Haiku 4.5:  input 1, output 5,  cache read 0.10, cache write 5m 1.25, 1h 2
//!   GPT-5 1.25 / cached 0.125 / output 10; GPT-4o 2.50 / 1.25 / 10;
//!   GPT-4o mini 0.15 / 0.075 / 0.60; GPT-4.1 2 / 0.50 / 8; GPT-4.1 mini 0.40 / 0.10 / 1.60.
//! Anthropic's `input_tokens` is uncached; OpenAI's `prompt_tokens` includes the cached tokens
//! and `completion_tokens` the reasoning tokens. Savings = all input at the input price − what
//! input, cache reads and cache writes cost; hit ratio = cache read / all input.

use crate::harness::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The cost the agent must write on the span that prices one call.
pub struct ExpectedCost {
    pub price_id: &'static str,
    pub amount: f64,
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_creation: f64,
    pub savings: f64,
    pub hit_ratio: f64,
    /// `gen_ai.usage.cost.input_semantics`: how the span's input count was read.
    pub input_semantics: &'static str,
}

/// One model call of the script (its own trace, named by the app span's `app.call`).
pub struct Call {
    pub key: &'static str,
    /// The run (script process) that makes it.
    pub run: &'static str,
    /// The scopes of the spans that describe the call, sorted.
    pub scopes: &'static [&'static str],
    pub expect: Expect,
}

/// What the agent must do with a call.
pub enum Expect {
    /// One span priced with this cost, any other span of the call a duplicate of it.
    Priced(ExpectedCost),
    /// A call of several model calls (an agent's steps): one span priced per step, in the
    /// order they started, any other span reporting usage a duplicate of one of them.
    Steps(&'static [ExpectedCost]),
    /// Read but not priced: the call's spans say why, and carry no cost.
    Unpriced(&'static str),
    /// A refused call: nothing to pay, no cost attribute anywhere in its trace.
    Free,
}

/// The two requests of a tool-using call to claude-haiku-4-5-20251001
/// (`fake_provider.weather_tool_answers`), for a source that reads input `input_semantics`:
///   asks for the tool: input 3,000, output 100: 0.003 + 0.0005 = 0.0035
///   answers: input 1,000, output 500, read 3,000: 0.001 + 0.0025 + 0.0003 = 0.0038;
///   savings 4,000 × 1 = 0.004 − 0.001 − 0.0003 = 0.0027; hit 0.75
pub const fn haiku_tool_steps(input_semantics: &'static str) -> [ExpectedCost; 2] {
    [
        ExpectedCost {
            price_id: "claude-haiku-4-5@2026-01-01",
            amount: 0.0035,
            input: 0.003,
            output: 0.0005,
            cache_read: 0.0,
            cache_creation: 0.0,
            savings: 0.0,
            hit_ratio: 0.0,
            input_semantics,
        },
        ExpectedCost {
            price_id: "claude-haiku-4-5@2026-01-01",
            amount: 0.0038,
            input: 0.001,
            output: 0.0025,
            cache_read: 0.0003,
            cache_creation: 0.0,
            savings: 0.0027,
            hit_ratio: 0.75,
            input_semantics,
        },
    ]
}

/// The tool-using call read from a source whose input includes the cache.
pub const HAIKU_TOOL_STEPS: [ExpectedCost; 2] = haiku_tool_steps("includes_cache");

/// A refused call: no span reports usage.
pub const fn refused(key: &'static str, run: &'static str) -> Call {
    Call {
        key,
        run,
        scopes: &[],
        expect: Expect::Free,
    }
}

/// Collects every mismatch, so that one run reports all of them with the spans.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(message());
        }
    }
}

pub fn check_priced(failures: &mut Failures, what: &str, span: &Forwarded, cost: &ExpectedCost) {
    let expected = [
        ("gen_ai.usage.cost.amount", Value::DoubleValue(cost.amount)),
        ("gen_ai.usage.cost.input", Value::DoubleValue(cost.input)),
        ("gen_ai.usage.cost.output", Value::DoubleValue(cost.output)),
        (
            "gen_ai.usage.cost.cache_read",
            Value::DoubleValue(cost.cache_read),
        ),
        (
            "gen_ai.usage.cost.cache_creation",
            Value::DoubleValue(cost.cache_creation),
        ),
        ("gen_ai.usage.cost.tools", Value::DoubleValue(0.0)),
        (
            "gen_ai.usage.cache.savings",
            Value::DoubleValue(cost.savings),
        ),
        (
            "gen_ai.usage.cache.hit_ratio",
            Value::DoubleValue(cost.hit_ratio),
        ),
        (
            "gen_ai.usage.cost.price_id",
            Value::StringValue(cost.price_id.into()),
        ),
        (
            "gen_ai.usage.cost.currency",
            Value::StringValue("USD".into()),
        ),
        (
            "gen_ai.usage.cost.source",
            Value::StringValue("local".into()),
        ),
        (
            "gen_ai.usage.cost.input_semantics",
            Value::StringValue(cost.input_semantics.into()),
        ),
    ];
    for (key, value) in expected {
        let actual = span.attribute(key);
        failures.check(actual == Some(&value), || {
            format!(
                "{what}: {key} on `{}` [{}] is {}, expected {}",
                span.span.name,
                span.scope,
                show(actual),
                show(Some(&value))
            )
        });
    }
}

pub fn check_unpriced(failures: &mut Failures, what: &str, spans: &[&Forwarded], reason: &str) {
    failures.check(!spans.is_empty(), || {
        format!("{what}: no span for the call")
    });
    let unpriced_ids: Vec<String> = spans
        .iter()
        .filter(|span| span.string("gen_ai.usage.cost.unpriced_reason") == Some(reason))
        .map(|span| span.span_id())
        .collect();
    for span in spans {
        if !span.carries_usage() {
            check_untouched(failures, what, span);
            continue;
        }
        if span.string("gen_ai.usage.cost.unpriced_reason") == Some("aggregate_span") {
            check_aggregate(failures, what, span, spans, &unpriced_ids);
            continue;
        }
        failures.check(
            span.string("gen_ai.usage.cost.unpriced_reason") == Some(reason)
                && span.attribute("gen_ai.usage.cost.amount").is_none(),
            || {
                format!(
                    "{what}: `{}` [{}] has unpriced_reason {} and amount {}, expected \"{reason}\" \
                     and none",
                    span.span.name,
                    span.scope,
                    show(span.attribute("gen_ai.usage.cost.unpriced_reason")),
                    show(span.attribute("gen_ai.usage.cost.amount"))
                )
            },
        );
    }
}

/// A refused call: its span failed, and the agent wrote nothing on any span of the call.
pub fn check_free(failures: &mut Failures, what: &str, spans: &[&Forwarded]) {
    failures.check(
        spans.iter().any(|span| {
            span.span.status.as_ref().map(|status| status.code)
                == Some(opentelemetry_proto::tonic::trace::v1::status::StatusCode::Error as i32)
        }),
        || format!("{what}: no span of the call has status ERROR"),
    );
    for span in spans {
        check_untouched(failures, what, span);
    }
}

/// A span that sums up the call's model calls (an agent run, a Vercel `ai.generateText`): no
/// cost, and it must really wrap one of the call's model-call spans (`call_ids`).
pub fn check_aggregate(
    failures: &mut Failures,
    what: &str,
    span: &Forwarded,
    call_spans: &[&Forwarded],
    call_ids: &[String],
) {
    let parent_of = |id: &str| {
        call_spans
            .iter()
            .find(|candidate| candidate.span_id() == id)
            .map(|found| hex(&found.span.parent_span_id))
    };
    let wraps_a_call = call_ids.iter().any(|call| {
        let mut current = parent_of(call);
        while let Some(id) = current.filter(|id| !id.is_empty()) {
            if id == span.span_id() {
                return true;
            }
            current = parent_of(&id);
        }
        false
    });
    failures.check(
        wraps_a_call
            && span.attribute("gen_ai.usage.cost.amount").is_none()
            && span.attribute("gen_ai.usage.cost.duplicate_of").is_none(),
        || {
            format!(
                "{what}: `{}` [{}] is marked aggregate_span but wraps none of the call's model \
                 calls, or carries a cost",
                span.span.name, span.scope
            )
        },
    );
}

/// The agent wrote none of its attributes on `span`.
pub fn check_untouched(failures: &mut Failures, what: &str, span: &Forwarded) {
    let added: Vec<&str> = span
        .span
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .filter(|key| AGENT_ATTRIBUTES.contains(key))
        .collect();
    failures.check(added.is_empty(), || {
        format!(
            "{what}: `{}` [{}] reports no usage but got {added:?}",
            span.span.name, span.scope
        )
    });
}

pub async fn priced_once_per_call(suite: Suite) {
    let Suite {
        runs,
        calls,
        service_name,
        app_scope,
        bystander_scopes,
    } = suite;
    let (backend, captured) = start_capture_backend().await;
    let agent = start_agent(backend, &[]).await;
    let runs: Vec<_> = runs
        .into_iter()
        .map(|run| {
            let endpoint = match run.transport {
                Transport::Grpc => format!("http://{}", agent.grpc_address().unwrap()),
                Transport::Http => format!("http://{}", agent.http_address().unwrap()),
            };
            tokio::task::spawn_blocking(move || run_script(&run, &endpoint))
        })
        .collect();
    let mut emitted = Vec::new();
    let mut stderr = String::new();
    for run in runs {
        let (spans, errors) = run.await.unwrap();
        emitted.extend(spans);
        stderr.push_str(&errors);
    }
    assert!(
        wait_until(Duration::from_secs(10), || captured.span_count()
            >= emitted.len())
        .await,
        "{} of {} spans arrived\n--- the scripts' stderr ---\n{stderr}",
        captured.span_count(),
        emitted.len()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let forwarded = forwarded_spans(&captured);
    let mut failures = Failures::default();

    // Every span the app exported arrives once, from the scope that emitted it, with the app's
    // own attributes unchanged; the agent only adds its cost attributes.
    failures.check(forwarded.len() == emitted.len(), || {
        format!(
            "{} spans arrived, the app exported {}",
            forwarded.len(),
            emitted.len()
        )
    });
    for sent in &emitted {
        let Some(received) = forwarded.get(&sent.span_id) else {
            failures.0.push(format!(
                "span `{}` [{}] {} never arrived",
                sent.name, sent.scope, sent.span_id
            ));
            continue;
        };
        failures.check(received.scope == sent.scope, || {
            format!(
                "span `{}` arrived in scope {} (sent in {})",
                sent.name, received.scope, sent.scope
            )
        });
        failures.check(
            hex(&received.span.trace_id) == sent.trace_id
                && hex(&received.span.parent_span_id) == sent.parent_span_id,
            || format!("span `{}` lost its trace or parent", sent.name),
        );
        failures.check(
            received.service_name.as_deref() == Some(service_name),
            || format!("span `{}` lost its service.name", sent.name),
        );
        let received_attributes: HashMap<&str, Json> = received
            .span
            .attributes
            .iter()
            .map(|kv| {
                (
                    kv.key.as_str(),
                    value_of(kv).map(as_json).unwrap_or(Json::Null),
                )
            })
            .collect();
        for (key, value) in &sent.attributes {
            failures.check(received_attributes.get(key.as_str()) == Some(value), || {
                format!(
                    "`{}` [{}]: the app's attribute {key} = {value} arrived as {:?}",
                    sent.name,
                    sent.scope,
                    received_attributes.get(key.as_str())
                )
            });
        }
        for key in received_attributes.keys() {
            let added = !sent.attributes.contains_key(*key);
            failures.check(!added || AGENT_ATTRIBUTES.contains(key), || {
                format!(
                    "`{}` [{}]: unexpected attribute {key} added",
                    sent.name, sent.scope
                )
            });
        }
        if sent.scope == app_scope || bystander_scopes.contains(&sent.scope.as_str()) {
            // The app's own and other non-LLM spans pass exactly as they were sent.
            failures.check(
                received.span.attributes.len() == sent.attributes.len(),
                || {
                    format!(
                        "the app's non-LLM span `{}` was changed: {:?}",
                        sent.name,
                        received_attributes.keys().collect::<Vec<_>>()
                    )
                },
            );
        }
    }
    let scopes: BTreeMap<&str, &str> = emitted
        .iter()
        .map(|span| (span.scope.as_str(), span.scope_version.as_str()))
        .collect();
    eprintln!("instrumentation scopes and versions seen: {scopes:?}");

    // Each call is priced exactly once, with the hand-worked cost; any other span describing the
    // same call is marked `duplicate` and names the priced span.
    let calls_made: Vec<(&str, &str)> = emitted
        .iter()
        .filter_map(|span| match span.attributes.get("app.call") {
            Some(Json::String(call)) => Some((call.as_str(), span.trace_id.as_str())),
            _ => None,
        })
        .collect();
    failures.check(calls_made.len() == calls.len(), || {
        format!(
            "the scripts made calls {calls_made:?}, expected {}",
            calls.len()
        )
    });
    for call in calls {
        let what = format!("{} ({})", call.key, call.run);
        let Some((_, trace_id)) = calls_made.iter().find(|(key, _)| *key == call.key) else {
            failures
                .0
                .push(format!("{what}: the script made no such call"));
            continue;
        };
        let spans: Vec<&Forwarded> = forwarded
            .values()
            .filter(|span| {
                hex(&span.span.trace_id) == *trace_id
                    && span.scope != app_scope
                    && !bystander_scopes.contains(&span.scope.as_str())
            })
            .collect();
        let mut scopes: Vec<&str> = spans
            .iter()
            .filter(|span| span.carries_usage())
            .map(|span| span.scope.as_str())
            .collect();
        scopes.sort_unstable();
        failures.check(scopes == call.scopes, || {
            format!("{what}: spans from {scopes:?}, expected {:?}", call.scopes)
        });
        let costs: &[ExpectedCost] = match &call.expect {
            Expect::Priced(cost) => std::slice::from_ref(cost),
            Expect::Steps(costs) => costs,
            Expect::Unpriced(reason) => {
                check_unpriced(&mut failures, &what, &spans, reason);
                continue;
            }
            Expect::Free => {
                check_free(&mut failures, &what, &spans);
                continue;
            }
        };
        let mut priced: Vec<&&Forwarded> = spans
            .iter()
            .filter(|span| span.attribute("gen_ai.usage.cost.amount").is_some())
            .collect();
        priced.sort_by_key(|span| span.span.start_time_unix_nano);
        failures.check(priced.len() == costs.len(), || {
            format!(
                "{what}: {} spans priced, expected {}: {:?}",
                priced.len(),
                costs.len(),
                priced
                    .iter()
                    .map(|span| format!(
                        "`{}` [{}] amount {}",
                        span.span.name,
                        span.scope,
                        show(span.attribute("gen_ai.usage.cost.amount"))
                    ))
                    .collect::<Vec<_>>()
            )
        });
        for (span, cost) in priced.iter().zip(costs) {
            check_priced(&mut failures, &what, span, cost);
            failures.check(
                span.attribute("gen_ai.usage.cost.unpriced_reason")
                    .is_none(),
                || format!("{what}: a priced span also has an unpriced_reason"),
            );
        }
        let priced_ids: Vec<String> = priced.iter().map(|span| span.span_id()).collect();
        for other in spans
            .iter()
            .filter(|span| !priced_ids.contains(&span.span_id()))
        {
            if !other.carries_usage() {
                // A chain, prompt, parser, agent or tool span around the call: it reports no
                // usage and must get no cost.
                check_untouched(&mut failures, &what, other);
                continue;
            }
            if other.string("gen_ai.usage.cost.unpriced_reason") == Some("aggregate_span") {
                check_aggregate(&mut failures, &what, other, &spans, &priced_ids);
                continue;
            }
            failures.check(
                other.string("gen_ai.usage.cost.unpriced_reason") == Some("duplicate"),
                || {
                    format!(
                        "{what}: `{}` [{}] has unpriced_reason {}, expected \"duplicate\"",
                        other.span.name,
                        other.scope,
                        show(other.attribute("gen_ai.usage.cost.unpriced_reason"))
                    )
                },
            );
            failures.check(
                other
                    .string("gen_ai.usage.cost.duplicate_of")
                    .is_some_and(|id| priced_ids.iter().any(|priced| priced == id)),
                || {
                    format!(
                        "{what}: `{}` [{}] has duplicate_of {}, expected one of {priced_ids:?}",
                        other.span.name,
                        other.scope,
                        show(other.attribute("gen_ai.usage.cost.duplicate_of")),
                    )
                },
            );
        }
    }
    let priced_calls: usize = calls
        .iter()
        .map(|call| match call.expect {
            Expect::Priced(_) => 1,
            Expect::Steps(costs) => costs.len(),
            Expect::Unpriced(_) | Expect::Free => 0,
        })
        .sum();
    failures.check(
        agent.counters().priced_total() == priced_calls as u64,
        || {
            format!(
                "the agent counted {} priced calls, expected {}",
                agent.counters().priced_total(),
                priced_calls
            )
        },
    );

    assert!(
        failures.0.is_empty(),
        "{} mismatches:\n{}\n{}",
        failures.0.len(),
        failures.0.join("\n"),
        dump(&forwarded)
    );
    assert!(agent.shutdown().await);
}
