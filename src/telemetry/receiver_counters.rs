//! Counters and gauges of the receivers' transport: open connections, accept errors,
//! connections the agent closed (by reason), request bytes in flight, refusals by the admission
//! budget and the memory limiter, and the limiter's state.

use super::labels::{Label, Labelled};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// The servers whose connections are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Grpc,
    Http,
    Telemetry,
}

impl Listener {
    pub const ALL: [Listener; 3] = [Listener::Grpc, Listener::Http, Listener::Telemetry];
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::Grpc => "grpc",
            Listener::Http => "http",
            Listener::Telemetry => "telemetry",
        }
    }
}

/// Why a request was refused with a retryable status before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryRefusal {
    /// The process-wide budget of request bytes in flight was used up.
    Budget,
    /// The connection's share of the budget was used up.
    Connection,
    /// The memory limiter is above its soft limit.
    MemoryLimiter,
}

impl MemoryRefusal {
    pub const ALL: [MemoryRefusal; 3] = [Self::Budget, Self::Connection, Self::MemoryLimiter];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Budget => "request_limit",
            Self::Connection => "per_connection_limit",
            Self::MemoryLimiter => "memory_limiter",
        }
    }
}

#[derive(Default)]
struct PerListener {
    open: AtomicI64,
    accept_errors: AtomicU64,
    closed: Labelled,
}

#[derive(Default)]
pub struct ReceiverCounters {
    listeners: [PerListener; 3],
    in_flight_bytes: AtomicI64,
    memory_refused: [AtomicU64; 3],
    limiter_refusing: AtomicBool,
    resident_bytes: AtomicU64,
}

impl ReceiverCounters {
    fn listener(&self, listener: Listener) -> &PerListener {
        &self.listeners[listener as usize]
    }
    pub fn connection_opened(&self, listener: Listener) {
        self.listener(listener).open.fetch_add(1, Ordering::Relaxed);
    }
    pub fn connection_ended(&self, listener: Listener) {
        self.listener(listener).open.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn open_connections(&self, listener: Listener) -> i64 {
        self.listener(listener).open.load(Ordering::Relaxed)
    }
    pub fn accept_error(&self, listener: Listener) {
        self.listener(listener)
            .accept_errors
            .fetch_add(1, Ordering::Relaxed);
    }
    pub fn accept_errors(&self, listener: Listener) -> u64 {
        self.listener(listener)
            .accept_errors
            .load(Ordering::Relaxed)
    }
    /// The agent closed a connection, for `reason`.
    pub fn connection_closed<L: Label>(&self, listener: Listener, reason: L) {
        self.listener(listener).closed.add(reason, 1);
    }
    /// Names why the agent closes connections, so each reason renders before it first happens.
    pub fn declare_close_reasons<L: Label>(&self) {
        for listener in &self.listeners {
            listener.closed.declare::<L>();
        }
    }
    pub fn in_flight(&self, bytes: i64) {
        self.in_flight_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    pub fn in_flight_bytes(&self) -> i64 {
        self.in_flight_bytes.load(Ordering::Relaxed)
    }
    pub fn memory_refused(&self, why: MemoryRefusal) {
        self.memory_refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub fn memory_refused_total(&self, why: MemoryRefusal) -> u64 {
        self.memory_refused[why as usize].load(Ordering::Relaxed)
    }
    pub fn set_limiter_state(&self, refusing: bool, resident_bytes: u64) {
        self.limiter_refusing.store(refusing, Ordering::Relaxed);
        self.resident_bytes.store(resident_bytes, Ordering::Relaxed);
    }

    /// The families in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let name = "genai_cost_agent_receiver_open_connections";
        let _ = writeln!(
            out,
            "# HELP {name} Connections being served.\n# TYPE {name} gauge"
        );
        for listener in Listener::ALL {
            let value = self.open_connections(listener);
            let _ = writeln!(out, "{name}{{listener=\"{}\"}} {value}", listener.as_str());
        }
        let name = "genai_cost_agent_receiver_accept_errors_total";
        let _ = writeln!(out, "# HELP {name} Failed accepts (e.g. out of file descriptors), each followed by a back-off.\n# TYPE {name} counter");
        for listener in Listener::ALL {
            let value = self.accept_errors(listener);
            let _ = writeln!(out, "{name}{{listener=\"{}\"}} {value}", listener.as_str());
        }
        let name = "genai_cost_agent_receiver_closed_connections_total";
        let _ = writeln!(
            out,
            "# HELP {name} Connections the agent closed, by reason.\n# TYPE {name} counter"
        );
        for listener in Listener::ALL {
            for (reason, value) in self.listener(listener).closed.values() {
                let _ = writeln!(
                    out,
                    "{name}{{listener=\"{}\",reason=\"{reason}\"}} {value}",
                    listener.as_str()
                );
            }
        }
        let name = "genai_cost_agent_receiver_in_flight_bytes";
        let _ = writeln!(out, "# HELP {name} Bytes of requests being received or decoded (the admission budget in use).\n# TYPE {name} gauge\n{name} {}", self.in_flight_bytes());
        let name = "genai_cost_agent_receiver_memory_refused_requests_total";
        let _ = writeln!(out, "# HELP {name} Requests refused with a retryable status to bound memory, by reason.\n# TYPE {name} counter");
        for why in MemoryRefusal::ALL {
            let value = self.memory_refused_total(why);
            let _ = writeln!(out, "{name}{{reason=\"{}\"}} {value}", why.as_str());
        }
        let name = "genai_cost_agent_memory_limiter_refusing";
        let refusing = u8::from(self.limiter_refusing.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP {name} 1 while the memory limiter is above its soft limit and refuses data.\n# TYPE {name} gauge\n{name} {refusing}");
        let name = "genai_cost_agent_process_resident_memory_bytes";
        let resident = self.resident_bytes.load(Ordering::Relaxed);
        let _ = writeln!(out, "# HELP {name} Resident memory at the memory limiter's last check.\n# TYPE {name} gauge\n{name} {resident}");
    }
}
