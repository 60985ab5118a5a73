//! Typed configuration values that validate themselves while the YAML is read, so a bad value
//! is reported with its key and line: durations, sizes, listen addresses and decimal prices.

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

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

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for ParsedStr<F> {
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
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit: write e.g. `200ms`, `5s`, `1m`"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write e.g. `200ms`, `5s`, `1m`"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ))
        }
    };
    Ok(Duration::from_secs_f64(seconds))
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
            _ => Err(format!(
                "`{text}` is not a whole number of MiB from 1 to 1024"
            )),
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
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}` is not `host:port`"))?;
        if host.is_empty() {
            return Err(format!(
                "`{text}` has no host: write e.g. `0.0.0.0:{port}` or `localhost:{port}`"
            ));
        }
        port.parse::<u16>()
            .map_err(|_| format!("`{text}`: `{port}` is not a port number"))?;
        Ok(ListenAddress(text))
    }
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
            .map_err(|_| E::custom(format!("`{text}` is not a decimal number")))?;
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
    fn durations_without_known_unit_are_refused() {
        assert_eq!(
            parse_duration("5").unwrap_err(),
            "`5` has no unit: write e.g. `200ms`, `5s`, `1m`"
        );
        assert_eq!(
            parse_duration("5d").unwrap_err(),
            "`5d`: unknown unit `d` (use ms, s, m or h)"
        );
    }

    #[test]
    fn listen_address_needs_host_and_port() {
        assert!(ListenAddress::try_from("localhost:4317".to_string()).is_ok());
        assert_eq!(
            ListenAddress::try_from("localhost:http".to_string()).unwrap_err(),
            "`localhost:http`: `http` is not a port number"
        );
        assert!(ListenAddress::try_from(":4317".to_string()).is_err());
    }
}
