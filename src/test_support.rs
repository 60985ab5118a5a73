//! Helpers shared by the unit tests and (through `tests/common`) the integration tests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use std::path::PathBuf;

/// An environment of `(name, value)` pairs, as the configuration's variable lookups take it.
pub fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    }
}

/// An attribute of any value.
pub fn attr(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A string attribute.
pub fn text(key: &str, value: &str) -> KeyValue {
    attr(key, Value::StringValue(value.into()))
}

/// An integer attribute.
pub fn int(key: &str, value: i64) -> KeyValue {
    attr(key, Value::IntValue(value))
}

/// The parent span id of a test span: `parent` repeated, or none for 0 (a root span).
pub fn parent_id(parent: u8) -> Vec<u8> {
    if parent == 0 {
        Vec::new()
    } else {
        vec![parent; 8]
    }
}

/// A trace export request holding `spans` under one resource and scope.
pub fn traces_request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A directory of its own under the system's temporary one, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "genai-cost-agent-{name}-{}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The directory's path as text (for configuration values).
    #[allow(dead_code)] // the integration tests use it
    pub fn path(&self) -> String {
        self.0.display().to_string()
    }

    /// Writes `contents` to the file `name` in the directory; returns its path as text. The
    /// file is replaced whole (written beside it, then renamed over it), as secret mounts and
    /// careful operators rotate files, so a reader never sees it empty or half written.
    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        let staged = self.0.join(format!(".{name}.staged"));
        std::fs::write(&staged, contents).unwrap();
        std::fs::rename(&staged, &path).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The trace requests real instrumentation sent (tests/corpus/instrumentation, captured by
/// tests/python/capture_corpus.py), by file name, in name order.
pub fn instrumentation_corpus() -> Vec<(String, Vec<u8>)> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/instrumentation");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(directory)
        .unwrap_or_else(|err| panic!("{directory}: {err}"))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a readable corpus file"))
        })
        .filter(|(name, _)| name.ends_with(".binpb"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "{directory} holds {} requests",
        files.len()
    );
    files
}
