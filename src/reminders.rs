//! Reminders: before every upcoming event linked to a client, at each lead
//! time, carrying the client's brief; and follow-ups for clients silent too
//! long. Plans and states live in the store, so each reminder fires once
//! across restarts, crashes and clock jumps, and each sink gets it once.
//!
//! The loop is `plan` (events and silent clients → pending reminders; the
//! served ICS feed is rewritten), `fire_due` (due reminders fire, or are
//! recorded as missed when their event has begun), `deliver` (pending
//! deliveries to each sink, failures retried with backoff), then sleep until
//! the next one is due (at most a minute). Time comes from a [`Clock`], so
//! tests run it on tokio's paused clock.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::brief::{brief_json, occurrence_json, render_brief};
use crate::config::RemindersConfig;
use crate::model::{ClientId, ItemId};
use crate::shutdown::Shutdown;
use crate::store::{Planned, Store, StoreError};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that follows tokio's (pausable) time from a fixed start, for tests.
pub struct TokioClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(base: DateTime<Utc>) -> TokioClock {
        TokioClock { base, start: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        later(self.base, self.start.elapsed())
    }
}

/// `t + d`, saturating at the end of time (dates come from outside).
fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d).ok().and_then(|d| t.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t - d`, saturating at the start of time.
fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d).ok().and_then(|d| t.checked_sub_signed(d)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Why a sink did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Delivery failed; it is tried again later with backoff.
    #[error("{0}")]
    Failed(String),
    /// kronika is stopping: the delivery stays pending for the next start
    /// and does not count as a failed try.
    #[error("cannot deliver now: kronika is stopping")]
    Stopped,
}

/// Where a fired reminder goes.
pub trait Sink: Send {
    /// A stable name (the delivery record's key).
    fn name(&self) -> String;
    fn deliver(&self, reminder: &Value) -> Result<(), SinkError>;
}

/// Standard output (one JSON line) and the log.
pub struct StdoutSink;

impl Sink for StdoutSink {
    fn name(&self) -> String {
        "stdout".into()
    }
    fn deliver(&self, reminder: &Value) -> Result<(), SinkError> {
        tracing::info!("reminder: {}", reminder["title"].as_str().unwrap_or(""));
        println!("{reminder}");
        Ok(())
    }
}

/// A JSON POST to a URL, given up after `timeout`.
pub struct WebhookSink {
    pub url: String,
    pub timeout: Duration,
}

impl Sink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook {}", crate::sources::ics::redact(&self.url))
    }
    fn deliver(&self, reminder: &Value) -> Result<(), SinkError> {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(self.timeout)).build().into();
        agent.post(&self.url).header("Content-Type", "application/json").send(reminder.to_string()).map(|_| ()).map_err(
            |e| {
                SinkError::Failed(format!(
                    "cannot POST to {}: {}",
                    crate::sources::ics::redact(&self.url),
                    crate::sources::ics::redact(&e.to_string())
                ))
            },
        )
    }
}

/// A program run without a shell, the reminder as JSON on its standard
/// input; stopped after `timeout`, or when kronika stops.
pub struct CommandSink {
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub stop: Shutdown,
}

impl Sink for CommandSink {
    fn name(&self) -> String {
        format!("command {}", self.argv.join(" "))
    }
    fn deliver(&self, reminder: &Value) -> Result<(), SinkError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(SinkError::Failed("cannot run an empty command".into()));
        };
        let mut command = std::process::Command::new(program);
        command.args(args);
        let input = reminder.to_string();
        match crate::process::run_bounded(command, Some(input.as_bytes()), self.timeout, Some(&self.stop)) {
            Ok(f) if f.status.success() => Ok(()),
            Ok(f) => Err(SinkError::Failed(format!(
                "{program} failed ({}): {}",
                f.status,
                crate::text::ellipsize(String::from_utf8_lossy(&f.stderr).trim(), 300)
            ))),
            Err(crate::process::RunError::Stopped { .. }) => Err(SinkError::Stopped),
            Err(e) => Err(SinkError::Failed(e.to_string())),
        }
    }
}

/// The sinks the config asks for; commands stop when `stop` is triggered.
pub fn sinks(config: &RemindersConfig, stop: &Shutdown) -> Vec<Box<dyn Sink>> {
    let mut out: Vec<Box<dyn Sink>> = Vec::new();
    if config.stdout {
        out.push(Box::new(StdoutSink));
    }
    for url in &config.webhooks {
        out.push(Box::new(WebhookSink { url: url.clone(), timeout: config.sink_timeout }));
    }
    for argv in &config.commands {
        out.push(Box::new(CommandSink { argv: argv.clone(), timeout: config.sink_timeout, stop: stop.clone() }));
    }
    out
}

/// `1d`, `30m`, `1h30m` for a lead time.
pub fn lead_label(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60) {
        (d, 0, 0) if d > 0 => format!("{d}d"),
        (0, h, 0) if h > 0 => format!("{h}h"),
        (0, 0, m) => format!("{m}m"),
        (d, h, m) => format!("{d}d{h}h{m}m"),
    }
}

/// The reminder engine.
pub struct Reminders {
    config: RemindersConfig,
    figures: crate::figures::FiguresConfig,
    store: Store,
    clock: Arc<dyn Clock>,
    sinks: Vec<Box<dyn Sink>>,
    /// The served ICS feed is written here.
    feed_path: Option<PathBuf>,
}

impl Reminders {
    pub fn new(
        config: RemindersConfig,
        store: Store,
        clock: Arc<dyn Clock>,
        sinks: Vec<Box<dyn Sink>>,
        feed_path: Option<PathBuf>,
    ) -> Reminders {
        Reminders { config, figures: crate::figures::FiguresConfig::default(), store, clock, sinks, feed_path }
    }

    /// How the briefs compute figures (the config's `[figures]`).
    pub fn with_figures(mut self, figures: crate::figures::FiguresConfig) -> Reminders {
        self.figures = figures;
        self
    }

    /// Plans reminders for upcoming client events and silent clients, and
    /// rewrites the ICS feed.
    pub fn plan(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut plan = Vec::new();
        let events = self.store.events_between(now, later(now, self.config.horizon), None)?;
        let mut upcoming = Vec::new();
        for id in events {
            let row = self.store.item(id)?;
            let Some(link) = row.links.first() else { continue };
            for lead in &self.config.lead_times {
                let due = earlier(row.date, *lead);
                plan.push(Planned {
                    key: format!("event:{}:{}", row.id, lead.as_secs()),
                    kind: "event".into(),
                    item_id: Some(row.id),
                    client_id: Some(link.client_id),
                    title: format!(
                        "{} in {}: {} ({})",
                        row.subject,
                        lead_label(*lead),
                        link.client,
                        row.date.to_rfc3339()
                    ),
                    due_at: due,
                    event_start: Some(row.date),
                });
            }
            upcoming.push(row);
        }
        self.store.plan_reminders("event", &plan)?;
        if let Some(period) = self.config.follow_up_after {
            let mut follow = Vec::new();
            for c in self.store.client_last_interactions()? {
                let since = c.last.unwrap_or(c.created);
                follow.push(Planned {
                    // Keyed by the last interaction: once per silence.
                    key: format!("follow-up:{}:{}", c.id, since.timestamp()),
                    kind: "follow-up".into(),
                    item_id: None,
                    client_id: Some(c.id),
                    title: format!("Get in touch with {}: nothing since {}", c.name, since.format("%Y-%m-%d")),
                    due_at: later(since, period),
                    event_start: None,
                });
            }
            self.store.plan_reminders("follow-up", &follow)?;
        }
        if let Some(path) = &self.feed_path {
            let ics = feed_ics(&self.store, &self.figures, &upcoming, &self.config.lead_times)?;
            let tmp = path.with_extension("ics.tmp");
            if std::fs::write(&tmp, ics).and_then(|_| std::fs::rename(&tmp, path)).is_err() {
                tracing::warn!("cannot write the reminder feed {}", path.display());
            }
        }
        Ok(())
    }

    /// Fires what is due (or records it as missed); returns how many fired.
    pub fn fire_due(&mut self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let names: Vec<String> = self.sinks.iter().map(|s| s.name()).collect();
        let mut fired = 0;
        for r in self.store.due_reminders(now)? {
            if r.event_start.is_some_and(|s| s <= now) {
                // kronika was down when it was due and the event has begun.
                if self.store.miss_reminder(r.id, now)? {
                    tracing::warn!("missed reminder: {}", r.title);
                }
                continue;
            }
            let brief = match r.client_id {
                Some(c) => brief_json(&self.store, &self.figures, ClientId(c)).unwrap_or(Value::Null),
                None => Value::Null,
            };
            let event = match r.item_id {
                Some(i) => self.store.item(ItemId(i)).map(|row| occurrence_json(&row)).unwrap_or(Value::Null),
                None => Value::Null,
            };
            let payload = json!({
                "id": r.id,
                "kind": r.kind,
                "title": r.title,
                "due_at": r.due_at.to_rfc3339(),
                "event": event,
                "brief": brief,
                "brief_text": if brief.is_null() { String::new() } else { render_brief(&brief, false) },
            });
            if self.store.fire_reminder(r.id, now, &payload.to_string(), &names)? {
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// Delivers pending deliveries; a failure is retried later with backoff
    /// (1 minute doubling, 8 tries), then recorded as failed.
    pub fn deliver(&mut self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut done = 0;
        for (id, sink_name, payload, attempts) in self.store.pending_deliveries(now)? {
            let Some(sink) = self.sinks.iter().find(|s| s.name() == sink_name) else {
                self.store.delivery_result(id, &sink_name, Some("this sink is no longer configured"), None)?;
                continue;
            };
            let value: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
            match sink.deliver(&value) {
                Ok(()) => {
                    self.store.delivery_result(id, &sink_name, None, None)?;
                    done += 1;
                }
                // Stays pending, untouched: delivered at the next start.
                Err(SinkError::Stopped) => return Ok(done),
                Err(SinkError::Failed(e)) => {
                    let retry = (attempts < 7)
                        .then(|| later(now, Duration::from_secs(60 << attempts.clamp(0, 10).unsigned_abs())));
                    tracing::warn!("{e}{}", if retry.is_some() { "; retrying later" } else { "; giving up" });
                    self.store.delivery_result(id, &sink_name, Some(&e), retry)?;
                }
            }
        }
        Ok(done)
    }

    /// One round: plan, fire, deliver. Returns when the next round is due.
    pub fn round(&mut self) -> Result<Duration, StoreError> {
        // What came due while kronika was down is settled (fired or missed)
        // before planning, which drops reminders of events no longer ahead.
        self.fire_due()?;
        self.plan()?;
        self.fire_due()?;
        self.deliver()?;
        let now = self.clock.now();
        let next = self.store.next_reminder_due()?;
        let wait = next.map(|n| (n - now).to_std().unwrap_or(Duration::ZERO)).unwrap_or(Duration::from_secs(60));
        // Re-plan at least every minute: calendars and mail change.
        Ok(wait.clamp(Duration::from_millis(10), Duration::from_secs(60)))
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // SQLite and blocking sinks (a webhook) must not stall other tasks.
            let multi =
                tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread;
            let result = if multi { tokio::task::block_in_place(|| self.round()) } else { self.round() };
            let wait = result.unwrap_or_else(|e| {
                tracing::error!("reminders: {e}");
                Duration::from_secs(60)
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}

/// The ICS feed of upcoming client meetings: the brief in the description,
/// a VALARM at each lead time, so the user's calendar reminds them itself.
pub fn feed_ics(
    store: &Store,
    figures: &crate::figures::FiguresConfig,
    upcoming: &[crate::store::ItemRow],
    leads: &[Duration],
) -> Result<String, StoreError> {
    use icalendar::{Alarm, Calendar, Component, EventLike};
    let mut cal = Calendar::new();
    cal.name("kronika: client meetings");
    for row in upcoming {
        let Some(link) = row.links.first() else { continue };
        let brief = brief_json(store, figures, ClientId(link.client_id))?;
        let end = row
            .extra
            .get("end")
            .and_then(Value::as_str)
            .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
            .map(|e| e.with_timezone(&Utc))
            .unwrap_or(later(row.date, Duration::from_secs(3600)));
        let uid = format!(
            "{}/{}@kronika",
            row.extra.get("uid").and_then(Value::as_str).unwrap_or(""),
            row.extra.get("recurrence_id").and_then(Value::as_str).unwrap_or("-")
        );
        let mut event = icalendar::Event::new();
        event
            .uid(&uid)
            .summary(&format!("{} [{}]", row.subject, link.client))
            .description(&render_brief(&brief, false))
            .starts(row.date)
            .ends(end);
        if let Some(l) = row.extra.get("location").and_then(Value::as_str).filter(|l| !l.is_empty()) {
            event.location(l);
        }
        for lead in leads {
            let before = -chrono::Duration::from_std(*lead).unwrap_or_default();
            event.alarm(Alarm::display(&format!("{} ({})", row.subject, link.client), before));
        }
        cal.push(event.done());
    }
    Ok(cal.done().to_string())
}

/// The feed's secret token: `feed_token` from the config, else the one
/// kronika generated and keeps in `<data_dir>/feed-token` (made on first
/// use, readable by its owner only). `None` when no feed is served.
pub fn feed_token(config: &crate::config::Config, rc: &RemindersConfig) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    if rc.serve.is_none() {
        return Ok(None);
    }
    if let Some(t) = &rc.feed_token {
        return Ok(Some(t.clone()));
    }
    let path = config.data_dir.join("feed-token");
    if let Ok(t) = std::fs::read_to_string(&path)
        && !t.trim().is_empty()
    {
        return Ok(Some(t.trim().to_string()));
    }
    let token = new_token().with_context(|| "cannot make a token for the reminder feed")?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the data folder {}", config.data_dir.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(&path)
        .and_then(|mut f| f.write_all(token.as_bytes()))
        .with_context(|| format!("cannot keep the feed token in {}", path.display()))?;
    Ok(Some(token))
}

/// 128 random bits, hex.
fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// The feed's address for the user (with its token).
pub fn feed_url(addr: std::net::SocketAddr, token: Option<&str>) -> String {
    match token {
        Some(t) => format!("http://{addr}/kronika.ics?token={t}"),
        None => format!("http://{addr}/kronika.ics"),
    }
}

/// Is this request allowed to read the feed? On a loopback address anyone
/// on the machine may; elsewhere only with the token (`?token=` or as the
/// first path segment: `/TOKEN/kronika.ics`).
fn authorised(request_target: &str, token: Option<&str>, loopback: bool) -> bool {
    let Some(token) = token else { return loopback };
    let (path, query) = request_target.split_once('?').unwrap_or((request_target, ""));
    let given = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .or_else(|| path.trim_start_matches('/').split('/').next().filter(|s| !s.is_empty()));
    let matches = given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()));
    matches || loopback
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves the feed file over HTTP (GET and HEAD) until `shutdown`. On an
/// address other than loopback a request needs the token; without it the
/// answer is 403.
pub async fn serve_feed(
    addr: std::net::SocketAddr,
    path: PathBuf,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let loopback = addr.ip().is_loopback();
    if !loopback && token.is_none() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("cannot serve the feed on {addr} without a token: it carries client briefs"),
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let shown = listener.local_addr()?;
    if loopback {
        tracing::info!("serving the reminder feed at {}", feed_url(shown, None));
    } else {
        tracing::info!(
            "serving the reminder feed at http://{shown}/kronika.ics?token=… (`kronika config check` shows the address with its token)"
        );
    }
    let token: Arc<Option<String>> = Arc::new(token);
    tokio::pin!(shutdown);
    loop {
        let (mut socket, _) = tokio::select! {
            a = listener.accept() => a?,
            _ = &mut shutdown => return Ok(()),
        };
        let path = path.clone();
        let token = token.clone();
        tokio::spawn(async move {
            // The request head, however it is split over packets (8 KB, 5 s at most).
            let mut head = Vec::new();
            let read_head = async {
                let mut chunk = [0u8; 2048];
                while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), read_head).await;
            let request = String::from_utf8_lossy(&head).into_owned();
            let mut words = request.lines().next().unwrap_or("").split(' ');
            let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let plain = |status: &str, text: &str| {
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                )
                .into_bytes()
            };
            let response = if method != "GET" && method != "HEAD" {
                plain("405 Method Not Allowed", "")
            } else if !authorised(target, token.as_deref(), loopback) {
                plain(
                    "403 Forbidden",
                    "cannot serve the feed without its token: add ?token=… from `kronika config check`\n",
                )
            } else {
                let body = tokio::fs::read(&path).await.unwrap_or_default();
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: private, no-store\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if method == "GET" {
                    r.extend_from_slice(&body);
                }
                r
            };
            let _ = socket.write_all(&response).await;
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lead_labels() {
        use std::time::Duration;
        assert_eq!(super::lead_label(Duration::from_secs(86_400)), "1d");
        assert_eq!(super::lead_label(Duration::from_secs(1800)), "30m");
        assert_eq!(super::lead_label(Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn the_feed_needs_its_token_off_loopback() {
        use super::authorised;
        let t = Some("abc123");
        assert!(authorised("/kronika.ics?token=abc123", t, false));
        assert!(authorised("/abc123/kronika.ics", t, false));
        assert!(!authorised("/kronika.ics", t, false));
        assert!(!authorised("/kronika.ics?token=abc124", t, false));
        assert!(!authorised("/kronika.ics?token=", t, false));
        assert!(!authorised("/kronika.ics?token=abc1234", t, false));
        // Loopback: the token is optional.
        assert!(authorised("/kronika.ics", t, true));
        assert!(authorised("/kronika.ics", None, true));
        assert!(!authorised("/kronika.ics", None, false));
    }
}
