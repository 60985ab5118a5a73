//! Which model names went unpriced, so a team sees which prices to add: a count per (reason,
//! model), for at most [`MAX_MODELS`] distinct names per reason; later names count as `_other`.

use super::escaped;
use super::labels::Label;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Distinct model names counted; the rest count as [`OTHER`].
pub const MAX_MODELS: usize = 100;
/// Names are cut to this many bytes (on a character boundary) before they are counted.
pub const MAX_NAME_BYTES: usize = 128;
pub const OTHER: &str = "_other";

/// Counts by reason, then by model name.
#[derive(Default)]
pub(super) struct UnpricedModels {
    counts: Mutex<BTreeMap<&'static str, BTreeMap<String, u64>>>,
}

impl UnpricedModels {
    pub(super) fn add<L: Label>(&self, reason: L, model: &str) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        let name = cut(model.trim());
        let by_model = counts.entry(reason.as_str()).or_default();
        // A name seen before is counted without allocating.
        if let Some(count) = by_model.get_mut(name) {
            *count += 1;
            return;
        }
        let distinct = by_model.keys().filter(|model| *model != OTHER).count();
        let name = if distinct < MAX_MODELS { name } else { OTHER };
        *by_model.entry(name.to_string()).or_default() += 1;
    }

    pub(super) fn get(&self, reason: &str, model: &str) -> u64 {
        self.counts.lock().map_or(0, |counts| {
            counts
                .get(reason)
                .and_then(|by_model| by_model.get(model))
                .copied()
                .unwrap_or(0)
        })
    }

    pub(super) fn render(&self, out: &mut String) {
        let name = "genai_cost_agent_spans_unpriced_by_model_total";
        let _ = writeln!(
            out,
            "# HELP {name} Spans with token usage that could not be priced, by reason and model (at most {MAX_MODELS} names, then model=\"{OTHER}\")."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        let Ok(counts) = self.counts.lock() else {
            return;
        };
        for (reason, by_model) in counts.iter() {
            for (model, count) in by_model {
                let _ = writeln!(
                    out,
                    "{name}{{reason=\"{reason}\",model=\"{}\"}} {count}",
                    escaped(model)
                );
            }
        }
    }
}

fn cut(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one reason this test needs, as a stage would declare it.
    #[derive(Clone, Copy)]
    enum UnpricedReason {
        UnknownModel,
    }

    impl Label for UnpricedReason {
        const ALL: &'static [Self] = &[Self::UnknownModel];
        fn as_str(self) -> &'static str {
            "unknown_model"
        }
        fn index(self) -> usize {
            0
        }
    }

    #[test]
    fn names_past_the_limit_count_as_other_and_values_are_escaped() {
        let models = UnpricedModels::default();
        for index in 0..MAX_MODELS + 3 {
            models.add(UnpricedReason::UnknownModel, &format!("model-{index}"));
        }
        models.add(UnpricedReason::UnknownModel, "model-0");
        models.add(UnpricedReason::UnknownModel, "a\"b\\c\nd");
        assert_eq!(models.get("unknown_model", "model-0"), 2);
        assert_eq!(models.get("unknown_model", OTHER), 4);
        let mut text = String::new();
        models.render(&mut text);
        let series = text.lines().filter(|line| !line.starts_with('#')).count();
        assert_eq!(series, MAX_MODELS + 1);
        assert!(text.contains(
            "genai_cost_agent_spans_unpriced_by_model_total{reason=\"unknown_model\",model=\"model-0\"} 2\n"
        ));
        let long = "x".repeat(300) + "é";
        let fresh = UnpricedModels::default();
        fresh.add(UnpricedReason::UnknownModel, &long);
        assert_eq!(fresh.get("unknown_model", &"x".repeat(MAX_NAME_BYTES)), 1);
    }
}
