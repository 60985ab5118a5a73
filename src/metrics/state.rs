//! The series of every instrument, keyed cheaply: a call's shared dimensions are interned once
//! to a number, and a point's key is that number plus the one attribute that sets it apart.
//! Only a dimension set that gets a series is interned, and compaction forgets those no series
//! refers to, so interned sets never outnumber the series held.

use super::record::Dimension;
use super::series::{SeriesKey, SeriesTable, TableKey, OVERFLOW_KEY};
use super::Instrument;
use rustc_hash::{FxBuildHasher, FxHashSet};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// The attribute that tells a call's points apart (`gen_ai.token.type = input`, …).
pub type Extra = Option<(&'static str, Cow<'static, str>)>;

/// A point's key: the interned dimensions and its own attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PointKey {
    base: u32,
    extra: Extra,
}

const OVERFLOW_BASE: u32 = u32::MAX;

impl TableKey for PointKey {
    fn overflow() -> Self {
        PointKey {
            base: OVERFLOW_BASE,
            extra: None,
        }
    }
}

/// One interned dimension set.
type Dimensions = Arc<[Dimension]>;

/// Every instrument's series and the interned dimensions they refer to.
#[derive(Debug, Default)]
pub struct State {
    /// Interned dimension sets, shared by the lookup and the numbering.
    bases: HashMap<Dimensions, u32, FxBuildHasher>,
    base_keys: Vec<Dimensions>,
    tables: [SeriesTable<PointKey>; 7],
}

impl State {
    /// The number standing for `dimensions`, if interned.
    pub fn find(&self, dimensions: &[Dimension]) -> Option<u32> {
        self.bases.get(dimensions).copied()
    }

    /// Interns `dimensions` (not interned yet) and returns its number.
    pub fn intern(&mut self, dimensions: &[Dimension]) -> u32 {
        let base = self.base_keys.len() as u32;
        let shared: Dimensions = dimensions.into();
        self.base_keys.push(shared.clone());
        self.bases.insert(shared, base);
        base
    }

    /// How many dimension sets are interned.
    #[cfg(test)]
    pub fn interned(&self) -> usize {
        self.base_keys.len()
    }

    pub fn key(base: u32, extra: Extra) -> PointKey {
        PointKey { base, extra }
    }

    pub fn table(&mut self, instrument: Instrument) -> &mut SeriesTable<PointKey> {
        &mut self.tables[instrument as usize]
    }

    pub fn table_ref(&self, instrument: Instrument) -> &SeriesTable<PointKey> {
        &self.tables[instrument as usize]
    }

    /// The full attribute list of a point.
    pub fn expand(&self, key: &PointKey) -> SeriesKey {
        let mut attributes = SeriesKey::new();
        self.for_each_attribute(key, |name, value| {
            attributes.push((name.to_string(), value.to_string()));
        });
        attributes
    }

    /// Each attribute of a point, in order, without copying them.
    pub fn for_each_attribute(&self, key: &PointKey, mut each: impl FnMut(&str, &str)) {
        if key.base == OVERFLOW_BASE {
            return each(OVERFLOW_KEY, "true");
        }
        for (name, value) in self.base_keys[key.base as usize].iter() {
            each(name, value);
        }
        if let Some((name, value)) = &key.extra {
            each(name, value);
        }
    }

    /// Forgets interned dimensions no series refers to any more (after idle series left).
    pub fn compact(&mut self) {
        let used: FxHashSet<u32> = self
            .tables
            .iter()
            .flat_map(|table| table.keys().map(|key| key.base))
            .collect();
        if used.len() == self.base_keys.len() {
            return;
        }
        let mut renumbered = vec![OVERFLOW_BASE; self.base_keys.len()];
        let mut base_keys = Vec::with_capacity(used.len());
        for (old, key) in std::mem::take(&mut self.base_keys).into_iter().enumerate() {
            if used.contains(&(old as u32)) {
                renumbered[old] = base_keys.len() as u32;
                base_keys.push(key);
            }
        }
        self.bases = base_keys
            .iter()
            .enumerate()
            .map(|(index, key)| (key.clone(), index as u32))
            .collect();
        self.base_keys = base_keys;
        for table in &mut self.tables {
            table.rekey(|key| PointKey {
                base: if key.base == OVERFLOW_BASE {
                    OVERFLOW_BASE
                } else {
                    renumbered[key.base as usize]
                },
                extra: key.extra.clone(),
            });
        }
    }
}
