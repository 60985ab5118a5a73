//! The module layers: every top-level module of `src/` sits in one layer, and imports only modules
//! of the layers below its own. The stages come in the order data flows through them (each one
//! hands its output to the next, so it may name the next one's types, never the other way
//! round), then the domain modules the stages share, then the foundation.
//!
//! Imports are read from the source text: `crate::<module>` anywhere in code (`use` lines, paths
//! inside expressions, re-exports) and the first name of every item of a grouped
//! `use crate::{…}`. Comments and literals are ignored, and so is test code: files declared with
//! `#[cfg(test)] mod …;` (and the files below them) and every item behind `#[cfg(test)]` — tests
//! may set up what they check with a higher module (the derived metrics' tests feed them
//! through the enricher). `lib.rs` only declares the modules and `main.rs` is the binary, which
//! uses the library's public API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom, with what each layer is.
const LAYERS: &[(&[&str], &str)] = &[
    (
        &["agent"],
        "the assembly: builds the components, starts and stops the stages",
    ),
    (
        &["reconcile", "report"],
        "the report over the ledger's files, and the agent's spend compared with the \
         providers' reports (polled while the agent runs)",
    ),
    (
        &["receiver"],
        "stage: OTLP over gRPC and HTTP, transport only",
    ),
    (
        &["pipeline"],
        "stage: admission, the enrichment call, the hold, fan-out",
    ),
    (
        &["live"],
        "stage: the live page's per-minute memory of the calls, fed the enricher's call records",
    ),
    (&["enrich"], "stage: usage + price → cost → span attributes"),
    (
        &["ledger"],
        "stage: the cost ledger's files, written from the enricher's call records",
    ),
    (
        &["metrics"],
        "stage: the derived metrics, fed the enricher's call records",
    ),
    (&["exporter"], "stage: the queues, batching, OTLP out"),
    (
        &["pricing"],
        "domain: catalog, cost, unpriced reasons, cost attribute names",
    ),
    (&["usage"], "domain: token usage read off a span"),
    (
        &["pem", "telemetry"],
        "foundation: PEM files, the agent's own counters",
    ),
    (
        &["otlp", "config"],
        "foundation: OTLP requests and wire bytes, the configuration",
    ),
];

/// Imports allowed against the layers: (from, to, why). None today.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// The source with comments removed and the insides of string and character literals blanked,
/// so only code is left to read paths from.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut index = 0;
    while index < chars.len() {
        let (char, next) = (chars[index], chars.get(index + 1).copied());
        match (char, next) {
            ('/', Some('/')) => {
                while index < chars.len() && chars[index] != '\n' {
                    index += 1;
                }
            }
            ('/', Some('*')) => {
                index += 2;
                while index < chars.len()
                    && !(chars[index] == '*' && chars.get(index + 1) == Some(&'/'))
                {
                    index += 1;
                }
                index += 2;
            }
            ('r', Some('"' | '#')) if index == 0 || !is_name_char(chars[index - 1]) => {
                // A raw string: r"…", r#"…"#, …
                let hashes = chars[index + 1..].iter().take_while(|c| **c == '#').count();
                if chars.get(index + 1 + hashes) != Some(&'"') {
                    out.push(char);
                    index += 1;
                    continue;
                }
                index += 2 + hashes;
                while index < chars.len()
                    && !(chars[index] == '"'
                        && chars[index + 1..]
                            .iter()
                            .take(hashes)
                            .filter(|c| **c == '#')
                            .count()
                            == hashes)
                {
                    index += 1;
                }
                index += 1 + hashes;
                out.push_str("\"\"");
            }
            ('"', _) => {
                index += 1;
                while index < chars.len() && chars[index] != '"' {
                    index += if chars[index] == '\\' { 2 } else { 1 };
                }
                index += 1;
                out.push_str("\"\"");
            }
            ('\'', Some('\\')) => {
                // An escaped character literal: '\n', '\'', '\u{…}'.
                index += 2;
                while index < chars.len() && chars[index] != '\'' {
                    index += 1;
                }
                index += 1;
                out.push_str("' '");
            }
            ('\'', Some(_)) if chars.get(index + 2) == Some(&'\'') => {
                index += 3;
                out.push_str("' '");
            }
            _ => {
                out.push(char);
                index += 1;
            }
        }
    }
    out
}

fn is_name_char(char: char) -> bool {
    char.is_alphanumeric() || char == '_'
}

/// The index just past the item starting at `from`: its closing brace, or its `;` when it has no
/// body.
fn item_end(code: &str, from: usize) -> usize {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    for (offset, byte) in bytes[from..].iter().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return from + offset + 1;
                }
            }
            b';' if depth == 0 => return from + offset + 1,
            _ => {}
        }
    }
    code.len()
}

/// The code without the items behind `#[cfg(test)]`, and the modules those items declare
/// (`mod tests;`), whose files are test code too.
fn without_test_items(code: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut test_modules = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let item = start + MARK.len();
        let end = item_end(rest, item);
        let declared = rest[item..end].trim();
        if let Some(name) = declared
            .strip_suffix(';')
            .and_then(|head| head.trim_start_matches("pub ").strip_prefix("mod "))
        {
            test_modules.push(name.trim().to_string());
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, test_modules)
}

/// The top-level modules `code` imports through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let start = from + at;
        from = start + "crate::".len();
        if start > 0 && (is_name_char(char::from(bytes[start - 1])) || bytes[start - 1] == b'$') {
            continue;
        }
        let after = code[from..].trim_start();
        if let Some(group) = after.strip_prefix('{') {
            // The first name of every top-level item of the group.
            let mut depth = 0usize;
            let mut at_item_start = true;
            for (index, char) in group.char_indices() {
                match char {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_item_start = true,
                    c if at_item_start && is_name_char(c) => {
                        let name: String = group[index..]
                            .chars()
                            .take_while(|c| is_name_char(*c))
                            .collect();
                        found.insert(name);
                        at_item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = after.chars().take_while(|c| is_name_char(*c)).collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The file of module `name` declared in `file`, if it exists.
fn child_file(file: &Path, name: &str) -> Option<PathBuf> {
    let parent = file.parent()?;
    let stem = file.file_stem()?.to_str()?;
    let directory = if matches!(stem, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    };
    [
        directory.join(format!("{name}.rs")),
        directory.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|candidate| candidate.is_file())
}

fn rust_files(directory: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn top_module(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let first = first.as_os_str().to_str().unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// Each top-level module with the modules it imports and the files that import each.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut code_of = BTreeMap::new();
    let mut test_files = BTreeSet::new();
    for file in &files {
        let (code, test_modules) =
            without_test_items(&code_only(&std::fs::read_to_string(file).unwrap()));
        for name in test_modules {
            test_files.extend(child_file(file, &name));
        }
        code_of.insert(file.clone(), code);
    }
    // A test module's own submodules (the files below its directory) are test code too.
    let test_directories: Vec<PathBuf> = test_files
        .iter()
        .map(|test| match test.file_name() {
            Some(name) if name == "mod.rs" => test.parent().unwrap().to_path_buf(),
            _ => test.with_extension(""),
        })
        .collect();
    for file in &files {
        if test_directories
            .iter()
            .any(|directory| file.starts_with(directory))
        {
            test_files.insert(file.clone());
        }
    }
    let mut table: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (file, code) in &code_of {
        let module = top_module(src, file);
        if test_files.contains(file) || matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let imported = table.entry(module.clone()).or_default();
        for name in imports(code) {
            if name != module {
                let relative = file.strip_prefix(src).unwrap().display().to_string();
                imported.entry(name).or_default().insert(relative);
            }
        }
    }
    table
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(modules, _)| modules.contains(&module))
}

/// Every import that goes up or sideways, as `from → to (files)`.
fn violations(table: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<String> {
    let mut found = Vec::new();
    for (from, imported) in table {
        for (to, files) in imported {
            let allowed = ALLOWED
                .iter()
                .any(|(allowed_from, allowed_to, _)| allowed_from == from && allowed_to == to);
            let downward = matches!((layer_of(from), layer_of(to)), (Some(a), Some(b)) if a < b);
            if !downward && !allowed {
                found.push(format!("{from} → {to} ({})", join(files)));
            }
        }
    }
    found
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_one_of_its_own_layer_or_above() {
    let table = module_imports(&src());
    let found = violations(&table);
    let listing: Vec<String> = table
        .iter()
        .map(|(module, imported)| {
            let names: BTreeSet<String> = imported.keys().cloned().collect();
            format!("{module} → {}", join(&names))
        })
        .collect();
    assert!(
        found.is_empty(),
        "imports against the layers:\n  {}\n\nall imports:\n  {}",
        found.join("\n  "),
        listing.join("\n  ")
    );
}

#[test]
fn every_module_has_a_layer_and_every_allowed_import_is_still_made() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    for line in code_only(&lib).lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(
                layer_of(name).is_some(),
                "module `{name}` is in no layer: add it to LAYERS"
            );
        }
    }
    let table = module_imports(&src());
    for (from, to, why) in ALLOWED {
        assert!(
            table
                .get(*from)
                .is_some_and(|imported| imported.contains_key(*to)),
            "{from} → {to} is allowed ({why}) but no longer made: remove it from ALLOWED"
        );
    }
}

#[test]
fn the_reading_finds_every_form_of_import_and_skips_test_code() {
    let code = "use crate::pipeline::Intake;\n\
        use crate::{otlp::Payload, telemetry::{AgentCounters, Label}, config};\n\
        fn f() { crate::usage::read(); }\n\
        // crate::exporter in a comment\n\
        #[cfg(test)]\nmod tests { use crate::agent::Agent; }\n\
        #[cfg(test)]\nmod more;\n";
    let (code, test_modules) = without_test_items(&code_only(code));
    assert_eq!(test_modules, ["more"]);
    let found: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(found, ["config", "otlp", "pipeline", "telemetry", "usage"]);

    let mut table = BTreeMap::new();
    let mut imported = BTreeMap::new();
    imported.insert(
        "pipeline".to_string(),
        BTreeSet::from(["metrics/flusher.rs".to_string()]),
    );
    table.insert("metrics".to_string(), imported);
    assert_eq!(
        violations(&table),
        ["metrics → pipeline (metrics/flusher.rs)"]
    );
}
