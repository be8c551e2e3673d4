//! The store on both backends (issue 19): ingestion, re-matching, events and the contacts and invoices captured from mail, on SQLite and on
//! PostgreSQL alike (see `common::stores`).
//!
//! Clients and contacts are written straight into their tables here, so
//! that what is tested is the ingest side: the directory's own functions
//! have their tests in `backends_directory`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kronika::args;
use kronika::calendar::{Attendee, Invitation, Method, Occurrence, Reply, event_item, occurrence_key};
use kronika::matcher::{NoteHints, Policy};
use kronika::model::{ClientId, ContactId, ItemId, ItemKind, Participant, Role};
use kronika::store::{
    Attachment, Changes, IngestOutcome, InvoiceFacts, InvoiceLine, NewItem, SourceKey, Store, StoreError, name_key,
};
use serde_json::json;

use crate::common::stores;

const JANA: &str = "jana@modrykamen.cz";

fn policy() -> Policy {
    Policy {
        own_addresses: vec![JANA.into()],
        own_domains: vec!["modrykamen.cz".into()],
        free_mail_domains: vec!["gmail.com".into(), "seznam.cz".into()],
        blocklist: vec!["mama@gmail.com".into()],
        ..Policy::default()
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn person(role: Role, name: Option<&str>, address: &str) -> Participant {
    Participant { role, name: name.map(str::to_string), address: address.into() }
}

fn mail(mid: &str, from: Participant, to: &[&str], date: DateTime<Utc>) -> NewItem {
    let mut participants = vec![from];
    participants.extend(to.iter().map(|a| person(Role::To, None, a)));
    NewItem {
        kind: ItemKind::Email,
        message_id: Some(mid.into()),
        date,
        subject: format!("Re: {mid}"),
        body: "Dobrý den, posílám podklady.".into(),
        participants,
        content_hash: format!("hash-{mid}"),
        size: 100,
        extra: json!({}),
        ..NewItem::default()
    }
}

fn karel() -> Participant {
    person(Role::From, Some("Karel Horák"), "karel@acme.cz")
}

fn key(source: &str, k: &str) -> SourceKey {
    SourceKey { source: source.into(), key: k.into() }
}

fn new_id(o: IngestOutcome) -> ItemId {
    match o {
        IngestOutcome::New(id) => id,
        other => panic!("expected a new item, got {other:?}"),
    }
}

/// A client written into its tables: name, domains, IČO.
fn client(s: &Store, name: &str, domains: &[&str], ico: Option<&str>) -> ClientId {
    let id: i64 = s
        .db()
        .value(
            "INSERT INTO clients (name, name_key, ico, status, custom, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'client', '{}', ?4, ?4) RETURNING id",
            args![name, name_key(name), ico, "2026-01-01T00:00:00Z"],
        )
        .unwrap()
        .unwrap();
    for d in domains {
        s.db().execute("INSERT INTO client_domains (client_id, domain) VALUES (?1, ?2)", args![id, d]).unwrap();
    }
    ClientId(id)
}

/// A contact typed in, with its addresses.
fn contact(s: &Store, client: ClientId, name: &str, emails: &[&str]) -> ContactId {
    let id: i64 = s
        .db()
        .value(
            "INSERT INTO contacts (client_id, name, name_key) VALUES (?1, ?2, ?3) RETURNING id",
            args![client.0, name, name_key(name)],
        )
        .unwrap()
        .unwrap();
    for e in emails {
        s.db().execute("INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2)", args![id, e]).unwrap();
    }
    ContactId(id)
}

/// (client, contact, reason) of an item's links, in the store's order.
fn links(s: &Store, id: ItemId) -> Vec<(String, Option<String>, String)> {
    s.item_links(id).unwrap().into_iter().map(|l| (l.client, l.contact, l.reason)).collect()
}

fn link(client: &str, contact: Option<&str>, reason: &str) -> (String, Option<String>, String) {
    (client.into(), contact.map(str::to_string), reason.into())
}

fn cursor(s: &Store, source: &str) -> Option<String> {
    s.db().value("SELECT value FROM cursors WHERE source = ?1", args![source]).unwrap()
}

fn count(s: &Store, sql: &str) -> i64 {
    s.db().value::<i64>(sql, args![]).unwrap().unwrap()
}

#[test]
fn items_read_back_whole_and_are_recognised_by_key_message_id_and_content() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.item_counts().unwrap().is_empty(), "{backend:?}");
        assert!(s.source_counts().unwrap().is_empty(), "{backend:?}");
        assert!(s.source_keys("imap:jana/INBOX").unwrap().is_empty(), "{backend:?}");
        assert!(s.source_dates("imap:jana/INBOX").unwrap().is_empty(), "{backend:?}");
        assert!(matches!(s.item(ItemId(4242)), Err(StoreError::NotFound { .. })), "{backend:?}");
        assert!(s.item_links(ItemId(4242)).unwrap().is_empty(), "{backend:?}");

        let mut m =
            mail("nabidka@acme.cz", person(Role::From, Some("Ing. Karel Horák"), "karel@acme.cz"), &[JANA], at(2, 9));
        m.subject = "Nabídka – rekuperace, Žďár nad Sázavou".into();
        m.body = "Příliš žluťoučký kůň úpěl ďábelské ódy.\n\nS pozdravem".into();
        m.participants.push(person(Role::Cc, Some("Šárka Nováková"), "sarka@acme.cz"));
        m.participants.push(person(Role::Cc, None, "archiv@acme.cz"));
        m.references = vec!["poptavka@modrykamen.cz".into(), "poptavka@modrykamen.cz".into()];
        m.attachments = vec![
            Attachment {
                name: "zadání.pdf".into(),
                mime: "application/pdf".into(),
                size: 52_000,
                content_hash: "h-pdf".into(),
            },
            Attachment {
                name: "ceník.xlsx".into(),
                mime: "application/vnd.ms-excel".into(),
                size: 9_100,
                content_hash: "h-xls".into(),
            },
        ];
        m.size = 123_456;
        m.extra = json!({"poznámka": "čeština ✓", "n": 3});
        let id = new_id(s.ingest(&m, &key("imap:jana/INBOX", "7/1")).unwrap());
        let item = s.item(id).unwrap();
        assert_eq!(
            (item.kind.as_str(), item.direction.as_str(), item.date_source.as_str()),
            ("email", "in", "header"),
            "{backend:?}"
        );
        assert_eq!((item.subject.as_str(), item.body.as_str()), (m.subject.as_str(), m.body.as_str()), "{backend:?}");
        assert_eq!(item.date, at(2, 9), "{backend:?}");
        assert_eq!(item.message_id.as_deref(), Some("nabidka@acme.cz"), "{backend:?}");
        assert!(item.thread_id.is_some(), "{backend:?}");
        assert_eq!((item.size, item.deleted_at.as_deref()), (123_456, None), "{backend:?}");
        assert!(item.rev > 0, "{backend:?}");
        assert_eq!(item.extra, m.extra, "{backend:?}");
        assert_eq!(item.participants, m.participants, "{backend:?}: in the order they came");
        assert_eq!(item.attachments, m.attachments, "{backend:?}: in the order they came");
        assert_eq!(item.sources, ["imap:jana/INBOX 7/1"], "{backend:?}");
        assert!(item.links.is_empty(), "{backend:?}");

        // The same key, another folder, another Message-ID with the same content.
        assert_eq!(s.ingest(&m, &key("imap:jana/INBOX", "7/1")).unwrap(), IngestOutcome::Duplicate(id), "{backend:?}");
        assert_eq!(s.ingest(&m, &key("imap:jana/Archiv", "3/9")).unwrap(), IngestOutcome::Duplicate(id), "{backend:?}");
        let mut same = m.clone();
        same.message_id = Some("jiny@acme.cz".into());
        assert_eq!(
            s.ingest(&same, &key("maildir:/jana", "cur/1")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        // The same content as another kind is another item.
        let doc = NewItem {
            kind: ItemKind::Document,
            date: at(2, 9),
            subject: "zadání.pdf".into(),
            content_hash: m.content_hash.clone(),
            extra: json!({}),
            ..NewItem::default()
        };
        let doc_id = new_id(s.ingest(&doc, &key("documents", "h-doc")).unwrap());
        assert_ne!(doc_id, id);
        assert_eq!(
            s.item_counts().unwrap(),
            BTreeMap::from([("document".to_string(), 1), ("email".to_string(), 1)]),
            "{backend:?}"
        );
        assert_eq!(
            s.source_counts().unwrap(),
            BTreeMap::from([
                ("documents".to_string(), 1),
                ("imap:jana/Archiv".to_string(), 1),
                ("imap:jana/INBOX".to_string(), 1),
                ("maildir:/jana".to_string(), 1)
            ]),
            "{backend:?}"
        );
        assert_eq!(
            s.item(id).unwrap().sources,
            ["imap:jana/Archiv 3/9", "imap:jana/INBOX 7/1", "maildir:/jana cur/1"],
            "{backend:?}"
        );

        // Gone from one mailbox: still in the history, no longer the source's;
        // marked in the transaction that moves the cursor.
        let gone = |s: &mut Store, k: SourceKey, cursor: &str| {
            let keys = [k];
            let changes = Changes { gone: &keys, cursor: Some(("imap:jana/INBOX", cursor)), ..Default::default() };
            s.apply(&changes).unwrap().gone
        };
        assert_eq!(gone(&mut s, key("imap:jana/INBOX", "7/1"), "8"), 1, "{backend:?}");
        assert_eq!(s.cursor("imap:jana/INBOX").unwrap().as_deref(), Some("8"), "{backend:?}");
        assert_eq!(gone(&mut s, key("imap:jana/INBOX", "7/1"), "8"), 0, "{backend:?}: gone already");
        assert_eq!(gone(&mut s, key("imap:jana/INBOX", "nikdy"), "9"), 0, "{backend:?}: never there");
        assert_eq!(s.item(id).unwrap().sources[1], "imap:jana/INBOX 7/1 (gone)", "{backend:?}");
        assert!(s.source_keys("imap:jana/INBOX").unwrap().is_empty(), "{backend:?}");
        assert_eq!(s.source_keys("imap:jana/Archiv").unwrap(), HashSet::from(["3/9".to_string()]), "{backend:?}");
        assert_eq!(
            s.source_hashes("imap:jana/Archiv").unwrap(),
            HashMap::from([("3/9".to_string(), m.content_hash.clone())]),
            "{backend:?}"
        );
        assert_eq!(s.source_dates("imap:jana/Archiv").unwrap(), HashMap::from([("3/9".to_string(), at(2, 9))]));
        // Seen again where it had gone: it is back.
        assert_eq!(s.ingest(&m, &key("imap:jana/INBOX", "7/1")).unwrap(), IngestOutcome::Duplicate(id), "{backend:?}");
        assert_eq!(s.source_keys("imap:jana/INBOX").unwrap().len(), 1, "{backend:?}");
        assert_eq!(s.linked_item_count().unwrap(), 0, "{backend:?}");
        // A blocklisted sender: nothing stored.
        let blocked = mail("b@gmail.com", person(Role::From, None, "mama@gmail.com"), &[JANA], at(2, 10));
        assert_eq!(
            s.ingest(&blocked, &key("imap:jana/INBOX", "7/2")).unwrap(),
            IngestOutcome::Blocked("mama@gmail.com".into()),
            "{backend:?}"
        );
        assert_eq!(s.item_counts().unwrap()["email"], 1, "{backend:?}");

        // Read in bulk: the same rows as one by one (participants and
        // attachments in their order); an unknown id is left out.
        let many = s.items(&[id, doc_id, ItemId(4242)]).unwrap();
        assert_eq!(many.len(), 2, "{backend:?}");
        for i in [id, doc_id] {
            assert_eq!(format!("{:?}", many[&i.0]), format!("{:?}", s.item(i).unwrap()), "{backend:?}");
        }
        assert!(matches!(s.items_in_order(&[doc_id, ItemId(4242)]), Err(StoreError::NotFound { .. })));
        let ordered: Vec<i64> = s.items_in_order(&[doc_id, id]).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ordered, [doc_id.0, id.0], "{backend:?}");
    });
}

#[test]
fn a_batch_lands_whole_with_its_cursor_or_not_at_all() {
    stores::each(policy(), |backend, mut s| {
        let batch: Vec<(NewItem, SourceKey)> = (1..=3)
            .map(|n| {
                (
                    mail(&format!("m{n}@acme.cz"), karel(), &[JANA], at(3, 8 + n)),
                    key("imap:jana/INBOX", &format!("1/{n}")),
                )
            })
            .collect();
        let out = s.ingest_batch(&batch, Some(("imap:jana/INBOX", r#"{"uidvalidity":1,"last_uid":3}"#))).unwrap();
        assert!(out.iter().all(|o| matches!(o, IngestOutcome::New(_))), "{backend:?}: {out:?}");
        assert_eq!(cursor(&s, "imap:jana/INBOX").as_deref(), Some(r#"{"uidvalidity":1,"last_uid":3}"#), "{backend:?}");

        // One item the store cannot take: none of the batch lands, nor its cursor.
        let mut too_big = mail("m5@acme.cz", karel(), &[JANA], at(3, 13));
        too_big.size = u64::MAX;
        let bad = vec![
            (mail("m4@acme.cz", karel(), &[JANA], at(3, 12)), key("imap:jana/INBOX", "1/4")),
            (too_big, key("imap:jana/INBOX", "1/5")),
        ];
        let err = s.ingest_batch(&bad, Some(("imap:jana/INBOX", "pět"))).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{backend:?}: {err}");
        assert_eq!(s.item_counts().unwrap()["email"], 3, "{backend:?}");
        assert_eq!(cursor(&s, "imap:jana/INBOX").as_deref(), Some(r#"{"uidvalidity":1,"last_uid":3}"#), "{backend:?}");

        // The store goes on after the rollback; the cursor moves again.
        let out = s.ingest_batch(&bad[..1], Some(("imap:jana/INBOX", "čtyři"))).unwrap();
        assert!(matches!(out[..], [IngestOutcome::New(_)]), "{backend:?}: {out:?}");
        assert_eq!(cursor(&s, "imap:jana/INBOX").as_deref(), Some("čtyři"), "{backend:?}");
        assert_eq!(s.source_keys("imap:jana/INBOX").unwrap().len(), 4, "{backend:?}");
        assert_eq!(s.ingest_batch(&[], None).unwrap(), [], "{backend:?}");
    });
}

fn note(body: &str, hints: NoteHints) -> NewItem {
    NewItem {
        kind: ItemKind::Call,
        date: at(4, 14),
        subject: "Telefonát – Horák".into(),
        body: body.into(),
        content_hash: format!("note-{body}"),
        extra: json!({"path": "Acme/telefonat.md", "note": hints}),
        note: Some(hints),
        ..NewItem::default()
    }
}

/// A notes source's changes, applied.
fn apply(
    s: &mut Store,
    items: &[(NewItem, SourceKey)],
    renames: &[(SourceKey, SourceKey)],
    deleted: &[SourceKey],
) -> (Vec<IngestOutcome>, Vec<String>) {
    let a = s.apply(&Changes { items, replace: true, renames, deleted, ..Changes::default() }).unwrap();
    (a.outcomes, a.warnings)
}

fn folder(name: &str) -> NoteHints {
    NoteHints { folders: vec![name.into()], ..NoteHints::default() }
}

#[test]
fn notes_are_updated_renamed_and_deleted_in_place() {
    stores::each(policy(), |backend, mut s| {
        client(&s, "Acme", &["acme.cz"], None);
        client(&s, "Beta Stavby", &["beta.cz"], None);
        let a = key("notes:/poznamky", "Acme/telefonat.md");
        let (out, warnings) = apply(&mut s, &[(note("Volal kvůli nabídce.", folder("Acme")), a.clone())], &[], &[]);
        let id = new_id(out[0].clone());
        assert!(warnings.is_empty(), "{backend:?}: {warnings:?}");
        assert_eq!(links(&s, id), [link("Acme", None, "folder")], "{backend:?}");
        let rev = s.item(id).unwrap().rev;

        // Unchanged: a duplicate. Changed: the same item, its links decided again.
        let (out, _) = apply(&mut s, &[(note("Volal kvůli nabídce.", folder("Acme")), a.clone())], &[], &[]);
        assert_eq!(out, [IngestOutcome::Duplicate(id)], "{backend:?}");
        let front = NoteHints { client: Some("Beta Stavby".into()), ..folder("Acme") };
        let (out, _) = apply(&mut s, &[(note("Přeposlat Betě.", front), a.clone())], &[], &[]);
        assert_eq!(out, [IngestOutcome::Updated(id)], "{backend:?}");
        let item = s.item(id).unwrap();
        assert_eq!(item.body, "Přeposlat Betě.", "{backend:?}");
        assert!(item.rev > rev, "{backend:?}");
        assert_eq!(links(&s, id), [link("Beta Stavby", None, "manual")], "{backend:?}");
        // A front matter naming nobody known: a warning with the path, and
        // the old front matter's link goes.
        let unknown = NoteHints { client: Some("Nikdo s.r.o.".into()), ..NoteHints::default() };
        let (out, warnings) = apply(&mut s, &[(note("Nikdo.", unknown), a.clone())], &[], &[]);
        assert_eq!(out, [IngestOutcome::Updated(id)], "{backend:?}");
        assert!(warnings.len() == 1 && warnings[0].starts_with("Acme/telefonat.md: "), "{backend:?}: {warnings:?}");
        assert!(links(&s, id).is_empty(), "{backend:?}: {:?}", links(&s, id));

        // Renamed, then deleted: the item stays in the history, deleted.
        let b = key("notes:/poznamky", "Beta/telefonat.md");
        apply(&mut s, &[], &[(a.clone(), b.clone())], &[]);
        assert_eq!(s.source_keys("notes:/poznamky").unwrap(), HashSet::from([b.key.clone()]), "{backend:?}");
        assert_eq!(s.item(id).unwrap().sources, ["notes:/poznamky Beta/telefonat.md"], "{backend:?}");
        apply(&mut s, &[], &[], std::slice::from_ref(&b));
        assert!(s.item(id).unwrap().deleted_at.is_some(), "{backend:?}");
        assert!(s.item_counts().unwrap().is_empty(), "{backend:?}");
        assert!(s.source_hashes("notes:/poznamky").unwrap().is_empty(), "{backend:?}");
        // The file back, unchanged: the item comes back.
        let (out, _) = apply(&mut s, &[(note("Nikdo.", NoteHints::default()), b.clone())], &[], &[]);
        assert_eq!(out, [IngestOutcome::Updated(id)], "{backend:?}");
        assert_eq!(s.item(id).unwrap().deleted_at, None, "{backend:?}");
        assert_eq!(s.item_counts().unwrap()["call"], 1, "{backend:?}");
    });
}

#[test]
fn history_is_rematched_threaded_and_read_per_client() {
    stores::each(policy(), |backend, mut s| {
        let early = new_id(
            s.ingest(&mail("e@x", person(Role::From, None, "novy@mail.acme.cz"), &[JANA], at(5, 9)), &key("m", "1"))
                .unwrap(),
        );
        let decoy = new_id(
            s.ingest(&mail("d@x", person(Role::From, None, "x@acme-stavby.cz"), &[JANA], at(5, 10)), &key("m", "2"))
                .unwrap(),
        );
        let private = new_id(
            s.ingest(&mail("p@x", person(Role::From, None, "karel@seznam.cz"), &[JANA], at(5, 11)), &key("m", "3"))
                .unwrap(),
        );
        // A reply to a free-mail address before its parent, which names a
        // grandparent that never comes.
        let mut r = mail("r@x", person(Role::From, None, JANA), &["statik@gmail.com"], at(5, 13));
        r.references = vec!["chybi@x".into(), "parent@x".into()];
        let reply = new_id(s.ingest(&r, &key("m", "4")).unwrap());
        let ico_note = note("Objednávka, IČO 27082440, ještě tento týden.", NoteHints::default());
        let call = new_id(s.ingest(&ico_note, &key("notes:/n", "objednavka.md")).unwrap());
        assert_eq!(s.linked_item_count().unwrap(), 0, "{backend:?}");

        // The client arrives with its domain and IČO: what it touches is matched again.
        let acme = client(&s, "Acme", &["acme.cz"], Some("27082440"));
        let changed = s.rematch_for(&["acme.cz".into()], &[], &[acme]).unwrap();
        assert_eq!(changed, 2, "{backend:?}");
        assert_eq!(links(&s, early), [link("Acme", None, "domain")], "{backend:?}: a subdomain's participant");
        assert!(links(&s, decoy).is_empty(), "{backend:?}: acme-stavby.cz is another domain");
        assert!(links(&s, private).is_empty(), "{backend:?}: free mail never matches by domain");
        assert_eq!(links(&s, call), [link("Acme", None, "ico")], "{backend:?}");
        // Nothing new: nothing changes.
        assert_eq!(s.rematch_all().unwrap(), 0, "{backend:?}");

        // A contact's private address.
        contact(&s, acme, "Karel Horák", &["karel@seznam.cz"]);
        assert_eq!(s.rematch_for(&[], &["karel@seznam.cz".into()], &[]).unwrap(), 1, "{backend:?}");
        assert_eq!(links(&s, private), [link("Acme", Some("Karel Horák"), "address")], "{backend:?}");

        // The parent arrives: the reply inherits the thread's client.
        let mut p = mail("parent@x", karel(), &[JANA], at(5, 12));
        p.references = vec!["chybi@x".into()];
        let parent = new_id(s.ingest(&p, &key("m", "5")).unwrap());
        assert_eq!(s.item(reply).unwrap().thread_id, s.item(parent).unwrap().thread_id, "{backend:?}");
        assert_eq!(links(&s, reply), [link("Acme", None, "thread")], "{backend:?}");
        assert_eq!(s.linked_item_count().unwrap(), 5, "{backend:?}");

        // Per client, newest first, with limits; deleted ones apart.
        let all = s.client_item_ids(acme, usize::MAX, false).unwrap();
        assert_eq!(all, [reply, parent, private, early, call], "{backend:?}");
        assert_eq!(s.client_item_ids(acme, 2, false).unwrap(), [reply, parent], "{backend:?}");
        assert!(s.client_item_ids(acme, 10, true).unwrap().is_empty(), "{backend:?}");
        assert!(s.client_item_ids(ClientId(9999), 10, false).unwrap().is_empty(), "{backend:?}");
        assert_eq!(
            s.client_items_of_kind(acme, ItemKind::Email, at(5, 12), 10).unwrap(),
            [private, early],
            "{backend:?}: before the parent's hour"
        );
        assert_eq!(s.client_items_of_kind(acme, ItemKind::Call, at(30, 0), usize::MAX).unwrap(), [call], "{backend:?}");

        // A domain two clients share: both, ambiguous, in name order.
        client(&s, "Žabka Holding", &["holding.cz"], None);
        client(&s, "Alfa Holding", &["holding.cz"], None);
        let shared = new_id(
            s.ingest(&mail("h@x", person(Role::From, None, "x@holding.cz"), &[], at(6, 9)), &key("m", "6")).unwrap(),
        );
        let rows = s.item_links(shared).unwrap();
        assert_eq!(
            rows.iter().map(|l| (l.client.as_str(), l.ambiguous)).collect::<Vec<_>>(),
            [("Alfa Holding", true), ("Žabka Holding", true)],
            "{backend:?}"
        );
    });
}

#[test]
fn manual_links_survive_rematching() {
    stores::each(policy(), |backend, mut s| {
        let acme = client(&s, "Acme", &["acme.cz"], None);
        let id = new_id(
            s.ingest(&mail("x@x", person(Role::From, None, "someone@gmail.com"), &[JANA], at(7, 9)), &key("m", "1"))
                .unwrap(),
        );
        let rev = s.item(id).unwrap().rev;
        s.link_manual(id, acme, None).unwrap();
        assert!(s.item(id).unwrap().rev > rev, "{backend:?}");
        s.rematch_all().unwrap();
        assert_eq!(links(&s, id), [link("Acme", None, "manual")], "{backend:?}");
        assert!(s.unlink_manual(id, acme).unwrap(), "{backend:?}");
        assert!(!s.unlink_manual(id, acme).unwrap(), "{backend:?}: no longer linked");
        assert!(links(&s, id).is_empty(), "{backend:?}");
        assert!(matches!(s.link_manual(ItemId(9999), acme, None), Err(StoreError::NotFound { .. })), "{backend:?}");
    });
}

fn attendee(name: Option<&str>, address: &str, partstat: &str) -> Attendee {
    Attendee { name: name.map(str::to_string), address: address.into(), partstat: Some(partstat.into()) }
}

fn occurrence(sequence: i64, summary: &str) -> Occurrence {
    Occurrence {
        uid: "kontrolni-den@acme.cz".into(),
        recurrence_id: None,
        sequence,
        start: at(10, 9),
        end: at(10, 10),
        all_day: false,
        date: None,
        end_date: None,
        summary: summary.into(),
        description: "Kontrolní den na stavbě".into(),
        location: "Kladno, hala B".into(),
        organizer: Some(attendee(Some("Karel Horák"), "karel@acme.cz", "ACCEPTED")),
        attendees: vec![
            attendee(Some("Jana Svobodová"), JANA, "NEEDS-ACTION"),
            attendee(None, "sarka@acme.cz", "NEEDS-ACTION"),
        ],
        status: Some("CONFIRMED".into()),
        dtstamp: Some(at(1, 8 + u32::try_from(sequence).unwrap())),
    }
}

/// A mail from Karel carrying `invitation`.
fn invitation_mail(n: u32, invitation: Invitation) -> NewItem {
    let mut m = mail(&format!("pozvanka-{n}@acme.cz"), karel(), &[JANA], at(2, n));
    m.invitation = Some(invitation);
    m
}

fn partstat(s: &Store, id: ItemId, address: &str) -> Option<String> {
    let extra = s.item(id).unwrap().extra;
    let attendees = extra["attendees"].as_array().cloned().unwrap_or_default();
    attendees.iter().find(|a| a["address"] == address).and_then(|a| a["partstat"].as_str().map(str::to_string))
}

#[test]
fn one_meeting_is_one_item_through_feeds_invitations_replies_and_cancels() {
    stores::each(policy(), |backend, mut s| {
        let acme = client(&s, "Acme", &["acme.cz"], None);
        let beta = client(&s, "Beta", &["beta.cz"], None);
        let feed = key("caldav:jana/Práce", &occurrence_key(&occurrence(0, "")));
        let ev = new_id(s.ingest(&event_item("Práce", &occurrence(0, "Kontrolní den")), &feed).unwrap());
        // Stored before events had identities, or under a UID since changed:
        // the copy under its key gives the item its identity again.
        let copy = event_item("Práce", &occurrence(0, "Kontrolní den"));
        s.db().execute("DELETE FROM events", args![]).unwrap();
        assert_eq!(s.ingest(&copy, &feed).unwrap(), IngestOutcome::Duplicate(ev), "{backend:?}");
        s.db().execute("UPDATE events SET uid = 'stary-uid@acme.cz'", args![]).unwrap();
        assert_eq!(s.ingest(&copy, &feed).unwrap(), IngestOutcome::Duplicate(ev), "{backend:?}");
        assert_eq!(
            s.db()
                .query("SELECT uid, rid, item_id, sequence FROM events", args![], |r| Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<i64>(3)?
                )))
                .unwrap(),
            [("kontrolni-den@acme.cz".to_string(), "-".to_string(), ev.0, 0)],
            "{backend:?}"
        );
        let (from, to) = (at(10, 0), at(11, 0));
        assert_eq!(s.events_between(from, to, None).unwrap(), [ev], "{backend:?}");
        assert_eq!(s.events_between(from, to, Some(acme)).unwrap(), [ev], "{backend:?}");
        assert!(s.events_between(from, to, Some(beta)).unwrap().is_empty(), "{backend:?}");
        assert!(s.events_between(at(11, 0), at(12, 0), None).unwrap().is_empty(), "{backend:?}");
        assert_eq!(s.event_keys("kontrolni-den@acme.cz").unwrap(), std::slice::from_ref(&feed), "{backend:?}");
        assert!(s.event_keys("nikdo@nikde").unwrap().is_empty(), "{backend:?}");
        // By source prefix: case does not matter, `_` and `%` are themselves.
        assert_eq!(s.live_items_of_sources("caldav:jana/").unwrap(), 1, "{backend:?}");
        assert_eq!(s.live_items_of_sources("CALDAV:Jana/").unwrap(), 1, "{backend:?}");
        assert_eq!(s.live_items_of_sources("caldav:jan_/").unwrap(), 0, "{backend:?}");
        assert_eq!(s.live_items_of_sources("caldav:%").unwrap(), 0, "{backend:?}");

        // A newer copy in an invitation replaces it; a stale one does not.
        let request = Invitation {
            method: Method::Request,
            occurrences: vec![occurrence(1, "Kontrolní den – přesunuto")],
            series: vec![],
            replies: vec![],
        };
        new_id(s.ingest(&invitation_mail(1, request), &key("imap:jana/INBOX", "1/1")).unwrap());
        assert_eq!(s.item(ev).unwrap().subject, "Kontrolní den – přesunuto", "{backend:?}");
        assert_eq!(
            s.event_keys("kontrolni-den@acme.cz").unwrap(),
            [feed.clone(), key("invitations", "kontrolni-den@acme.cz/-")],
            "{backend:?}"
        );
        assert_eq!(
            s.ingest(&event_item("Práce", &occurrence(0, "Kontrolní den")), &feed).unwrap(),
            IngestOutcome::Duplicate(ev),
            "{backend:?}"
        );
        assert_eq!(s.item(ev).unwrap().subject, "Kontrolní den – přesunuto", "{backend:?}");
        assert_eq!(s.item_counts().unwrap()["event"], 1, "{backend:?}");

        // Šárka accepts; an older answer of hers does not undo it.
        let reply = |n: u32, sequence: i64, partstat: &str| {
            invitation_mail(
                n,
                Invitation {
                    method: Method::Reply,
                    occurrences: vec![],
                    series: vec![],
                    replies: vec![Reply {
                        uid: "kontrolni-den@acme.cz".into(),
                        recurrence_id: None,
                        sequence,
                        dtstamp: Some(at(3, n)),
                        address: "sarka@acme.cz".into(),
                        partstat: partstat.into(),
                    }],
                },
            )
        };
        s.ingest(&reply(2, 1, "ACCEPTED"), &key("imap:jana/INBOX", "1/2")).unwrap();
        assert_eq!(partstat(&s, ev, "sarka@acme.cz").as_deref(), Some("ACCEPTED"), "{backend:?}");
        s.ingest(&reply(3, 0, "DECLINED"), &key("imap:jana/INBOX", "1/3")).unwrap();
        assert_eq!(partstat(&s, ev, "sarka@acme.cz").as_deref(), Some("ACCEPTED"), "{backend:?}");
        assert_eq!(partstat(&s, ev, JANA).as_deref(), Some("NEEDS-ACTION"), "{backend:?}");

        // The whole series cancelled: in the history, off the agenda.
        let cancel = Invitation {
            method: Method::Cancel,
            occurrences: vec![],
            series: vec![("kontrolni-den@acme.cz".into(), 2)],
            replies: vec![],
        };
        s.ingest(&invitation_mail(4, cancel), &key("imap:jana/INBOX", "1/4")).unwrap();
        assert!(s.events_between(from, to, None).unwrap().is_empty(), "{backend:?}");
        assert!(s.events_between(from, to, Some(acme)).unwrap().is_empty(), "{backend:?}");
        let item = s.item(ev).unwrap();
        assert_eq!(item.extra["status"], "CANCELLED", "{backend:?}");
        assert_eq!(item.extra["uid"], "kontrolni-den@acme.cz", "{backend:?}: the rest of extra kept");
        assert_eq!(item.extra["location"], "Kladno, hala B", "{backend:?}");

        // Deleted from the calendar: the invitation still holds it; from both, it goes.
        s.apply(&Changes { deleted: std::slice::from_ref(&feed), ..Changes::default() }).unwrap();
        assert_eq!(s.item(ev).unwrap().deleted_at, None, "{backend:?}");
        assert_eq!(s.live_items_of_sources("caldav:jana/").unwrap(), 0, "{backend:?}");
        let invited = key("invitations", "kontrolni-den@acme.cz/-");
        s.apply(&Changes { deleted: std::slice::from_ref(&invited), ..Changes::default() }).unwrap();
        assert!(s.item(ev).unwrap().deleted_at.is_some(), "{backend:?}");
        assert!(!s.item_counts().unwrap().contains_key("event"), "{backend:?}");
    });
}

type ContactRow = (String, Option<String>, String, Option<String>, Option<String>, Option<String>, Option<String>);

fn contacts_of(s: &Store, client: ClientId) -> Vec<ContactRow> {
    s.db()
        .query(
            "SELECT name, title_before, origin, phone, phone_source, role, role_source FROM contacts
             WHERE client_id = ?1 ORDER BY id",
            args![client.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap()
}

fn proposals(s: &Store) -> Vec<(String, String, String)> {
    s.db()
        .query("SELECT field, value, status FROM contact_proposals ORDER BY id", args![], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
}

fn signed(mid: &str, from: Participant, phone: &str, position: &str) -> NewItem {
    let mut m = mail(mid, from, &[JANA], at(8, 9));
    m.extra = json!({"signature": {"phones": [phone], "position": position}});
    m
}

#[test]
fn contacts_and_what_their_signatures_say_come_from_mail() {
    stores::each(policy(), |backend, mut s| {
        let acme = client(&s, "Acme Stavby", &["acme.cz"], None);
        let horak = || person(Role::From, Some("Ing. Karel Horák"), "karel.horak@acme.cz");
        let first =
            new_id(s.ingest(&signed("s1@acme.cz", horak(), "+420602000111", "Jednatel"), &key("m", "1")).unwrap());
        let source = format!("item:{}", first.0);
        assert_eq!(
            contacts_of(&s, acme),
            [(
                "Karel Horák".to_string(),
                Some("Ing.".to_string()),
                "mail".to_string(),
                Some("+420 602 000 111".to_string()),
                Some(source.clone()),
                Some("Jednatel".to_string()),
                Some(source.clone())
            )],
            "{backend:?}"
        );
        assert_eq!(links(&s, first), [link("Acme Stavby", Some("Karel Horák"), "address")], "{backend:?}");
        assert_eq!(
            proposals(&s),
            [
                ("phone".to_string(), "+420 602 000 111".to_string(), "applied".to_string()),
                ("role".to_string(), "Jednatel".to_string(), "applied".to_string())
            ],
            "{backend:?}"
        );

        // A phone typed in by hand is never overwritten: the mail's waits.
        s.db().execute("UPDATE contacts SET phone = '+420 777 123 456', phone_source = 'manual'", args![]).unwrap();
        s.ingest(&signed("s2@acme.cz", horak(), "+420602000222", "Jednatel"), &key("m", "2")).unwrap();
        let c = &contacts_of(&s, acme)[0];
        assert_eq!((c.3.as_deref(), c.4.as_deref()), (Some("+420 777 123 456"), Some("manual")), "{backend:?}");
        assert_eq!(proposals(&s)[2], ("phone".into(), "+420 602 000 222".into(), "pending".into()), "{backend:?}");
        assert_eq!(proposals(&s).len(), 3, "{backend:?}: the same position proposes nothing");

        // From free mail under a known name: a proposed second address, once.
        let private = person(Role::From, Some("Karel Horák"), "horak.karel@seznam.cz");
        s.ingest(&mail("f1@seznam.cz", private.clone(), &[JANA], at(8, 10)), &key("m", "3")).unwrap();
        s.ingest(&mail("f2@seznam.cz", private, &[JANA], at(8, 11)), &key("m", "4")).unwrap();
        assert_eq!(
            proposals(&s).into_iter().filter(|p| p.0 == "address").collect::<Vec<_>>(),
            [("address".to_string(), "horak.karel@seznam.cz".to_string(), "pending".to_string())],
            "{backend:?}"
        );

        // Someone refused as a contact, and a Cc of mail we received: nobody new.
        s.db()
            .execute(
                "INSERT INTO auto_contacts_refused (email, created_at) VALUES (?1, ?2)",
                args!["eva.mala@acme.cz", "x"],
            )
            .unwrap();
        let mut m = mail("r1@acme.cz", person(Role::From, Some("Eva Malá"), "eva.mala@acme.cz"), &[JANA], at(8, 12));
        m.participants.push(person(Role::Cc, Some("Lucie Dvořáková"), "lucie@acme.cz"));
        s.ingest(&m, &key("m", "5")).unwrap();
        assert_eq!(contacts_of(&s, acme).len(), 1, "{backend:?}");

        // We write to two people at the client: both become contacts, in one batch.
        let mut out = mail("o1@modrykamen.cz", person(Role::From, None, JANA), &[], at(8, 13));
        out.participants.push(person(Role::To, Some("Petra Králová"), "petra@acme.cz"));
        out.participants.push(person(Role::Cc, Some("Šimon Čech"), "simon@acme.cz"));
        let mut again = out.clone();
        again.message_id = Some("o2@modrykamen.cz".into());
        again.content_hash = "hash-o2".into();
        let ids = s.ingest_batch(&[(out, key("m", "6")), (again, key("m", "7"))], None).unwrap();
        let names: Vec<String> = contacts_of(&s, acme).into_iter().map(|c| c.0).collect();
        assert_eq!(names, ["Karel Horák", "Petra Králová", "Šimon Čech"], "{backend:?}");
        for o in ids {
            let IngestOutcome::New(id) = o else { panic!("{backend:?}: {o:?}") };
            assert_eq!(
                links(&s, id),
                [
                    link("Acme Stavby", Some("Petra Králová"), "address"),
                    link("Acme Stavby", Some("Šimon Čech"), "address")
                ],
                "{backend:?}"
            );
        }
        assert_eq!(count(&s, "SELECT COUNT(*) FROM contact_emails"), 3, "{backend:?}");
    });
}

fn facts(number: &str, proposed: bool) -> InvoiceFacts {
    InvoiceFacts {
        number: number.into(),
        kind: "invoice".into(),
        credit: false,
        date: NaiveDate::from_ymd_opt(2026, 11, 9).unwrap(),
        due: NaiveDate::from_ymd_opt(2026, 11, 23),
        currency: "CZK".into(),
        without_vat: 185_000.5,
        with_vat: Some(223_850.6),
        supplier_ico: Some("11111111".into()),
        supplier: Some("Modrý kámen s.r.o.".into()),
        customer_ico: Some("27082440".into()),
        customer: Some("Acme Stavby s.r.o.".into()),
        lines: vec![InvoiceLine {
            description: "Rekuperační jednotka – montáž".into(), without_vat: Some(185_000.5)
        }],
        icos: vec![],
        proposed,
    }
}

fn invoice(hash: &str, facts: &InvoiceFacts) -> NewItem {
    NewItem {
        kind: ItemKind::Document,
        date: at(9, 9),
        subject: format!("faktura {}.pdf", facts.number),
        participants: vec![person(Role::To, None, "ucetni@acme.cz")],
        content_hash: hash.into(),
        direction: Some(kronika::model::Direction::Out),
        extra: json!({"invoice": facts}),
        ..NewItem::default()
    }
}

type DealRow = (String, f64, String, String, Option<String>, String, String);

fn deals(s: &Store) -> Vec<DealRow> {
    s.db()
        .query("SELECT title, value, currency, side, number, products, origin FROM deals ORDER BY id", args![], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .unwrap()
}

#[test]
fn invoices_in_mail_become_deals_once_and_text_only_ones_wait_as_proposals() {
    stores::each(policy(), |backend, mut s| {
        let acme = client(&s, "Acme Stavby", &["acme.cz"], Some("27082440"));
        // Read from a PDF's text: a proposal, no deal.
        let doc =
            new_id(s.ingest(&invoice("pdf-1", &facts("FV-2026-0042", true)), &key("documents", "pdf-1")).unwrap());
        assert!(deals(&s).is_empty(), "{backend:?}");
        let proposal = |s: &Store| {
            s.db()
                .query_row(
                    "SELECT client_id, item_id, side, value, credit, status, deal_id FROM deal_proposals",
                    args![],
                    |r| {
                        Ok((
                            r.get::<i64>(0)?,
                            r.get::<i64>(1)?,
                            r.get::<String>(2)?,
                            r.get::<f64>(3)?,
                            r.get::<bool>(4)?,
                            r.get::<String>(5)?,
                            r.get::<Option<i64>>(6)?,
                        ))
                    },
                )
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            proposal(&s),
            (acme.0, doc.0, "sale".into(), 185_000.5, false, "pending".into(), None),
            "{backend:?}"
        );

        // The ISDOC of the same invoice: a deal, which settles the proposal.
        new_id(s.ingest(&invoice("isdoc-1", &facts("FV-2026-0042", false)), &key("documents", "isdoc-1")).unwrap());
        let row = (
            "Faktura FV-2026-0042".to_string(),
            185_000.5,
            "CZK".to_string(),
            "sale".to_string(),
            Some("FV-2026-0042".to_string()),
            r#"["Rekuperační jednotka – montáž"]"#.to_string(),
            "isdoc".to_string(),
        );
        assert_eq!(deals(&s), std::slice::from_ref(&row), "{backend:?}");
        let deal = s.db().value::<i64>("SELECT id FROM deals", args![]).unwrap();
        let p = proposal(&s);
        assert_eq!((p.5.as_str(), p.6), ("confirmed", deal), "{backend:?}");

        // The same invoice again (another mailbox's copy): still one deal,
        // and a text-only copy of it proposes nothing.
        new_id(s.ingest(&invoice("isdoc-2", &facts("FV-2026-0042", false)), &key("documents", "isdoc-2")).unwrap());
        new_id(s.ingest(&invoice("pdf-2", &facts("FV-2026-0042", true)), &key("documents", "pdf-2")).unwrap());
        assert_eq!(deals(&s), [row], "{backend:?}");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM deal_proposals"), 1, "{backend:?}");

        // A credit note: negative. An invoice of nobody known: nothing.
        let mut credit = facts("D-2026-0001", false);
        credit.credit = true;
        credit.kind = "credit_note".into();
        s.ingest(&invoice("isdoc-3", &credit), &key("documents", "isdoc-3")).unwrap();
        let mut stranger = facts("FV-2026-0099", false);
        stranger.customer_ico = Some("99999999".into());
        let mut lost = invoice("isdoc-4", &stranger);
        lost.participants = vec![person(Role::To, None, "nekdo@jinde.cz")];
        s.ingest(&lost, &key("documents", "isdoc-4")).unwrap();
        let all = deals(&s);
        assert_eq!(all.len(), 2, "{backend:?}: {all:?}");
        assert_eq!((all[1].0.as_str(), all[1].1), ("Dobropis D-2026-0001", -185_000.5), "{backend:?}");
    });
}

/// A batch written under a lease (a daemon's source) is stored only while
/// the writing daemon holds the lease: one paused past it (a suspended VM)
/// that wakes up stores nothing, the cursor neither.
#[test]
fn a_fenced_batch_is_stored_only_while_its_lease_is_held() {
    use kronika::store::{Fence, Holder};
    stores::each(policy(), |backend, mut s| {
        let a = Holder::this_process("uzel-a");
        let b = Holder { node: "uzel-b".into(), token: "uzel-b/2/1".into() };
        let fence = Fence { lease: "work".into(), token: a.token.clone() };
        let batch = [(mail("f1@acme.cz", karel(), &[JANA], at(4, 9)), key("imap:work/INBOX", "1/1"))];
        let cursor = Some(("imap:work/INBOX", r#"{"uidvalidity":1,"last_uid":1}"#));
        let write =
            |s: &mut Store| s.apply(&Changes { items: &batch, cursor, fence: Some(&fence), ..Changes::default() });
        // Nobody holds it: refused.
        assert!(matches!(write(&mut s), Err(StoreError::LeaseLost(l)) if l == "work"), "{backend:?}");
        s.take_lease("work", &a, std::time::Duration::from_secs(30)).unwrap();
        let out = write(&mut s).unwrap().outcomes;
        assert!(matches!(out[0], IngestOutcome::New(_)), "{backend:?}");
        // a's lease runs out and b takes the source over: a's next batch is refused whole.
        s.db().execute("UPDATE leases SET expires_at = expires_at - 31 WHERE name = 'work'", args![]).unwrap();
        s.take_lease("work", &b, std::time::Duration::from_secs(30)).unwrap();
        let later = [(mail("f2@acme.cz", karel(), &[JANA], at(4, 10)), key("imap:work/INBOX", "1/2"))];
        let cursor2 = Some(("imap:work/INBOX", r#"{"uidvalidity":1,"last_uid":2}"#));
        let err = s.apply(&Changes { items: &later, cursor: cursor2, fence: Some(&fence), ..Changes::default() });
        assert!(matches!(err, Err(StoreError::LeaseLost(_))), "{backend:?}");
        assert_eq!(s.item_counts().unwrap()["email"], 1, "{backend:?}");
        assert_eq!(s.cursor("imap:work/INBOX").unwrap().as_deref(), cursor.map(|c| c.1), "{backend:?}");
    });
}

/// Rows a transaction keeps back (`Db::insert_later`, how ingestion
/// writes an item's participants, links and sources) are there for the
/// statements that read them, land with the commit, go with a rollback,
/// and fail the commit when they are bad.
#[test]
fn rows_kept_back_are_read_in_their_transaction_and_land_only_with_it() {
    stores::each(policy(), |backend, s| {
        let db = s.db();
        db.batch("CREATE TABLE kept (n BIGINT NOT NULL, t TEXT)").unwrap();
        let count = |db: &kronika::store::db::Db| db.value::<i64>("SELECT COUNT(*) FROM kept", args![]).unwrap();
        let head = "INSERT INTO kept (n, t)";
        // 70 rows go as 64 + 4 + 2 when a statement names the table.
        let tx = db.begin().unwrap();
        for n in 0..70i64 {
            tx.insert_later("kept", head, "", 2, args![n, format!("řádek {n}")]).unwrap();
        }
        assert_eq!(count(&tx), Some(70), "{backend:?}");
        assert_eq!(tx.value::<i64>("SELECT CAST(SUM(n) AS BIGINT) FROM kept", args![]).unwrap(), Some((0..70).sum()));
        tx.insert_later("kept", head, "", 2, args![70i64, None::<String>]).unwrap();
        drop(tx);
        assert_eq!(count(db), Some(0), "{backend:?}: a rollback takes kept rows with it");
        // Kept to the commit.
        let tx = db.begin().unwrap();
        tx.insert_later("kept", head, "", 2, args![1i64, "a", 2i64, "b"]).unwrap();
        tx.commit().unwrap();
        assert_eq!(count(db), Some(2), "{backend:?}");
        // A bad kept row fails the commit, and the transaction's other
        // writes with it.
        let tx = db.begin().unwrap();
        tx.execute("INSERT INTO kept (n, t) VALUES (3, 'c')", args![]).unwrap();
        tx.insert_later("kept", head, "", 2, args![None::<i64>, "null n"]).unwrap();
        assert!(tx.commit().is_err(), "{backend:?}");
        assert_eq!(count(db), Some(2), "{backend:?}");
        // Outside a transaction rows go at once.
        db.insert_later("kept", head, "", 2, args![4i64, "d"]).unwrap();
        assert_eq!(count(db), Some(3), "{backend:?}");
    });
}

/// Two threads that one mail of the same batch joins merge, and every
/// link of their mails carries the merged thread (the links of the
/// batch's own mails included, which the transaction keeps back until a
/// statement needs them).
#[test]
fn threads_merged_within_a_batch_carry_the_merged_thread_into_every_link() {
    stores::each(policy(), |backend, mut s| {
        client(&s, "Acme", &["acme.cz"], None);
        let a = mail("a@acme.cz", karel(), &[JANA], at(1, 9));
        let b = mail("b@acme.cz", karel(), &[JANA], at(1, 10));
        let mut c = mail("c@acme.cz", karel(), &[JANA], at(1, 11));
        c.references = vec!["a@acme.cz".into(), "b@acme.cz".into()];
        let items = [(a, key("imap:x", "1")), (b, key("imap:x", "2")), (c, key("imap:x", "3"))];
        let out = s.apply(&Changes { items: &items, ..Changes::default() }).unwrap().outcomes;
        let ids: Vec<ItemId> = out.into_iter().map(new_id).collect();
        let threads: HashSet<Option<i64>> = ids.iter().map(|id| s.item(*id).unwrap().thread_id).collect();
        assert_eq!(threads.len(), 1, "{backend:?}: one thread, {threads:?}");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM item_links"), 3, "{backend:?}");
        assert_eq!(
            count(
                &s,
                "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id
                 WHERE COALESCE(l.thread_id, -1) != COALESCE(i.thread_id, -1)"
            ),
            0,
            "{backend:?}: a link kept its mail's old thread"
        );
    });
}

/// Two mails of one batch from the same person with new phones: the
/// second's applies over the first's (both recorded), and a phone typed in
/// since the batch before is kept, the batch's own value only proposed.
#[test]
fn signatures_within_one_batch_follow_each_other() {
    stores::each(policy(), |backend, mut s| {
        let acme = client(&s, "Acme Stavby", &["acme.cz"], None);
        // One batch of signed mails from Karel: (n, phone, position).
        let batch = |s: &mut Store, mails: [(u32, &str, &str); 2]| {
            let horak = || person(Role::From, Some("Karel Horák"), "karel.horak@acme.cz");
            let items: Vec<(NewItem, SourceKey)> = mails
                .iter()
                .map(|(n, phone, position)| {
                    (signed(&format!("b{n}@acme.cz"), horak(), phone, position), key("m", &n.to_string()))
                })
                .collect();
            s.ingest_batch(&items, None).unwrap();
        };
        batch(&mut s, [(1, "+420602000111", "Jednatel"), (2, "+420602000222", "Ředitel")]);
        let c = &contacts_of(&s, acme)[0];
        assert_eq!((c.3.as_deref(), c.5.as_deref()), (Some("+420 602 000 222"), Some("Ředitel")), "{backend:?}");
        let applied = proposals(&s).into_iter().filter(|p| p.2 == "applied").count();
        assert_eq!(applied, 4, "{backend:?}: {:?}", proposals(&s));
        // Typed in between two batches: the next batch proposes only.
        s.db().execute("UPDATE contacts SET phone = '+420 777 123 456', phone_source = 'manual'", args![]).unwrap();
        batch(&mut s, [(3, "+420602000333", "Ředitel"), (4, "+420602000444", "Ředitel")]);
        let c = &contacts_of(&s, acme)[0];
        assert_eq!((c.3.as_deref(), c.4.as_deref()), (Some("+420 777 123 456"), Some("manual")), "{backend:?}");
        let pending: Vec<String> = proposals(&s).into_iter().filter(|p| p.2 == "pending").map(|p| p.1).collect();
        assert_eq!(pending, ["+420 602 000 333", "+420 602 000 444"], "{backend:?}");
    });
}
