//! The catalog in force, replaced whole when its files change: a request takes the catalog once
//! and prices every span by it, so each span is priced by the old catalog or the new one, and
//! what was already priced is never priced again. Also what changed between two catalogs.

use super::catalog::{Catalog, PriceEntry};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The current catalog, shared by the enricher and whatever reloads it.
#[derive(Debug)]
pub struct CatalogCell(RwLock<Arc<Catalog>>);

impl CatalogCell {
    pub fn new(catalog: Catalog) -> Self {
        CatalogCell(RwLock::new(Arc::new(catalog)))
    }

    /// The catalog in force now.
    pub fn current(&self) -> Arc<Catalog> {
        match self.0.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts `catalog` in force; requests already under way finish with the one they took.
    pub fn replace(&self, catalog: Catalog) {
        let catalog = Arc::new(catalog);
        match self.0.write() {
            Ok(mut current) => *current = catalog,
            Err(poisoned) => *poisoned.into_inner() = catalog,
        }
    }
}

/// Entry ids added, removed and changed (same id, other prices or names; not merely another
/// source) between two catalogs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CatalogChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl CatalogChanges {
    pub fn between(old: &Catalog, new: &Catalog) -> Self {
        let by_id = |catalog: &Catalog| -> BTreeMap<String, PriceEntry> {
            catalog
                .all_entries()
                .map(|entry| (entry.id.clone(), entry.clone()))
                .collect()
        };
        let (old, new) = (by_id(old), by_id(new));
        let mut changes = CatalogChanges::default();
        for (id, entry) in &new {
            match old.get(id) {
                None => changes.added.push(id.clone()),
                // Where an entry comes from is not a change of its prices.
                Some(before)
                    if (&before.versions, &before.patterns, &before.provider)
                        != (&entry.versions, &entry.patterns, &entry.provider) =>
                {
                    changes.changed.push(id.clone())
                }
                Some(_) => {}
            }
        }
        changes.removed = old
            .keys()
            .filter(|id| !new.contains_key(*id))
            .cloned()
            .collect();
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// `3 added (a, b, c), 1 removed (d), 0 changed`, at most `shown` ids of each.
    pub fn summary(&self, shown: usize) -> String {
        let part = |what: &str, ids: &[String]| {
            let mut text = format!("{} {what}", ids.len());
            if !ids.is_empty() {
                let listed: Vec<&str> = ids.iter().take(shown).map(String::as_str).collect();
                let more = ids.len().saturating_sub(shown);
                let tail = if more > 0 {
                    format!(", … {more} more")
                } else {
                    String::new()
                };
                text.push_str(&format!(" ({}{tail})", listed.join(", ")));
            }
            text
        };
        format!(
            "{}, {}, {}",
            part("added", &self.added),
            part("removed", &self.removed),
            part("changed", &self.changed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PricingConfig;

    fn with_file(text: &str, name: &str) -> Catalog {
        let path = std::env::temp_dir().join(format!("swap-{}-{name}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let catalog = Catalog::build(&PricingConfig {
            builtin: false,
            catalog_files: vec![path.display().to_string()],
            ..PricingConfig::default()
        })
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        catalog
    }

    fn provider(models: &[(&str, &str)]) -> String {
        let models: Vec<String> = models
            .iter()
            .map(|(id, input)| {
                format!(r#"{{"id":"{id}","match":{{"equals":"{id}"}},"prices":{{"input_mtok":{input}}}}}"#)
            })
            .collect();
        format!(
            r#"[{{"id":"p","api_pattern":"x","models":[{}]}}]"#,
            models.join(",")
        )
    }

    #[test]
    fn changes_name_entries_added_removed_and_repriced() {
        let old = with_file(&provider(&[("a", "1"), ("b", "2"), ("c", "3")]), "old");
        let new = with_file(&provider(&[("a", "1"), ("b", "2.5"), ("d", "4")]), "new");
        let changes = CatalogChanges::between(&old, &new);
        assert_eq!(
            changes,
            CatalogChanges {
                added: vec!["p/d".into()],
                removed: vec!["p/c".into()],
                changed: vec!["p/b".into()],
            }
        );
        assert_eq!(
            changes.summary(10),
            "1 added (p/d), 1 removed (p/c), 1 changed (p/b)"
        );
        assert!(CatalogChanges::between(&old, &old).is_empty());
        let many = CatalogChanges {
            added: (0..5).map(|i| i.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(
            many.summary(2),
            "5 added (0, 1, … 3 more), 0 removed, 0 changed"
        );
    }

    #[test]
    fn a_cell_hands_out_the_catalog_in_force() {
        let cell = CatalogCell::new(with_file(&provider(&[("a", "1")]), "first"));
        let taken = cell.current();
        cell.replace(with_file(&provider(&[("b", "1")]), "second"));
        assert_eq!(taken.all_entries().next().unwrap().id, "p/a");
        assert_eq!(cell.current().all_entries().next().unwrap().id, "p/b");
    }
}
