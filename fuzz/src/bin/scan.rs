//! The AFL target: every input is checked as a trace, metrics and logs request.

fn main() {
    afl::fuzz!(|data: &[u8]| genai_cost_agent_fuzz::check(data));
}
