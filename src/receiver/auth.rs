//! Bearer-token authentication of senders: the tokens a receiver accepts (from the
//! configuration, and from a token file re-read when it changes), and the check of a request's
//! `Authorization` header in constant time. A refusal tells the sender nothing about the valid
//! tokens, is counted, and is logged at a bounded rate without the header's value.

use crate::config::{AuthConfig, BearerToken};
use crate::telemetry::{AgentCounters, RateLimitedLog};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the token file is looked at for changes.
pub const TOKEN_FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Why a token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read the token file: {0}")]
    Read(std::io::Error),
    #[error("the token file holds no token")]
    Empty,
}

/// The tokens one receiver accepts.
pub struct BearerAuth {
    configured: Vec<Vec<u8>>,
    file: Option<TokenFile>,
    counters: Arc<AgentCounters>,
    refusals: RateLimitedLog,
}

/// A token file and what was last read from it.
struct TokenFile {
    path: PathBuf,
    state: RwLock<FileState>,
}

/// A token file's modification time and length: a change of either means read it again.
type Stamp = Option<(SystemTime, u64)>;

struct FileState {
    tokens: Arc<Vec<Vec<u8>>>,
    /// The file's stamp when last read.
    seen: Stamp,
}

impl BearerAuth {
    /// The authenticator of `config`, or `None` when it asks for none. A token file that
    /// cannot be read, or holds no token, refuses the start.
    pub fn from_config(
        config: &AuthConfig,
        counters: Arc<AgentCounters>,
    ) -> Result<Option<Arc<Self>>, TokenFileError> {
        if !config.is_enabled() {
            return Ok(None);
        }
        let file = match &config.bearer_token_file {
            Some(path) => {
                let (tokens, seen) = read_token_file(path)?;
                Some(TokenFile {
                    path: path.clone(),
                    state: RwLock::new(FileState {
                        tokens: Arc::new(tokens),
                        seen,
                    }),
                })
            }
            None => None,
        };
        Ok(Some(Arc::new(Self {
            configured: config
                .bearer_tokens
                .iter()
                .map(|BearerToken(token)| token.as_bytes().to_vec())
                .collect(),
            file,
            counters,
            refusals: RateLimitedLog::new(Duration::from_secs(10)),
        })))
    }

    /// Whether `header` (the `Authorization` value, if any) carries an accepted token. A
    /// refusal is counted and logged; `protocol` and `peer` say where it came from.
    pub fn admit(&self, header: Option<&[u8]>, protocol: &str, peer: Option<String>) -> bool {
        let admitted = header
            .and_then(bearer_token)
            .is_some_and(|presented| self.accepts(presented));
        if !admitted {
            self.counters.unauthenticated_request();
            let why = if header.is_none() {
                "no Authorization header"
            } else {
                "a token that is not accepted"
            };
            let from = peer.map(|peer| format!(" from {peer}")).unwrap_or_default();
            self.refusals
                .warn(&format!("{protocol} request{from} refused: {why}"));
        }
        admitted
    }

    /// Compares `presented` with every accepted token, each in time that depends only on the
    /// accepted token's length, and without stopping at a match.
    fn accepts(&self, presented: &[u8]) -> bool {
        let mut found = false;
        for token in &self.configured {
            found |= same_bytes(presented, token);
        }
        if let Some(file) = &self.file {
            if let Ok(state) = file.state.read() {
                for token in state.tokens.iter() {
                    found |= same_bytes(presented, token);
                }
            }
        }
        found
    }

    /// Re-reads the token file when its modification time or length changed. A file that
    /// cannot be read (or holds no token) keeps the tokens read before, and is logged.
    pub fn reload_if_changed(&self) {
        let Some(file) = &self.file else { return };
        let current = std::fs::metadata(&file.path)
            .ok()
            .and_then(|meta| stamp(&meta));
        let unchanged = file
            .state
            .read()
            .is_ok_and(|state| current.is_some() && state.seen == current);
        if unchanged {
            return;
        }
        match read_token_file(&file.path) {
            Ok((tokens, seen)) => {
                if let Ok(mut state) = file.state.write() {
                    let count = tokens.len();
                    state.tokens = Arc::new(tokens);
                    state.seen = seen;
                    tracing::info!("token file re-read: {count} tokens");
                }
            }
            Err(error) => self
                .refusals
                .warn(&format!("{error}; the tokens read before stay in force")),
        }
    }

    /// Re-reads the token file every [`TOKEN_FILE_CHECK_INTERVAL`] while the agent runs.
    pub fn spawn_reloader(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        self.file.as_ref()?;
        let auth = Arc::downgrade(self);
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TOKEN_FILE_CHECK_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(auth) = auth.upgrade() else { return };
                auth.reload_if_changed();
            }
        }))
    }
}

/// Checks that the token file of `config`, if any, can be read and holds a token.
pub fn check_token_file(config: &AuthConfig) -> Result<(), TokenFileError> {
    match &config.bearer_token_file {
        Some(path) => read_token_file(path).map(drop),
        None => Ok(()),
    }
}

/// The token of `Bearer <token>` (the scheme in any case).
fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(header).ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token.as_bytes())
}

/// `presented == accepted`, in time that depends on `accepted`'s length only.
fn same_bytes(presented: &[u8], accepted: &[u8]) -> bool {
    let mut difference = presented.len() ^ accepted.len();
    for (index, byte) in accepted.iter().enumerate() {
        let other = presented.get(index).copied().unwrap_or(!byte);
        difference |= usize::from(byte ^ other);
    }
    std::hint::black_box(difference) == 0
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Some((meta.modified().ok()?, meta.len()))
}

/// The tokens of a token file (one a line; blank lines and `#` comments skipped), with the
/// file's stamp before it was read.
fn read_token_file(path: &Path) -> Result<(Vec<Vec<u8>>, Stamp), TokenFileError> {
    let seen = std::fs::metadata(path)
        .map_err(TokenFileError::Read)
        .map(|meta| stamp(&meta))?;
    let text = std::fs::read_to_string(path).map_err(TokenFileError::Read)?;
    let tokens: Vec<Vec<u8>> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.as_bytes().to_vec())
        .collect();
    if tokens.is_empty() {
        return Err(TokenFileError::Empty);
    }
    Ok((tokens, seen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn auth(tokens: &[&str], file: Option<String>) -> Arc<BearerAuth> {
        let config = AuthConfig {
            bearer_tokens: tokens
                .iter()
                .map(|token| BearerToken(token.to_string()))
                .collect(),
            bearer_token_file: file.map(PathBuf::from),
        };
        BearerAuth::from_config(&config, Arc::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn only_a_listed_token_after_bearer_is_admitted() {
        let auth = auth(&["s3cret", "other"], None);
        assert!(auth.admit(Some(b"Bearer s3cret"), "HTTP", None));
        assert!(auth.admit(Some(b"bearer other"), "HTTP", None));
        assert!(!auth.admit(Some(b"Bearer s3cre"), "HTTP", None));
        assert!(!auth.admit(Some(b"Bearer s3cret2"), "HTTP", None));
        assert!(!auth.admit(Some(b"Basic s3cret"), "HTTP", None));
        assert!(!auth.admit(Some(b"s3cret"), "HTTP", None));
        assert!(!auth.admit(Some(b"Bearer "), "HTTP", None));
        assert!(!auth.admit(None, "gRPC", None));
        assert_eq!(auth.counters.unauthenticated_requests_total(), 6);
    }

    #[test]
    fn no_configured_token_means_no_authentication() {
        let none = BearerAuth::from_config(&AuthConfig::default(), Arc::default()).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn the_token_file_is_read_again_when_it_changes() {
        let directory = TempDir::new("auth-token-file");
        let path = directory.write("tokens", "# rotated by the operator\nfirst\n\n");
        let auth = auth(&[], Some(path.clone()));
        assert!(auth.admit(Some(b"Bearer first"), "HTTP", None));
        assert!(!auth.admit(Some(b"Bearer second"), "HTTP", None));
        directory.write("tokens", "second\nthird-token\n");
        auth.reload_if_changed();
        assert!(auth.admit(Some(b"Bearer second"), "HTTP", None));
        assert!(auth.admit(Some(b"Bearer third-token"), "HTTP", None));
        assert!(!auth.admit(Some(b"Bearer first"), "HTTP", None));
    }

    #[test]
    fn a_token_file_emptied_or_removed_keeps_the_tokens_in_force() {
        let directory = TempDir::new("auth-token-file-gone");
        let path = directory.write("tokens", "kept\n");
        let auth = auth(&[], Some(path.clone()));
        directory.write("tokens", "\n");
        auth.reload_if_changed();
        assert!(auth.admit(Some(b"Bearer kept"), "HTTP", None));
        std::fs::remove_file(&path).unwrap();
        auth.reload_if_changed();
        assert!(auth.admit(Some(b"Bearer kept"), "HTTP", None));
    }

    #[test]
    fn an_unreadable_or_empty_token_file_refuses_the_start() {
        let directory = TempDir::new("auth-token-file-empty");
        let empty = directory.write("tokens", "# nothing yet\n");
        let config = |path: &str| AuthConfig {
            bearer_tokens: Vec::new(),
            bearer_token_file: Some(PathBuf::from(path)),
        };
        assert!(matches!(
            BearerAuth::from_config(&config(&empty), Arc::default()),
            Err(TokenFileError::Empty)
        ));
        assert!(matches!(
            BearerAuth::from_config(&config("/nonexistent/tokens"), Arc::default()),
            Err(TokenFileError::Read(_))
        ));
    }

    #[test]
    fn comparison_sees_every_byte() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abd", b"abc"));
        assert!(!same_bytes(b"ab", b"abc"));
        assert!(!same_bytes(b"abcd", b"abc"));
        assert!(!same_bytes(b"", b"a"));
        // A presented byte equal to the complement of the accepted one does not pass for it.
        assert!(!same_bytes(&[!b'a'], b"a"));
    }
}
