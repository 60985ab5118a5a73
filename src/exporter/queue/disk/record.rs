//! How a queued request is laid out on disk, and how a segment file is read back: every record
//! carries a magic number, its length, sequence number and a CRC-32 over header and body, so a
//! torn or corrupt stretch is recognised and skipped up to the next intact record.
//!
//! Layout (little endian): `GCQ1` · body length u32 · sequence u64 · items u32 · signal u8 ·
//! three zero bytes · CRC-32 u32 of the bytes from the length to the end of the body (CRC field
//! excluded) · body (the encoded OTLP export request).

use crate::otlp::EncodedRequest;
use crate::otlp::Signal;

const MAGIC: &[u8; 4] = b"GCQ1";
pub const HEADER_LEN: usize = 28;
/// Longer bodies are taken for a corrupt length field. Requests are at most 1 GiB as received
/// (the receivers' limit), plus what enrichment adds.
const MAX_BODY: usize = 2 << 30;

/// What a record's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub sequence: u64,
    pub items: u64,
    pub signal: Signal,
    pub body_len: usize,
}

impl Header {
    pub fn record_len(&self) -> usize {
        HEADER_LEN + self.body_len
    }
}

/// Appends `request` as record number `sequence` to `out`.
pub fn write(sequence: u64, request: &EncodedRequest, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(request.bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    // A request within the receivers' size limit holds far fewer than 2^32 items.
    out.extend_from_slice(&(request.items.min(u32::MAX as u64) as u32).to_le_bytes());
    out.extend_from_slice(&[request.signal as u8, 0, 0, 0]);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&request.bytes);
    let crc = checksum(&out[start..]);
    out[start + 24..start + 28].copy_from_slice(&crc.to_le_bytes());
}

fn checksum(record: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&record[4..24]);
    hasher.update(&record[HEADER_LEN..]);
    hasher.finalize()
}

/// The record at the start of `bytes`, when it is whole and intact.
pub fn parse(bytes: &[u8]) -> Option<(Header, &[u8])> {
    if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
        return None;
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let body_len = u32_at(4) as usize;
    if body_len > MAX_BODY || bytes.len() < HEADER_LEN + body_len {
        return None;
    }
    let record = &bytes[..HEADER_LEN + body_len];
    if checksum(record) != u32_at(24) || bytes[21..24] != [0, 0, 0] {
        return None;
    }
    let signal = match bytes[20] {
        0 => Signal::Traces,
        1 => Signal::Metrics,
        2 => Signal::Logs,
        _ => return None,
    };
    let header = Header {
        sequence: u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
        items: u32_at(16) as u64,
        signal,
        body_len,
    };
    Some((header, &record[HEADER_LEN..]))
}

/// The intact records of a segment file, and what was skipped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Offset and header of each intact record, in file order.
    pub records: Vec<(u64, Header)>,
    /// Damaged stretches (a torn tail counts as one).
    pub damaged: u64,
    pub skipped_bytes: u64,
}

/// Reads every intact record of `file`. A stretch that is not an intact record is skipped up
/// to the next intact one (or the end of the file) and counted.
pub fn scan(file: &[u8]) -> Scan {
    let mut scan = Scan::default();
    let mut at = 0;
    while at < file.len() {
        if let Some((header, _)) = parse(&file[at..]) {
            scan.records.push((at as u64, header));
            at += header.record_len();
            continue;
        }
        let resume = next_intact(file, at + 1).unwrap_or(file.len());
        scan.damaged += 1;
        scan.skipped_bytes += (resume - at) as u64;
        at = resume;
    }
    scan
}

fn next_intact(file: &[u8], from: usize) -> Option<usize> {
    (from..file.len().saturating_sub(HEADER_LEN - 1))
        .filter(|&at| &file[at..at + 4] == MAGIC)
        .find(|&at| parse(&file[at..]).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn request(body: &'static [u8], items: u64) -> EncodedRequest {
        EncodedRequest {
            signal: Signal::Metrics,
            items,
            bytes: Bytes::from_static(body),
        }
    }

    fn three_records() -> Vec<u8> {
        let mut file = Vec::new();
        write(7, &request(b"first", 1), &mut file);
        write(8, &request(b"second body", 2), &mut file);
        write(9, &request(b"third", 3), &mut file);
        file
    }

    #[test]
    fn records_read_back_as_written() {
        let file = three_records();
        let scan = scan(&file);
        assert_eq!(scan.damaged, 0);
        let sequences: Vec<u64> = scan.records.iter().map(|(_, h)| h.sequence).collect();
        assert_eq!(sequences, [7, 8, 9]);
        let (offset, header) = scan.records[1];
        assert_eq!(offset, (HEADER_LEN + 5) as u64);
        assert_eq!(header.items, 2);
        assert_eq!(header.signal, Signal::Metrics);
        let (_, body) = parse(&file[offset as usize..]).unwrap();
        assert_eq!(body, b"second body");
    }

    #[test]
    fn a_torn_tail_is_skipped_and_counted() {
        let file = three_records();
        for cut in 1..HEADER_LEN + 5 {
            let torn = &file[..file.len() - cut];
            let scan = scan(torn);
            assert_eq!(scan.records.len(), 2, "cut {cut}");
            assert_eq!(scan.damaged, 1);
            assert_eq!(scan.skipped_bytes, (HEADER_LEN + 5 - cut) as u64);
        }
    }

    #[test]
    fn a_flipped_byte_loses_only_its_record() {
        let clean = three_records();
        let second = HEADER_LEN + 5;
        for at in second..second + HEADER_LEN + 11 {
            let mut file = clean.clone();
            file[at] ^= 0x40;
            let scan = scan(&file);
            let sequences: Vec<u64> = scan.records.iter().map(|(_, h)| h.sequence).collect();
            assert_eq!(sequences, [7, 9], "byte {at}");
            assert_eq!(scan.damaged, 1);
            assert_eq!(scan.skipped_bytes, (HEADER_LEN + 11) as u64);
        }
    }

    #[test]
    fn garbage_yields_nothing() {
        let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let scan = scan(&garbage);
        assert!(scan.records.is_empty());
        assert_eq!(scan.skipped_bytes, 10_000);
        let mut tricky = b"GCQ1".repeat(100);
        tricky.extend_from_slice(&[0xff; 40]);
        assert!(super::scan(&tricky).records.is_empty());
    }
}
