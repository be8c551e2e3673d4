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
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::dav::{CalendarInfo, Credential, Dav, DavError};
use super::{BoxFuture, Source, SourceError, SyncContext};
use crate::calendar::{Window, account_occurrences, event_item, occurrence_key};
use crate::config::{CalDavConfig, CalendarAuth, PasswordSource};
use crate::pipeline::{Batch, Counts};
use crate::store::SourceKey;

/// Calendars are discovered again after this long (a calendar added on
/// the server is found the next day at the latest).
const REDISCOVER: Duration = Duration::from_secs(24 * 3600);

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

/// What discovery found, kept as the cursor of `caldav:<account>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Discovered {
    url: String,
    at: DateTime<Utc>,
    calendars: Vec<CalendarInfo>,
}

/// The store source id of one calendar of an account.
pub fn source_id(account: &str, calendar: &CalendarInfo) -> String {
    format!("caldav:{account}/{}", calendar.slug())
}

/// An occurrence's source key: the object's href, `#`, UID/RECURRENCE-ID
/// (hrefs hold no `#`: it would be a fragment).
fn key_of(href: &str, occurrence: &str) -> String {
    format!("{href}#{occurrence}")
}

fn href_of(key: &str) -> &str {
    key.split_once('#').map_or(key, |(h, _)| h)
}

/// Signs in a calendar account: a password, a token from the user's
/// command, or one redeemed from an `[[imap]]` account's sign-in.
pub struct Signer {
    auth: CalendarAuth,
    what: String,
    tokens: Option<Arc<crate::oauth::TokenSource>>,
}

impl Signer {
    pub fn new(auth: &CalendarAuth, what: String, data_dir: &std::path::Path) -> Signer {
        let tokens = match auth {
            CalendarAuth::OAuth2 { signin, oauth, scopes } => Some(Arc::new(crate::oauth::TokenSource::for_scopes(
                oauth.clone(),
                signin,
                crate::oauth::token_path(data_dir, signin),
                scopes,
            ))),
            _ => None,
        };
        Signer { auth: auth.clone(), what, tokens }
    }

    /// The credential for the next requests (`force`: a fresh token, the
    /// server refused the last). Blocking.
    pub fn credential(&self, force: bool) -> Result<Credential, SourceError> {
        let what = self.what.clone();
        match &self.auth {
            CalendarAuth::Password { username, password } => super::imap::read_password(password)
                .map(|p| Credential::Basic { username: username.clone(), password: p })
                .map_err(|reason| SourceError::Auth { what, reason }),
            CalendarAuth::TokenCmd(cmd) => super::imap::read_password(&PasswordSource::Cmd(cmd.clone()))
                .map(Credential::Bearer)
                .map_err(|reason| SourceError::Auth { what, reason: reason.replace("password_cmd", "token_cmd") }),
            CalendarAuth::OAuth2 { signin, .. } => {
                let tokens = self
                    .tokens
                    .as_ref()
                    .ok_or_else(|| SourceError::Unavailable { what: what.clone(), reason: "no token source".into() })?;
                let watch = tokens.path().to_path_buf();
                match tokens.access_token(force) {
                    Ok(t) => Ok(Credential::Bearer(t)),
                    Err(e @ crate::oauth::OAuthError::Network { .. }) => {
                        Err(SourceError::Unavailable { what, reason: e.to_string() })
                    }
                    Err(crate::oauth::OAuthError::LoginNeeded { account, reason }) => Err(SourceError::LoginNeeded {
                        what,
                        reason: format!("{reason}; run `kronika login {account}`"),
                        watch,
                    }),
                    Err(e) => Err(SourceError::LoginNeeded {
                        what,
                        reason: format!("{e}; run `kronika login {signin}`"),
                        watch,
                    }),
                }
            }
        }
    }

    /// A refused credential, as the source reports it: a password waits for
    /// the config to change, a token for `kronika login`.
    pub fn refused(&self, e: &DavError) -> SourceError {
        let what = self.what.clone();
        match (&self.auth, &self.tokens) {
            (CalendarAuth::OAuth2 { signin, .. }, Some(t)) => SourceError::LoginNeeded {
                what,
                reason: format!("{e}; run `kronika login {signin}`"),
                watch: t.path().to_path_buf(),
            },
            _ => SourceError::Auth { what, reason: e.to_string() },
        }
    }

    pub fn is_oauth(&self) -> bool {
        self.tokens.is_some()
    }
}

/// A CalDAV account.
pub struct CalDavSource {
    cfg: CalDavConfig,
    signer: Signer,
    calendars: Option<(Instant, Vec<CalendarInfo>)>,
    local: chrono_tz::Tz,
}

impl CalDavSource {
    pub fn new(cfg: CalDavConfig, data_dir: &std::path::Path) -> CalDavSource {
        let signer = Signer::new(&cfg.auth, what(&cfg), data_dir);
        CalDavSource { cfg, signer, calendars: None, local: super::ics::local_zone() }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> SourceError {
        SourceError::Unavailable { what: what(&self.cfg), reason: reason.to_string() }
    }

    fn dav_error(&self, e: DavError) -> SourceError {
        match e {
            DavError::Auth { .. } => self.signer.refused(&e),
            e => self.unavailable(e),
        }
    }

    /// The store source that keeps the account's discovered calendars, so
    /// that a poll from a new process (`kronika sync`) asks one question too.
    fn account_source(&self) -> String {
        format!("caldav:{}", self.cfg.name)
    }

    /// The calendars discovered within the last day, by this process or
    /// another.
    fn known_calendars(&mut self, ctx: &SyncContext) -> Result<Option<Vec<CalendarInfo>>, SourceError> {
        if let Some((at, cals)) = &self.calendars
            && at.elapsed() < REDISCOVER
        {
            return Ok(Some(cals.clone()));
        }
        let kept: Option<Discovered> =
            ctx.pipeline.cursor_blocking(&self.account_source())?.and_then(|c| serde_json::from_str(&c).ok());
        let fresh = kept.filter(|d| {
            d.url == self.cfg.url && Utc::now().signed_duration_since(d.at).to_std().is_ok_and(|age| age < REDISCOVER)
        });
        Ok(fresh.map(|d| {
            let age = Utc::now().signed_duration_since(d.at).to_std().unwrap_or_default();
            self.calendars = Some((Instant::now().checked_sub(age).unwrap_or_else(Instant::now), d.calendars.clone()));
            d.calendars
        }))
    }

    /// Keeps what discovery found (`None`: forget it, discover next time).
    fn keep_calendars(&mut self, ctx: &SyncContext, found: Option<&[CalendarInfo]>) -> Result<(), SourceError> {
        let kept = Discovered {
            url: self.cfg.url.clone(),
            at: if found.is_some() { Utc::now() } else { DateTime::<Utc>::MIN_UTC },
            calendars: found.map(<[CalendarInfo]>::to_vec).unwrap_or_default(),
        };
        self.calendars = found.map(|f| (Instant::now(), f.to_vec()));
        ctx.pipeline.ingest_blocking(Batch {
            source: self.account_source(),
            cursor: Some(serde_json::to_string(&kept).unwrap_or_default()),
            ..Batch::default()
        })?;
        Ok(())
    }

    /// A connection whose credential the server takes, and the calendars:
    /// with OAuth2 a refused token is refreshed once before the account
    /// waits for a login.
    fn connect(&mut self, ctx: &SyncContext) -> Result<(Dav, Vec<CalendarInfo>), SourceError> {
        let known = self.known_calendars(ctx)?;
        let mut force = false;
        loop {
            let dav = Dav::new(&self.cfg.url, self.signer.credential(force)?, self.cfg.timeout);
            if let Some(cals) = &known {
                return Ok((dav, cals.clone()));
            }
            match dav.discover() {
                Ok(cals) => {
                    self.keep_calendars(ctx, Some(&cals))?;
                    return Ok((dav, cals));
                }
                Err(DavError::Auth { .. }) if self.signer.is_oauth() && !force => force = true,
                Err(e) => return Err(self.dav_error(e)),
            }
        }
    }

    /// The calendars the config asks for, each found by display name or URL segment.
    fn wanted(&self, found: &[CalendarInfo]) -> Result<Vec<CalendarInfo>, SourceError> {
        let Some(names) = &self.cfg.calendars else { return Ok(found.to_vec()) };
        let mut out = Vec::new();
        for n in names {
            let hit = found.iter().find(|c| c.display_name.eq_ignore_ascii_case(n) || c.slug().eq_ignore_ascii_case(n));
            match hit {
                Some(c) => out.push(c.clone()),
                None => {
                    let have: Vec<&str> = found.iter().map(|c| c.display_name.as_str()).collect();
                    return Err(self.unavailable(format!(
                        "cannot find the calendar {n:?}; the server has {}",
                        if have.is_empty() { "no calendars".to_string() } else { have.join(", ") }
                    )));
                }
            }
        }
        Ok(out)
    }

    fn sync_blocking(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let (dav, found) = self.connect(ctx)?;
        let wanted = match self.wanted(&found) {
            Ok(w) => w,
            Err(e) => {
                // Perhaps the calendar is new: look again next time.
                self.keep_calendars(ctx, None)?;
                return Err(e);
            }
        };
        let mut counts = Counts::default();
        for cal in &wanted {
            if ctx.stopping() {
                break;
            }
            match sync_calendar(&dav, cal, &self.cfg, self.local, ctx) {
                Ok(c) => counts.add(&c),
                Err(SyncFailure::Dav(e @ DavError::NotFound { .. })) => {
                    // The calendar went away: discover again next time.
                    self.keep_calendars(ctx, None)?;
                    return Err(self.unavailable(format!("{e}; the calendars are looked up again next time")));
                }
                Err(SyncFailure::Dav(e)) => return Err(self.dav_error(e)),
                Err(SyncFailure::Source(e)) => return Err(e),
            }
        }
        Ok(counts)
    }
}

fn what(cfg: &CalDavConfig) -> String {
    format!("CalDAV account {} ({})", cfg.name, super::dav::redact(&cfg.url))
}

/// Why one calendar's pass failed.
enum SyncFailure {
    Dav(DavError),
    Source(SourceError),
}

impl From<DavError> for SyncFailure {
    fn from(e: DavError) -> Self {
        SyncFailure::Dav(e)
    }
}

impl From<crate::pipeline::PipelineError> for SyncFailure {
    fn from(e: crate::pipeline::PipelineError) -> Self {
        SyncFailure::Source(SourceError::Pipeline(e))
    }
}

/// The expansion window around `now`, clamped.
pub fn window(now: DateTime<Utc>, past: Duration, future: Duration) -> Window {
    let span = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    Window {
        start: now.checked_sub_signed(span(past)).unwrap_or(DateTime::<Utc>::MIN_UTC),
        end: now.checked_add_signed(span(future)).unwrap_or(DateTime::<Utc>::MAX_UTC),
    }
}

/// One pass over one calendar.
fn sync_calendar(
    dav: &Dav,
    cal: &CalendarInfo,
    cfg: &CalDavConfig,
    local: chrono_tz::Tz,
    ctx: &SyncContext,
) -> Result<Counts, SyncFailure> {
    let source = source_id(&cfg.name, cal);
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
    counts.read = items.len();
    ctx.progress.set_length(items.len() as u64);
    // Large calendars go in several transactions; the cursor with the last.
    let mut sender = crate::pipeline::BatchSender::new(ctx.pipeline.clone());
    let mut chunks: Vec<Vec<_>> = Vec::new();
    while items.len() > super::BATCH {
        let rest = items.split_off(super::BATCH);
        chunks.push(std::mem::replace(&mut items, rest));
    }
    chunks.push(items);
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let is_last = i == last;
        sender.send(Batch {
            source: source.clone(),
            items: chunk,
            replace: true,
            deleted: if is_last { std::mem::take(&mut deleted) } else { Vec::new() },
            cursor: is_last.then(|| serde_json::to_string(&cursor).unwrap_or_default()),
            ..Batch::default()
        })?;
    }
    let read = counts.read;
    counts.add(&sender.finish()?);
    counts.read = read;
    Ok(counts)
}

impl Source for CalDavSource {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        super::in_place(move || self.sync_blocking(ctx))
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        super::poll_every(self.cfg.poll_interval)
    }
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
