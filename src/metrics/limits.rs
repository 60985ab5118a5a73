//! What a call record may bring into the metric state: dimension values cut to the configured
//! length on a UTF-8 character boundary, and a record's heap size (for the parked records' bound).

use super::CallRecord;

/// Cuts `value` to at most `max` bytes at the last character boundary, releasing the rest of
/// its buffer; whether it was cut.
pub fn cut(value: &mut String, max: usize) -> bool {
    if value.len() <= max {
        return false;
    }
    let end = (0..=max)
        .rev()
        .find(|end| value.is_char_boundary(*end))
        .unwrap_or(0);
    value.truncate(end);
    value.shrink_to_fit();
    true
}

/// Cuts every dimension value of `record` to `max` bytes; how many were cut.
pub fn cut_dimensions(record: &mut CallRecord, max: usize) -> u64 {
    record
        .dimensions
        .iter_mut()
        .map(|(_, value)| u64::from(cut(value, max)))
        .sum()
}

/// The bytes `record` holds: the record itself, its dimension strings and thresholds.
pub fn heap_bytes(record: &CallRecord) -> usize {
    let strings: usize = record
        .dimensions
        .iter()
        .map(|(key, value)| key.len() + value.capacity())
        .sum();
    std::mem::size_of::<CallRecord>()
        + record.dimensions.capacity() * std::mem::size_of::<super::Dimension>()
        + strings
        + record.thresholds_exceeded.capacity() * std::mem::size_of::<rust_decimal::Decimal>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_within_the_length_are_kept_whole() {
        let mut value = "gpt-4o".to_string();
        assert!(!cut(&mut value, 6));
        assert_eq!(value, "gpt-4o");
    }

    #[test]
    fn long_values_are_cut_to_the_length_and_release_their_buffer() {
        let mut value = "m".repeat(100_000);
        assert!(cut(&mut value, 256));
        assert_eq!(value, "m".repeat(256));
        assert_eq!(value.capacity(), 256);
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // "é" is two bytes, "€" three: 255 bytes of "a" then "é" puts boundaries at 255 and 257.
        let mut value = format!("{}é€", "a".repeat(255));
        assert!(cut(&mut value, 256));
        assert_eq!(value, "a".repeat(255));
        let mut value = format!("{}€", "a".repeat(254));
        assert!(cut(&mut value, 256));
        assert_eq!(value, "a".repeat(254));
        let mut value = format!("{}é€", "a".repeat(254));
        assert!(cut(&mut value, 256));
        assert_eq!(value, format!("{}é", "a".repeat(254)));
    }

    #[test]
    fn every_dimension_value_is_cut_and_counted() {
        let mut record = CallRecord {
            span: Default::default(),
            price_id: None,
            dimensions: vec![
                ("gen_ai.request.model".into(), "x".repeat(300)),
                ("gen_ai.response.model".into(), "y".repeat(256)),
                ("user.id".into(), "z".repeat(257)),
            ],
            usage: None,
            cost: None,
            duration_seconds: None,
            unpriced: None,
            thresholds_exceeded: Vec::new(),
        };
        assert_eq!(cut_dimensions(&mut record, 256), 2);
        let values: Vec<usize> = record.dimensions.iter().map(|(_, v)| v.len()).collect();
        assert_eq!(values, [256, 256, 256]);
        assert_eq!(
            &*record.dimensions[0].0, "gen_ai.request.model",
            "keys are left alone"
        );
    }
}
