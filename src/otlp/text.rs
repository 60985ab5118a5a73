//! The strings of a request: whether bytes are UTF-8, and the `&str` they are. Short ASCII
//! strings, most keys and values, are settled without a call; the rest by the standard
//! library (which has its own ASCII path). The scan checks every string with it, and the
//! views read the strings the scan checked through it again, cheaply.

/// `bytes` as a string, `None` when they are not UTF-8.
#[inline(always)]
pub fn as_str(bytes: &[u8]) -> Option<&str> {
    if bytes.len() <= 32 && is_ascii_short(bytes) {
        // SAFETY: every byte is below 0x80, and ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

/// Whether no byte of `bytes` (at most 32 long, not checked) has its high bit set, reading
/// whole words, the last one overlapping the one before.
#[inline(always)]
fn is_ascii_short(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|word| <[u8; 8]>::try_from(word).ok())
            .map_or(HIGH, u64::from_le_bytes)
    };
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|half| <[u8; 4]>::try_from(half).ok())
            .map_or(HIGH, |half| u64::from(u32::from_le_bytes(half)))
    };
    let n = bytes.len();
    let high = if n >= 8 {
        let mut high = word(n - 8);
        let mut at = 0;
        while at + 8 < n {
            high |= word(at);
            at += 8;
        }
        high
    } else if n >= 4 {
        half(0) | half(n - 4)
    } else {
        bytes.iter().fold(0, |high, &byte| high | u64::from(byte))
    };
    high & HIGH == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_ascii_check_sees_a_high_bit_anywhere() {
        for len in 0..=32 {
            let ascii = vec![b'a'; len];
            assert!(is_ascii_short(&ascii));
            assert_eq!(as_str(&ascii), Some("a".repeat(len).as_str()));
            for at in 0..len {
                let mut high = ascii.clone();
                high[at] = 0x80;
                assert!(!is_ascii_short(&high), "{len} {at}");
                assert_eq!(as_str(&high), None);
                high[at] = 0xC3;
                high.insert(at + 1, 0xA9);
                let expected = format!("{}é{}", "a".repeat(at), "a".repeat(len - at - 1));
                assert_eq!(as_str(&high), Some(expected.as_str()));
            }
        }
    }

    #[test]
    fn long_strings_are_checked_whole() {
        let mut long = vec![b'a'; 40];
        assert_eq!(as_str(&long).map(str::len), Some(40));
        long[39] = 0xFF;
        assert_eq!(as_str(&long), None);
    }
}
