//! Meetings written back to a calendar account: `kronika meeting add`
//! creates the event in the user's CalDAV calendar (`PUT` with
//! `If-None-Match: *`) or Microsoft 365 calendar (Graph `POST …/events`);
//! `kronika meeting cancel` marks it cancelled there (CalDAV:
//! `STATUS:CANCELLED`, a higher SEQUENCE, `If-Match`; Graph: `POST
//! …/cancel`). kronika sends no mail: a server that schedules (RFC 6638,
//! Exchange, Google) sends the invitations. The account is then synced
//! here, so the meeting is in the agenda when this returns, as the one
//! event the sync brings (its UID is its identity).
//!
//! Exchange deletes a meeting its organiser cancels; the cancelled copy is
//! kept under the derived source [`WRITTEN`], so the meeting stays in the
//! client's history, marked cancelled, as an invitation's cancel does.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::config::{CalendarAccount, Config};
use crate::model::ClientId;
use crate::sources::dav::{CalendarInfo, Dav, DavError};
use crate::sources::graph::Graph;
use crate::store::{NewItem, SourceKey, Store, StoreError};

use crate::store::WRITTEN_MEETINGS as WRITTEN;

#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error(
        "cannot plan a meeting: the config has no [[caldav]] or [[graph]] account to write it to (README: Calendar accounts)"
    )]
    NoAccount,
    #[error("cannot find the calendar account {0:?}; the config has {1}")]
    UnknownAccount(String, String),
    /// Input that cannot be used; `field` names it (`at`, `duration`,
    /// `with`, `calendar`).
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("cannot find the meeting {0:?} in any calendar account")]
    NotFound(String),
    #[error("{account}: {source}")]
    Dav { account: String, source: DavError },
    #[error(transparent)]
    Source(#[from] crate::sources::SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the meeting is written to {account}, but syncing it back failed: {reason}")]
    SyncBack { account: String, reason: String },
}

/// What `meeting add` is asked for.
#[derive(Debug, Clone)]
pub struct MeetingDraft {
    pub client: ClientId,
    /// Local time: `YYYY-MM-DD HH:MM` (or RFC 3339).
    pub at: String,
    /// `1h`, `90m`; default one hour.
    pub duration: Option<String>,
    pub title: Option<String>,
    /// Attendees' addresses; none: the client's first contact with one.
    pub with: Vec<String>,
    /// `ACCOUNT` or `ACCOUNT/CALENDAR`; default the first account's first
    /// calendar (a Microsoft 365 account's default calendar).
    pub calendar: Option<String>,
}

/// A meeting written to a calendar.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Planned {
    pub uid: String,
    pub calendar: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendees: Vec<String>,
}

/// A calendar account that meetings are written to.
#[derive(Clone, Copy)]
enum Account<'a> {
    CalDav(&'a CalendarAccount),
    Graph(&'a CalendarAccount),
}

impl<'a> Account<'a> {
    fn cfg(self) -> &'a CalendarAccount {
        match self {
            Account::CalDav(c) | Account::Graph(c) => c,
        }
    }

    fn signer(self, config: &Config) -> crate::sources::account::Signer {
        let c = self.cfg();
        crate::sources::account::Signer::new(&c.auth, format!("calendar account {}", c.name), &config.data_dir)
    }
}

fn accounts(config: &Config) -> Vec<Account<'_>> {
    config.caldav.iter().map(Account::CalDav).chain(config.graph.iter().map(Account::Graph)).collect()
}

fn account<'a>(config: &'a Config, name: Option<&str>) -> Result<Account<'a>, MeetingError> {
    let all = accounts(config);
    let first = *all.first().ok_or(MeetingError::NoAccount)?;
    match name {
        None => Ok(first),
        Some(n) => all.iter().copied().find(|a| a.cfg().name == n).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|a| a.cfg().name.as_str()).collect();
            MeetingError::UnknownAccount(n.to_string(), names.join(", "))
        }),
    }
}

/// Connects to a CalDAV account and finds its calendars (those the config names).
fn open_dav(config: &Config, acc: &CalendarAccount) -> Result<(Dav, Vec<CalendarInfo>), MeetingError> {
    let dav = Dav::new(&acc.url, Account::CalDav(acc).signer(config).credential(false)?, acc.timeout);
    let mut cals = dav.discover().map_err(|source| MeetingError::Dav { account: acc.name.clone(), source })?;
    keep_named(&mut cals, acc);
    Ok((dav, cals))
}

/// Connects to a Graph account and lists its calendars, the default first.
fn open_graph(config: &Config, acc: &CalendarAccount) -> Result<(Graph, Vec<CalendarInfo>), MeetingError> {
    let graph = Graph::new(&acc.url, Account::Graph(acc).signer(config).credential(false)?, acc.timeout);
    let mut cals = graph.calendars().map_err(|source| MeetingError::Dav { account: acc.name.clone(), source })?;
    keep_named(&mut cals, acc);
    Ok((graph, cals))
}

fn keep_named(cals: &mut Vec<CalendarInfo>, acc: &CalendarAccount) {
    match &acc.calendars {
        Some(names) => cals.retain(|c| names.iter().any(|n| c.is_named(n))),
        None => cals.retain(|c| !c.shared),
    }
}

/// The calendar `name` of `cals` (none: the first).
fn pick<'c>(cals: &'c [CalendarInfo], name: Option<&str>, account: &str) -> Result<&'c CalendarInfo, MeetingError> {
    match name {
        Some(k) => cals.iter().find(|c| c.display_name.eq_ignore_ascii_case(k) || c.slug().eq_ignore_ascii_case(k)),
        None => cals.first(),
    }
    .ok_or_else(|| {
        let have: Vec<&str> = cals.iter().map(|c| c.display_name.as_str()).collect();
        MeetingError::Invalid {
            field: "calendar",
            message: format!(
                "cannot find the calendar {:?} in {account}; it has {}",
                name.unwrap_or("(any)"),
                if have.is_empty() { "none".to_string() } else { have.join(", ") }
            ),
        }
    })
}

/// Creates the meeting in the calendar, then syncs the account.
pub fn add(store: &Store, config: &Config, d: &MeetingDraft) -> Result<Planned, MeetingError> {
    let client = store.client(d.client)?;
    let start = crate::notes::parse_when(&d.at).ok_or_else(|| MeetingError::Invalid {
        field: "at",
        message: format!("cannot read the time {:?}: use YYYY-MM-DD HH:MM", d.at),
    })?;
    let length = match d.duration.as_deref() {
        None => Duration::hours(1),
        Some(s) => crate::config::parse_duration(s)
            .filter(|d| !d.is_zero() && d.as_secs() <= 14 * 86_400)
            .and_then(|d| Duration::from_std(d).ok())
            .ok_or_else(|| MeetingError::Invalid {
                field: "duration",
                message: format!("cannot read the duration {s:?}: use 30m, 1h or 90m"),
            })?,
    };
    let end = start
        .checked_add_signed(length)
        .ok_or_else(|| MeetingError::Invalid { field: "at", message: "the meeting ends too late".into() })?;
    let mut attendees = Vec::new();
    for a in &d.with {
        let n = crate::address::normalize(a).ok_or_else(|| MeetingError::Invalid {
            field: "with",
            message: format!("cannot invite {a:?}: it is not a mail address"),
        })?;
        attendees.push(n);
    }
    if attendees.is_empty() {
        let contact = store.contacts(d.client)?.into_iter().find_map(|c| c.emails.first().cloned());
        attendees.push(contact.ok_or_else(|| MeetingError::Invalid {
            field: "with",
            message: format!(
                "cannot plan a meeting with {}: it has no contact with an address; give --with ADDRESS",
                client.name
            ),
        })?);
    }
    let (acc_name, cal_name) = match d.calendar.as_deref() {
        Some(c) => match c.split_once('/') {
            Some((a, k)) => (Some(a), Some(k)),
            None => (Some(c), None),
        },
        None => (None, None),
    };
    let acc = account(config, acc_name)?;
    let title = d.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| format!("Schůzka: {}", client.name));
    let uid = new_uid(&client.name);
    let name = acc.cfg().name.clone();
    let dav_err = |source| MeetingError::Dav { account: name.clone(), source };
    let (uid, calendar) = match acc {
        Account::CalDav(c) => {
            let (dav, cals) = open_dav(config, c)?;
            let cal = pick(&cals, cal_name, &c.name)?;
            let organizer = config.own_addresses.first().cloned();
            let ics = event_ics(&uid, &title, start, end, organizer.as_deref(), &attendees);
            let url = format!("{}/{uid}.ics", cal.url.trim_end_matches('/'));
            dav.put(&url, &ics, true, None).map_err(dav_err)?;
            (uid, cal.display_name.clone())
        }
        Account::Graph(c) => {
            let (graph, cals) = open_graph(config, c)?;
            let cal = pick(&cals, cal_name, &c.name)?;
            let created =
                graph.create(&cal.url, &graph_event(&uid, &title, start, end, &attendees)).map_err(dav_err)?;
            let uid = created
                .get("iCalUId")
                .and_then(Value::as_str)
                .map(crate::sources::graph::ical_uid)
                .filter(|u| !u.is_empty())
                .unwrap_or(uid);
            (uid, cal.display_name.clone())
        }
    };
    sync_back(config, acc)?;
    Ok(Planned { uid, calendar: format!("{name}/{calendar}"), start, end, attendees })
}

/// The event as Graph takes it (times in UTC). `transactionId` makes a
/// retried POST create one event, not two.
fn graph_event(uid: &str, title: &str, start: DateTime<Utc>, end: DateTime<Utc>, attendees: &[String]) -> Value {
    let at = |d: DateTime<Utc>| json!({"dateTime": d.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
    json!({
        "subject": title,
        "start": at(start),
        "end": at(end),
        "attendees": attendees
            .iter()
            .map(|a| json!({"emailAddress": {"address": a}, "type": "required"}))
            .collect::<Vec<_>>(),
        "transactionId": uid,
    })
}

/// A cancelled meeting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cancelled {
    pub uid: String,
    pub calendar: String,
}

/// Marks the meeting with `uid` cancelled in the calendar that holds it,
/// then syncs that account.
pub fn cancel(store: &Store, config: &Config, uid: &str) -> Result<Cancelled, MeetingError> {
    if accounts(config).is_empty() {
        return Err(MeetingError::NoAccount);
    }
    // An account that cannot be reached is passed over; its error is told
    // when no other account has the meeting.
    let mut unreachable = None;
    for acc in &config.caldav {
        let (dav, cals) = match open_dav(config, acc) {
            Ok(x) => x,
            Err(e) => {
                unreachable.get_or_insert(e);
                continue;
            }
        };
        let dav_err = |source| MeetingError::Dav { account: acc.name.clone(), source };
        for cal in &cals {
            let Some(found) = dav.find_uid(&cal.url, uid).map_err(dav_err)? else { continue };
            let data = found.data.unwrap_or_default();
            let url = dav.url_of(&cal.url, &found.href);
            let cancelled = cancelled_ics(&data);
            dav.put(&url, &cancelled, false, found.etag.as_deref()).map_err(dav_err)?;
            sync_back(config, Account::CalDav(acc))?;
            return Ok(Cancelled { uid: uid.to_string(), calendar: format!("{}/{}", acc.name, cal.display_name) });
        }
    }
    // Graph: the event's id is the key its calendar's source holds.
    let keys = store.event_keys(uid)?;
    for acc in &config.graph {
        let prefix = format!("graph:{}/", acc.name);
        let Some(key) = keys.iter().find(|k| k.source.starts_with(&prefix)) else { continue };
        let (graph, cals) = open_graph(config, acc)?;
        let dav_err = |source| MeetingError::Dav { account: acc.name.clone(), source };
        let event = graph.event(&key.key).map_err(dav_err)?;
        let target = event.get("seriesMasterId").and_then(Value::as_str).unwrap_or(&key.key).to_string();
        graph.cancel(&target).map_err(dav_err)?;
        let calendar = cals
            .iter()
            .find(|c| key.source == crate::sources::graph::source_id(&acc.name, c))
            .map_or_else(|| acc.name.clone(), |c| format!("{}/{}", acc.name, c.display_name));
        keep_cancelled(config, &calendar, &event)?;
        sync_back(config, Account::Graph(acc))?;
        return Ok(Cancelled { uid: uid.to_string(), calendar });
    }
    Err(unreachable.unwrap_or_else(|| MeetingError::NotFound(uid.to_string())))
}

/// Keeps the cancelled copy of a Graph event under [`WRITTEN`].
fn keep_cancelled(config: &Config, calendar: &str, event: &Value) -> Result<(), MeetingError> {
    let local = crate::sources::ics::local_zone();
    let Ok(Some(mut o)) = crate::sources::graph::occurrence(event, local.into()) else { return Ok(()) };
    o.status = Some("CANCELLED".into());
    o.dtstamp = Some(Utc::now());
    let item = crate::sources::graph::graph_item(calendar, &o);
    let key = SourceKey { source: WRITTEN.into(), key: crate::calendar::occurrence_key(&o) };
    super::edit::sync_now(config, Box::new(Written(vec![(item, key)])))
        .map_err(|(account, reason)| MeetingError::SyncBack { account, reason })
}

/// A one-pass source that stores what kronika wrote.
struct Written(Vec<(NewItem, SourceKey)>);

impl crate::sources::Source for Written {
    fn name(&self) -> &str {
        WRITTEN
    }

    fn sync<'a>(
        &'a mut self,
        ctx: &'a crate::sources::SyncContext,
    ) -> crate::sources::BoxFuture<'a, Result<crate::pipeline::Counts, crate::sources::SourceError>> {
        let items = std::mem::take(&mut self.0);
        Box::pin(async move {
            let batch = crate::pipeline::Batch { source: WRITTEN.into(), items, replace: true, ..Default::default() };
            Ok(ctx.pipeline.ingest(batch).await?)
        })
    }

    fn changed(&mut self) -> crate::sources::BoxFuture<'_, Result<(), crate::sources::SourceError>> {
        Box::pin(std::future::pending())
    }
}

/// Syncs one account now, so the meeting is stored as its calendar has it.
fn sync_back(config: &Config, acc: Account<'_>) -> Result<(), MeetingError> {
    let source: Box<dyn crate::sources::Source> = match acc {
        Account::CalDav(c) => Box::new(crate::sources::caldav::CalDavSource::new(c.clone(), &config.data_dir)),
        Account::Graph(c) => Box::new(crate::sources::graph::GraphSource::new(c.clone(), &config.data_dir)),
    };
    super::edit::sync_now(config, source).map_err(|(account, reason)| MeetingError::SyncBack { account, reason })
}

/// A UID no other meeting has: time, process and the client, hashed.
fn new_uid(client: &str) -> String {
    let seed = format!("{}|{}|{client}", Utc::now().timestamp_nanos_opt().unwrap_or_default(), std::process::id());
    let hash = crate::text::sha256_hex(seed.as_bytes());
    format!("{}@kronika", hash.get(..32).unwrap_or(&hash))
}

/// The event as iCalendar (times in UTC).
fn event_ics(
    uid: &str,
    title: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    organizer: Option<&str>,
    attendees: &[String],
) -> String {
    use icalendar::{Component, EventLike, Property};
    let mut ev = icalendar::Event::new();
    ev.uid(uid).summary(title).starts(start).ends(end).sequence(0).status(icalendar::EventStatus::Confirmed);
    if let Some(o) = organizer {
        ev.append_property(Property::new("ORGANIZER", format!("mailto:{o}")));
    }
    for a in attendees {
        let mut p = Property::new("ATTENDEE", format!("mailto:{a}"));
        p.add_parameter("PARTSTAT", "NEEDS-ACTION")
            .add_parameter("RSVP", "TRUE")
            .add_parameter("ROLE", "REQ-PARTICIPANT");
        ev.append_multi_property(p);
    }
    let mut cal = icalendar::Calendar::new();
    cal.push(ev.done());
    // The crate names itself as the product; the server shows ours.
    cal.to_string()
        .replace("PRODID:ICALENDAR-RS", concat!("PRODID:-//kronika//kronika ", env!("CARGO_PKG_VERSION"), "//EN"))
}

/// The same object, every VEVENT of it cancelled: STATUS:CANCELLED, a
/// SEQUENCE one higher, a new DTSTAMP (on unfolded lines).
pub fn cancelled_ics(ics: &str) -> String {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "");
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::new();
    let mut in_event = false;
    let (mut had_status, mut had_sequence) = (false, false);
    for line in unfolded.lines() {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("BEGIN:VEVENT") {
            in_event = true;
            had_status = false;
            had_sequence = false;
        }
        if in_event && upper.starts_with("END:VEVENT") {
            if !had_status {
                out.push_str("STATUS:CANCELLED\r\n");
            }
            if !had_sequence {
                out.push_str("SEQUENCE:1\r\n");
            }
            in_event = false;
        }
        if in_event && (upper.starts_with("STATUS:") || upper.starts_with("STATUS;")) {
            had_status = true;
            out.push_str("STATUS:CANCELLED\r\n");
            continue;
        }
        if in_event && (upper.starts_with("SEQUENCE:") || upper.starts_with("SEQUENCE;")) {
            had_sequence = true;
            let n: i64 = line.split_once(':').and_then(|(_, v)| v.trim().parse().ok()).unwrap_or(0);
            out.push_str(&format!("SEQUENCE:{}\r\n", n.saturating_add(1)));
            continue;
        }
        if in_event && (upper.starts_with("DTSTAMP:") || upper.starts_with("DTSTAMP;")) {
            out.push_str(&format!("DTSTAMP:{stamp}\r\n"));
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cancelled_copy_is_newer_and_cancelled() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:2\r\nSTATUS:CONFIRMED\r\nSUMMARY:Long sum\r\n mary\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20261210T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let out = super::cancelled_ics(ics);
        assert_eq!(out.matches("STATUS:CANCELLED").count(), 2, "{out}");
        assert!(out.contains("SEQUENCE:3") && out.contains("SEQUENCE:1"), "{out}");
        assert!(out.contains("SUMMARY:Long summary") && !out.contains("CONFIRMED"), "{out}");
    }
}
