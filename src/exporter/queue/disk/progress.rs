//! Which stored records are settled, kept in the small `cursor` file so a restart sends again
//! only what was not: the oldest unsettled sequence number (the cursor), plus the stretches
//! above it already settled out of order (batches finish in any order). A missing or damaged
//! cursor file reads as "nothing settled": data is sent twice rather than lost.
//!
//! Layout (little endian): cursor u64 · stretch count u32 · per stretch: first u64, end u64
//! (exclusive) · CRC-32 of all the bytes before it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Stretches written at most; settled records beyond them are sent again after a restart.
const MAX_STRETCHES: usize = 4096;

/// What is settled, as read from or written to the cursor file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    pub cursor: u64,
    /// Settled stretches above the cursor, `[first, end)`, ascending.
    pub beyond: Vec<(u64, u64)>,
}

impl Settled {
    pub fn contains(&self, sequence: u64) -> bool {
        sequence < self.cursor
            || self
                .beyond
                .iter()
                .any(|&(first, end)| (first..end).contains(&sequence))
    }

    fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(16 + 16 * self.beyond.len());
        bytes.extend_from_slice(&self.cursor.to_le_bytes());
        bytes.extend_from_slice(&(self.beyond.len() as u32).to_le_bytes());
        for (first, end) in &self.beyond {
            bytes.extend_from_slice(&first.to_le_bytes());
            bytes.extend_from_slice(&end.to_le_bytes());
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// `None` when the bytes are not an intact cursor.
    fn decode(bytes: &[u8]) -> Option<Self> {
        let u64_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        let count = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize;
        if count > MAX_STRETCHES {
            return None;
        }
        let end = 12 + 16 * count;
        let crc = u32::from_le_bytes(bytes.get(end..end + 4)?.try_into().ok()?);
        if crc32fast::hash(&bytes[..end]) != crc {
            return None;
        }
        let beyond = (0..count)
            .map(|i| Some((u64_at(12 + 16 * i)?, u64_at(20 + 16 * i)?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            cursor: u64_at(0)?,
            beyond,
        })
    }
}

/// Reads the cursor file: `Ok(None)` when it is empty (a new queue), `Err` when damaged.
pub fn read(file: &File) -> std::io::Result<Option<Settled>> {
    let length = file
        .metadata()?
        .len()
        .min(16 + 16 * MAX_STRETCHES as u64 + 4) as usize;
    if length == 0 {
        return Ok(None);
    }
    let mut bytes = vec![0; length];
    file.read_exact_at(&mut bytes, 0)?;
    Settled::decode(&bytes)
        .map(Some)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "damaged cursor"))
}

/// The records stored and not yet settled, and where they are.
pub struct Progress {
    pub unsettled: BTreeSet<u64>,
    /// The sequence number the next record will get.
    pub next_sequence: u64,
    /// Segment number → the last sequence number in it that may be unsettled (its last record
    /// when written; its last unsettled one when recovered).
    pub segments: BTreeMap<u64, u64>,
    /// The segment being written, never removed.
    pub writing: u64,
    pub cursor_file: File,
}

impl Progress {
    /// What is settled now: everything below the oldest unsettled record, and the gaps between
    /// the unsettled ones above it.
    pub fn settled(&self) -> Settled {
        let mut unsettled = self.unsettled.iter().copied();
        let Some(cursor) = unsettled.next() else {
            return Settled {
                cursor: self.next_sequence,
                beyond: Vec::new(),
            };
        };
        let mut beyond = Vec::new();
        let mut previous = cursor;
        for sequence in unsettled.chain(std::iter::once(self.next_sequence)) {
            if sequence > previous + 1 && beyond.len() < MAX_STRETCHES {
                beyond.push((previous + 1, sequence));
            }
            previous = sequence;
        }
        Settled { cursor, beyond }
    }

    /// Writes [`Progress::settled`] to the cursor file (in place: small enough to be written
    /// whole by one write) and returns the segments that hold nothing unsettled any more.
    pub fn save(&mut self) -> std::io::Result<Vec<u64>> {
        let settled = self.settled();
        let bytes = settled.encode();
        self.cursor_file.write_all_at(&bytes, 0)?;
        let mut emptied = Vec::new();
        while let Some((&segment, &last)) = self.segments.first_key_value() {
            if last >= settled.cursor || segment == self.writing {
                break;
            }
            self.segments.remove(&segment);
            emptied.push(segment);
        }
        Ok(emptied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_stretches_round_trip() {
        let settled = Settled {
            cursor: 17,
            beyond: vec![(19, 25), (30, 31)],
        };
        let bytes = settled.encode();
        assert_eq!(Settled::decode(&bytes), Some(settled.clone()));
        assert!(settled.contains(3) && settled.contains(20) && settled.contains(30));
        assert!(!settled.contains(17) && !settled.contains(25) && !settled.contains(31));
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert_eq!(Settled::decode(&damaged), None, "byte {at}");
        }
        assert_eq!(Settled::decode(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn gaps_between_unsettled_records_are_settled() {
        let file = File::open("/dev/null").unwrap();
        let progress = Progress {
            unsettled: [5, 6, 9, 12].into(),
            next_sequence: 20,
            segments: BTreeMap::new(),
            writing: 0,
            cursor_file: file,
        };
        assert_eq!(
            progress.settled(),
            Settled {
                cursor: 5,
                beyond: vec![(7, 9), (10, 12), (13, 20)]
            }
        );
    }
}
