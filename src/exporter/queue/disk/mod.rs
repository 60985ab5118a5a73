//! The persistent queue: accepted requests are appended to segment files in the exporter's
//! storage directory before the sender is answered, read back in order by the worker, and
//! forgotten once settled. A small cursor file remembers which requests are settled; on start
//! the others are queued again (at-least-once: a request being sent when the agent stopped is
//! sent again). Damaged stretches of a segment are skipped and
//! counted, never replayed.

mod progress;
mod record;
mod writer;

pub use writer::DiskWriter;

use super::{Amount, Capacity, QueueSlot, Queued, Room};
use crate::otlp::{EncodedRequest, Signal};
use crate::telemetry::{ExporterCounters, RateLimitedLog};
use bytes::Bytes;
use progress::{Progress, Settled};
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// When written records are forced to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Before the sender is answered: survives power loss.
    Always,
    /// At least this often: the sender is answered once the data is with the operating system,
    /// which survives the agent being killed but may lose the last interval on power loss.
    Interval(Duration),
    /// When the operating system decides.
    Never,
}

#[derive(Debug, Clone)]
pub struct DiskOptions {
    pub directory: PathBuf,
    pub sync: SyncPolicy,
    /// Size at which a segment file is closed and the next begun.
    pub segment_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0} is in use by another running agent")]
    Locked(PathBuf),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DiskError + '_ {
    move |error| DiskError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Where a stored record is, and what it holds.
#[derive(Debug, Clone, Copy)]
struct Located {
    segment: u64,
    offset: u64,
    sequence: u64,
    items: u64,
    signal: Signal,
    body_len: usize,
}

impl Located {
    fn amount(&self) -> Amount {
        Amount {
            items: self.items,
            bytes: self.body_len as u64,
        }
    }
}

/// Stored records not yet handed to the worker.
struct Ready {
    /// Oldest first.
    records: VecDeque<Located>,
    /// The writer has stopped: no more records will come.
    closed: bool,
}

/// What the writer, the reader and the settling batches share.
struct Shared {
    directory: PathBuf,
    ready: Mutex<Ready>,
    appended: Notify,
    progress: Mutex<Progress>,
    capacity: Arc<Capacity>,
    counters: Arc<ExporterCounters>,
    errors: RateLimitedLog,
}

/// Locks `mutex`, also after a panic elsewhere: the bookkeeping must go on.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn segment_path(&self, segment: u64) -> PathBuf {
        self.directory.join(format!("{segment:020}.seg"))
    }

    /// Called by the writer once `records` are stored: they become unsettled and readable.
    fn stored(&self, records: Vec<Located>, writing: u64) {
        {
            let mut progress = locked(&self.progress);
            progress.writing = writing;
            for record in &records {
                progress.unsettled.insert(record.sequence);
                progress.segments.insert(record.segment, record.sequence);
                progress.next_sequence = record.sequence + 1;
            }
        }
        locked(&self.ready).records.extend(records);
        self.appended.notify_waiters();
    }

    fn close(&self) {
        locked(&self.ready).closed = true;
        self.appended.notify_waiters();
    }

    fn storage_failed(&self, error: &std::io::Error) {
        self.counters.storage_error();
        self.errors.warn(&format!(
            "persistent queue {}: {error}",
            self.directory.display()
        ));
    }

    /// Forgets settled records: saves what is settled and removes segments that hold nothing
    /// unsettled any more.
    fn settle(&self, sequences: impl Iterator<Item = u64>) {
        let mut progress = locked(&self.progress);
        for sequence in sequences {
            progress.unsettled.remove(&sequence);
        }
        self.save(&mut progress);
    }

    /// Writes what is settled to the cursor file and removes segments left with nothing
    /// unsettled.
    fn save(&self, progress: &mut Progress) {
        match progress.save() {
            Ok(emptied) => {
                for segment in emptied {
                    if let Err(error) = std::fs::remove_file(self.segment_path(segment)) {
                        self.storage_failed(&error);
                    }
                }
            }
            Err(error) => self.storage_failed(&error),
        }
    }
}

/// A stored request's claim to be settled, held by its [`QueueSlot`].
pub struct DiskAck {
    shared: Arc<Shared>,
    sequence: u64,
}

impl DiskAck {
    pub fn settle_all(acks: Vec<DiskAck>) {
        let Some(first) = acks.first() else {
            return;
        };
        let shared = first.shared.clone();
        debug_assert!(acks.iter().all(|ack| Arc::ptr_eq(&ack.shared, &shared)));
        shared.settle(acks.iter().map(|ack| ack.sequence));
    }
}

/// Hands stored records to the worker in order.
pub struct DiskReader {
    shared: Arc<Shared>,
    files: BTreeMap<u64, File>,
}

/// What the reader found next.
enum Next {
    Record(Queued),
    /// Nothing stored yet.
    Empty,
    /// The writer has stopped and everything is read.
    Closed,
    /// The next record could not be read for now (the file system, not the record); it stays
    /// first in line.
    Unreadable,
}

/// How long the reader waits after a read failed for reasons other than damage.
const READ_RETRY: Duration = Duration::from_secs(1);

impl DiskReader {
    pub async fn recv(&mut self) -> Option<Queued> {
        let shared = self.shared.clone();
        loop {
            let appended = shared.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            match self.next_ready() {
                Next::Record(queued) => return Some(queued),
                Next::Closed => return None,
                Next::Empty => appended.await,
                Next::Unreadable => tokio::time::sleep(READ_RETRY).await,
            }
        }
    }

    pub fn try_recv(&mut self) -> Option<Queued> {
        match self.next_ready() {
            Next::Record(queued) => Some(queued),
            _ => None,
        }
    }

    fn next_ready(&mut self) -> Next {
        loop {
            let record = {
                let mut ready = locked(&self.shared.ready);
                match ready.records.pop_front() {
                    Some(record) => record,
                    None if ready.closed => return Next::Closed,
                    None => return Next::Empty,
                }
            };
            let ack = DiskAck {
                shared: self.shared.clone(),
                sequence: record.sequence,
            };
            match self.read(&record) {
                Ok(bytes) => {
                    let request = EncodedRequest {
                        signal: record.signal,
                        items: record.items,
                        bytes,
                    };
                    let room = Room {
                        amount: record.amount(),
                        capacity: self.shared.capacity.clone(),
                        counters: self.shared.counters.clone(),
                    };
                    let slot = QueueSlot {
                        _room: room,
                        ack: Some(ack),
                    };
                    return Next::Record(Queued { request, slot });
                }
                Err(error) if is_damage(&error) => self.skip_damaged(record, ack, &error),
                Err(error) => {
                    self.shared.storage_failed(&error);
                    locked(&self.shared.ready).records.push_front(record);
                    return Next::Unreadable;
                }
            }
        }
    }

    /// A record damaged since it was written: counted, its room given back, settled.
    fn skip_damaged(&self, record: Located, ack: DiskAck, error: &std::io::Error) {
        let counters = &self.shared.counters;
        counters.storage_damaged(1, record.body_len as u64);
        counters.dropped(record.signal, record.items, "storage_damaged");
        self.shared.capacity.give_back(record.amount());
        counters.dequeued(record.items, record.body_len as u64);
        self.shared.errors.warn(&format!(
            "persistent queue {}: record {} unreadable, skipped: {error}",
            self.shared.directory.display(),
            record.sequence
        ));
        DiskAck::settle_all(vec![ack]);
    }

    fn read(&mut self, record: &Located) -> std::io::Result<Bytes> {
        let file = match self.files.entry(record.segment) {
            std::collections::btree_map::Entry::Occupied(open) => open.into_mut(),
            std::collections::btree_map::Entry::Vacant(closed) => {
                closed.insert(File::open(self.shared.segment_path(record.segment))?)
            }
        };
        let mut bytes = vec![0; record::HEADER_LEN + record.body_len];
        file.read_exact_at(&mut bytes, record.offset)?;
        let intact =
            record::parse(&bytes).is_some_and(|(header, _)| header.sequence == record.sequence);
        if !intact {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "checksum or header mismatch",
            ));
        }
        // Segments before this one are read to the end.
        self.files = self.files.split_off(&record.segment);
        Ok(Bytes::from(bytes).slice(record::HEADER_LEN..))
    }
}

/// Whether a read failed because of what is on disk (a bad checksum, a file cut short or
/// removed) rather than for a passing reason (no file descriptors, an I/O error that may clear).
fn is_damage(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{InvalidData, NotFound, UnexpectedEof};
    matches!(error.kind(), InvalidData | UnexpectedEof | NotFound)
}

/// Opens (or creates) the queue in `options.directory`: locks it, reads the cursor, scans the
/// segments, queues the unsettled records again, and starts the writer on a new segment.
pub fn open(
    options: DiskOptions,
    capacity: Arc<Capacity>,
    counters: Arc<ExporterCounters>,
) -> Result<(DiskWriter, DiskReader), DiskError> {
    let directory = options.directory.clone();
    std::fs::create_dir_all(&directory).map_err(io_error(&directory))?;
    let lock = lock_directory(&directory)?;
    let cursor_path = directory.join("cursor");
    let cursor_file = open_read_write(&cursor_path)?;
    let settled = read_settled(&cursor_file, &cursor_path, &counters);
    let recovered = recover(&directory, &settled)?;
    // Never reuse a number the cursor file speaks of, even if its segment is gone: a new record
    // under a number recorded as settled would be skipped after the next restart.
    let next_sequence = recovered
        .next_sequence
        .max(settled.cursor)
        .max(settled.beyond.last().map_or(0, |&(_, end)| end));
    report(&directory, &recovered, &counters);
    for record in &recovered.records {
        capacity.take_anyway(record.amount());
        counters.queued(record.items, record.body_len as u64);
    }
    let shared = Arc::new(Shared {
        directory: directory.clone(),
        progress: Mutex::new(Progress {
            unsettled: recovered.records.iter().map(|r| r.sequence).collect(),
            next_sequence,
            segments: recovered.segments,
            writing: recovered.last_segment + 1,
            cursor_file,
        }),
        ready: Mutex::new(Ready {
            records: VecDeque::from(recovered.records),
            closed: false,
        }),
        appended: Notify::new(),
        capacity,
        counters,
        errors: RateLimitedLog::new(Duration::from_secs(10)),
    });
    // The cursor file now describes what is on disk, not what was before recovery.
    shared.save(&mut locked(&shared.progress));
    let log = writer::SegmentLog::new(
        shared.clone(),
        &options,
        next_sequence,
        recovered.last_segment,
    );
    let writer = DiskWriter::start(log, lock).map_err(io_error(&directory))?;
    let reader = DiskReader {
        shared,
        files: BTreeMap::new(),
    };
    Ok((writer, reader))
}

fn open_read_write(path: &Path) -> Result<File, DiskError> {
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_error(path))
}

/// The directory's `lock` file, locked for this agent (waiting a little for one still stopping).
fn lock_directory(directory: &Path) -> Result<File, DiskError> {
    let lock = open_read_write(&directory.join("lock"))?;
    lock_within(&lock, Duration::from_secs(2))
        .map_err(|_| DiskError::Locked(directory.to_path_buf()))?;
    Ok(lock)
}

/// What the cursor file says is settled; nothing when it is new, damaged or unreadable (a
/// damaged one is counted and reported: everything on disk is sent again).
fn read_settled(file: &File, path: &Path, counters: &ExporterCounters) -> Settled {
    match progress::read(file) {
        Ok(settled) => settled.unwrap_or_default(),
        Err(error) => {
            counters.storage_damaged(1, 0);
            tracing::warn!(path = %path.display(), %error, "persistent queue: the cursor file is unreadable; everything on disk is sent again");
            Settled::default()
        }
    }
}

/// Locks the directory, waiting a little for an agent that is still stopping to let go.
fn lock_within(lock: &File, patience: Duration) -> Result<(), std::fs::TryLockError> {
    let started = Instant::now();
    loop {
        match lock.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < patience => {
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// What a start found on disk.
#[derive(Debug, Default)]
struct Recovered {
    /// Unsettled records, oldest first.
    records: Vec<Located>,
    segments: BTreeMap<u64, u64>,
    last_segment: u64,
    next_sequence: u64,
    damaged: u64,
    skipped_bytes: u64,
}

fn recover(directory: &Path, settled: &Settled) -> Result<Recovered, DiskError> {
    let mut recovered = Recovered::default();
    for segment in segment_numbers(directory)? {
        recovered.last_segment = recovered.last_segment.max(segment);
        let path = directory.join(format!("{segment:020}.seg"));
        let contents = std::fs::read(&path).map_err(io_error(&path))?;
        let scan = record::scan(&contents);
        recovered.damaged += scan.damaged;
        recovered.skipped_bytes += scan.skipped_bytes;
        let mut unsettled = 0;
        for (offset, header) in scan.records {
            recovered.next_sequence = recovered.next_sequence.max(header.sequence + 1);
            if settled.contains(header.sequence) {
                continue;
            }
            unsettled += 1;
            recovered.segments.insert(segment, header.sequence);
            recovered.records.push(Located {
                segment,
                offset,
                sequence: header.sequence,
                items: header.items,
                signal: header.signal,
                body_len: header.body_len,
            });
        }
        if unsettled == 0 {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    // Replayed in the order they were accepted.
    recovered.records.sort_by_key(|record| record.sequence);
    Ok(recovered)
}

fn report(directory: &Path, recovered: &Recovered, counters: &ExporterCounters) {
    if recovered.damaged > 0 {
        counters.storage_damaged(recovered.damaged, recovered.skipped_bytes);
        tracing::warn!(
            directory = %directory.display(),
            damaged = recovered.damaged,
            skipped_bytes = recovered.skipped_bytes,
            "persistent queue: skipped damaged stretches (torn or corrupt records); the intact records around them are kept"
        );
    }
    if !recovered.records.is_empty() {
        let items: u64 = recovered.records.iter().map(|record| record.items).sum();
        counters.replayed(items);
        tracing::info!(
            directory = %directory.display(),
            requests = recovered.records.len(),
            items,
            "persistent queue: sending again what was not delivered before the last stop"
        );
    }
}

fn segment_numbers(directory: &Path) -> Result<Vec<u64>, DiskError> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(io_error(directory))? {
        let entry = entry.map_err(io_error(directory))?;
        let name = entry.file_name();
        let number = name
            .to_str()
            .and_then(|name| name.strip_suffix(".seg"))
            .and_then(|stem| stem.parse::<u64>().ok());
        numbers.extend(number);
    }
    numbers.sort_unstable();
    Ok(numbers)
}

#[cfg(test)]
mod tests;
