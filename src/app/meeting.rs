//! Meetings written back to a calendar account: `kronika meeting add`
//! creates the event in the user's CalDAV calendar (`PUT` with
//! `If-None-Match: *`), `kronika meeting cancel` marks it cancelled there
//! (`STATUS:CANCELLED`, a higher SEQUENCE, `If-Match`). kronika sends no mail:
//! a server that schedules (RFC 6638) sends the invitations. The account is
//! then synced here, so the meeting is in the agenda when this returns, as
//! the one event the sync brings (its UID is its identity).

use chrono::{DateTime, Duration, Utc};

use crate::config::{CalDavConfig, Config};
use crate::model::ClientId;
use crate::sources::dav::{Dav, DavError};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error("cannot plan a meeting: the config has no [[caldav]] account to write it to (README: Calendar accounts)")]
    NoAccount,
    #[error("cannot find the calendar account {0:?}; the config has {1}")]
    UnknownAccount(String, String),
    #[error("{0}")]
    Invalid(String),
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
    /// `ACCOUNT` or `ACCOUNT/CALENDAR`; default the first account's first calendar.
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

fn account<'a>(config: &'a Config, name: Option<&str>) -> Result<&'a CalDavConfig, MeetingError> {
    let first = config.caldav.first().ok_or(MeetingError::NoAccount)?;
    match name {
        None => Ok(first),
        Some(n) => config.caldav.iter().find(|c| c.name == n).ok_or_else(|| {
            let names: Vec<&str> = config.caldav.iter().map(|c| c.name.as_str()).collect();
            MeetingError::UnknownAccount(n.to_string(), names.join(", "))
        }),
    }
}

/// Connects to an account and finds its calendars (those the config names).
fn open(config: &Config, acc: &CalDavConfig) -> Result<(Dav, Vec<crate::sources::dav::CalendarInfo>), MeetingError> {
    let what = format!("CalDAV account {}", acc.name);
    let signer = crate::sources::caldav::Signer::new(&acc.auth, what, &config.data_dir);
    let dav = Dav::new(&acc.url, signer.credential(false)?, acc.timeout);
    let dav_err = |source| MeetingError::Dav { account: acc.name.clone(), source };
    let mut cals = dav.discover().map_err(dav_err)?;
    if let Some(names) = &acc.calendars {
        cals.retain(|c| {
            names.iter().any(|n| c.display_name.eq_ignore_ascii_case(n) || c.slug().eq_ignore_ascii_case(n))
        });
    }
    Ok((dav, cals))
}

/// Creates the meeting in the calendar, then syncs the account.
pub fn add(store: &Store, config: &Config, d: &MeetingDraft) -> Result<Planned, MeetingError> {
    let client = store.client(d.client)?;
    let start = crate::notes::parse_when(&d.at)
        .ok_or_else(|| MeetingError::Invalid(format!("cannot read the time {:?}: use YYYY-MM-DD HH:MM", d.at)))?;
    let length = match d.duration.as_deref() {
        None => Duration::hours(1),
        Some(s) => crate::config::parse_duration(s)
            .filter(|d| !d.is_zero() && d.as_secs() <= 14 * 86_400)
            .and_then(|d| Duration::from_std(d).ok())
            .ok_or_else(|| MeetingError::Invalid(format!("cannot read the duration {s:?}: use 30m, 1h or 90m")))?,
    };
    let end =
        start.checked_add_signed(length).ok_or_else(|| MeetingError::Invalid("the meeting ends too late".into()))?;
    let mut attendees = Vec::new();
    for a in &d.with {
        let n = crate::address::normalize(a)
            .ok_or_else(|| MeetingError::Invalid(format!("cannot invite {a:?}: it is not a mail address")))?;
        attendees.push(n);
    }
    if attendees.is_empty() {
        let contact = store.contacts(d.client)?.into_iter().find_map(|c| c.emails.first().cloned());
        attendees.push(contact.ok_or_else(|| {
            MeetingError::Invalid(format!(
                "cannot plan a meeting with {}: it has no contact with an address; give --with ADDRESS",
                client.name
            ))
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
    let (dav, cals) = open(config, acc)?;
    let cal = match cal_name {
        Some(k) => cals.iter().find(|c| c.display_name.eq_ignore_ascii_case(k) || c.slug().eq_ignore_ascii_case(k)),
        None => cals.first(),
    }
    .ok_or_else(|| {
        let have: Vec<&str> = cals.iter().map(|c| c.display_name.as_str()).collect();
        MeetingError::Invalid(format!(
            "cannot find the calendar {:?} in {}; it has {}",
            cal_name.unwrap_or("(any)"),
            acc.name,
            if have.is_empty() { "none".to_string() } else { have.join(", ") }
        ))
    })?;
    let title = d.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| format!("Schůzka: {}", client.name));
    let uid = new_uid(&client.name);
    let organizer = config.own_addresses.first().cloned();
    let ics = event_ics(&uid, &title, start, end, organizer.as_deref(), &attendees);
    let url = format!("{}/{uid}.ics", cal.url.trim_end_matches('/'));
    dav.put(&url, &ics, true, None).map_err(|source| MeetingError::Dav { account: acc.name.clone(), source })?;
    sync_back(config, acc)?;
    Ok(Planned { uid, calendar: format!("{}/{}", acc.name, cal.display_name), start, end, attendees })
}

/// A cancelled meeting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cancelled {
    pub uid: String,
    pub calendar: String,
}

/// Marks the meeting with `uid` cancelled in the calendar that holds it,
/// then syncs that account.
pub fn cancel(config: &Config, uid: &str) -> Result<Cancelled, MeetingError> {
    if config.caldav.is_empty() {
        return Err(MeetingError::NoAccount);
    }
    for acc in &config.caldav {
        let (dav, cals) = open(config, acc)?;
        let dav_err = |source| MeetingError::Dav { account: acc.name.clone(), source };
        for cal in &cals {
            let Some(found) = dav.find_uid(&cal.url, uid).map_err(dav_err)? else { continue };
            let data = found.data.unwrap_or_default();
            let url = dav.url_of(&cal.url, &found.href);
            let cancelled = cancelled_ics(&data);
            dav.put(&url, &cancelled, false, found.etag.as_deref()).map_err(dav_err)?;
            sync_back(config, acc)?;
            return Ok(Cancelled { uid: uid.to_string(), calendar: format!("{}/{}", acc.name, cal.display_name) });
        }
    }
    Err(MeetingError::NotFound(uid.to_string()))
}

/// Syncs one account now, so the meeting is stored as its calendar has it.
fn sync_back(config: &Config, acc: &CalDavConfig) -> Result<(), MeetingError> {
    let source = Box::new(crate::sources::caldav::CalDavSource::new(acc.clone(), &config.data_dir));
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
    cal.to_string()
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
