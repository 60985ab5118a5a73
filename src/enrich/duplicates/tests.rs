use super::*;

fn call(span: u8, parent: u8, response_id: Option<&str>, fingerprint: (u64, u64)) -> CallIdentity {
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
