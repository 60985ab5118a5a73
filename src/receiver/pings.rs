//! gRPC keepalive enforcement (grpc-go's `EnforcementPolicy`): the client's HTTP/2 frames are
//! followed as they are read, and a client that pings more often than `min_time` (or pings a
//! connection without calls when `permit_without_stream` is off) is cut off after a few strikes.

use std::time::{Duration, Instant};

/// The HTTP/2 connection preface a client sends first.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const PING: u8 = 0x6;
const ACK: u8 = 0x1;
/// Pings tolerated before the connection is cut, as grpc-go.
const MAX_STRIKES: u32 = 2;
/// How often a client may ping a connection without calls when that is not permitted
/// (grpc-go counts such pings as strikes unless the previous one is two hours old).
const WITHOUT_STREAM_INTERVAL: Duration = Duration::from_secs(7200);

#[derive(Debug, Clone, Copy)]
pub struct PingPolicy {
    pub min_time: Duration,
    pub permit_without_stream: bool,
}

/// Follows frame boundaries across reads and counts strikes.
#[derive(Debug)]
pub struct PingWatch {
    policy: Option<PingPolicy>,
    /// Preface bytes still to skip.
    preface_left: usize,
    /// The frame header being read, and how much of it is in.
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    /// Payload bytes of the current frame still to skip.
    payload_left: usize,
    last_ping: Option<Instant>,
    strikes: u32,
}

impl PingWatch {
    pub fn new(policy: Option<PingPolicy>) -> Self {
        Self {
            policy,
            preface_left: PREFACE_LEN,
            header: [0; FRAME_HEADER_LEN],
            header_len: 0,
            payload_left: 0,
            last_ping: None,
            strikes: 0,
        }
    }

    /// A call started or ended: the client is doing real work.
    pub fn reset(&mut self) {
        self.strikes = 0;
    }

    /// Reads `bytes` (the next bytes from the client); true when the client is out of strikes.
    pub fn observe(&mut self, mut bytes: &[u8], calls: usize, now: Instant) -> bool {
        let Some(policy) = self.policy else {
            return false;
        };
        let skip = self.preface_left.min(bytes.len());
        self.preface_left -= skip;
        bytes = &bytes[skip..];
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min(bytes.len());
                self.payload_left -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (FRAME_HEADER_LEN - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&bytes[..take]);
            self.header_len += take;
            bytes = &bytes[take..];
            if self.header_len < FRAME_HEADER_LEN {
                break;
            }
            self.header_len = 0;
            let header = self.header;
            self.payload_left = (usize::from(header[0]) << 16)
                | (usize::from(header[1]) << 8)
                | usize::from(header[2]);
            if header[3] == PING && header[4] & ACK == 0 && self.strike(policy, calls, now) {
                return true;
            }
        }
        false
    }

    fn strike(&mut self, policy: PingPolicy, calls: usize, now: Instant) -> bool {
        let allowed = if calls == 0 && !policy.permit_without_stream {
            WITHOUT_STREAM_INTERVAL
        } else {
            policy.min_time
        };
        if self
            .last_ping
            .is_some_and(|last| now.duration_since(last) < allowed)
        {
            self.strikes += 1;
        }
        self.last_ping = Some(now);
        self.strikes > MAX_STRIKES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    fn ping(ack: bool) -> Vec<u8> {
        let mut frame = vec![0, 0, 8, PING, u8::from(ack), 0, 0, 0, 0];
        frame.extend_from_slice(&[7; 8]);
        frame
    }

    fn policy() -> Option<PingPolicy> {
        Some(PingPolicy {
            min_time: Duration::from_secs(10),
            permit_without_stream: true,
        })
    }

    #[test]
    fn the_third_strike_after_two_warnings_cuts_the_client_off() {
        let mut watch = PingWatch::new(policy());
        let start = Instant::now();
        assert!(!watch.observe(PREFACE, 0, start));
        let verdicts: Vec<bool> = (0..4)
            .map(|second| watch.observe(&ping(false), 1, start + Duration::from_secs(second)))
            .collect();
        assert_eq!(verdicts, [false, false, false, true]);
    }

    #[test]
    fn pings_split_across_reads_and_acks_and_slow_pings_are_fine() {
        let mut watch = PingWatch::new(policy());
        let start = Instant::now();
        let mut stream = PREFACE.to_vec();
        for _ in 0..5 {
            stream.extend(ping(true));
        }
        // A SETTINGS frame with a payload that looks like a ping header must be skipped.
        stream.extend([0, 0, 9, 0x4, 0, 0, 0, 0, 0]);
        stream.extend(&ping(false)[..9]);
        for chunk in stream.chunks(5) {
            assert!(!watch.observe(chunk, 1, start));
        }
        for minute in 0..5 {
            let at = start + Duration::from_secs(60 * minute);
            assert!(!watch.observe(&ping(false), 1, at));
        }
    }

    #[test]
    fn pings_without_calls_count_as_strikes_unless_permitted() {
        let mut watch = PingWatch::new(Some(PingPolicy {
            min_time: Duration::from_secs(1),
            permit_without_stream: false,
        }));
        let start = Instant::now();
        watch.observe(PREFACE, 0, start);
        let verdicts: Vec<bool> = (0..4)
            .map(|minute| watch.observe(&ping(false), 0, start + Duration::from_secs(60 * minute)))
            .collect();
        assert_eq!(verdicts, [false, false, false, true]);
    }
}
