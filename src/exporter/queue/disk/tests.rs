use super::*;
use crate::exporter::queue::{ExportQueue, QueueLimits, QueueReceiver, QueueSlot};
use crate::telemetry::AgentCounters;
use crate::test_support::TempDir;

fn request(number: u64) -> EncodedRequest {
    EncodedRequest {
        signal: Signal::Traces,
        items: number % 5 + 1,
        bytes: Bytes::from(format!("request number {number}")),
    }
}

fn open_queue(
    directory: &Path,
    segment_bytes: u64,
) -> (ExportQueue, QueueReceiver, Arc<ExporterCounters>) {
    open_bounded_queue(directory, segment_bytes, 1 << 20)
}

fn open_bounded_queue(
    directory: &Path,
    segment_bytes: u64,
    capacity_bytes: u64,
) -> (ExportQueue, QueueReceiver, Arc<ExporterCounters>) {
    let counters = ExporterCounters::register("otlp", &Arc::new(AgentCounters::default()));
    let limits = QueueLimits {
        capacity: Amount {
            items: 10_000,
            bytes: capacity_bytes,
        },
        retry_after: Duration::from_secs(1),
        enqueue_timeout: Duration::ZERO,
    };
    let options = DiskOptions {
        directory: directory.to_path_buf(),
        sync: SyncPolicy::Always,
        segment_bytes,
    };
    let (queue, receiver) = ExportQueue::on_disk(limits, options, counters.clone()).unwrap();
    (queue, receiver, counters)
}

async fn store(queue: &ExportQueue, numbers: std::ops::Range<u64>) {
    for number in numbers {
        let request = request(number);
        let wanted = Amount {
            items: request.items,
            bytes: request.bytes.len() as u64,
        };
        let reservation = queue.try_reserve(wanted).expect("room");
        reservation
            .send(request)
            .ok()
            .unwrap()
            .wait()
            .await
            .unwrap();
    }
}

/// Receives everything queued now, in order.
fn receive_all(receiver: &mut QueueReceiver) -> Vec<Queued> {
    std::iter::from_fn(|| receiver.try_recv()).collect()
}

fn texts(queued: &[Queued]) -> Vec<String> {
    queued
        .iter()
        .map(|queued| String::from_utf8(queued.request.bytes.to_vec()).unwrap())
        .collect()
}

fn numbered(numbers: impl Iterator<Item = u64>) -> Vec<String> {
    numbers.map(|n| format!("request number {n}")).collect()
}

fn segment_count(directory: &Path) -> usize {
    segment_numbers(directory).unwrap().len()
}

#[tokio::test]
async fn unsettled_requests_come_back_in_order_after_a_restart() {
    let directory = TempDir::new("replay");
    {
        let (queue, mut receiver, counters) = open_queue(&directory.0, 200);
        store(&queue, 0..10).await;
        let mut queued = receive_all(&mut receiver);
        assert_eq!(texts(&queued), numbered(0..10));
        let stored_items: u64 = (0..10).map(|n| request(n).items).sum();
        assert_eq!(queue.capacity.used().items, stored_items);
        // 0..4 delivered, 6 delivered out of order, 4, 5 and 7.. abandoned (in flight at a crash).
        let rest = queued.split_off(4);
        QueueSlot::settle_all(queued.into_iter().map(|q| q.slot).collect());
        let mut rest: Vec<Queued> = rest;
        let sixth = rest.remove(2);
        QueueSlot::settle_all(vec![sixth.slot]);
        drop(rest);
        assert_eq!(
            queue.capacity.used().items,
            0,
            "abandoned slots free their room"
        );
        let _ = counters;
    }
    let (queue, mut receiver, counters) = open_queue(&directory.0, 200);
    let replayed = receive_all(&mut receiver);
    // 6 was settled out of order and is not sent again.
    let expected = [4, 5, 7, 8, 9];
    assert_eq!(texts(&replayed), numbered(expected.into_iter()));
    let replayed_items: u64 = expected.iter().map(|&n| request(n).items).sum();
    assert_eq!(queue.capacity.used().items, replayed_items);
    let mut text = String::new();
    counters.render_scalar(7, "replayed", &mut text);
    assert_eq!(
        text,
        format!("replayed{{exporter=\"otlp\"}} {replayed_items}\n")
    );
    // New requests follow the replayed ones.
    store(&queue, 10..12).await;
    assert_eq!(texts(&receive_all(&mut receiver)), numbered(10..12));
}

#[tokio::test]
async fn settled_segments_are_removed() {
    let directory = TempDir::new("segments");
    let (queue, mut receiver, _counters) = open_queue(&directory.0, 100);
    store(&queue, 0..30).await;
    assert!(segment_count(&directory.0) >= 5, "small segments roll over");
    let queued = receive_all(&mut receiver);
    QueueSlot::settle_all(queued.into_iter().map(|q| q.slot).collect());
    assert_eq!(
        segment_count(&directory.0),
        1,
        "only the segment being written stays"
    );
    drop((queue, receiver));
    let (_queue, mut receiver, _counters) = open_queue(&directory.0, 100);
    assert!(
        receive_all(&mut receiver).is_empty(),
        "nothing delivered comes back"
    );
}

#[tokio::test]
async fn a_damaged_stretch_is_skipped_counted_and_the_rest_delivered() {
    let directory = TempDir::new("damaged");
    {
        let (queue, _receiver, _counters) = open_queue(&directory.0, 1 << 20);
        store(&queue, 0..6).await;
    }
    let segment = directory.0.join(format!("{:020}.seg", 1));
    let mut contents = std::fs::read(&segment).unwrap();
    let record_len = contents.len() / 6;
    // Garbage over the middle of record 2, and a torn last record.
    contents[2 * record_len + 10] ^= 0xff;
    contents.truncate(contents.len() - 7);
    std::fs::write(&segment, &contents).unwrap();

    let (_queue, mut receiver, counters) = open_queue(&directory.0, 1 << 20);
    let replayed = receive_all(&mut receiver);
    assert_eq!(texts(&replayed), numbered([0, 1, 3, 4].into_iter()));
    let mut text = String::new();
    counters.render_scalar(5, "damaged", &mut text);
    counters.render_scalar(6, "skipped", &mut text);
    assert_eq!(
        text,
        format!(
            "damaged{{exporter=\"otlp\"}} 2\nskipped{{exporter=\"otlp\"}} {}\n",
            2 * record_len - 7
        )
    );
}

#[tokio::test]
async fn a_damaged_cursor_sends_everything_again() {
    let directory = TempDir::new("cursor");
    {
        let (queue, mut receiver, _counters) = open_queue(&directory.0, 1 << 20);
        store(&queue, 0..4).await;
        let queued = receive_all(&mut receiver);
        QueueSlot::settle_all(queued.into_iter().take(2).map(|q| q.slot).collect());
    }
    std::fs::write(directory.0.join("cursor"), b"not a cursor").unwrap();
    let (_queue, mut receiver, _counters) = open_queue(&directory.0, 1 << 20);
    assert_eq!(texts(&receive_all(&mut receiver)), numbered(0..4));
}

#[tokio::test]
async fn a_directory_serves_one_agent_at_a_time() {
    let directory = TempDir::new("lock");
    let _first = open_queue(&directory.0, 1 << 20);
    let counters = ExporterCounters::register("otlp", &Arc::new(AgentCounters::default()));
    let limits = QueueLimits {
        capacity: Amount { items: 1, bytes: 1 },
        retry_after: Duration::from_secs(1),
        enqueue_timeout: Duration::ZERO,
    };
    let options = DiskOptions {
        directory: directory.0.clone(),
        sync: SyncPolicy::Never,
        segment_bytes: 1 << 20,
    };
    let error = ExportQueue::on_disk(limits, options, counters)
        .err()
        .unwrap();
    assert!(matches!(error, DiskError::Locked(_)), "{error}");
}

#[tokio::test]
async fn a_record_damaged_after_it_was_written_is_skipped_when_read() {
    let directory = TempDir::new("late-damage");
    let (queue, mut receiver, counters) = open_queue(&directory.0, 1 << 20);
    store(&queue, 0..3).await;
    let segment = directory.0.join(format!("{:020}.seg", 1));
    let mut contents = std::fs::read(&segment).unwrap();
    let record_len = contents.len() / 3;
    contents[record_len + record::HEADER_LEN] ^= 0x01;
    std::fs::write(&segment, &contents).unwrap();
    assert_eq!(
        texts(&receive_all(&mut receiver)),
        numbered([0, 2].into_iter())
    );
    let mut text = String::new();
    counters.render_scalar(5, "damaged", &mut text);
    assert_eq!(text, "damaged{exporter=\"otlp\"} 1\n");
}

#[tokio::test]
async fn the_disk_holds_no_more_than_the_byte_limit_allows() {
    let directory = TempDir::new("bounded");
    let body_bytes: u64 = (0..20).map(|n| request(n).bytes.len() as u64).sum();
    let (queue, mut receiver, _counters) = open_bounded_queue(&directory.0, 256, body_bytes);
    store(&queue, 0..20).await;
    let next = request(20);
    let wanted = Amount {
        items: next.items,
        bytes: next.bytes.len() as u64,
    };
    assert!(
        queue.try_reserve(wanted).is_none(),
        "full at the byte limit"
    );
    let on_disk: u64 = std::fs::read_dir(&directory.0)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "seg"))
        .map(|entry| entry.metadata().unwrap().len())
        .sum();
    assert_eq!(on_disk, body_bytes + 20 * record::HEADER_LEN as u64);
    // Delivering the oldest makes room again.
    let oldest: Vec<QueueSlot> = (0..2).map(|_| receiver.try_recv().unwrap().slot).collect();
    QueueSlot::settle_all(oldest);
    assert!(queue.try_reserve(wanted).is_some());
}

#[tokio::test]
async fn numbers_recorded_as_settled_are_never_reused() {
    let directory = TempDir::new("reuse");
    {
        // 0..10 stored, all but 2 settled: the cursor file says 2 is open and 3..10 settled.
        let (queue, mut receiver, _counters) = open_queue(&directory.0, 200);
        store(&queue, 0..10).await;
        let mut queued = receive_all(&mut receiver);
        let in_flight = queued.remove(2);
        QueueSlot::settle_all(queued.into_iter().map(|q| q.slot).collect());
        drop(in_flight);
    }
    {
        // The segments holding only settled records are removed; 2 comes back, still open.
        let (_queue, mut receiver, _counters) = open_queue(&directory.0, 200);
        assert_eq!(
            texts(&receive_all(&mut receiver)),
            numbered([2].into_iter())
        );
    }
    {
        let (queue, mut receiver, _counters) = open_queue(&directory.0, 200);
        receive_all(&mut receiver);
        store(&queue, 100..104).await;
        receive_all(&mut receiver);
    }
    let (_queue, mut receiver, _counters) = open_queue(&directory.0, 200);
    assert_eq!(
        texts(&receive_all(&mut receiver)),
        numbered([2, 100, 101, 102, 103].into_iter())
    );
}

#[tokio::test]
async fn a_failed_write_gives_its_room_back() {
    let directory = TempDir::new("failed-write");
    let (queue, _receiver, counters) = open_queue(&directory.0, 1 << 20);
    // The writer's first segment file exists already: creating it fails.
    std::fs::write(directory.0.join(format!("{:020}.seg", 1)), b"").unwrap();
    let request = request(0);
    let wanted = Amount {
        items: request.items,
        bytes: request.bytes.len() as u64,
    };
    let stored = queue
        .try_reserve(wanted)
        .unwrap()
        .send(request)
        .ok()
        .unwrap();
    assert!(stored.wait().await.is_err(), "the sender is refused");
    assert_eq!(queue.capacity.used(), Amount::default());
    let mut text = String::new();
    counters.render_scalar(0, "queued", &mut text);
    counters.render_scalar(4, "errors", &mut text);
    assert_eq!(
        text,
        "queued{exporter=\"otlp\"} 0\nerrors{exporter=\"otlp\"} 1\n"
    );
}
