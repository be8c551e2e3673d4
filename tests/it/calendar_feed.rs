//! Calendar feeds end to end: a local HTTP server serving ICS (ETag and 304,
//! errors, HTML with 200, truncated bodies), files that change, the
//! agenda and the brief.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::common::Env;
use serde_json::Value;

/// What the test server answers next: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A tiny HTTP/1.1 server on 127.0.0.1:0 that answers from a script and
/// records the requests it got.
struct Server {
    port: u16,
    answers: Arc<Mutex<Vec<Answer>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (a, r) = (answers.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let (a, r) = (a.clone(), r.clone());
                // A connection each: one that never gets an answer holds up no other.
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    r.lock().unwrap().push(String::from_utf8_lossy(&buf).to_string());
                    let (status, headers, body) = {
                        let mut list = a.lock().unwrap();
                        if list.len() > 1 { list.remove(0) } else { list[0].clone() }
                    };
                    if status == 0 {
                        // Never answer: the client must time out.
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        return;
                    }
                    let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
                    // A truncated body: announce more than is sent.
                    let announced = headers.iter().find(|(k, _)| k == "X-Announce").map(|(_, v)| v.clone());
                    head.push_str(&format!("Content-Length: {}\r\n", announced.unwrap_or(body.len().to_string())));
                    for (k, v) in headers.iter().filter(|(k, _)| k != "X-Announce") {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = s.write_all(head.as_bytes());
                    let _ = s.write_all(&body);
                });
            }
        });
        Server { port, answers, requests }
    }

    fn answer(&self, list: Vec<Answer>) {
        *self.answers.lock().unwrap() = list;
    }
}

/// A calendar with a weekly client call from a month ago on, a single
/// meeting next week, and a cancelled event.
fn calendar(extra_summary: &str) -> String {
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::days(30)).format("%Y%m%dT100000Z");
    let next = (now + chrono::Duration::days(7)).format("%Y%m%dT130000Z");
    let next_end = (now + chrono::Duration::days(7)).format("%Y%m%dT140000Z");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Týdenní call{extra_summary}\r\nORGANIZER:mailto:jana.svobodova@modrykamen.cz\r\nATTENDEE;CN=Karel Horák:mailto:karel.horak@acme-stavby.cz\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:meeting@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{next}\r\nDTEND:{next_end}\r\nSUMMARY:Schůzka nad nabídkou\r\nLOCATION:Kladno\r\nATTENDEE:mailto:tomas@pekarna-novak.cz\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:cancelled@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{next}\r\nDTEND:{next_end}\r\nSTATUS:CANCELLED\r\nSUMMARY:Zrušeno\r\nATTENDEE:mailto:tomas@pekarna-novak.cz\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n"
    )
}

fn env_with(calendar_section: &str) -> Env {
    let env = Env::with_config(&format!(
        "data_dir = \"data\"\nown_addresses = [\"jana.svobodova@modrykamen.cz\"]\nown_domains = [\"modrykamen.cz\"]\n{calendar_section}"
    ));
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    env.ok(&["client", "add", "Pekárna Novák", "--domain", "pekarna-novak.cz"]);
    env
}

fn events(env: &Env) -> i64 {
    env.json(&["stats"])["by_kind"]["event"].as_i64().unwrap_or(0)
}

#[test]
fn a_feed_keeps_its_last_good_state_through_errors() {
    let server = Server::start();
    let env = env_with(&format!(
        "[[calendar]]\nname = \"feed\"\nurl = \"http://jana:tajne-heslo@127.0.0.1:{}/cal.ics\"\ntimeout = \"1s\"\n",
        server.port
    ));
    let good = calendar("").into_bytes();
    // A redirect first, as calendar services do.
    server.answer(vec![
        (301, vec![("Location".into(), format!("http://127.0.0.1:{}/moved.ics", server.port))], vec![]),
        (200, vec![("ETag".into(), "\"v1\"".into())], good.clone()),
    ]);
    let out = env.ok(&["sync"]);
    assert!(out.contains(" new"), "{out}");
    assert!(
        server.requests.lock().unwrap().iter().any(|r| r.starts_with("GET /moved.ics")),
        "the redirect is followed"
    );
    let stored = events(&env);
    assert!(stored >= 6, "a month of weekly calls plus the meeting: {stored}");
    assert!(env.json(&["search", "zruseno"]).as_array().unwrap().is_empty(), "cancelled events are left out");

    // Conditional request: the server says nothing changed.
    server.answer(vec![(304, vec![], vec![])]);
    env.ok(&["sync"]);
    assert!(server.requests.lock().unwrap().last().unwrap().to_lowercase().contains("if-none-match: \"v1\""));
    assert_eq!(events(&env), stored);

    // Errors of every kind keep what was stored.
    let html = b"<html><body>502 Bad Gateway</body></html>".to_vec();
    for (answer, what) in [
        ((500, vec![], b"oops".to_vec()), "HTTP 500"),
        ((404, vec![], b"not found".to_vec()), "HTTP 404"),
        ((200, vec![], html), "not a calendar"),
        ((0, vec![], vec![]), "timeout"),
        (
            (200, vec![("X-Announce".to_string(), (good.len() * 2).to_string())], good[..good.len() / 2].to_vec()),
            "cannot",
        ),
    ] {
        server.answer(vec![answer]);
        let out = env.cmd(&["sync"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("feed") && err.contains("last good state"), "{what}: {err}");
        assert!(!err.contains("tajne-heslo"), "credentials never show: {err}");
        assert_eq!(events(&env), stored, "{what}: nothing deleted");
    }

    // A changed feed updates the occurrences in place.
    let ids_before: Vec<i64> =
        env.json(&["agenda", "--days", "30"]).as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    server.answer(vec![(200, vec![("ETag".into(), "\"v2\"".into())], calendar(" (nový čas)").into_bytes())]);
    let out = env.ok(&["sync"]);
    assert!(out.contains("updated"), "{out}");
    let agenda = env.json(&["agenda", "--days", "30"]);
    let ids_after: Vec<i64> = agenda.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids_before, ids_after, "same items, updated");
    assert!(agenda.as_array().unwrap().iter().any(|e| e["summary"] == "Týdenní call (nový čas)"), "{agenda}");
    assert_eq!(events(&env), stored);
}

#[test]
fn agenda_and_brief_from_a_calendar_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cal.ics");
    std::fs::write(&path, calendar("")).unwrap();
    let env = env_with(&format!("[[calendar]]\nname = \"soubor\"\npath = {:?}\n", path.display().to_string()));
    env.ok(&["sync"]);
    let agenda = env.json(&["agenda", "--days", "10"]);
    let list = agenda.as_array().unwrap();
    assert!(list.len() >= 2, "{agenda}");
    for e in list {
        for key in ["start", "end", "summary", "location", "clients", "uid"] {
            assert!(e.get(key).is_some(), "{key} in {e}");
        }
    }
    let meeting = list.iter().find(|e| e["uid"] == "meeting@test").unwrap();
    assert_eq!(meeting["clients"], serde_json::json!(["Pekárna Novák"]));
    assert_eq!(meeting["location"], "Kladno");
    let acme_only = env.json(&["agenda", "--days", "10", "--client", "acme"]);
    assert!(acme_only.as_array().unwrap().iter().all(|e| e["uid"] == "weekly@test"), "{acme_only}");
    // Past events are in the client's history; upcoming ones are in the agenda, not the history.
    let h = env.json(&["history", "acme"]);
    assert!(!h.as_array().unwrap().is_empty());
    assert!(h.as_array().unwrap().iter().all(|i| i["kind"] == "event"));
    let now = chrono::Utc::now().to_rfc3339();
    assert!(h.as_array().unwrap().iter().all(|i| i["date"].as_str().unwrap() <= now.as_str()), "{h}");
    // The brief.
    let b = env.json(&["brief", "pekarna"]);
    assert_eq!(b["client"]["name"], "Pekárna Novák");
    assert_eq!(b["upcoming_events"][0]["summary"], "Schůzka nad nabídkou", "{b}");
    let md = env.ok(&["brief", "acme", "--format", "markdown"]);
    assert!(md.starts_with("# Acme Stavby"), "{md}");
    assert!(md.contains("## Upcoming"), "{md}");
    let next = env.ok(&["brief", "--next"]);
    assert!(next.starts_with("Next: "), "{next}");

    // The meeting is removed from the file: it leaves the agenda.
    let without: String =
        calendar("").replace("UID:meeting@test", "UID:other@test").replace("Schůzka nad nabídkou", "Jiná věc");
    std::fs::write(&path, without).unwrap();
    let out = env.ok(&["sync"]);
    assert!(out.contains("deleted"), "{out}");
    let agenda: Value = env.json(&["agenda", "--days", "10"]);
    assert!(agenda.as_array().unwrap().iter().all(|e| e["uid"] != "meeting@test"), "{agenda}");
}
