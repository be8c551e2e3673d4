//! What every calendar account shares, whatever its protocol (CalDAV,
//! Microsoft Graph): the sign-in ([`Signer`]), the calendars found and
//! kept for a day ([`KnownCalendars`]), the calendars the config asks for,
//! the store pass that writes the cursor with the last events, and the
//! source itself ([`AccountSource`]): connect, refresh a refused OAuth2
//! token once, then one pass per calendar. Each protocol says how to
//! connect, list calendars and sync one calendar ([`Protocol`]).
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::dav::{CalendarInfo, Credential, DavError};
use super::{BoxFuture, Source, SourceError, SyncContext};
use crate::calendar::Window;
use crate::config::{CalendarAccount, CalendarAuth};
use crate::pipeline::{Batch, Counts};
use crate::store::SourceKey;

/// Calendars are discovered again after this long (a calendar added on
/// the server is found the next day at the latest).
const REDISCOVER: Duration = Duration::from_secs(24 * 3600);

/// What discovery found, kept as the cursor of the account's own source.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Discovered {
    url: String,
    at: DateTime<Utc>,
    calendars: Vec<CalendarInfo>,
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
            CalendarAuth::Password { username, password } => password
                .read()
                .map(|p| Credential::Basic { username: username.clone(), password: p })
                .map_err(|reason| SourceError::Auth { what, reason }),
            CalendarAuth::TokenCmd(cmd) => super::imap::read_token_cmd(cmd)
                .map(Credential::Bearer)
                .map_err(|reason| SourceError::Auth { what, reason }),
            CalendarAuth::OAuth2 { signin, .. } => {
                let tokens = self
                    .tokens
                    .as_ref()
                    .ok_or_else(|| SourceError::Unavailable { what: what.clone(), reason: "no token source".into() })?;
                let watch = tokens.path().to_path_buf();
                tokens
                    .access_token(force)
                    .map(Credential::Bearer)
                    .map_err(|e| super::token_failure(what, signin, watch, e))
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

/// The calendars an account's discovery found, kept for a day in memory
/// and as the cursor of the account's own store source (`caldav:<account>`,
/// `graph:<account>`), so that a poll from a new process (`kronika sync`)
/// asks one question too.
pub struct KnownCalendars {
    account_source: String,
    /// The configured URL they were found from (another URL: found again).
    url: String,
    kept: Option<(Instant, Vec<CalendarInfo>)>,
}

impl KnownCalendars {
    pub fn new(account_source: String, url: String) -> KnownCalendars {
        KnownCalendars { account_source, url, kept: None }
    }

    /// The calendars found within the last day, by this process or another.
    pub fn get(&mut self, ctx: &SyncContext) -> Result<Option<Vec<CalendarInfo>>, SourceError> {
        if let Some((at, cals)) = &self.kept
            && at.elapsed() < REDISCOVER
        {
            return Ok(Some(cals.clone()));
        }
        let kept: Option<Discovered> =
            ctx.pipeline.cursor_blocking(&self.account_source)?.and_then(|c| serde_json::from_str(&c).ok());
        let fresh = kept.filter(|d| {
            d.url == self.url && Utc::now().signed_duration_since(d.at).to_std().is_ok_and(|age| age < REDISCOVER)
        });
        Ok(fresh.map(|d| {
            let age = Utc::now().signed_duration_since(d.at).to_std().unwrap_or_default();
            self.kept = Some((Instant::now().checked_sub(age).unwrap_or_else(Instant::now), d.calendars.clone()));
            d.calendars
        }))
    }

    /// Keeps what discovery found (`None`: forget it, discover next time).
    pub fn keep(&mut self, ctx: &SyncContext, found: Option<&[CalendarInfo]>) -> Result<(), SourceError> {
        let kept = Discovered {
            url: self.url.clone(),
            at: if found.is_some() { Utc::now() } else { DateTime::<Utc>::MIN_UTC },
            calendars: found.map(<[CalendarInfo]>::to_vec).unwrap_or_default(),
        };
        self.kept = found.map(|f| (Instant::now(), f.to_vec()));
        ctx.pipeline.ingest_blocking(Batch {
            source: self.account_source.clone(),
            cursor: Some(serde_json::to_string(&kept).unwrap_or_default()),
            ..Batch::default()
        })?;
        Ok(())
    }
}

/// The calendars the config asks for, each found by display name or URL
/// segment (none named: the user's own); the error names what the server has.
pub fn wanted(found: &[CalendarInfo], names: Option<&[String]>) -> Result<Vec<CalendarInfo>, String> {
    let Some(names) = names else { return Ok(found.iter().filter(|c| !c.shared).cloned().collect()) };
    let mut out = Vec::new();
    for n in names {
        let hit = found.iter().find(|c| c.is_named(n));
        match hit {
            Some(c) => out.push(c.clone()),
            None => {
                let have: Vec<&str> = found.iter().map(|c| c.display_name.as_str()).collect();
                return Err(format!(
                    "cannot find the calendar {n:?}; the server has {}",
                    if have.is_empty() { "no calendars".to_string() } else { have.join(", ") }
                ));
            }
        }
    }
    Ok(out)
}

/// Stores one calendar's pass: its events in transactions of
/// [`super::BATCH`], the deletions and the cursor with the last, so that
/// the cursor never runs ahead of the events.
pub fn store_pass(
    ctx: &SyncContext,
    source: &str,
    mut items: Vec<(crate::store::NewItem, SourceKey)>,
    deleted: Vec<SourceKey>,
    cursor: String,
    mut counts: Counts,
) -> Result<Counts, crate::pipeline::PipelineError> {
    counts.read = items.len();
    ctx.progress.set_length(items.len() as u64);
    let mut sender = crate::pipeline::BatchSender::new(ctx.pipeline.clone());
    let mut chunks: Vec<Vec<_>> = Vec::new();
    while items.len() > super::BATCH {
        let rest = items.split_off(super::BATCH);
        chunks.push(std::mem::replace(&mut items, rest));
    }
    chunks.push(items);
    let last = chunks.len().saturating_sub(1);
    let (mut deleted, mut cursor) = (Some(deleted), Some(cursor));
    for (i, chunk) in chunks.into_iter().enumerate() {
        let is_last = i == last;
        sender.send(Batch {
            source: source.to_string(),
            items: chunk,
            replace: true,
            deleted: if is_last { deleted.take().unwrap_or_default() } else { Vec::new() },
            cursor: if is_last { cursor.take() } else { None },
            ..Batch::default()
        })?;
    }
    let read = counts.read;
    counts.add(&sender.finish()?);
    counts.read = read;
    Ok(counts)
}

/// A calendar protocol: how to reach a server and read one calendar.
pub trait Protocol: Send + 'static {
    /// A connection with a credential.
    type Conn;
    /// The prefix of the account's store sources (`caldav`, `graph`).
    const KIND: &'static str;

    /// The account in errors and logs.
    fn what(cfg: &CalendarAccount) -> String;
    fn connect(cfg: &CalendarAccount, credential: Credential) -> Self::Conn;
    /// The user's calendars.
    fn discover(conn: &Self::Conn) -> Result<Vec<CalendarInfo>, DavError>;
    /// One pass over one calendar.
    fn sync_calendar(
        conn: &Self::Conn,
        cal: &CalendarInfo,
        cfg: &CalendarAccount,
        local: chrono_tz::Tz,
        ctx: &SyncContext,
    ) -> Result<Counts, SyncFailure>;
}

/// The store source id of one calendar of an account.
pub fn source_id<P: Protocol>(account: &str, calendar: &CalendarInfo) -> String {
    format!("{}:{account}/{}", P::KIND, calendar.slug())
}

/// A calendar account as a source.
pub struct AccountSource<P: Protocol> {
    cfg: CalendarAccount,
    signer: Signer,
    calendars: KnownCalendars,
    local: chrono_tz::Tz,
    _protocol: std::marker::PhantomData<P>,
}

impl<P: Protocol> AccountSource<P> {
    pub fn new(cfg: CalendarAccount, data_dir: &std::path::Path) -> AccountSource<P> {
        let signer = Signer::new(&cfg.auth, P::what(&cfg), data_dir);
        let calendars = KnownCalendars::new(format!("{}:{}", P::KIND, cfg.name), cfg.url.clone());
        AccountSource { cfg, signer, calendars, local: super::ics::local_zone(), _protocol: std::marker::PhantomData }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> SourceError {
        SourceError::Unavailable { what: P::what(&self.cfg), reason: reason.to_string() }
    }

    fn failed(&self, e: DavError) -> SourceError {
        match e {
            DavError::Auth { .. } => self.signer.refused(&e),
            e => self.unavailable(e),
        }
    }

    /// A connection whose credential the server takes, and the calendars:
    /// with OAuth2 a refused token is refreshed once before the account
    /// waits for a login.
    fn connect(&mut self, ctx: &SyncContext) -> Result<(P::Conn, Vec<CalendarInfo>), SourceError> {
        let known = self.calendars.get(ctx)?;
        let mut force = false;
        loop {
            let conn = P::connect(&self.cfg, self.signer.credential(force)?);
            if let Some(cals) = &known {
                return Ok((conn, cals.clone()));
            }
            match P::discover(&conn) {
                Ok(cals) => {
                    self.calendars.keep(ctx, Some(&cals))?;
                    return Ok((conn, cals));
                }
                Err(DavError::Auth { .. }) if self.signer.is_oauth() && !force => force = true,
                Err(e) => return Err(self.failed(e)),
            }
        }
    }

    fn sync_blocking(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let (conn, found) = self.connect(ctx)?;
        let wanted = match wanted(&found, self.cfg.calendars.as_deref()) {
            Ok(w) => w,
            Err(e) => {
                let e = self.unavailable(e);
                // Perhaps the calendar is new: look again next time.
                self.calendars.keep(ctx, None)?;
                return Err(e);
            }
        };
        let mut counts = Counts::default();
        for cal in &wanted {
            if ctx.stopping() {
                break;
            }
            match P::sync_calendar(&conn, cal, &self.cfg, self.local, ctx) {
                Ok(c) => counts.add(&c),
                Err(SyncFailure::Dav(e @ DavError::NotFound { .. })) => {
                    // The calendar went away: discover again next time.
                    self.calendars.keep(ctx, None)?;
                    return Err(self.unavailable(format!("{e}; the calendars are looked up again next time")));
                }
                Err(SyncFailure::Dav(e)) => return Err(self.failed(e)),
                Err(SyncFailure::Source(e)) => return Err(e),
            }
        }
        Ok(counts)
    }
}

impl<P: Protocol> Source for AccountSource<P> {
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

/// Why one calendar's pass failed.
pub enum SyncFailure {
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
