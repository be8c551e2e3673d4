//! IMAP accounts as a source: read-only (EXAMINE and BODY.PEEK only, no flag
//! changes), resumable, pushed by IDLE.
//!
//! Every mailbox is its own store source, `imap:<account>/<mailbox>`, with
//! message keys `<UIDVALIDITY>/<UID>` and a cursor `{uidvalidity, last_uid,
//! highestmodseq}` written in the same transaction as the messages it
//! covers. So a first sync stopped halfway resumes after the last batch
//! stored, and a UIDVALIDITY change refetches the mailbox, where the store
//! recognises what it already has by Message-ID and content hash.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_imap::types::{Fetch, NameAttribute};
use async_imap::{Client, Session};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{BoxFuture, MAX_MESSAGE_BYTES, Source, SourceError, SyncContext};
use crate::config::{ImapAuth, ImapConfig, PasswordSource, TlsMode};
use crate::mail::{ParseHints, parse, parse_captured};
use crate::model::Direction;
use crate::pipeline::{Batch, Counts};
use crate::store::SourceKey;

/// UIDs per FETCH command: one round trip brings this many messages.
const FETCH_CHUNK: usize = 200;

/// IDLE is re-issued before this (RFC 2177 allows 29 minutes), on a
/// wall-clock deadline that keepalives do not reset.
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);

/// The transport under the IMAP session: TLS or (loopback only) plain TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + fmt::Debug> Io for T {}

type ImapSession = Session<Box<dyn Io>>;

/// What is stored as a mailbox's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub uidvalidity: u32,
    pub last_uid: u32,
    #[serde(default)]
    pub highestmodseq: Option<u64>,
}

/// One mailbox to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    name: String,
    outgoing: bool,
}

/// An IMAP account.
pub struct ImapSource {
    cfg: ImapConfig,
    session: Option<ImapSession>,
    plans: Option<Vec<Plan>>,
    can_idle: bool,
    /// OAuth2 accounts: where access tokens come from.
    tokens: Option<Arc<crate::oauth::TokenSource>>,
}

/// What a connection logs in with, read when connecting.
enum Secret {
    Password(String),
    Bearer(String),
}

/// Answers a SASL XOAUTH2 or OAUTHBEARER exchange: the payload first;
/// to the JSON error challenge a failing server sends, an empty line.
struct Bearer {
    payload: String,
    sent: bool,
}

impl async_imap::Authenticator for Bearer {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        if self.sent {
            return Vec::new();
        }
        self.sent = true;
        self.payload.as_bytes().to_vec()
    }
}

impl ImapSource {
    /// An IMAP source from its `[[imap]]` section; OAuth2 sign-ins are
    /// kept under `data_dir` (see `kronika login`).
    pub fn new(cfg: ImapConfig, data_dir: &std::path::Path) -> ImapSource {
        let tokens = match &cfg.auth {
            ImapAuth::OAuth2(o) => Some(Arc::new(crate::oauth::TokenSource::new(
                o.clone(),
                &cfg.name,
                crate::oauth::token_path(data_dir, &cfg.name),
            ))),
            _ => None,
        };
        ImapSource { cfg, session: None, plans: None, can_idle: false, tokens }
    }

    /// Reads the password, or gets an access token (`force`: a fresh one,
    /// the server refused the last). Off the runtime: a command or a
    /// provider may take a while.
    async fn secret(&self, force: bool) -> Result<Secret, SourceError> {
        let what = self.what();
        match &self.cfg.auth {
            ImapAuth::Password(source) => {
                let source = source.clone();
                tokio::task::spawn_blocking(move || source.read())
                    .await
                    .map_err(|e| self.unavailable(format!("password_cmd: {e}")))?
                    .map(Secret::Password)
                    .map_err(|reason| SourceError::Auth { what, reason })
            }
            ImapAuth::TokenCmd(cmd) => {
                let cmd = cmd.clone();
                tokio::task::spawn_blocking(move || read_token_cmd(&cmd))
                    .await
                    .map_err(|e| self.unavailable(format!("token_cmd: {e}")))?
                    .map(Secret::Bearer)
                    .map_err(|reason| SourceError::Auth { what, reason })
            }
            ImapAuth::OAuth2(_) => {
                let tokens = self.tokens.clone().ok_or_else(|| self.unavailable("no token source"))?;
                let watch = tokens.path().to_path_buf();
                let got = tokio::task::spawn_blocking(move || tokens.access_token(force))
                    .await
                    .map_err(|e| self.unavailable(format!("cannot refresh the access token: {e}")))?;
                got.map(Secret::Bearer).map_err(|e| super::token_failure(what, &self.cfg.name, watch, e))
            }
        }
    }

    fn what(&self) -> String {
        format!("IMAP account {} ({}@{}:{})", self.cfg.name, self.cfg.username, self.cfg.host, self.cfg.port)
    }

    fn unavailable(&self, reason: impl fmt::Display) -> SourceError {
        SourceError::Unavailable { what: self.what(), reason: reason.to_string() }
    }

    /// The store source id of a mailbox.
    pub fn source_id(account: &str, mailbox: &str) -> String {
        format!("imap:{account}/{mailbox}")
    }

    /// Runs `fut`, failing when it takes longer than the configured timeout.
    async fn timed<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, async_imap::error::Error>>,
    ) -> Result<T, SourceError> {
        match tokio::time::timeout(self.cfg.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.unavailable(format!("{what}: {e}"))),
            Err(_) => Err(self.unavailable(format!("{what}: no answer in {}s", self.cfg.timeout.as_secs()))),
        }
    }

    async fn connect(&mut self) -> Result<ImapSession, SourceError> {
        let secret = self.secret(false).await?;
        let addr = (self.cfg.host.as_str(), self.cfg.port);
        let tcp = tokio::time::timeout(self.cfg.timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| self.unavailable("cannot connect: no answer"))?
            .map_err(|e| self.unavailable(format!("cannot connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = match self.cfg.tls {
            TlsMode::None => Box::new(tcp),
            TlsMode::Implicit => Box::new(self.tls(tcp).await?),
            TlsMode::Starttls => {
                let mut client = Client::new(tcp);
                self.timed("greeting", async { client.read_response().await.map(|_| ()).map_err(Into::into) }).await?;
                self.timed("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
                Box::new(self.tls(client.into_inner()).await?)
            }
        };
        let mut client = Client::new(stream);
        if self.cfg.tls != TlsMode::Starttls {
            let greeting = self.timed("greeting", async { client.read_response().await.map_err(Into::into) }).await?;
            if greeting.is_none() {
                return Err(self.unavailable("the server closed the connection before greeting"));
            }
        }
        let mut session = match secret {
            Secret::Password(password) => {
                let login = tokio::time::timeout(self.cfg.timeout, client.login(&self.cfg.username, &password)).await;
                match login {
                    Err(_) => return Err(self.unavailable("login: no answer")),
                    Ok(Ok(s)) => s,
                    Ok(Err((async_imap::error::Error::No(text), _)))
                    | Ok(Err((async_imap::error::Error::Bad(text), _))) => {
                        return Err(SourceError::Auth {
                            what: self.what(),
                            reason: format!("the server said: {}", text.trim()),
                        });
                    }
                    Ok(Err((e, _))) => return Err(self.unavailable(format!("login: {e}"))),
                }
            }
            Secret::Bearer(token) => self.authenticate(client, token).await?,
        };
        let caps = self.timed("CAPABILITY", session.capabilities()).await?;
        self.can_idle = caps.has_str("IDLE");
        tracing::info!("connected to {}", self.what());
        Ok(session)
    }

    /// SASL with a bearer token, by the mechanism the server offers
    /// (OAUTHBEARER, else XOAUTH2). A refused token is refreshed once and
    /// tried again on the same connection; refused twice, it is an
    /// authentication failure.
    async fn authenticate(&self, mut client: Client<Box<dyn Io>>, token: String) -> Result<ImapSession, SourceError> {
        let (tx, rx) = async_channel::unbounded();
        self.timed("CAPABILITY", client.run_command_and_check_ok("CAPABILITY", Some(tx))).await?;
        let mut offered = Vec::new();
        while let Ok(u) = rx.try_recv() {
            if let async_imap::types::UnsolicitedResponse::Other(data) = u
                && let async_imap::imap_proto::Response::Capabilities(caps) = data.parsed()
            {
                for c in caps {
                    if let async_imap::imap_proto::Capability::Auth(m) = c {
                        offered.push(m.to_ascii_uppercase());
                    }
                }
            }
        }
        let mechanism = if offered.iter().any(|m| m == "OAUTHBEARER") {
            "OAUTHBEARER"
        } else if offered.iter().any(|m| m == "XOAUTH2") {
            "XOAUTH2"
        } else {
            return Err(SourceError::Auth {
                what: self.what(),
                reason: format!(
                    "the server offers neither XOAUTH2 nor OAUTHBEARER (it offers {}); use auth = \"password\"",
                    if offered.is_empty() { "no SASL mechanism".to_string() } else { offered.join(", ") }
                ),
            });
        };
        let user = self.cfg.mailbox_user.clone().unwrap_or_else(|| self.cfg.username.clone());
        let mut token = token;
        let mut refreshed = false;
        loop {
            let payload = match mechanism {
                "OAUTHBEARER" => crate::oauth::oauthbearer(&user, &token),
                _ => crate::oauth::xoauth2(&user, &token),
            };
            let attempt =
                tokio::time::timeout(self.cfg.timeout, client.authenticate(mechanism, Bearer { payload, sent: false }))
                    .await;
            match attempt {
                Err(_) => return Err(self.unavailable(format!("AUTHENTICATE {mechanism}: no answer"))),
                Ok(Ok(session)) => return Ok(session),
                Ok(Err((async_imap::error::Error::No(text), back)))
                | Ok(Err((async_imap::error::Error::Bad(text), back))) => {
                    if refreshed {
                        let reason = format!("the server refused the access token: {}", text.trim());
                        return Err(match &self.tokens {
                            Some(t) => SourceError::LoginNeeded {
                                what: self.what(),
                                reason: format!("{reason}; run `kronika login {}`", self.cfg.name),
                                watch: t.path().to_path_buf(),
                            },
                            None => SourceError::Auth { what: self.what(), reason },
                        });
                    }
                    tracing::debug!("{}: the server refused the access token; getting a fresh one", self.what());
                    client = back;
                    refreshed = true;
                    token = match self.secret(true).await? {
                        Secret::Bearer(t) => t,
                        Secret::Password(_) => return Err(self.unavailable("a password where a token was expected")),
                    };
                }
                Ok(Err((e, _))) => return Err(self.unavailable(format!("AUTHENTICATE {mechanism}: {e}"))),
            }
        }
    }

    async fn tls(&self, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SourceError> {
        let config =
            crate::tls::client_config(self.cfg.ca_file.as_deref()).map_err(|e| self.unavailable(e.to_string()))?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(self.cfg.host.clone())
            .map_err(|e| self.unavailable(format!("cannot use {:?} as a TLS name: {e}", self.cfg.host)))?;
        let connector = tokio_rustls::TlsConnector::from(config);
        tokio::time::timeout(self.cfg.timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| self.unavailable("TLS handshake: no answer"))?
            .map_err(|e| self.unavailable(format!("TLS handshake: {e}")))
    }

    /// The mailboxes to sync: configured ones, or INBOX and `\Sent`.
    async fn plans(&self, session: &mut ImapSession) -> Result<Vec<Plan>, SourceError> {
        let names: Vec<(String, bool)> = {
            let stream = self.timed("LIST", session.list(Some(""), Some("*"))).await?;
            let list: Vec<async_imap::types::Name> = self.timed("LIST", stream.try_collect::<Vec<_>>()).await?;
            list.iter()
                .map(|n| (n.name().to_string(), n.attributes().iter().any(|a| matches!(a, NameAttribute::Sent))))
                .collect()
        };
        let sent: Vec<String> = names.iter().filter(|(_, s)| *s).map(|(n, _)| n.clone()).collect();
        let wanted: Vec<String> = match &self.cfg.mailboxes {
            Some(m) => m.clone(),
            None => std::iter::once("INBOX".to_string()).chain(sent.iter().cloned()).collect(),
        };
        let outgoing = self.cfg.outgoing.clone().unwrap_or(sent);
        let mut plans = Vec::new();
        for w in wanted {
            let Some((name, _)) = names
                .iter()
                .find(|(n, _)| n == &w || (w.eq_ignore_ascii_case("INBOX") && n.eq_ignore_ascii_case("INBOX")))
            else {
                tracing::warn!("{}: mailbox {w:?} does not exist on the server; skipping it", self.what());
                continue;
            };
            plans.push(Plan { outgoing: outgoing.iter().any(|o| o == name), name: name.clone() });
        }
        Ok(plans)
    }

    async fn sync_all(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let mut session = match self.session.take() {
            Some(s) => s,
            None => self.connect().await?,
        };
        if self.plans.is_none() {
            self.plans = Some(self.plans(&mut session).await?);
        }
        let plans = self.plans.clone().unwrap_or_default();
        let mut counts = Counts::default();
        for plan in &plans {
            if ctx.stopping() {
                break;
            }
            counts.add(&self.sync_mailbox(&mut session, plan, ctx).await?);
        }
        self.session = Some(session);
        Ok(counts)
    }

    async fn sync_mailbox(
        &self,
        session: &mut ImapSession,
        plan: &Plan,
        ctx: &SyncContext,
    ) -> Result<Counts, SourceError> {
        let source = Self::source_id(&self.cfg.name, &plan.name);
        let mailbox = self.timed(&format!("EXAMINE {}", plan.name), session.examine(&plan.name)).await?;
        let Some(uidvalidity) = mailbox.uid_validity else {
            return Err(self.unavailable(format!("mailbox {} has no UIDVALIDITY", plan.name)));
        };
        let stored: Option<Cursor> = ctx.pipeline.cursor(&source).await?.and_then(|c| serde_json::from_str(&c).ok());
        let known = ctx.pipeline.known_keys(&source).await?;
        let prefix = format!("{uidvalidity}/");
        let mut counts = Counts::default();
        let mut cursor = match stored {
            Some(c) if c.uidvalidity == uidvalidity => c,
            Some(old) => {
                tracing::warn!(
                    "{}: mailbox {} has a new UIDVALIDITY ({} → {uidvalidity}); resyncing it (stored messages are recognised, nothing is duplicated)",
                    self.what(),
                    plan.name,
                    old.uidvalidity
                );
                Cursor { uidvalidity, last_uid: 0, highestmodseq: None }
            }
            None => Cursor { uidvalidity, last_uid: 0, highestmodseq: None },
        };
        // Keys from an older UIDVALIDITY mean nothing any more.
        let stale: Vec<SourceKey> = known
            .iter()
            .filter(|k| !k.starts_with(&prefix))
            .map(|k| SourceKey { source: source.clone(), key: k.clone() })
            .collect();
        let known_uids: BTreeSet<u32> =
            known.iter().filter_map(|k| k.strip_prefix(&prefix)).filter_map(|u| u.parse().ok()).collect();

        // New messages: UIDs above the cursor (and since the configured date on a first sync).
        // UID 4294967295 is legal: nothing can come after it.
        let after = cursor.last_uid.checked_add(1);
        let nothing_new = after.is_none_or(|after| mailbox.uid_next.is_some_and(|next| next <= after));
        let mut new_uids: Vec<u32> = Vec::new();
        if !nothing_new {
            let mut query = format!("UID {}:*", after.unwrap_or(u32::MAX));
            if cursor.last_uid == 0
                && let Some(since) = self.cfg.since
            {
                query.push_str(&format!(" SINCE {}", since.format("%-d-%b-%Y")));
            }
            let found = self.timed("UID SEARCH", session.uid_search(&query)).await?;
            new_uids = found.into_iter().filter(|u| *u > cursor.last_uid).collect();
            new_uids.sort_unstable();
        }
        // Expunged messages: only when the counts say something went.
        let mut gone: Vec<SourceKey> = stale;
        let expected = known_uids.len() + new_uids.iter().filter(|u| !known_uids.contains(u)).count();
        if mailbox.exists as usize != expected && !known_uids.is_empty() {
            let all = self.timed("UID SEARCH ALL", session.uid_search("ALL")).await?;
            for uid in &known_uids {
                if !all.contains(uid) {
                    gone.push(SourceKey { source: source.clone(), key: format!("{uidvalidity}/{uid}") });
                }
            }
        }
        if !gone.is_empty() {
            let batch = Batch { source: source.clone(), gone, ..Batch::default() };
            counts.add(&ctx.pipeline.ingest(batch).await?);
        }
        ctx.progress.inc_length(new_uids.len() as u64);
        let mut inflight = crate::pipeline::AsyncBatchSender::new(ctx.pipeline.clone());
        for chunk in new_uids.chunks(FETCH_CHUNK) {
            if ctx.stopping() {
                break;
            }
            let set = uid_set(chunk);
            let fetches: Vec<Fetch> = {
                let mut stream = self
                    .timed("UID FETCH", session.uid_fetch(&set, "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])"))
                    .await?;
                // The timeout is per message, not per chunk: 200 large
                // messages on a slow line may take long, a silent server not.
                let mut all = Vec::with_capacity(chunk.len());
                while let Some(f) = self.timed("UID FETCH", stream.try_next()).await? {
                    all.push(f);
                }
                all
            };
            let mut batch = Batch { source: source.clone(), ..Batch::default() };
            let mut highest = cursor.last_uid;
            for f in &fetches {
                let Some(uid) = f.uid else { continue };
                if uid <= cursor.last_uid || !chunk.contains(&uid) {
                    continue;
                }
                highest = highest.max(uid);
                let Some(body) = f.body() else {
                    counts.skip("the server sent no body");
                    continue;
                };
                if body.len() as u64 > MAX_MESSAGE_BYTES {
                    counts.skip(format!("larger than {} MB", MAX_MESSAGE_BYTES >> 20));
                    continue;
                }
                let hints = ParseHints { file_time: f.internal_date().map(|d| d.with_timezone(&chrono::Utc)) };
                let capture = self.cfg.capture;
                match super::guarded(|| if capture { parse_captured(body, &hints) } else { parse(body, &hints) }) {
                    Ok(mut item) => {
                        if plan.outgoing {
                            item.direction = Some(Direction::Out);
                        }
                        batch
                            .items
                            .push((item, SourceKey { source: source.clone(), key: format!("{uidvalidity}/{uid}") }));
                    }
                    Err(e) => {
                        tracing::warn!("{}: cannot parse {} UID {uid}: {e}", self.what(), plan.name);
                        counts.skip(e.to_string());
                    }
                }
            }
            // Everything up to the chunk's last UID has been seen, fetched or not
            // (a UID the server no longer has was expunged in between).
            highest = highest.max(*chunk.last().unwrap_or(&highest));
            cursor.last_uid = highest;
            batch.cursor = Some(serde_json::to_string(&cursor).expect("cursor serialises"));
            ctx.progress.inc(chunk.len() as u64);
            // The next chunk is fetched while the pipeline stores this one;
            // batches land in order, each with its own cursor.
            inflight.send(batch).await?;
        }
        counts.add(&inflight.finish().await?);
        // Record the cursor even when nothing was new (first sync of an empty
        // mailbox, a new UIDVALIDITY with nothing above it).
        cursor.highestmodseq = mailbox.highest_modseq;
        let cursor_json = serde_json::to_string(&cursor).expect("cursor serialises");
        if stored_differs(&ctx.pipeline.cursor(&source).await?, &cursor_json) && !ctx.stopping() {
            let batch = Batch { source: source.clone(), cursor: Some(cursor_json), ..Batch::default() };
            ctx.pipeline.ingest(batch).await?;
        }
        Ok(counts)
    }

    /// Waits for news: IDLE on INBOX where the server offers it, else the poll interval.
    async fn wait_for_news(&mut self) -> Result<(), SourceError> {
        if !self.cfg.idle || !self.can_idle {
            tokio::time::sleep(self.cfg.poll_interval).await;
            return Ok(());
        }
        let Some(mut session) = self.session.take() else {
            // No connection: the next sync reconnects.
            return Ok(());
        };
        let inbox = self
            .plans
            .as_ref()
            .and_then(|p| p.iter().find(|p| p.name.eq_ignore_ascii_case("INBOX")).or(p.first()))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "INBOX".into());
        self.timed("EXAMINE", session.examine(&inbox)).await?;
        let mut idle = session.idle();
        self.timed("IDLE", idle.init()).await?;
        // Other mailboxes (Sent) are polled at the same time.
        let poll = tokio::time::sleep(self.cfg.poll_interval.min(IDLE_RENEW));
        let renew = tokio::time::sleep(IDLE_RENEW);
        let outcome = {
            let (wait, _stop) = idle.wait_with_timeout(IDLE_RENEW);
            tokio::select! {
                r = wait => Some(r),
                _ = poll => None,
                _ = renew => None,
            }
        };
        match outcome {
            Some(Ok(async_imap::extensions::idle::IdleResponse::NewData(_))) | None => {}
            Some(Ok(async_imap::extensions::idle::IdleResponse::Timeout)) => {}
            // We never interrupt it ourselves: this is the stream closing.
            Some(Ok(async_imap::extensions::idle::IdleResponse::ManualInterrupt)) => {
                return Err(self.unavailable("the server closed the connection during IDLE"));
            }
            Some(Err(e)) => return Err(self.unavailable(format!("IDLE: {e}"))),
        }
        match tokio::time::timeout(self.cfg.timeout, idle.done()).await {
            Ok(Ok(session)) => self.session = Some(session),
            // BYE or EOF: the next sync reconnects.
            Ok(Err(e)) => tracing::info!("{}: connection ended after IDLE ({e}); reconnecting", self.what()),
            Err(_) => tracing::info!("{}: no answer to DONE; reconnecting", self.what()),
        }
        Ok(())
    }
}

fn stored_differs(stored: &Option<String>, new: &str) -> bool {
    stored.as_deref() != Some(new)
}

impl Source for ImapSource {
    fn name(&self) -> &str {
        &self.cfg.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        Box::pin(async move {
            let r = self.sync_all(ctx).await;
            if r.is_err() {
                // A broken connection is never reused.
                self.session = None;
            }
            r
        })
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async move {
            let r = self.wait_for_news().await;
            if r.is_err() {
                self.session = None;
            }
            r
        })
    }
}

/// Runs `token_cmd` (first line of its output). Errors never contain the token.
pub fn read_token_cmd(cmd: &str) -> Result<String, String> {
    PasswordSource::Cmd(cmd.to_string()).read().map_err(|r| r.replace("password_cmd", "token_cmd"))
}

/// `[1,2,3,7,9,10]` → `1:3,7,9:10` (sorted input).
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut rest = uids.iter().copied().peekable();
    while let Some(start) = rest.next() {
        let mut end = start;
        while let Some(next) = rest.next_if(|n| Some(*n) == end.checked_add(1)) {
            end = next;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
    }
    out
}

/// Known keys of a mailbox, for tests and status.
pub fn uids_of(keys: &HashSet<String>, uidvalidity: u32) -> BTreeSet<u32> {
    let prefix = format!("{uidvalidity}/");
    keys.iter().filter_map(|k| k.strip_prefix(&prefix)).filter_map(|u| u.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn passwords_come_from_a_command_or_the_environment() {
        assert_eq!(PasswordSource::Cmd("printf 'se cret\\nsecond'".into()).read().unwrap(), "se cret");
        let e = PasswordSource::Cmd("echo oops >&2; exit 3".into()).read().unwrap_err();
        assert!(e.contains("password_cmd failed") && e.contains("oops"), "{e}");
        assert!(PasswordSource::Env("KRONIKA_SURELY_UNSET_VAR".into()).read().is_err());
    }
}
