//! Microsoft 365 calendars through Microsoft Graph (Exchange Online has no
//! CalDAV). Each calendar of the account is a store source of its own
//! (`graph:<account>/<calendar id>`) whose cursor holds the delta link of
//! its `calendarView/delta` query, written in the same transaction as the
//! events. A poll follows the delta link: nothing changed, one request.
//! Events are keyed by Graph's id; an `@removed` entry takes its event
//! along. An occurrence of a series comes as its times only: it takes the
//! rest from its series master ([`hydrate`]), and a changed master reads
//! the calendar again whole. An expired delta (410, or `syncStateNotFound`) starts over and
//! compares with what is stored, so nothing is stored twice; once a day the
//! delta starts over anyway, so that the window moves with the days.
//!
//! Graph's `iCalUId` is the UID an invitation carries: for Exchange's own
//! meetings a GlobalObjectId in hex, with the occurrence's date in it for
//! an occurrence of a series; for meetings from elsewhere the original UID
//! wrapped in it. [`ical_uid`] unwraps both, so the invitation, the
//! calendar's copy and an ICS feed's copy are one event.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SyncContext;
use super::account::{AccountSource, Protocol, SyncFailure, store_pass, window};
use super::dav::{Answer, CalendarInfo, Credential, Dav, DavError};
use crate::calendar::{Attendee, Occurrence, event_item};
use crate::config::CalendarAccount;
use crate::pipeline::Counts;
use crate::store::{NewItem, SourceKey};

/// Events per page of a delta query.
const PAGE_SIZE: u32 = 200;

/// Pages one query may take before it is cut off (1,000,000 events).
const MAX_PAGES: usize = 5_000;

/// The class id that starts every Exchange GlobalObjectId, in hex.
const GOID_CLASS: &str = "040000008200E00074C5B7101A82E008";

/// What is kept of one calendar between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphCursor {
    /// The calendar's URL (a cursor of another calendar is not used).
    pub url: String,
    /// Where the next poll asks what changed.
    pub delta_link: Option<String>,
    /// The day the delta last started over (its window starts then).
    pub started_on: Option<NaiveDate>,
}

/// One page of a delta query.
#[derive(Debug, Default)]
pub struct DeltaPage {
    pub events: Vec<Value>,
    /// Ids of events that are gone.
    pub removed: Vec<String>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

/// A connection to Microsoft Graph (the credential goes only to its site).
pub struct Graph {
    http: Dav,
    base: String,
}

impl Graph {
    pub fn new(base: &str, credential: Credential, timeout: std::time::Duration) -> Graph {
        Graph { http: Dav::new(base, credential, timeout), base: base.trim_end_matches('/').to_string() }
    }

    fn call(&self, method: &str, url: &str, body: Option<&Value>, prefer: Option<&str>) -> Result<Answer, DavError> {
        let text = body.map(Value::to_string);
        let mut headers = vec![("Accept", "application/json")];
        if text.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        // Immutable ids: an event keeps its id when it moves between folders.
        let prefer = match prefer {
            Some(p) => format!("IdType=\"ImmutableId\", {p}"),
            None => "IdType=\"ImmutableId\"".to_string(),
        };
        headers.push(("Prefer", &prefer));
        self.http.send(method, url, None, text.as_deref(), &headers)
    }

    fn json(a: &Answer) -> Result<Value, DavError> {
        serde_json::from_str(&a.body).map_err(|e| DavError::Malformed {
            url: super::dav::redact(&a.url),
            reason: format!("the answer is not JSON: {e}"),
        })
    }

    /// An answer that is not a success, as an error naming Graph's own code.
    fn failure(a: &Answer) -> DavError {
        let code = serde_json::from_str::<Value>(&a.body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                let code = e.get("code").and_then(Value::as_str).unwrap_or_default();
                let msg = e.get("message").and_then(Value::as_str).unwrap_or_default();
                Some(format!(" ({code}: {})", crate::text::ellipsize(msg, 200)))
            })
            .unwrap_or_default();
        match a.status {
            404 => DavError::NotFound { url: super::dav::redact(&a.url), status: 404 },
            403 => DavError::Status {
                url: super::dav::redact(&a.url),
                status: 403,
                detail: format!(
                    "{code}; the sign-in lacks the permission Calendars.ReadWrite (ask the tenant's admin to consent to it)"
                ),
            },
            429 | 503 | 504 => DavError::Network {
                url: super::dav::redact(&a.url),
                reason: format!("HTTP {}: the server is busy{code}; tried again at the next poll", a.status),
            },
            s => DavError::Status { url: super::dav::redact(&a.url), status: s, detail: code },
        }
    }

    /// Every calendar the user sees, the default first; those that
    /// colleagues share with the user (another owner) are marked `shared`,
    /// read only when the config names them.
    pub fn calendars(&self) -> Result<Vec<CalendarInfo>, DavError> {
        let mut url = format!("{}/me/calendars?$select=id,name,isDefaultCalendar,canEdit,owner", self.base);
        let mut out: Vec<(bool, CalendarInfo, String)> = Vec::new();
        for _ in 0..MAX_PAGES {
            let a = self.call("GET", &url, None, None)?;
            if a.status != 200 {
                return Err(Self::failure(&a));
            }
            let v = Self::json(&a)?;
            for c in v.get("value").and_then(Value::as_array).into_iter().flatten() {
                let Some(id) = c.get("id").and_then(Value::as_str).filter(|i| !i.is_empty()) else { continue };
                let name = c.get("name").and_then(Value::as_str).unwrap_or(id).to_string();
                let default = c.get("isDefaultCalendar").and_then(Value::as_bool).unwrap_or(false);
                let owner = text(c, &["owner", "address"]).unwrap_or_default().to_ascii_lowercase();
                out.push((
                    default,
                    CalendarInfo {
                        url: self.calendar_url(id),
                        display_name: name,
                        ctag: None,
                        sync_token: None,
                        shared: false,
                    },
                    owner,
                ));
            }
            match v.get("@odata.nextLink").and_then(Value::as_str) {
                Some(n) => url = n.to_string(),
                None => break,
            }
        }
        out.sort_by_key(|(default, _, _)| !default);
        // The default calendar's owner is the user; without one, all count as own.
        let me = out.iter().find(|(d, _, _)| *d).map(|(_, _, o)| o.clone()).unwrap_or_default();
        Ok(out
            .into_iter()
            .map(|(_, mut c, o)| {
                c.shared = !(me.is_empty() || o.is_empty() || o == me);
                c
            })
            .collect())
    }

    fn calendar_url(&self, id: &str) -> String {
        format!("{}/me/calendars/{}", self.base, encode(id))
    }

    /// One page of a delta query. An expired delta link is
    /// [`DavError::SyncToken`].
    pub fn delta(&self, url: &str) -> Result<DeltaPage, DavError> {
        let prefer = format!("odata.maxpagesize={PAGE_SIZE}, outlook.timezone=\"UTC\"");
        let a = self.call("GET", url, None, Some(&prefer))?;
        let expired = a.status == 410
            || (a.status == 400
                && ["syncStateNotFound", "SyncStateNotFound", "resyncRequired", "SyncStateInvalid"]
                    .iter()
                    .any(|c| a.body.contains(c)));
        if expired {
            return Err(DavError::SyncToken { url: super::dav::redact(&a.url) });
        }
        if a.status != 200 {
            return Err(Self::failure(&a));
        }
        let v = Self::json(&a)?;
        let mut page = DeltaPage {
            next_link: v.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string),
            delta_link: v.get("@odata.deltaLink").and_then(Value::as_str).map(str::to_string),
            ..DeltaPage::default()
        };
        if page.next_link.is_none() && page.delta_link.is_none() {
            return Err(DavError::Malformed {
                url: super::dav::redact(&a.url),
                reason: "a delta page without @odata.nextLink or @odata.deltaLink".into(),
            });
        }
        for e in v.get("value").and_then(Value::as_array).into_iter().flatten() {
            let Some(id) = e.get("id").and_then(Value::as_str).filter(|i| !i.is_empty()) else { continue };
            if e.get("@removed").is_some() {
                page.removed.push(id.to_string());
            } else {
                page.events.push(e.clone());
            }
        }
        Ok(page)
    }

    /// The delta query of a calendar over `win`.
    pub fn delta_start(calendar_url: &str, win: &crate::calendar::Window) -> String {
        let at = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
        format!(
            "{calendar_url}/calendarView/delta?startDateTime={}&endDateTime={}",
            encode(&at(win.start)),
            encode(&at(win.end))
        )
    }

    /// Creates an event (`POST …/events`): Exchange sends the invitations.
    /// Returns the event as Graph stored it.
    pub fn create(&self, calendar_url: &str, event: &Value) -> Result<Value, DavError> {
        let a = self.call("POST", &format!("{calendar_url}/events"), Some(event), None)?;
        if a.status != 201 && a.status != 200 {
            return Err(Self::failure(&a));
        }
        Self::json(&a)
    }

    /// An event by id.
    pub fn event(&self, id: &str) -> Result<Value, DavError> {
        let a = self.call("GET", &format!("{}/me/events/{}", self.base, encode(id)), None, None)?;
        if a.status != 200 {
            return Err(Self::failure(&a));
        }
        Self::json(&a)
    }

    /// Cancels a meeting the user organises (`POST …/cancel`): Exchange
    /// tells the attendees.
    pub fn cancel(&self, id: &str) -> Result<(), DavError> {
        let url = format!("{}/me/events/{}/cancel", self.base, encode(id));
        let a = self.call("POST", &url, Some(&json!({"Comment": ""})), None)?;
        if !(200..300).contains(&a.status) {
            return Err(Self::failure(&a));
        }
        Ok(())
    }
}

/// Percent-encodes a path segment or query value.
fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The UID an invitation of this event carries, from Graph's `iCalUId`:
/// an Exchange GlobalObjectId loses the occurrence date it holds (the
/// series' UID), one that wraps a foreign UID (`vCal-Uid`) gives it back;
/// anything else is the UID as it is.
pub fn ical_uid(raw: &str) -> String {
    let raw = raw.trim();
    let is_goid = raw.len() >= 40
        && raw.len().is_multiple_of(2)
        && raw.bytes().all(|b| b.is_ascii_hexdigit())
        && raw.get(..GOID_CLASS.len()).is_some_and(|p| p.eq_ignore_ascii_case(GOID_CLASS));
    if !is_goid {
        return raw.to_string();
    }
    let Ok(mut bytes) = hex::decode(raw) else { return raw.to_string() };
    // Bytes 16..20: the occurrence's year (2), month, day; zero in the series.
    for b in bytes.iter_mut().skip(16).take(4) {
        *b = 0;
    }
    // Bytes 36..40: the length of the data that follows, which for a UID
    // from elsewhere is "vCal-Uid", 1, 0, 0, 0, the UID, NUL.
    let marker = b"vCal-Uid\x01\x00\x00\x00";
    if let Some(data) = bytes.get(40..)
        && let Some(rest) = data.strip_prefix(&marker[..])
    {
        let uid = rest.split(|b| *b == 0).next().unwrap_or_default();
        if let Ok(u) = std::str::from_utf8(uid)
            && !u.trim().is_empty()
        {
            return u.trim().to_string();
        }
    }
    hex::encode_upper(bytes)
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for p in path {
        at = at.get(p)?;
    }
    at.as_str()
}

/// `{"dateTime": "2026-12-10T09:00:00.0000000", "timeZone": "UTC"}` as a
/// wall-clock time and its zone.
fn graph_time(v: &Value) -> Option<(NaiveDateTime, String)> {
    let dt = v.get("dateTime")?.as_str()?;
    let naive = NaiveDateTime::parse_from_str(dt.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((naive, v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC").to_string()))
}

fn in_utc(naive: NaiveDateTime, zone: &str) -> Option<DateTime<Utc>> {
    if zone.eq_ignore_ascii_case("UTC") || zone.eq_ignore_ascii_case("tzone://Microsoft/Utc") {
        return Some(naive.and_utc());
    }
    Some(crate::calendar::in_zone(naive, crate::calendar::zone(zone)?))
}

fn person(v: &Value) -> Option<Attendee> {
    let address = crate::address::normalize(text(v, &["emailAddress", "address"])?)?;
    let name = text(v, &["emailAddress", "name"]).map(str::trim).filter(|n| !n.is_empty() && *n != address);
    Some(Attendee { name: name.map(str::to_string), address, partstat: None })
}

/// Graph's answer (`status.response`) as a PARTSTAT.
fn partstat(response: &str) -> Option<&'static str> {
    Some(match response {
        "accepted" | "organizer" => "ACCEPTED",
        "declined" => "DECLINED",
        "tentativelyAccepted" => "TENTATIVE",
        "notResponded" | "none" => "NEEDS-ACTION",
        _ => return None,
    })
}

/// One event of a calendarView as an occurrence (`None` with the reason
/// when it cannot be read; a series master is no occurrence).
pub fn occurrence(ev: &Value, local: crate::calendar::Zone) -> Result<Option<Occurrence>, String> {
    let id = text(ev, &["id"]).unwrap_or_default();
    let kind = text(ev, &["type"]).unwrap_or("singleInstance");
    if kind == "seriesMaster" {
        return Ok(None);
    }
    let (start, start_zone) = ev.get("start").and_then(graph_time).ok_or_else(|| format!("event {id}: no start"))?;
    let (end, end_zone) = ev.get("end").and_then(graph_time).unwrap_or((start, start_zone.clone()));
    let all_day = ev.get("isAllDay").and_then(Value::as_bool).unwrap_or(false);
    let (start_utc, end_utc, date, end_date) = if all_day {
        // An all-day event is midnight to midnight in its own zone; asked
        // in UTC, Graph may shift it by the zone's offset (23:00 the day
        // before): the nearest midnight is its day.
        let d = nearest_midnight(start);
        let e = nearest_midnight(end).max(d);
        let s = crate::calendar::in_zone(d.and_time(chrono::NaiveTime::MIN), local);
        let f = crate::calendar::in_zone(e.and_time(chrono::NaiveTime::MIN), local);
        (s, f, Some(d), Some(e))
    } else {
        let s = in_utc(start, &start_zone).ok_or_else(|| format!("event {id}: unknown time zone {start_zone:?}"))?;
        let f = in_utc(end, &end_zone).unwrap_or(s);
        (s, f.max(s), None, None)
    };
    let uid = match text(ev, &["iCalUId"]).map(ical_uid).filter(|u| !u.is_empty()) {
        Some(u) => u,
        None if !id.is_empty() => format!("graph-{id}"),
        None => return Err("an event without id or iCalUId".into()),
    };
    let recurrence_id = match kind {
        "occurrence" | "exception" => {
            let original = text(ev, &["originalStart"])
                .and_then(|o| DateTime::parse_from_rfc3339(o.trim()).ok())
                .map(|o| o.with_timezone(&Utc))
                .unwrap_or(start_utc);
            Some(match date {
                // Midnight in the event's zone, given in UTC: the nearest midnight.
                Some(_) => nearest_midnight(original.naive_utc()).to_string(),
                None => original.to_rfc3339_opts(SecondsFormat::Secs, true),
            })
        }
        _ => None,
    };
    let organizer = ev.get("organizer").and_then(person).map(|mut o| {
        o.partstat = Some("ACCEPTED".into());
        o
    });
    let mut attendees = Vec::new();
    for a in ev.get("attendees").and_then(Value::as_array).into_iter().flatten() {
        if let Some(mut p) = person(a) {
            p.partstat = text(a, &["status", "response"]).and_then(partstat).map(str::to_string);
            if !attendees.iter().any(|x: &Attendee| x.address == p.address) {
                attendees.push(p);
            }
        }
    }
    let cancelled = ev.get("isCancelled").and_then(Value::as_bool).unwrap_or(false);
    Ok(Some(Occurrence {
        uid,
        recurrence_id,
        sequence: 0,
        start: start_utc,
        end: end_utc,
        all_day,
        date,
        end_date,
        summary: text(ev, &["subject"]).unwrap_or_default().trim().to_string(),
        description: text(ev, &["bodyPreview"]).unwrap_or_default().trim().to_string(),
        location: text(ev, &["location", "displayName"]).unwrap_or_default().trim().to_string(),
        organizer,
        attendees,
        status: Some(if cancelled { "CANCELLED" } else { "CONFIRMED" }.to_string()),
        dtstamp: text(ev, &["lastModifiedDateTime"])
            .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&Utc)),
    }))
}

/// An occurrence read from Graph as a history item. Graph has no
/// SEQUENCE: the item carries none, and its last change (as DTSTAMP)
/// decides against the copy of an invitation.
pub fn graph_item(label: &str, o: &Occurrence) -> NewItem {
    let mut item = event_item(label, o);
    if let Some(extra) = item.extra.as_object_mut() {
        extra.insert("sequence".into(), Value::Null);
    }
    item
}

/// The store source id of one calendar of an account.
pub fn source_id(account: &str, calendar: &CalendarInfo) -> String {
    super::account::source_id::<GraphApi>(account, calendar)
}

/// Microsoft Graph's calendar protocol.
pub struct GraphApi;

/// A Microsoft 365 calendar account as a source.
pub type GraphSource = AccountSource<GraphApi>;

impl Protocol for GraphApi {
    type Conn = Graph;
    const KIND: &'static str = "graph";

    fn what(cfg: &CalendarAccount) -> String {
        format!("Microsoft 365 calendar account {}", cfg.name)
    }

    fn connect(cfg: &CalendarAccount, credential: Credential) -> Graph {
        Graph::new(&cfg.url, credential, cfg.timeout)
    }

    fn discover(conn: &Graph) -> Result<Vec<CalendarInfo>, DavError> {
        conn.calendars()
    }

    fn sync_calendar(
        conn: &Graph,
        cal: &CalendarInfo,
        cfg: &CalendarAccount,
        local: chrono_tz::Tz,
        ctx: &SyncContext,
    ) -> Result<Counts, SyncFailure> {
        sync_calendar(conn, cal, cfg, local, ctx)
    }
}

/// What a whole delta query brought: events by id, removed ids, the next
/// delta link.
type Delta = (BTreeMap<String, Value>, HashSet<String>, String);

/// Every page of a delta query from `url`: the events by id (a later copy
/// of one id wins, a removal after a change removes), the removed ids and
/// the next delta link.
fn follow(graph: &Graph, url: &str) -> Result<Delta, DavError> {
    let (mut events, mut removed) = (BTreeMap::new(), HashSet::new());
    let mut url = url.to_string();
    for _ in 0..MAX_PAGES {
        let page = graph.delta(&url)?;
        for e in page.events {
            if let Some(id) = e.get("id").and_then(Value::as_str).map(str::to_string) {
                removed.remove(&id);
                events.insert(id, e);
            }
        }
        for id in page.removed {
            events.remove(&id);
            removed.insert(id);
        }
        match (page.next_link, page.delta_link) {
            (Some(next), _) => url = next,
            (None, Some(delta)) => return Ok((events, removed, delta)),
            (None, None) => break,
        }
    }
    Err(DavError::Malformed { url: super::dav::redact(&url), reason: format!("more than {MAX_PAGES} pages") })
}

/// The day whose midnight is nearest to `t` (an all-day time that Graph
/// shifted by its zone's offset, 23:00 the day before, is its day).
fn nearest_midnight(t: NaiveDateTime) -> chrono::NaiveDate {
    t.checked_add_signed(chrono::Duration::hours(12)).unwrap_or(t).date()
}

fn is_master(ev: &Value) -> bool {
    ev.get("type").and_then(Value::as_str) == Some("seriesMaster")
}

/// Gives each occurrence of a series what the delta leaves out of it
/// (Graph sends an occurrence as its id, type, series, start and end
/// only): the series master's subject, people, place, iCalUId and last
/// change, under the occurrence's own id and times. A master not in the
/// round is asked for once; an occurrence whose series is gone is left out.
fn hydrate(graph: &Graph, events: &mut BTreeMap<String, Value>) -> Result<(), DavError> {
    let mut masters: BTreeMap<String, Option<Value>> =
        events.iter().filter(|(_, e)| is_master(e)).map(|(id, e)| (id.clone(), Some(e.clone()))).collect();
    let mut orphans = Vec::new();
    for (id, ev) in events.iter_mut() {
        let Some(master_id) = ev.get("seriesMasterId").and_then(Value::as_str).map(str::to_string) else { continue };
        if is_master(ev) || ev.get("subject").is_some() {
            continue;
        }
        if !masters.contains_key(&master_id) {
            let got = match graph.event(&master_id) {
                Ok(m) => Some(m),
                Err(DavError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            masters.insert(master_id.clone(), got);
        }
        let Some(Some(master)) = masters.get(&master_id) else {
            orphans.push(id.clone());
            continue;
        };
        let mut whole = master.clone();
        if let (Some(w), Some(own)) = (whole.as_object_mut(), ev.as_object()) {
            w.remove("originalStart");
            w.remove("recurrence");
            for (k, v) in own {
                w.insert(k.clone(), v.clone());
            }
        }
        *ev = whole;
    }
    for id in orphans {
        events.remove(&id);
    }
    Ok(())
}

/// One pass over one calendar.
fn sync_calendar(
    graph: &Graph,
    cal: &CalendarInfo,
    cfg: &CalendarAccount,
    local: chrono_tz::Tz,
    ctx: &SyncContext,
) -> Result<Counts, SyncFailure> {
    let source = source_id(&cfg.name, cal);
    let mut cursor: GraphCursor = ctx
        .pipeline
        .cursor_blocking(&source)?
        .and_then(|c| serde_json::from_str(&c).ok())
        .filter(|c: &GraphCursor| c.url == cal.url)
        .unwrap_or_else(|| GraphCursor { url: cal.url.clone(), ..GraphCursor::default() });
    let today = Utc::now().date_naive();
    let win = window(Utc::now(), cfg.past, cfg.future);
    let fresh = Graph::delta_start(&cal.url, &win);
    let mut whole = cursor.started_on != Some(today) || cursor.delta_link.is_none();
    let from = if whole { fresh.clone() } else { cursor.delta_link.clone().unwrap_or_else(|| fresh.clone()) };
    let (mut events, mut removed, mut delta) = match follow(graph, &from) {
        Ok(x) => x,
        // An expired link is 410 or one of several 400s (syncStateNotFound,
        // ErrorInvalidSyncStateData…): any 400 on a kept link starts over once.
        Err(DavError::SyncToken { .. } | DavError::Status { status: 400, .. }) if !whole => {
            tracing::info!(calendar = %cal.display_name, "Graph no longer takes the delta link; comparing every event");
            whole = true;
            follow(graph, &fresh)?
        }
        Err(e) => return Err(e.into()),
    };
    if !whole && events.is_empty() && removed.is_empty() {
        // Nothing changed: the kept delta link stays good.
        return Ok(Counts::default());
    }
    if !whole && events.values().any(is_master) {
        // A series changed: its occurrences carry only their times, so
        // every one is read again with the series' new subject and people.
        whole = true;
        (events, removed, delta) = follow(graph, &fresh)?;
    }
    hydrate(graph, &mut events)?;
    let known = ctx.pipeline.known_dates_blocking(&source)?;
    let label = format!("{}/{}", cfg.name, cal.display_name);
    let mut counts = Counts::default();
    let mut items = Vec::new();
    let mut present = HashSet::new();
    for (id, ev) in &events {
        present.insert(id.as_str());
        match super::guarded(|| occurrence(ev, local.into())) {
            Ok(Some(o)) => items.push((graph_item(&label, &o), SourceKey { source: source.clone(), key: id.clone() })),
            Ok(None) => {}
            Err(e) => {
                let w = format!("{label}: {e}; the event is left out");
                tracing::warn!("{w}");
                counts.warn(w);
            }
        }
    }
    let mut deleted: Vec<SourceKey> = removed
        .iter()
        .filter(|id| known.contains_key(id.as_str()))
        .map(|id| SourceKey { source: source.clone(), key: id.clone() })
        .collect();
    if whole {
        for (key, start) in &known {
            if !present.contains(key.as_str()) && !removed.contains(key) && *start >= win.start && *start <= win.end {
                deleted.push(SourceKey { source: source.clone(), key: key.clone() });
            }
        }
        cursor.started_on = Some(today);
    }
    cursor.delta_link = Some(delta);
    let cursor = serde_json::to_string(&cursor).unwrap_or_default();
    Ok(store_pass(ctx, &source, items, deleted, cursor, counts)?)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn exchange_uids_lose_the_occurrence_date_and_unwrap_foreign_ones() {
        let series = "040000008200E00074C5B7101A82E00800000000D0F5C0AE3A7DDA01000000000000000010000000C3B7E5A1D2F3E74C9A0B1C2D3E4F5A6B";
        let occurrence = format!("{GOID_CLASS}07EA0C0A{}", series.get(40..).unwrap());
        assert_ne!(occurrence, series);
        assert_eq!(ical_uid(&occurrence), series);
        assert_eq!(ical_uid(series), series);
        // A Google invitation's UID, wrapped by Exchange.
        let uid = "abc123@google.com";
        let mut bytes = hex::decode(GOID_CLASS).unwrap();
        bytes.extend([0u8; 20]);
        let mut data = b"vCal-Uid\x01\x00\x00\x00".to_vec();
        data.extend(uid.as_bytes());
        data.push(0);
        bytes.extend((data.len() as u32).to_le_bytes());
        bytes.extend(&data);
        assert_eq!(ical_uid(&hex::encode_upper(&bytes)), uid);
        assert_eq!(ical_uid("plain-uid@firma.cz"), "plain-uid@firma.cz");
        assert_eq!(ical_uid("040000008200E00074C5B7101A82E008ZZ"), "040000008200E00074C5B7101A82E008ZZ");
    }

    #[test]
    fn graph_events_read_as_occurrences() {
        let ev = serde_json::json!({
            "id": "AAMk1", "type": "occurrence", "iCalUId": "uid-1",
            "originalStart": "2026-12-10T08:00:00Z",
            "subject": "Kontrola stavby", "bodyPreview": "Agenda", "isCancelled": false,
            "lastModifiedDateTime": "2026-12-01T10:00:00.1234567Z",
            "start": {"dateTime": "2026-12-10T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-10T10:00:00.0000000", "timeZone": "UTC"},
            "location": {"displayName": "Stavba Brno"},
            "organizer": {"emailAddress": {"name": "Jana", "address": "Jana@Firma.cz"}},
            "attendees": [{"emailAddress": {"name": "Petr", "address": "petr@acme.cz"}, "status": {"response": "tentativelyAccepted"}}]
        });
        let o = occurrence(&ev, chrono_tz::Europe::Prague.into()).unwrap().unwrap();
        let mut all_day = ev.clone();
        all_day["isAllDay"] = true.into();
        all_day["start"] = serde_json::json!({"dateTime": "2026-12-23T23:00:00.0000000", "timeZone": "UTC"});
        all_day["end"] = serde_json::json!({"dateTime": "2026-12-25T23:00:00.0000000", "timeZone": "UTC"});
        let d = occurrence(&all_day, chrono_tz::Europe::Prague.into()).unwrap().unwrap();
        assert_eq!(
            (d.date, d.end_date),
            (NaiveDate::from_ymd_opt(2026, 12, 24), NaiveDate::from_ymd_opt(2026, 12, 26))
        );
        assert_eq!(o.uid, "uid-1");
        assert_eq!(o.recurrence_id.as_deref(), Some("2026-12-10T08:00:00Z"));
        assert_eq!(o.start.to_rfc3339(), "2026-12-10T09:00:00+00:00");
        assert_eq!(o.organizer.unwrap().address, "jana@firma.cz");
        assert_eq!(o.attendees.first().unwrap().partstat.as_deref(), Some("TENTATIVE"));
        assert_eq!(o.location, "Stavba Brno");
        let mut bad = ev.clone();
        bad["start"] = serde_json::json!({"dateTime": "yesterday"});
        assert!(occurrence(&bad, chrono_tz::UTC.into()).is_err());
        bad["type"] = "seriesMaster".into();
        assert!(occurrence(&bad, chrono_tz::UTC.into()).unwrap().is_none());
    }
}
