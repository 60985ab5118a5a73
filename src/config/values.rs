//! Typed configuration values that validate themselves while the YAML is read, so a bad value
//! is reported with its key and line: durations, sizes, listen addresses and decimal prices.

use super::redact::given;
use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a configuration value is refused; the value itself is described, never repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{0} has no unit: write e.g. `200ms`, `5s`, `1m`")]
    NoUnit(String),
    #[error("{0} is not a duration: write e.g. `200ms`, `5s`, `1m`")]
    NotADuration(String),
    #[error("{0} has an unknown unit (use ms, s, m or h)")]
    UnknownUnit(String),
    #[error("{0} is out of range (at most 30 days)")]
    DurationOutOfRange(String),
    #[error("{0} is not a whole number of MiB from 1 to 1024")]
    NotMebiBytes(String),
    #[error("{0} is not `host:port`")]
    NotHostPort(String),
    #[error("{0} has no host: write e.g. `0.0.0.0:4317` or `localhost:4317`")]
    NoHost(String),
    #[error("{0} has no port number after its `:`")]
    NoPort(String),
    #[error("{0} is not a date YYYY-MM-DD")]
    NotADate(String),
    #[error("{0} is not a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS]Z (UTC)")]
    NotATime(String),
}

impl ValueError {
    pub fn not_a_time(text: &str) -> Self {
        ValueError::NotATime(given(text))
    }
}

/// A duration written as `200ms`, `5s`, `1m` or `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDuration(pub Duration);

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr("a duration such as `5s`", |text: &str| {
            parse_duration(text).map(ConfigDuration)
        }))
    }
}

/// Deserializes a scalar through a parsing function. The error is raised while the scalar is
/// read, so the YAML reader reports the scalar's own key and line.
struct ParsedStr<F>(&'static str, F);

impl<'de, T, F: FnOnce(&str) -> Result<T, ValueError>> Visitor<'de> for ParsedStr<F> {
    type Value = T;
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.1)(text).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<T, E> {
        self.visit_str(&number.to_string())
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<T, E> {
        self.visit_str(&number.to_string())
    }
}

/// Parses `200ms`, `5s`, `1.5s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| ValueError::NoUnit(given(text)))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| ValueError::NotADuration(given(text)))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(ValueError::UnknownUnit(given(text))),
    };
    // Thirty days at most: longer waits are mistakes, and would overflow clock arithmetic.
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| *duration <= Duration::from_secs(30 * 86_400))
        .ok_or_else(|| ValueError::DurationOutOfRange(given(text)))
}

/// A positive whole number of mebibytes, converted to bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MebiBytes(pub usize);

impl<'de> Deserialize<'de> for MebiBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParsedStr("a whole number of MiB", |text: &str| match text
            .trim()
            .parse::<u64>()
        {
            Ok(mib) if (1..=1024).contains(&mib) => Ok(MebiBytes((mib as usize) << 20)),
            _ => Err(ValueError::NotMebiBytes(given(text))),
        }))
    }
}

/// A listen address `host:port`; `localhost` binds the loopback interface only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress(pub String);

impl<'de> Deserialize<'de> for ListenAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr("an address `host:port`", |text: &str| {
            ListenAddress::try_from(text.to_string())
        }))
    }
}

impl TryFrom<String> for ListenAddress {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| ValueError::NotHostPort(given(&text)))?;
        if host.is_empty() {
            return Err(ValueError::NoHost(given(&text)));
        }
        port.parse::<u16>()
            .map_err(|_| ValueError::NoPort(given(&text)))?;
        Ok(ListenAddress(text))
    }
}

/// A non-negative exact factor such as `"0.5"` or `"1.1"`, written as a quoted decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Multiplier(pub Decimal);

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PerMillion::deserialize(deserializer).map(|value| Multiplier(value.0))
    }
}

/// A calendar date `YYYY-MM-DD`, as whole days since 1970-01-01 (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ConfigDate {
    pub days_since_epoch: i64,
}

impl ConfigDate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let invalid = || ValueError::NotADate(given(text));
        let mut parts = text.trim().splitn(3, '-');
        let mut next = |len: usize| -> Result<i64, ValueError> {
            let part = parts
                .next()
                .filter(|part| part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(invalid)?;
            part.parse().map_err(|_| invalid())
        };
        let (year, month, day) = (next(4)?, next(2)?, next(2)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(invalid());
        }
        Ok(ConfigDate {
            days_since_epoch: days_from_civil(year, month, day),
        })
    }

    /// The UTC date of a Unix time in nanoseconds.
    pub fn from_unix_nanos(nanos: u64) -> Self {
        ConfigDate {
            days_since_epoch: (nanos / 86_400_000_000_000) as i64,
        }
    }

    /// Today's UTC date.
    pub fn today() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Self::from_unix_nanos(now.map_or(0, |since| since.as_nanos() as u64))
    }

    /// Nanoseconds since the Unix epoch at midnight UTC of this date (0 before 1970).
    pub fn unix_nanos(self) -> u64 {
        u64::try_from(self.days_since_epoch).unwrap_or(0) * 86_400 * 1_000_000_000
    }

    /// The date as `YYYY-MM-DD`.
    pub fn to_iso(self) -> String {
        let (year, month, day) = civil_from_days(self.days_since_epoch);
        format!("{year:04}-{month:02}-{day:02}")
    }
}

impl<'de> Deserialize<'de> for ConfigDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParsedStr("a date YYYY-MM-DD", |text: &str| {
            ConfigDate::parse(text)
        }))
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A price in currency units per million tokens, exact. Written as a quoted decimal string
/// (`"0.30"`) or a whole number; a YAML float is refused because it is not exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerMillion(pub Decimal);

impl<'de> Deserialize<'de> for PerMillion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PriceVisitor)
    }
}

struct PriceVisitor;

impl<'de> Visitor<'de> for PriceVisitor {
    type Value = PerMillion;
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a price per million tokens as a quoted decimal string, e.g. \"0.30\"")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<PerMillion, E> {
        let decimal = Decimal::from_str(text.trim())
            .map_err(|_| E::custom(format!("{} is not a decimal number", given(text))))?;
        if decimal.is_sign_negative() {
            return Err(E::custom(format!("price {decimal} is negative")));
        }
        Ok(PerMillion(decimal))
    }
    fn visit_u64<E: de::Error>(self, whole: u64) -> Result<PerMillion, E> {
        Ok(PerMillion(Decimal::from(whole)))
    }
    fn visit_i64<E: de::Error>(self, whole: i64) -> Result<PerMillion, E> {
        Err(E::custom(format!("price {whole} is negative")))
    }
    fn visit_f64<E: de::Error>(self, float: f64) -> Result<PerMillion, E> {
        Err(E::custom(format!(
            "write prices as quoted decimal strings (\"{float}\"), not floating-point numbers"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn durations_out_of_range_are_refused() {
        assert_eq!(
            parse_duration("99999999999999999999999h")
                .unwrap_err()
                .to_string(),
            "the value given (24 characters) is out of range (at most 30 days)"
        );
    }

    #[test]
    fn durations_without_known_unit_are_refused() {
        assert_eq!(
            parse_duration("5").unwrap_err().to_string(),
            "the value given (1 character) has no unit: write e.g. `200ms`, `5s`, `1m`"
        );
        assert_eq!(
            parse_duration("5d").unwrap_err().to_string(),
            "the value given (2 characters) has an unknown unit (use ms, s, m or h)"
        );
    }

    #[test]
    fn dates_convert_to_days_and_back() {
        assert_eq!(ConfigDate::parse("1970-01-01").unwrap().days_since_epoch, 0);
        assert_eq!(
            ConfigDate::parse("2026-03-13").unwrap().days_since_epoch,
            20_525
        );
        assert_eq!(
            ConfigDate::parse("2024-02-29").unwrap().to_iso(),
            "2024-02-29"
        );
        assert_eq!(
            ConfigDate::parse("2026-03-13").unwrap().unix_nanos(),
            1_773_360_000_000_000_000
        );
        assert!(ConfigDate::parse("2025-02-29").is_err());
        assert!(ConfigDate::parse("2025-13-01").is_err());
        assert!(ConfigDate::parse("25-01-01").is_err());
    }

    #[test]
    fn listen_address_needs_host_and_port() {
        assert!(ListenAddress::try_from("localhost:4317".to_string()).is_ok());
        assert_eq!(
            ListenAddress::try_from("localhost:http".to_string())
                .unwrap_err()
                .to_string(),
            "the value given (14 characters) has no port number after its `:`"
        );
        assert!(ListenAddress::try_from(":4317".to_string()).is_err());
    }
}
