//! CalDAV accounts as a source (RFC 4791, 6578, 6764). The account's
//! calendars are discovered from its URL; each is a store source of its own
//! (`caldav:<account>/<calendar>`) whose cursor holds the sync token, the
//! ctag and every object's ETag, written in the same transaction as the
//! events. A poll asks one question (`sync-collection` with the token, or
//! `getctag` where the server has no sync): nothing changed, nothing more
//! is asked. Changed objects are fetched with `calendar-multiget`; an
//! object that is gone takes its occurrences along. A token the server no
//! longer knows falls back to comparing ETags, so nothing is stored twice;
//! once a day every object is read again, so that series are expanded into
//! the moving window.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::SyncContext;
use super::account::{AccountSource, Protocol, SyncFailure, store_pass, window};
use super::dav::{CalendarInfo, Credential, Dav, DavError};
use crate::calendar::{account_occurrences, event_item, occurrence_key};
use crate::config::CalendarAccount;
use crate::pipeline::Counts;
use crate::store::SourceKey;

/// What is kept of one calendar between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalDavCursor {
    /// The calendar's URL (a cursor of another URL is not used).
    pub url: String,
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    /// Every object's ETag, by href.
    pub etags: BTreeMap<String, String>,
    /// The day every object was last read whole.
    pub full_on: Option<NaiveDate>,
}

/// The CalDAV protocol.
pub struct CalDav;

/// A CalDAV account as a source.
pub type CalDavSource = AccountSource<CalDav>;

impl Protocol for CalDav {
    type Conn = Dav;
    const KIND: &'static str = "caldav";

    fn what(cfg: &CalendarAccount) -> String {
        format!("CalDAV account {} ({})", cfg.name, super::dav::redact(&cfg.url))
    }

    fn connect(cfg: &CalendarAccount, credential: Credential) -> Dav {
        Dav::new(&cfg.url, credential, cfg.timeout)
    }

    fn discover(conn: &Dav) -> Result<Vec<CalendarInfo>, DavError> {
        conn.discover()
    }

    fn sync_calendar(
        conn: &Dav,
        cal: &CalendarInfo,
        cfg: &CalendarAccount,
        local: chrono_tz::Tz,
        ctx: &SyncContext,
    ) -> Result<Counts, SyncFailure> {
        sync_calendar(conn, cal, cfg, local, ctx)
    }
}

/// An occurrence's source key: the object's href, `#`, UID/RECURRENCE-ID
/// (hrefs hold no `#`: it would be a fragment).
fn key_of(href: &str, occurrence: &str) -> String {
    format!("{href}#{occurrence}")
}

fn href_of(key: &str) -> &str {
    key.split_once('#').map_or(key, |(h, _)| h)
}

/// One pass over one calendar.
fn sync_calendar(
    dav: &Dav,
    cal: &CalendarInfo,
    cfg: &CalendarAccount,
    local: chrono_tz::Tz,
    ctx: &SyncContext,
) -> Result<Counts, SyncFailure> {
    let source = super::account::source_id::<CalDav>(&cfg.name, cal);
    let mut cursor: CalDavCursor = ctx
        .pipeline
        .cursor_blocking(&source)?
        .and_then(|c| serde_json::from_str(&c).ok())
        .filter(|c: &CalDavCursor| c.url == cal.url)
        .unwrap_or_else(|| CalDavCursor { url: cal.url.clone(), ..CalDavCursor::default() });
    let today = Utc::now().date_naive();
    let whole = cursor.full_on != Some(today);
    // What the server lists now, or what changed: (href, etag) and gone hrefs.
    let mut listing: Option<Vec<(String, Option<String>)>> = None;
    let mut changed: Vec<(String, Option<String>)> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let uses_sync = cal.sync_token.is_some() || cursor.sync_token.is_some();
    if uses_sync {
        let token = if whole { "" } else { cursor.sync_token.as_deref().unwrap_or("") };
        match dav.sync_collection(&cal.url, token) {
            Ok(a) => {
                if token.is_empty() {
                    listing = Some(a.changed);
                } else {
                    if a.changed.is_empty() && a.removed.is_empty() && a.token == cursor.sync_token {
                        return Ok(Counts::default());
                    }
                    changed = a.changed;
                    removed = a.removed;
                }
                cursor.sync_token = a.token;
            }
            Err(DavError::SyncToken { .. }) => {
                tracing::info!(calendar = %cal.display_name, "the server no longer knows the sync token; comparing every event");
                let a = dav.sync_collection(&cal.url, "")?;
                cursor.sync_token = a.token;
                listing = Some(a.changed);
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        let (ctag, _) = dav.state(&cal.url)?;
        if !whole && ctag.is_some() && ctag == cursor.ctag {
            return Ok(Counts::default());
        }
        cursor.ctag = ctag;
        listing = Some(dav.list(&cal.url)?);
    }
    if let Some(list) = listing {
        let now: HashSet<&str> = list.iter().map(|(h, _)| h.as_str()).collect();
        removed = cursor.etags.keys().filter(|h| !now.contains(h.as_str())).cloned().collect();
        changed = list.into_iter().filter(|(h, e)| whole || e.is_none() || cursor.etags.get(h) != e.as_ref()).collect();
    }
    let hrefs: Vec<String> = changed.iter().map(|(h, _)| h.clone()).collect();
    let fetched = if hrefs.is_empty() { Vec::new() } else { dav.multiget(&cal.url, &hrefs)? };
    let known = ctx.pipeline.known_dates_blocking(&source)?;
    let mut by_href: HashMap<&str, Vec<(&str, DateTime<Utc>)>> = HashMap::new();
    for (key, start) in &known {
        by_href.entry(href_of(key)).or_default().push((key.as_str(), *start));
    }
    let win = window(Utc::now(), cfg.past, cfg.future);
    let label = format!("{}/{}", cfg.name, cal.display_name);
    let mut counts = Counts::default();
    let mut items = Vec::new();
    let mut deleted = Vec::new();
    for f in &fetched {
        let Some(data) = &f.data else {
            removed.push(f.href.clone());
            continue;
        };
        let parsed = super::guarded(|| account_occurrences(data, &win, local.into()));
        let (found, warnings) = match parsed {
            Ok(x) => x,
            Err(e) => {
                let w = format!("{label}: {}: {e}; its events are kept as they were", f.href);
                tracing::warn!("{w}");
                counts.warn(w);
                if let Some(e) = &f.etag {
                    cursor.etags.insert(f.href.clone(), e.clone());
                }
                continue;
            }
        };
        for w in warnings {
            counts.warn(format!("{label}: {w}"));
        }
        let mut present = HashSet::new();
        for occ in &found {
            let key = key_of(&f.href, &occurrence_key(occ));
            present.insert(key.clone());
            items.push((event_item(&label, occ), SourceKey { source: source.clone(), key }));
        }
        for (key, start) in by_href.get(f.href.as_str()).into_iter().flatten() {
            if !present.contains(*key) && *start >= win.start && *start <= win.end {
                deleted.push(SourceKey { source: source.clone(), key: key.to_string() });
            }
        }
        match &f.etag {
            Some(e) => cursor.etags.insert(f.href.clone(), e.clone()),
            None => cursor.etags.insert(f.href.clone(), String::new()),
        };
    }
    for href in &removed {
        cursor.etags.remove(href);
        for (key, _) in by_href.get(href.as_str()).into_iter().flatten() {
            deleted.push(SourceKey { source: source.clone(), key: key.to_string() });
        }
    }
    if whole {
        cursor.full_on = Some(today);
    }
    let cursor = serde_json::to_string(&cursor).unwrap_or_default();
    Ok(store_pass(ctx, &source, items, deleted, cursor, counts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_object() {
        let k = key_of("/jana/prace/a.ics", "uid#1@x/-");
        assert_eq!(href_of(&k), "/jana/prace/a.ics");
        assert_eq!(href_of("no-hash"), "no-hash");
    }
}
