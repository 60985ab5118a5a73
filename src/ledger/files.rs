//! The ledger's files: one series per format in the ledger directory, named by UTC day and
//! number (`ledger-2026-12-06.jsonl`, then `ledger-2026-12-06.1.jsonl` once the first would
//! pass the size limit). Appends to the day's last file after a restart; deletes the files of
//! days older than the retention when it opens a new one.

use crate::config::ConfigDate;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The names every ledger file starts with.
pub const STEM: &str = "ledger-";

/// A rotating series of files of one format.
pub struct RotatingFiles {
    directory: PathBuf,
    extension: &'static str,
    /// Written at the top of every new file (the CSV header).
    header: &'static str,
    max_bytes: u64,
    retention_days: u32,
    current: Option<OpenFile>,
    /// The file a write failed in (it may end in a torn line): never appended to again.
    torn: Option<(ConfigDate, u32)>,
}

struct OpenFile {
    day: ConfigDate,
    number: u32,
    file: File,
    written: u64,
}

impl RotatingFiles {
    pub fn new(
        directory: &Path,
        extension: &'static str,
        header: &'static str,
        max_bytes: u64,
        retention_days: u32,
    ) -> Self {
        Self {
            directory: directory.to_path_buf(),
            extension,
            header,
            max_bytes,
            retention_days,
            current: None,
            torn: None,
        }
    }

    /// Appends `text` (whole lines) to the file of `day`, turning over to the next file when it
    /// would pass the size limit (a file holds at least one write, however large).
    pub fn append(&mut self, day: ConfigDate, text: &str) -> io::Result<()> {
        let wanted = text.len() as u64;
        let turn_over = match &self.current {
            None => true,
            Some(open) => open.day != day || !self.fits(open.written, wanted),
        };
        if turn_over {
            self.open(day, wanted)?;
        }
        let Some(open) = self.current.as_mut() else {
            return Err(io::Error::other("no ledger file open"));
        };
        if let Err(error) = open.file.write_all(text.as_bytes()) {
            // The file may now end in a torn line: the next write goes to a new file.
            self.torn = Some((open.day, open.number));
            self.current = None;
            return Err(error);
        }
        open.written += wanted;
        Ok(())
    }

    /// Whether `wanted` more bytes fit a file of `written` bytes: always into one that holds
    /// no record yet.
    fn fits(&self, written: u64, wanted: u64) -> bool {
        written <= self.header.len() as u64 || written.saturating_add(wanted) <= self.max_bytes
    }

    /// Opens the file to write `wanted` bytes to next for `day`: the day's last file if they
    /// fit and it ends with a whole line, else a new one; then deletes what the retention no
    /// longer keeps.
    fn open(&mut self, day: ConfigDate, wanted: u64) -> io::Result<()> {
        std::fs::create_dir_all(&self.directory)?;
        let mut number = match &self.current {
            Some(open) if open.day == day => open.number + 1,
            _ => self.last_number(day)?,
        };
        if let Some((torn_day, torn_number)) = self.torn.take() {
            if torn_day == day && number <= torn_number {
                number = torn_number + 1;
            }
        }
        loop {
            let path = self.path(day, number);
            let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
            let mut written = file.metadata()?.len();
            if written > 0 && (!self.fits(written, wanted) || !ends_with_line_break(&path)?) {
                number += 1;
                continue;
            }
            if written == 0 && !self.header.is_empty() {
                file.write_all(self.header.as_bytes())?;
                written = self.header.len() as u64;
            }
            self.current = Some(OpenFile {
                day,
                number,
                file,
                written,
            });
            break;
        }
        self.remove_expired(day);
        Ok(())
    }

    /// The highest number among the day's existing files (0 when there is none).
    fn last_number(&self, day: ConfigDate) -> io::Result<u32> {
        let mut last = 0;
        for entry in std::fs::read_dir(&self.directory)? {
            let name = entry?.file_name();
            if let Some((file_day, number)) = self.parse_name(&name.to_string_lossy()) {
                if file_day == day {
                    last = last.max(number);
                }
            }
        }
        Ok(last)
    }

    /// Deletes this series' files of days older than the retention.
    fn remove_expired(&self, today: ConfigDate) {
        let oldest_kept = today.days_since_epoch - i64::from(self.retention_days);
        let Ok(entries) = std::fs::read_dir(&self.directory) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some((day, _)) = self.parse_name(&name.to_string_lossy()) {
                if day.days_since_epoch < oldest_kept {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    fn path(&self, day: ConfigDate, number: u32) -> PathBuf {
        let name = match number {
            0 => format!("{STEM}{}.{}", day.to_iso(), self.extension),
            n => format!("{STEM}{}.{n}.{}", day.to_iso(), self.extension),
        };
        self.directory.join(name)
    }

    /// The day and number of one of this series' file names: only names it writes itself.
    fn parse_name(&self, name: &str) -> Option<(ConfigDate, u32)> {
        let rest = name
            .strip_prefix(STEM)?
            .strip_suffix(self.extension)?
            .strip_suffix('.')?;
        let (day, number) = match rest.split_once('.') {
            Some((day, number)) => (day, number.parse().ok()?),
            None => (rest, 0),
        };
        let day = ConfigDate::parse(day).ok()?;
        let own = self.path(day, number);
        (own.file_name()?.to_str()? == name).then_some((day, number))
    }
}

/// Whether the file at `path` ends with a line break (a write was not torn).
fn ends_with_line_break(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}
