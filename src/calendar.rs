//! Calendar feeds (ICS) turned into event occurrences inside a time window.
//!
//! Pure: no I/O and no clock. The caller passes the window and the zone used
//! for floating times; [`occurrences`] returns every occurrence that overlaps
//! the window, sorted by start, plus human-readable warnings.
//!
//! Parsing, recurrence expansion (RRULE, RDATE, EXDATE, RECURRENCE-ID,
//! RANGE=THISANDFUTURE) and time-zone resolution (VTIMEZONE with a known
//! TZID / X-LIC-LOCATION / X-MICROSOFT-CDO-TZID, bare IANA names, Windows
//! names) are done by `calcard`. This module works around what calcard leaves
//! to the caller or gets wrong for our purposes:
//!
//! * calcard matches an override to its instance by `(SEQUENCE, RECURRENCE-ID)`
//!   across the whole calendar, ignoring the UID. An override whose SEQUENCE
//!   differs from the master's (normal after a single instance was edited) is
//!   not matched, so the original instance stays next to the override. We
//!   therefore expand every UID on its own, with SEQUENCE removed from the
//!   copies handed to calcard, and additionally drop master instances whose
//!   start equals an override's RECURRENCE-ID (this also covers RDATEs, which
//!   calcard never matches against overrides) or an EXDATE (calcard applies
//!   EXDATE to RRULE instances only, not to RDATEs).
//! * calcard's expansion `limit` is shared by all recurring events of a
//!   calendar; one endless daily rule would starve the others. Expanding per
//!   UID gives every series its own budget of [`MAX_INSTANCES_PER_EVENT`].
//! * Cancelled masters/overrides are kept by calcard; we drop them.
//! * X-WR-TIMEZONE is ignored by calcard; we use it as the zone for floating
//!   times when it names a known zone (otherwise `local`).
//! * Duplicate components (same UID and RECURRENCE-ID) keep the highest
//!   SEQUENCE (the later one on ties): a feed that carries an updated copy of
//!   an event yields one occurrence, with the new fields.
//!
//! The identity of an occurrence is `(uid, recurrence_id)`: it is stable when
//! an event is edited, so the store can update it in place.
//!
//! Feeds are outside data: every date computed from one uses checked
//! arithmetic. An occurrence whose dates fall outside what chrono holds
//! (`DURATION:P99999999W`, a DTSTART in the year 9999 plus a duration) is
//! skipped with a warning that names its UID; the rest of the calendar is used.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use calcard::common::IanaString;
use calcard::common::timezone::Tz;
use calcard::icalendar::dates::TimeOrDelta;
use calcard::icalendar::timezone::TzResolver;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarParameterName, ICalendarProperty, ICalendarStatus,
};
use calcard::{Entry, Parser};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::model::{ItemKind, Participant, Role};
use crate::store::{DateSource, NewItem};

/// Time-zone type used for floating times (calcard's, which wraps `chrono_tz::Tz`).
pub use calcard::common::timezone::Tz as Zone;

/// Instances calcard may generate per series (per UID) before we stop it.
/// Instances are generated from DTSTART onwards, so this is what bounds an
/// endless rule: 20 000 covers a daily rule for ~54 years or an hourly rule
/// for ~2.3 years before the end of the window. When the cap cuts a series
/// short of the window end, a warning says so.
pub const MAX_INSTANCES_PER_EVENT: usize = 20_000;

/// One occurrence of an event inside the window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Occurrence {
    /// UID (or `nouid-<hash of the event's content>` when missing).
    pub uid: String,
    /// For instances of a recurring event (RRULE/RDATE masters and RECURRENCE-ID
    /// overrides): the original start, RFC 3339 in UTC (`2026-01-05T08:00:00Z`),
    /// or the date (`2026-03-29`) for all-day events. `None` for single events.
    pub recurrence_id: Option<String>,
    pub sequence: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// DTSTART is a DATE: `date`/`end_date` are the calendar days as written;
    /// `start`/`end` are midnight in the `local` zone, for sorting only.
    pub all_day: bool,
    /// First day, for all-day events.
    pub date: Option<NaiveDate>,
    /// Exclusive end day, for all-day events.
    pub end_date: Option<NaiveDate>,
    pub summary: String,
    pub description: String,
    pub location: String,
    pub organizer: Option<Attendee>,
    pub attendees: Vec<Attendee>,
    /// TENTATIVE, CONFIRMED, … as written (cancelled occurrences are
    /// removed from feeds, kept as CANCELLED in invitations).
    pub status: Option<String>,
    /// DTSTAMP: which of two copies of one SEQUENCE is the later. Not part
    /// of the content (many feeds set it to the time of the download).
    #[serde(skip)]
    pub dtstamp: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attendee {
    pub name: Option<String>,
    /// From `mailto:`, lower-cased.
    pub address: String,
    /// PARTSTAT as written (ACCEPTED, DECLINED, TENTATIVE, NEEDS-ACTION…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partstat: Option<String>,
}

/// Half-open time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Not an iCalendar body (HTML error page, empty, truncated before any
    /// `END:VCALENDAR`): the feed should keep its last good state.
    #[error("cannot read the calendar: {0}")]
    NotACalendar(String),
}

/// Resolves a zone name (IANA, Windows, …) the way calcard resolves TZIDs.
pub fn zone(name: &str) -> Option<Zone> {
    Tz::from_str(name).ok()
}

/// Parses ICS text and returns the occurrences overlapping `window`, sorted by
/// start (then UID, then recurrence id), plus warnings (skipped events with
/// their UID and the reason). `local` is the zone for floating times and for
/// placing all-day events on the time line (`chrono_tz::Tz` converts with `.into()`).
pub fn occurrences(ics: &str, window: &Window, local: Zone) -> Result<(Vec<Occurrence>, Vec<String>), CalendarError> {
    read_occurrences(ics, window, local, Mode::FEED)
}

/// As [`occurrences`], for one object of a calendar account (CalDAV,
/// Graph): a cancelled event or occurrence is kept, as CANCELLED, so that
/// it stays in the history marked cancelled instead of vanishing.
pub fn account_occurrences(
    ics: &str,
    window: &Window,
    local: Zone,
) -> Result<(Vec<Occurrence>, Vec<String>), CalendarError> {
    read_occurrences(ics, window, local, Mode::ACCOUNT)
}

fn read_occurrences(
    ics: &str,
    window: &Window,
    local: Zone,
    mode: Mode,
) -> Result<(Vec<Occurrence>, Vec<String>), CalendarError> {
    let text = ics.strip_prefix('\u{feff}').unwrap_or(ics);
    let mut warnings = Vec::new();
    let calendars = parse_calendars(text, &mut warnings)?;

    let mut out = Vec::new();
    for cal in &calendars {
        expand_calendar(cal, window, local, mode, &mut out, &mut warnings);
    }
    let mut out = one_per_identity(out);
    out.sort_by(|a, b| (a.start, &a.uid, &a.recurrence_id, a.end).cmp(&(b.start, &b.uid, &b.recurrence_id, b.end)));
    Ok((out, warnings))
}

/// An iTIP method carried by an invitation in mail (RFC 5546, RFC 6047).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Creates or updates the event.
    Request,
    /// Cancels the event, or the occurrences it names.
    Cancel,
    /// An attendee's answer.
    Reply,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Reply => "REPLY",
        }
    }
}

/// What an invitation in mail asks of the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub method: Method,
    /// REQUEST: the occurrences as they are now (an override cancelled in
    /// it comes as CANCELLED). CANCEL: the occurrences cancelled, every one
    /// with status CANCELLED.
    pub occurrences: Vec<Occurrence>,
    /// CANCEL without RECURRENCE-ID: the UIDs (with their SEQUENCE) whose
    /// every occurrence is cancelled, also those outside the window.
    pub series: Vec<(String, i64)>,
    /// REPLY: the answers it carries.
    pub replies: Vec<Reply>,
}

/// An attendee's answer to one event or occurrence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reply {
    pub uid: String,
    /// `None`: the answer covers the whole series.
    pub recurrence_id: Option<String>,
    pub sequence: i64,
    #[serde(skip)]
    pub dtstamp: Option<DateTime<Utc>>,
    pub address: String,
    pub partstat: String,
}

/// Reads an iCalendar object found in mail as an invitation. `method` is
/// the `method=` parameter of its `Content-Type`, used when the object has
/// no METHOD of its own. `Ok(None)`: not an invitation (PUBLISH, no METHOD,
/// or a method kronika does not act on: ADD, REFRESH, COUNTER…); the
/// object then stays a mere attachment.
pub fn invitation(
    ics: &str,
    method: Option<&str>,
    window: &Window,
    local: Zone,
) -> Result<Option<Invitation>, CalendarError> {
    let text = ics.strip_prefix('\u{feff}').unwrap_or(ics);
    let mut warnings = Vec::new();
    let calendars = parse_calendars(text, &mut warnings)?;
    let written = calendars.iter().find_map(calendar_method);
    let method = match written.as_deref().or(method).map(|m| m.trim().to_ascii_uppercase()).as_deref() {
        Some("REQUEST") => Method::Request,
        Some("CANCEL") => Method::Cancel,
        Some("REPLY") => Method::Reply,
        _ => return Ok(None),
    };
    let mut out = Vec::new();
    let mut series = Vec::new();
    let mut replies = Vec::new();
    for cal in &calendars {
        match method {
            Method::Request | Method::Cancel => {
                expand_calendar(cal, window, local, Mode::INVITATION, &mut out, &mut warnings)
            }
            Method::Reply => replies.extend(replies_of(cal, local)),
        }
        if method == Method::Cancel {
            for comp in cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VEvent) {
                if comp.property(&ICalendarProperty::RecurrenceId).is_none()
                    && let Some(uid) = comp.uid().map(str::trim).filter(|u| !u.is_empty())
                {
                    series.push((uid.to_string(), sequence_of(comp)));
                }
            }
        }
    }
    let mut occurrences = one_per_identity(out);
    if method == Method::Cancel {
        for o in &mut occurrences {
            o.status = Some("CANCELLED".into());
        }
    }
    occurrences.sort_by(|a, b| (a.start, &a.uid, &a.recurrence_id).cmp(&(b.start, &b.uid, &b.recurrence_id)));
    Ok(Some(Invitation { method, occurrences, series, replies }))
}

fn calendar_method(cal: &ICalendar) -> Option<String> {
    cal.components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VCalendar)
        .flat_map(|c| c.entries.iter())
        .find(|e| e.name == ICalendarProperty::Method)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_text())
        .map(str::to_string)
}

fn sequence_of(comp: &ICalendarComponent) -> i64 {
    comp.property(&ICalendarProperty::Sequence).and_then(|e| e.values.first()).and_then(|v| v.as_integer()).unwrap_or(0)
}

/// The answers of a REPLY: each VEVENT's attendees that carry a PARTSTAT.
fn replies_of(cal: &ICalendar, local: Zone) -> Vec<Reply> {
    let resolver = cal.build_tz_resolver().with_default(floating_zone(cal, local));
    let mut out = Vec::new();
    for comp in cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VEvent) {
        let Some(uid) = comp.uid().map(str::trim).filter(|u| !u.is_empty()) else { continue };
        let recurrence_id = comp.property(&ICalendarProperty::RecurrenceId).and_then(|e| {
            let written_as_date =
                e.values.first().and_then(|v| v.as_partial_date_time()).is_some_and(|d| !d.has_time());
            let rid = recurrence_id(comp, &resolver)?;
            Some(if written_as_date || date_only(comp) {
                rid.naive_local().date().to_string()
            } else {
                rid.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
            })
        });
        for a in comp.properties(&ICalendarProperty::Attendee).filter_map(attendee) {
            let Some(partstat) = a.partstat else { continue };
            out.push(Reply {
                uid: uid.to_string(),
                recurrence_id: recurrence_id.clone(),
                sequence: sequence_of(comp),
                dtstamp: dtstamp(comp),
                address: a.address,
                partstat,
            });
        }
    }
    out
}

/// The store key of an occurrence: UID and RECURRENCE-ID (`-` for a
/// single event). One meeting has one key, whichever way it came.
pub fn occurrence_key(o: &Occurrence) -> String {
    format!("{}/{}", o.uid, o.recurrence_id.as_deref().unwrap_or("-"))
}

/// An occurrence as a history item. `calendar` names where it was read (a
/// calendar's name, or `invitation`).
pub fn event_item(calendar: &str, o: &Occurrence) -> NewItem {
    let mut participants = Vec::new();
    if let Some(org) = &o.organizer {
        participants.push(Participant { role: Role::Organizer, name: org.name.clone(), address: org.address.clone() });
    }
    for a in &o.attendees {
        if !participants.iter().any(|p| p.address == a.address) {
            participants.push(Participant { role: Role::Attendee, name: a.name.clone(), address: a.address.clone() });
        }
    }
    let mut body = o.description.trim().to_string();
    if !o.location.trim().is_empty() {
        body = format!("{body}\n\nLocation: {}", o.location.trim()).trim().to_string();
    }
    let extra = serde_json::json!({
        "calendar": calendar,
        "uid": o.uid,
        "recurrence_id": o.recurrence_id,
        "sequence": o.sequence,
        "dtstamp": o.dtstamp.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "start": o.start.to_rfc3339(),
        "end": o.end.to_rfc3339(),
        "all_day": o.all_day,
        "date": o.date,
        "end_date": o.end_date,
        "location": o.location,
        "status": o.status,
        "organizer": o.organizer,
        "attendees": o.attendees,
    });
    let content_hash = hex::encode(Sha256::digest(serde_json::to_string(o).unwrap_or_default().as_bytes()));
    NewItem {
        kind: ItemKind::Event,
        date: o.start,
        date_source: DateSource::Header,
        subject: o.summary.clone(),
        body,
        participants,
        content_hash,
        size: 0,
        extra,
        ..NewItem::default()
    }
}

/// One occurrence per `(uid, recurrence_id)`, the one with the highest
/// SEQUENCE (the later on ties): a feed of several VCALENDARs may carry the
/// same event in more than one, and the store keys occurrences by identity.
fn one_per_identity(out: Vec<Occurrence>) -> Vec<Occurrence> {
    let keep: HashSet<usize> = {
        let mut winner: HashMap<(&str, Option<&str>), (i64, usize)> = HashMap::new();
        for (i, o) in out.iter().enumerate() {
            let w = winner.entry((o.uid.as_str(), o.recurrence_id.as_deref())).or_insert((o.sequence, i));
            if o.sequence >= w.0 {
                *w = (o.sequence, i);
            }
        }
        winner.into_values().map(|(_, i)| i).collect()
    };
    if keep.len() == out.len() {
        return out;
    }
    out.into_iter().enumerate().filter(|(i, _)| keep.contains(i)).map(|(_, o)| o).collect()
}

fn parse_calendars(text: &str, warnings: &mut Vec<String>) -> Result<Vec<ICalendar>, CalendarError> {
    if text.trim().is_empty() {
        return Err(CalendarError::NotACalendar("empty body".into()));
    }
    let mut parser = Parser::new(text);
    let mut calendars = Vec::new();
    let mut unterminated = false;
    let mut invalid_lines = 0usize;
    loop {
        match parser.entry() {
            Entry::ICalendar(cal) => calendars.push(cal),
            Entry::Eof => break,
            Entry::UnterminatedComponent(_) => unterminated = true,
            Entry::InvalidLine(_) => invalid_lines += 1,
            Entry::VCard(_) => warnings.push("a vCard in the calendar feed was ignored".into()),
            Entry::TooManyComponents => {
                warnings.push("too many components: the rest of the calendar was ignored".into());
                break;
            }
            _ => {}
        }
    }
    if calendars.is_empty() {
        let why = if unterminated || text.contains("BEGIN:VCALENDAR") {
            "truncated: no VCALENDAR is complete".to_string()
        } else if text.trim_start().starts_with('<') {
            "looks like HTML, not iCalendar".to_string()
        } else {
            format!("no VCALENDAR found ({invalid_lines} unreadable lines)")
        };
        return Err(CalendarError::NotACalendar(why));
    }
    // calcard closes components at EOF, so a body cut short still parses:
    // only VCALENDARs with their END line count.
    let ends = text.lines().filter(|l| l.trim().eq_ignore_ascii_case("END:VCALENDAR")).count();
    if ends == 0 {
        let begins = text.lines().any(|l| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR"));
        let why = if begins { "truncated: no VCALENDAR is complete" } else { "no VCALENDAR found" };
        return Err(CalendarError::NotACalendar(why.into()));
    }
    if calendars.len() > ends {
        calendars.truncate(ends);
        unterminated = true;
    }
    if unterminated {
        warnings.push("the feed ends with an unterminated component (truncated?); it was ignored".into());
    }
    Ok(calendars)
}

/// How a calendar is read.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// Cancelled events and occurrences are kept (as CANCELLED), not dropped.
    keep_cancelled: bool,
    /// A single (not recurring) event is kept wherever it falls: the window
    /// bounds the expansion of series only.
    singles_anywhere: bool,
}

impl Mode {
    /// A calendar feed: what it lacks inside the window is gone.
    const FEED: Mode = Mode { keep_cancelled: false, singles_anywhere: false };
    /// An invitation: what it says of each event it names.
    const INVITATION: Mode = Mode { keep_cancelled: true, singles_anywhere: true };
    /// A calendar account's object: cancelled events stay, marked.
    const ACCOUNT: Mode = Mode { keep_cancelled: true, singles_anywhere: false };
}

/// A VEVENT of the feed, with what we need to group and deduplicate it.
struct EventComp<'a> {
    comp: &'a ICalendarComponent,
    sequence: i64,
    /// RECURRENCE-ID as written (for deduplication only).
    rid_key: Option<String>,
}

fn expand_calendar(
    cal: &ICalendar,
    window: &Window,
    local: Zone,
    mode: Mode,
    out: &mut Vec<Occurrence>,
    warnings: &mut Vec<String>,
) {
    let floating = floating_zone(cal, local);

    let timezones: Vec<ICalendarComponent> = cal
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
        .map(|c| ICalendarComponent {
            component_type: c.component_type.clone(),
            entries: c.entries.clone(),
            component_ids: Vec::new(),
        })
        .collect();

    // Group the VEVENTs by UID, keeping the feed order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<EventComp<'_>>> = HashMap::new();
    for comp in cal.components.iter().filter(|c| c.component_type == ICalendarComponentType::VEvent) {
        let uid = comp
            .uid()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| content_uid(comp));
        let sequence = comp
            .property(&ICalendarProperty::Sequence)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_integer())
            .unwrap_or(0);
        let rid_key = comp
            .property(&ICalendarProperty::RecurrenceId)
            .map(|e| e.values.first().and_then(|v| v.clone().into_text()).unwrap_or_default().into_owned());
        let ev = EventComp { comp, sequence, rid_key };
        match groups.get_mut(&uid) {
            Some(g) => {
                // Same UID and RECURRENCE-ID twice: keep the higher SEQUENCE (later on ties).
                if let Some(old) = g.iter_mut().find(|o| o.rid_key == ev.rid_key) {
                    if ev.sequence >= old.sequence {
                        *old = ev;
                    }
                } else {
                    g.push(ev);
                }
            }
            None => {
                order.push(uid.clone());
                groups.insert(uid, vec![ev]);
            }
        }
    }

    for uid in order {
        if let Some(group) = groups.get(&uid) {
            expand_group(&uid, group, &timezones, (floating, local), window, mode, out, warnings);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn expand_group(
    uid: &str,
    group: &[EventComp<'_>],
    timezones: &[ICalendarComponent],
    (floating, local): (Zone, Zone),
    window: &Window,
    mode: Mode,
    out: &mut Vec<Occurrence>,
    warnings: &mut Vec<String>,
) {
    let master = group.iter().find(|e| e.rid_key.is_none());
    if !mode.keep_cancelled && master.is_some_and(|m| is_cancelled(m.comp)) {
        // The whole series is cancelled (its overrides with it).
        return;
    }
    let recurring = master.is_some_and(|m| m.comp.is_recurrent()) || group.iter().any(|e| e.rid_key.is_some());

    // A small calendar with this UID only: its time zones and its events, minus SEQUENCE.
    let first_event = timezones.len();
    let mut sub = ICalendar { components: timezones.to_vec() };
    for ev in group {
        let mut comp = ev.comp.clone();
        comp.entries.retain(|e| e.name != ICalendarProperty::Sequence);
        comp.component_ids.clear();
        sub.components.push(comp);
    }
    // A series whose DTSTART is UTC (`…Z`, no TZID) recurs in UTC: calcard
    // would place its later instances in the floating zone instead (an hour
    // early in Prague), so it gets the start's own zone as its default.
    let default = master
        .and_then(|m| {
            let entry = m.comp.property(&ICalendarProperty::Dtstart)?;
            if entry.tz_id().is_some() {
                return None;
            }
            entry.values.first()?.as_partial_date_time()?.to_date_time()?.tz()
        })
        .unwrap_or(floating);
    let resolver = sub.build_tz_resolver().with_default(default);
    let expanded = sub.expand_dates(default, MAX_INSTANCES_PER_EVENT);
    for err in &expanded.errors {
        warnings.push(format!("event {uid} skipped: {}", err.error));
    }

    // Per override: its RECURRENCE-ID and own start (to undo THISANDFUTURE shifts).
    let mut overrides: HashMap<usize, OverrideInfo> = HashMap::new();
    for (i, ev) in group.iter().enumerate() {
        if ev.rid_key.is_some() {
            match recurrence_id(ev.comp, &resolver) {
                Some(rid) => {
                    let own = date_prop(ev.comp, &ICalendarProperty::Dtstart, &resolver, None);
                    overrides.insert(first_event + i, (rid, own, date_only(ev.comp)));
                }
                None => warnings.push(format!("event {uid}: unreadable RECURRENCE-ID")),
            }
        }
    }
    let overridden: HashSet<DateTime<Utc>> = overrides.values().map(|(rid, _, _)| rid.with_timezone(&Utc)).collect();
    let exdates: HashSet<DateTime<Utc>> = master.map(|m| exdates(m.comp, &resolver)).unwrap_or_default();

    let mut seen: HashSet<Option<String>> = HashSet::new();
    let mut out_of_range = 0usize;
    let mut generated = 0usize;
    let mut last_start: Option<DateTime<Utc>> = None;
    for event in expanded.events {
        let idx = event.comp_id as usize;
        if idx < first_event {
            continue;
        }
        let Some(ev) = group.get(idx - first_event) else { continue };
        let comp = ev.comp;
        let start = fix_floating(event.start, floating);
        let start_utc = start.with_timezone(&Utc);
        let rid: Option<DateTime<Tz>> = if let Some((rid, own, _)) = overrides.get(&idx) {
            // THISANDFUTURE: later instances carry this override's comp_id, shifted by (own start - rid).
            match own {
                Some(own) if *own != start => match start.checked_sub_signed(own.signed_duration_since(*rid)) {
                    Some(shifted) => Some(shifted),
                    None => {
                        out_of_range += 1;
                        continue;
                    }
                },
                _ => Some(*rid),
            }
        } else if recurring {
            generated += 1;
            last_start = last_start.max(Some(start_utc));
            if overridden.contains(&start_utc) || exdates.contains(&start_utc) {
                continue;
            }
            Some(start)
        } else {
            None
        };
        if !mode.keep_cancelled && is_cancelled(comp) {
            continue;
        }

        let all_day = date_only(comp);
        let Some((occ_start, occ_end, date, end_date)) = span(start, start_utc, event.end, all_day, floating, local)
        else {
            out_of_range += 1;
            continue;
        };

        let overlaps = if mode.singles_anywhere && !recurring {
            true
        } else if occ_end > occ_start {
            occ_start < window.end && occ_end > window.start
        } else {
            occ_start >= window.start && occ_start < window.end
        };
        if !overlaps {
            continue;
        }
        let recurrence_id = rid.map(|r| {
            let rid_all_day = overrides.get(&idx).map_or(all_day, |o| o.2 || all_day);
            if rid_all_day {
                r.naive_local().date().to_string()
            } else {
                r.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
            }
        });
        if !seen.insert(recurrence_id.clone()) && recurrence_id.is_some() {
            continue; // an RDATE equal to an RRULE instance
        }
        out.push(Occurrence {
            uid: uid.to_string(),
            recurrence_id,
            sequence: ev.sequence,
            start: occ_start,
            end: occ_end,
            all_day,
            date,
            end_date,
            summary: text_prop(comp, &ICalendarProperty::Summary),
            description: text_prop(comp, &ICalendarProperty::Description),
            location: text_prop(comp, &ICalendarProperty::Location),
            organizer: comp.property(&ICalendarProperty::Organizer).and_then(attendee),
            attendees: comp.properties(&ICalendarProperty::Attendee).filter_map(attendee).collect(),
            status: comp.status().map(|s| s.as_str().to_string()),
            dtstamp: dtstamp(comp),
        });
    }
    if out_of_range > 0 {
        warnings.push(format!(
            "event {uid}: {out_of_range} occurrence(s) skipped: a date is out of range (DTEND, DURATION or RRULE beyond the year 9999?)"
        ));
    }
    if generated >= MAX_INSTANCES_PER_EVENT.saturating_sub(overrides.len())
        && last_start.is_some_and(|l| l < window.end)
    {
        warnings.push(format!(
            "event {uid}: expansion stopped after {MAX_INSTANCES_PER_EVENT} instances; later occurrences are missing"
        ));
    }
}

/// The zone for floating times: X-WR-TIMEZONE when it names a known zone.
fn floating_zone(cal: &ICalendar, local: Zone) -> Zone {
    cal.components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VCalendar)
        .flat_map(|c| c.entries.iter())
        .find(|e| matches!(&e.name, ICalendarProperty::Other(n) if n.eq_ignore_ascii_case("X-WR-TIMEZONE")))
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_text())
        .and_then(zone)
        .unwrap_or(local)
}

fn dtstamp(comp: &ICalendarComponent) -> Option<DateTime<Utc>> {
    let entry = comp.property(&ICalendarProperty::Dtstamp)?;
    let dt = entry.values.first()?.as_partial_date_time()?.to_date_time()?;
    dt.to_date_time_with_tz(Tz::UTC).map(|d| d.with_timezone(&Utc))
}

/// An occurrence's `(start, end, date, end_date)` (see [`Occurrence`]).
type Span = (DateTime<Utc>, DateTime<Utc>, Option<NaiveDate>, Option<NaiveDate>);

/// An occurrence's place on the time line; `None` when a date is out of range.
fn span(
    start: DateTime<Tz>,
    start_utc: DateTime<Utc>,
    end: TimeOrDelta<DateTime<Tz>, Duration>,
    all_day: bool,
    floating: Zone,
    local: Zone,
) -> Option<Span> {
    if all_day {
        let day = start.naive_local().date();
        let end_day = match end {
            TimeOrDelta::Time(t) => fix_floating(t, floating).naive_local().date(),
            TimeOrDelta::Delta(d) => {
                let days = d.num_seconds().saturating_add(86_399).div_euclid(86_400).max(1);
                day.checked_add_signed(Duration::try_days(days)?)?
            }
        };
        let end_day = if end_day <= day { day.succ_opt()? } else { end_day };
        Some((local_midnight(day, local), local_midnight(end_day, local), Some(day), Some(end_day)))
    } else {
        let end = match end {
            TimeOrDelta::Time(t) => fix_floating(t, floating).with_timezone(&Utc),
            TimeOrDelta::Delta(d) => start_utc.checked_add_signed(d)?,
        };
        Some((start_utc, end.max(start_utc), None, None))
    }
}

/// An override's RECURRENCE-ID, its own DTSTART, and whether the RECURRENCE-ID is a DATE.
type OverrideInfo = (DateTime<Tz>, Option<DateTime<Tz>>, bool);

fn is_cancelled(comp: &ICalendarComponent) -> bool {
    matches!(comp.status(), Some(ICalendarStatus::Cancelled))
}

/// DTSTART is a DATE (or missing and RECURRENCE-ID is a DATE).
fn date_only(comp: &ICalendarComponent) -> bool {
    let prop = comp.property(&ICalendarProperty::Dtstart).or_else(|| comp.property(&ICalendarProperty::RecurrenceId));
    prop.and_then(|e| e.values.first()).and_then(|v| v.as_partial_date_time()).is_some_and(|dt| !dt.has_time())
}

/// calcard falls back to a floating date-time when a local time does not
/// exist (DST gap); re-read those in the floating zone, picking the earliest.
fn fix_floating(dt: DateTime<Tz>, floating: Zone) -> DateTime<Tz> {
    if dt.timezone().is_floating() {
        let naive = dt.naive_local();
        floating
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                let later = naive.checked_add_signed(Duration::hours(1))?;
                floating.from_local_datetime(&later).earliest()
            })
            .unwrap_or(dt)
    } else {
        dt
    }
}

fn local_midnight(day: NaiveDate, local: Zone) -> DateTime<Utc> {
    in_zone(day.and_time(NaiveTime::MIN), local)
}

/// A wall-clock time in `zone`, in UTC: a time in a gap (spring forward)
/// is taken an hour later, an ambiguous one (fall back) as the earlier.
pub fn in_zone(naive: NaiveDateTime, local: Zone) -> DateTime<Utc> {
    local
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            let later = naive.checked_add_signed(Duration::hours(1))?;
            local.from_local_datetime(&later).earliest()
        })
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

fn date_prop(
    comp: &ICalendarComponent,
    prop: &ICalendarProperty,
    resolver: &TzResolver<&str>,
    fallback_tzid: Option<&str>,
) -> Option<DateTime<Tz>> {
    let entry = comp.property(prop)?;
    let dt = entry.values.first()?.as_partial_date_time()?.to_date_time()?;
    let tz = resolver.resolve_or_default(entry.tz_id().or(fallback_tzid));
    dt.to_date_time_with_tz(tz).or_else(|| tz.from_local_datetime(&dt.date_time).earliest())
}

fn recurrence_id(comp: &ICalendarComponent, resolver: &TzResolver<&str>) -> Option<DateTime<Tz>> {
    let start_tzid = comp.property(&ICalendarProperty::Dtstart).and_then(|e| e.tz_id());
    date_prop(comp, &ICalendarProperty::RecurrenceId, resolver, start_tzid)
}

fn exdates(comp: &ICalendarComponent, resolver: &TzResolver<&str>) -> HashSet<DateTime<Utc>> {
    let start_tzid = comp.property(&ICalendarProperty::Dtstart).and_then(|e| e.tz_id());
    let mut set = HashSet::new();
    for entry in comp.properties(&ICalendarProperty::Exdate) {
        let tz = resolver.resolve_or_default(entry.tz_id().or(start_tzid));
        for value in &entry.values {
            if let Some(dt) = value.as_partial_date_time().and_then(|p| p.to_date_time())
                && let Some(dt) = dt.to_date_time_with_tz(tz)
            {
                set.insert(dt.with_timezone(&Utc));
            }
        }
    }
    set
}

fn text_prop(comp: &ICalendarComponent, prop: &ICalendarProperty) -> String {
    comp.property(prop)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_text())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn attendee(entry: &calcard::icalendar::ICalendarEntry) -> Option<Attendee> {
    let raw = entry.values.first()?.as_text()?.trim();
    let address = match raw.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mailto") => rest,
        _ => raw,
    }
    .trim()
    .to_lowercase();
    if address.is_empty() {
        return None;
    }
    let name = entry
        .parameter(&ICalendarParameterName::Cn)
        .and_then(|v| v.as_text())
        .map(|s| s.trim().trim_matches('"').trim().to_string())
        .filter(|s| !s.is_empty());
    let partstat = entry
        .parameter(&ICalendarParameterName::Partstat)
        .and_then(|v| v.as_text())
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty());
    Some(Attendee { name, address, partstat })
}

/// A stable id for an event without UID: a hash of its properties, minus
/// DTSTAMP (which many generators set to the time of the download).
fn content_uid(comp: &ICalendarComponent) -> String {
    let mut hasher = Sha256::new();
    for entry in &comp.entries {
        if entry.name == ICalendarProperty::Dtstamp {
            continue;
        }
        hasher.update(entry.name.as_str().as_bytes());
        for param in &entry.params {
            hasher.update(b";");
            hasher.update(param.name.as_str().as_bytes());
            hasher.update(b"=");
            hasher.update(param.value.as_text().unwrap_or("").as_bytes());
        }
        for value in &entry.values {
            hasher.update(b":");
            hasher.update(value.clone().into_text().unwrap_or_default().as_bytes());
        }
        hasher.update(b"\n");
    }
    let digest = hex::encode(hasher.finalize());
    format!("nouid-{}", digest.get(..16).unwrap_or(&digest))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    fn cal(events: &[&str]) -> String {
        let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n");
        for e in events {
            s.push_str("BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n");
            s.push_str(&e.replace('\n', "\r\n"));
            s.push_str("\r\nEND:VEVENT\r\n");
        }
        s.push_str("END:VCALENDAR\r\n");
        s
    }

    fn window() -> Window {
        Window {
            start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    const GOOD: &str = "UID:good@x\nDTSTART:20261203T100000Z\nDURATION:PT1H\nSUMMARY:Kontrola";

    #[test]
    fn absurd_dates_skip_the_event_not_the_calendar() {
        // (uid, properties, whether it must be named in a warning)
        let bad = [
            ("absurd-duration@x", "DTSTART:20261203T100000Z\nDURATION:P99999999W", true),
            ("absurd-duration-allday@x", "DTSTART;VALUE=DATE:20261203\nDURATION:P99999999W", true),
            ("negative-duration@x", "DTSTART:20261203T100000Z\nDURATION:-P99999999W", false),
            ("seconds@x", "DTSTART:20261203T100000Z\nDURATION:PT9223372036854775807S", false),
            ("days@x", "DTSTART:20261203T100000Z\nDURATION:P106751991167300D", false),
            ("huge@x", "DTSTART:20261203T100000Z\nDURATION:P99999999999999999999999W", false),
            ("far@x", "DTSTART:99991231T230000Z\nDURATION:P2D", false),
            ("far-allday@x", "DTSTART;VALUE=DATE:99991231\nDURATION:P2D", false),
            ("far-rrule@x", "DTSTART:99991231T230000Z\nDURATION:P2D\nRRULE:FREQ=DAILY;INTERVAL=4000000000", false),
            ("far-absurd@x", "DTSTART:99991231T230000Z\nDURATION:P99999999W\nRRULE:FREQ=DAILY", false),
            ("count@x", "DTSTART:20261201T100000Z\nDURATION:PT1H\nRRULE:FREQ=SECONDLY;COUNT=4294967295", false),
            ("interval@x", "DTSTART:20261201T100000Z\nRRULE:FREQ=YEARLY;INTERVAL=4294967295;COUNT=3", false),
            ("weekly-far@x", "DTSTART:99991225T100000Z\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", false),
            ("until-far@x", "DTSTART:20261201T100000Z\nRRULE:FREQ=MINUTELY;INTERVAL=1;UNTIL=99991231T000000Z", false),
            ("end-far@x", "DTSTART:20261203T100000Z\nDTEND:99991231T235959Z", false),
            ("rdate-far@x", "DTSTART:20261203T100000Z\nDURATION:P1000W\nRDATE:99991231T230000Z", false),
            ("exdate-far@x", "DTSTART:99991231T230000Z\nRRULE:FREQ=HOURLY\nEXDATE:99991231T230000Z", false),
            ("rid-far@x", "RECURRENCE-ID:99991231T230000Z\nDTSTART:99991231T230000Z\nDURATION:P2D", false),
            ("year-zero@x", "DTSTART:00000101T000000Z\nDURATION:-P1D\nRRULE:FREQ=YEARLY;COUNT=2", false),
        ];
        for (uid, body, named) in bad {
            let ics = cal(&[&format!("UID:{uid}\n{body}\nSUMMARY:Nesmysl"), GOOD]);
            let started = std::time::Instant::now();
            let (occ, warnings) = occurrences(&ics, &window(), Tz::UTC)
                .unwrap_or_else(|e| panic!("{uid}: the calendar is still a calendar: {e}"));
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "{uid}: {:?}", started.elapsed());
            assert!(occ.iter().any(|o| o.uid == "good@x"), "{uid}: the good event is kept: {occ:?}");
            for o in &occ {
                assert!(o.end >= o.start, "{uid}: {o:?}");
            }
            if named {
                assert!(!occ.iter().any(|o| o.uid == uid), "{uid}: {occ:?}");
                assert!(warnings.iter().any(|w| w.contains(uid)), "{uid}: a skipped event is named: {warnings:?}");
            }
        }
    }

    /// Found by the `ics` fuzz target: the same UID in two VCALENDARs of
    /// one feed gave two occurrences with one identity.
    #[test]
    fn the_same_event_in_two_calendars_is_one_occurrence() {
        let first = cal(&["UID:u@x\nSEQUENCE:1\nDTSTART:20261203T100000Z\nSUMMARY:Old", GOOD]);
        let second = cal(&["UID:u@x\nSEQUENCE:2\nDTSTART:20261203T100000Z\nSUMMARY:New"]);
        let (occ, _) = occurrences(&format!("{first}{second}"), &window(), Tz::UTC).unwrap();
        let u: Vec<&str> = occ.iter().filter(|o| o.uid == "u@x").map(|o| o.summary.as_str()).collect();
        assert_eq!(u, ["New"]);
        let (occ, _) = occurrences(&format!("{second}{first}"), &window(), Tz::UTC).unwrap();
        let u: Vec<&str> = occ.iter().filter(|o| o.uid == "u@x").map(|o| o.summary.as_str()).collect();
        assert_eq!(u, ["New"], "the higher SEQUENCE wins wherever it is");
        assert_eq!(occ.iter().filter(|o| o.uid == "good@x").count(), 1);
    }

    /// Found with a Google Calendar invitation: a weekly series written in
    /// UTC was placed in the floating zone after its first instance.
    #[test]
    fn a_series_in_utc_recurs_in_utc_whatever_the_local_zone() {
        let ics = cal(&["UID:g@x\nDTSTART:20261124T150000Z\nDTEND:20261124T153000Z\nRRULE:FREQ=WEEKLY;COUNT=3"]);
        let (occ, _) = occurrences(&ics, &window(), chrono_tz::Europe::Prague.into()).unwrap();
        let starts: Vec<String> = occ.iter().map(|o| o.start.to_rfc3339()).collect();
        assert_eq!(starts, ["2026-11-24T15:00:00+00:00", "2026-12-01T15:00:00+00:00", "2026-12-08T15:00:00+00:00"]);
    }

    #[test]
    fn windows_at_the_ends_of_time() {
        let ics = cal(&[GOOD, "UID:far@x\nDTSTART:99991231T230000Z\nDURATION:P2D\nRRULE:FREQ=DAILY"]);
        let wide = Window { start: DateTime::<Utc>::MIN_UTC, end: DateTime::<Utc>::MAX_UTC };
        let (occ, _) = occurrences(&ics, &wide, Tz::UTC).unwrap();
        assert!(occ.iter().any(|o| o.uid == "good@x"));
    }
}
