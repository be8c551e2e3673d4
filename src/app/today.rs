//! Today: the agenda of the day and the next seven days (each client
//! meeting one click from its brief), reminders due, threads waiting for
//! our reply, clients gone silent; and the brief of one meeting. The web
//! pages (`/today`, `/brief/{client}`) and the CLI (`kronika today`,
//! `kronika brief`) show these same values.
//!
//! Days are local days (the machine's zone). Clients gone silent are found
//! as the reminder engine finds follow-ups (`reminders::Reminders::plan`):
//! the newest mail, note or document of a client (else the day it was
//! added) is older than `[reminders] follow_up_after`. When that is not
//! set (no follow-up reminders are planned), Today still lists clients
//! silent for [`DEFAULT_SILENCE_DAYS`] days and says it uses that default.

use chrono::{DateTime, Days, Duration, Local, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use crate::app::visibility::Viewer;
use crate::brief::{Brief, Occurrence};
use crate::config::Config;
use crate::model::{ClientId, ItemId};
use crate::store::{ItemRow, Result, Store, StoreError};

/// How long a client may stay silent when `[reminders] follow_up_after` is not set.
pub const DEFAULT_SILENCE_DAYS: i64 = 90;
/// At most this many waiting threads and silent clients are listed (the totals say how many there are).
pub const LIST_LIMIT: usize = 50;
/// Waiting threads are counted up to this many (then "1000+").
pub const WAITING_COUNTED: usize = 1_000;
/// Reminders due in this many hours are listed.
pub const REMINDER_HOURS: i64 = 24;

/// A client an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRef {
    pub id: i64,
    pub name: String,
}

/// Someone on a meeting: a name when the calendar gives one, and an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub name: Option<String>,
    pub address: String,
    /// The client contact this address belongs to, when it is one.
    pub contact: Option<String>,
}

impl Person {
    /// The name, else the address.
    pub fn label(&self) -> &str {
        self.name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(&self.address)
    }
}

/// A calendar event as Today and the brief show it.
#[derive(Debug, Clone, Serialize)]
pub struct Meeting {
    pub item_id: i64,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub all_day: bool,
    /// The local first day of an all-day event (`YYYY-MM-DD`).
    pub date: Option<String>,
    pub summary: String,
    pub location: String,
    /// The calendar's name in the config.
    pub calendar: String,
    /// The description the calendar gives (without the location line).
    pub description: String,
    /// The clients it is linked to (a client meeting); empty for one's own events.
    pub clients: Vec<ClientRef>,
    pub organizer: Option<Person>,
    pub attendees: Vec<Person>,
    /// Under way at the time asked (begun, not ended).
    pub in_progress: bool,
    /// Ended before the time asked.
    pub past: bool,
}

impl Meeting {
    /// The event of a stored item, as seen at `now`.
    pub fn of(row: &ItemRow, now: DateTime<Utc>) -> Meeting {
        let text = |key: &str| row.extra[key].as_str().unwrap_or("").to_string();
        let end =
            row.extra["end"].as_str().and_then(|e| DateTime::parse_from_rfc3339(e).ok()).map(|e| e.with_timezone(&Utc));
        let all_day = row.extra["all_day"].as_bool() == Some(true);
        let contact_of = |address: &str| {
            row.links.iter().filter(|l| l.evidence.eq_ignore_ascii_case(address)).find_map(|l| l.contact.clone())
        };
        let person = |p: &crate::model::Participant| Person {
            name: p.name.clone().filter(|n| !n.trim().is_empty()),
            address: p.address.clone(),
            contact: contact_of(&p.address),
        };
        let mut clients: Vec<ClientRef> = Vec::new();
        for l in &row.links {
            if !clients.iter().any(|c| c.id == l.client_id) {
                clients.push(ClientRef { id: l.client_id, name: l.client.clone() });
            }
        }
        let location = text("location");
        let mut description = row.body.trim().to_string();
        if !location.trim().is_empty() {
            let line = format!("Location: {}", location.trim());
            if let Some(rest) = description.strip_suffix(&line) {
                description = rest.trim_end().to_string();
            }
        }
        let ends = end.unwrap_or(row.date);
        Meeting {
            item_id: row.id,
            start: row.date,
            end,
            all_day,
            date: row.extra["date"].as_str().map(str::to_string),
            summary: row.subject.clone(),
            location,
            calendar: text("calendar"),
            description,
            clients,
            organizer: row.participants.iter().find(|p| p.role.as_str() == "organizer").map(person),
            attendees: row.participants.iter().filter(|p| p.role.as_str() == "attendee").map(person).collect(),
            in_progress: row.date <= now && now < ends,
            past: ends <= now,
        }
    }

    /// True when it is linked to at least one client.
    pub fn is_client_meeting(&self) -> bool {
        !self.clients.is_empty()
    }
}

/// A reminder on Today: pending and due soon (or overdue), or fired today.
#[derive(Debug, Clone, Serialize)]
pub struct DueReminder {
    pub id: i64,
    /// `event` (before a meeting) or `follow-up` (a silent client).
    pub kind: String,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub event_start: Option<DateTime<Utc>>,
    /// `pending`, `fired` or `missed`.
    pub state: String,
    /// Pending and already due (the daemon has not fired it: it is not running).
    pub overdue: bool,
    pub client: Option<ClientRef>,
    /// The event it is for.
    pub item_id: Option<i64>,
}

/// A thread waiting for our reply.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    /// The last mail of the thread, the one to answer.
    pub item_id: i64,
    pub thread_id: i64,
    pub date: DateTime<Utc>,
    pub subject: String,
    /// Its sender: name, else address.
    pub from: String,
    /// How long it has waited, whole days and the hours beyond them.
    pub waiting_days: i64,
    pub waiting_hours: i64,
    pub clients: Vec<ClientRef>,
}

/// A client we have not heard from for too long.
#[derive(Debug, Clone, Serialize)]
pub struct SilentClient {
    pub id: i64,
    pub name: String,
    /// The newest mail, note or document; `None`: nothing at all yet.
    pub last: Option<DateTime<Utc>>,
    /// `last`, else when the client was added.
    pub since: DateTime<Utc>,
    /// Whole days of silence.
    pub days: i64,
}

/// The clients gone silent, and how long counts as silent.
#[derive(Debug, Clone, Serialize)]
pub struct Silent {
    pub after_days: i64,
    /// False when `[reminders] follow_up_after` is not set and the default is used.
    pub configured: bool,
    /// Longest silence first, at most [`LIST_LIMIT`].
    pub clients: Vec<SilentClient>,
    pub total: usize,
}

/// Everything the Today page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Today {
    pub now: DateTime<Utc>,
    /// Today, the local date.
    pub date: NaiveDate,
    /// The last day of the week ahead (today + 7).
    pub week_end: NaiveDate,
    /// Today's events, earliest first (those that have ended included).
    pub today: Vec<Meeting>,
    /// The events of the next seven days after today.
    pub week: Vec<Meeting>,
    pub reminders: Vec<DueReminder>,
    /// Newest first, at most [`LIST_LIMIT`].
    pub waiting: Vec<Waiting>,
    /// How many threads wait, at most [`WAITING_COUNTED`]; with
    /// `waiting_more`, more than that.
    pub waiting_total: usize,
    pub waiting_more: bool,
    pub silent: Silent,
}

/// The start of a local day, in UTC (the earliest instant of the day when
/// a zone change makes midnight ambiguous or skipped).
fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_time(NaiveTime::MIN);
    match Local.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => Local
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc()),
    }
}

fn days_after(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

/// How long clients may stay silent: the config's follow-up period, else the default.
pub fn silence_period(config: &Config) -> (Duration, bool) {
    match config.reminders.as_ref().and_then(|r| r.follow_up_after) {
        Some(d) => (Duration::from_std(d).unwrap_or(Duration::MAX), true),
        None => (Duration::days(DEFAULT_SILENCE_DAYS), false),
    }
}

/// Today as seen at `now` by `viewer` (the subject of a mail it may not
/// read is left empty).
pub fn today(store: &Store, config: &Config, viewer: &Viewer, now: DateTime<Utc>) -> Result<Today> {
    let date = now.with_timezone(&Local).date_naive();
    let tomorrow = days_after(date, 1);
    let week_end = days_after(date, 7);
    let (start, split, end) = (day_start(date), day_start(tomorrow), day_start(days_after(date, 8)));
    // An event that began before today and is still under way belongs to today too.
    let mut today = Vec::new();
    let mut week = Vec::new();
    for mut row in store.items_in_order(&store.events_between(start - Duration::days(7), end, None)?)? {
        viewer.redact_item_in(store, &mut row)?;
        let m = Meeting::of(&row, now);
        if m.start >= split {
            week.push(m);
        } else if m.start >= start || m.end.is_some_and(|e| e > start) {
            today.push(m);
        }
    }

    let reminders = store
        .reminders_due(start, now + Duration::hours(REMINDER_HOURS))?
        .into_iter()
        .map(|r| DueReminder {
            overdue: r.state == "pending" && r.due_at <= now,
            id: r.id,
            kind: r.kind,
            title: r.title,
            due_at: r.due_at,
            event_start: r.event_start,
            state: r.state,
            client: r.client.map(|(id, name)| ClientRef { id, name }),
            item_id: r.item_id,
        })
        .collect();

    // The newest threads, and how many wait, counted up to a bound: a
    // decade of mail can hold hundreds of thousands of unanswered threads.
    let counted = store.waiting_count(WAITING_COUNTED + 1)?;
    let (waiting_total, waiting_more) = (counted.min(WAITING_COUNTED), counted > WAITING_COUNTED);
    let waiting = store
        .waiting_threads(None, Some(LIST_LIMIT))?
        .into_iter()
        .rev()
        .map(|mut w| {
            if viewer.is_restricted() {
                let sources = store.visibility_sources(w.item_id)?;
                if !viewer.access_of(sources.iter().map(String::as_str)).shows_subject() {
                    w.subject.clear();
                }
            }
            let waited = (now - w.date).max(Duration::zero());
            Ok(Waiting {
                item_id: w.item_id,
                thread_id: w.thread_id,
                date: w.date,
                subject: w.subject,
                from: w.from_name.filter(|n| !n.trim().is_empty()).or(w.from_address).unwrap_or_default(),
                waiting_days: waited.num_days(),
                waiting_hours: waited.num_hours() - waited.num_days() * 24,
                clients: w.clients.into_iter().map(|(id, name)| ClientRef { id, name }).collect(),
            })
        })
        .collect::<Result<_>>()?;

    let (period, configured) = silence_period(config);
    let mut silent: Vec<SilentClient> = store
        .client_last_interactions()?
        .into_iter()
        .filter_map(|c| {
            let since = c.last.unwrap_or(c.created);
            let due = since.checked_add_signed(period).unwrap_or(DateTime::<Utc>::MAX_UTC);
            (due <= now).then(|| SilentClient {
                id: c.id,
                name: c.name,
                last: c.last,
                since,
                days: (now - since).num_days(),
            })
        })
        .collect();
    silent.sort_by(|a, b| {
        a.since.cmp(&b.since).then_with(|| crate::text::fold(&a.name).cmp(&crate::text::fold(&b.name)))
    });
    let total = silent.len();
    silent.truncate(LIST_LIMIT);

    Ok(Today {
        now,
        date,
        week_end,
        today,
        week,
        reminders,
        waiting,
        waiting_total,
        waiting_more,
        silent: Silent { after_days: period.num_days(), configured, clients: silent, total },
    })
}

/// The first client meeting under way or ahead at `now` (within a year),
/// of `client` when given: its client and the event.
pub fn next_meeting(
    store: &Store,
    client: Option<ClientId>,
    now: DateTime<Utc>,
) -> Result<Option<(ClientId, ItemRow)>> {
    for id in store.events_between(now - Duration::hours(12), now + Duration::days(366), client)? {
        let row = store.item(id)?;
        let ended = row.extra["end"]
            .as_str()
            .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
            .map(|e| e.with_timezone(&Utc) <= now)
            .unwrap_or(row.date < now);
        if ended {
            continue;
        }
        let link = match client {
            Some(c) => row.links.iter().find(|l| l.client_id == c.0),
            None => row.links.first(),
        };
        if let Some(l) = link {
            return Ok(Some((ClientId(l.client_id), row)));
        }
    }
    Ok(None)
}

/// A brief for one meeting: the meeting (none when the client has none
/// ahead) and the client's brief (its `next_event` set to the meeting).
#[derive(Debug, Clone, Serialize)]
pub struct MeetingBrief {
    pub meeting: Option<Meeting>,
    pub brief: Brief,
}

/// Which meeting a brief is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// No meeting: the client's brief alone.
    None,
    /// The client's next meeting, when there is one.
    Next,
    /// This event, which must be the client's.
    Event(ItemId),
}

/// The brief of `client` for a meeting, as `viewer` may read it. An event
/// that is not a calendar event of this client is not found.
pub fn meeting_brief(
    store: &Store,
    config: &Config,
    viewer: &Viewer,
    client: ClientId,
    which: Which,
    now: DateTime<Utc>,
) -> Result<MeetingBrief> {
    let row = match which {
        Which::None => None,
        Which::Next => next_meeting(store, Some(client), now)?.map(|(_, r)| r),
        Which::Event(id) => {
            let row = store.item(id)?;
            let theirs =
                row.kind == "event" && row.deleted_at.is_none() && row.links.iter().any(|l| l.client_id == client.0);
            if !theirs {
                return Err(StoreError::NotFound { what: "meeting", query: id.to_string() });
            }
            Some(row)
        }
    };
    let mut row = row;
    if let Some(r) = row.as_mut() {
        viewer.redact_item_in(store, r)?;
    }
    let mut brief =
        Brief::build_with(store, &config.figures, client, now, &mut |s, r| viewer.redact_item_in(s, r).map(|_| ()))?;
    brief.next_event = row.as_ref().map(Occurrence::of);
    Ok(MeetingBrief { meeting: row.as_ref().map(|r| Meeting::of(r, now)), brief })
}
