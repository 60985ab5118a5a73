//! Logging at a bounded rate: the first message of an interval is written, the rest are counted
//! and reported with the next one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimitedLog {
    interval: Duration,
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl RateLimitedLog {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Logs `message` at warn level unless one was logged less than an interval ago.
    pub fn warn(&self, message: &str) {
        if self.admit() {
            let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
            if suppressed > 0 {
                tracing::warn!(suppressed, "{message}");
            } else {
                tracing::warn!("{message}");
            }
        }
    }

    fn admit(&self) -> bool {
        let now = Instant::now();
        let Ok(mut last) = self.last.lock() else {
            return true;
        };
        match *last {
            Some(previous) if now.duration_since(previous) < self.interval => {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                false
            }
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_message_of_an_interval_is_admitted() {
        let log = RateLimitedLog::new(Duration::from_secs(60));
        assert!(log.admit());
        assert!(!log.admit());
        assert!(!log.admit());
        assert_eq!(log.suppressed.load(Ordering::Relaxed), 2);
    }
}
