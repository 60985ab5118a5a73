//! The persistent queue's writer: one thread appending records to the current segment file.
//! Requests arriving together are written together and synced once (group commit); only then
//! are their senders answered and the records handed to the worker.

use super::record;
use super::{DiskOptions, Located, Shared, SyncPolicy};
use crate::exporter::queue::Room;
use crate::otlp::EncodedRequest;
use std::fs::File;
use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Requests written in one go at most.
const GROUP_LIMIT: usize = 1024;

enum Job {
    Append {
        request: EncodedRequest,
        /// The request's share of the queue: kept by the record once written, given back
        /// when the write fails.
        room: Room,
        answer: oneshot::Sender<std::io::Result<()>>,
    },
    /// Answered once everything before it is written and synced (unless the policy is `never`).
    Flush(oneshot::Sender<()>),
}

/// The handle receivers append through; the thread stops when every handle is gone.
#[derive(Clone)]
pub struct DiskWriter {
    jobs: mpsc::Sender<Job>,
}

impl DiskWriter {
    /// Starts the writer thread; it holds the directory's `lock` for as long as it runs.
    pub(super) fn start(log: SegmentLog, lock: File) -> std::io::Result<Self> {
        let (jobs, received) = mpsc::channel();
        std::thread::Builder::new()
            .name("queue-writer".into())
            .spawn(move || {
                log.run(received);
                drop(lock);
            })?;
        Ok(Self { jobs })
    }

    /// Hands `request` to the writer; the answer says when it is stored. Gives the request
    /// back when the writer has stopped.
    pub(in crate::exporter::queue) fn append(
        &self,
        request: EncodedRequest,
        room: Room,
    ) -> Result<oneshot::Receiver<std::io::Result<()>>, EncodedRequest> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Job::Append {
                request,
                room,
                answer,
            })
            .map_err(|failed| match failed.0 {
                Job::Append { request, .. } => request,
                Job::Flush(_) => unreachable!("an append was sent"),
            })?;
        Ok(answered)
    }

    /// Waits until everything appended before is stored.
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.jobs.send(Job::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }
}

/// The segment files being written.
pub(super) struct SegmentLog {
    shared: Arc<Shared>,
    sync: SyncPolicy,
    /// A segment is closed and a new one begun once it holds this many bytes.
    segment_bytes: u64,
    next_sequence: u64,
    /// The segment being written (or, before the first write, the last one found).
    segment: u64,
    file: Option<File>,
    offset: u64,
    synced: Instant,
    dirty: bool,
}

impl SegmentLog {
    /// A log that numbers records from `next_sequence` and begins a new segment after
    /// `last_segment` on its first write.
    pub(super) fn new(
        shared: Arc<Shared>,
        options: &DiskOptions,
        next_sequence: u64,
        last_segment: u64,
    ) -> Self {
        Self {
            shared,
            sync: options.sync,
            segment_bytes: options.segment_bytes,
            next_sequence,
            segment: last_segment,
            file: None,
            offset: 0,
            synced: Instant::now(),
            dirty: false,
        }
    }

    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        let tick = match self.sync {
            SyncPolicy::Interval(interval) => interval,
            _ => Duration::from_secs(3600),
        };
        loop {
            let first = match jobs.recv_timeout(tick) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.sync_if_due();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut group = vec![first];
            while group.len() < GROUP_LIMIT {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.write_group(group);
        }
        if self.sync != SyncPolicy::Never {
            if let Err(error) = self.sync_now() {
                self.shared.storage_failed(&error);
            }
        }
        self.shared.close();
    }

    fn write_group(&mut self, group: Vec<Job>) {
        let mut requests = Vec::new();
        let mut flushes = Vec::new();
        for job in group {
            match job {
                Job::Append {
                    request,
                    room,
                    answer,
                } => requests.push((request, room, answer)),
                Job::Flush(done) => flushes.push(done),
            }
        }
        if !requests.is_empty() {
            let result = self.append(requests.iter().map(|(request, _, _)| request));
            if let Err(error) = &result {
                self.shared.storage_failed(error);
            }
            for (_, room, answer) in requests {
                match &result {
                    Ok(()) => room.keep(),
                    Err(_) => drop(room),
                }
                let _ = answer.send(result.as_ref().map(|_| ()).map_err(copy_error));
            }
        }
        if !flushes.is_empty() && self.sync != SyncPolicy::Never {
            if let Err(error) = self.sync_now() {
                self.shared.storage_failed(&error);
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }

    /// Writes `requests` as consecutive records, syncs by the policy, then hands them over.
    fn append<'a>(
        &mut self,
        requests: impl Iterator<Item = &'a EncodedRequest>,
    ) -> std::io::Result<()> {
        if self.file.is_none() || self.offset >= self.segment_bytes {
            self.begin_segment()?;
        }
        let mut buffer = Vec::new();
        let mut records = Vec::new();
        for request in requests {
            records.push(Located {
                segment: self.segment,
                offset: self.offset + buffer.len() as u64,
                sequence: self.next_sequence,
                items: request.items,
                signal: request.signal,
                body_len: request.bytes.len(),
            });
            record::write(self.next_sequence, request, &mut buffer);
            self.next_sequence += 1;
        }
        let file = self.file.as_mut().expect("a segment is open");
        if let Err(error) = file.write_all(&buffer) {
            // Where the file ends now is unknown: later records go to a fresh segment, and a
            // segment that holds nothing else is removed.
            self.file = None;
            if self.offset == 0 {
                let _ = std::fs::remove_file(self.shared.segment_path(self.segment));
            }
            return Err(error);
        }
        self.offset += buffer.len() as u64;
        self.dirty = true;
        match self.sync {
            SyncPolicy::Always => self.sync_now()?,
            SyncPolicy::Interval(_) => self.sync_if_due(),
            SyncPolicy::Never => {}
        }
        self.shared.stored(records, self.segment);
        Ok(())
    }

    fn begin_segment(&mut self) -> std::io::Result<()> {
        if self.file.is_some() && self.sync != SyncPolicy::Never {
            self.sync_now()?;
        }
        self.segment += 1;
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(self.shared.segment_path(self.segment))?;
        if self.sync == SyncPolicy::Always {
            // The new file's name must be durable too.
            let synced = File::open(&self.shared.directory).and_then(|dir| dir.sync_all());
            if let Err(error) = synced {
                let _ = std::fs::remove_file(self.shared.segment_path(self.segment));
                return Err(error);
            }
        }
        self.file = Some(file);
        self.offset = 0;
        Ok(())
    }

    fn sync_if_due(&mut self) {
        if let SyncPolicy::Interval(interval) = self.sync {
            if self.dirty && self.synced.elapsed() >= interval {
                if let Err(error) = self.sync_now() {
                    self.shared.storage_failed(&error);
                }
            }
        }
    }

    fn sync_now(&mut self) -> std::io::Result<()> {
        if let Some(file) = &self.file {
            file.sync_data()?;
        }
        self.synced = Instant::now();
        self.dirty = false;
        Ok(())
    }
}

fn copy_error(error: &std::io::Error) -> std::io::Error {
    std::io::Error::new(error.kind(), error.to_string())
}
