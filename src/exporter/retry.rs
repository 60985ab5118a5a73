//! Retries by the OTLP rules: which failures are retryable, how long to wait (the server's
//! `RetryInfo` or `Retry-After` first, else exponential backoff with jitter), and when to give up.

use super::ExportError;
use crate::config::RetryConfig;
use std::time::Duration;

/// What to do after a failed export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Try again, after the server's requested delay when it gave one.
    Retry { after: Option<Duration> },
    /// Give up: the failure is permanent; the reason is counted.
    Permanent { reason: &'static str },
}

/// The OTLP specification's classification of export failures.
pub fn verdict(error: &ExportError) -> Verdict {
    match error {
        ExportError::Grpc {
            status,
            retry_after,
        } => {
            use tonic::Code::*;
            match status.code() {
                Unavailable | DeadlineExceeded | Aborted | OutOfRange | DataLoss | Cancelled => {
                    Verdict::Retry {
                        after: *retry_after,
                    }
                }
                ResourceExhausted if retry_after.is_some() => Verdict::Retry {
                    after: *retry_after,
                },
                ResourceExhausted => Verdict::Permanent {
                    reason: "resource_exhausted",
                },
                InvalidArgument => Verdict::Permanent {
                    reason: "invalid_argument",
                },
                Unauthenticated | PermissionDenied => Verdict::Permanent {
                    reason: "unauthorized",
                },
                Unimplemented | NotFound => Verdict::Permanent {
                    reason: "not_found",
                },
                _ => Verdict::Permanent {
                    reason: "grpc_error",
                },
            }
        }
        ExportError::Http {
            status,
            retry_after,
            ..
        } => match status {
            429 | 502 | 503 | 504 => Verdict::Retry {
                after: *retry_after,
            },
            400 => Verdict::Permanent {
                reason: "invalid_argument",
            },
            401 | 403 => Verdict::Permanent {
                reason: "unauthorized",
            },
            404 | 405 => Verdict::Permanent {
                reason: "not_found",
            },
            413 => Verdict::Permanent {
                reason: "too_large",
            },
            _ => Verdict::Permanent {
                reason: "http_error",
            },
        },
        ExportError::Transport(_) | ExportError::Timeout(_) => Verdict::Retry { after: None },
        ExportError::Setup(_) => Verdict::Permanent { reason: "setup" },
        ExportError::Undecodable(_) => Verdict::Permanent {
            reason: "undecodable",
        },
    }
}

/// Whether a permanent failure may be caused by some of the requests in a batch rather than
/// by the exporter's setting (credentials, address): then smaller groups of the same requests
/// may be delivered.
pub fn may_be_caused_by_the_data(reason: &str) -> bool {
    !matches!(reason, "unauthorized" | "not_found" | "setup")
}

/// Exponential backoff with jitter, bounded by `max_interval` and `max_elapsed_time`.
#[derive(Debug, Clone)]
pub struct Backoff {
    config: RetryConfig,
    next: Duration,
    elapsed: Duration,
    seed: u64,
}

impl Backoff {
    pub fn new(config: &RetryConfig, seed: u64) -> Self {
        Self {
            config: config.clone(),
            next: config.initial_interval.0,
            elapsed: Duration::ZERO,
            seed: seed | 1,
        }
    }

    /// How long to wait before the next attempt; `None` when retrying must stop.
    /// `requested` is the server's own delay, honoured as given (still within the time limit).
    pub fn wait(&mut self, requested: Option<Duration>) -> Option<Duration> {
        if !self.config.enabled {
            return None;
        }
        let wait = match requested {
            // A server's delay is honoured up to an hour (a larger one is not believed).
            Some(requested) => requested.min(Duration::from_secs(3600)),
            None => {
                let base = self.next;
                self.next = Duration::from_secs_f64(
                    (base.as_secs_f64() * self.config.multiplier)
                        .min(self.config.max_interval.0.as_secs_f64()),
                );
                self.jittered(base)
            }
        };
        let limit = self.config.max_elapsed_time.0;
        if !limit.is_zero() && self.elapsed.saturating_add(wait) > limit {
            return None;
        }
        self.elapsed = self.elapsed.saturating_add(wait);
        Some(wait)
    }

    /// `base` scaled by a factor in [0.5, 1.5) from a xorshift sequence.
    fn jittered(&mut self, base: Duration) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let factor = 0.5 + (self.seed % 1_000_000) as f64 / 1_000_000.0;
        Duration::from_secs_f64(base.as_secs_f64() * factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;

    fn config(max_elapsed: u64) -> RetryConfig {
        RetryConfig {
            enabled: true,
            initial_interval: ConfigDuration(Duration::from_secs(1)),
            max_interval: ConfigDuration(Duration::from_secs(4)),
            max_elapsed_time: ConfigDuration(Duration::from_secs(max_elapsed)),
            multiplier: 2.0,
        }
    }

    #[test]
    fn retryable_codes_and_statuses_follow_the_specification() {
        let grpc = |code| ExportError::Grpc {
            status: tonic::Status::new(code, ""),
            retry_after: None,
        };
        assert_eq!(
            verdict(&grpc(tonic::Code::Unavailable)),
            Verdict::Retry { after: None }
        );
        assert_eq!(
            verdict(&grpc(tonic::Code::ResourceExhausted)),
            Verdict::Permanent {
                reason: "resource_exhausted"
            }
        );
        let with_info = ExportError::Grpc {
            status: tonic::Status::resource_exhausted(""),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            verdict(&with_info),
            Verdict::Retry {
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            verdict(&grpc(tonic::Code::InvalidArgument)),
            Verdict::Permanent {
                reason: "invalid_argument"
            }
        );
        let http = |status| ExportError::Http {
            status,
            body: String::new(),
            retry_after: None,
        };
        for status in [429, 502, 503, 504] {
            assert_eq!(
                verdict(&http(status)),
                Verdict::Retry { after: None },
                "{status}"
            );
        }
        for status in [400, 401, 404, 413, 500] {
            assert!(
                matches!(verdict(&http(status)), Verdict::Permanent { .. }),
                "{status}"
            );
        }
        assert_eq!(
            verdict(&ExportError::Transport("refused".into())),
            Verdict::Retry { after: None }
        );
    }

    #[test]
    fn backoff_grows_to_its_maximum_with_jitter_and_stops_at_the_time_limit() {
        let mut backoff = Backoff::new(&config(20), 42);
        let waits: Vec<Duration> = std::iter::from_fn(|| backoff.wait(None)).collect();
        // Bases 1, 2, 4, 4, 4… each scaled by [0.5, 1.5), until 20 s would be exceeded.
        let bases = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0];
        for (wait, base) in waits.iter().zip(bases) {
            assert!(
                wait.as_secs_f64() >= base * 0.5 && wait.as_secs_f64() < base * 1.5,
                "{wait:?} for base {base}"
            );
        }
        let total: f64 = waits.iter().map(Duration::as_secs_f64).sum();
        assert!(total <= 20.0 && total > 20.0 - 6.0, "{total}");
    }

    #[test]
    fn an_absurd_server_delay_is_capped_without_overflow() {
        let mut backoff = Backoff::new(&config(0), 7);
        backoff.wait(None);
        assert_eq!(
            backoff.wait(Some(Duration::from_secs(u64::MAX))),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn the_servers_delay_is_honoured_and_zero_means_forever() {
        let mut backoff = Backoff::new(&config(0), 7);
        for _ in 0..1000 {
            assert_eq!(
                backoff.wait(Some(Duration::from_secs(30))),
                Some(Duration::from_secs(30))
            );
        }
    }
}
