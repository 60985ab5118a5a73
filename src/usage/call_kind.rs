//! Which spans are model calls. Agent, workflow, chain and tool spans often repeat the usage of
//! the model calls beneath them; pricing them too would count the same tokens twice.

/// `gen_ai.operation.name` values of spans that wrap model calls rather than make one.
const AGGREGATE_OPERATIONS: [&str; 4] = [
    "invoke_agent",
    "create_agent",
    "execute_tool",
    "invoke_workflow",
];

/// OpenInference span kinds that are model calls; every other kind wraps them.
const OPENINFERENCE_CALL_KINDS: [&str; 2] = ["llm", "embedding"];

/// OpenLLMetry (Traceloop) span kinds that wrap model calls.
const TRACELOOP_AGGREGATE_KINDS: [&str; 4] = ["workflow", "task", "agent", "tool"];

/// Vercel AI SDK parent spans; their `.doGenerate` / `.doStream` / `.doEmbed` children are the calls.
const VERCEL_PARENT_OPERATIONS: [&str; 6] = [
    "ai.generateText",
    "ai.streamText",
    "ai.generateObject",
    "ai.streamObject",
    "ai.embed",
    "ai.embedMany",
];

/// The span-kind markers found on a span.
#[derive(Debug, Default, Clone, Copy)]
pub struct KindMarkers<'a> {
    pub operation: Option<&'a str>,
    pub openinference_kind: Option<&'a str>,
    pub traceloop_kind: Option<&'a str>,
    pub vercel_operation: Option<&'a str>,
}

/// Whether a span with usage only sums up calls reported by other spans.
pub fn is_aggregate(markers: &KindMarkers<'_>, span_name: &str) -> bool {
    let operation = markers.operation.is_some_and(|op| {
        AGGREGATE_OPERATIONS
            .iter()
            .any(|known| op.eq_ignore_ascii_case(known))
    });
    let openinference = markers.openinference_kind.is_some_and(|kind| {
        !OPENINFERENCE_CALL_KINDS
            .iter()
            .any(|call| kind.eq_ignore_ascii_case(call))
    });
    let traceloop = markers.traceloop_kind.is_some_and(|kind| {
        TRACELOOP_AGGREGATE_KINDS
            .iter()
            .any(|known| kind.eq_ignore_ascii_case(known))
    });
    let vercel_operation = markers.vercel_operation.unwrap_or(span_name);
    let vercel = VERCEL_PARENT_OPERATIONS.contains(&vercel_operation);
    operation || openinference || traceloop || vercel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_chain_and_workflow_spans_are_aggregates() {
        assert!(is_aggregate(
            &KindMarkers {
                operation: Some("invoke_agent"),
                ..Default::default()
            },
            "x"
        ));
        assert!(is_aggregate(
            &KindMarkers {
                openinference_kind: Some("CHAIN"),
                ..Default::default()
            },
            "x"
        ));
        assert!(is_aggregate(
            &KindMarkers {
                traceloop_kind: Some("workflow"),
                ..Default::default()
            },
            "x"
        ));
        assert!(is_aggregate(&KindMarkers::default(), "ai.generateText"));
        assert!(is_aggregate(
            &KindMarkers {
                vercel_operation: Some("ai.streamText"),
                ..Default::default()
            },
            "stream"
        ));
    }

    #[test]
    fn model_calls_are_not_aggregates() {
        assert!(!is_aggregate(
            &KindMarkers {
                operation: Some("chat"),
                ..Default::default()
            },
            "chat gpt-4o"
        ));
        assert!(!is_aggregate(
            &KindMarkers {
                openinference_kind: Some("LLM"),
                ..Default::default()
            },
            "ChatCompletion"
        ));
        assert!(!is_aggregate(
            &KindMarkers::default(),
            "ai.generateText.doGenerate"
        ));
        assert!(!is_aggregate(
            &KindMarkers {
                vercel_operation: Some("ai.generateText.doGenerate"),
                ..Default::default()
            },
            "x"
        ));
    }
}
