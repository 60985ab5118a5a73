//! Requests refused as the client's fault (undecodable, too large, wrong content type): counted
//! in `receiver_rejected_requests_total` and logged at a bounded rate, for both protocols.

use crate::telemetry::{AgentCounters, RateLimitedLog};
use std::sync::Arc;
use std::time::Duration;

pub struct Rejections {
    counters: Arc<AgentCounters>,
    log: RateLimitedLog,
}

impl Rejections {
    pub fn new(counters: Arc<AgentCounters>) -> Arc<Self> {
        Arc::new(Self {
            counters,
            log: RateLimitedLog::new(Duration::from_secs(10)),
        })
    }

    /// Counts and logs one rejected request; `protocol` is `gRPC` or `HTTP`.
    pub fn reject(&self, protocol: &str, why: &str) {
        self.counters.rejected_request();
        self.log
            .warn(&format!("{protocol} receiver rejected a request: {why}"));
    }
}
