//! The capture mailbox: `kronika::mail::parse_captured` on forwarded and
//! Bcc'd mail (fixtures/capture/, one file per mail client and language),
//! and the store keeping one item per original however often it arrives.
//!
//! Golden files: every `fixtures/capture/*.eml` has a `*.json` beside it
//! with the expected item. On a mismatch the test writes `*.actual.json`
//! and fails; `KRONIKA_BLESS=1` (re)writes the expected files instead. The
//! `.eml` files come from `fixtures/capture/make_capture_fixtures.py`.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, TimeZone, Utc};
use kronika::mail::{CAPTURE_ID_DOMAIN, NOTE_SEPARATOR, ParseHints, parse, parse_captured};
use kronika::matcher::Policy;
use kronika::model::{ItemId, Role};
use kronika::store::{ClientInput, ContactInput, IngestOutcome, NewItem, SourceKey, Store};
use serde_json::{Value, json};

use crate::common::{fixtures, stores};

const JANA: &str = "jana.svobodova@modrykamen.cz";
const PETR: &str = "petr.dvorak@modrykamen.cz";
const CRM: &str = "crm@modrykamen.cz";
const KAREL: &str = "karel.horak@acme-stavby.cz";

fn dir() -> PathBuf {
    fixtures().join("capture")
}

fn hints() -> ParseHints {
    ParseHints { file_time: Some(Utc.with_ymd_and_hms(2026, 12, 31, 12, 0, 0).unwrap()) }
}

fn captured(name: &str) -> NewItem {
    let raw = fs::read(dir().join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    parse_captured(&raw, &hints()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A stable view of an item for golden files.
fn view(item: &NewItem) -> Value {
    json!({
        "message_id": item.message_id,
        "references": item.references,
        "date": item.date.to_rfc3339_opts(SecondsFormat::Secs, true),
        "date_source": item.date_source.as_str(),
        "subject": item.subject,
        "body": item.body,
        "participants": item.participants.iter().map(|p| json!({
            "role": p.role.as_str(),
            "name": p.name,
            "address": p.address,
        })).collect::<Vec<_>>(),
        "attachments": item.attachments,
        "content_hash": item.content_hash,
        "size": item.size,
        "extra": item.extra,
    })
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

#[test]
fn golden_files() {
    let bless = std::env::var("KRONIKA_BLESS").is_ok_and(|v| v == "1");
    let inputs = eml_files(&dir());
    assert!(inputs.len() >= 12, "expected the capture fixtures in {}", dir().display());
    let mut failures = Vec::new();
    for input in &inputs {
        let raw = fs::read(input).unwrap();
        let item = parse_captured(&raw, &hints()).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let actual = view(&item);
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let expected_path = input.with_extension("json");
        let actual_path = input.with_extension("actual.json");
        if bless {
            fs::write(&expected_path, &text).unwrap();
            let _ = fs::remove_file(&actual_path);
            continue;
        }
        let expected: Option<Value> =
            fs::read_to_string(&expected_path).ok().and_then(|s| serde_json::from_str(&s).ok());
        if expected.as_ref() == Some(&actual) {
            let _ = fs::remove_file(&actual_path);
        } else {
            fs::write(&actual_path, &text).unwrap();
            failures.push(format!("{} (see {})", expected_path.display(), actual_path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatch; compare and run with KRONIKA_BLESS=1 when the change is right:\n{}",
        failures.join("\n")
    );
}

/// What one fixture must unwrap to.
struct Expect {
    file: &'static str,
    format: &'static str,
    from: (&'static str, Option<&'static str>),
    to: &'static [&'static str],
    cc: &'static [&'static str],
    date: &'static str,
    subject: &'static str,
    /// The start of the original text.
    text: &'static str,
    by: &'static str,
    /// The forwarder's note (its first line).
    note: &'static str,
}

const EXPECTED: &[Expect] = &[
    Expect {
        file: "outlook-cs.eml",
        format: "outlook",
        from: (KAREL, Some("Ing. Karel Horák")),
        to: &[JANA, PETR],
        cc: &["lucie.mala@acme-stavby.cz"],
        date: "2026-11-27T09:15:00Z",
        subject: "Poptávka rekuperace – hala Kladno",
        text: "Dobrý den,\n\nprosíme o cenovou nabídku na rekuperační jednotku",
        by: JANA,
        note: "Do CRM: Acme chce rekuperaci do Kladna, nabídku připraví Petr do pátku.",
    },
    Expect {
        file: "gmail-cs.eml",
        format: "gmail",
        from: (KAREL, Some("Ing. Karel Horák")),
        to: &[JANA, PETR],
        cc: &["lucie.mala@acme-stavby.cz"],
        date: "2026-11-27T09:15:00Z",
        subject: "Poptávka rekuperace – hala Kladno",
        text: "Dobrý den,\n\nprosíme o cenovou nabídku na rekuperační jednotku",
        by: PETR,
        note: "Beru si to, nabídku pošlu do pátku.",
    },
    Expect {
        file: "outlook-en.eml",
        format: "outlook",
        from: ("sarah.jones@brightwell.co.uk", Some("Sarah Jones")),
        to: &[PETR],
        cc: &["procurement@brightwell.co.uk"],
        date: "2026-11-30T13:40:00Z",
        subject: "RFQ – air handling units for the Leeds warehouse",
        text: "Dear Petr,\n\nplease quote two air handling units",
        by: PETR,
        note: "FYI – for the CRM. Sarah needs prices by 11 December.",
    },
    Expect {
        file: "owa-en.eml",
        format: "outlook",
        from: ("lucie.mala@acme-stavby.cz", Some("Malá, Lucie")),
        to: &[JANA, PETR],
        cc: &[KAREL],
        date: "2026-11-30T08:05:00Z",
        subject: "Objednávka filtrů – Kladno",
        text: "Dobrý den,\n\nobjednáváme 12 ks kapsových filtrů F7",
        by: JANA,
        note: "Lucie's order – please book it in.",
    },
    Expect {
        file: "gmail-en.eml",
        format: "gmail",
        from: ("sarah.jones@brightwell.co.uk", Some("Sarah Jones")),
        to: &[PETR],
        cc: &["procurement@brightwell.co.uk", JANA],
        date: "2026-12-01T15:12:00Z",
        subject: "Re: RFQ – air handling units for the Leeds warehouse",
        text: "Hi Petr,\n\none more thing: the units need EC fans",
        by: JANA,
        note: "Sarah answered – adding it to the CRM.",
    },
    Expect {
        file: "apple-en.eml",
        format: "apple",
        from: ("tomas@pekarna-novak.cz", Some("Tomáš Novák")),
        to: &[PETR],
        cc: &[],
        date: "2026-12-02T07:47:12Z",
        subject: "Servis – píská ventilátor",
        text: "Dobrý den, pane Dvořák,\n\nventilátor nad pecí zase píská",
        by: PETR,
        note: "Tomáš called about this as well, I am going there on Thursday.",
    },
    Expect {
        file: "apple-cs.eml",
        format: "apple",
        from: ("karel.horak@seznam.cz", Some("Karel Horák")),
        to: &[JANA],
        cc: &[],
        date: "2026-12-03T18:02:45Z",
        subject: "Re: Návrh smlouvy o dílo – hala Kladno",
        text: "Dobrý večer,\n\nv článku 4 bych prosil",
        by: JANA,
        note: "Karel poslal připomínky ke smlouvě ze soukromé adresy, dávám do CRM.",
    },
    Expect {
        file: "thunderbird-cs.eml",
        format: "thunderbird",
        from: ("lucie.mala@acme-stavby.cz", Some("Lucie Malá")),
        to: &[PETR],
        cc: &[KAREL, "fakturace@acme-stavby.cz"],
        date: "2026-12-04T06:58:10Z",
        subject: "Objednávka filtrů – doplnění",
        text: "Dobrý den,\n\nk objednávce filtrů prosím přidejte",
        by: PETR,
        note: "Přeposílám doplnění objednávky do CRM.",
    },
    Expect {
        file: "thunderbird-en.eml",
        format: "thunderbird",
        from: ("sarah.jones@brightwell.co.uk", Some("Sarah Jones")),
        to: &[JANA],
        cc: &[],
        date: "2026-12-03T14:20:05Z",
        subject: "Delivery address for the AHUs",
        text: "Hello Jana,\n\nthe delivery address for the AHUs is Unit 4",
        by: JANA,
        note: "Delivery address for the Brightwell order, for the CRM.",
    },
    Expect {
        file: "seznam-cs.eml",
        format: "seznam",
        from: ("tomas@pekarna-novak.cz", Some("Tomáš Novák")),
        to: &[JANA],
        cc: &[],
        date: "2026-12-07T10:30:05Z",
        subject: "Potvrzení servisního zásahu",
        text: "Dobrý den,\n\npotvrzuji servisní zásah ve čtvrtek 10. 12. od 8:00.",
        by: JANA,
        note: "Tomáš potvrdil termín servisu, prosím zapsat.",
    },
    Expect {
        file: "rfc822-attached.eml",
        format: "rfc822",
        from: (KAREL, Some("Ing. Karel Horák")),
        to: &[PETR, JANA],
        cc: &[],
        date: "2026-12-08T07:12:05Z",
        subject: "Kontrolní den – hala Kladno",
        text: "Dobrý den,\n\nnavrhuji kontrolní den na stavbě v úterý 15. 12. v 9:00,",
        by: PETR,
        note: "Do CRM – Karel navrhuje kontrolní den 15. 12., potvrdím mu to.",
    },
    Expect {
        file: "nested-cs.eml",
        format: "gmail",
        from: (KAREL, Some("Ing. Karel Horák")),
        to: &[JANA],
        cc: &["lucie.mala@acme-stavby.cz"],
        date: "2026-11-27T09:15:00Z",
        subject: "Poptávka rekuperace – hala Kladno",
        text: "Dobrý den,\n\nprosíme o cenovou nabídku na rekuperační jednotku",
        by: PETR,
        note: "Do CRM, od Jany.",
    },
];

fn addresses(item: &NewItem, role: Role) -> Vec<&str> {
    item.participants.iter().filter(|p| p.role == role).map(|p| p.address.as_str()).collect()
}

/// Facts the golden files also hold, stated so that a careless re-bless
/// cannot lose them.
#[test]
fn each_client_unwraps_to_the_original() {
    for e in EXPECTED {
        let m = captured(e.file);
        let f = e.file;
        assert_eq!(m.extra["capture"]["format"], e.format, "{f}");
        let from: Vec<(&str, Option<&str>)> = m
            .participants
            .iter()
            .filter(|p| p.role == Role::From)
            .map(|p| (p.address.as_str(), p.name.as_deref()))
            .collect();
        assert_eq!(from, [e.from], "{f}");
        assert_eq!(addresses(&m, Role::To), e.to, "{f}");
        assert_eq!(addresses(&m, Role::Cc), e.cc, "{f}");
        assert_eq!(m.date.to_rfc3339_opts(SecondsFormat::Secs, true), e.date, "{f}");
        assert_eq!(m.date_source.as_str(), "header", "{f}");
        assert_eq!(m.subject, e.subject, "{f}");
        assert!(m.body.starts_with(e.text), "{f}: {:?}", m.body);
        // The forwarder is no participant; the note is kept, and searchable.
        for p in &m.participants {
            assert_ne!(p.address, CRM, "{f}");
            if p.address == e.by {
                assert_ne!(p.role, Role::From, "{f}: the forwarder is not the sender");
            }
        }
        assert_eq!(m.extra["forward"]["by"], e.by, "{f}");
        let note = m.extra["forward"]["note"].as_str().unwrap();
        assert!(note.starts_with(e.note), "{f}: {note:?}");
        let (text, notes) = m.body.split_once(NOTE_SEPARATOR).unwrap_or_else(|| panic!("{f}: no note in {:?}", m.body));
        for bad in ["-----", "From:", "Od:", "Begin forwarded", "Začátek přeposlané", "Forwarded Message", "Předmět:"]
        {
            assert!(!note.contains(bad), "{f}: {bad:?} in the note {note:?}");
            assert!(!text.contains(bad), "{f}: {bad:?} in the text {text:?}");
        }
        assert!(notes.contains(e.note), "{f}: {notes:?}");
        assert!(!text.contains(e.note), "{f}: the note is after the original text");
        assert!(m.extra["forward"]["at"].as_str().is_some_and(|a| a > e.date), "{f}: {}", m.extra["forward"]);
        if e.format == "rfc822" {
            assert_eq!(m.message_id.as_deref(), Some("20261208081205.3b1e@mail.acme-stavby.cz"), "{f}");
            assert_eq!(m.references, ["20261127101533.7f3a@mail.acme-stavby.cz"], "{f}");
            assert_eq!(m.extra["capture"]["derived_id"], false, "{f}");
        } else {
            assert!(m.message_id.as_deref().unwrap().ends_with(CAPTURE_ID_DOMAIN), "{f}: {:?}", m.message_id);
            assert_eq!(m.extra["capture"]["derived_id"], true, "{f}");
        }
    }
    // A forward of a forward: both forwarders' notes, outermost first.
    let m = captured("nested-cs.eml");
    assert_eq!(m.extra["forward"]["via"][0]["by"], JANA);
    assert_eq!(m.extra["forward"]["via"][0]["note"], "Petře, to je pro tebe.");
    assert!(m.body.contains("Do CRM, od Jany.") && m.body.contains("Petře, to je pro tebe."), "{}", m.body);
}

#[test]
fn bcc_and_unrecognised_forwards_parse_as_received() {
    let raw = fs::read(dir().join("bcc.eml")).unwrap();
    let m = parse_captured(&raw, &hints()).unwrap();
    let plain = parse(&raw, &hints()).unwrap();
    assert_eq!(view(&m), view(&plain), "a Bcc'd reply is an ordinary mail");
    assert_eq!(addresses(&m, Role::From), [JANA]);
    assert_eq!(addresses(&m, Role::To), [KAREL]);
    assert_eq!(m.subject, "RE: Poptávka rekuperace – hala Kladno");
    assert!(m.extra.get("forward").is_none());

    let raw = fs::read(dir().join("unrecognised-forward.eml")).unwrap();
    let m = parse_captured(&raw, &hints()).unwrap();
    assert_eq!(m.extra["capture"]["unwrapped"], false);
    assert!(m.extra["capture"]["warning"].as_str().unwrap().starts_with("cannot "));
    assert_eq!(m.message_id.as_deref(), Some("unwrap-me-not.4411@modrykamen.cz"));
    assert_eq!((m.subject.as_str(), addresses(&m, Role::From)), ("Fwd: smlouva", vec![PETR]));

    // The mailbox copy of the original parses as itself.
    let m = captured("original-acme.eml");
    assert_eq!(m.message_id.as_deref(), Some("20261127101533.7f3a@mail.acme-stavby.cz"));
    assert!(m.extra.get("capture").is_none());
}

/// The same original forwarded by two colleagues, from two clients, and
/// once more as a forward of a forward: one identity.
#[test]
fn the_same_original_has_one_identity() {
    let a = captured("outlook-cs.eml");
    let b = captured("gmail-cs.eml");
    let c = captured("nested-cs.eml");
    assert_eq!(a.message_id, b.message_id);
    assert_eq!(a.content_hash, b.content_hash);
    assert_eq!(a.message_id, c.message_id);
    assert_eq!(a.content_hash, c.content_hash);
    assert_eq!(a.content_hash.len(), 64);
    // Another original has another identity.
    assert_ne!(a.message_id, captured("seznam-cs.eml").message_id);
}

fn policy() -> Policy {
    Policy {
        own_addresses: vec![JANA.into(), PETR.into(), CRM.into()],
        own_domains: vec!["modrykamen.cz".into()],
        free_mail_domains: vec!["seznam.cz".into()],
        blocklist: vec![],
        ..Policy::default()
    }
}

/// `s` with Acme Stavby (Karel a contact, with his private address) and
/// Brightwell.
fn with_directory(mut s: Store) -> Store {
    let acme = s
        .add_client(&ClientInput {
            name: "Acme Stavby".into(),
            domains: vec!["acme-stavby.cz".into()],
            ..Default::default()
        })
        .unwrap();
    s.add_contact(
        acme,
        &ContactInput {
            name: "Karel Horák".into(),
            emails: vec![KAREL.into(), "karel.horak@seznam.cz".into()],
            ..Default::default()
        },
    )
    .unwrap();
    s.add_client(&ClientInput {
        name: "Brightwell".into(),
        domains: vec!["brightwell.co.uk".into()],
        ..Default::default()
    })
    .unwrap();
    s
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

fn emails(s: &Store) -> i64 {
    s.item_counts().unwrap().get("email").copied().unwrap_or(0)
}

#[test]
fn two_colleagues_forwarding_one_original_store_one_item() {
    stores::each(policy(), |backend, s| {
        let mut s = with_directory(s);
        let id = new_id(s.ingest(&captured("outlook-cs.eml"), &key("imap:crm/INBOX", "1/1")).unwrap());
        assert_eq!(
            s.ingest(&captured("gmail-cs.eml"), &key("imap:crm/INBOX", "1/2")).unwrap(),
            IngestOutcome::Duplicate(id)
        );
        assert_eq!(
            s.ingest(&captured("nested-cs.eml"), &key("imap:crm/INBOX", "1/3")).unwrap(),
            IngestOutcome::Duplicate(id)
        );
        assert_eq!(emails(&s), 1, "{backend:?}");
        let item = s.item(id).unwrap();
        assert_eq!(item.sources.len(), 3, "{backend:?}: {:?}", item.sources);
        assert_eq!(item.subject, "Poptávka rekuperace – hala Kladno", "{backend:?}");
    });
}

#[test]
fn a_mailbox_copy_and_its_forward_are_one_item_in_either_order() {
    let original = captured("original-acme.eml");
    let forward = captured("outlook-cs.eml");
    assert_ne!(original.message_id, forward.message_id);
    assert_ne!(original.content_hash, forward.content_hash);

    // The mailbox first, then the capture.
    stores::each(policy(), |backend, s| {
        let mut s = with_directory(s);
        let id = new_id(s.ingest(&original, &key("imap:jana/INBOX", "1/10")).unwrap());
        assert_eq!(
            s.ingest(&forward, &key("imap:crm/INBOX", "1/1")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        assert_eq!(
            s.ingest(&captured("gmail-cs.eml"), &key("imap:crm/INBOX", "1/2")).unwrap(),
            IngestOutcome::Duplicate(id)
        );
        assert_eq!(emails(&s), 1, "{backend:?}");
        assert_eq!(
            s.item(id).unwrap().message_id.as_deref(),
            Some("20261127101533.7f3a@mail.acme-stavby.cz"),
            "{backend:?}"
        );
    });

    // The capture first, then the mailbox: the item takes the real
    // Message-ID, so that replies thread with it.
    stores::each(policy(), |backend, s| {
        let mut s = with_directory(s);
        let id = new_id(s.ingest(&forward, &key("imap:crm/INBOX", "1/1")).unwrap());
        assert_eq!(
            s.ingest(&original, &key("imap:jana/INBOX", "1/10")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        assert_eq!(
            s.ingest(&captured("gmail-cs.eml"), &key("imap:crm/INBOX", "1/2")).unwrap(),
            IngestOutcome::Duplicate(id)
        );
        assert_eq!(
            s.ingest(&original, &key("imap:petr/INBOX", "1/77")).unwrap(),
            IngestOutcome::Duplicate(id),
            "{backend:?}"
        );
        assert_eq!(emails(&s), 1, "{backend:?}");
        let item = s.item(id).unwrap();
        assert_eq!(item.message_id.as_deref(), Some("20261127101533.7f3a@mail.acme-stavby.cz"), "{backend:?}");
        assert_eq!(item.extra["capture"]["derived_id"], false, "{backend:?}");
        assert_eq!(item.extra["forward"]["by"], JANA, "{backend:?}");
        assert_eq!(item.sources.len(), 4, "{backend:?}: {:?}", item.sources);
        // Jana's reply (Bcc'd to the capture mailbox) joins the thread.
        let reply = new_id(s.ingest(&captured("bcc.eml"), &key("imap:crm/INBOX", "1/3")).unwrap());
        assert_eq!(s.item(reply).unwrap().thread_id, item.thread_id, "{backend:?}");
        assert!(item.thread_id.is_some(), "{backend:?}");
    });
}

/// Two mailbox mails with their own Message-IDs are never merged by the
/// capture fallback, even with the same sender, minute and subject.
#[test]
fn mailbox_mails_with_their_own_ids_stay_apart() {
    stores::each(policy(), |backend, s| {
        let mut s = with_directory(s);
        let raw = fs::read(dir().join("original-acme.eml")).unwrap();
        let a = parse(&raw, &hints()).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let other = text.replace("20261127101533.7f3a@", "20261127101540.9c1d@").replace("zítra", "v pondělí");
        let b = parse(other.as_bytes(), &hints()).unwrap();
        assert_ne!(a.content_hash, b.content_hash, "{backend:?}");
        new_id(s.ingest(&a, &key("imap:jana/INBOX", "1/1")).unwrap());
        new_id(s.ingest(&b, &key("imap:jana/INBOX", "1/2")).unwrap());
        assert_eq!(emails(&s), 2, "{backend:?}");
    });
}

/// Captured mail is matched by the original's people: Karel (a contact),
/// Sarah's domain; the forwarder and the capture address are our own.
#[test]
fn matching_uses_the_original_participants() {
    stores::each(policy(), |backend, s| {
        let mut s = with_directory(s);
        let links = |s: &Store, id: ItemId| -> Vec<(String, Option<String>, String)> {
            s.item_links(id).unwrap().into_iter().map(|l| (l.client, l.contact, l.reason)).collect()
        };
        let id = new_id(s.ingest(&captured("outlook-cs.eml"), &key("imap:crm/INBOX", "1/1")).unwrap());
        let item = s.item(id).unwrap();
        assert_eq!(item.direction, "in", "{backend:?}: from the client to us");
        assert!(
            links(&s, id).contains(&("Acme Stavby".into(), Some("Karel Horák".into()), "address".into())),
            "{:?}",
            links(&s, id)
        );
        assert!(item.participants.iter().all(|p| p.address != CRM), "{backend:?}");

        // From Karel's private (free-mail) address: his contact still matches.
        let id = new_id(s.ingest(&captured("apple-cs.eml"), &key("imap:crm/INBOX", "1/2")).unwrap());
        assert_eq!(
            links(&s, id),
            [("Acme Stavby".into(), Some("Karel Horák".into()), "address".into())],
            "{backend:?}"
        );

        let id = new_id(s.ingest(&captured("gmail-en.eml"), &key("imap:crm/INBOX", "1/3")).unwrap());
        assert_eq!(s.item(id).unwrap().direction, "in", "{backend:?}");
        // Sarah became a contact of Brightwell from the first capture (she
        // wrote from the client's domain): later mail links through her.
        assert_eq!(links(&s, id), [("Brightwell".into(), Some("Sarah Jones".into()), "address".into())], "{backend:?}");

        // The Bcc'd reply: from us, to Karel.
        let id = new_id(s.ingest(&captured("bcc.eml"), &key("imap:crm/INBOX", "1/4")).unwrap());
        assert_eq!(s.item(id).unwrap().direction, "out", "{backend:?}");
        assert!(links(&s, id).iter().any(|l| l.0 == "Acme Stavby"), "{backend:?}: {:?}", links(&s, id));

        // Unwrapped nowhere: a forward kept as received is ours only.
        let id = new_id(s.ingest(&captured("unrecognised-forward.eml"), &key("imap:crm/INBOX", "1/5")).unwrap());
        assert!(links(&s, id).is_empty(), "{backend:?}");
        assert_eq!(s.item(id).unwrap().direction, "internal", "{backend:?}");
    });
}

/// The fallback lookup stays on an index (a minute of `items.date`).
#[test]
fn the_capture_lookup_is_indexed() {
    // SQLite's plan (PostgreSQL's planner goes by its statistics).
    let s = with_directory(Store::open_in_memory(policy()).unwrap());
    let mut stmt = s
        .sqlite().unwrap()
        .prepare(
            "EXPLAIN QUERY PLAN SELECT i.id, i.subject, i.extra FROM items i
             WHERE i.date >= ?1 AND i.date < ?2 AND i.kind = 'email'
               AND EXISTS (SELECT 1 FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' AND p.address = ?3)
             LIMIT 100",
        )
        .unwrap();
    let plan: Vec<String> =
        stmt.query_map(["a", "b", "c"], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
    assert!(plan.iter().any(|p| p.contains("USING INDEX items_date")), "{plan:?}");
    assert!(plan.iter().all(|p| !p.starts_with("SCAN")), "{plan:?}");
}
