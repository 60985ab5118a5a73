//! The ledger as FinOps FOCUS rows (column names of FOCUS 1.3, which renamed `ProviderName` to
//! `ServiceProviderName`): one row per charged kind of each priced call — uncached input,
//! output, cache reads, cache writes, tool fees — so that `ConsumedQuantity` is the tokens that
//! one price applies to. Amounts are exact decimals; the agent prices at the catalog's prices,
//! so billed, effective and list cost are the same figure. Columns the agent adds start `x_`.

use super::entry::LedgerEntry;
use std::fmt::Write as _;

/// The header line, and the columns of every row in this order.
pub const HEADER: &str = "BilledCost,EffectiveCost,ListCost,BillingCurrency,\
ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeDescription,ServiceProviderName,\
ServiceName,ServiceCategory,ResourceId,SkuPriceId,ConsumedQuantity,ConsumedUnit,Tags,\
x_TraceId,x_SpanId,x_TokenKind\n";

/// The rows of a priced call (none for an unpriced one), each ending in a newline.
pub fn rows(entry: &LedgerEntry, out: &mut String) {
    let (Some(cost), Some(tokens)) = (&entry.cost, &entry.tokens) else {
        return;
    };
    let model = entry.model();
    let charges = [
        ("input", cost.input, tokens.uncached_input(), "Tokens"),
        ("output", cost.output, tokens.output, "Tokens"),
        ("cache_read", cost.cache_read, tokens.cache_read, "Tokens"),
        (
            "cache_creation",
            cost.cache_creation,
            tokens.cache_creation,
            "Tokens",
        ),
        ("tools", cost.tools, tokens.web_searches, "Requests"),
    ];
    let tags = tags(entry);
    for (kind, amount, quantity, unit) in charges {
        if amount.is_zero() && quantity == 0 {
            continue;
        }
        let amount = amount.normalize().to_string();
        let fields = [
            amount.as_str(),
            amount.as_str(),
            amount.as_str(),
            entry.currency.as_str(),
            entry.start_time.as_str(),
            entry.time.as_str(),
            "Usage",
            &format!("{model} {}", kind.replace('_', " ")),
            entry.provider.as_deref().unwrap_or(""),
            model,
            "AI and Machine Learning",
            entry.service.as_deref().unwrap_or(""),
            &format!("{}/{kind}", entry.price_id.as_deref().unwrap_or("")),
            &quantity.to_string(),
            unit,
            &tags,
            entry.trace_id.as_str(),
            entry.span_id.as_str(),
            kind,
        ];
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_field(out, field);
        }
        out.push('\n');
    }
}

/// FOCUS `Tags`: a JSON object of the call's service, provider, model and attribution keys, in
/// key order.
fn tags(entry: &LedgerEntry) -> String {
    let mut tags = serde_json::Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value {
            tags.insert(key.to_string(), value.into());
        }
    };
    put("service.name", entry.service.as_deref());
    put("gen_ai.provider.name", entry.provider.as_deref());
    put("gen_ai.request.model", entry.request_model.as_deref());
    put("gen_ai.response.model", entry.response_model.as_deref());
    for (key, value) in &entry.attributes {
        put(key, Some(value));
    }
    serde_json::Value::Object(tags).to_string()
}

/// A CSV field, quoted when it holds a comma, a quote or a line break; text a spreadsheet
/// would run as a formula (starting `=`, `+`, `-`, `@`) gets a leading `'`.
pub fn push_field(out: &mut String, field: &str) {
    let numeric = field.parse::<rust_decimal::Decimal>().is_ok();
    let formula = !numeric && field.starts_with(['=', '+', '-', '@']);
    let field: std::borrow::Cow<'_, str> = if formula {
        format!("'{field}").into()
    } else {
        field.into()
    };
    if field.contains([',', '"', '\n', '\r']) {
        let _ = write!(out, "\"{}\"", field.replace('"', "\"\""));
    } else {
        out.push_str(&field);
    }
}
