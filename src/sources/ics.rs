//! ICS calendars (a URL or a local file) as a source. Every occurrence
//! inside the window is an item of kind `event`, keyed by UID and
//! RECURRENCE-ID, updated in place when it changes and deleted when a good
//! fetch no longer has it. A fetch that fails, or returns something that is
//! not a calendar, changes nothing: the last good state stays.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{BoxFuture, Source, SourceError, SyncContext, sha256_hex};
use crate::calendar::{Window, event_item, occurrence_key, occurrences};
use crate::config::CalendarConfig;
use crate::pipeline::{Batch, Counts};
use crate::store::SourceKey;

/// The largest calendar kronika reads.
pub const MAX_FEED_BYTES: u64 = 20 << 20;

pub use crate::config::Feed;

/// What is kept between fetches: the validators for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// SHA-256 of the last good body (kept for diagnosis; an unchanged body
    /// is parsed again, and stores nothing new).
    pub body_hash: Option<String>,
}

/// A calendar feed.
pub struct IcsSource {
    name: String,
    feed: Feed,
    source_id: String,
    poll: Duration,
    past: Duration,
    future: Duration,
    local: chrono_tz::Tz,
    timeout: Duration,
}

/// URLs in a text, for logs, errors and status: only the scheme and the
/// host are kept (`https://user:secret@host/private-XYZ/basic.ics?k=1` →
/// `https://***@host/…`): calendar feeds and webhooks often carry their
/// secret in the path or the query.
pub fn redact(text: &str) -> String {
    text.split(' ').map(redact_url).collect::<Vec<_>>().join(" ")
}

fn redact_url(word: &str) -> String {
    let Some((scheme, rest)) = word.split_once("://") else { return word.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let tail = if tail.is_empty() || tail == "/" { tail } else { "/…" };
    format!("{scheme}://{host}{tail}")
}

impl IcsSource {
    /// A calendar source from its `[[calendar]]` section.
    pub fn from_config(c: &CalendarConfig) -> IcsSource {
        IcsSource {
            name: c.name.clone(),
            source_id: format!("ics:{}", c.name),
            feed: c.feed.clone(),
            poll: c.poll_interval,
            past: c.past,
            future: c.future,
            local: local_zone(),
            timeout: c.timeout,
        }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> SourceError {
        unavailable(&self.name, &self.feed, reason)
    }

    /// The window occurrences are expanded in, around `now` (clamped, never
    /// overflowing, whatever the config says).
    fn window(&self, now: chrono::DateTime<Utc>) -> Window {
        super::account::window(now, self.past, self.future)
    }

    /// Fetches off the runtime (a slow server holds no worker, and the
    /// daemon can stop without waiting for it).
    async fn fetch(&self, cursor: FeedCursor) -> Result<Option<(String, FeedCursor)>, SourceError> {
        let (name, feed, timeout) = (self.name.clone(), self.feed.clone(), self.timeout);
        tokio::task::spawn_blocking(move || fetch(&name, &feed, timeout, &cursor))
            .await
            .map_err(|e| self.unavailable(format!("cannot fetch it: {e}")))?
    }

    async fn sync_async(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let cursor: FeedCursor =
            ctx.pipeline.cursor(&self.source_id).await?.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default();
        let Some(fetched) = self.fetch(cursor).await? else {
            return Ok(Counts::default());
        };
        super::in_place(move || self.store_blocking(ctx, fetched)).await
    }
}

fn what(name: &str, feed: &Feed) -> String {
    match feed {
        Feed::Url(u) => format!("calendar {name} ({})", redact(u)),
        Feed::File(p) => format!("calendar {name} ({})", p.display()),
    }
}

fn unavailable(name: &str, feed: &Feed, reason: impl std::fmt::Display) -> SourceError {
    SourceError::Unavailable { what: what(name, feed), reason: format!("{reason}; the last good state is kept") }
}

/// Fetches the body, or `None` when the server says it has not changed.
fn fetch(
    name: &str,
    feed: &Feed,
    timeout: Duration,
    cursor: &FeedCursor,
) -> Result<Option<(String, FeedCursor)>, SourceError> {
    let unavailable = |reason: String| unavailable(name, feed, reason);
    {
        match feed {
            Feed::File(path) => {
                let meta = std::fs::metadata(path).map_err(|e| unavailable(format!("cannot read it: {e}")))?;
                if meta.len() > MAX_FEED_BYTES {
                    return Err(unavailable(format!("it is larger than {} MB", MAX_FEED_BYTES >> 20)));
                }
                let bytes = std::fs::read(path).map_err(|e| unavailable(format!("cannot read it: {e}")))?;
                Ok(Some((decode(&bytes), FeedCursor::default())))
            }
            Feed::Url(url) => {
                let agent = crate::http::agent(timeout, 5);
                let mut req = agent.get(url);
                if let Some(etag) = &cursor.etag {
                    req = req.header("If-None-Match", etag);
                }
                if let Some(lm) = &cursor.last_modified {
                    req = req.header("If-Modified-Since", lm);
                }
                let mut resp =
                    req.call().map_err(|e| unavailable(format!("cannot fetch it: {}", redact(&e.to_string()))))?;
                let status = resp.status().as_u16();
                if status == 304 {
                    return Ok(None);
                }
                if !(200..300).contains(&status) {
                    return Err(unavailable(format!("the server answered HTTP {status}")));
                }
                let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                let next = FeedCursor { etag: header("etag"), last_modified: header("last-modified"), body_hash: None };
                let bytes = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_FEED_BYTES)
                    .read_to_vec()
                    .map_err(|e| unavailable(format!("cannot read the answer: {e}")))?;
                Ok(Some((decode(&bytes), next)))
            }
        }
    }
}

impl IcsSource {
    /// Expands a fetched body and hands the occurrences to the pipeline.
    fn store_blocking(
        &mut self,
        ctx: &SyncContext,
        (body, mut next): (String, FeedCursor),
    ) -> Result<Counts, SourceError> {
        let hash = sha256_hex(body.as_bytes());
        let window = self.window(Utc::now());
        let (found, warnings) =
            super::guarded(|| occurrences(&body, &window, self.local.into())).map_err(|e| self.unavailable(e))?;
        let mut counts = Counts::default();
        for w in warnings {
            tracing::warn!(source = %self.name, "{w}");
            counts.warn(w);
        }
        next.body_hash = Some(hash);
        let known = ctx.pipeline.known_dates_blocking(&self.source_id)?;
        let mut batch = Batch {
            source: self.source_id.clone(),
            replace: true,
            cursor: Some(serde_json::to_string(&next).unwrap_or_default()),
            ..Batch::default()
        };
        let mut present = std::collections::HashSet::new();
        for occ in &found {
            let key = occurrence_key(occ);
            present.insert(key.clone());
            batch.items.push((event_item(&self.name, occ), SourceKey { source: self.source_id.clone(), key }));
        }
        // Occurrences the feed no longer has, inside the window: cancelled
        // or deleted. Older ones left the window, not the calendar: they stay.
        for (key, start) in known {
            if !present.contains(&key) && start >= window.start && start <= window.end {
                batch.deleted.push(SourceKey { source: self.source_id.clone(), key });
            }
        }
        ctx.progress.set_length(batch.items.len() as u64);
        counts.add(&ctx.pipeline.ingest_blocking(batch)?);
        // Unchanged occurrences are "duplicates" of themselves: not news.
        counts.read = found.len();
        Ok(counts)
    }
}

/// Calendar text: a BOM dropped; windows-1250 when not UTF-8.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The system's time zone (TZ, then /etc/timezone, then /etc/localtime's
/// link), for floating times; Europe/Prague when none can be told.
pub fn local_zone() -> chrono_tz::Tz {
    let from_env = std::env::var("TZ").ok().map(|t| t.trim_start_matches(':').to_string());
    let from_file = || std::fs::read_to_string("/etc/timezone").ok().map(|s| s.trim().to_string());
    let from_link = || {
        std::fs::read_link("/etc/localtime")
            .ok()
            .and_then(|p| p.to_string_lossy().split("zoneinfo/").nth(1).map(str::to_string))
    };
    for name in [from_env, from_file(), from_link()].into_iter().flatten() {
        if let Ok(tz) = name.parse::<chrono_tz::Tz>() {
            return tz;
        }
    }
    chrono_tz::Europe::Prague
}

impl Source for IcsSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        Box::pin(self.sync_async(ctx))
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        super::poll_every(self.poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(redact("https://jana:tajne@cal.example.com/a.ics"), "https://***@cal.example.com/…");
        assert_eq!(redact("https://cal.example.com/private-abc123/basic.ics"), "https://cal.example.com/…");
        assert_eq!(redact("https://hooks.example.com?token=abc"), "https://hooks.example.com/…");
        assert_eq!(redact("error for https://u:p@h/x: timed out"), "error for https://***@h/… timed out");
        assert_eq!(redact("no url here"), "no url here");
    }
}
