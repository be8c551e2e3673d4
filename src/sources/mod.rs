//! Sources: everything that turns the outside world into items. Every
//! source sits behind [`Source`]; the pipeline and the daemon never learn
//! protocol details.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

pub mod account;
pub mod archive;
pub mod caldav;
pub mod dav;
pub mod graph;
pub mod ics;
pub mod imap;
pub mod maildir;
pub mod notes;
pub mod watch;

use std::future::Future;
use std::pin::Pin;

use crate::pipeline::{Counts, PipelineError, PipelineHandle};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a source could not do its work. Callers branch on it: a missing
/// folder or an unreachable server is retried, an authentication failure
/// waits for a config change, a stopped pipeline ends the source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {what}: {reason}")]
    Unavailable { what: String, reason: String },
    #[error("cannot log in to {what}: {reason}")]
    Auth { what: String, reason: String },
    /// The sign-in is gone (never made, revoked, expired): the user must run
    /// `kronika login`; the source waits for `watch` (the kept sign-in) to change.
    #[error("cannot log in to {what}: {reason}")]
    LoginNeeded { what: String, reason: String, watch: std::path::PathBuf },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A bug in kronika (a panic, caught): the source is built anew and retried.
    #[error("cannot sync {what}: kronika failed inside ({reason}); please report this")]
    Bug { what: String, reason: String },
}

impl SourceError {
    /// The state `kronika status` shows for a source that failed so.
    pub fn state(&self) -> &'static str {
        match self {
            SourceError::LoginNeeded { .. } => "login needed",
            SourceError::Auth { .. } => "auth failed",
            _ => "failed",
        }
    }
}

/// An access token that could not be had for `what` (signed in as
/// `account`, its sign-in kept in `watch`), as the source reports it: the
/// network is retried; anything else waits for `kronika login`.
pub fn token_failure(
    what: String,
    account: &str,
    watch: std::path::PathBuf,
    e: crate::oauth::OAuthError,
) -> SourceError {
    match e {
        e @ crate::oauth::OAuthError::Network { .. } => SourceError::Unavailable { what, reason: e.to_string() },
        crate::oauth::OAuthError::LoginNeeded { account, reason } => {
            SourceError::LoginNeeded { what, reason: format!("{reason}; run `kronika login {account}`"), watch }
        }
        // A refused refresh or an unreadable sign-in: only a new login helps.
        e => SourceError::LoginNeeded { what, reason: format!("{e}; run `kronika login {account}`"), watch },
    }
}

/// What every sync gets: the way into the store and a progress bar
/// (hidden when nobody watches).
#[derive(Clone)]
pub struct SyncContext {
    pub pipeline: PipelineHandle,
    pub progress: indicatif::ProgressBar,
    /// Triggered when the daemon stops: a long pass ends early (what it
    /// has handed over is stored; the rest comes next time).
    pub shutdown: crate::shutdown::Shutdown,
}

impl SyncContext {
    pub fn stopping(&self) -> bool {
        self.shutdown.is_triggered()
    }
}

/// A source of items.
pub trait Source: Send {
    /// The name in logs, status and errors: the config section's name or
    /// the imported path.
    fn name(&self) -> &str;

    /// One pass: brings the store up to date with what the source holds now
    /// (new items, items gone), and says what happened.
    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>>;

    /// Resolves when the source may have changed since the last sync (file
    /// events, a push from a server, a poll interval).
    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>>;
}

/// Runs blocking work (file I/O, parsing) of a source's pass without
/// stalling the other tasks on this runtime thread.
pub fn in_place<'a, T: Send + 'a>(work: impl FnOnce() -> T + Send + 'a) -> BoxFuture<'a, T> {
    Box::pin(async move { tokio::task::block_in_place(work) })
}

/// `Source::changed` of a source that can only be asked (calendar feeds
/// and accounts): resolves after `interval`.
pub fn poll_every(interval: std::time::Duration) -> BoxFuture<'static, Result<(), SourceError>> {
    Box::pin(async move {
        tokio::time::sleep(interval).await;
        Ok(())
    })
}

/// Runs a parser on one piece of outside input. Parsers never panic (they
/// are fuzzed); should one do so anyway (a bug), the panic becomes the
/// error of this one message, note or calendar, and the source goes on.
pub fn guarded<T, E: std::fmt::Display>(parse: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(p) => {
            Err(format!("cannot parse it: kronika failed inside ({}); please report this", panic_text(p.as_ref())))
        }
    }
}

pub use crate::text::panic_text;

/// How many items go to the pipeline in one batch (one transaction).
pub const BATCH: usize = 500;

/// Files larger than this are skipped with a reason.
pub const MAX_MESSAGE_BYTES: u64 = 100 << 20;

pub use crate::text::sha256_hex;

#[cfg(test)]
mod tests {
    #[test]
    fn a_parser_that_panics_fails_only_its_input() {
        let ok: Result<u8, String> = super::guarded(|| Ok::<u8, std::fmt::Error>(7));
        assert_eq!(ok, Ok(7));
        let bad: Result<u8, String> =
            super::guarded(|| -> Result<u8, std::fmt::Error> { panic!("index 9 out of range") });
        let e = bad.unwrap_err();
        assert!(e.starts_with("cannot parse it") && e.contains("index 9 out of range"), "{e}");
    }
}
