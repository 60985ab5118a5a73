use super::*;
use http_body_util::BodyExt;

fn admission(limit: usize) -> Arc<Admission> {
    with_reserve(limit, 0)
}

fn with_reserve(limit: usize, small_reserve: usize) -> Arc<Admission> {
    Admission::new(
        AdmissionLimits {
            request_limit: limit,
            small_reserve,
            waiting_limit: limit,
            wait_timeout: Duration::from_millis(50),
        },
        None,
        Arc::new(AgentCounters::default()),
    )
}

#[test]
fn a_grpc_prefix_reserves_the_declared_message_at_once() {
    let mut framing = Framing::Grpc {
        prefix: [0; 5],
        prefix_len: 0,
    };
    let mut covered = 0;
    // Prefix split over two chunks, declaring 1000 bytes.
    assert_eq!(to_reserve(&mut framing, &mut covered, &[0, 0, 0]), 3);
    assert_eq!(
        to_reserve(&mut framing, &mut covered, &[3, 232, 1, 2]),
        2 + 1000
    );
    assert_eq!(covered, 998);
    assert_eq!(to_reserve(&mut framing, &mut covered, &[9; 998]), 0);
    // The next message's prefix.
    assert_eq!(
        to_reserve(&mut framing, &mut covered, &[0, 0, 0, 0, 10]),
        15
    );
}

#[test]
fn plain_bodies_reserve_beyond_what_was_reserved_up_front() {
    let mut covered = 10;
    assert_eq!(to_reserve(&mut Framing::Plain, &mut covered, &[0; 4]), 0);
    assert_eq!(to_reserve(&mut Framing::Plain, &mut covered, &[0; 10]), 4);
    assert_eq!(covered, 0);
}

#[tokio::test]
async fn the_budget_is_shared_refused_when_used_up_and_released_with_the_ticket() {
    let admission = admission(100);
    let share = Arc::new(Semaphore::new(100));
    let first = admission.admit(&share).unwrap();
    first.clone().reserve(80).await.unwrap();
    let second = admission.admit(&share).unwrap();
    assert_eq!(second.clone().reserve(30).await, Err(Overload::Connection));
    let other_connection = Arc::new(Semaphore::new(100));
    let third = admission.admit(&other_connection).unwrap();
    assert_eq!(third.clone().reserve(30).await, Err(Overload::Budget));
    assert_eq!(admission.counters.receiver.in_flight_bytes(), 80);
    drop(first);
    assert_eq!(admission.counters.receiver.in_flight_bytes(), 0);
    third.clone().reserve(30).await.unwrap();
    assert_eq!(
        admission
            .counters
            .receiver
            .memory_refused_total(MemoryRefusal::Budget),
        1
    );
}

#[tokio::test]
async fn the_reserve_takes_small_requests_when_large_ones_used_up_the_rest() {
    // 1280 bytes for every request, 320 more for requests of at most 20 bytes.
    let admission = with_reserve(1600, 320);
    let connection = || Arc::new(Semaphore::new(1600));
    let large = admission.admit(&connection()).unwrap();
    large.clone().reserve(1280).await.unwrap();
    let another_large = admission.admit(&connection()).unwrap();
    assert_eq!(another_large.try_reserve(21), Err(Overload::Budget));
    let small = admission.admit(&connection()).unwrap();
    small.clone().reserve(15).await.unwrap();
    // Growing beyond the small size, it gets no more of the reserve.
    assert_eq!(small.try_reserve(6), Err(Overload::Budget));
    small.try_reserve(5).unwrap();
    assert_eq!(admission.counters.receiver.in_flight_bytes(), 1300);
    drop(large);
    small.try_reserve(100).unwrap();
}

#[tokio::test]
async fn a_waiting_small_request_gets_the_reserve_once_it_has_room() {
    let admission = with_reserve(1600, 320);
    let connection = || Arc::new(Semaphore::new(1600));
    let large = admission.admit(&connection()).unwrap();
    large.clone().reserve(1280).await.unwrap();
    let smalls: Vec<_> = (0..16)
        .map(|_| {
            let ticket = admission.admit(&connection()).unwrap();
            ticket.try_reserve(20).unwrap();
            ticket
        })
        .collect();
    let waiting = admission.admit(&connection()).unwrap();
    let waited = tokio::spawn(waiting.clone().reserve(20));
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!waited.is_finished());
    drop(smalls);
    assert_eq!(waited.await.unwrap(), Ok(()));
}

#[tokio::test]
async fn a_grpc_body_declaring_more_than_the_budget_fails_before_its_bytes_are_passed_on() {
    let admission = admission(1000);
    let share = Arc::new(Semaphore::new(1000));
    let ticket = admission.admit(&share).unwrap();
    let mut message = vec![0, 0, 0, 0x10, 0];
    message.extend([1u8; 100]);
    let body = http_body_util::Full::new(Bytes::from(message));
    let admitted = AdmittedBody::grpc(body, ticket, Duration::from_secs(5));
    let error = admitted.collect().await.err().unwrap();
    assert!(
        matches!(error, BodyError::Overload(Overload::Connection)),
        "{error}"
    );
}
