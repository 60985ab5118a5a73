//! Series state of one instrument: values keyed by their attributes, a cardinality limit with
//! one overflow series, idle series forgotten, and what was last exported (for delta).

use rust_decimal::Decimal;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Attribute pairs of a series, in a fixed order.
pub type SeriesKey = Vec<(String, String)>;

pub const OVERFLOW_KEY: &str = "otel.metric.overflow";

/// A point's value: a sum, or a histogram's bucket counts, count and sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Sum(Decimal),
    Histogram {
        buckets: Vec<u64>,
        count: u64,
        sum: Decimal,
    },
}

impl Value {
    fn minus(&self, earlier: &Value) -> Value {
        match (self, earlier) {
            (Value::Sum(now), Value::Sum(before)) => Value::Sum(now - before),
            (
                Value::Histogram {
                    buckets,
                    count,
                    sum,
                },
                Value::Histogram {
                    buckets: before_buckets,
                    count: before_count,
                    sum: before_sum,
                },
            ) => Value::Histogram {
                buckets: buckets
                    .iter()
                    .zip(before_buckets)
                    .map(|(now, before)| now - before)
                    .collect(),
                count: count - before_count,
                sum: sum - before_sum,
            },
            (now, _) => now.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Series {
    pub value: Value,
    /// Unix nanoseconds when the series began (cumulative start time).
    pub start_unix_nanos: u64,
    last_update: Instant,
    /// With delta temporality only (boxed: a cumulative series, the default, carries one
    /// pointer instead of two values it never uses).
    delta: Option<Box<Delta>>,
}

/// What delta temporality remembers of a series.
#[derive(Debug, Clone, Default)]
struct Delta {
    /// Value and time of the last export that reached a queue (the baseline).
    exported: Option<(Value, u64)>,
    /// Value at the last collection, committed to `exported` once queued.
    collected: Option<(Value, u64)>,
}

/// A key that can stand for the overflow series.
pub trait TableKey: std::hash::Hash + Eq + Clone {
    fn overflow() -> Self;
}

impl TableKey for SeriesKey {
    fn overflow() -> Self {
        vec![(OVERFLOW_KEY.to_string(), "true".to_string())]
    }
}

/// All series of one instrument.
#[derive(Debug)]
pub struct SeriesTable<K = SeriesKey> {
    series: HashMap<K, Series, FxBuildHasher>,
}

impl<K> Default for SeriesTable<K> {
    fn default() -> Self {
        Self {
            series: HashMap::default(),
        }
    }
}

impl<K: TableKey> SeriesTable<K> {
    /// Whether a key not held yet would get a series of its own under `limit` (one series is
    /// kept for the overflow).
    pub fn has_room(&self, limit: usize) -> bool {
        self.series.len() < limit.saturating_sub(1)
    }

    /// The series for `key`, created empty if there is room; else (or with no key: a dimension
    /// set refused before it was stored) the overflow series.
    /// Returns whether the point went to the overflow series.
    pub fn entry(
        &mut self,
        key: Option<K>,
        limit: usize,
        empty: impl FnOnce() -> Value,
        now_unix_nanos: u64,
        now: Instant,
    ) -> (&mut Series, bool) {
        let key = key.filter(|key| self.series.contains_key(key) || self.has_room(limit));
        let overflow = key.is_none();
        let series = self
            .series
            .entry(key.unwrap_or_else(K::overflow))
            .or_insert_with(|| Series {
                value: empty(),
                start_unix_nanos: now_unix_nanos,
                last_update: now,
                delta: None,
            });
        series.last_update = now;
        (series, overflow)
    }

    /// Replaces every key by `rename(key)`.
    pub fn rekey(&mut self, rename: impl Fn(&K) -> K) {
        self.series = std::mem::take(&mut self.series)
            .into_iter()
            .map(|(key, series)| (rename(&key), series))
            .collect();
    }

    /// Keys of the series held.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.series.keys()
    }

    /// Forgets series not updated for `idle`; returns how many.
    pub fn forget_idle(&mut self, idle: Duration) -> usize {
        let before = self.series.len();
        self.series
            .retain(|_, series| series.last_update.elapsed() <= idle);
        before - self.series.len()
    }

    /// Cumulative points: every series from its start.
    pub fn cumulative(&self) -> impl Iterator<Item = (&K, &Series)> {
        self.series.iter()
    }

    /// Delta points since the last committed export: (key, start, value); series without change
    /// are left out. Remembers what was collected until [`SeriesTable::commit`].
    pub fn collect_delta(&mut self, now_unix_nanos: u64) -> Vec<(K, u64, Value)> {
        let mut points = Vec::new();
        for (key, series) in &mut self.series {
            let delta = series.delta.get_or_insert_with(Box::default);
            let (baseline, since) = match &delta.exported {
                Some((value, at)) => (Some(value), *at),
                None => (None, series.start_unix_nanos),
            };
            let change = baseline.map_or_else(
                || series.value.clone(),
                |baseline| series.value.minus(baseline),
            );
            let unchanged = baseline == Some(&series.value);
            delta.collected = Some((series.value.clone(), now_unix_nanos));
            if !unchanged {
                points.push((key.clone(), since, change));
            }
        }
        points
    }

    /// The collected delta reached a queue: it becomes the next baseline.
    pub fn commit(&mut self) {
        for delta in self
            .series
            .values_mut()
            .filter_map(|series| series.delta.as_mut())
        {
            if let Some(collected) = delta.collected.take() {
                delta.exported = Some(collected);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_cumulative_series_carries_no_delta_state() {
        // The value (a histogram's buckets, count and sum), its start, its last update and
        // one pointer: every series of the derived metrics (2,000 per instrument by default)
        // is this size.
        assert_eq!(std::mem::size_of::<Series>(), 80);
    }

    fn key(value: &str) -> SeriesKey {
        vec![("user.id".into(), value.into())]
    }

    fn add(table: &mut SeriesTable, user: &str, amount: Decimal, limit: usize) -> bool {
        let (series, overflow) = table.entry(
            Some(key(user)),
            limit,
            || Value::Sum(Decimal::ZERO),
            1,
            Instant::now(),
        );
        if let Value::Sum(sum) = &mut series.value {
            *sum += amount;
        }
        overflow
    }

    #[test]
    fn points_beyond_the_limit_go_to_one_overflow_series() {
        let mut table: SeriesTable = SeriesTable::default();
        assert!(!add(&mut table, "a", dec!(1), 3));
        assert!(!add(&mut table, "b", dec!(1), 3));
        assert!(add(&mut table, "c", dec!(1), 3));
        assert!(add(&mut table, "d", dec!(2), 3));
        assert!(
            !add(&mut table, "a", dec!(1), 3),
            "existing series still take points"
        );
        assert_eq!(table.series.len(), 3);
        let overflow = table
            .cumulative()
            .find(|(key, _)| key[0].0 == OVERFLOW_KEY)
            .unwrap()
            .1;
        assert_eq!(overflow.value, Value::Sum(dec!(3)));
    }

    #[test]
    fn delta_reports_changes_since_the_committed_export() {
        let mut table: SeriesTable = SeriesTable::default();
        add(&mut table, "a", dec!(5), 10);
        let first = table.collect_delta(100);
        assert_eq!(first, vec![(key("a"), 1, Value::Sum(dec!(5)))]);
        table.commit();
        assert!(table.collect_delta(200).is_empty(), "no change, no point");
        table.commit();
        add(&mut table, "a", dec!(2), 10);
        let uncommitted = table.collect_delta(300);
        assert_eq!(uncommitted, vec![(key("a"), 200, Value::Sum(dec!(2)))]);
        // Not committed (the queue refused it): the next collection still carries it.
        add(&mut table, "a", dec!(1), 10);
        assert_eq!(
            table.collect_delta(400),
            vec![(key("a"), 200, Value::Sum(dec!(3)))]
        );
    }
}
