//! The store with the matcher: idempotent ingestion, re-matching when the
//! directory changes, manual links, thread links and the blocklist, on
//! both backends (`common::stores`).

use chrono::{TimeZone, Utc};
use kronika::matcher::Policy;
use kronika::model::{ItemKind, Participant, Role};
use kronika::store::{ClientInput, ClientPatch, ContactInput, DateSource, IngestOutcome, NewItem, SourceKey, Store};

use crate::common::stores;

fn policy() -> Policy {
    Policy {
        own_addresses: vec!["jana@modrykamen.cz".into()],
        own_domains: vec!["modrykamen.cz".into()],
        free_mail_domains: vec!["gmail.com".into(), "seznam.cz".into()],
        blocklist: vec!["mama@gmail.com".into()],
        ..Policy::default()
    }
}

fn mail(mid: &str, refs: &[&str], from: &str, to: &[&str]) -> NewItem {
    let mut participants = vec![Participant { role: Role::From, name: None, address: from.into() }];
    participants.extend(to.iter().map(|a| Participant { role: Role::To, name: None, address: a.to_string() }));
    NewItem {
        kind: ItemKind::Email,
        message_id: Some(mid.into()),
        references: refs.iter().map(|s| s.to_string()).collect(),
        date: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
        date_source: DateSource::Header,
        subject: format!("subject of {mid}"),
        body: "body".into(),
        participants,
        attachments: vec![],
        content_hash: format!("hash-{mid}"),
        size: 100,
        extra: serde_json::json!({}),
        ..NewItem::default()
    }
}

fn key(source: &str, k: &str) -> SourceKey {
    SourceKey { source: source.into(), key: k.into() }
}

fn new_id(o: IngestOutcome) -> kronika::model::ItemId {
    match o {
        IngestOutcome::New(id) => id,
        other => panic!("expected a new item, got {other:?}"),
    }
}

fn client_names(store: &Store, id: kronika::model::ItemId) -> Vec<(String, String)> {
    store.item_links(id).unwrap().into_iter().map(|l| (l.client, l.reason)).collect()
}

fn acme() -> ClientInput {
    ClientInput { name: "Acme".into(), domains: vec!["acme.cz".into()], ..ClientInput::default() }
}

#[test]
fn ingest_is_idempotent_by_source_key_message_id_and_content() {
    stores::each(policy(), |backend, mut s| {
        let m = mail("a@x", &[], "karel@acme.cz", &["jana@modrykamen.cz"]);
        let id = new_id(s.ingest(&m, &key("maildir:/m", "cur/1")).unwrap());
        assert_eq!(s.ingest(&m, &key("maildir:/m", "cur/1")).unwrap(), IngestOutcome::Duplicate(id), "{backend:?}");
        // The same message in another folder is the same item.
        assert_eq!(
            s.ingest(&m, &key("maildir:/m/.Sent", "cur/9")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        // Without a Message-ID match, the content hash recognises it.
        let mut same_content = m.clone();
        same_content.message_id = Some("different@x".into());
        assert_eq!(
            s.ingest(&same_content, &key("imap:a/INBOX", "1/7")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        assert_eq!(s.item_counts().unwrap()["email"], 1, "{backend:?}");
        assert_eq!(s.item(id).unwrap().sources.len(), 3, "{backend:?}");
    });
}

#[test]
fn batch_and_cursor_land_together() {
    stores::each(policy(), |backend, mut s| {
        let batch: Vec<(NewItem, SourceKey)> = (0..5)
            .map(|i| (mail(&format!("m{i}@x"), &[], "x@acme.cz", &[]), key("imap:a/INBOX", &format!("1/{i}"))))
            .collect();
        let out = s.ingest_batch(&batch, Some(("imap:a/INBOX", "{\"uidvalidity\":1,\"last_uid\":4}"))).unwrap();
        assert!(out.iter().all(|o| matches!(o, IngestOutcome::New(_))), "{backend:?}");
        assert_eq!(
            s.cursor("imap:a/INBOX").unwrap().as_deref(),
            Some("{\"uidvalidity\":1,\"last_uid\":4}"),
            "{backend:?}"
        );
    });
}

#[test]
fn blocklisted_mail_is_not_stored_and_internal_mail_stays_unlinked() {
    stores::each(policy(), |backend, mut s| {
        s.add_client(&acme()).unwrap();
        let blocked = mail("b@x", &[], "mama@gmail.com", &["jana@modrykamen.cz", "x@acme.cz"]);
        assert!(matches!(s.ingest(&blocked, &key("m", "1")).unwrap(), IngestOutcome::Blocked(_)), "{backend:?}");
        assert!(s.item_counts().unwrap().is_empty(), "{backend:?}");
        let internal = mail("i@x", &[], "jana@modrykamen.cz", &["petr@modrykamen.cz"]);
        let id = new_id(s.ingest(&internal, &key("m", "2")).unwrap());
        let item = s.item(id).unwrap();
        assert_eq!(item.direction, "internal", "{backend:?}");
        assert!(item.links.is_empty(), "{backend:?}");
        let out = mail("o@x", &[], "jana@modrykamen.cz", &["x@acme.cz"]);
        let id = new_id(s.ingest(&out, &key("m", "3")).unwrap());
        assert_eq!(s.item(id).unwrap().direction, "out", "{backend:?}");
    });
}

#[test]
fn history_that_arrived_before_the_client_is_rematched() {
    stores::each(policy(), |backend, mut s| {
        let early =
            new_id(s.ingest(&mail("e@x", &[], "novy@mail.acme.cz", &["jana@modrykamen.cz"]), &key("m", "1")).unwrap());
        let private =
            new_id(s.ingest(&mail("p@x", &[], "karel@seznam.cz", &["jana@modrykamen.cz"]), &key("m", "2")).unwrap());
        assert!(client_names(&s, early).is_empty(), "{backend:?}");

        let acme = s.add_client(&acme()).unwrap();
        assert_eq!(client_names(&s, early), vec![("Acme".to_string(), "domain".to_string())], "{backend:?}");
        assert!(client_names(&s, private).is_empty(), "{backend:?}: free-mail never matches by domain");

        let karel = s
            .add_contact(
                acme,
                &ContactInput { name: "Karel".into(), emails: vec!["karel@seznam.cz".into()], ..Default::default() },
            )
            .unwrap();
        assert_eq!(client_names(&s, private), vec![("Acme".to_string(), "address".to_string())], "{backend:?}");
        assert_eq!(s.client_item_counts(acme).unwrap()["email"], 2, "{backend:?}");

        // Removing the domain unlinks what only the domain linked.
        s.edit_client(acme, &ClientPatch { remove_domains: vec!["acme.cz".into()], ..Default::default() }).unwrap();
        assert!(client_names(&s, early).is_empty(), "{backend:?}");
        assert_eq!(client_names(&s, private).len(), 1, "{backend:?}");

        // Removing the contact unlinks its mail; removing the client keeps the items.
        s.remove_contact(karel).unwrap();
        assert!(client_names(&s, private).is_empty(), "{backend:?}");
        s.remove_client(acme).unwrap();
        assert_eq!(s.item_counts().unwrap()["email"], 2, "{backend:?}");
    });
}

#[test]
fn manual_links_survive_rematching() {
    stores::each(policy(), |backend, mut s| {
        let acme = s.add_client(&acme()).unwrap();
        let id =
            new_id(s.ingest(&mail("x@x", &[], "someone@gmail.com", &["jana@modrykamen.cz"]), &key("m", "1")).unwrap());
        s.link_manual(id, acme, None).unwrap();
        s.rematch_all().unwrap();
        s.edit_client(acme, &ClientPatch { add_domains: vec!["acme2.cz".into()], ..Default::default() }).unwrap();
        assert_eq!(client_names(&s, id), vec![("Acme".to_string(), "manual".to_string())], "{backend:?}");
        assert!(s.unlink_manual(id, acme).unwrap(), "{backend:?}");
        assert!(client_names(&s, id).is_empty(), "{backend:?}");
    });
}

#[test]
fn shared_domains_link_every_owner_as_ambiguous() {
    stores::each(policy(), |backend, mut s| {
        s.add_client(&ClientInput { name: "A".into(), domains: vec!["holding.cz".into()], ..Default::default() })
            .unwrap();
        s.add_client(&ClientInput { name: "B".into(), domains: vec!["holding.cz".into()], ..Default::default() })
            .unwrap();
        let id = new_id(s.ingest(&mail("h@x", &[], "x@holding.cz", &[]), &key("m", "1")).unwrap());
        let links = s.item_links(id).unwrap();
        assert_eq!(links.len(), 2, "{backend:?}");
        assert!(links.iter().all(|l| l.ambiguous), "{backend:?}");
    });
}

#[test]
fn replies_without_a_client_inherit_the_thread_in_any_order() {
    stores::each(policy(), |backend, mut s| {
        s.add_client(&acme()).unwrap();
        // The reply to a free-mail address arrives before its parent, and it
        // references a grandparent that never arrives.
        let reply = new_id(
            s.ingest(&mail("r@x", &["missing@x", "p@x"], "jana@modrykamen.cz", &["statik@gmail.com"]), &key("m", "1"))
                .unwrap(),
        );
        assert!(client_names(&s, reply).is_empty(), "{backend:?}");
        let parent = new_id(
            s.ingest(&mail("p@x", &["missing@x"], "x@acme.cz", &["jana@modrykamen.cz"]), &key("m", "2")).unwrap(),
        );
        assert_eq!(s.item(reply).unwrap().thread_id, s.item(parent).unwrap().thread_id, "{backend:?}");
        assert_eq!(client_names(&s, reply), vec![("Acme".to_string(), "thread".to_string())], "{backend:?}");
        // A self-reference and a cycle do not break anything.
        let odd =
            new_id(s.ingest(&mail("c@x", &["c@x", "r@x", "c@x"], "statik@gmail.com", &[]), &key("m", "3")).unwrap());
        assert_eq!(s.item(odd).unwrap().thread_id, s.item(parent).unwrap().thread_id, "{backend:?}");
        assert_eq!(client_names(&s, odd), vec![("Acme".to_string(), "thread".to_string())], "{backend:?}");
    });
}
