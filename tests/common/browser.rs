//! A browser script of `tests/node` (playwright-core driving Debian's Chromium) run by Node: the
//! JSON it prints on its one line that starts with a given tag.

use super::binary::repository_file;
use std::process::Command;

/// Runs `tests/node/<script>` with `arguments`; the JSON after `<tag> ` on its output.
pub fn run_browser_script(script: &str, arguments: &[&str], tag: &str) -> serde_json::Value {
    let output = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
        .arg(repository_file(&format!("tests/node/{script}")))
        .args(arguments)
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(3),
        "playwright-core is missing: run `npm ci --prefix tests/node`\n{stderr}"
    );
    assert!(
        output.status.success(),
        "the browser script failed (Chromium from Debian: `apt-get install chromium`)\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let prefix = format!("{tag} ");
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {tag} line\n{stdout}\n{stderr}"));
    serde_json::from_str(line).unwrap()
}
