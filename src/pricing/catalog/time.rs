//! When a call was made, as prices depend on it (the UTC date and second of the day), and the
//! daily windows of prices by the hour; both written and read as UTC clock times.

use crate::config::{ConfigDate, ValueError};

/// A daily window of UTC time, `start_second` included, `end_second` not; it wraps past
/// midnight when it ends before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    pub start_second: u32,
    pub end_second: u32,
}

impl TimeOfDay {
    /// `HH:MM-HH:MM` (UTC), seconds only where given.
    pub fn to_text(&self) -> String {
        let clock = |second| clock_text(second, second % 60 != 0);
        format!("{}-{}Z", clock(self.start_second), clock(self.end_second))
    }

    pub fn contains(&self, second_of_day: u32) -> bool {
        if self.start_second <= self.end_second {
            (self.start_second..self.end_second).contains(&second_of_day)
        } else {
            second_of_day >= self.start_second || second_of_day < self.end_second
        }
    }
}

/// When a call was made, as prices depend on it: the UTC date and second of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct PriceTime {
    pub date: ConfigDate,
    pub second_of_day: u32,
}

impl PriceTime {
    /// The start of `date` (UTC).
    pub fn day(date: ConfigDate) -> Self {
        PriceTime {
            date,
            second_of_day: 0,
        }
    }

    /// `YYYY-MM-DD` (the start of that day) or `YYYY-MM-DDTHH:MM[:SS][Z]`, UTC.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let text = text.trim();
        let Some((date, clock)) = text.split_once('T') else {
            return ConfigDate::parse(text).map(PriceTime::day);
        };
        Ok(PriceTime {
            date: ConfigDate::parse(date)?,
            second_of_day: second_of_day(clock).ok_or_else(|| ValueError::not_a_time(text))?,
        })
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_iso(&self) -> String {
        format!(
            "{}T{}Z",
            self.date.to_iso(),
            clock_text(self.second_of_day, true)
        )
    }

    /// When a span started (`start_time_unix_nano`); now for a span without a start time.
    pub fn started(start_time_unix_nano: u64) -> Self {
        match start_time_unix_nano {
            0 => PriceTime::now(),
            nanos => PriceTime::from_unix_nanos(nanos),
        }
    }

    pub fn now() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Self::from_unix_nanos(now.map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        }))
    }

    pub fn from_unix_nanos(nanos: u64) -> Self {
        PriceTime {
            date: ConfigDate::from_unix_nanos(nanos),
            second_of_day: ((nanos / 1_000_000_000) % 86_400) as u32,
        }
    }
}

/// A UTC clock time `HH:MM` or `HH:MM:SS` (two digits each, an optional trailing `Z`) as
/// seconds after midnight.
pub fn second_of_day(clock: &str) -> Option<u32> {
    let clock = clock.strip_suffix('Z').unwrap_or(clock);
    let parts: Vec<u32> = clock
        .split(':')
        .map(|part| part.parse().ok().filter(|_| part.len() == 2))
        .collect::<Option<_>>()?;
    let (hours, minutes, seconds) = match parts[..] {
        [hours, minutes] => (hours, minutes, 0),
        [hours, minutes, seconds] => (hours, minutes, seconds),
        _ => return None,
    };
    (hours < 24 && minutes < 60 && seconds < 60).then_some(hours * 3600 + minutes * 60 + seconds)
}

/// `HH:MM:SS`, or `HH:MM` without `seconds`.
fn clock_text(second: u32, seconds: bool) -> String {
    let (hours, minutes) = (second / 3600, second / 60 % 60);
    if seconds {
        format!("{hours:02}:{minutes:02}:{:02}", second % 60)
    } else {
        format!("{hours:02}:{minutes:02}")
    }
}
