//! Counter families labelled by a closed set of values (`reason="…"`). The values belong to the
//! stage that decides them — why a span is unpriced, why a held span left the hold, why the agent
//! closed a connection —, which implements [`Label`] for them; telemetry only counts and renders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A closed set of label values, one counter each.
pub trait Label: Copy + 'static {
    /// Every value, in the order they are rendered; at most [`MAX_VALUES`].
    const ALL: &'static [Self];
    /// The value as the text format writes it.
    fn as_str(self) -> &'static str;
    /// The value's place in [`Label::ALL`].
    fn index(self) -> usize;
}

/// Gives a fieldless enum, whose variants are listed in declaration order with their texts, an
/// `ALL` array, `as_str`, and the [`Label`] implementation built from them:
/// `label_values!(Release { Resolved => "resolved", Timeout => "timeout" });`
macro_rules! label_values {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: [$type; [$($text),+].len()] = [$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }
        }

        // `index` is the discriminant: the list must follow the declaration order.
        const _: () = {
            let mut index = 0;
            while index < <$type>::ALL.len() {
                assert!(<$type>::ALL[index] as usize == index, "variants out of order");
                index += 1;
            }
        };

        impl $crate::telemetry::Label for $type {
            const ALL: &'static [Self] = &<$type>::ALL;
            fn as_str(self) -> &'static str {
                <$type>::as_str(self)
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}
pub(crate) use label_values;

/// The most values one label may have.
pub const MAX_VALUES: usize = 8;

/// The label value at `index` of `L`.
fn value_of<L: Label>(index: usize) -> Option<&'static str> {
    L::ALL.get(index).map(|value| value.as_str())
}

/// One counter per value of a [`Label`]. Which label it counts is learnt from the first value
/// counted, or named beforehand with [`Labelled::declare`] so that every value renders (zeros
/// included) from the start.
#[derive(Default)]
pub struct Labelled {
    values: OnceLock<fn(usize) -> Option<&'static str>>,
    counts: [AtomicU64; MAX_VALUES],
}

impl Labelled {
    /// Names the label this family counts.
    pub fn declare<L: Label>(&self) {
        const { assert!(L::ALL.len() <= MAX_VALUES) };
        self.values.get_or_init(|| value_of::<L>);
    }

    pub fn add<L: Label>(&self, value: L, count: u64) {
        self.declare::<L>();
        if let Some(counter) = self.counts.get(value.index()) {
            counter.fetch_add(count, Ordering::Relaxed);
        }
    }

    pub fn get<L: Label>(&self, value: L) -> u64 {
        self.counts
            .get(value.index())
            .map_or(0, |counter| counter.load(Ordering::Relaxed))
    }

    /// Each value with its count, in the label's order; nothing before the label is known.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let value_of = self.values.get().copied();
        (0..MAX_VALUES).map_while(move |index| {
            let value = value_of?(index)?;
            Some((value, self.counts[index].load(Ordering::Relaxed)))
        })
    }
}

/// A Prometheus label value: backslash, quote and line feed escaped.
pub fn escaped(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
