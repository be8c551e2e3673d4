//! The store on both backends (issue 19): the read side: views, timelines, the index feed, reminders, proposals and visibility, on SQLite and on
//! PostgreSQL alike (see `common::stores`).
//!
//! The data is written through the store's API on each backend; what no
//! writer of the API sets (proposals, an item deleted, an event cancelled)
//! is written with the same SQL on both.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, TimeZone, Utc};
use kronika::args;
use kronika::matcher::Policy;
use kronika::model::{ClientId, ContactId, ItemId, ItemKind, Participant, Role};
use kronika::store::{
    Attachment, Changes, ClientInput, ContactInput, NewItem, Planned, SourceKey, Store, StoreError, TimelineFilter,
};

use crate::common::stores;

// ---------------------------------------------------------------------------
// Setting the data up

fn policy() -> Policy {
    Policy { own_domains: vec!["modrykamen.cz".into()], ..Policy::default() }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
}

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn party(role: Role, name: Option<&str>, address: &str) -> Participant {
    Participant { role, name: name.map(str::to_string), address: address.into() }
}

/// A mail from `from` to `to` at `date`, answering `parents`.
fn mail(id: &str, from: &str, to: &str, date: DateTime<Utc>, parents: &[&str]) -> NewItem {
    NewItem {
        kind: ItemKind::Email,
        message_id: Some(id.into()),
        references: parents.iter().map(|s| s.to_string()).collect(),
        date,
        subject: format!("mail {id}"),
        body: "Dobrý den, posílám nabídku.".into(),
        participants: vec![party(Role::From, None, from), party(Role::To, None, to)],
        content_hash: format!("{id:0>64}"),
        extra: serde_json::json!({}),
        ..NewItem::default()
    }
}

fn key(source: &str, k: &str) -> SourceKey {
    SourceKey { source: source.into(), key: k.into() }
}

fn ingest(s: &mut Store, item: &NewItem, source: &str, k: &str) -> i64 {
    match s.ingest(item, &key(source, k)).unwrap() {
        kronika::store::IngestOutcome::New(id) => id.0,
        other => panic!("expected a new item, got {other:?}"),
    }
}

fn acme(s: &mut Store) -> ClientId {
    s.add_client(&ClientInput { name: "Acme Stavby".into(), domains: vec!["acme.cz".into()], ..Default::default() })
        .unwrap()
}

fn contact(s: &mut Store, client: ClientId, name: &str, email: &str) -> ContactId {
    s.add_contact(client, &ContactInput { name: name.into(), emails: vec![email.into()], ..Default::default() })
        .unwrap()
}

fn ids(v: Vec<ItemId>) -> Vec<i64> {
    v.into_iter().map(|i| i.0).collect()
}

// ---------------------------------------------------------------------------
// views.rs

fn subjects(s: &Store, client: ClientId, newest: Option<usize>) -> Vec<String> {
    s.waiting_threads(Some(client), newest).unwrap().into_iter().map(|w| w.subject).collect()
}

/// Which threads wait for our reply, followed through answers, a missing
/// parent that merges two threads, a deleted mail, and the newest-first
/// limit the brief asks for (was the unit test in `store::views`).
#[test]
fn waiting_threads_follow_replies_merges_and_deletions() {
    stores::each(policy(), |backend, mut s| {
        let client = acme(&mut s);
        let (them, us) = ("karel@acme.cz", "jana@modrykamen.cz");
        let mut n = 0;
        let mut put = |s: &mut Store, m: NewItem| {
            n += 1;
            let k = n.to_string();
            ingest(s, &m, "t", &k);
        };
        let hour = |h: i64| at(2, 8) + Duration::hours(h);
        // Thread a: asked, answered. Thread b: asked, waiting.
        put(&mut s, mail("a1", them, us, hour(0), &[]));
        put(&mut s, mail("a2", us, them, hour(1), &["a1"]));
        put(&mut s, mail("b1", them, us, hour(2), &[]));
        assert_eq!(subjects(&s, client, None), ["mail b1"], "{backend:?}");
        // Thread a asked again: both wait, oldest first; the newest alone.
        put(&mut s, mail("a3", them, us, hour(3), &["a1", "a2"]));
        assert_eq!(subjects(&s, client, None), ["mail b1", "mail a3"]);
        assert_eq!(subjects(&s, client, Some(1)), ["mail a3"]);
        assert_eq!(subjects(&s, client, Some(0)), Vec::<String>::new());
        // c1 and c2 start apart (c2 lost its references), x9 waits on its
        // own; our c3 answers c2 and names c1 too, so the two threads merge.
        put(&mut s, mail("c1", them, us, hour(3), &[]));
        put(&mut s, mail("c2", them, us, hour(4), &[]));
        put(&mut s, mail("x9", them, us, hour(5), &[]));
        assert_eq!(subjects(&s, client, None).len(), 5);
        put(&mut s, mail("c3", us, them, hour(6), &["c1", "c2"]));
        // Every link carries its item's thread, date, kind and liveness.
        let threads: Vec<(i64, Option<i64>, bool)> = s
            .db()
            .query(
                "SELECT i.thread_id, l.thread_id, i.date = l.date AND i.kind = l.kind
                        AND l.live = CASE WHEN i.deleted_at IS NULL THEN 1 ELSE 0 END
                 FROM items i JOIN item_links l ON l.item_id = i.id",
                args![],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(threads.len(), 8);
        assert!(threads.iter().all(|(i, l, same)| Some(*i) == *l && *same), "{threads:?}");
        let merged: Option<i64> =
            s.db().value("SELECT COUNT(DISTINCT thread_id) FROM items WHERE message_id LIKE 'c%'", args![]).unwrap();
        assert_eq!(merged, Some(1));
        assert_eq!(subjects(&s, client, None), ["mail b1", "mail a3", "mail x9"]);
        // Everyone's, newest first and counted up to a bound; a thread no
        // client is linked to waits for nobody.
        ingest(&mut s, &mail("p1", "teta@seznam.cz", us, hour(7), &[]), "t", "p1");
        let newest: Vec<String> = s.waiting_threads(None, Some(2)).unwrap().into_iter().map(|w| w.subject).collect();
        assert_eq!(newest, ["mail a3", "mail x9"], "{backend:?}");
        assert_eq!(s.waiting_count(100).unwrap(), 3, "{backend:?}");
        assert_eq!(s.waiting_count(2).unwrap(), 2, "{backend:?}");
        // The client's last mail of thread a deleted: our a2 is the last
        // live one, so thread a no longer waits.
        s.db()
            .execute("UPDATE items SET deleted_at = '2026-03-03T00:00:00Z' WHERE message_id = 'a3'", args![])
            .unwrap();
        assert_eq!(subjects(&s, client, None), ["mail b1", "mail x9"]);
        assert_eq!(subjects(&s, client, Some(5)), ["mail b1", "mail x9"]);
        let all = s.waiting_threads(None, None).unwrap();
        assert_eq!(all.iter().map(|w| w.subject.as_str()).collect::<Vec<_>>(), ["mail b1", "mail x9"]);
        assert_eq!(all[0].clients, [(client.0, "Acme Stavby".to_string())]);
        assert_eq!(all[0].date, hour(2));
        assert_eq!(all[0].from_address.as_deref(), Some(them));
        assert_eq!(all[0].from_name, None);
        // A meeting invitation is answered in the calendar, not in the
        // thread: it waits for nothing, in the brief or on Today.
        let mut invitation = mail("i1", them, us, hour(7), &[]);
        invitation.extra = serde_json::json!({"invitation": {"method": "REQUEST", "uids": ["u1@acme.cz"]}});
        put(&mut s, invitation);
        assert_eq!(subjects(&s, client, None), ["mail b1", "mail x9"]);
        assert_eq!(s.waiting_threads(None, Some(1)).unwrap()[0].subject, "mail x9");
    });
}

/// Each thread's last live mail (`thread_last`, kept by triggers) follows
/// every write that can move it: a batch whose reply is dated before its
/// parent, a merge of threads, a deletion and its undoing, a changed date,
/// an invitation, a row deleted outright and a person erased.
#[test]
fn each_threads_last_mail_follows_every_write() {
    stores::each(policy(), |backend, mut s| {
        let client = acme(&mut s);
        let (them, us, other) = ("karel@acme.cz", "jana@modrykamen.cz", "lucie@acme.cz");
        let hour = |h: i64| at(5, 8) + Duration::hours(h);
        let holds = |s: &Store, step: &str| stores::assert_thread_last_holds(s, &format!("{backend:?}: {step}"));
        // One batch: thread d, whose answer is dated before the question
        // (a wrong clock), and thread e.
        let batch = [
            (mail("d1", them, us, hour(2), &[]), key("t", "1")),
            (mail("d2", us, them, hour(1), &["d1"]), key("t", "2")),
            (mail("e1", other, us, hour(3), &[]), key("t", "3")),
            (mail("e2", them, us, hour(3), &["e1"]), key("t", "4")),
        ];
        s.apply(&Changes { items: &batch, ..Changes::default() }).unwrap();
        holds(&s, "a batch");
        assert_eq!(subjects(&s, client, None), ["mail d1", "mail e2"], "{backend:?}");
        // f1 stands apart until our f2 names both d1 and f1: they merge.
        ingest(&mut s, &mail("f1", them, us, hour(4), &[]), "t", "5");
        holds(&s, "a new thread");
        ingest(&mut s, &mail("f2", us, them, hour(5), &["d1", "f1"]), "t", "6");
        holds(&s, "a merge");
        assert_eq!(subjects(&s, client, None), ["mail e2"]);
        // Our answer deleted, then back.
        let f2 = "SELECT id FROM items WHERE message_id = 'f2'";
        let f2: i64 = s.db().value(f2, args![]).unwrap().unwrap();
        s.db().execute("UPDATE items SET deleted_at = ?2 WHERE id = ?1", args![f2, ts(hour(9))]).unwrap();
        holds(&s, "a deletion");
        // d and f are one thread now: its last live mail is f1.
        assert_eq!(subjects(&s, client, None), ["mail e2", "mail f1"]);
        s.db().execute("UPDATE items SET deleted_at = NULL WHERE id = ?1", args![f2]).unwrap();
        holds(&s, "an undeletion");
        // e1 moved after e2: e1 (from Lucie) is the last of thread e now.
        s.db().execute("UPDATE items SET date = ?2 WHERE message_id = ?1", args!["e1", ts(hour(6))]).unwrap();
        holds(&s, "a date");
        assert_eq!(subjects(&s, client, None), ["mail e1"]);
        // An invitation is the last mail: nothing waits in that thread.
        let mut invitation = mail("e3", them, us, hour(7), &["e1"]);
        invitation.extra = serde_json::json!({"invitation": {"method": "REQUEST", "uids": ["u1@acme.cz"]}});
        ingest(&mut s, &invitation, "t", "7");
        holds(&s, "an invitation");
        assert_eq!(subjects(&s, client, None), Vec::<String>::new());
        s.db().execute("UPDATE items SET extra = '{}' WHERE message_id = 'e3'", args![]).unwrap();
        holds(&s, "an invitation no more");
        assert_eq!(subjects(&s, client, None), ["mail e3"]);
        // A row deleted outright (as the erasure of a whole item does).
        s.db().execute("DELETE FROM items WHERE message_id = 'e3'", args![]).unwrap();
        holds(&s, "a row deleted");
        assert_eq!(subjects(&s, client, None), ["mail e1"]);
        // Lucie erased: her mail goes, thread e ends with Karel's e2 again.
        let fp = s.person_footprint(other).unwrap();
        s.forget_person(&fp, "jana").unwrap();
        holds(&s, "an erasure");
        assert_eq!(subjects(&s, client, None), ["mail e2"]);
        // Drift (a row wrong, one missing, one for no thread) is found,
        // and the repair writes it again from the items.
        assert!(s.thread_last_drift().unwrap().is_empty(), "{backend:?}");
        let threads: Vec<i64> =
            s.db().query("SELECT thread_id FROM thread_last ORDER BY thread_id", args![], |r| r.get(0)).unwrap();
        s.db().execute("UPDATE thread_last SET waiting = 1 - waiting WHERE thread_id = ?1", args![threads[0]]).unwrap();
        s.db().execute("DELETE FROM thread_last WHERE thread_id = ?1", args![threads[1]]).unwrap();
        s.db()
            .execute("INSERT INTO thread_last (thread_id, item_id, date, waiting) VALUES (999999, 1, '2026-01-01T00:00:00Z', 1)", args![])
            .unwrap();
        assert_eq!(s.thread_last_drift().unwrap(), [threads[0], threads[1], 999_999], "{backend:?}");
        s.rebuild_thread_last().unwrap();
        holds(&s, "a repair");
        assert!(s.thread_last_drift().unwrap().is_empty());
    });
}

/// A thread linked to two clients waits once, with both (by name); a
/// client without threads waits for nothing.
#[test]
fn a_waiting_thread_of_two_clients_names_both() {
    stores::each(policy(), |backend, mut s| {
        let (acme, zelva, quiet) = {
            let s = &mut s;
            let acme = acme(s);
            let zelva = s
                .add_client(&ClientInput {
                    name: "Želva Okna".into(),
                    domains: vec!["zelva.cz".into()],
                    ..Default::default()
                })
                .unwrap();
            let quiet = s.add_client(&ClientInput { name: "Čtvrtá".into(), ..Default::default() }).unwrap();
            let mut m = mail("z1", "karel@acme.cz", "jana@modrykamen.cz", at(4, 9), &[]);
            m.participants[0].name = Some("Karel Horák".into());
            m.participants.push(party(Role::Cc, None, "petr@zelva.cz"));
            ingest(s, &m, "t", "1");
            (acme, zelva, quiet)
        };
        let all = s.waiting_threads(None, None).unwrap();
        assert_eq!(all.len(), 1, "{backend:?} {all:?}");
        assert_eq!(all[0].from_name.as_deref(), Some("Karel Horák"));
        assert_eq!(all[0].clients, [(acme.0, "Acme Stavby".to_string()), (zelva.0, "Želva Okna".to_string())]);
        assert_eq!(s.waiting_threads(Some(zelva), None).unwrap()[0].clients, [(zelva.0, "Želva Okna".to_string())]);
        assert!(s.waiting_threads(Some(quiet), None).unwrap().is_empty());
        assert!(s.waiting_threads(Some(ClientId(9999)), Some(3)).unwrap().is_empty());
    });
}

/// The clients list: by name key (Czech letters folded), with domains,
/// company addresses and contacts with every address (or none).
#[test]
fn client_list_has_domains_addresses_and_contacts() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.client_list().unwrap().is_empty());
        let (acme, cerny) = {
            let s = &mut s;
            let acme = s
                .add_client(&ClientInput {
                    name: "Acme Stavby".into(),
                    domains: vec!["stavby-acme.cz".into(), "acme.cz".into()],
                    emails: vec!["info@acme.cz".into(), "fakturace@acme.cz".into()],
                    ..Default::default()
                })
                .unwrap();
            let cerny = s.add_client(&ClientInput { name: "Černý a syn".into(), ..Default::default() }).unwrap();
            s.add_client(&ClientInput { name: "Dvořák".into(), ..Default::default() }).unwrap();
            let k = s
                .add_contact(
                    acme,
                    &ContactInput {
                        name: "Karel Horák".into(),
                        emails: vec!["karel@acme.cz".into(), "horak@stavby-acme.cz".into()],
                        ..Default::default()
                    },
                )
                .unwrap();
            s.add_contact(cerny, &ContactInput { name: "Šárka Černá".into(), ..Default::default() }).unwrap();
            let _ = k;
            (acme, cerny)
        };
        let list = s.client_list().unwrap();
        let names: Vec<&str> = list.iter().map(|c| c.client.name.as_str()).collect();
        assert_eq!(names, ["Acme Stavby", "Černý a syn", "Dvořák"], "{backend:?}");
        let a = &list[0];
        assert_eq!(a.client.id, acme);
        assert_eq!(a.client.domains, ["acme.cz", "stavby-acme.cz"]);
        assert_eq!(a.emails, ["fakturace@acme.cz", "info@acme.cz"]);
        assert_eq!(a.contacts.len(), 1);
        assert_eq!(a.contacts[0].name, "Karel Horák");
        assert_eq!(a.contacts[0].emails, ["horak@stavby-acme.cz", "karel@acme.cz"]);
        let c = &list[1];
        assert_eq!(c.client.id, cerny);
        assert!(c.client.domains.is_empty() && c.emails.is_empty());
        assert_eq!(c.contacts.len(), 1);
        assert_eq!((c.contacts[0].name.as_str(), c.contacts[0].emails.len()), ("Šárka Černá", 0));
        assert!(list[2].contacts.is_empty());
        // The row is the client as `Store::client` reads it.
        let one = s.client(acme).unwrap();
        assert_eq!(one.name, a.client.name);
        assert_eq!(one.status, a.client.status);
        assert_eq!(one.created_at, a.client.created_at);
        assert_eq!(one.domains, a.client.domains);
    });
}

/// When each contact was last in touch: live items before `now` only,
/// contacts never in touch left out.
#[test]
fn contact_last_contact_counts_live_items_before_now() {
    stores::each(policy(), |backend, mut s| {
        let (client, karel, vera, _nobody) = {
            let s = &mut s;
            let client = acme(s);
            let karel = contact(s, client, "Karel Horák", "karel@acme.cz");
            let vera = contact(s, client, "Věra Nová", "vera@acme.cz");
            let nobody = contact(s, client, "Nikdo", "nikdo@acme.cz");
            ingest(s, &mail("k1", "karel@acme.cz", "jana@modrykamen.cz", at(2, 9), &[]), "t", "1");
            ingest(s, &mail("k2", "karel@acme.cz", "jana@modrykamen.cz", at(5, 9), &[]), "t", "2");
            ingest(s, &mail("k3", "karel@acme.cz", "jana@modrykamen.cz", at(20, 9), &[]), "t", "3");
            ingest(s, &mail("v1", "vera@acme.cz", "jana@modrykamen.cz", at(3, 9), &[]), "t", "4");
            ingest(s, &mail("v2", "vera@acme.cz", "jana@modrykamen.cz", at(4, 9), &[]), "t", "5");
            s.db().execute("UPDATE items SET deleted_at = ?1 WHERE message_id = 'v2'", args![ts(at(6, 0))]).unwrap();
            (client, karel, vera, nobody)
        };
        let last = s.contact_last_contact(client, at(10, 0)).unwrap();
        let want: BTreeMap<i64, String> = [(karel.0, ts(at(5, 9))), (vera.0, ts(at(3, 9)))].into();
        assert_eq!(last, want, "{backend:?}");
        // An item dated exactly now counts.
        assert_eq!(s.contact_last_contact(client, at(2, 9)).unwrap(), [(karel.0, ts(at(2, 9)))].into());
        assert!(s.contact_last_contact(client, at(1, 0)).unwrap().is_empty());
        assert!(s.contact_last_contact(ClientId(9999), at(30, 0)).unwrap().is_empty());
    });
}

// ---------------------------------------------------------------------------
// reminders.rs (and views.rs's reminders_due)

fn planned(key: &str, title: &str, due: DateTime<Utc>, start: Option<DateTime<Utc>>) -> Planned {
    Planned {
        key: key.into(),
        kind: "event".into(),
        item_id: None,
        client_id: None,
        title: title.into(),
        due_at: due,
        event_start: start,
    }
}

/// Planning adds, moves and cancels; a fired reminder is never planned
/// again; firing happens once, with one delivery per sink; deliveries are
/// retried, given up on, and done.
#[test]
fn reminders_are_planned_fired_once_and_delivered() {
    stores::each(policy(), |backend, mut s| {
        let (client, item) = {
            let s = &mut s;
            let client = acme(s);
            let item = ingest(s, &mail("r1", "karel@acme.cz", "jana@modrykamen.cz", at(1, 8), &[]), "t", "1");
            (client, item)
        };
        assert!(s.all_reminders().unwrap().is_empty());
        assert_eq!(s.next_reminder_due().unwrap(), None);
        let mut a = planned("event:1:86400", "Schůzka s Acme: zítra", at(9, 10), Some(at(10, 10)));
        a.item_id = Some(item);
        a.client_id = Some(client.0);
        let b = planned("event:2:1800", "Kontrolní den", at(12, 9), None);
        let c = planned("event:3:1800", "Zrušená", at(11, 9), Some(at(11, 10)));
        assert_eq!(s.plan_reminders("event", &[a.clone(), b.clone(), c.clone()]).unwrap(), (3, 0, 0), "{backend:?}");
        // The same plan again changes nothing.
        assert_eq!(s.plan_reminders("event", &[a.clone(), b.clone(), c.clone()]).unwrap(), (0, 0, 0));
        // c dropped from the plan: cancelled; b moved; a kept.
        let b2 = planned("event:2:1800", "Kontrolní den (přesunuto)", at(13, 9), Some(at(13, 10)));
        assert_eq!(s.plan_reminders("event", &[a.clone(), b2.clone()]).unwrap(), (0, 1, 1));
        // Another kind's plan leaves these alone.
        assert_eq!(s.plan_reminders("follow-up", &[]).unwrap(), (0, 0, 0));
        let all = s.all_reminders().unwrap();
        let view: Vec<(&str, &str, DateTime<Utc>)> =
            all.iter().map(|r| (r.key.as_str(), r.state.as_str(), r.due_at)).collect();
        assert_eq!(
            view,
            [
                ("event:1:86400", "pending", at(9, 10)),
                ("event:3:1800", "cancelled", at(11, 9)),
                ("event:2:1800", "pending", at(13, 9)),
            ]
        );
        assert_eq!(all[0].title, "Schůzka s Acme: zítra");
        assert_eq!((all[0].item_id, all[0].client_id), (Some(item), Some(client.0)));
        assert_eq!(all[0].event_start, Some(at(10, 10)));
        assert_eq!(all[2].title, "Kontrolní den (přesunuto)");
        assert_eq!(all[2].event_start, Some(at(13, 10)));
        assert_eq!(all[2].fired_at, None);
        // A cancelled one planned again is pending again.
        assert_eq!(s.plan_reminders("event", &[a.clone(), b2.clone(), c.clone()]).unwrap(), (0, 1, 0));
        assert_eq!(s.next_reminder_due().unwrap(), Some(at(9, 10)));
        // Due: by due time; nothing before the first.
        assert!(s.due_reminders(at(9, 9)).unwrap().is_empty());
        let due = s.due_reminders(at(11, 9)).unwrap();
        assert_eq!(due.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["event:1:86400", "event:3:1800"]);
        // Fired once, with a delivery per sink; a second run fires nothing.
        let (id_a, id_c) = (due[0].id, due[1].id);
        let sinks = vec!["stdout".to_string(), "webhook".to_string(), "stdout".to_string()];
        assert!(s.fire_reminder(id_a, at(9, 10), "{\"title\":\"Schůzka\"}", &sinks).unwrap());
        assert!(!s.fire_reminder(id_a, at(9, 11), "{}", &sinks).unwrap());
        assert!(!s.fire_reminder(99_999, at(9, 11), "{}", &sinks).unwrap());
        // Missed (kronika was down when its event began); only once.
        assert!(s.miss_reminder(id_c, at(11, 12)).unwrap());
        assert!(!s.miss_reminder(id_c, at(11, 13)).unwrap());
        assert!(!s.miss_reminder(id_a, at(11, 13)).unwrap());
        // A fired reminder is never planned again, even moved.
        let mut a_moved = a.clone();
        a_moved.due_at = at(9, 12);
        assert_eq!(s.plan_reminders("event", &[a_moved, b2.clone()]).unwrap(), (0, 0, 0));
        let pending = s.pending_deliveries(at(9, 10)).unwrap();
        assert_eq!(
            pending,
            [
                (id_a, "stdout".to_string(), "{\"title\":\"Schůzka\"}".to_string(), 0),
                (id_a, "webhook".to_string(), "{\"title\":\"Schůzka\"}".to_string(), 0)
            ]
        );
        // The webhook fails: retried later, then given up; stdout is done.
        s.delivery_result(id_a, "stdout", None, None).unwrap();
        s.delivery_result(id_a, "webhook", Some("HTTP 503"), Some(at(9, 20))).unwrap();
        assert!(s.pending_deliveries(at(9, 15)).unwrap().is_empty());
        assert_eq!(s.next_reminder_due().unwrap(), Some(at(9, 20)));
        assert_eq!(
            s.pending_deliveries(at(9, 20)).unwrap(),
            [(id_a, "webhook".into(), "{\"title\":\"Schůzka\"}".into(), 1)]
        );
        s.delivery_result(id_a, "webhook", Some("HTTP 503 znovu"), None).unwrap();
        assert!(s.pending_deliveries(at(30, 0)).unwrap().is_empty());
        let fired = s.all_reminders().unwrap().into_iter().find(|r| r.id == id_a).unwrap();
        assert_eq!(fired.state, "fired");
        assert_eq!(fired.fired_at.as_deref(), Some(ts(at(9, 10)).as_str()));
        assert_eq!(
            fired.deliveries,
            [
                ("stdout".to_string(), "done".to_string(), 1, None),
                ("webhook".to_string(), "failed".to_string(), 2, Some("HTTP 503 znovu".to_string()))
            ]
        );
        let missed = s.all_reminders().unwrap().into_iter().find(|r| r.id == id_c).unwrap();
        assert_eq!((missed.state.as_str(), missed.deliveries.len()), ("missed", 0));
        // A delivery waiting with no retry time is due at once.
        let b_id = s.due_reminders(at(20, 0)).unwrap()[0].id;
        assert!(s.fire_reminder(b_id, at(13, 9), "{}", &["stdout".to_string()]).unwrap());
        assert_eq!(s.next_reminder_due().unwrap(), Some(DateTime::<Utc>::MIN_UTC));
        // Today: pending before `until`, fired or missed since `since`.
        let today = s.reminders_due(at(9, 0), at(14, 0)).unwrap();
        let view: Vec<(i64, &str, Option<i64>)> =
            today.iter().map(|r| (r.id, r.state.as_str(), r.client.as_ref().map(|c| c.0))).collect();
        assert_eq!(today[0].client.as_ref().map(|c| c.1.as_str()), Some("Acme Stavby"));
        assert_eq!(view, [(id_a, "fired", Some(client.0)), (id_c, "missed", None), (b_id, "fired", None)]);
        assert_eq!(today[0].due_at, at(9, 10));
        assert_eq!(today[0].item_id, Some(item));
        assert_eq!(today[0].event_start, Some(at(10, 10)));
        assert_eq!(today[1].kind, "event");
        assert!(s.reminders_due(at(14, 0), at(14, 0)).unwrap().is_empty());
    });
}

/// Today's pending reminders: before `until` (overdue included), by due
/// time then id.
#[test]
fn reminders_due_lists_pending_before_until() {
    stores::each(policy(), |backend, mut s| {
        let plan = [
            planned("x:2", "Druhá", at(5, 9), None),
            planned("x:1", "První", at(5, 9), None),
            planned("x:3", "Třetí", at(7, 9), None),
        ];
        s.plan_reminders("x", &plan).unwrap();
        let due = s.reminders_due(at(6, 0), at(6, 0)).unwrap();
        assert_eq!(due.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Druhá", "První"], "{backend:?}");
        assert!(due.iter().all(|r| r.state == "pending" && r.client.is_none() && r.event_start.is_none()));
        assert_eq!(s.reminders_due(at(1, 0), at(8, 0)).unwrap().len(), 3);
        assert!(s.reminders_due(at(1, 0), at(5, 9)).unwrap().is_empty());
    });
}

/// Each client's last interaction: mail and calls count, events and
/// deleted items do not; a client with none has none.
#[test]
fn client_last_interactions_skip_events_and_deleted_items() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.client_last_interactions().unwrap().is_empty());
        let (acme, quiet) = {
            let s = &mut s;
            let acme = acme(s);
            let quiet = s.add_client(&ClientInput { name: "Tichá s.r.o.".into(), ..Default::default() }).unwrap();
            ingest(s, &mail("l1", "karel@acme.cz", "jana@modrykamen.cz", at(3, 9), &[]), "t", "1");
            ingest(s, &mail("l2", "karel@acme.cz", "jana@modrykamen.cz", at(6, 9), &[]), "t", "2");
            let mut event = mail("e1", "karel@acme.cz", "jana@modrykamen.cz", at(9, 9), &[]);
            event.kind = ItemKind::Event;
            event.participants = vec![party(Role::Organizer, None, "karel@acme.cz")];
            ingest(s, &event, "cal", "e1");
            // A call after the first mail: every kind but events counts.
            let mut call = mail("c1", "karel@acme.cz", "jana@modrykamen.cz", at(5, 9), &[]);
            (call.kind, call.message_id) = (ItemKind::Call, None);
            ingest(s, &call, "notes", "c1");
            s.db().execute("UPDATE items SET deleted_at = ?1 WHERE message_id = 'l2'", args![ts(at(7, 0))]).unwrap();
            (acme, quiet)
        };
        let mut got = s.client_last_interactions().unwrap();
        got.sort_by_key(|c| c.id);
        assert_eq!(got.len(), 2, "{backend:?}");
        assert_eq!((got[0].id, got[0].name.as_str(), got[0].last), (acme.0, "Acme Stavby", Some(at(5, 9))));
        assert_eq!((got[1].id, got[1].name.as_str(), got[1].last), (quiet.0, "Tichá s.r.o.", None));
        assert!(got[1].created > DateTime::<Utc>::MIN_UTC);
    });
}

// ---------------------------------------------------------------------------
// timeline.rs

/// A client's timeline: newest first, paged by the last item, narrowed by
/// kind, contact and dates; future events left out; deleted items gone.
#[test]
fn timeline_pages_and_filters() {
    stores::each(policy(), |backend, mut s| {
        let now = Utc::now();
        let old = |d: i64| now - Duration::days(40 - d);
        let (client, karel, vera, items) = {
            let s = &mut s;
            let client = acme(s);
            let karel = contact(s, client, "Karel Horák", "karel@acme.cz");
            let vera = contact(s, client, "Věra Nová", "vera@acme.cz");
            let mut items = HashMap::new();
            for (name, from, day) in [("k1", "karel", 1), ("v1", "vera", 2), ("k2", "karel", 3), ("v2", "vera", 4)] {
                let m = mail(name, &format!("{from}@acme.cz"), "jana@modrykamen.cz", old(day), &[]);
                items.insert(name, ingest(s, &m, "t", name));
            }
            // Two at the same instant: the higher id first.
            let same = mail("s1", "karel@acme.cz", "jana@modrykamen.cz", old(5), &[]);
            items.insert("s1", ingest(s, &same, "t", "s1"));
            let same = mail("s2", "karel@acme.cz", "jana@modrykamen.cz", old(5), &[]);
            items.insert("s2", ingest(s, &same, "t", "s2"));
            let mut past = mail("e1", "karel@acme.cz", "jana@modrykamen.cz", old(6), &[]);
            past.kind = ItemKind::Event;
            past.participants = vec![party(Role::Organizer, None, "karel@acme.cz")];
            items.insert("e1", ingest(s, &past, "cal", "e1"));
            let mut future = past.clone();
            future.message_id = Some("e2".into());
            future.content_hash = format!("{:0>64}", "e2");
            future.date = now + Duration::days(10);
            items.insert("e2", ingest(s, &future, "cal", "e2"));
            let gone = mail("d1", "karel@acme.cz", "jana@modrykamen.cz", old(7), &[]);
            let d1 = ingest(s, &gone, "t", "d1");
            s.db().execute("UPDATE items SET deleted_at = ?1 WHERE id = ?2", args![ts(old(8)), d1]).unwrap();
            items.insert("d1", d1);
            (client, karel, vera, items)
        };
        let id = |n: &str| items[n];
        let all = TimelineFilter::default();
        let page = s.client_timeline_filtered(client, &all, None, 100).unwrap();
        assert_eq!(ids(page), [id("e1"), id("s2"), id("s1"), id("v2"), id("k2"), id("v1"), id("k1")], "{backend:?}");
        // Paged: three, then three after the last shown (ties by id).
        let first = ids(s.client_timeline_filtered(client, &all, None, 3).unwrap());
        assert_eq!(first, [id("e1"), id("s2"), id("s1")]);
        let next = ids(s.client_timeline_filtered(client, &all, Some(ItemId(id("s2"))), 3).unwrap());
        assert_eq!(next, [id("s1"), id("v2"), id("k2")]);
        assert!(s.client_timeline_filtered(client, &all, Some(ItemId(id("k1"))), 3).unwrap().is_empty());
        assert!(s.client_timeline_filtered(client, &all, None, 0).unwrap().is_empty());
        // By kind, by contact, by dates.
        let events = TimelineFilter { kind: Some("event".into()), ..Default::default() };
        assert_eq!(ids(s.client_timeline_filtered(client, &events, None, 10).unwrap()), [id("e1")]);
        let of_vera = TimelineFilter { contact: Some(vera.0), ..Default::default() };
        assert_eq!(ids(s.client_timeline_filtered(client, &of_vera, None, 10).unwrap()), [id("v2"), id("v1")]);
        let between = TimelineFilter {
            kind: Some("email".into()),
            contact: Some(karel.0),
            from: Some(old(3)),
            until: Some(old(5)),
        };
        assert_eq!(ids(s.client_timeline_filtered(client, &between, None, 10).unwrap()), [id("k2")]);
        let none = TimelineFilter { kind: Some("call".into()), ..Default::default() };
        assert!(s.client_timeline_filtered(client, &none, None, 10).unwrap().is_empty());
        // The newest id (the future event and the deleted one included: it
        // marks what a card has seen), and what came after it.
        let newest = s.client_newest_id(client).unwrap();
        assert_eq!(newest, id("d1"));
        assert_eq!(newest, *items.values().max().unwrap());
        assert_eq!(s.client_newest_id(ClientId(9999)).unwrap(), 0);
        assert_eq!(ids(s.client_items_after(client, id("s1"), 10).unwrap()), [id("e1"), id("s2")]);
        assert_eq!(ids(s.client_items_after(client, id("s1"), 1).unwrap()), [id("e1")]);
        assert!(s.client_items_after(client, newest, 10).unwrap().is_empty());
    });
}

/// Past events and meetings: cancelled and future events left out, newest
/// first, the limit over both.
#[test]
fn past_events_and_meetings_newest_first() {
    stores::each(policy(), |backend, mut s| {
        let now = Utc::now();
        let (client, items) = {
            let s = &mut s;
            let client = acme(s);
            let mut items = HashMap::new();
            for (name, kind, days) in [
                ("e1", ItemKind::Event, -10),
                ("m1", ItemKind::Meeting, -8),
                ("e2", ItemKind::Event, -6),
                ("x1", ItemKind::Event, -4),
                ("m2", ItemKind::Meeting, -2),
                ("f1", ItemKind::Event, 3),
                ("f2", ItemKind::Meeting, 3),
                ("c1", ItemKind::Email, -1),
            ] {
                let mut m = mail(name, "karel@acme.cz", "jana@modrykamen.cz", now + Duration::days(days), &[]);
                m.kind = kind;
                if kind != ItemKind::Email {
                    m.participants = vec![party(Role::Attendee, None, "karel@acme.cz")];
                }
                items.insert(name, ingest(s, &m, "cal", name));
            }
            s.db()
                .execute(
                    "INSERT INTO events (uid, rid, item_id, sequence, dtstamp, cancelled) VALUES ('x1@acme.cz', '', ?1, 0, '', 1)",
                    args![items["x1"]],
                )
                .unwrap();
            (client, items)
        };
        let id = |n: &str| items[n];
        assert_eq!(
            ids(s.client_past_events(client, 10).unwrap()),
            [id("m2"), id("e2"), id("m1"), id("e1")],
            "{backend:?}"
        );
        assert_eq!(ids(s.client_past_events(client, 3).unwrap()), [id("m2"), id("e2"), id("m1")]);
        assert_eq!(ids(s.client_past_events(client, 1).unwrap()), [id("m2")]);
        assert!(s.client_past_events(client, 0).unwrap().is_empty());
        assert!(s.client_past_events(ClientId(9999), 5).unwrap().is_empty());
    });
}

/// A thread's live items, oldest first (ties by id), at most `limit`.
#[test]
fn thread_items_oldest_first() {
    stores::each(policy(), |backend, mut s| {
        let (thread, items) = {
            let s = &mut s;
            acme(s);
            let a = ingest(s, &mail("t1", "karel@acme.cz", "jana@modrykamen.cz", at(2, 9), &[]), "t", "1");
            let b = ingest(s, &mail("t2", "jana@modrykamen.cz", "karel@acme.cz", at(3, 9), &["t1"]), "t", "2");
            let c = ingest(s, &mail("t3", "karel@acme.cz", "jana@modrykamen.cz", at(3, 9), &["t1", "t2"]), "t", "3");
            let d = ingest(s, &mail("t4", "karel@acme.cz", "jana@modrykamen.cz", at(4, 9), &["t3"]), "t", "4");
            ingest(s, &mail("other", "karel@acme.cz", "jana@modrykamen.cz", at(1, 9), &[]), "t", "5");
            s.db().execute("UPDATE items SET deleted_at = ?1 WHERE id = ?2", args![ts(at(5, 0)), d]).unwrap();
            let thread: i64 = s.db().value("SELECT thread_id FROM items WHERE id = ?1", args![a]).unwrap().unwrap();
            (thread, [a, b, c])
        };
        assert_eq!(ids(s.thread_items(thread, 10).unwrap()), items, "{backend:?}");
        assert_eq!(ids(s.thread_items(thread, 2).unwrap()), items[..2]);
        assert!(s.thread_items(thread, 0).unwrap().is_empty());
        assert!(s.thread_items(-1, 10).unwrap().is_empty());
    });
}

// ---------------------------------------------------------------------------
// feed.rs and visibility.rs

/// A mail seen in two mailboxes, with an attachment kept as a document.
fn mail_with_document(s: &mut Store) -> (i64, i64) {
    let mut m = mail("f1", "karel@acme.cz", "jana@modrykamen.cz", at(2, 9), &[]);
    m.participants = vec![
        party(Role::From, Some("Karel Horák"), "karel@acme.cz"),
        party(Role::To, Some(""), "jana@modrykamen.cz"),
        party(Role::Cc, None, "vera@acme.cz"),
        party(Role::ReplyTo, None, "obchod@acme.cz"),
    ];
    m.attachments = vec![Attachment {
        name: "nabídka.pdf".into(),
        mime: "application/pdf".into(),
        size: 10,
        content_hash: "d".repeat(64),
    }];
    let doc = NewItem {
        kind: ItemKind::Document,
        date: at(2, 9),
        subject: "nabídka.pdf".into(),
        body: "Nabídka oken".into(),
        content_hash: "d".repeat(64),
        extra: serde_json::json!({}),
        ..NewItem::default()
    };
    let items = [(m.clone(), key("imap:jana/INBOX", "1/1"))];
    let out = s.apply(&Changes { items: &items, documents: &[vec![doc]], ..Changes::default() }).unwrap().outcomes;
    let mail_id = match out[0] {
        kronika::store::IngestOutcome::New(id) => id.0,
        ref other => panic!("{other:?}"),
    };
    s.ingest(&m, &key("imap:karel/Sent", "2/1")).unwrap();
    let doc_id: i64 = s.db().value("SELECT id FROM items WHERE kind = 'document'", args![]).unwrap().unwrap();
    (mail_id, doc_id)
}

/// The index feed: items after a rev in rev order, with their people
/// (from and to apart), attachments, clients and contacts; deleted ones
/// flagged; touched ones come again at a new rev.
#[test]
fn index_feed_reads_items_with_their_parts() {
    stores::each(policy(), |backend, mut s| {
        assert_eq!(s.max_rev().unwrap(), 0);
        assert!(s.index_feed(0, 10).unwrap().is_empty());
        assert!(s.live_revs().unwrap().is_empty());
        assert_eq!(s.index_doc(1).unwrap().map(|d| d.id), None);
        let (client, karel, mail_id, doc_id, other) = {
            let s = &mut s;
            let client = acme(s);
            let karel = contact(s, client, "Karel Horák", "karel@acme.cz");
            let (mail_id, doc_id) = mail_with_document(s);
            let other = ingest(s, &mail("f2", "nekdo@jinde.cz", "jana@modrykamen.cz", at(3, 9), &[]), "t", "x");
            (client, karel, mail_id, doc_id, other)
        };
        let feed = s.index_feed(0, 10).unwrap();
        assert_eq!(feed.iter().map(|d| d.id).collect::<Vec<_>>(), [mail_id, doc_id, other], "{backend:?}");
        assert!(feed.windows(2).all(|w| w[0].rev < w[1].rev));
        let m = &feed[0];
        assert_eq!((m.kind.as_str(), m.direction.as_str(), m.deleted), ("email", "in", false));
        assert_eq!(m.date, at(2, 9).timestamp());
        assert_eq!(m.subject, "mail f1");
        assert_eq!(m.body, "Dobrý den, posílám nabídku.");
        assert_eq!(m.from, ["Karel Horák karel@acme.cz"]);
        let mut to = m.to.clone();
        to.sort();
        assert_eq!(to, ["jana@modrykamen.cz", "vera@acme.cz"]);
        assert_eq!(m.participants.len(), 4);
        assert!(m.participants.contains(&"obchod@acme.cz".to_string()));
        assert_eq!(m.attachments, ["nabídka.pdf"]);
        assert_eq!(m.clients, [client.0]);
        assert_eq!(m.contacts, [karel.0]);
        assert!(feed[2].clients.is_empty() && feed[2].contacts.is_empty());
        // Limit and `after`.
        let max = s.max_rev().unwrap();
        assert_eq!(max, feed[2].rev);
        assert_eq!(s.index_feed(0, 1).unwrap().len(), 1);
        assert_eq!(s.index_feed(feed[0].rev, 10).unwrap().iter().map(|d| d.id).collect::<Vec<_>>(), [doc_id, other]);
        assert!(s.index_feed(max, 10).unwrap().is_empty());
        // One item's document, at its rev.
        let doc = s.index_doc(doc_id).unwrap().unwrap();
        assert_eq!((doc.kind.as_str(), doc.body.as_str()), ("document", "Nabídka oken"));
        assert_eq!(s.index_doc(other + 100).unwrap().map(|d| d.id), None);
        // Deleted and touched.
        s.db().execute("UPDATE items SET deleted_at = ?1 WHERE id = ?2", args![ts(at(4, 0)), other]).unwrap();
        let live = s.live_revs().unwrap();
        assert_eq!(live, [(mail_id, feed[0].rev), (doc_id, feed[1].rev)].into());
        assert_eq!(s.deleted_revs().unwrap(), [(other, feed[2].rev)].into());
        s.touch_items(&[other, mail_id]).unwrap();
        s.touch_items(&[]).unwrap();
        let again = s.index_feed(max, 10).unwrap();
        assert_eq!(again.iter().map(|d| (d.id, d.deleted)).collect::<Vec<_>>(), [(other, true), (mail_id, false)]);
        // New revs, in the order touched (PostgreSQL hands them out in
        // blocks: they may skip numbers).
        assert!(max < again[0].rev && again[0].rev < again[1].rev, "{again:?}");
        assert_eq!(s.max_rev().unwrap(), again[1].rev);
        assert_eq!(s.deleted_revs().unwrap(), [(other, again[0].rev)].into());
    });
}

/// Where an item counts as seen: its own sources, a document its mail's;
/// in bulk by rev; items seen in one more source since a mark.
#[test]
fn visibility_follows_mail_to_its_documents() {
    stores::each(policy(), |backend, mut s| {
        assert_eq!(s.max_source_row().unwrap(), 0);
        assert!(s.visibility_sources(1).unwrap().is_empty());
        let (mail_id, doc_id, other) = {
            let s = &mut s;
            acme(s);
            let (mail_id, doc_id) = mail_with_document(s);
            let other =
                ingest(s, &mail("v9", "karel@acme.cz", "jana@modrykamen.cz", at(3, 9), &[]), "imap:jana/INBOX", "1/2");
            (mail_id, doc_id, other)
        };
        let both = ["imap:jana/INBOX".to_string(), "imap:karel/Sent".to_string()];
        assert_eq!(s.visibility_sources(mail_id).unwrap(), both, "{backend:?}");
        assert_eq!(s.visibility_sources(doc_id).unwrap(), both);
        assert_eq!(s.visibility_sources(other).unwrap(), ["imap:jana/INBOX"]);
        let by_rev = s.visibility_sources_by_rev(0, s.max_rev().unwrap()).unwrap();
        assert_eq!(by_rev.len(), 3);
        assert_eq!(by_rev[&doc_id], both);
        assert_eq!(by_rev[&other], ["imap:jana/INBOX"]);
        assert!(s.visibility_sources_by_rev(s.max_rev().unwrap(), i64::MAX).unwrap().is_empty());
        // A document whose mail is not known keeps its own source.
        s.db().execute("UPDATE items SET extra = '{\"from_item\": 99999}' WHERE id = ?1", args![doc_id]).unwrap();
        assert_eq!(s.visibility_sources(doc_id).unwrap(), ["documents"]);
        s.db()
            .execute(
                "UPDATE items SET extra = ?2 WHERE id = ?1",
                args![doc_id, format!("{{\"from_item\": {mail_id}}}")],
            )
            .unwrap();
        // Seen in one more mailbox: the mail and its document have grown.
        let mark = s.max_source_row().unwrap();
        assert!(mark > 0);
        assert!(s.items_with_new_sources(mark, mark).unwrap().is_empty());
        s.db()
            .execute(
                "INSERT INTO item_sources (source, key, item_id, seen_at) VALUES ('imap:vera/INBOX', '7/1', ?1, ?2)",
                args![mail_id, ts(at(5, 0))],
            )
            .unwrap();
        let next = mark_covering(&s, |next| s.items_with_new_sources(mark, next).unwrap() == [mail_id, doc_id]);
        assert!(next > mark, "{next} > {mark}");
        assert_eq!(s.visibility_sources(doc_id).unwrap().len(), 3);
        // A deleted one is left out (its document stays with its mail).
        s.db()
            .execute(
                "INSERT INTO item_sources (source, key, item_id, seen_at) VALUES ('imap:vera/INBOX', '7/2', ?1, ?2)",
                args![other, ts(at(5, 0))],
            )
            .unwrap();
        s.db().execute("UPDATE items SET deleted_at = ?1 WHERE id = ?2", args![ts(at(6, 0)), other]).unwrap();
        let last = mark_covering(&s, |last| last > next);
        assert!(s.items_with_new_sources(next, last).unwrap().is_empty());
        assert_eq!(s.items_with_new_sources(0, last).unwrap(), [mail_id, doc_id]);
    });
}

/// The source mark once `covers` holds. On PostgreSQL the mark stays
/// below any transaction still running in the cluster (other tests' too),
/// which one that commits later may have written before: it may take a
/// moment to pass a row just written.
fn mark_covering(s: &Store, covers: impl Fn(i64) -> bool) -> i64 {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mark = s.max_source_row().unwrap();
        if covers(mark) {
            return mark;
        }
        assert!(std::time::Instant::now() < until, "the source mark {mark} never covered the new rows");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// proposals.rs

/// Proposals are written by ingestion (signatures, invoices): here they
/// are inserted with SQL, the same on both backends.
fn propose(s: &Store, contact: ContactId, field: &str, value: &str, item: Option<i64>, status: &str) -> i64 {
    s.db()
        .value(
            "INSERT INTO contact_proposals (contact_id, field, value, item_id, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, '2026-03-01T00:00:00Z') RETURNING id",
            args![contact.0, field, value, item, status],
        )
        .unwrap()
        .unwrap()
}

#[test]
fn contact_proposals_pending_first_and_decided() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.contact_proposals(None, true).unwrap().is_empty());
        let (acme, zelva, karel, vera, petr, item) = {
            let s = &mut s;
            let acme = acme(s);
            let zelva = s
                .add_client(&ClientInput {
                    name: "Želva".into(),
                    domains: vec!["zelva.cz".into()],
                    ..Default::default()
                })
                .unwrap();
            let karel = s
                .add_contact(
                    acme,
                    &ContactInput {
                        name: "Karel Horák".into(),
                        emails: vec!["karel@acme.cz".into()],
                        phone: Some("+420 602 000 111".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            let vera = contact(s, acme, "Věra Nová", "vera@acme.cz");
            let petr = contact(s, zelva, "Petr Želva", "petr@zelva.cz");
            let item = ingest(s, &mail("p1", "karel@acme.cz", "jana@modrykamen.cz", at(2, 9), &[]), "t", "1");
            (acme, zelva, karel, vera, petr, item)
        };
        let phone = propose(&s, karel, "phone", "+420 777 123 456", Some(item), "pending");
        let role = propose(&s, vera, "role", "jednatelka", None, "pending");
        let applied = propose(&s, karel, "role", "stavbyvedoucí", Some(item), "applied");
        let other = propose(&s, petr, "address", "petr.zelva@gmail.com", None, "pending");
        // Same contact, field and value once only.
        let dup = s.db().execute(
            "INSERT INTO contact_proposals (contact_id, field, value, status, created_at)
             VALUES (?1, 'phone', '+420 777 123 456', 'pending', 'x') ON CONFLICT DO NOTHING",
            args![karel.0],
        );
        assert_eq!(dup.unwrap(), 0, "{backend:?}");
        let pending = s.contact_proposals(None, false).unwrap();
        assert_eq!(pending.iter().map(|p| p.id).collect::<Vec<_>>(), [phone, role, other]);
        let p = &pending[0];
        assert_eq!(
            (p.contact_id, p.contact.as_str(), p.client_id, p.client.as_str()),
            (karel.0, "Karel Horák", acme.0, "Acme Stavby")
        );
        assert_eq!((p.field.as_str(), p.value.as_str()), ("phone", "+420 777 123 456"));
        assert_eq!(p.current.as_deref(), Some("+420 602 000 111"));
        assert_eq!(
            (p.item_id, p.item.as_deref(), p.date.as_deref()),
            (Some(item), Some("mail p1"), Some(ts(at(2, 9)).as_str()))
        );
        assert_eq!(p.status, "pending");
        assert_eq!((pending[1].current.as_deref(), pending[1].item.as_deref()), (None, None));
        assert_eq!(pending[2].current, None, "an address has no current value");
        let all = s.contact_proposals(Some(acme), true).unwrap();
        assert_eq!(all.iter().map(|p| p.id).collect::<Vec<_>>(), [phone, role, applied]);
        assert_eq!(s.contact_proposals(Some(zelva), false).unwrap().len(), 1);
        assert!(s.contact_proposals(Some(ClientId(9999)), true).unwrap().is_empty());
        // Dismissed: no longer pending, not again; a missing one is not found.
        s.dismiss_contact_proposal(role).unwrap();
        assert_eq!(s.contact_proposals(Some(acme), false).unwrap().iter().map(|p| p.id).collect::<Vec<_>>(), [phone]);
        assert!(matches!(s.dismiss_contact_proposal(99_999), Err(StoreError::NotFound { .. })));
        assert!(matches!(s.accept_contact_proposal(role), Err(StoreError::Invalid(_))));
        assert!(matches!(s.accept_contact_proposal(99_999), Err(StoreError::NotFound { .. })));
        // Accepted: the phone replaces the contact's.
        assert_eq!(s.accept_contact_proposal(phone).unwrap(), karel, "{backend:?}");
        assert_eq!(s.contact(karel).unwrap().phone.as_deref(), Some("+420 777 123 456"));
        let decided = s.contact_proposals(None, true).unwrap();
        let p = decided.iter().find(|p| p.id == phone).unwrap();
        assert_eq!(p.status, "accepted");
        assert!(matches!(s.accept_contact_proposal(phone), Err(StoreError::Invalid(_))));
    });
}

/// A second address of the same person joins the contact (the contact
/// found in mail that had it goes); two contacts merge with their
/// proposals, a duplicate proposal staying behind.
#[test]
fn addresses_and_contacts_merge() {
    stores::each(policy(), |backend, mut s| {
        let (karel, karel2, vera) = {
            let s = &mut s;
            let client = acme(s);
            let karel = contact(s, client, "Karel Horák", "karel@acme.cz");
            let karel2 = s
                .add_contact(
                    client,
                    &ContactInput {
                        name: "K. Horák".into(),
                        emails: vec!["horak@acme.cz".into(), "kh@acme.cz".into()],
                        role: Some("jednatel".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            let vera = contact(s, client, "Věra Nová", "vera@acme.cz");
            ingest(s, &mail("m1", "horak@acme.cz", "jana@modrykamen.cz", at(2, 9), &[]), "t", "1");
            (karel, karel2, vera)
        };
        let same = propose(&s, karel, "phone", "+420 777 000 001", None, "pending");
        let moves = propose(&s, karel2, "phone", "+420 777 000 002", None, "pending");
        let stays = propose(&s, karel2, "phone", "+420 777 000 001", None, "pending");
        assert!(matches!(s.merge_contacts(karel, karel), Err(StoreError::Invalid(_))), "{backend:?}");
        let rev = s.max_rev().unwrap();
        s.merge_contacts(karel, karel2).unwrap();
        let k = s.contact(karel).unwrap();
        assert_eq!(k.emails, ["horak@acme.cz", "karel@acme.cz", "kh@acme.cz"], "{backend:?}");
        assert_eq!(k.role.as_deref(), Some("jednatel"));
        assert!(matches!(s.contact(karel2), Err(StoreError::NotFound { .. })));
        let ps = s.contact_proposals(None, true).unwrap();
        let mut got: Vec<(i64, i64)> = ps.iter().map(|p| (p.id, p.contact_id)).collect();
        got.sort();
        // The duplicate of a proposal the contact has already stays behind.
        assert_eq!(got, [(same, karel.0), (moves, karel.0)], "{backend:?}");
        assert!(ps.iter().all(|p| p.id != stays));
        // The mail of the merged contact is read again.
        assert!(s.max_rev().unwrap() > rev);
        s.merge_address(vera, "kh@acme.cz").unwrap();
        assert_eq!(s.contact(vera).unwrap().emails, ["kh@acme.cz", "vera@acme.cz"]);
        assert_eq!(s.contact(karel).unwrap().emails, ["horak@acme.cz", "karel@acme.cz"]);
        // Twice is once.
        s.merge_address(vera, "kh@acme.cz").unwrap();
        assert_eq!(s.contact(vera).unwrap().emails.len(), 2);
    });
}

fn propose_deal(s: &Store, client: Option<ClientId>, item: i64, number: &str, value: f64, date: &str) -> i64 {
    s.db()
        .value(
            "INSERT INTO deal_proposals (client_id, item_id, side, number, value, currency, date, credit, created_at)
             VALUES (?1, ?2, 'sale', ?3, ?4, 'CZK', ?5, ?6, '2026-03-01T00:00:00Z') RETURNING id",
            args![client.map(|c| c.0), item, number, value, date, value < 0.0],
        )
        .unwrap()
        .unwrap()
}

#[test]
fn deal_proposals_are_listed_dismissed_and_confirmed() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.deal_proposals(true).unwrap().is_empty());
        let (client, docs) = {
            let s = &mut s;
            let client = acme(s);
            let docs: Vec<i64> = (1..=3)
                .map(|i| {
                    let mut m = mail(&format!("inv{i}"), "fakturace@acme.cz", "jana@modrykamen.cz", at(i, 9), &[]);
                    m.subject = format!("faktura-{i}.pdf");
                    ingest(s, &m, "t", &i.to_string())
                })
                .collect();
            (client, docs)
        };
        let older = propose_deal(&s, Some(client), docs[0], "FV-2026-001", 121_000.0, "2026-03-01");
        let credit = propose_deal(&s, None, docs[1], "DB-2026-002", -12_100.5, "2026-03-05");
        let gone = propose_deal(&s, Some(client), docs[2], "FV-2026-003", 10.0, "2026-03-09");
        s.dismiss_deal_proposal(gone).unwrap();
        assert!(matches!(s.dismiss_deal_proposal(99_999), Err(StoreError::NotFound { .. })));
        let pending = s.deal_proposals(false).unwrap();
        assert_eq!(pending.iter().map(|p| p.id).collect::<Vec<_>>(), [credit, older], "{backend:?}");
        let c = &pending[0];
        assert_eq!((c.client_id, c.client.as_deref()), (None, None));
        assert_eq!((c.item_id, c.document.as_str()), (docs[1], "faktura-2.pdf"));
        assert_eq!(
            (c.side.as_str(), c.number.as_str(), c.value, c.currency.as_str()),
            ("sale", "DB-2026-002", -12_100.5, "CZK")
        );
        assert_eq!(c.date, chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
        assert_eq!((c.status.as_str(), c.deal_id), ("pending", None));
        assert_eq!(pending[1].client.as_deref(), Some("Acme Stavby"));
        assert_eq!(pending[1].value, 121_000.0);
        let all = s.deal_proposals(true).unwrap();
        assert_eq!(
            all.iter().map(|p| (p.id, p.status.as_str())).collect::<Vec<_>>(),
            [(credit, "pending"), (older, "pending"), (gone, "dismissed")]
        );
        // Confirming: no client, no deal; a dismissed one is refused.
        assert!(matches!(s.confirm_deal_proposal(credit, None, None), Err(StoreError::Invalid(_))));
        assert!(matches!(s.confirm_deal_proposal(gone, None, None), Err(StoreError::Invalid(_))));
        assert!(matches!(s.confirm_deal_proposal(99_999, None, None), Err(StoreError::NotFound { .. })));
        let deal = s.confirm_deal_proposal(credit, Some(client), Some(10_000.0)).unwrap();
        let d = s.deal(deal).unwrap();
        assert_eq!(
            (d.value, d.title.as_str(), d.origin.as_str()),
            (-10_000.0, "Dobropis DB-2026-002", "proposal"),
            "{backend:?}"
        );
        let p = s.deal_proposals(true).unwrap().into_iter().find(|p| p.id == credit).unwrap();
        assert_eq!((p.status.as_str(), p.deal_id), ("confirmed", Some(deal)));
        assert!(matches!(s.confirm_deal_proposal(credit, Some(client), None), Err(StoreError::Invalid(_))));
    });
}
