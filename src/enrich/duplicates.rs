//! Pricing one call once when two spans report it (an SDK's own span beside an
//! instrumentation's). A bounded, time-limited memory of recently priced calls, keyed by
//! response id within a trace and by parent/child links with the same token counts.
//!
//! Within one request the more precise span is priced (the caller offers spans most precise
//! first). Across requests the first span to arrive is priced and a later one, even a more
//! precise one, is marked `duplicate`: the first has already been forwarded with its cost.
//! A call is remembered for `window` or until `max_entries` newer calls push it out; a second
//! span arriving after that is priced again (counted twice).

use rustc_hash::FxBuildHasher;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What identifies one priced call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallIdentity {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    pub response_id: Option<String>,
    /// Input and output token counts: parent and child spans of one call report the same.
    pub fingerprint: (u64, u64),
    /// Start and end (Unix nanoseconds): sibling spans of one call nest in time.
    pub interval: (u64, u64),
}

pub type TraceId = [u8; 16];
pub type SpanId = [u8; 8];

/// The id bytes as fixed arrays (ids of another length are padded or cut: they are invalid
/// in OTLP anyway, and only need to compare equal to themselves).
pub fn trace_id(bytes: &[u8]) -> TraceId {
    let mut id = [0; 16];
    let length = bytes.len().min(16);
    id[..length].copy_from_slice(&bytes[..length]);
    id
}

pub fn span_id(bytes: &[u8]) -> SpanId {
    let mut id = [0; 8];
    let length = bytes.len().min(8);
    id[..length].copy_from_slice(&bytes[..length]);
    id
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CallKey {
    /// The response id as a 64-bit hash: ids of any length take the same room.
    Response(TraceId, u64),
    Span(TraceId, SpanId),
    ChildOf(TraceId, SpanId),
    /// Same trace, same parent, same input and output counts.
    Sibling(TraceId, SpanId, (u64, u64)),
}

/// A remembered call.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    at: Instant,
    keys: Keys,
    interval: (u64, u64),
}

/// The memory: calls in the order they were remembered, and an index from a hash of each of
/// their keys to the call's sequence number. Entries stay small (16 bytes a key) however large
/// the keys; a lookup checks the call found really has the key.
#[derive(Default)]
struct Recent {
    by_key: HashMap<u64, u64, FxBuildHasher>,
    order: VecDeque<Remembered>,
    /// The sequence number of `order[0]`.
    first: u64,
}

/// What a remembered call's keys are made of (the keys are derived again when it is forgotten,
/// rather than kept beside it).
#[derive(Debug, Clone, Copy)]
struct Keys {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    response_id: Option<u64>,
    fingerprint: (u64, u64),
}

impl Keys {
    fn each(self) -> impl Iterator<Item = CallKey> {
        let trace = self.trace_id;
        [
            Some(CallKey::Span(trace, self.span_id)),
            self.response_id.map(|id| CallKey::Response(trace, id)),
            self.parent_span_id
                .map(|parent| CallKey::ChildOf(trace, parent)),
            self.parent_span_id
                .map(|parent| CallKey::Sibling(trace, parent, self.fingerprint)),
        ]
        .into_iter()
        .flatten()
    }
}

pub struct DuplicateTracker {
    recent: Mutex<Recent>,
    window: Duration,
    max_entries: usize,
}

impl DuplicateTracker {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        Self {
            recent: Mutex::new(Recent::default()),
            window,
            max_entries: max_entries.max(1),
        }
    }

    /// The span id of an earlier span for the same call, or `None` after remembering this one.
    pub fn check_and_remember(&self, call: &CallIdentity) -> Option<SpanId> {
        self.memory()?.check_and_remember(call)
    }

    /// The memory, locked for a run of calls (one request's).
    pub fn memory(&self) -> Option<Memory<'_>> {
        let recent = self.recent.lock().ok()?;
        Some(Memory {
            recent,
            now: Instant::now(),
            window: self.window,
            max_entries: self.max_entries,
        })
    }
}

/// The memory of priced calls, held for one request.
pub struct Memory<'a> {
    recent: std::sync::MutexGuard<'a, Recent>,
    /// One clock reading for the run.
    now: Instant,
    window: Duration,
    max_entries: usize,
}

impl Memory<'_> {
    /// The span id of an earlier span for the same call, or `None` after remembering this one.
    pub fn check_and_remember(&mut self, call: &CallIdentity) -> Option<SpanId> {
        let now = self.now;
        let recent = &mut self.recent;
        recent.forget_older_than(now, self.window);
        if let Some(earlier) = recent.earlier_span_of(call) {
            return Some(earlier);
        }
        let keys = Keys {
            trace_id: call.trace_id,
            span_id: call.span_id,
            parent_span_id: call.parent_span_id,
            response_id: call.response_id.as_deref().map(fingerprint_of),
            fingerprint: call.fingerprint,
        };
        let sequence = recent.first + recent.order.len() as u64;
        for key in keys.each() {
            recent.by_key.insert(key_hash(&key), sequence);
        }
        recent.order.push_back(Remembered {
            at: now,
            keys,
            interval: call.interval,
        });
        while recent.order.len() > self.max_entries {
            recent.forget_oldest();
        }
        None
    }
}

/// A hash of a response id, to compare ids without keeping them.
fn fingerprint_of(response_id: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = FxBuildHasher.build_hasher();
    hasher.write(response_id.as_bytes());
    hasher.finish()
}

/// Whether one interval lies within the other (a zero interval — no times — never nests).
fn nested(a: (u64, u64), b: (u64, u64)) -> bool {
    let valid = |(start, end): (u64, u64)| start > 0 && end >= start;
    valid(a) && valid(b) && ((a.0 <= b.0 && b.1 <= a.1) || (b.0 <= a.0 && a.1 <= b.1))
}

fn key_hash(key: &CallKey) -> u64 {
    use std::hash::BuildHasher;
    FxBuildHasher.hash_one(key)
}

impl Recent {
    /// The call remembered under `key`.
    fn find(&self, key: &CallKey) -> Option<&Remembered> {
        let sequence = *self.by_key.get(&key_hash(key))?;
        let remembered = self
            .order
            .get(usize::try_from(sequence.checked_sub(self.first)?).ok()?)?;
        remembered
            .keys
            .each()
            .any(|own| own == *key)
            .then_some(remembered)
    }

    fn earlier_span_of(&self, call: &CallIdentity) -> Option<SpanId> {
        let other_span = |key: CallKey, same_counts: bool| {
            self.find(&key)
                .filter(|earlier| {
                    earlier.keys.span_id != call.span_id
                        && (!same_counts || earlier.keys.fingerprint == call.fingerprint)
                })
                .map(|earlier| earlier.keys.span_id)
        };
        let response_id = call.response_id.as_deref().map(fingerprint_of);
        let by_response =
            response_id.and_then(|id| other_span(CallKey::Response(call.trace_id, id), false));
        by_response
            .or_else(|| {
                call.parent_span_id
                    .and_then(|parent| other_span(CallKey::Span(call.trace_id, parent), true))
            })
            .or_else(|| other_span(CallKey::ChildOf(call.trace_id, call.span_id), true))
            .or_else(|| {
                // Siblings with equal counts are one call only when one lies within the other in
                // time (an SDK span inside an instrumentation's span); two calls made in
                // parallel with equal counts overlap without nesting, or not at all.
                let parent = call.parent_span_id?;
                let earlier =
                    self.find(&CallKey::Sibling(call.trace_id, parent, call.fingerprint))?;
                let different_responses = matches!(
                    (earlier.keys.response_id, response_id),
                    (Some(a), Some(b)) if a != b
                );
                (earlier.keys.span_id != call.span_id
                    && !different_responses
                    && nested(earlier.interval, call.interval))
                .then_some(earlier.keys.span_id)
            })
    }

    fn forget_older_than(&mut self, now: Instant, window: Duration) {
        while self
            .order
            .front()
            .is_some_and(|oldest| now.duration_since(oldest.at) > window)
        {
            self.forget_oldest();
        }
    }

    /// Forgets the oldest call; keys a newer call took over (shared parent links) stay.
    fn forget_oldest(&mut self) {
        let Some(oldest) = self.order.pop_front() else {
            return;
        };
        let sequence = self.first;
        self.first += 1;
        for key in oldest.keys.each() {
            let hash = key_hash(&key);
            if self.by_key.get(&hash) == Some(&sequence) {
                self.by_key.remove(&hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        span: u8,
        parent: u8,
        response_id: Option<&str>,
        fingerprint: (u64, u64),
    ) -> CallIdentity {
        CallIdentity {
            trace_id: [7; 16],
            span_id: [span; 8],
            parent_span_id: (parent != 0).then_some([parent; 8]),
            response_id: response_id.map(str::to_string),
            fingerprint,
            interval: (100, 200),
        }
    }

    #[test]
    fn same_response_id_in_a_trace_is_a_duplicate() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        assert_eq!(
            tracker.check_and_remember(&call(1, 9, Some("msg_1"), (10, 5))),
            None
        );
        assert_eq!(
            tracker.check_and_remember(&call(2, 9, Some("msg_1"), (10, 5))),
            Some([1; 8])
        );
        assert_eq!(
            tracker.check_and_remember(&call(3, 9, Some("msg_2"), (10, 5))),
            None
        );
    }

    #[test]
    fn parent_and_child_with_equal_counts_are_one_call_in_either_order() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        assert_eq!(
            tracker.check_and_remember(&call(1, 0, None, (100, 20))),
            None
        );
        assert_eq!(
            tracker.check_and_remember(&call(2, 1, None, (100, 20))),
            Some([1; 8])
        );
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        assert_eq!(
            tracker.check_and_remember(&call(2, 1, None, (100, 20))),
            None
        );
        assert_eq!(
            tracker.check_and_remember(&call(1, 0, None, (100, 20))),
            Some([2; 8])
        );
    }

    #[test]
    fn nested_siblings_with_equal_counts_are_one_call_but_parallel_ones_are_two() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        let mut outer = call(2, 9, None, (10_000, 400));
        outer.interval = (100, 500);
        let mut inner = call(3, 9, Some("msg_1"), (10_000, 400));
        inner.interval = (150, 450);
        assert_eq!(tracker.check_and_remember(&inner), None);
        assert_eq!(tracker.check_and_remember(&outer), Some([3; 8]));
        let mut parallel = call(4, 9, None, (10_000, 400));
        parallel.interval = (300, 900);
        assert_eq!(
            tracker.check_and_remember(&parallel),
            None,
            "overlapping without nesting: a second call"
        );
    }

    #[test]
    fn parent_and_child_with_different_counts_are_two_calls() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        assert_eq!(
            tracker.check_and_remember(&call(1, 0, None, (100, 20))),
            None
        );
        assert_eq!(
            tracker.check_and_remember(&call(2, 1, None, (100, 21))),
            None
        );
    }

    #[test]
    fn forgetting_an_old_call_keeps_the_links_a_newer_call_shares() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 2);
        assert_eq!(tracker.check_and_remember(&call(1, 9, None, (10, 1))), None);
        assert_eq!(tracker.check_and_remember(&call(2, 9, None, (20, 2))), None);
        // A third call pushes out call 1; call 2's link to parent 9 must survive.
        assert_eq!(
            tracker.check_and_remember(&call(3, 0, Some("x"), (5, 5))),
            None
        );
        assert_eq!(
            tracker.check_and_remember(&call(9, 0, None, (20, 2))),
            Some([2; 8])
        );
    }

    #[test]
    fn memory_is_bounded_by_entries_and_time() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 1);
        tracker.check_and_remember(&call(1, 0, Some("a"), (1, 1)));
        tracker.check_and_remember(&call(2, 0, Some("b"), (1, 1)));
        assert_eq!(
            tracker.check_and_remember(&call(3, 0, Some("a"), (1, 1))),
            None,
            "forgotten after one newer call"
        );
        let tracker = DuplicateTracker::new(Duration::ZERO, 100);
        tracker.check_and_remember(&call(1, 0, Some("a"), (1, 1)));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(
            tracker.check_and_remember(&call(2, 0, Some("a"), (1, 1))),
            None,
            "forgotten after the window"
        );
    }
}
