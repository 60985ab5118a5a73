//! The cost ledger's own counters: records written, dropped because the writer was behind, and
//! lost to failed writes.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct LedgerCounters {
    written: AtomicU64,
    dropped: AtomicU64,
    write_failed: AtomicU64,
}

impl LedgerCounters {
    pub fn written(&self, records: u64) {
        self.written.fetch_add(records, Ordering::Relaxed);
    }
    pub fn dropped(&self, records: u64) {
        self.dropped.fetch_add(records, Ordering::Relaxed);
    }
    pub fn write_failed(&self, records: u64) {
        self.write_failed.fetch_add(records, Ordering::Relaxed);
    }
    pub fn written_total(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    pub fn dropped_total(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    pub fn write_failed_total(&self) -> u64 {
        self.write_failed.load(Ordering::Relaxed)
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let name = "genai_cost_agent_ledger_records_total";
        let _ = writeln!(
            out,
            "# HELP {name} Cost ledger records: written, dropped (the writer was behind) or lost to a failed write.\n# TYPE {name} counter"
        );
        for (result, count) in [
            ("written", self.written_total()),
            ("dropped", self.dropped_total()),
            ("write_failed", self.write_failed_total()),
        ] {
            let _ = writeln!(out, "{name}{{result=\"{result}\"}} {count}");
        }
    }
}
