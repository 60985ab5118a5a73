//! The report as text for people, CSV (the rollup rows) for spreadsheets, or JSON (everything)
//! for programs. Amounts are printed as the exact decimals they are.

use super::{Report, Rollup};
use std::fmt::Write as _;

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Csv,
    Json,
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Csv => csv(report),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}

const ROLLUP_COLUMNS: [&str; 7] = [
    "calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost",
    "cache_savings",
];

fn rollup_cells(rollup: &Rollup) -> Vec<String> {
    let mut cells = rollup.keys.clone();
    cells.extend([
        rollup.calls.to_string(),
        rollup.input_tokens.to_string(),
        rollup.output_tokens.to_string(),
        rollup.cache_read_tokens.to_string(),
        rollup.cache_creation_tokens.to_string(),
        rollup.cost.to_string(),
        rollup.cache_savings.to_string(),
    ]);
    cells
}

fn rollup_header(report: &Report) -> Vec<String> {
    report
        .by
        .iter()
        .cloned()
        .chain(ROLLUP_COLUMNS.iter().map(|column| column.to_string()))
        .collect()
}

fn csv(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            crate::ledger::focus::push_field(&mut out, cell);
        }
        out.push('\n');
    };
    line(rollup_header(report));
    for rollup in &report.rollups {
        line(rollup_cells(rollup));
    }
    out
}

/// Rows as columns padded to their widest cell; the columns `numeric` marks aligned right.
fn table(out: &mut String, rows: &[Vec<String>], numeric: impl Fn(usize) -> bool) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(" ");
        for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if numeric(column) {
                let _ = write!(line, " {cell:>width$}");
            } else {
                let _ = write!(line, " {cell:<width$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    let currency = &report.currency;
    let figures = &report.figures;
    let span = match (&report.from, &report.to) {
        (None, None) => "every call in the ledger".to_string(),
        (from, to) => format!(
            "calls from {} to {}",
            from.as_deref().unwrap_or("the start"),
            to.as_deref().unwrap_or("the end")
        ),
    };
    let _ = writeln!(out, "genai-cost-agent report: {span}, in {currency}\n");
    let unpriced = if figures.unpriced_calls.is_empty() {
        String::new()
    } else {
        let reasons: Vec<String> = figures
            .unpriced_calls
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect();
        format!("; unpriced: {}", reasons.join(", "))
    };
    let rows = [
        [
            "calls".to_string(),
            format!(
                "{} ({} priced{unpriced})",
                figures.calls, figures.priced_calls
            ),
        ],
        ["cost".into(), format!("{} {currency}", figures.cost)],
        [
            "cost per call".into(),
            format!(
                "average {}, p95 {} {currency}",
                figures.cost_per_call_average, figures.cost_per_call_p95
            ),
        ],
        [
            format!("tokens per {currency}"),
            figures.tokens_per_unit.to_string(),
        ],
        ["cache hit rate".into(), figures.cache_hit_rate.to_string()],
        [
            "cache savings".into(),
            format!("{} {currency}", figures.cache_savings),
        ],
        [
            "output/input ratio".into(),
            figures.output_input_ratio.to_string(),
        ],
        [
            "failed calls".into(),
            format!(
                "{} (error rate {}), costing {} {currency}",
                figures.failed_calls, figures.error_rate, figures.failed_calls_cost
            ),
        ],
        [
            "throttled calls".into(),
            figures.throttled_calls.to_string(),
        ],
    ];
    let _ = writeln!(out, "Figures");
    for [name, value] in rows {
        let _ = writeln!(out, "  {name:<20} {value}");
    }
    let _ = writeln!(out, "\nModel mix");
    let mut mix = vec![["model", "calls", "call share", "cost", "cost share"]
        .map(String::from)
        .to_vec()];
    for share in &figures.model_mix {
        mix.push(vec![
            share.model.clone(),
            share.calls.to_string(),
            share.call_share.to_string(),
            share.cost.to_string(),
            share.cost_share.to_string(),
        ]);
    }
    table(&mut out, &mix, |column| column > 0);
    if let Some(pareto) = &report.pareto {
        let _ = writeln!(
            out,
            "\nPareto: the top 5% of priced calls ({}) cost {} {currency}, {} of all",
            pareto.calls, pareto.cost, pareto.share
        );
    }
    if !report.by.is_empty() {
        let _ = writeln!(out, "\nBy {}", report.by.join(", "));
        let mut rows = vec![rollup_header(report)];
        rows.extend(report.rollups.iter().map(rollup_cells));
        let keys = report.by.len();
        table(&mut out, &rows, |column| column >= keys);
    }
    if !report.top_calls.is_empty() {
        let _ = writeln!(out, "\nTop {} calls", report.top_calls.len());
        let mut rows = vec![[
            "cost",
            "share",
            "time",
            "model",
            "service",
            "trace",
            "span",
            "attributes",
        ]
        .map(String::from)
        .to_vec()];
        for top in &report.top_calls {
            let entry = &top.call;
            let attributes: Vec<String> = entry
                .attributes
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            rows.push(vec![
                entry
                    .cost
                    .map(|cost| cost.total)
                    .unwrap_or_default()
                    .to_string(),
                top.share.to_string(),
                entry.time.clone(),
                entry.model().to_string(),
                entry.service.clone().unwrap_or_default(),
                entry.trace_id.clone(),
                entry.span_id.clone(),
                attributes.join(" "),
            ]);
        }
        table(&mut out, &rows, |column| column < 2);
    }
    out
}
