//! Derived metrics: every priced model call becomes metric points (tokens, duration, cost by
//! kind, cost per request, cache savings, unpriced calls, threshold crossings), aggregated per
//! series with a cardinality limit applied before anything of a new series is stored, sent as
//! OTLP every interval and optionally served to Prometheus.

mod flusher;
mod instruments;
mod limits;
mod otlp;
mod prometheus;
mod record;
mod series;
mod state;

pub use flusher::{agent_identity, flush_once, run_flusher, MetricsSink};
pub use instruments::{prometheus_label, Instrument, Kind};
pub use prometheus::{render as render_prometheus, serve_prometheus};
pub use record::{CallRecord, CallSpan, Dimension, DimensionKey};
pub use series::{SeriesKey, Value, OVERFLOW_KEY};

use crate::config::{MetricsConfig, Temporality};
use crate::otlp::EncodedRequest;
use crate::telemetry::AgentCounters;
use rust_decimal::Decimal;
use state::State;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes of records parked while the state is busy, at most (one batch may enter an empty
/// park whatever its size); beyond, receivers wait for the state.
const MAX_PARKED_BYTES: usize = 8 << 20;

/// Records waiting for the state, and the bytes they hold.
#[derive(Default)]
struct Parked {
    records: Vec<CallRecord>,
    bytes: usize,
}

/// The state of every derived metric, shared by the receivers (recording) and the flusher.
pub struct DerivedMetrics {
    state: Mutex<State>,
    /// Records waiting for the state while another thread held it.
    parked: Mutex<Parked>,
    /// Bucket boundaries, by instrument.
    bounds: Vec<Vec<Decimal>>,
    currency: String,
    temporality: Temporality,
    cardinality_limit: usize,
    max_label_value_length: usize,
    idle_timeout: Duration,
    /// Resource attributes of the derived metrics: the agent's identity.
    identity: Vec<(String, String)>,
    counters: Arc<AgentCounters>,
}

impl DerivedMetrics {
    pub fn new(
        config: &MetricsConfig,
        currency: &str,
        identity: Vec<(String, String)>,
        counters: Arc<AgentCounters>,
    ) -> Self {
        Self {
            state: Mutex::new(State::default()),
            parked: Mutex::new(Parked::default()),
            bounds: Instrument::ALL
                .iter()
                .map(|instrument| instrument.bounds())
                .collect(),
            currency: currency.to_string(),
            temporality: config.temporality,
            cardinality_limit: config.cardinality_limit.max(2),
            max_label_value_length: config.max_label_value_length.max(1),
            idle_timeout: config.series_idle_timeout.0,
            identity,
            counters,
        }
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// Adds the points of `records`, their dimension values cut to the configured length first.
    /// Receivers never wait on each other here: when the state is busy the records are parked
    /// (a short lock, bounded in bytes) and applied by whoever takes the state next.
    pub fn record(&self, mut records: Vec<CallRecord>) {
        if records.is_empty() {
            return;
        }
        self.cut_values(&mut records);
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(std::sync::TryLockError::WouldBlock) => {
                let Some(refused) = self.park(records) else {
                    return;
                };
                records = refused;
                match self.state.lock() {
                    Ok(state) => state,
                    Err(_) => return,
                }
            }
            Err(std::sync::TryLockError::Poisoned(_)) => return,
        };
        self.apply_parked(&mut state);
        self.apply(&mut state, &records);
    }

    fn cut_values(&self, records: &mut [CallRecord]) {
        let cut: u64 = records
            .iter_mut()
            .map(|record| limits::cut_dimensions(record, self.max_label_value_length))
            .sum();
        if cut > 0 {
            self.counters.label_values_truncated(cut);
        }
    }

    /// Parks `records` if they fit; else hands them back.
    fn park(&self, records: Vec<CallRecord>) -> Option<Vec<CallRecord>> {
        let Ok(mut parked) = self.parked.lock() else {
            return Some(records);
        };
        let bytes: usize = records.iter().map(limits::heap_bytes).sum();
        if !parked.records.is_empty() && parked.bytes + bytes > MAX_PARKED_BYTES {
            return Some(records);
        }
        parked.records.extend(records);
        parked.bytes += bytes;
        None
    }

    fn apply_parked(&self, state: &mut State) {
        let parked = self
            .parked
            .lock()
            .map(|mut parked| std::mem::take(&mut *parked))
            .unwrap_or_default();
        self.apply(state, &parked.records);
    }

    fn apply(&self, state: &mut State, records: &[CallRecord]) {
        if records.is_empty() {
            return;
        }
        let (now, instant) = (unix_nanos_now(), std::time::Instant::now());
        let mut points = Vec::with_capacity(16);
        for record in records {
            record::fill_points(record, &mut points);
            let base = self.admit(state, &record.dimensions, &points);
            for record::Point {
                instrument,
                extra,
                value,
            } in points.drain(..)
            {
                let bounds = &self.bounds[instrument as usize];
                let empty = || match instrument.kind() {
                    Kind::Histogram => Value::Histogram {
                        buckets: vec![0; bounds.len() + 1],
                        count: 0,
                        sum: Decimal::ZERO,
                    },
                    Kind::MonotonicSum | Kind::Sum => Value::Sum(Decimal::ZERO),
                };
                let (series, overflow) = state.table(instrument).entry(
                    base.map(|base| State::key(base, extra)),
                    self.cardinality_limit,
                    empty,
                    now,
                    instant,
                );
                if overflow {
                    self.counters.metric_overflow();
                }
                add(&mut series.value, bounds, value);
            }
        }
    }

    /// The interned number of a call's dimensions; a new set is interned only if one of its
    /// points would get a series of its own, else (`None`) all its points overflow and nothing
    /// of it is stored.
    fn admit(
        &self,
        state: &mut State,
        dimensions: &[Dimension],
        points: &[record::Point],
    ) -> Option<u32> {
        if let Some(base) = state.find(dimensions) {
            return Some(base);
        }
        points
            .iter()
            .any(|point| {
                state
                    .table_ref(point.instrument)
                    .has_room(self.cardinality_limit)
            })
            .then(|| state.intern(dimensions))
    }

    /// The points to send now, as one encoded OTLP request (`None` when there is nothing to
    /// send). With delta temporality, call [`DerivedMetrics::committed`] once it is queued.
    pub fn collect(&self) -> Option<EncodedRequest> {
        let now = unix_nanos_now();
        let mut state = self.state.lock().ok()?;
        self.apply_parked(&mut state);
        for instrument in Instrument::ALL {
            state.table(instrument).forget_idle(self.idle_timeout);
        }
        state.compact();
        otlp::encode_request(self, &mut state, now)
    }

    /// The last collected delta reached the exporters' queues.
    pub fn committed(&self) {
        if let Ok(mut state) = self.state.lock() {
            for instrument in Instrument::ALL {
                state.table(instrument).commit();
            }
        }
    }

    /// Cumulative values of every series, for the Prometheus endpoint and tests.
    pub fn snapshot(&self) -> Vec<(Instrument, SeriesKey, Value)> {
        let Ok(mut state) = self.state.lock() else {
            return Vec::new();
        };
        self.apply_parked(&mut state);
        let mut points: Vec<_> = Instrument::ALL
            .iter()
            .flat_map(|instrument| {
                let state = &state;
                state
                    .table_ref(*instrument)
                    .cumulative()
                    .map(move |(key, series)| {
                        (*instrument, state.expand(key), series.value.clone())
                    })
            })
            .collect();
        points.sort_by(|a, b| (a.0 as usize, &a.1).cmp(&(b.0 as usize, &b.1)));
        points
    }
}

fn add(value: &mut Value, bounds: &[Decimal], amount: Decimal) {
    match value {
        // Sums saturate rather than overflow (money sums of ~10^28 are not real traffic).
        Value::Sum(sum) => *sum = sum.saturating_add(amount),
        Value::Histogram {
            buckets,
            count,
            sum,
        } => {
            // The first bound at or above the amount (bounds ascend): a binary search, as a
            // `Decimal` comparison across scales is not cheap.
            let bucket = bounds.partition_point(|bound| *bound < amount);
            buckets[bucket] += 1;
            *count += 1;
            *sum = sum.saturating_add(amount);
        }
    }
}

pub fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bounds_tests;
