//! A Microsoft Graph-shaped server on 127.0.0.1:0 for the tests. It
//! answers what kronika asks of Graph with the JSON Microsoft documents:
//! `GET /v1.0/me/calendars`, `calendarView/delta` (pages of
//! `@odata.nextLink`, a closing `@odata.deltaLink`, `@removed` entries,
//! `410 Gone` for a delta token it no longer keeps), `POST …/events`,
//! `GET /me/events/{id}` and `POST /me/events/{id}/cancel` (which, as
//! Exchange does for the organiser, deletes the event). Bearer tokens are
//! checked by a function the test gives; every request is counted.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub type TokenCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

struct Calendar {
    id: String,
    name: String,
    default: bool,
    /// Whose it is (`None`: the user's).
    owner: Option<String>,
    /// Event id → event.
    events: BTreeMap<String, Value>,
    /// Series masters: fetched by id, never listed (calendarView expands
    /// a series into its occurrences).
    masters: BTreeMap<String, Value>,
    /// Every change: (change number, event id); the state is in `events`.
    log: Vec<(u64, String)>,
}

#[derive(Default)]
struct State {
    calendars: Vec<Calendar>,
    change: u64,
    /// Delta tokens below this are forgotten (410).
    oldest_token: u64,
    /// Events per page.
    page: usize,
    /// Requests: (method, path without query).
    requests: Vec<(String, String)>,
    seq: u64,
}

pub struct GraphServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    /// The mailbox the events belong to.
    pub user: String,
}

impl GraphServer {
    /// `check` says whether a bearer token is good.
    pub fn start(user: &str, check: TokenCheck) -> GraphServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State { page: 3, ..State::default() }));
        let (s, u) = (state.clone(), user.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (s, u, c) = (s.clone(), u.clone(), check.clone());
                std::thread::spawn(move || handle(stream, &s, &u, port, &*c));
            }
        });
        GraphServer { port, state, user: user.to_string() }
    }

    /// A server that takes one fixed token.
    pub fn with_token(user: &str, token: &str) -> GraphServer {
        let token = token.to_string();
        GraphServer::start(user, Arc::new(move |t| t == token))
    }

    /// The API base (`url` of a `[[graph]]` section).
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v1.0", self.port)
    }

    pub fn add_calendar(&self, id: &str, name: &str, default: bool) {
        self.add(id, name, default, None);
    }

    /// A colleague's calendar shared with the user.
    pub fn add_shared_calendar(&self, id: &str, name: &str, owner: &str) {
        self.add(id, name, false, Some(owner.to_string()));
    }

    fn add(&self, id: &str, name: &str, default: bool, owner: Option<String>) {
        let mut st = self.state.lock().unwrap();
        st.calendars.push(Calendar {
            id: id.into(),
            name: name.into(),
            default,
            owner,
            events: BTreeMap::new(),
            masters: BTreeMap::new(),
            log: Vec::new(),
        });
    }

    /// Adds or replaces an event (by its `id`).
    pub fn put_event(&self, calendar: &str, event: Value) {
        let mut st = self.state.lock().unwrap();
        st.change += 1;
        let n = st.change;
        let cal = st.calendars.iter_mut().find(|c| c.id == calendar).unwrap();
        let id = event["id"].as_str().unwrap().to_string();
        cal.events.insert(id.clone(), event);
        cal.log.push((n, id));
    }

    /// Adds or replaces a series master (by its `id`).
    pub fn put_master(&self, calendar: &str, master: Value) {
        let mut st = self.state.lock().unwrap();
        let cal = st.calendars.iter_mut().find(|c| c.id == calendar).unwrap();
        cal.masters.insert(master["id"].as_str().unwrap().to_string(), master);
    }

    /// Deletes an event.
    pub fn delete_event(&self, calendar: &str, id: &str) {
        let mut st = self.state.lock().unwrap();
        st.change += 1;
        let n = st.change;
        let cal = st.calendars.iter_mut().find(|c| c.id == calendar).unwrap();
        cal.events.remove(id);
        cal.log.push((n, id.to_string()));
    }

    pub fn events(&self, calendar: &str) -> Vec<Value> {
        let st = self.state.lock().unwrap();
        st.calendars.iter().find(|c| c.id == calendar).unwrap().events.values().cloned().collect()
    }

    /// At most `n` events a page (Graph honours `odata.maxpagesize` up to its own cap).
    pub fn set_page(&self, n: usize) {
        self.state.lock().unwrap().page = n;
    }

    /// Every delta token handed out so far is forgotten.
    pub fn expire_delta_tokens(&self) {
        let mut st = self.state.lock().unwrap();
        st.oldest_token = st.change + 1;
    }

    /// Requests whose path contains `part`.
    pub fn requests(&self, part: &str) -> usize {
        self.state.lock().unwrap().requests.iter().filter(|(_, p)| p.contains(part)).count()
    }

    pub fn all_requests(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }
}

/// A time as Graph writes it, in UTC.
fn at(d: chrono::DateTime<chrono::Utc>) -> Value {
    json!({"dateTime": d.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"})
}

/// An occurrence of a series as calendarView's delta returns it: its
/// times and its series, nothing else.
pub fn occurrence_stub(id: &str, master: &str, start: chrono::DateTime<chrono::Utc>, minutes: i64) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.event",
        "@odata.etag": format!("W/\"{id}\""),
        "id": id,
        "seriesMasterId": master,
        "type": "occurrence",
        "start": at(start),
        "end": at(start + chrono::Duration::minutes(minutes)),
    })
}

/// An event as Graph returns it (times in UTC, as `Prefer:
/// outlook.timezone="UTC"` asks).
#[allow(clippy::too_many_arguments)]
pub fn event(
    id: &str,
    ical_uid: &str,
    subject: &str,
    start: chrono::DateTime<chrono::Utc>,
    minutes: i64,
    organizer: &str,
    attendees: &[(&str, &str)],
) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.event",
        "@odata.etag": format!("W/\"{id}\""),
        "id": id,
        "iCalUId": ical_uid,
        "createdDateTime": "2026-11-20T08:12:44.0000000Z",
        "lastModifiedDateTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "subject": subject,
        "bodyPreview": format!("{subject}: program"),
        "importance": "normal",
        "isAllDay": false,
        "isCancelled": false,
        "isOrganizer": false,
        "showAs": "busy",
        "type": "singleInstance",
        "seriesMasterId": null,
        "start": at(start),
        "end": at(start + chrono::Duration::minutes(minutes)),
        "location": {"displayName": "Kladno-Dubí, brána 2", "locationType": "default"},
        "organizer": {"emailAddress": {"name": organizer, "address": organizer}},
        "attendees": attendees.iter().map(|(a, response)| json!({
            "type": "required",
            "status": {"response": response, "time": "0001-01-01T00:00:00Z"},
            "emailAddress": {"name": a, "address": a}
        })).collect::<Vec<_>>(),
    })
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json; odata.metadata=minimal\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, user: &str, port: u16, check: &(dyn Fn(&str) -> bool + Sync)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let (mut length, mut auth, mut page_pref) = (0usize, String::new(), None::<usize>);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let Some((k, v)) = h.split_once(':') else { continue };
        let v = v.trim();
        if k.eq_ignore_ascii_case("content-length") {
            length = v.parse().unwrap_or(0);
        } else if k.eq_ignore_ascii_case("authorization") {
            auth = v.to_string();
        } else if k.eq_ignore_ascii_case("prefer") {
            page_pref =
                v.split(',').find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")).and_then(|n| n.parse().ok());
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let mut st = state.lock().unwrap();
    st.requests.push((method.clone(), path.clone()));
    let token = auth.strip_prefix("Bearer ").unwrap_or("");
    if !check(token) {
        drop(st);
        let e = json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}});
        return respond(&mut stream, "401 Unauthorized", &e.to_string());
    }
    let base = format!("http://127.0.0.1:{port}/v1.0");
    let segs: Vec<&str> = path.trim_start_matches("/v1.0/").split('/').collect();
    let not_found =
        json!({"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}});
    let (status, answer) = match (method.as_str(), segs.as_slice()) {
        ("GET", ["me", "calendars"]) => {
            let value: Vec<Value> = st
                .calendars
                .iter()
                .map(|c| {
                    let owner = c.owner.clone().unwrap_or_else(|| user.to_string());
                    json!({"id": c.id, "name": c.name, "isDefaultCalendar": c.default, "canEdit": c.owner.is_none(),
                           "color": "auto", "owner": {"name": owner, "address": owner}})
                })
                .collect();
            ("200 OK", json!({"@odata.context": format!("{base}/$metadata#users('{user}')/calendars"), "value": value}))
        }
        ("GET", ["me", "calendars", id, "calendarView", "delta"]) => {
            let page = page_pref.unwrap_or(10).min(st.page);
            let change = st.change;
            let oldest = st.oldest_token;
            match st.calendars.iter().find(|c| c.id == *id) {
                None => ("404 Not Found", not_found),
                Some(cal) => {
                    let link = |q: String| format!("{base}/me/calendars/{}/calendarView/delta?{q}", cal.id);
                    // What this page lists: a skip token is "since.offset".
                    let (since, offset) = if let Some(skip) = query_value(query, "$skiptoken") {
                        let (a, b) = skip.split_once('.').unwrap_or(("0", "0"));
                        (a.parse::<u64>().ok(), b.parse::<usize>().unwrap_or(0))
                    } else if let Some(delta) = query_value(query, "$deltatoken") {
                        (delta.parse::<u64>().ok(), 0)
                    } else {
                        (Some(0), 0)
                    };
                    match since {
                        Some(s) if s != 0 && s < oldest => (
                            "410 Gone",
                            json!({"error": {"code": "SyncStateNotFound", "message": "The sync state is not found or has expired."}}),
                        ),
                        None => ("400 Bad Request", json!({"error": {"code": "BadRequest", "message": "bad token"}})),
                        Some(s) => {
                            // A first round lists every event; only the page's are copied.
                            let entries: Vec<Value> = if s == 0 {
                                let total = cal.events.len();
                                let chunk: Vec<Value> = cal.events.values().skip(offset).take(page).cloned().collect();
                                let mut answer = json!({"@odata.context": format!("{base}/$metadata#Collection(event)"), "value": chunk});
                                if offset + page < total {
                                    answer["@odata.nextLink"] =
                                        link(format!("$skiptoken={s}.{}", offset + page)).into();
                                } else {
                                    answer["@odata.deltaLink"] = link(format!("$deltatoken={}", change.max(1))).into();
                                }
                                drop(st);
                                return respond(&mut stream, "200 OK", &answer.to_string());
                            } else {
                                let mut ids: Vec<&String> =
                                    cal.log.iter().filter(|(n, _)| *n > s).map(|(_, id)| id).collect();
                                ids.sort();
                                ids.dedup();
                                ids.into_iter()
                                    .map(|id| match cal.events.get(id) {
                                        Some(e) => e.clone(),
                                        None => json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}}),
                                    })
                                    .collect()
                            };
                            let chunk: Vec<Value> = entries.iter().skip(offset).take(page).cloned().collect();
                            let mut answer = json!({"@odata.context": format!("{base}/$metadata#Collection(event)"), "value": chunk});
                            if offset + page < entries.len() {
                                answer["@odata.nextLink"] = link(format!("$skiptoken={s}.{}", offset + page)).into();
                            } else {
                                answer["@odata.deltaLink"] = link(format!("$deltatoken={}", change.max(1))).into();
                            }
                            ("200 OK", answer)
                        }
                    }
                }
            }
        }
        ("POST", ["me", "calendars", id, "events"]) => {
            st.seq += 1;
            st.change += 1;
            let (n, change) = (st.seq, st.change);
            let ical = format!("040000008200E00074C5B7101A82E00800000000{:016X}{:0>56}", n, "10000000ABCDEF");
            let Some(cal) = st.calendars.iter_mut().find(|c| c.id == *id) else {
                drop(st);
                return respond(&mut stream, "404 Not Found", &not_found.to_string());
            };
            let event_id = format!("AAMkAD-{}-{n}", cal.id);
            let mut ev = body.clone();
            ev["id"] = event_id.clone().into();
            ev["iCalUId"] = ical.into();
            ev["type"] = "singleInstance".into();
            ev["isCancelled"] = false.into();
            ev["isOrganizer"] = true.into();
            ev["lastModifiedDateTime"] = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).into();
            ev["organizer"] = json!({"emailAddress": {"name": user, "address": user}});
            if let Some(list) = ev["attendees"].as_array_mut() {
                for a in list {
                    a["status"] = json!({"response": "none", "time": "0001-01-01T00:00:00Z"});
                }
            }
            cal.events.insert(event_id.clone(), ev.clone());
            cal.log.push((change, event_id));
            ("201 Created", ev)
        }
        ("GET", ["me", "events", id]) => {
            match st.calendars.iter().find_map(|c| c.events.get(*id).or_else(|| c.masters.get(*id))) {
                Some(e) => ("200 OK", e.clone()),
                None => ("404 Not Found", not_found),
            }
        }
        ("POST", ["me", "events", id, "cancel"]) => {
            st.change += 1;
            let change = st.change;
            match st.calendars.iter_mut().find(|c| c.events.contains_key(*id)) {
                Some(cal) => {
                    let organizer = cal.events.get(*id).and_then(|e| e["isOrganizer"].as_bool()).unwrap_or(false);
                    if organizer {
                        cal.events.remove(*id);
                        cal.log.push((change, id.to_string()));
                        ("202 Accepted", Value::Null)
                    } else {
                        (
                            "400 Bad Request",
                            json!({"error": {"code": "ErrorAccessDenied", "message": "Your request can't be completed. You need to be an organizer to cancel a meeting."}}),
                        )
                    }
                }
                None => ("404 Not Found", not_found),
            }
        }
        _ => ("404 Not Found", not_found),
    };
    drop(st);
    let text = if answer.is_null() { String::new() } else { answer.to_string() };
    respond(&mut stream, status, &text);
}
