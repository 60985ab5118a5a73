//! The live page itself: one self-contained HTML document (no script, style or font from
//! elsewhere, so it works offline) that fetches `api/live?window=…` every two seconds.

/// The page, served at the telemetry endpoint's `/`.
pub const HTML: &str = include_str!("page.html");
