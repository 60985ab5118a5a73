use super::files::RotatingFiles;
use super::*;
use crate::config::{LedgerConfig, MebiBytes};
use crate::metrics::CallSpan;
use crate::pricing::{CostBreakdown, UnpricedReason};
use crate::test_support::TempDir;
use crate::usage::TokenUsage;
use rust_decimal_macros::dec;

/// A Sonnet 4.5 call of user u-42 in team search: input 23,000 of which 8,000 cache reads and
/// 10,000 writes (4,000 of them 1h), output 1,500, 2026-12-06 10:00:01.5 to 10:00:03.25 UTC.
///   input 5,000 × 3 = 0.015; output 1,500 × 15 = 0.0225; read 8,000 × 0.30 = 0.0024;
///   write 6,000 × 3.75 + 4,000 × 6 = 0.0465; total 0.0864
///   savings 23,000 × 3 = 0.069 − 0.015 − 0.0024 − 0.0465 = 0.0051; hit 8,000 / 23,000
fn priced_call() -> CallRecord {
    CallRecord {
        span: CallSpan {
            trace_id: [0x5b; 16],
            span_id: [0x0e; 8],
            start_unix_nano: 1_796_551_201_500_000_000,
            end_unix_nano: 1_796_551_203_250_000_000,
            failed: false,
        },
        dimensions: vec![
            ("gen_ai.operation.name".into(), "chat".into()),
            ("gen_ai.provider.name".into(), "anthropic".into()),
            ("gen_ai.request.model".into(), "claude-sonnet-4-5".into()),
            (
                "gen_ai.response.model".into(),
                "claude-sonnet-4-5-20250929".into(),
            ),
            ("service.name".into(), "chat-app".into()),
            ("user.id".into(), "u-42".into()),
            ("team".into(), "search, \"core\"".into()),
        ],
        usage: Some(TokenUsage {
            input: 23_000,
            output: 1_500,
            cache_read: 8_000,
            cache_write_5m: 6_000,
            cache_write_1h: 4_000,
            reasoning: 0,
            web_searches: 0,
        }),
        cost: Some(CostBreakdown {
            input: dec!(0.015),
            output: dec!(0.0225),
            cache_read: dec!(0.0024),
            cache_creation: dec!(0.0465),
            tools: dec!(0),
            total: dec!(0.0864),
            hit_ratio: dec!(0.3478260869565217391304347826),
            savings: dec!(0.0051),
        }),
        price_id: Some("claude-sonnet-4-5@2026-01-01".into()),
        duration_seconds: Some(dec!(1.75)),
        unpriced: None,
        thresholds_exceeded: Vec::new(),
    }
}

/// The same app's call to a model no catalog knows, refused with a 429.
fn unpriced_failed_call() -> CallRecord {
    CallRecord {
        span: CallSpan {
            failed: true,
            ..priced_call().span
        },
        dimensions: vec![
            ("gen_ai.request.model".into(), "acme-llm-1".into()),
            ("error.type".into(), "429".into()),
            ("service.name".into(), "chat-app".into()),
        ],
        usage: None,
        cost: None,
        price_id: None,
        duration_seconds: None,
        unpriced: Some(UnpricedReason::UnknownModel),
        thresholds_exceeded: Vec::new(),
    }
}

#[test]
fn a_priced_call_is_one_json_line_with_exact_amounts() {
    let entry = LedgerEntry::of(&priced_call(), "USD");
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        concat!(
            r#"{"time":"2026-12-06T10:00:03.250000000Z","start_time":"2026-12-06T10:00:01.500000000Z","#,
            r#""trace_id":"5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b","span_id":"0e0e0e0e0e0e0e0e","#,
            r#""service":"chat-app","provider":"anthropic","operation":"chat","#,
            r#""request_model":"claude-sonnet-4-5","response_model":"claude-sonnet-4-5-20250929","#,
            r#""status":"ok","tokens":{"input":23000,"output":1500,"cache_read":8000,"#,
            r#""cache_creation":10000,"cache_creation_1h":4000,"reasoning":0,"web_searches":0},"#,
            r#""price_id":"claude-sonnet-4-5@2026-01-01","currency":"USD","#,
            r#""cost":{"total":"0.0864","input":"0.015","output":"0.0225","cache_read":"0.0024","#,
            r#""cache_creation":"0.0465","tools":"0","cache_savings":"0.0051","#,
            r#""cache_hit_ratio":"0.3478260869565217391304347826"},"#,
            r#""attributes":{"team":"search, \"core\"","user.id":"u-42"}}"#
        )
    );
    let read_back: LedgerEntry =
        serde_json::from_str(&serde_json::to_string(&entry).unwrap()).expect("the line reads back");
    assert_eq!(read_back, entry);
}

#[test]
fn an_unpriced_failed_call_says_why_and_costs_nothing() {
    let entry = LedgerEntry::of(&unpriced_failed_call(), "USD");
    assert_eq!(entry.status, "error");
    assert_eq!(entry.error_type.as_deref(), Some("429"));
    assert!(entry.throttled());
    assert_eq!(entry.unpriced_reason.as_deref(), Some("unknown_model"));
    assert_eq!((entry.cost, entry.tokens), (None, None));
    let mut rows = String::new();
    focus::rows(&entry, &mut rows);
    assert_eq!(rows, "", "only priced calls are charges");
}

#[test]
fn a_priced_call_is_one_focus_row_per_charged_kind() {
    let mut rows = String::from(focus::HEADER);
    focus::rows(&LedgerEntry::of(&priced_call(), "USD"), &mut rows);
    // Keys in name order.
    let tags = r#""{""gen_ai.provider.name"":""anthropic"",""gen_ai.request.model"":""claude-sonnet-4-5"",""gen_ai.response.model"":""claude-sonnet-4-5-20250929"",""service.name"":""chat-app"",""team"":""search, \""core\"""",""user.id"":""u-42""}""#;
    let row = |amount: &str, kind: &str, words: &str, quantity: u64| {
        format!(
            "{amount},{amount},{amount},USD,2026-12-06T10:00:01.500000000Z,\
             2026-12-06T10:00:03.250000000Z,Usage,claude-sonnet-4-5-20250929 {words},anthropic,\
             claude-sonnet-4-5-20250929,AI and Machine Learning,chat-app,\
             claude-sonnet-4-5@2026-01-01/{kind},{quantity},Tokens,{tags},\
             5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b,0e0e0e0e0e0e0e0e,{kind}\n"
        )
    };
    let expected = [
        focus::HEADER.to_string(),
        row("0.015", "input", "input", 5_000),
        row("0.0225", "output", "output", 1_500),
        row("0.0024", "cache_read", "cache read", 8_000),
        row("0.0465", "cache_creation", "cache creation", 10_000),
    ]
    .concat();
    assert_eq!(rows, expected);
    let billed: rust_decimal::Decimal = rows
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .next()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(billed, dec!(0.0864), "the rows add up to the call's cost");
}

fn day(text: &str) -> ConfigDate {
    ConfigDate::parse(text).unwrap()
}

fn names(directory: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&directory.0)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn files_turn_over_by_size_and_by_day_and_continue_after_a_restart() {
    let directory = TempDir::new("ledger-rotation");
    let line = format!("{}\n", "x".repeat(39)); // 40 bytes
    let mut files = RotatingFiles::new(&directory.0, "jsonl", "", 100, 31);
    for _ in 0..5 {
        files.append(day("2026-12-06"), &line).unwrap();
    }
    // 40 + 40 fit in 100 bytes, a third would pass it.
    assert_eq!(
        names(&directory),
        [
            "ledger-2026-12-06.1.jsonl",
            "ledger-2026-12-06.2.jsonl",
            "ledger-2026-12-06.jsonl"
        ]
    );
    let size = |name: &str| std::fs::metadata(directory.0.join(name)).unwrap().len();
    assert_eq!(size("ledger-2026-12-06.jsonl"), 80);
    assert_eq!(size("ledger-2026-12-06.2.jsonl"), 40);
    files.append(day("2026-12-07"), &line).unwrap();
    assert!(names(&directory).contains(&"ledger-2026-12-07.jsonl".to_string()));
    drop(files);
    // A restart appends to the day's last file while it has room.
    let mut files = RotatingFiles::new(&directory.0, "jsonl", "", 100, 31);
    files.append(day("2026-12-07"), &line).unwrap();
    assert_eq!(size("ledger-2026-12-07.jsonl"), 80);
    // A large write still goes into a file of its own.
    files.append(day("2026-12-07"), &"y".repeat(300)).unwrap();
    assert_eq!(size("ledger-2026-12-07.1.jsonl"), 300);
}

#[test]
fn a_file_ending_in_a_torn_line_is_never_appended_to() {
    let directory = TempDir::new("ledger-torn");
    std::fs::write(
        directory.0.join("ledger-2026-12-06.jsonl"),
        "{\"whole\":1}\n{\"torn\":",
    )
    .unwrap();
    let mut files = RotatingFiles::new(&directory.0, "jsonl", "", 1 << 20, 31);
    files.append(day("2026-12-06"), "{}\n").unwrap();
    assert_eq!(
        names(&directory),
        ["ledger-2026-12-06.1.jsonl", "ledger-2026-12-06.jsonl"]
    );
    let read = |name: &str| std::fs::read_to_string(directory.0.join(name)).unwrap();
    assert_eq!(read("ledger-2026-12-06.1.jsonl"), "{}\n");
    assert_eq!(read("ledger-2026-12-06.jsonl"), "{\"whole\":1}\n{\"torn\":");
}

#[test]
fn names_the_ledger_does_not_write_are_left_alone() {
    let directory = TempDir::new("ledger-foreign");
    for name in [
        "ledger-2020-01-01.0.jsonl",
        "ledger-2020-01-01.+1.jsonl",
        "ledger- 2020-01-01.jsonl",
        "ledger-2020-01-01.jsonl",
    ] {
        std::fs::write(directory.0.join(name), "{}\n").unwrap();
    }
    let mut files = RotatingFiles::new(&directory.0, "jsonl", "", 1 << 20, 30);
    files.append(day("2026-12-06"), "{}\n").unwrap();
    assert_eq!(
        names(&directory),
        [
            "ledger- 2020-01-01.jsonl",
            "ledger-2020-01-01.+1.jsonl",
            "ledger-2020-01-01.0.jsonl",
            "ledger-2026-12-06.jsonl"
        ]
    );
}

#[test]
fn every_new_csv_file_starts_with_the_header() {
    let directory = TempDir::new("ledger-header");
    let mut files = RotatingFiles::new(&directory.0, "csv", focus::HEADER, 400, 31);
    let row = format!("{}\n", "1".repeat(199));
    for _ in 0..2 {
        files.append(day("2026-12-06"), &row).unwrap();
    }
    for name in ["ledger-2026-12-06.csv", "ledger-2026-12-06.1.csv"] {
        let text = std::fs::read_to_string(directory.0.join(name)).unwrap();
        assert!(text.starts_with(focus::HEADER), "{name}");
        assert_eq!(text.lines().count(), 2, "{name}");
    }
}

#[test]
fn files_of_days_past_the_retention_are_deleted() {
    let directory = TempDir::new("ledger-retention");
    for name in [
        "ledger-2026-11-04.jsonl",
        "ledger-2026-11-05.jsonl",
        "ledger-2026-11-05.3.jsonl",
        "ledger-2026-11-06.jsonl",
        "ledger-2026-11-04.csv",
        "notes.txt",
    ] {
        std::fs::write(directory.0.join(name), "kept?\n").unwrap();
    }
    let mut files = RotatingFiles::new(&directory.0, "jsonl", "", 1 << 20, 30);
    files.append(day("2026-12-06"), "{}\n").unwrap();
    // Thirty days back from 2026-12-06 is 2026-11-06: older JSON-lines files go; the CSV
    // series and other files are not this series' to delete.
    assert_eq!(
        names(&directory),
        [
            "ledger-2026-11-04.csv",
            "ledger-2026-11-06.jsonl",
            "ledger-2026-12-06.jsonl",
            "notes.txt"
        ]
    );
}

fn config(directory: &TempDir, formats: Vec<LedgerFormat>, queue_records: usize) -> LedgerConfig {
    LedgerConfig {
        directory: Some(directory.0.clone()),
        otlp_logs: false,
        formats,
        max_file_size_mib: MebiBytes(1 << 20),
        retention_days: 31,
        queue_records,
    }
}

#[test]
fn the_ledger_writes_both_formats_and_counts_its_records() {
    let directory = TempDir::new("ledger-writer");
    let counters = Arc::new(AgentCounters::default());
    let ledger = Ledger::start(
        &config(
            &directory,
            vec![LedgerFormat::Jsonl, LedgerFormat::FocusCsv],
            10,
        ),
        &directory.0,
        counters.clone(),
    )
    .unwrap();
    ledger.record(&[priced_call(), unpriced_failed_call()], "USD");
    ledger.shutdown();
    let today = ConfigDate::today().to_iso();
    let jsonl = std::fs::read_to_string(directory.0.join(format!("ledger-{today}.jsonl"))).unwrap();
    assert_eq!(jsonl.lines().count(), 2);
    let csv = std::fs::read_to_string(directory.0.join(format!("ledger-{today}.csv"))).unwrap();
    assert_eq!(
        csv.lines().count(),
        5,
        "the header and the priced call's four charges"
    );
    assert_eq!(counters.ledger.written_total(), 2);
}

#[test]
fn records_beyond_the_queue_are_dropped_and_counted_never_waited_for() {
    let directory = TempDir::new("ledger-full-queue");
    let counters = Arc::new(AgentCounters::default());
    let ledger = Ledger::start(
        &config(&directory, vec![LedgerFormat::Jsonl], 1),
        &directory.0,
        counters.clone(),
    )
    .unwrap();
    ledger.record(&[priced_call(), priced_call()], "USD");
    ledger.shutdown();
    assert_eq!(counters.ledger.dropped_total(), 2);
    assert_eq!(counters.ledger.written_total(), 0);
}

#[test]
fn a_failed_write_loses_its_records_counted_and_the_ledger_goes_on_in_a_new_file() {
    let directory = TempDir::new("ledger-full-disk");
    let today = ConfigDate::today().to_iso();
    // Every write to /dev/full fails with "no space left on device".
    std::os::unix::fs::symlink(
        "/dev/full",
        directory.0.join(format!("ledger-{today}.jsonl")),
    )
    .unwrap();
    let counters = Arc::new(AgentCounters::default());
    let ledger = Ledger::start(
        &config(&directory, vec![LedgerFormat::Jsonl], 10),
        &directory.0,
        counters.clone(),
    )
    .unwrap();
    ledger.record(&[priced_call()], "USD");
    ledger.record(&[priced_call(), priced_call()], "USD");
    ledger.shutdown();
    assert_eq!(counters.ledger.write_failed_total(), 1);
    assert_eq!(counters.ledger.written_total(), 2);
    let next =
        std::fs::read_to_string(directory.0.join(format!("ledger-{today}.1.jsonl"))).unwrap();
    assert_eq!(next.lines().count(), 2, "the file after the failed one");
}

#[test]
fn a_call_as_an_otlp_log_record_carries_its_ids_costs_and_line() {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let request = logs::request(&[priced_call(), unpriced_failed_call()], "USD");
    assert_eq!(request.resource_logs.len(), 1, "one service");
    let resource = &request.resource_logs[0];
    let service = &resource.resource.as_ref().unwrap().attributes[0];
    assert_eq!(service.key, "service.name");
    let scope = &resource.scope_logs[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, logs::SCOPE);
    let record = &scope.log_records[0];
    assert_eq!(record.event_name, logs::EVENT_NAME);
    assert_eq!(record.trace_id, vec![0x5b; 16]);
    assert_eq!(record.span_id, vec![0x0e; 8]);
    assert_eq!(record.time_unix_nano, 1_796_551_203_250_000_000);
    let value = |key: &str| {
        record
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref()?.value.clone())
    };
    assert_eq!(
        value("gen_ai.usage.cost.amount"),
        Some(Value::DoubleValue(0.0864))
    );
    assert_eq!(
        value("gen_ai.usage.cost.cache_creation"),
        Some(Value::DoubleValue(0.0465))
    );
    assert_eq!(
        value("gen_ai.usage.input_tokens"),
        Some(Value::IntValue(23_000))
    );
    assert_eq!(
        value("team"),
        Some(Value::StringValue("search, \"core\"".into()))
    );
    assert_eq!(
        value("gen_ai.usage.cost.price_id"),
        Some(Value::StringValue("claude-sonnet-4-5@2026-01-01".into()))
    );
    assert_eq!(value("service.name"), None, "the service is the resource's");
    let Some(Value::StringValue(body)) = record.body.as_ref().and_then(|body| body.value.clone())
    else {
        panic!("the body is the ledger line")
    };
    let entry: LedgerEntry = serde_json::from_str(&body).unwrap();
    assert_eq!(entry, LedgerEntry::of(&priced_call(), "USD"));
    let unpriced = &scope.log_records[1];
    assert!(unpriced
        .attributes
        .iter()
        .any(|kv| kv.key == "gen_ai.usage.cost.unpriced_reason"));
    assert!(!unpriced
        .attributes
        .iter()
        .any(|kv| kv.key == "gen_ai.usage.cost.amount"));
}

#[test]
fn text_a_spreadsheet_would_run_is_quoted_and_numbers_are_not() {
    let field = |text: &str| {
        let mut out = String::new();
        focus::push_field(&mut out, text);
        out
    };
    assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(field("@team"), "'@team");
    assert_eq!(field("-0.00225"), "-0.00225");
    assert_eq!(field("claude, sonnet"), "\"claude, sonnet\"");
}
