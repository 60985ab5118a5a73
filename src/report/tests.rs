use super::*;
use crate::test_support::TempDir;
use rust_decimal_macros::dec;

/// A known ledger: six calls over two days.
///   1 2026-12-05 10:00 Sonnet 4.5, search/qa: input 20,000 (15,000 read), output 800; 0.0315
///   2 2026-12-05 11:00 Haiku 4.5, search/summarize: input 4,000, output 500; 0.0065
///   3 2026-12-06 09:00 GPT-4o mini, ads/qa: input 4,000 (2,000 read), output 500; 0.00075
///   4 2026-12-06 09:30 Sonnet 4.5, ads/qa: refused with 429, no usage
///   5 2026-12-06 10:00 acme-llm-1, ads: input 900, output 90, unpriced
///   6 2026-12-06 12:00 Sonnet 4.5, search/summarize: failed (timeout) after input 10,000 and
///     output 1,000; 0.045
/// Cost 0.08375 over 4 priced calls; input 38,900, output 2,890, cache reads 17,000; the priced
/// calls' input 38,000 and output 2,800.
const LEDGER: &str = r#"{"time":"2026-12-05T10:00:00.000000000Z","start_time":"2026-12-05T09:59:58.000000000Z","trace_id":"01000000000000000000000000000000","span_id":"0100000000000001","service":"chat-app","provider":"anthropic","response_model":"claude-sonnet-4-5-20250929","status":"ok","tokens":{"input":20000,"output":800,"cache_read":15000,"cache_creation":0},"price_id":"claude-sonnet-4-5@2026-01-01","currency":"USD","cost":{"total":"0.0315","input":"0.015","output":"0.012","cache_read":"0.0045","cache_creation":"0","tools":"0","cache_savings":"0.0405","cache_hit_ratio":"0.75"},"attributes":{"feature":"qa","team":"search"}}
{"time":"2026-12-05T11:00:00.000000000Z","start_time":"2026-12-05T10:59:59.000000000Z","trace_id":"02000000000000000000000000000000","span_id":"0200000000000002","service":"chat-app","provider":"anthropic","response_model":"claude-haiku-4-5-20251001","status":"ok","tokens":{"input":4000,"output":500,"cache_read":0,"cache_creation":0},"price_id":"claude-haiku-4-5@2026-01-01","currency":"USD","cost":{"total":"0.0065","input":"0.004","output":"0.0025","cache_read":"0","cache_creation":"0","tools":"0","cache_savings":"0","cache_hit_ratio":"0"},"attributes":{"feature":"summarize","team":"search"}}

{"time":"2026-12-06T09:00:00.000000000Z","start_time":"2026-12-06T08:59:59.000000000Z","trace_id":"03000000000000000000000000000000","span_id":"0300000000000003","service":"ads-app","provider":"openai","response_model":"gpt-4o-mini-2024-07-18","status":"ok","tokens":{"input":4000,"output":500,"cache_read":2000,"cache_creation":0},"price_id":"gpt-4o-mini@2026-01-01","currency":"USD","cost":{"total":"0.00075","input":"0.0003","output":"0.0003","cache_read":"0.00015","cache_creation":"0","tools":"0","cache_savings":"0.00015","cache_hit_ratio":"0.5"},"attributes":{"feature":"qa","team":"ads"}}
{"time":"2026-12-06T09:30:00.000000000Z","start_time":"2026-12-06T09:29:59.000000000Z","trace_id":"04000000000000000000000000000000","span_id":"0400000000000004","service":"ads-app","provider":"anthropic","request_model":"claude-sonnet-4-5","status":"error","error_type":"429","currency":"USD","attributes":{"feature":"qa","team":"ads"}}
{"time":"2026-12-06T10:00:00.000000000Z","start_time":"2026-12-06T09:59:59.000000000Z","trace_id":"05000000000000000000000000000000","span_id":"0500000000000005","service":"ads-app","request_model":"acme-llm-1","status":"ok","tokens":{"input":900,"output":90,"cache_read":0,"cache_creation":0},"currency":"USD","unpriced_reason":"unknown_model","attributes":{"team":"ads"}}
{"time":"2026-12-06T12:00:00.000000000Z","start_time":"2026-12-06T11:59:00.000000000Z","trace_id":"06000000000000000000000000000000","span_id":"0600000000000006","service":"chat-app","provider":"anthropic","response_model":"claude-sonnet-4-5-20250929","status":"error","error_type":"timeout","tokens":{"input":10000,"output":1000,"cache_read":0,"cache_creation":0},"price_id":"claude-sonnet-4-5@2026-01-01","currency":"USD","cost":{"total":"0.045","input":"0.03","output":"0.015","cache_read":"0","cache_creation":"0","tools":"0","cache_savings":"0","cache_hit_ratio":"0"},"attributes":{"feature":"summarize","team":"search"}}
"#;

fn known_entries() -> Vec<LedgerEntry> {
    let directory = TempDir::new("report");
    std::fs::write(directory.0.join("ledger-2026-12-06.jsonl"), LEDGER).unwrap();
    std::fs::write(directory.0.join("notes.txt"), "not a ledger").unwrap();
    let files = ledger_files(std::slice::from_ref(&directory.0)).unwrap();
    assert_eq!(files.len(), 1, "only the ledger's own files are read");
    read_entries(&files[0]).unwrap()
}

fn selection(by: &[&str], top: usize) -> Selection {
    Selection {
        by: by.iter().map(|key| key.to_string()).collect(),
        top,
        ..Selection::default()
    }
}

#[test]
fn the_figures_of_a_known_ledger_are_exact() {
    let report = report(known_entries(), &selection(&[], 0)).unwrap();
    let figures = &report.figures;
    assert_eq!((figures.calls, figures.priced_calls), (6, 4));
    assert_eq!(
        figures.unpriced_calls,
        BTreeMap::from([("unknown_model".to_string(), 1)])
    );
    assert_eq!(figures.cost, dec!(0.08375));
    assert_eq!(figures.cost_per_call_average, dec!(0.0209375));
    assert_eq!(figures.cost_per_call_p95, dec!(0.045));
    assert_eq!(figures.tokens_per_unit, dec!(487164.1791044776));
    assert_eq!(figures.cache_hit_rate, dec!(0.4370179949));
    assert_eq!(figures.cache_savings, dec!(0.04065));
    assert_eq!(figures.output_input_ratio, dec!(0.0742930591));
    assert_eq!(
        (
            figures.failed_calls,
            figures.error_rate,
            figures.failed_calls_cost
        ),
        (2, dec!(0.3333333333), dec!(0.045))
    );
    assert_eq!(figures.throttled_calls, 1);
    let mix: Vec<(&str, u64, Decimal, Decimal, Decimal)> = figures
        .model_mix
        .iter()
        .map(|share| {
            (
                share.model.as_str(),
                share.calls,
                share.call_share,
                share.cost,
                share.cost_share,
            )
        })
        .collect();
    assert_eq!(
        mix,
        [
            (
                "claude-sonnet-4-5-20250929",
                2,
                dec!(0.3333333333),
                dec!(0.0765),
                dec!(0.9134328358)
            ),
            (
                "claude-haiku-4-5-20251001",
                1,
                dec!(0.1666666667),
                dec!(0.0065),
                dec!(0.0776119403)
            ),
            (
                "gpt-4o-mini-2024-07-18",
                1,
                dec!(0.1666666667),
                dec!(0.00075),
                dec!(0.0089552239)
            ),
            ("acme-llm-1", 1, dec!(0.1666666667), dec!(0), dec!(0)),
            ("claude-sonnet-4-5", 1, dec!(0.1666666667), dec!(0), dec!(0)),
        ]
    );
    let pareto = report.pareto.unwrap();
    assert_eq!(
        (pareto.calls, pareto.cost, pareto.share),
        (1, dec!(0.045), dec!(0.5373134328))
    );
}

#[test]
fn the_text_report_of_a_known_ledger_is_pinned() {
    let report = report(
        known_entries(),
        &Selection {
            from: Some(Selection::from_bound("2026-12-06").unwrap()),
            to: Some(Selection::to_bound("2026-12-06").unwrap()),
            ..selection(&["team", "feature"], 2)
        },
    )
    .unwrap();
    assert_eq!(
        render(&report, Format::Text),
        "\
genai-cost-agent report: calls from 2026-12-06T00:00:00.000000000Z to 2026-12-07T00:00:00.000000000Z, in USD

Figures
  calls                4 (2 priced; unpriced: unknown_model 1)
  cost                 0.04575 USD
  cost per call        average 0.022875, p95 0.045 USD
  tokens per USD       338797.8142076503
  cache hit rate       0.1342281879
  cache savings        0.00015 USD
  output/input ratio   0.1067114094
  failed calls         2 (error rate 0.5), costing 0.045 USD
  throttled calls      1

Model mix
  model                      calls call share    cost   cost share
  claude-sonnet-4-5-20250929     1       0.25   0.045 0.9836065574
  gpt-4o-mini-2024-07-18         1       0.25 0.00075 0.0163934426
  acme-llm-1                     1       0.25       0            0
  claude-sonnet-4-5              1       0.25       0            0

Pareto: the top 5% of priced calls (1) cost 0.045 USD, 0.9836065574 of all

By team, feature
  team   feature   calls input_tokens output_tokens cache_read_tokens cache_creation_tokens    cost cache_savings
  ads                  1          900            90                 0                     0       0             0
  ads    qa            2         4000           500              2000                     0 0.00075       0.00015
  search summarize     1        10000          1000                 0                     0   0.045             0

Top 2 calls
     cost        share time                           model                      service  trace                            span             attributes
    0.045 0.9836065574 2026-12-06T12:00:00.000000000Z claude-sonnet-4-5-20250929 chat-app 06000000000000000000000000000000 0600000000000006 feature=summarize team=search
  0.00075 0.0163934426 2026-12-06T09:00:00.000000000Z gpt-4o-mini-2024-07-18     ads-app  03000000000000000000000000000000 0300000000000003 feature=qa team=ads
"
    );
}

#[test]
fn the_csv_report_is_the_rollup_by_day_and_model() {
    let report = report(known_entries(), &selection(&["day", "model"], 0)).unwrap();
    assert_eq!(
        render(&report, Format::Csv),
        "\
day,model,calls,input_tokens,output_tokens,cache_read_tokens,cache_creation_tokens,cost,cache_savings
2026-12-05,claude-haiku-4-5-20251001,1,4000,500,0,0,0.0065,0
2026-12-05,claude-sonnet-4-5-20250929,1,20000,800,15000,0,0.0315,0.0405
2026-12-06,acme-llm-1,1,900,90,0,0,0,0
2026-12-06,claude-sonnet-4-5,1,0,0,0,0,0,0
2026-12-06,claude-sonnet-4-5-20250929,1,10000,1000,0,0,0.045,0
2026-12-06,gpt-4o-mini-2024-07-18,1,4000,500,2000,0,0.00075,0.00015
"
    );
}

#[test]
fn the_json_report_keeps_amounts_exact() {
    let report = report(known_entries(), &selection(&["day"], 1)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
    assert_eq!(json["figures"]["cost"], "0.08375");
    assert_eq!(json["rollups"][0]["cost"], "0.038");
    assert_eq!(json["rollups"][1]["cost"], "0.04575");
    assert_eq!(json["top_calls"][0]["call"]["span_id"], "0600000000000006");
    assert_eq!(json["top_calls"][0]["call"]["cost"]["total"], "0.045");
    assert_eq!(json["top_calls"][0]["share"], "0.5373134328");
}

#[test]
fn a_line_that_is_no_record_is_named_by_file_and_line() {
    let directory = TempDir::new("report-bad");
    let path = directory.0.join("ledger-2026-12-06.jsonl");
    std::fs::write(
        &path,
        format!("{}\nnot json\n", LEDGER.lines().next().unwrap()),
    )
    .unwrap();
    let error = read_entries(&path).unwrap_err().to_string();
    assert!(
        error.contains("ledger-2026-12-06.jsonl:2: not a ledger record"),
        "{error}"
    );
}

#[test]
fn a_last_line_cut_short_is_skipped() {
    let directory = TempDir::new("report-torn");
    let path = directory.0.join("ledger-2026-12-06.jsonl");
    let first = LEDGER.lines().next().unwrap();
    std::fs::write(&path, format!("{first}\n{}", &first[..40])).unwrap();
    assert_eq!(read_entries(&path).unwrap().len(), 1);
}

#[test]
fn bounds_take_dates_and_times() {
    assert_eq!(
        Selection::from_bound("2026-12-06").unwrap(),
        "2026-12-06T00:00:00.000000000Z"
    );
    assert_eq!(
        Selection::to_bound("2026-12-06").unwrap(),
        "2026-12-07T00:00:00.000000000Z"
    );
    assert_eq!(
        Selection::to_bound("2026-12-06T09:30Z").unwrap(),
        "2026-12-06T09:30:00.000000000Z"
    );
    assert!(Selection::from_bound("2026-12-06T25:00Z").is_err());
    assert!(Selection::from_bound("yesterday").is_err());
    assert!(
        Selection::to_bound("2999-12-31").is_err(),
        "beyond what the ledger's times can say"
    );
}
