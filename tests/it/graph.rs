//! Microsoft 365 calendars through a Graph-shaped server: the first sync
//! over several pages, an unchanged poll (one request), a change, a
//! removal, an expired delta link (410), the invitation in mail and the
//! calendar's copy as one event, meetings written back (`POST …/events`,
//! `…/cancel`), and a revoked sign-in putting only that account into
//! `login needed`.

use chrono::{Duration, TimeZone, Utc};
use serde_json::Value;

use crate::common::graph_server::{GraphServer, event, occurrence_stub};
use crate::common::oauth_server::OAuthServer;
use crate::common::{Env, fixtures};

const TOKEN: &str = "graph-token-1";
const OUTLOOK_UID: &str =
    "040000008200E00074C5B7101A82E00800000000B0F6A3C1D7C0DC01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90";

fn config(server: &GraphServer, auth: &str, extra: &str) -> String {
    format!(
        r#"data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[maildir]]
name = "inbox"
path = "maildir"

{extra}

[[graph]]
name = "jana-m365"
url = "{}"
{auth}
calendars = ["Calendar"]
future = "3650d"
"#,
        server.base()
    )
}

fn setup() -> (GraphServer, Env) {
    let server = GraphServer::with_token("jana.svobodova@modrykamen.cz", TOKEN);
    server.add_calendar("AAMkCal-1", "Calendar", true);
    server.add_calendar("AAMkCal-2", "Birthdays", false);
    let env = Env::with_config(&config(&server, &format!("token_cmd = \"printf {TOKEN}\""), ""));
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env.path().join("maildir").join(sub)).unwrap();
    }
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    (server, env)
}

fn agenda_of(env: &Env, uid: &str) -> Vec<Value> {
    let all = env.json(&["agenda", "--days", "3650"]);
    all.as_array().unwrap().iter().filter(|o| o["uid"] == uid).cloned().collect()
}

fn event_items(env: &Env) -> i64 {
    env.json(&["stats"])["by_kind"]["event"].as_i64().unwrap_or(0)
}

fn days(n: i64) -> chrono::DateTime<Utc> {
    let d = Utc::now().date_naive() + Duration::days(n);
    Utc.from_utc_datetime(&d.and_hms_opt(9, 0, 0).unwrap())
}

fn karel() -> [(&'static str, &'static str); 1] {
    [("karel.dvorak@acme-stavby.cz", "accepted")]
}

#[test]
fn a_graph_calendar_syncs_by_delta_pages_removals_and_an_expired_link() {
    let (server, env) = setup();
    let organizer = "jana.svobodova@modrykamen.cz";
    for i in 0..7 {
        let e = event(
            &format!("AAMkEv-{i}"),
            &format!("uid-{i}@test"),
            &format!("Schůzka {i}"),
            days(i + 1),
            60,
            organizer,
            &karel(),
        );
        server.put_event("AAMkCal-1", e);
    }
    server.put_event("AAMkCal-2", event("AAMkBd-1", "bd-1@test", "Narozeniny", days(3), 60, organizer, &[]));

    let out = env.ok(&["sync"]);
    assert!(server.requests("calendarView/delta") >= 3, "seven events come in pages of three: {out}");
    assert_eq!(event_items(&env), 7, "{out}");
    let first = agenda_of(&env, "uid-0@test");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["summary"], "Schůzka 0");
    assert_eq!(first[0]["clients"], serde_json::json!(["Acme Stavby"]));
    assert_eq!(first[0]["start"], days(1).to_rfc3339());
    assert!(agenda_of(&env, "bd-1@test").is_empty(), "a calendar not asked for is never read");

    // Nothing changed: one request, nothing stored.
    let before = server.all_requests();
    env.ok(&["sync"]);
    assert_eq!(server.all_requests() - before, 1, "an unchanged poll asks once");
    assert_eq!(event_items(&env), 7);

    // Moved and renamed; another one deleted.
    let moved = event("AAMkEv-1", "uid-1@test", "Schůzka 1 (přesunuto)", days(20), 30, organizer, &karel());
    server.put_event("AAMkCal-1", moved);
    server.delete_event("AAMkCal-1", "AAMkEv-2");
    env.ok(&["sync"]);
    let one = agenda_of(&env, "uid-1@test");
    assert_eq!(one.len(), 1, "moved, not duplicated: {one:?}");
    assert_eq!(one[0]["summary"], "Schůzka 1 (přesunuto)");
    assert_eq!(one[0]["start"], days(20).to_rfc3339());
    assert!(agenda_of(&env, "uid-2@test").is_empty(), "an @removed entry takes its event along");
    assert_eq!(event_items(&env), 6);

    // Graph forgets the delta link (410): everything compared, nothing twice.
    server.expire_delta_tokens();
    server.delete_event("AAMkCal-1", "AAMkEv-3");
    server.put_event("AAMkCal-1", event("AAMkEv-9", "uid-9@test", "Telefonát", days(8), 15, organizer, &karel()));
    let out = env.ok(&["sync"]);
    assert_eq!(event_items(&env), 6, "{out}");
    assert!(agenda_of(&env, "uid-3@test").is_empty());
    assert_eq!(agenda_of(&env, "uid-9@test").len(), 1);
    assert_eq!(agenda_of(&env, "uid-0@test").len(), 1);

    let status = env.json(&["status"]);
    let row = status["sources"].as_array().unwrap().iter().find(|s| s["source"] == "jana-m365").cloned().unwrap();
    assert_eq!(row["events"], 6, "{row}");
    assert_eq!(row["state"], "ok", "{row}");

    // Without `calendars`: every calendar of her own, none a colleague shares.
    server.add_shared_calendar("AAMkCal-3", "Petr – kalendář", "petr.dvorak@modrykamen.cz");
    server.put_event("AAMkCal-3", event("AAMkP-1", "petr-1@test", "Petrova schůzka", days(4), 60, organizer, &karel()));
    let all =
        config(&server, &format!("token_cmd = \"printf {TOKEN}\""), "").replace("calendars = [\"Calendar\"]\n", "");
    std::fs::write(env.path().join("kronika.toml"), all).unwrap();
    env.ok(&["sync"]);
    assert_eq!(agenda_of(&env, "bd-1@test").len(), 1, "her Birthdays calendar is hers");
    assert!(agenda_of(&env, "petr-1@test").is_empty(), "a shared calendar only when named");
    assert_eq!(agenda_of(&env, "uid-0@test").len(), 1);

    // A refused token names the account and keeps what is stored.
    let broken = config(&server, "token_cmd = \"printf wrong-token\"", "");
    std::fs::write(env.path().join("kronika.toml"), broken).unwrap();
    let err = env.fails(&["sync"]);
    assert!(err.contains("jana-m365") && err.contains("cannot log in"), "{err}");
    assert!(!err.contains("wrong-token"), "the token never shows: {err}");
    assert_eq!(event_items(&env), 7, "what is stored stays");
}

#[test]
fn a_series_comes_as_bare_occurrences_and_takes_the_rest_from_its_master() {
    let (server, env) = setup();
    let uid = "040000008200E00074C5B7101A82E00800000000C0A1B2C3D4E5DC01000000000000000010000000AABBCCDDEEFF00112233445566778899";
    let mut master = event("AAMkSer", uid, "Týdenní porada", days(1), 30, "karel.horak@acme-stavby.cz", &karel());
    master["type"] = "seriesMaster".into();
    server.put_master("AAMkCal-1", master.clone());
    for w in 0..3 {
        server.put_event("AAMkCal-1", occurrence_stub(&format!("AAMkSer-{w}"), "AAMkSer", days(1 + 7 * w), 30));
    }
    let out = env.ok(&["sync"]);
    let series = agenda_of(&env, uid);
    assert_eq!(
        series.len(),
        3,
        "one event per occurrence, under the series' UID: {out} {:#?}",
        env.json(&["agenda", "--days", "30"])
    );
    assert!(series.iter().all(|o| o["summary"] == "Týdenní porada"), "{series:#?}");
    assert!(series.iter().all(|o| o["clients"] == serde_json::json!(["Acme Stavby"])), "{series:#?}");
    assert_eq!(series[1]["start"], days(8).to_rfc3339());
    assert_eq!(series[1]["recurrence_id"], days(8).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));

    // The series is renamed: its occurrences change, and take the new name.
    master["subject"] = "Týdenní porada (nový čas)".into();
    server.put_master("AAMkCal-1", master);
    for w in 0..3 {
        server.put_event("AAMkCal-1", occurrence_stub(&format!("AAMkSer-{w}"), "AAMkSer", days(1 + 7 * w), 30));
    }
    env.ok(&["sync"]);
    let series = agenda_of(&env, uid);
    assert_eq!(series.len(), 3);
    assert!(series.iter().all(|o| o["summary"] == "Týdenní porada (nový čas)"), "{series:#?}");
    assert_eq!(event_items(&env), 3);
}

#[test]
fn the_invitation_and_the_calendars_copy_are_one_event() {
    let (server, env) = setup();
    // Karel's Outlook invitation reaches the mailbox…
    let raw = std::fs::read(fixtures().join("invitations").join("outlook-request-cs.eml")).unwrap();
    std::fs::write(env.path().join("maildir/new/1795000001.M1P1Q1.test"), raw).unwrap();
    env.ok(&["sync"]);
    assert_eq!(agenda_of(&env, OUTLOOK_UID).len(), 1);
    // …and Exchange puts it in Jana's calendar, where Graph shows it.
    let start = Utc.with_ymd_and_hms(2030, 1, 15, 9, 0, 0).unwrap();
    let mut copy = event(
        "AAMkInv-1",
        OUTLOOK_UID,
        "Předání díla – VZT hala Kladno",
        start,
        120,
        "karel.horak@acme-stavby.cz",
        &[("jana.svobodova@modrykamen.cz", "accepted")],
    );
    server.put_event("AAMkCal-1", copy.clone());
    env.ok(&["sync"]);
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1, "one meeting, one event: {a:#?}");
    assert_eq!(event_items(&env), 1);
    let id = a[0]["id"].clone();

    // Karel moves it: the update by mail, then the calendar's copy.
    let raw = std::fs::read(fixtures().join("invitations").join("outlook-update-cs.eml")).unwrap();
    std::fs::write(env.path().join("maildir/new/1795000002.M1P1Q2.test"), raw).unwrap();
    env.ok(&["sync"]);
    let moved = Utc.with_ymd_and_hms(2030, 1, 16, 12, 0, 0).unwrap();
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!((a.len(), &a[0]["id"], a[0]["start"].as_str()), (1, &id, Some(moved.to_rfc3339().as_str())));
    copy = event(
        "AAMkInv-1",
        OUTLOOK_UID,
        "Předání díla – VZT hala Kladno",
        moved,
        120,
        "karel.horak@acme-stavby.cz",
        &[],
    );
    server.put_event("AAMkCal-1", copy);
    env.ok(&["sync"]);
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["id"], id);
    assert_eq!(a[0]["start"], moved.to_rfc3339());
    assert_eq!(event_items(&env), 1);
}

#[test]
fn meetings_are_written_to_graph_and_come_back_as_one_event() {
    let (server, env) = setup();
    env.ok(&["contact", "add", "acme", "Karel Dvořák", "--email", "karel.dvorak@acme-stavby.cz"]);
    let at = (Utc::now() + Duration::days(9)).format("%Y-%m-%d 10:00").to_string();
    let planned = env.json(&["meeting", "add", "acme", "--at", &at, "--title", "Předání stavby"]);
    let uid = planned["uid"].as_str().unwrap().to_string();
    assert_eq!(planned["calendar"], "jana-m365/Calendar");
    assert_eq!(planned["attendees"][0], "karel.dvorak@acme-stavby.cz");

    let on_server = server.events("AAMkCal-1");
    assert_eq!(on_server.len(), 1, "{on_server:?}");
    let ev = &on_server[0];
    assert_eq!(ev["subject"], "Předání stavby");
    assert_eq!(ev["attendees"][0]["emailAddress"]["address"], "karel.dvorak@acme-stavby.cz");
    assert_eq!(ev["iCalUId"], uid.as_str(), "the UID kronika reports is Graph's iCalUId");
    assert!(ev["transactionId"].is_string(), "a retried POST makes one event: {ev}");

    let found = agenda_of(&env, &uid);
    assert_eq!(found.len(), 1, "in the agenda at once");
    assert_eq!(found[0]["clients"], serde_json::json!(["Acme Stavby"]));
    env.ok(&["sync"]);
    assert_eq!(agenda_of(&env, &uid).len(), 1, "the sync brings it back as the same event");
    assert_eq!(event_items(&env), 1);

    // Cancelled: Exchange deletes the organiser's copy; kronika keeps it, marked.
    let out = env.ok(&["meeting", "cancel", &uid]);
    assert!(out.contains("cancelled") && out.contains("jana-m365"), "{out}");
    assert!(server.events("AAMkCal-1").is_empty(), "cancelled on the server");
    assert!(server.requests("/cancel") == 1);
    assert!(agenda_of(&env, &uid).is_empty(), "a cancelled meeting leaves the agenda");
    let db = rusqlite::Connection::open(env.path().join("data/kronika.sqlite3")).unwrap();
    let (cancelled, live): (i64, i64) = db
        .query_row(
            "SELECT e.cancelled, i.deleted_at IS NULL FROM events e JOIN items i ON i.id = e.item_id WHERE e.uid = ?1",
            [&uid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((cancelled, live), (1, 1), "the meeting stays in the client's record, marked cancelled");
    assert_eq!(event_items(&env), 1);

    let e = env.fails(&["meeting", "add", "acme", "--at", &at, "--calendar", "jana-m365/Nope"]);
    assert!(e.contains("cannot find the calendar") && e.contains("Calendar"), "{e}");
}

#[test]
fn a_revoked_sign_in_puts_only_that_account_into_login_needed() {
    let oauth = OAuthServer::start("jana.svobodova@modrykamen.cz");
    let server = GraphServer::start("jana.svobodova@modrykamen.cz", oauth.checker());
    server.add_calendar("AAMkCal-1", "Calendar", true);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let imap = format!(
        r#"[[imap]]
name = "work"
host = "127.0.0.1"
port = {closed}
tls = "none"
username = "jana.svobodova@modrykamen.cz"
auth = "oauth2"
provider = "custom"
client_id = "kronika-test"
device_url = "{}"
auth_url = "{}"
token_url = "{}"
scopes = ["imap", "offline_access"]
timeout = "2s""#,
        oauth.url("/devicecode"),
        oauth.url("/authorize"),
        oauth.url("/token")
    );
    let env = Env::with_config(&config(&server, "signin = \"work\"", &imap));
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env.path().join("maildir").join(sub)).unwrap();
    }
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    server.put_event(
        "AAMkCal-1",
        event("AAMkEv-1", "uid-1@test", "Schůzka", days(2), 60, "jana.svobodova@modrykamen.cz", &karel()),
    );

    // Before any login the account says what to do.
    let err = env.fails(&["sync"]);
    assert!(err.contains("kronika login work"), "{err}");
    crate::oauth::login_by_device(&env, &oauth);
    // The IMAP server is down; the calendar comes in all the same.
    let _ = env.command(&["sync"]).0.wait();
    assert_eq!(agenda_of(&env, "uid-1@test").len(), 1);
    assert!(oauth.token_requests("refresh_token") >= 1, "the Graph token is redeemed from the sign-in's refresh token");

    // The user revokes kronika: only the sign-in's accounts wait for a login.
    oauth.expire_access_tokens();
    oauth.revoke_refresh_tokens();
    let _ = env.command(&["sync"]).0.wait();
    let status = env.json(&["status"]);
    let rows = status["sources"].as_array().unwrap();
    let of = |name: &str| rows.iter().find(|s| s["source"] == name).cloned().unwrap();
    let graph = of("jana-m365");
    assert_eq!(graph["state"], "login needed", "{graph}");
    assert!(graph["last_error"].as_str().unwrap().contains("kronika login work"), "{graph}");
    assert_eq!(of("inbox")["state"], "ok", "the Maildir goes on");
    assert_eq!(agenda_of(&env, "uid-1@test").len(), 1, "nothing stored is lost");
    for t in oauth.issued() {
        assert!(!status.to_string().contains(&t), "no token in status");
    }
}
