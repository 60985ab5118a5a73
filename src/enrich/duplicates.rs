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
        // The call as it would be remembered: its hashes, made once for the check too.
        let mut remembered = Remembered {
            at: now,
            previous_distance: 0,
            trace: trace_key(&call.trace_id),
            span_id: call.span_id,
            parent_span_id: call.parent_span_id.unwrap_or([0; 8]),
            response_id: call.response_id.as_deref().map_or(0, fingerprint_of),
            counts: Counts::of(call.fingerprint),
            interval: call.interval,
        };
        if let Some(earlier) = recent.earlier_span_of(call, &remembered, is_ancestor) {
            return Some(earlier);
        }
        // Room first: a full memory that pushed before forgetting would double its buffer.
        while recent.order.len() >= self.max_entries {
            recent.forget_oldest();
        }
        let sequence = recent.first + recent.order.len() as u64;
        let previous = recent
            .newest_by_chain
            .insert(chain_key(remembered.trace), sequence as u32)
            .map(|newest| recent.resolve(newest));
        // A call further back than 2^32 calls is long forgotten.
        remembered.previous_distance = previous
            .and_then(|previous| u32::try_from(sequence - previous).ok())
            .unwrap_or(0);
        recent.order.push_back(remembered);
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
    /// each kind, in that order of preference. `hashed` is the call as it would be remembered.
    fn earlier_span_of(
        &self,
        call: &CallIdentity,
        hashed: &Remembered,
        is_ancestor: impl Fn(SpanId) -> bool,
    ) -> Option<SpanId> {
        let (trace, counts, response_id) = (hashed.trace, hashed.counts, hashed.response());
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
mod tests;
