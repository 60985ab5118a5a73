//! Reading ledger files back: which files a path names, and their records one line at a time.
//! A last line cut short by a failed write is skipped and reported; any other line that is no
//! record is an error naming its place.

use super::{LedgerEntry, STEM};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Why ledger files cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a ledger record: {source}")]
    Record {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
}

/// The ledger files among `paths`: files as given, directories by their `ledger-*.jsonl`, in
/// name order (which is day order).
pub fn ledger_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let io = |source| ReadError::Io {
            path: path.clone(),
            source,
        };
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| {
                file.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with(STEM) && name.ends_with(".jsonl"))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// The UTC day in a ledger file's name (`ledger-YYYY-MM-DD[.N].jsonl`), if it is one.
pub fn file_day(file: &Path) -> Option<&str> {
    let name = file.file_name()?.to_str()?;
    let rest = name.strip_prefix(STEM)?.strip_suffix(".jsonl")?;
    rest.get(..10).filter(|day| day.len() == 10)
}

/// Hands every record of `file` to `each`, in order. Returns the number of a last line cut
/// short by a failed write (no line break after it), which was skipped.
pub fn for_each_entry(
    file: &Path,
    mut each: impl FnMut(LedgerEntry),
) -> Result<Option<usize>, ReadError> {
    let io = |source| ReadError::Io {
        path: file.to_path_buf(),
        source,
    };
    let mut reader = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            return Ok(None);
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(entry) => each(entry),
            Err(_) if !line.ends_with('\n') => return Ok(Some(number)),
            Err(source) => {
                return Err(ReadError::Record {
                    path: file.to_path_buf(),
                    line: number,
                    source,
                })
            }
        }
    }
}
