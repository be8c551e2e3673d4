//! CalDAV accounts against a real Radicale: discovery from the server's
//! root, the first sync, a change, a deletion, an unchanged poll (one
//! request), an invalidated sync token, a wrong password, and meetings
//! written back (`meeting add`, `meeting cancel`).

use std::path::Path;

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::Env;
use crate::common::radicale::Radicale;

fn config(server: &Radicale, extra: &str) -> String {
    format!(
        r#"data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[caldav]]
name = "jana-cal"
url = "{}"
username = "{}"
password_cmd = "printf '%s' '{}'"
calendars = ["Práce"]
{extra}
"#,
        server.url("/"),
        server.user,
        server.password
    )
}

/// An event in `days` days at 9:00 UTC.
fn event(uid: &str, days: i64, summary: &str, sequence: u32, extra: &str) -> String {
    let start = (Utc::now() + Duration::days(days)).format("%Y%m%dT090000Z");
    let end = (Utc::now() + Duration::days(days)).format("%Y%m%dT100000Z");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T100000Z\r\nSEQUENCE:{sequence}\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\nORGANIZER;CN=Jana Svobodová:mailto:jana.svobodova@modrykamen.cz\r\nATTENDEE;CN=Karel Dvořák;PARTSTAT=ACCEPTED:mailto:karel.dvorak@acme-stavby.cz\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn agenda(env: &Env) -> Vec<Value> {
    env.json(&["agenda", "--days", "400"]).as_array().cloned().unwrap_or_default()
}

fn of_uid(env: &Env, uid: &str) -> Vec<Value> {
    agenda(env).into_iter().filter(|o| o["uid"] == uid).collect()
}

fn event_items(env: &Env) -> i64 {
    env.json(&["stats"])["by_kind"]["event"].as_i64().unwrap_or(0)
}

fn setup() -> (Radicale, Env) {
    let server = Radicale::start();
    server.make_calendar("prace", "Práce");
    server.make_calendar("osobni", "Osobní");
    let env = Env::with_config(&config(&server, ""));
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    (server, env)
}

#[test]
fn a_radicale_calendar_syncs_changes_deletions_and_stale_tokens() {
    let (server, env) = setup();
    server.put("prace", "site.ics", &event("site-visit@test", 5, "Kontrola stavby", 0, ""));
    server.put("prace", "weekly.ics", &event("weekly@test", 2, "Týdenní porada", 0, "RRULE:FREQ=WEEKLY;COUNT=4\r\n"));
    // Another calendar of the user, not asked for: never read.
    server.put("osobni", "dentist.ics", &event("dentist@test", 3, "Zubař", 0, ""));

    let out = env.ok(&["sync"]);
    let site = of_uid(&env, "site-visit@test");
    assert_eq!(site.len(), 1, "{out}\n{:?}", agenda(&env));
    assert_eq!(site[0]["summary"], "Kontrola stavby");
    assert!(site[0]["clients"].to_string().contains("Acme Stavby"), "{site:?}");
    assert_eq!(of_uid(&env, "weekly@test").len(), 4);
    assert!(of_uid(&env, "dentist@test").is_empty());
    assert_eq!(event_items(&env), 5);

    // Nothing changed: one request, nothing stored.
    let before = server.requests().len();
    let out = env.ok(&["sync"]);
    let asked: Vec<String> = server.requests().split_off(before);
    assert_eq!(asked.len(), 1, "an unchanged poll asks once: {asked:?}\n{out}");
    assert!(asked[0].contains("REPORT"), "{asked:?}");
    assert_eq!(event_items(&env), 5);

    // The organiser moves the visit and renames it; the series loses a week.
    server.put("prace", "site.ics", &event("site-visit@test", 6, "Kontrola stavby (přesunuto)", 1, ""));
    server.put("prace", "weekly.ics", &event("weekly@test", 2, "Týdenní porada", 1, "RRULE:FREQ=WEEKLY;COUNT=3\r\n"));
    env.ok(&["sync"]);
    let site = of_uid(&env, "site-visit@test");
    assert_eq!(site.len(), 1, "moved, not duplicated: {site:?}");
    assert_eq!(site[0]["summary"], "Kontrola stavby (přesunuto)");
    assert_eq!(of_uid(&env, "weekly@test").len(), 3);

    // Deleted on the server: gone from the agenda.
    server.delete("prace", "weekly.ics");
    env.ok(&["sync"]);
    assert!(of_uid(&env, "weekly@test").is_empty());
    assert_eq!(of_uid(&env, "site-visit@test").len(), 1);

    // The server forgets the token: a full comparison, no duplicates.
    let db = env.path().join("data").join("kronika.sqlite3");
    let conn = rusqlite::Connection::open(Path::new(&db)).unwrap();
    let cursor: String =
        conn.query_row("SELECT value FROM cursors WHERE source = 'caldav:jana-cal/prace'", [], |r| r.get(0)).unwrap();
    let mut c: Value = serde_json::from_str(&cursor).unwrap();
    c["sync_token"] = Value::String("http://radicale.org/ns/sync/0000".into());
    conn.execute("UPDATE cursors SET value = ?1 WHERE source = 'caldav:jana-cal/prace'", [c.to_string()]).unwrap();
    drop(conn);
    server.put("prace", "call.ics", &event("call@test", 8, "Telefonát s Acme", 0, ""));
    env.ok(&["sync"]);
    assert_eq!(of_uid(&env, "site-visit@test").len(), 1);
    assert_eq!(of_uid(&env, "call@test").len(), 1);
    assert_eq!(event_items(&env), 2, "no duplicates after the full comparison");

    let status = env.json(&["status"]);
    let row = status["sources"].as_array().unwrap().iter().find(|s| s["source"] == "jana-cal").cloned().unwrap();
    assert_eq!(row["events"], 2, "{row}");
    assert!(row["last_error"].is_null(), "{row}");
}

#[test]
fn a_wrong_password_names_the_account_and_stores_nothing() {
    let server = Radicale::start();
    server.make_calendar("prace", "Práce");
    server.put("prace", "site.ics", &event("site-visit@test", 5, "Kontrola stavby", 0, ""));
    let env = Env::with_config(&config(&server, "").replace(&server.password, "spatne"));
    let out = env.fails(&["sync"]);
    assert!(out.contains("jana-cal") && out.contains("cannot log in"), "{out}");
    assert!(!out.contains("spatne"), "the password never shows: {out}");
    assert_eq!(event_items(&env), 0);

    // A calendar name the server does not have: the error lists those it has.
    let env = Env::with_config(&config(&server, "").replace("[\"Práce\"]", "[\"Work\"]"));
    let out = env.fails(&["sync"]);
    assert!(out.contains("\"Work\"") && out.contains("Práce"), "{out}");
}

#[test]
fn meetings_are_written_to_radicale_and_come_back_as_one_event() {
    let (server, env) = setup();
    env.ok(&["contact", "add", "acme", "Karel Dvořák", "--email", "karel.dvorak@acme-stavby.cz"]);
    let at = (Utc::now() + Duration::days(9)).format("%Y-%m-%d 10:00").to_string();
    let planned = env.json(&[
        "meeting",
        "add",
        "acme",
        "--at",
        &at,
        "--duration",
        "90m",
        "--title",
        "Předání stavby",
        "--with",
        "stavbyvedouci@acme-stavby.cz",
    ]);
    let uid = planned["uid"].as_str().unwrap().to_string();
    assert_eq!(planned["calendar"], "jana-cal/Práce");

    // On the server: one object with the attendee, organised by us.
    let objects = server.objects("prace");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let ics = &objects[0].1.replace("\r\n ", "").replace("\n ", "");
    assert!(ics.contains(&format!("UID:{uid}")) && ics.contains("SUMMARY:Předání stavby"), "{ics}");
    assert!(ics.contains("mailto:stavbyvedouci@acme-stavby.cz"), "{ics}");
    assert!(ics.contains("ORGANIZER:mailto:jana.svobodova@modrykamen.cz"), "{ics}");

    // In the agenda at once, linked to the client; a later sync adds nothing.
    let found = of_uid(&env, &uid);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["clients"].to_string().contains("Acme Stavby"), "{found:?}");
    env.ok(&["sync"]);
    assert_eq!(of_uid(&env, &uid).len(), 1);
    assert_eq!(event_items(&env), 1);

    // Without --with: the client's contact is invited.
    let second = env.json(&["meeting", "add", "acme", "--at", &at, "--calendar", "jana-cal/Práce"]);
    let uid2 = second["uid"].as_str().unwrap().to_string();
    assert_eq!(second["attendees"][0], "karel.dvorak@acme-stavby.cz");
    assert_eq!(server.objects("prace").len(), 2);

    // Cancelled: marked on the server, out of the agenda, kept in the store.
    let out = env.ok(&["meeting", "cancel", &uid]);
    assert!(out.contains("cancelled"), "{out}");
    let ics = server.objects("prace").into_iter().find(|(_, t)| t.contains(&uid)).unwrap().1;
    assert!(ics.contains("STATUS:CANCELLED") && ics.contains("SEQUENCE:1"), "{ics}");
    assert!(of_uid(&env, &uid).is_empty(), "a cancelled meeting leaves the agenda");
    assert_eq!(of_uid(&env, &uid2).len(), 1);
    assert_eq!(event_items(&env), 2, "the cancelled meeting stays an item, marked");

    // Nonsense is refused by name.
    let e = env.fails(&["meeting", "add", "acme", "--at", "tomorrow-ish"]);
    assert!(e.contains("cannot read the time"), "{e}");
    let e = env.fails(&["meeting", "cancel", "no-such-uid@x"]);
    assert!(e.contains("cannot find the meeting"), "{e}");
}

/// One meeting seen through an invitation in mail, a CalDAV calendar and
/// an ICS feed is one event, whichever comes first.
#[test]
fn an_invitation_a_calendar_and_a_feed_of_one_meeting_are_one_event() {
    const UID: &str = "040000008200E00074C5B7101A82E00800000000B0F6A3C1D7C0DC01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90";
    let of_uid = |env: &Env, uid: &str| -> Vec<Value> {
        let all = env.json(&["agenda", "--days", "3650"]);
        all.as_array().unwrap().iter().filter(|o| o["uid"] == uid).cloned().collect()
    };
    let server = Radicale::start();
    server.make_calendar("prace", "Práce");
    let copy = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{UID}\r\nDTSTAMP:20261120T081244Z\r\nSEQUENCE:0\r\nDTSTART:20300115T090000Z\r\nDTEND:20300115T110000Z\r\nSUMMARY:Předání díla – VZT hala Kladno\r\nORGANIZER:mailto:karel.horak@acme-stavby.cz\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:jana.svobodova@modrykamen.cz\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let extra = "future = \"3650d\"\n\n[[maildir]]\nname = \"inbox\"\npath = \"maildir\"\n\n[[calendar]]\nname = \"feed\"\npath = \"feed.ics\"\nfuture = \"3650d\"\n";
    let env = Env::with_config(&config(&server, extra));
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env.path().join("maildir").join(sub)).unwrap();
    }
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    // The feed and the calendar have it first; then the invitation comes.
    std::fs::write(env.path().join("feed.ics"), &copy).unwrap();
    server.put("prace", "vzt.ics", &copy);
    env.ok(&["sync"]);
    assert_eq!(of_uid(&env, UID).len(), 1);
    let raw = std::fs::read(crate::common::fixtures().join("invitations/outlook-request-cs.eml")).unwrap();
    std::fs::write(env.path().join("maildir/new/1795000001.M1P1Q1.test"), raw).unwrap();
    env.ok(&["sync"]);
    let one = of_uid(&env, UID);
    assert_eq!(one.len(), 1, "one meeting, one event: {one:#?}");
    assert_eq!(one[0]["clients"], serde_json::json!(["Acme Stavby"]));
    assert_eq!(event_items(&env), 1, "one item, held by three sources");
    let db = rusqlite::Connection::open(env.path().join("data/kronika.sqlite3")).unwrap();
    let sources: Vec<String> = db
        .prepare(
            "SELECT s.source FROM events e JOIN item_sources s ON s.item_id = e.item_id WHERE e.uid = ?1 ORDER BY 1",
        )
        .unwrap()
        .query_map([UID], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sources.len(), 3, "{sources:?}");
    // The organiser moves it by mail: every copy is the one moved event.
    let raw = std::fs::read(crate::common::fixtures().join("invitations/outlook-update-cs.eml")).unwrap();
    std::fs::write(env.path().join("maildir/new/1795000002.M1P1Q2.test"), raw).unwrap();
    env.ok(&["sync"]);
    let one = of_uid(&env, UID);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["start"], "2030-01-16T12:00:00+00:00");
    // A later sync of the (stale) feed and calendar copies does not move it back.
    env.ok(&["sync"]);
    assert_eq!(of_uid(&env, UID)[0]["start"], "2030-01-16T12:00:00+00:00");
}
