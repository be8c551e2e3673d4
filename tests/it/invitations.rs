//! Meeting invitations in mail (iMIP): each sender's fixture
//! (`fixtures/invitations/`) delivered to a Maildir as mail arrives, then
//! the agenda, the history and the events as the CLI shows them.

use std::path::Path;

use serde_json::Value;

use crate::common::{EXAMPLE_CONFIG, Env, fixtures};

const OUTLOOK_UID: &str =
    "040000008200E00074C5B7101A82E00800000000B0F6A3C1D7C0DC01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90";
const GOOGLE_UID: &str = "5t0q8c3m1k9v2b7n4r6s8d0f2h@google.com";
const APPLE_UID: &str = "8F0C6D2A-3B1E-4C5D-9A7B-2E4F6A8C0D1E";
const SEZNAM_UID: &str = "kalendar-2f9c1e7a-6b4d-4e8f-a0c2-5d7e9f1b3a6c@email.seznam.cz";

fn env() -> Env {
    let env = Env::with_config(EXAMPLE_CONFIG);
    for folder in ["maildir", "maildir/.Sent"] {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(env.path().join(folder).join(sub)).unwrap();
        }
    }
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    env.ok(&[
        "contact",
        "add",
        "acme",
        "Karel Horák",
        "--email",
        "karel.horak@acme-stavby.cz",
        "--email",
        "karel.horak@seznam.cz",
    ]);
    env.ok(&["client", "add", "Pekárna Novák", "--domain", "pekarna-novak.cz"]);
    env.ok(&["client", "add", "Brightwell", "--domain", "brightwell.co.uk"]);
    env
}

/// Delivers a fixture to the INBOX (or `.Sent`) and syncs.
fn deliver(env: &Env, name: &str, folder: &str) {
    let raw = std::fs::read(fixtures().join("invitations").join(name)).unwrap();
    let n = std::fs::read_dir(env.path().join(folder).join("new")).unwrap().count();
    let file = env.path().join(folder).join("new").join(format!("17950000{n:02}.M1P1Q{n}.test"));
    std::fs::write(&file, raw).unwrap();
    env.ok(&["sync"]);
}

/// The agenda's entries of one UID, for ten years ahead.
fn agenda_of(env: &Env, uid: &str) -> Vec<Value> {
    env.json(&["agenda", "--days", "3650"]).as_array().unwrap().iter().filter(|o| o["uid"] == uid).cloned().collect()
}

/// Every event item of one UID, with its whole row (`show --json`).
fn events_of(env: &Env, uid: &str) -> Vec<Value> {
    let db = env.path().join("data").join("kronika.sqlite3");
    let conn =
        rusqlite::Connection::open_with_flags(Path::new(&db), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT item_id FROM events WHERE uid = ?1 ORDER BY rid").unwrap();
    let ids: Vec<i64> = stmt.query_map([uid], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    ids.iter().map(|id| env.json(&["show", &id.to_string()])).collect()
}

fn partstat(event: &Value, address: &str) -> Option<String> {
    event["extra"]["attendees"]
        .as_array()?
        .iter()
        .find(|a| a["address"] == address)
        .and_then(|a| a["partstat"].as_str().map(str::to_string))
}

#[test]
fn outlook_request_update_stale_copy_and_cancel() {
    let env = env();
    deliver(&env, "outlook-request-cs.eml", "maildir");
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1, "{a:#?}");
    // 10:00 in "Central Europe Standard Time" (a Windows zone name) in January.
    assert_eq!(a[0]["start"], "2030-01-15T09:00:00+00:00");
    assert_eq!(a[0]["clients"], serde_json::json!(["Acme Stavby"]));
    assert_eq!(a[0]["location"], "Kladno-Dubí, brána 2");
    let id = a[0]["id"].clone();
    // The invitation mail stays in the history, beside its event.
    let history = env.json(&["history", "acme"]);
    let mail: Vec<&Value> = history.as_array().unwrap().iter().filter(|r| r["kind"] == "email").collect();
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["attachments"].as_array().unwrap().is_empty() || mail[0]["attachments"].is_array());
    let event = &events_of(&env, OUTLOOK_UID)[0];
    assert_eq!(event["extra"]["from_item"], mail[0]["id"], "the event names its invitation");
    let shown = env.json(&["show", &mail[0]["id"].to_string()]);
    assert_eq!(shown["extra"]["invitation"]["method"], "REQUEST");
    assert_eq!(shown["extra"]["invitation"]["uids"][0], OUTLOOK_UID);

    // The organiser moves it: the same event, a new time.
    deliver(&env, "outlook-update-cs.eml", "maildir");
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["id"], id, "one meeting stays one event");
    assert_eq!(a[0]["start"], "2030-01-16T12:00:00+00:00");

    // A late copy of the first request (SEQUENCE 0) does not undo the move.
    deliver(&env, "outlook-stale-cs.eml", "maildir");
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["start"], "2030-01-16T12:00:00+00:00", "a stale copy never wins");

    // Cancelled: out of the agenda, still stored, marked.
    deliver(&env, "outlook-cancel-cs.eml", "maildir");
    assert!(agenda_of(&env, OUTLOOK_UID).is_empty());
    let events = events_of(&env, OUTLOOK_UID);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["extra"]["status"], "CANCELLED");
    assert!(events[0]["deleted_at"].is_null(), "a cancelled meeting stays in the history");
    let mails = env.json(&["history", "acme"]);
    assert_eq!(mails.as_array().unwrap().iter().filter(|r| r["kind"] == "email").count(), 4);

    // A request re-delivered after the cancellation does not bring it back.
    deliver(&env, "outlook-update-cs.eml", "maildir/.Sent");
    assert!(agenda_of(&env, OUTLOOK_UID).is_empty());
}

#[test]
fn google_series_and_one_cancelled_occurrence() {
    let env = env();
    deliver(&env, "google-request-en.eml", "maildir");
    let a = agenda_of(&env, GOOGLE_UID);
    // Weekly from the mail on, a year ahead; `text/calendar` and `invite.ics`
    // carry the same object: each occurrence once.
    assert!(a.len() >= 40, "{}", a.len());
    let mut rids: Vec<&str> = a.iter().map(|o| o["recurrence_id"].as_str().unwrap()).collect();
    let n = rids.len();
    rids.dedup();
    assert_eq!(rids.len(), n, "no occurrence twice");
    assert!(a.iter().all(|o| o["clients"] == serde_json::json!(["Brightwell"])), "{:#?}", a[0]);
    assert!(
        a.iter().all(|o| o["start"].as_str().unwrap().ends_with("15:00:00+00:00")),
        "{:#?}",
        a.iter().map(|o| &o["start"]).collect::<Vec<_>>()
    );

    deliver(&env, "google-cancel-occurrence-en.eml", "maildir");
    let after = agenda_of(&env, GOOGLE_UID);
    let cancelled = "2027-01-05T15:00:00Z";
    assert!(after.iter().all(|o| o["recurrence_id"] != cancelled), "the cancelled occurrence left the agenda");
    let events = events_of(&env, GOOGLE_UID);
    let one: Vec<&Value> = events.iter().filter(|e| e["extra"]["recurrence_id"] == cancelled).collect();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["extra"]["status"], "CANCELLED");
    let others = events.iter().filter(|e| e["extra"]["status"] == "CANCELLED").count();
    assert_eq!(others, 1, "only that occurrence is cancelled");
}

#[test]
fn apple_request_and_thunderbird_reply_in_either_order() {
    for order in
        [["apple-request-cs.eml", "thunderbird-reply-cs.eml"], ["thunderbird-reply-cs.eml", "apple-request-cs.eml"]]
    {
        let env = env();
        for name in order {
            let folder = if name.starts_with("apple") { "maildir/.Sent" } else { "maildir" };
            deliver(&env, name, folder);
        }
        let a = agenda_of(&env, APPLE_UID);
        assert_eq!(a.len(), 1, "{order:?}");
        assert_eq!(a[0]["start"], "2030-02-05T07:00:00+00:00");
        assert_eq!(a[0]["clients"], serde_json::json!(["Pekárna Novák"]));
        assert_eq!(a[0]["location"], "Pekárna Novák, Husova 31, České Budějovice");
        let event = &events_of(&env, APPLE_UID)[0];
        assert_eq!(partstat(event, "tomas@pekarna-novak.cz").as_deref(), Some("ACCEPTED"), "{order:?}");
        assert_eq!(partstat(event, "jana.svobodova@modrykamen.cz").as_deref(), Some("ACCEPTED"));
        assert_eq!(event["direction"], "out", "Jana organised it");
    }
}

#[test]
fn seznam_series_folded_carelessly_then_cancelled_whole() {
    let env = env();
    deliver(&env, "seznam-request-cs.eml", "maildir");
    let a = agenda_of(&env, SEZNAM_UID);
    assert!(a.len() >= 12, "monthly, a year ahead: {}", a.len());
    // Folds inside UTF-8 characters are joined before decoding.
    assert_eq!(a[0]["summary"], "Porada k servisní smlouvě – údržba vzduchotechniky a rekuperačních jednotek");
    // From a free-mail address: linked by the contact's exact address.
    assert!(a.iter().all(|o| o["clients"] == serde_json::json!(["Acme Stavby"])));
    // First Monday at 9:00 in Prague, summer and winter alike.
    for o in &a {
        let start = chrono::DateTime::parse_from_rfc3339(o["start"].as_str().unwrap()).unwrap();
        let local = start.with_timezone(&chrono_tz::Europe::Prague);
        assert_eq!(local.format("%a %H:%M").to_string(), "Mon 09:00", "{o}");
    }

    deliver(&env, "seznam-cancel-cs.eml", "maildir");
    assert!(agenda_of(&env, SEZNAM_UID).is_empty(), "the whole series is cancelled");
    let events = events_of(&env, SEZNAM_UID);
    assert!(events.len() >= 12);
    assert!(events.iter().all(|e| e["extra"]["status"] == "CANCELLED"));
}

#[test]
fn a_published_calendar_stays_an_attachment() {
    let env = env();
    deliver(&env, "publish-cs.eml", "maildir");
    assert_eq!(env.json(&["stats"])["by_kind"]["event"].as_i64().unwrap_or(0), 0);
    let history = env.json(&["history", "acme"]);
    let mail = &history.as_array().unwrap()[0];
    assert_eq!(mail["attachments"], serde_json::json!(["harmonogram.ics"]));
}

/// One meeting seen through a calendar feed and an invitation is one event,
/// whichever arrives first.
#[test]
fn a_feed_and_an_invitation_make_one_event() {
    for feed_first in [true, false] {
        let env = env();
        let feed = env.path().join("cal.ics");
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
                   UID:8F0C6D2A-3B1E-4C5D-9A7B-2E4F6A8C0D1E\r\nDTSTAMP:20261119T071233Z\r\nSEQUENCE:0\r\n\
                   DTSTART;TZID=Europe/Prague:20300205T080000\r\nDTEND;TZID=Europe/Prague:20300205T100000\r\n\
                   SUMMARY:Servisní prohlídka pecí\r\nORGANIZER:mailto:jana.svobodova@modrykamen.cz\r\n\
                   ATTENDEE:mailto:tomas@pekarna-novak.cz\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        std::fs::write(&feed, ics).unwrap();
        let config = format!(
            "{EXAMPLE_CONFIG}\n[[calendar]]\nname = \"jana\"\npath = \"cal.ics\"\npast = \"30d\"\nfuture = \"3650d\"\n"
        );
        std::fs::write(env.config_path(), config).unwrap();
        if feed_first {
            env.ok(&["sync"]);
        }
        deliver(&env, "apple-request-cs.eml", "maildir/.Sent");
        deliver(&env, "thunderbird-reply-cs.eml", "maildir");
        let a = agenda_of(&env, APPLE_UID);
        assert_eq!(a.len(), 1, "feed first: {feed_first}: {a:#?}");
        let events = events_of(&env, APPLE_UID);
        assert_eq!(events.len(), 1);
        let sources: Vec<&str> = events[0]["sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert!(sources.iter().any(|s| s.starts_with("ics:jana ")), "{sources:?}");
        assert!(sources.iter().any(|s| s.starts_with("invitations ")), "{sources:?}");
        assert_eq!(partstat(&events[0], "tomas@pekarna-novak.cz").as_deref(), Some("ACCEPTED"));
        assert_eq!(env.json(&["stats"])["by_kind"]["event"].as_i64(), Some(1));

        // The feed drops it (declined in that calendar): the invitation
        // still holds it.
        std::fs::write(&feed, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n").unwrap();
        env.ok(&["sync"]);
        assert_eq!(agenda_of(&env, APPLE_UID).len(), 1);
    }
}

/// The capture mailbox and archive import read invitations as the Maildir does.
#[test]
fn invitations_in_an_imported_archive() {
    let env = env();
    let file = fixtures().join("invitations").join("outlook-request-cs.eml");
    env.ok(&["import", "eml", file.to_str().unwrap()]);
    let a = agenda_of(&env, OUTLOOK_UID);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["clients"], serde_json::json!(["Acme Stavby"]));
}
