//! Pricing one call once when two spans report it (an SDK's own span beside an
//! instrumentation's). A bounded, time-limited memory of recently priced calls; a span is
//! compared with the calls remembered in its trace (at most the newest
//! [`MAX_CALLS_COMPARED`]): by response id, and by parent/child/sibling links with the same
//! token counts. A sibling may also be a span nested in time whose parent is an ancestor of
//! the span checked: a library that does not make its span current (OpenInference's LangChain
//! span under a chain) leaves the SDK's span of the same call parented higher up.
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

/// How many of a trace's newest calls a span is compared with: the spans of one call arrive
/// together, and a trace with thousands of calls must not make each check walk them all.
pub const MAX_CALLS_COMPARED: usize = 512;

/// Room made at once for this many calls (more grow the memory as they come).
const RESERVED_CALLS: usize = 1 << 17;

/// A remembered call, and how far back the call remembered before it in the same chain is
/// (the calls of a chain form a list, newest first). 64 bytes: absent values are sentinels
/// rather than `Option`s, the trace is known by a 64-bit hash, the two token counts share one
/// word, times and links take 32 bits.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    /// Milliseconds since the tracker was made, wrapping after 49 days: an age is the
    /// wrapping difference, and a call is forgotten long before its age could wrap (unless
    /// no call came for 49 days, when it is merely kept longer).
    at: u32,
    /// How many calls back the previous call of the chain is; 0 for the first of its chain.
    previous_distance: u32,
    trace: TraceKey,
    span_id: SpanId,
    /// All zeros for a root span (an id of zeros is invalid in OTLP).
    parent_span_id: SpanId,
    /// The response id as a 64-bit hash, never 0; 0 without a response id.
    response_id: u64,
    /// The token counts, see [`Counts`].
    counts: Counts,
    interval: (u64, u64),
}

/// A trace id as a 64-bit hash. Two traces whose ids hash alike are taken for one, so a span
/// is also compared with the other trace's calls; a match there would further need equal
/// 64-bit span ids or response-id hashes.
type TraceKey = u64;

fn trace_key(trace_id: &TraceId) -> TraceKey {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = FxBuildHasher.build_hasher();
    hasher.write(trace_id);
    hasher.finish()
}

/// Which chain a trace's calls join: the trace key's low 32 bits. Traces whose keys share them
/// share a chain (about one pair among 100,000 traces); a walk skips the other trace's calls
/// by their full key, and a chain index entry takes 8 bytes instead of 16.
type ChainKey = u32;

fn chain_key(trace: TraceKey) -> ChainKey {
    trace as u32
}

/// A call's input and output token counts in one word, input in the high half: exact up to
/// 4,294,967,295 tokens each (a count above compares as that many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts(u64);

impl Counts {
    fn of((input, output): (u64, u64)) -> Self {
        let half = |count: u64| u64::from(u32::try_from(count).unwrap_or(u32::MAX));
        Counts(half(input) << 32 | half(output))
    }
}

impl Remembered {
    fn parent(&self) -> Option<SpanId> {
        (self.parent_span_id != [0; 8]).then_some(self.parent_span_id)
    }

    fn response(&self) -> Option<u64> {
        (self.response_id != 0).then_some(self.response_id)
    }

    /// The sequence number of the previous call of the chain, given this call's.
    fn previous(&self, sequence: u64) -> Option<u64> {
        (self.previous_distance != 0).then(|| sequence - u64::from(self.previous_distance))
    }
}

/// The memory: calls in the order they were remembered, and for each chain the sequence
/// number of its newest call, cut to 32 bits (the calls remembered are fewer than 2^32, so it
/// names one of them). A span is checked against the calls of its own trace only, so a lookup
/// costs one probe of the chain index and a walk along that chain.
struct Recent {
    newest_by_chain: HashMap<ChainKey, u32, FxBuildHasher>,
    order: VecDeque<Remembered>,
    /// The sequence number of `order[0]`.
    first: u64,
}

pub struct DuplicateTracker {
    recent: Mutex<Recent>,
    /// What remembered times count from.
    epoch: Instant,
    window: Duration,
    max_entries: usize,
}

impl DuplicateTracker {
    pub fn new(window: Duration, max_entries: usize) -> Self {
        let max_entries = max_entries.max(1);
        let reserved = max_entries.min(RESERVED_CALLS);
        Self {
            recent: Mutex::new(Recent {
                newest_by_chain: HashMap::with_capacity_and_hasher(reserved, FxBuildHasher),
                order: VecDeque::with_capacity(reserved),
                first: 0,
            }),
            epoch: Instant::now(),
            window,
            max_entries,
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
            // Truncated on purpose: remembered times wrap (see `Remembered::at`).
            now: self.epoch.elapsed().as_millis() as u32,
            // A window beyond 49 days keeps calls until newer ones push them out.
            window: u32::try_from(self.window.as_millis()).unwrap_or(u32::MAX),
            max_entries: self.max_entries,
        })
    }
}

/// The memory of priced calls, held for one request.
pub struct Memory<'a> {
    recent: std::sync::MutexGuard<'a, Recent>,
    /// One clock reading for the run, in milliseconds since the tracker was made (wrapping).
    now: u32,
    /// In milliseconds.
    window: u32,
    max_entries: usize,
}

impl Memory<'_> {
    /// The span id of an earlier span for the same call, or `None` after remembering this one.
    pub fn check_and_remember(&mut self, call: &CallIdentity) -> Option<SpanId> {
        self.check_and_remember_within(call, |_| false)
    }

    /// Like [`Memory::check_and_remember`], where `is_ancestor` tells whether a span id is an
    /// ancestor of the span checked (asked only of an earlier span with the same counts, nested
    /// in time, that is not its sibling).
    pub fn check_and_remember_within(
        &mut self,
        call: &CallIdentity,
        is_ancestor: impl Fn(SpanId) -> bool,
    ) -> Option<SpanId> {
        let now = self.now;
        let recent = &mut self.recent;
        recent.forget_older_than(now, self.window);
        if let Some(earlier) = recent.earlier_span_of(call, is_ancestor) {
            return Some(earlier);
        }
        // Room first: a full memory that pushed before forgetting would double its buffer.
        while recent.order.len() >= self.max_entries {
            recent.forget_oldest();
        }
        let sequence = recent.first + recent.order.len() as u64;
        let trace = trace_key(&call.trace_id);
        let previous = recent
            .newest_by_chain
            .insert(chain_key(trace), sequence as u32)
            .map(|newest| recent.resolve(newest));
        recent.order.push_back(Remembered {
            at: now,
            // A call further back than 2^32 calls is long forgotten.
            previous_distance: previous
                .and_then(|previous| u32::try_from(sequence - previous).ok())
                .unwrap_or(0),
            trace,
            span_id: call.span_id,
            parent_span_id: call.parent_span_id.unwrap_or([0; 8]),
            response_id: call.response_id.as_deref().map_or(0, fingerprint_of),
            counts: Counts::of(call.fingerprint),
            interval: call.interval,
        });
        None
    }
}

/// A hash of a response id, to compare ids without keeping them; never 0.
fn fingerprint_of(response_id: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = FxBuildHasher.build_hasher();
    hasher.write(response_id.as_bytes());
    hasher.finish().max(1)
}

/// Whether one interval lies within the other (a zero interval — no times — never nests).
fn nested(a: (u64, u64), b: (u64, u64)) -> bool {
    let valid = |(start, end): (u64, u64)| start > 0 && end >= start;
    valid(a) && valid(b) && ((a.0 <= b.0 && b.1 <= a.1) || (b.0 <= a.0 && a.1 <= b.1))
}

impl Recent {
    /// The full sequence number of a remembered call, from its low 32 bits.
    fn resolve(&self, cut: u32) -> u64 {
        self.first + u64::from(cut.wrapping_sub(self.first as u32))
    }

    /// The calls of `trace`'s chain, newest first: the trace's own, and those of a trace
    /// sharing its chain.
    fn chain_of(&self, trace: TraceKey) -> impl Iterator<Item = &Remembered> {
        let mut next = self
            .newest_by_chain
            .get(&chain_key(trace))
            .map(|&newest| self.resolve(newest));
        std::iter::from_fn(move || {
            let sequence = next?;
            let remembered = self
                .order
                .get(usize::try_from(sequence.checked_sub(self.first)?).ok()?)?;
            next = remembered.previous(sequence);
            Some(remembered)
        })
    }

    /// An earlier span of the same trace for this call: one with the same response id, else
    /// (with the same token counts) its parent, its child, or a sibling nested with it in time
    /// (a span whose parent is an ancestor of the call counts as one). The newest such span of
    /// each kind, in that order of preference.
    fn earlier_span_of(
        &self,
        call: &CallIdentity,
        is_ancestor: impl Fn(SpanId) -> bool,
    ) -> Option<SpanId> {
        let response_id = call.response_id.as_deref().map(fingerprint_of);
        let counts = Counts::of(call.fingerprint);
        let trace = trace_key(&call.trace_id);
        let (mut parent, mut child, mut sibling) = (None, None, None);
        for earlier in self.chain_of(trace).take(MAX_CALLS_COMPARED) {
            if earlier.trace != trace || earlier.span_id == call.span_id {
                continue;
            }
            if response_id.is_some() && earlier.response() == response_id {
                return Some(earlier.span_id);
            }
            if earlier.counts != counts {
                continue;
            }
            if call.parent_span_id == Some(earlier.span_id) {
                parent = parent.or(Some(earlier.span_id));
            }
            if earlier.parent() == Some(call.span_id) {
                child = child.or(Some(earlier.span_id));
            }
            // Siblings with equal counts are one call only when one lies within the other in
            // time (an SDK span inside an instrumentation's span); two calls made in parallel
            // with equal counts overlap without nesting, or not at all.
            let different_responses = matches!(
                (earlier.response(), response_id),
                (Some(a), Some(b)) if a != b
            );
            if sibling.is_none()
                && !different_responses
                && nested(earlier.interval, call.interval)
                && earlier.parent().is_some_and(|parent| {
                    call.parent_span_id == Some(parent) || is_ancestor(parent)
                })
            {
                sibling = Some(earlier.span_id);
            }
        }
        parent.or(child).or(sibling)
    }

    fn forget_older_than(&mut self, now: u32, window: u32) {
        while self
            .order
            .front()
            .is_some_and(|oldest| now.wrapping_sub(oldest.at) > window)
        {
            self.forget_oldest();
        }
    }

    /// Forgets the oldest call; its chain stays known while it has newer calls.
    fn forget_oldest(&mut self) {
        let Some(oldest) = self.order.pop_front() else {
            return;
        };
        let sequence = self.first as u32;
        self.first += 1;
        let chain = chain_key(oldest.trace);
        if self.newest_by_chain.get(&chain) == Some(&sequence) {
            self.newest_by_chain.remove(&chain);
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

    /// OpenInference's LangChain span (under the chain span 5, whose parent is the app span 9)
    /// around the SDK's span of the same call (parented to the app span).
    #[test]
    fn a_nested_span_parented_to_an_ancestor_is_the_same_call() {
        let app_is_ancestor = |id: SpanId| id == [9; 8];
        let mut sdk = call(3, 9, Some("msg_1"), (10_000, 1_000));
        sdk.interval = (150, 450);
        let mut langchain = call(2, 5, None, (10_000, 1_000));
        langchain.interval = (100, 500);
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        let mut memory = tracker.memory().unwrap();
        assert_eq!(
            memory.check_and_remember_within(&sdk, app_is_ancestor),
            None
        );
        assert_eq!(
            memory.check_and_remember_within(&langchain, app_is_ancestor),
            Some([3; 8])
        );
        drop(memory);
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        let mut memory = tracker.memory().unwrap();
        memory.check_and_remember_within(&sdk, |_| false);
        assert_eq!(
            memory.check_and_remember_within(&langchain, |_| false),
            None,
            "parented elsewhere: two calls"
        );
        let mut later = call(4, 5, None, (10_000, 1_000));
        later.interval = (600, 900);
        assert_eq!(
            memory.check_and_remember_within(&later, app_is_ancestor),
            None,
            "not nested in time: two calls"
        );
    }

    #[test]
    fn a_parent_finds_its_child_past_a_newer_sibling_with_other_counts() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        assert_eq!(tracker.check_and_remember(&call(1, 9, None, (10, 5))), None);
        assert_eq!(tracker.check_and_remember(&call(2, 9, None, (77, 7))), None);
        assert_eq!(
            tracker.check_and_remember(&call(9, 0, None, (10, 5))),
            Some([1; 8]),
            "span 9 reports the call its child span 1 reported"
        );
    }

    #[test]
    fn only_the_newest_calls_of_a_trace_are_compared() {
        let compared_after = |others: usize| {
            let tracker = DuplicateTracker::new(Duration::from_secs(60), 10_000);
            tracker.check_and_remember(&call(1, 0, Some("msg_first"), (1, 1)));
            for other in 0..others {
                let mut unrelated = call(2, 0, Some("other"), (2, 2));
                unrelated.span_id = [
                    (other % 250) as u8 + 3,
                    (other / 250) as u8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ];
                unrelated.response_id = Some(format!("msg_{other}"));
                tracker.check_and_remember(&unrelated);
            }
            tracker.check_and_remember(&call(200, 0, Some("msg_first"), (1, 1)))
        };
        assert_eq!(compared_after(MAX_CALLS_COMPARED - 1), Some([1; 8]));
        assert_eq!(compared_after(MAX_CALLS_COMPARED), None);
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
    fn a_full_memory_stays_in_the_room_made_for_it() {
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 1000);
        let room = tracker.recent.lock().unwrap().order.capacity();
        for span in 0..3000u32 {
            let mut call = call(1, 0, None, (u64::from(span), 1));
            call.span_id = [span.to_le_bytes(), [0; 4]].concat().try_into().unwrap();
            assert_eq!(tracker.check_and_remember(&call), None);
        }
        let recent = tracker.recent.lock().unwrap();
        assert_eq!(recent.order.len(), 1000);
        assert_eq!(recent.order.capacity(), room);
    }

    /// Two trace ids whose calls join one chain, found by trying ids in turn.
    fn traces_sharing_a_chain() -> (TraceId, TraceId) {
        let mut seen: HashMap<ChainKey, TraceId> = HashMap::new();
        for number in 0u64.. {
            let id = trace_id(&[number.to_le_bytes(), [3; 8]].concat());
            if let Some(other) = seen.insert(chain_key(trace_key(&id)), id) {
                assert_ne!(trace_key(&other), trace_key(&id));
                return (other, id);
            }
        }
        unreachable!()
    }

    #[test]
    fn traces_sharing_a_chain_are_still_told_apart() {
        let (first, second) = traces_sharing_a_chain();
        let tracker = DuplicateTracker::new(Duration::from_secs(60), 100);
        let mut parent = call(1, 0, Some("msg_a"), (100, 20));
        parent.trace_id = first;
        assert_eq!(tracker.check_and_remember(&parent), None);
        let mut other_trace = call(2, 1, Some("msg_a"), (100, 20));
        other_trace.trace_id = second;
        assert_eq!(
            tracker.check_and_remember(&other_trace),
            None,
            "the same response id and a parent link, but in another trace"
        );
        let mut child = call(3, 1, None, (100, 20));
        child.trace_id = first;
        assert_eq!(
            tracker.check_and_remember(&child),
            Some([1; 8]),
            "found past the other trace's call in the chain"
        );
    }

    #[test]
    fn token_counts_compare_exactly_up_to_u32_max() {
        assert_ne!(Counts::of((1, 0)), Counts::of((0, 1)));
        assert_ne!(
            Counts::of((u64::from(u32::MAX) - 1, 7)),
            Counts::of((u64::from(u32::MAX), 7))
        );
        assert_eq!(
            Counts::of((u64::from(u32::MAX), 7)),
            Counts::of((u64::MAX, 7))
        );
    }

    #[test]
    fn sequence_numbers_cut_to_32_bits_resolve_past_the_wrap() {
        let mut recent = Recent {
            newest_by_chain: HashMap::default(),
            order: VecDeque::new(),
            first: u64::from(u32::MAX) - 1,
        };
        assert_eq!(recent.resolve(u32::MAX - 1), u64::from(u32::MAX) - 1);
        assert_eq!(recent.resolve(u32::MAX), u64::from(u32::MAX));
        assert_eq!(recent.resolve(0), 1 << 32);
        assert_eq!(recent.resolve(5), (1 << 32) + 5);
        recent.first = 1 << 33;
        assert_eq!(recent.resolve(3), (1 << 33) + 3);
    }

    #[test]
    fn a_remembered_call_takes_64_bytes() {
        assert_eq!(std::mem::size_of::<Remembered>(), 64);
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
