//! The cost ledger: one record per model call, written to files by a thread of its own — JSON
//! lines ([`entry::LedgerEntry`]) and, as an option, FinOps FOCUS rows ([`focus`]) — rotated by
//! size and day and kept for a configured number of days ([`files`]); and, as an option, sent
//! as OTLP log records ([`logs`]). The traces never wait for it: records beyond the queue's
//! room are dropped, and a failed write loses its records; both are counted and logged.

pub mod days;
pub mod entry;
mod files;
pub mod focus;
pub mod logs;
pub mod read;

pub use entry::{Costs, LedgerEntry, Tokens};
pub use files::STEM;

use crate::config::{ConfigDate, LedgerConfig, LedgerFormat};
use crate::metrics::CallRecord;
use crate::telemetry::{AgentCounters, RateLimitedLog};
use files::RotatingFiles;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Records of one request, formatted, on their way to the writer.
struct Batch {
    day: ConfigDate,
    jsonl: String,
    csv: String,
    records: usize,
}

/// The ledger's writer and the room left before records are dropped.
pub struct Ledger {
    sender: Mutex<Option<mpsc::Sender<Batch>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Records formatted but not yet written.
    pending: Arc<AtomicUsize>,
    capacity: usize,
    jsonl: bool,
    csv: bool,
    counters: Arc<AgentCounters>,
    drops: RateLimitedLog,
}

impl Ledger {
    /// Starts the writer thread of the files in `directory`; fails when the directory cannot
    /// be created.
    pub fn start(
        config: &LedgerConfig,
        directory: &Path,
        counters: Arc<AgentCounters>,
    ) -> std::io::Result<Ledger> {
        std::fs::create_dir_all(directory)?;
        let series = |extension, header| {
            RotatingFiles::new(
                directory,
                extension,
                header,
                config.max_file_size_mib.0 as u64,
                config.retention_days,
            )
        };
        let mut jsonl_files = series("jsonl", "");
        let mut csv_files = series("csv", focus::HEADER);
        let (sender, receiver) = mpsc::channel::<Batch>();
        let pending = Arc::new(AtomicUsize::new(0));
        let writer = {
            let pending = pending.clone();
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("ledger-writer".into())
                .spawn(move || {
                    let failures = RateLimitedLog::new(Duration::from_secs(10));
                    for batch in receiver {
                        let mut failure = None;
                        for (files, text) in [
                            (&mut jsonl_files, &batch.jsonl),
                            (&mut csv_files, &batch.csv),
                        ] {
                            if text.is_empty() {
                                continue;
                            }
                            if let Err(error) = files.append(batch.day, text) {
                                failure.get_or_insert(error);
                            }
                        }
                        pending.fetch_sub(batch.records, Ordering::Relaxed);
                        match failure {
                            None => counters.ledger.written(batch.records as u64),
                            Some(error) => {
                                counters.ledger.write_failed(batch.records as u64);
                                failures.warn(&format!(
                                    "the ledger could not write {} records: {error}",
                                    batch.records
                                ));
                            }
                        }
                    }
                })?
        };
        Ok(Ledger {
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            pending,
            capacity: config.queue_records,
            jsonl: config.formats.contains(&LedgerFormat::Jsonl),
            csv: config.formats.contains(&LedgerFormat::FocusCsv),
            counters,
            drops: RateLimitedLog::new(Duration::from_secs(10)),
        })
    }

    /// Hands `records` (a request's model calls, priced in `currency`) to the writer, or drops
    /// them when the writer is that far behind. Never waits.
    pub fn record(&self, records: &[CallRecord], currency: &str) {
        if records.is_empty() {
            return;
        }
        let count = records.len();
        let admitted = self
            .pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |pending| {
                (pending + count <= self.capacity).then_some(pending + count)
            })
            .is_ok();
        if !admitted {
            self.dropped(count, "the ledger's queue is full");
            return;
        }
        let mut batch = Batch {
            day: ConfigDate::today(),
            jsonl: String::new(),
            csv: String::new(),
            records: count,
        };
        for record in records {
            let entry = LedgerEntry::of(record, currency);
            if self.jsonl {
                if let Ok(line) = serde_json::to_string(&entry) {
                    batch.jsonl.push_str(&line);
                    batch.jsonl.push('\n');
                }
            }
            if self.csv {
                focus::rows(&entry, &mut batch.csv);
            }
        }
        let sent = match self.sender.lock() {
            Ok(sender) => sender
                .as_ref()
                .is_some_and(|sender| sender.send(batch).is_ok()),
            Err(_) => false,
        };
        if !sent {
            self.pending.fetch_sub(count, Ordering::Relaxed);
            self.dropped(count, "the ledger is shut down");
        }
    }

    fn dropped(&self, count: usize, why: &str) {
        self.counters.ledger.dropped(count as u64);
        self.drops
            .warn(&format!("{count} ledger records dropped: {why}"));
    }

    /// Writes what is queued and stops the writer.
    pub fn shutdown(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut writer| writer.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests;
