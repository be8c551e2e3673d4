//! The store on both backends (issue 19): clients, contacts, persons and erasure, deals and users, on SQLite and on
//! PostgreSQL alike (see `common::stores`).
//!
//! Most tests lay their rows down with plain SQL (`Store::db`), so that what they check is the function under test
//! alone; the last ones go through the whole API (adding a client re-matches items, adding a deal writes its history
//! item).

use chrono::{NaiveDate, TimeZone, Utc};
use kronika::args;
use kronika::matcher::Policy;
use kronika::model::{AutoContacts, ClientId, ClientStatus, ContactId, Ico, ItemKind, Participant, Role};
use kronika::store::db::ToParam;
use kronika::store::{
    ClientInput, ClientPatch, ContactInput, ContactPatch, DateSource, DealInput, ERASED, IngestOutcome, NewItem,
    SourceKey, Store, StoreError, name_key,
};
use kronika::text::fold;

use crate::common::postgres;
use crate::common::stores::{self, Backend};

fn policy() -> Policy {
    Policy {
        own_addresses: vec!["jana@modrykamen.cz".into()],
        own_domains: vec!["modrykamen.cz".into()],
        free_mail_domains: vec!["gmail.com".into(), "seznam.cz".into()],
        ..Policy::default()
    }
}

// ---- rows laid down by hand ----

/// Runs an `INSERT … RETURNING id`.
fn insert(s: &Store, sql: &str, args: &[&dyn ToParam]) -> i64 {
    s.db().value::<i64>(sql, args).unwrap_or_else(|e| panic!("{sql}: {e}")).expect("an id")
}

fn exec(s: &Store, sql: &str, args: &[&dyn ToParam]) -> u64 {
    s.db().execute(sql, args).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn count(s: &Store, sql: &str, args: &[&dyn ToParam]) -> i64 {
    s.db().value::<i64>(sql, args).unwrap_or_else(|e| panic!("{sql}: {e}")).expect("a count")
}

fn text(s: &Store, sql: &str, args: &[&dyn ToParam]) -> Option<String> {
    s.db().value::<Option<String>>(sql, args).unwrap_or_else(|e| panic!("{sql}: {e}")).flatten()
}

const CREATED: &str = "2026-01-05T08:00:00Z";

fn client(s: &Store, name: &str, ico: Option<&str>) -> ClientId {
    ClientId(insert(
        s,
        "INSERT INTO clients (name, name_key, ico, status, custom, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'client', ?4, ?5, ?5) RETURNING id",
        args![name, fold(name), ico, r#"{"obor":"stavby"}"#, CREATED],
    ))
}

fn domain(s: &Store, c: ClientId, d: &str) {
    exec(s, "INSERT INTO client_domains (client_id, domain) VALUES (?1, ?2)", args![c.0, d]);
}

fn client_email(s: &Store, c: ClientId, e: &str) {
    exec(s, "INSERT INTO client_emails (client_id, email) VALUES (?1, ?2)", args![c.0, e]);
}

fn contact(s: &Store, c: ClientId, name: &str, emails: &[&str], origin: &str) -> ContactId {
    let id = insert(
        s,
        "INSERT INTO contacts (client_id, name, origin, name_key) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        args![c.0, name, origin, name_key(name)],
    );
    for e in emails {
        exec(s, "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2)", args![id, e]);
    }
    ContactId(id)
}

/// An item dated `date`, at revision 0 (before any the store counts).
fn item(s: &Store, kind: &str, date: &str, subject: &str, body: &str, hash: &str, extra: &str) -> i64 {
    insert(
        s,
        "INSERT INTO items (kind, date, direction, subject, body, content_hash, extra, created_at, rev)
         VALUES (?1, ?2, 'in', ?3, ?4, ?5, ?6, ?2, 0) RETURNING id",
        args![kind, date, subject, body, hash, extra],
    )
}

fn participant(s: &Store, item: i64, role: &str, name: Option<&str>, address: &str) {
    exec(
        s,
        "INSERT INTO item_participants (item_id, role, name, address, rdomain) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![item, role, name, address, address.rsplit('@').next().unwrap_or_default()],
    );
}

fn link(s: &Store, item: i64, c: ClientId, contact: Option<ContactId>, kind: &str, live: i64) {
    exec(
        s,
        "INSERT INTO item_links (item_id, client_id, contact_id, reason, kind, live, date)
         VALUES (?1, ?2, ?3, 'domain', ?4, ?5, '2026-02-01T10:00:00Z')",
        args![item, c.0, contact.map(|c| c.0), kind, live],
    );
}

fn deal(s: &Store, c: ClientId, title: &str, value: f64, currency: &str, status: &str, date: &str) -> i64 {
    insert(
        s,
        "INSERT INTO deals (client_id, title, value, currency, status, date, products, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '[]', ?7, ?7) RETURNING id",
        args![c.0, title, value, currency, status, date, CREATED],
    )
}

fn rev(s: &Store, item: i64) -> i64 {
    count(s, "SELECT rev FROM items WHERE id = ?1", args![item])
}

// ---- clients and contacts ----

#[test]
fn clients_and_their_lookups_read_alike() {
    stores::each(policy(), |backend, s| {
        let novak = client(&s, "Stavby Novák s.r.o.", Some("27082440"));
        let novotny = client(&s, "Novotný a syn", None);
        let zdar = client(&s, "Žďárská kovárna", Some("25596641"));
        let horak = client(&s, "Stavebniny Horák", None);
        domain(&s, novak, "novak-stavby.cz");
        domain(&s, novak, "a-novak.cz");
        client_email(&s, novak, "info@novak-stavby.cz");
        client_email(&s, novak, "fakturace@novak-stavby.cz");
        exec(
            &s,
            "UPDATE clients SET annual_budget = ?2, dic = 'CZ27082440', address = 'Brno, Údolní 5' WHERE id = ?1",
            args![novak.0, 1_250_000.5f64],
        );

        let c = s.client(novak).unwrap();
        assert_eq!(c.name, "Stavby Novák s.r.o.", "{backend:?}");
        assert_eq!(c.ico.as_deref(), Some("27082440"));
        assert_eq!(c.dic.as_deref(), Some("CZ27082440"));
        assert_eq!(c.address.as_deref(), Some("Brno, Údolní 5"));
        assert_eq!(c.billing, None);
        assert_eq!(c.status, ClientStatus::Client);
        assert_eq!(c.annual_budget, Some(1_250_000.5));
        assert_eq!(c.domains, ["a-novak.cz", "novak-stavby.cz"]);
        assert_eq!(c.custom["obor"], "stavby");
        assert_eq!(c.created_at, Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap());
        let bare = s.client(novotny).unwrap();
        assert_eq!((bare.ico, bare.dic, bare.annual_budget, bare.domains.len()), (None, None, None, 0));
        assert!(matches!(s.client(ClientId(999_999)), Err(StoreError::NotFound { what: "client", .. })));

        assert_eq!(s.client_emails(novak).unwrap(), ["fakturace@novak-stavby.cz", "info@novak-stavby.cz"]);
        assert!(s.client_emails(novotny).unwrap().is_empty());
        let all: Vec<(String, usize)> = s.clients().unwrap().into_iter().map(|c| (c.name, c.domains.len())).collect();
        let want = [("Novotný a syn", 0), ("Stavby Novák s.r.o.", 2), ("Stavebniny Horák", 0), ("Žďárská kovárna", 0)];
        assert_eq!(all, want.map(|(n, d)| (n.to_string(), d)), "{backend:?}: by folded name");

        // By IČO, by id, by the whole name or a unique start of it (case and accents ignored).
        assert_eq!(s.resolve_client("27082440").unwrap(), novak);
        assert_eq!(s.resolve_client(&novotny.0.to_string()).unwrap(), novotny);
        assert_eq!(s.resolve_client("  ŽĎÁRSKÁ KOVÁRNA ").unwrap(), zdar);
        assert_eq!(s.resolve_client("zdar").unwrap(), zdar);
        assert_eq!(s.resolve_client("Novot").unwrap(), novotny);
        match s.resolve_client("stav") {
            Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(
                candidates,
                [format!("{}: Stavby Novák s.r.o. (IČO 27082440)", novak.0), format!("{}: Stavebniny Horák", horak.0)],
                "{backend:?}"
            ),
            other => panic!("{backend:?}: {other:?}"),
        }
        for missing in ["", "   ", "neexistuje", "99999999", "stavby novák s.r.o. a syn"] {
            assert!(
                matches!(s.resolve_client(missing), Err(StoreError::NotFound { what: "client", .. })),
                "{backend:?}: {missing:?}"
            );
        }

        // Items by kind: live links only, an item linked twice counted once.
        let karel = contact(&s, novak, "Karel Horák", &["karel@novak-stavby.cz"], "manual");
        let alena = contact(&s, novak, "Alena Adamová", &["alena@novak-stavby.cz"], "manual");
        let day = "2026-02-01T10:00:00Z";
        let one = item(&s, "email", day, "Nabídka", "", "h1", "{}");
        let two = item(&s, "email", day, "Re: Nabídka", "", "h2", "{}");
        let call = item(&s, "call", day, "Telefonát", "", "h3", "{}");
        let gone = item(&s, "email", day, "Smazáno", "", "h4", "{}");
        link(&s, one, novak, Some(karel), "email", 1);
        link(&s, one, novak, Some(alena), "email", 1);
        link(&s, two, novak, None, "email", 1);
        link(&s, call, novak, None, "call", 1);
        link(&s, gone, novak, None, "email", 0);
        link(&s, one, zdar, None, "email", 1);
        let counts = s.client_item_counts(novak).unwrap();
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), [("call".to_string(), 1), ("email".to_string(), 2)]);
        assert!(s.client_item_counts(novotny).unwrap().is_empty());

        // The legal form, set and cleared.
        assert_eq!(s.legal_form(novak).unwrap(), None);
        s.set_legal_form(novak, Some("Společnost s ručením omezeným")).unwrap();
        assert_eq!(s.legal_form(novak).unwrap().as_deref(), Some("Společnost s ručením omezeným"));
        s.set_legal_form(novak, None).unwrap();
        assert_eq!(s.legal_form(novak).unwrap(), None);
        assert_eq!(s.legal_form(ClientId(999_999)).unwrap(), None);
    });
}

#[test]
fn contacts_and_their_lookups_read_alike() {
    stores::each(policy(), |backend, s| {
        let novak = client(&s, "Stavby Novák s.r.o.", None);
        let zdar = client(&s, "Žďárská kovárna", None);
        let horak =
            contact(&s, novak, "Ing. Karel Horák", &["karel.horak@novak-stavby.cz", "k.horak@gmail.com"], "manual");
        let adamova = contact(&s, novak, "Alena Adamová", &["alena@novak-stavby.cz"], "mail");
        let other = contact(&s, zdar, "Karel Horák", &["karel@zdar.cz"], "manual");
        let front_novak = contact(&s, novak, "Recepce", &["recepce@example.cz"], "manual");
        let front_zdar = contact(&s, zdar, "Recepce", &["recepce@example.cz"], "manual");
        exec(
            &s,
            "UPDATE contacts SET phone = '+420 602 000 111', phone_source = 'manual', title_before = 'Ing.' WHERE id = ?1",
            args![horak.0],
        );

        let c = s.contact(horak).unwrap();
        assert_eq!(c.client, novak, "{backend:?}");
        assert_eq!(c.name, "Ing. Karel Horák");
        assert_eq!(c.emails, ["k.horak@gmail.com", "karel.horak@novak-stavby.cz"]);
        assert_eq!(c.phone.as_deref(), Some("+420 602 000 111"));
        assert_eq!(c.phone_source.as_deref(), Some("manual"));
        assert_eq!((c.role, c.role_source, c.title_after), (None, None, None));
        assert_eq!(c.title_before.as_deref(), Some("Ing."));
        assert_eq!(c.origin, "manual");
        assert_eq!(s.contact(adamova).unwrap().origin, "mail");
        assert!(matches!(s.contact(ContactId(999_999)), Err(StoreError::NotFound { what: "contact", .. })));

        let names: Vec<String> = s.contacts(novak).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Alena Adamová", "Ing. Karel Horák", "Recepce"], "{backend:?}");
        assert!(s.contacts(client(&s, "Prázdná s.r.o.", None)).unwrap().is_empty());

        // By id (within the client when one is given), by address, by name.
        assert_eq!(s.resolve_contact(None, &horak.0.to_string()).unwrap(), horak);
        assert_eq!(s.resolve_contact(Some(novak), &horak.0.to_string()).unwrap(), horak);
        assert!(matches!(
            s.resolve_contact(Some(zdar), &horak.0.to_string()),
            Err(StoreError::NotFound { what: "contact", .. })
        ));
        assert_eq!(s.resolve_contact(None, " <Karel.Horak@Novak-Stavby.cz> ").unwrap(), horak);
        assert_eq!(s.resolve_contact(None, "karel horák").unwrap(), other);
        assert_eq!(s.resolve_contact(Some(novak), "ING. KAREL").unwrap(), horak);
        assert_eq!(s.resolve_contact(None, "alena").unwrap(), adamova);
        assert_eq!(s.resolve_contact(Some(zdar), "recepce@example.cz").unwrap(), front_zdar);
        match s.resolve_contact(None, "recepce@example.cz") {
            Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(
                candidates,
                [
                    format!("{}: Recepce (recepce@example.cz) at Stavby Novák s.r.o.", front_novak.0),
                    format!("{}: Recepce (recepce@example.cz) at Žďárská kovárna", front_zdar.0),
                ],
                "{backend:?}"
            ),
            other => panic!("{backend:?}: {other:?}"),
        }
        assert!(matches!(s.resolve_contact(Some(zdar), "alena"), Err(StoreError::NotFound { .. })));
        assert!(matches!(s.resolve_contact(None, "nikdo@nikde.cz"), Err(StoreError::NotFound { .. })));
    });
}

/// What fails before anything is written fails alike, and what fails
/// halfway leaves nothing behind (the transaction rolls back).
#[test]
fn refused_changes_leave_the_directory_as_it_was() {
    stores::each(policy(), |backend, mut s| {
        let novak = client(&s, "Stavby Novák s.r.o.", Some("27082440"));
        let zdar = client(&s, "Žďárská kovárna", None);
        domain(&s, novak, "novak-stavby.cz");
        let karel = contact(&s, novak, "Karel Horák", &["karel@novak-stavby.cz"], "manual");
        let version = s.directory_version().unwrap();

        let named = |name: &str| ClientInput { name: name.into(), ..ClientInput::default() };
        let clash = s.add_client(&named("STAVBY NOVAK S.R.O.")).unwrap_err();
        assert!(matches!(&clash, StoreError::Conflict(m) if m.contains(&format!("(id {})", novak.0))), "{clash}");
        let same_ico = ClientInput {
            name: "Jiná firma".into(),
            ico: Some(Ico::parse("27082440").unwrap()),
            ..ClientInput::default()
        };
        assert!(matches!(s.add_client(&same_ico), Err(StoreError::Conflict(m)) if m.contains("IČO 27082440")));
        assert!(matches!(s.add_client(&named("   ")), Err(StoreError::Invalid(_))));
        let rename = ClientPatch { name: Some("žďárská KOVÁRNA".into()), ..ClientPatch::default() };
        assert!(matches!(s.edit_client(novak, &rename), Err(StoreError::Conflict(_))));
        assert!(matches!(s.edit_client(ClientId(999_999), &ClientPatch::default()), Err(StoreError::NotFound { .. })));

        // The rename is written, then a domain it does not have stops it: nothing stays.
        let halfway = ClientPatch {
            name: Some("Novák stavby a.s.".into()),
            remove_domains: vec!["jina-domena.cz".into()],
            ..ClientPatch::default()
        };
        match s.edit_client(novak, &halfway) {
            Err(StoreError::NotFound { what: "domain of this client", query }) => assert_eq!(query, "jina-domena.cz"),
            other => panic!("{backend:?}: {other:?}"),
        }
        let halfway = ClientPatch { remove_emails: vec!["info@novak-stavby.cz".into()], ..ClientPatch::default() };
        assert!(matches!(
            s.edit_client(novak, &halfway),
            Err(StoreError::NotFound { what: "address of this client", .. })
        ));
        let c = s.client(novak).unwrap();
        assert_eq!(
            (c.name.as_str(), c.domains.as_slice()),
            ("Stavby Novák s.r.o.", ["novak-stavby.cz".to_string()].as_slice())
        );

        let contact_patch = ContactPatch {
            name: Some("Karel Horák ml.".into()),
            remove_emails: vec!["jiny@novak-stavby.cz".into()],
            ..ContactPatch::default()
        };
        assert!(matches!(
            s.edit_contact(karel, &contact_patch),
            Err(StoreError::NotFound { what: "address of this contact", .. })
        ));
        assert_eq!(s.contact(karel).unwrap().name, "Karel Horák", "{backend:?}: rolled back");
        let blank = ContactPatch { name: Some(" ".into()), ..ContactPatch::default() };
        assert!(matches!(s.edit_contact(karel, &blank), Err(StoreError::Invalid(_))));
        assert!(matches!(
            s.edit_contact(ContactId(999_999), &ContactPatch::default()),
            Err(StoreError::NotFound { .. })
        ));
        let person = |name: &str| ContactInput { name: name.into(), ..ContactInput::default() };
        assert!(matches!(s.add_contact(zdar, &person("\t")), Err(StoreError::Invalid(_))));
        assert!(matches!(s.add_contact(ClientId(999_999), &person("Nikdo")), Err(StoreError::NotFound { .. })));
        assert!(matches!(s.remove_contact(ContactId(999_999)), Err(StoreError::NotFound { .. })));

        assert_eq!(s.directory_version().unwrap(), version, "{backend:?}: nothing changed");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM clients", args![]), 2);
        assert_eq!(count(&s, "SELECT COUNT(*) FROM auto_contacts_refused", args![]), 0);
    });
}

#[test]
fn removing_a_client_takes_its_contacts_and_links_and_bumps_its_items() {
    stores::each(policy(), |backend, mut s| {
        let novak = client(&s, "Stavby Novák s.r.o.", None);
        let zdar = client(&s, "Žďárská kovárna", None);
        domain(&s, novak, "novak-stavby.cz");
        client_email(&s, novak, "info@novak-stavby.cz");
        let karel = contact(&s, novak, "Karel Horák", &["karel@novak-stavby.cz"], "manual");
        let mine = item(&s, "email", "2026-02-01T10:00:00Z", "Nabídka", "", "h1", "{}");
        let theirs = item(&s, "email", "2026-02-02T10:00:00Z", "Jiné", "", "h2", "{}");
        link(&s, mine, novak, Some(karel), "email", 1);
        link(&s, theirs, zdar, None, "email", 1);
        let version = s.directory_version().unwrap();

        s.remove_client(novak).unwrap();
        assert!(matches!(s.client(novak), Err(StoreError::NotFound { .. })), "{backend:?}");
        assert!(matches!(s.contact(karel), Err(StoreError::NotFound { .. })));
        assert!(s.directory_version().unwrap() > version);
        for table in ["client_domains", "client_emails", "contacts"] {
            let n = count(&s, &format!("SELECT COUNT(*) FROM {table} WHERE client_id = ?1"), args![novak.0]);
            assert_eq!(n, 0, "{backend:?}: {table}");
        }
        assert_eq!(count(&s, "SELECT COUNT(*) FROM item_links WHERE item_id = ?1", args![mine]), 0);
        // Its item stays in the history, bumped for the index; the other is untouched.
        assert!(rev(&s, mine) > 0, "{backend:?}");
        assert_eq!(rev(&s, theirs), 0);
        assert_eq!(s.clients().unwrap().len(), 1);
        assert!(matches!(s.remove_client(novak), Err(StoreError::NotFound { what: "client", .. })));
    });
}

// ---- one person: footprint and erasure ----

fn attachment(s: &Store, item: i64, name: &str, hash: &str) {
    exec(
        s,
        "INSERT INTO item_attachments (item_id, name, mime, size, content_hash) VALUES (?1, ?2, 'application/pdf', 10, ?3)",
        args![item, name, hash],
    );
}

#[test]
fn a_persons_footprint_is_found_and_erased_alike() {
    stores::each(policy(), |backend, mut s| {
        let novak = client(&s, "Stavby Novák s.r.o.", None);
        let lucie = contact(&s, novak, "Lucie Malá", &["lucie.mala@novak-stavby.cz", "lucie@gmail.com"], "manual");
        let day = "2026-02-01T10:00:00Z";
        // Between her and us alone: erased whole, with its documents.
        let own = item(&s, "email", day, "Objednávka", "Posílám objednávku.", "aa01", "{}");
        exec(&s, "UPDATE items SET message_id = 'm1@novak-stavby.cz', thread_id = 7 WHERE id = ?1", args![own]);
        exec(&s, "INSERT INTO thread_ids (message_id, thread_id) VALUES ('m1@novak-stavby.cz', 7)", args![]);
        exec(&s, "INSERT INTO item_references (item_id, message_id) VALUES (?1, 'm0@modrykamen.cz')", args![own]);
        participant(&s, own, "from", Some("Lucie Malá"), "lucie.mala@novak-stavby.cz");
        participant(&s, own, "to", Some("Jana"), "jana@modrykamen.cz");
        attachment(&s, own, "objednavka.pdf", "dd44");
        link(&s, own, novak, Some(lucie), "email", 1);
        let from_own = format!(r#"{{"from_item":{own}}}"#);
        let document = item(&s, "document", day, "objednavka.pdf", "Objednávka č. 5", "dd44", &from_own);
        let shared_file = item(&s, "document", day, "cenik.pdf", "Ceník", "dd55", &from_own);
        // Not hers: a document of another mail, one whose `from_item` is no
        // number, and a mail that carries the same file as her document.
        let elsewhere = item(&s, "email", day, "Ceník", "", "aa09", "{}");
        attachment(&s, elsewhere, "cenik.pdf", "dd55");
        item(&s, "document", day, "x.pdf", "", "dd66", &format!(r#"{{"from_item":{elsewhere}}}"#));
        item(&s, "document", day, "y.pdf", "", "dd77", r#"{"from_item":"nevím"}"#);
        item(&s, "email", day, "Jiné", "", "aa08", r#"{"from_item":"nevím"}"#);
        // Shared with someone else outside: redacted.
        let shared = item(
            &s,
            "email",
            day,
            "Schůzka s Lucie Malá",
            "Ahoj, píše Lucie Malá <LUCIE@gmail.com>.",
            "aa02",
            r#"{"attendees":["lucie@gmail.com","karel@zdar.cz"],"n":1}"#,
        );
        participant(&s, shared, "from", Some("Lucka M."), "lucie@gmail.com");
        participant(&s, shared, "to", Some("Karel"), "karel@zdar.cz");
        participant(&s, shared, "cc", None, "jana@modrykamen.cz");
        // Naming her in full without her taking part: redacted; deleted: left.
        let note = item(&s, "call", day, "Telefonát", "Volala Lucie Malá kvůli termínu.", "aa03", "{}");
        let deleted = item(&s, "call", day, "Starý", "Lucie Malá", "aa04", "{}");
        exec(&s, "UPDATE items SET deleted_at = ?2 WHERE id = ?1", args![deleted, day]);
        exec(&s, "INSERT INTO auto_contacts_refused (email, created_at) VALUES ('lucie@gmail.com', ?1)", args![day]);

        assert!(matches!(s.person_footprint("není adresa"), Err(StoreError::Invalid(_))), "{backend:?}");
        let fp = s.person_footprint(" Lucie.Mala@Novak-Stavby.cz ").unwrap();
        assert_eq!(fp.address, "lucie.mala@novak-stavby.cz", "{backend:?}");
        assert_eq!(fp.addresses, ["lucie.mala@novak-stavby.cz", "lucie@gmail.com"]);
        assert_eq!(fp.contacts, [(lucie.0, "Lucie Malá".to_string())]);
        assert_eq!(fp.own_items, [own], "{backend:?}");
        assert_eq!(fp.shared_items, [shared, note], "{backend:?}");
        assert_eq!(fp.documents, [document, shared_file], "{backend:?}");
        assert_eq!(fp.names, ["Lucie Malá", "Lucka M."]);
        assert_eq!(fp.originals, ["aa01", "aa02", "aa03"]);
        assert_eq!(fp.document_files, ["dd44"], "{backend:?}: dd55 is another mail's too");
        let version = s.directory_version().unwrap();

        let e = s.forget_person(&fp, "jana").unwrap();
        assert_eq!(e.by, "jana");
        assert_eq!(e.address_hash.len(), 64);
        assert_eq!((e.items_erased, e.items_redacted, e.contacts_erased, e.files_erased), (3, 2, 1, 4), "{backend:?}");
        assert_eq!(s.erasures().unwrap(), std::slice::from_ref(&e));
        assert!(s.directory_version().unwrap() > version);
        assert!(matches!(s.contact(lucie), Err(StoreError::NotFound { .. })));
        assert_eq!(count(&s, "SELECT COUNT(*) FROM suppressed", args![]), 2);
        assert_eq!(count(&s, "SELECT COUNT(*) FROM auto_contacts_refused", args![]), 0);

        // Erased: blank, deleted, its rows gone; its key stays (a resync finds it known).
        let erased = s
            .db()
            .query_row(
                "SELECT subject, body, message_id, thread_id, content_hash, extra, deleted_at, size FROM items WHERE id = ?1",
                args![own],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<Option<String>>(2)?,
                        r.get::<Option<i64>>(3)?,
                        r.get::<String>(4)?,
                        r.get::<String>(5)?,
                        r.get::<Option<String>>(6)?,
                        r.get::<i64>(7)?,
                    ))
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            erased,
            (
                String::new(),
                String::new(),
                None,
                None,
                format!("erased:{own}"),
                r#"{"erased":true}"#.to_string(),
                Some(e.at.clone()),
                0
            ),
            "{backend:?}"
        );
        for table in ["item_participants", "item_references", "item_attachments", "item_links"] {
            let n = count(&s, &format!("SELECT COUNT(*) FROM {table} WHERE item_id = ?1"), args![own]);
            assert_eq!(n, 0, "{backend:?}: {table}");
        }
        assert_eq!(count(&s, "SELECT COUNT(*) FROM thread_ids", args![]), 0);
        assert_eq!(
            text(&s, "SELECT content_hash FROM items WHERE id = ?1", args![document]).unwrap(),
            format!("erased:{document}")
        );
        assert!(rev(&s, own) > 0 && rev(&s, shared) > 0 && rev(&s, note) > 0);
        assert_eq!(rev(&s, elsewhere), 0);

        // Redacted: her address (in any case) and names, in text and in `extra`.
        let row = |id: i64| {
            s.db()
                .query_row("SELECT subject, body, extra, content_hash FROM items WHERE id = ?1", args![id], |r| {
                    Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<String>(3)?))
                })
                .unwrap()
                .unwrap()
        };
        let (subject, body, extra, hash) = row(shared);
        assert_eq!(subject, format!("Schůzka s {ERASED}"), "{backend:?}");
        assert_eq!(body, format!("Ahoj, píše {ERASED} <{ERASED}>."));
        assert_eq!(extra, format!(r#"{{"attendees":["{ERASED}","karel@zdar.cz"],"n":1}}"#));
        assert_eq!(hash, format!("redacted:{shared}"));
        let left: Vec<String> = s
            .db()
            .query("SELECT address FROM item_participants WHERE item_id = ?1 ORDER BY address", args![shared], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, ["jana@modrykamen.cz", "karel@zdar.cz"]);
        assert_eq!(row(note).1, format!("Volala {ERASED} kvůli termínu."));
        assert_eq!(row(deleted).1, "Lucie Malá", "{backend:?}: a deleted item is left");

        // Again: nothing is left to find, the same key hashes the address the same.
        let again = s.person_footprint("lucie.mala@novak-stavby.cz").unwrap();
        assert_eq!((again.own_items.len(), again.shared_items.len(), again.contacts.len()), (0, 0, 0), "{backend:?}");
        let second = s.forget_person(&again, "admin").unwrap();
        assert_eq!(second.address_hash, e.address_hash);
        assert_eq!((second.items_erased, second.items_redacted, second.contacts_erased), (0, 0, 0));
        assert_eq!(s.erasures().unwrap(), [e, second], "{backend:?}: oldest first");
        assert_eq!(count(&s, "SELECT COUNT(*) FROM suppressed", args![]), 2, "{backend:?}: suppressed once");
    });
}

/// A store of each backend with its files in `dir` (`documents/`, `originals/`).
fn stores_with_files(mut test: impl FnMut(Backend, Store, &std::path::Path)) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("sqlite");
    test(Backend::Sqlite, Store::open(&sqlite.join("kronika.sqlite3"), policy()).unwrap(), &sqlite);
    let pg = dir.path().join("pg");
    let database = postgres::cluster().database();
    let target = kronika::store::pg::PgTarget {
        url: database.url.clone(),
        password: None,
        schema: None,
        ca_file: Some(postgres::cluster().certificate()),
    };
    let store = Store::open_postgres(&target, policy(), Some(pg.join("documents")))
        .unwrap_or_else(|e| panic!("{e}\n{}", postgres::cluster().log_tail()));
    test(Backend::Postgres, store, &pg);
}

#[test]
fn unused_kept_files_are_dropped_and_used_ones_kept() {
    stores_with_files(|backend, s, dir| {
        let put = |folder: &str, hash: &str| {
            let path = kronika::store::document_path(&dir.join(folder), hash);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, hash).unwrap();
            path
        };
        let used_original = put("originals", "aa01");
        let unused_original = put("originals", "aa02");
        let attached_original = put("originals", "aa03");
        let attached = put("documents", "bb01");
        let unused_document = put("documents", "bb02");
        let document = put("documents", "bb03");
        let mail = item(&s, "email", "2026-02-01T10:00:00Z", "", "", "aa01", "{}");
        attachment(&s, mail, "a.pdf", "bb01");
        attachment(&s, mail, "b.pdf", "aa03");
        item(&s, "document", "2026-02-01T10:00:00Z", "", "", "bb03", "{}");

        let n = s.drop_unused_files(&["aa01", "aa02", "aa03", "", "../aa01"], &["bb01", "bb02", "bb03", "zz"]).unwrap();
        assert_eq!(n, 3, "{backend:?}");
        assert!(used_original.exists() && attached.exists() && document.exists(), "{backend:?}");
        // An original is the item's own, never an attachment's.
        assert!(!unused_original.exists() && !attached_original.exists() && !unused_document.exists(), "{backend:?}");
        assert_eq!(s.drop_unused_files(&["aa02"], &[]).unwrap(), 0, "{backend:?}: already gone");
    });
    // Kept in memory, a store has no files to drop.
    stores::each(policy(), |backend, s| {
        assert_eq!(s.drop_unused_files(&["aa01"], &["bb01"]).unwrap(), 0, "{backend:?}");
    });
}

// ---- deals ----

#[test]
fn deals_read_and_sum_alike() {
    stores::each(policy(), |backend, mut s| {
        let novak = client(&s, "Stavby Novák s.r.o.", None);
        let zdar = client(&s, "Žďárská kovárna", None);
        let won = deal(&s, novak, "Rekuperace – dům Žďár", 185_000.5, "CZK", "won", "2026-03-14");
        let bought = deal(&s, novak, "Nákup materiálu", 40_000.0, "CZK", "won", "2026-03-14");
        let lost = deal(&s, novak, "Tepelné čerpadlo", 320_000.0, "CZK", "lost", "2026-01-02");
        let euro = deal(&s, zdar, "Kovové prvky", 1_200.25, "EUR", "won", "2026-02-20");
        let open = deal(&s, zdar, "Zábradlí", 15_000.0, "CZK", "open", "2026-04-01");
        assert_eq!(s.sync_missing_deal_items().unwrap(), 0, "{backend:?}: no deal from an invoice");
        exec(
            &s,
            "UPDATE deals SET products = ?2, number = 'FV-2026-031', details = ?3 WHERE id = ?1",
            args![
                won,
                r#"["Rekuperace","Servis a údržba"]"#,
                r#"{"lines":[{"without_vat":150000.5},{"without_vat":35000}]}"#
            ],
        );
        exec(&s, "UPDATE deals SET side = 'purchase' WHERE id = ?1", args![bought]);
        // An invoice line without its amount: the products stand for the whole deal.
        exec(
            &s,
            "UPDATE deals SET products = ?2, details = ?3 WHERE id = ?1",
            args![open, r#"["Zábradlí"]"#, r#"{"lines":[{"name":"x"}]}"#],
        );

        let d = s.deal(won).unwrap();
        assert_eq!(d.client_id, novak.0, "{backend:?}");
        assert_eq!(d.client, "Stavby Novák s.r.o.");
        assert_eq!(d.title, "Rekuperace – dům Žďár");
        assert_eq!((d.value, d.currency.as_str(), d.status.as_str()), (185_000.5, "CZK", "won"));
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2026, 3, 14).unwrap());
        assert_eq!(d.products, ["Rekuperace", "Servis a údržba"]);
        assert_eq!(d.product_values, [150_000.5, 35_000.0]);
        assert_eq!(d.number.as_deref(), Some("FV-2026-031"));
        assert_eq!((d.side.as_str(), d.origin.as_str(), d.item_id), ("sale", "manual", None));
        let o = s.deal(open).unwrap();
        assert_eq!((o.products, o.product_values, o.number), (vec!["Zábradlí".to_string()], vec![], None));
        assert_eq!(s.deal(bought).unwrap().side, "purchase");
        assert!(matches!(s.deal(999_999), Err(StoreError::NotFound { what: "deal", .. })));

        // Newest first, the later id first on the same day.
        let ids = |c: Option<ClientId>| -> Vec<i64> { s.deals(c).unwrap().into_iter().map(|d| d.id).collect() };
        assert_eq!(ids(Some(novak)), [bought, won, lost], "{backend:?}");
        assert_eq!(ids(None), [open, bought, won, euro, lost]);
        assert!(ids(Some(client(&s, "Bez obchodů", None))).is_empty());

        let sums = s.won_sales_by_currency().unwrap();
        assert_eq!(
            sums.into_iter().collect::<Vec<_>>(),
            [("CZK".to_string(), 185_000.5), ("EUR".to_string(), 1_200.25)]
        );
    });
}

// ---- users and sessions ----

#[test]
fn users_and_sessions() {
    stores::each(policy(), |backend, mut s| {
        assert!(s.users().unwrap().is_empty());
        let id = s.add_user("jana", " jana.dvorakova@modrykamen.cz ", true, "$argon2id$x").unwrap();
        let petr = s.add_user(" petr ", "petr@modrykamen.cz", false, "$argon2id$p").unwrap();
        assert_ne!(id, petr);
        assert!(matches!(s.add_user("jana", "x@y.cz", false, "h"), Err(StoreError::Conflict(_))), "{backend:?}");
        assert!(matches!(s.add_user("two words", "x@y.cz", false, "h"), Err(StoreError::Invalid(_))));
        assert!(matches!(s.add_user("  ", "x@y.cz", false, "h"), Err(StoreError::Invalid(_))));
        let users = s.users().unwrap();
        let listed: Vec<(&str, &str, bool)> =
            users.iter().map(|u| (u.name.as_str(), u.email.as_str(), u.admin)).collect();
        assert_eq!(listed, [("jana", "jana.dvorakova@modrykamen.cz", true), ("petr", "petr@modrykamen.cz", false)]);
        assert_eq!(s.user_by_name(" petr").unwrap().map(|u| u.id), Some(petr));
        assert_eq!(s.user_by_name("Petr").unwrap(), None, "{backend:?}: names are exact");
        let (u, hash) = s.user_credentials("jana").unwrap().unwrap();
        assert!(u.admin && hash == "$argon2id$x");
        assert_eq!(u, users[0]);
        assert!(s.user_credentials("nikdo").unwrap().is_none());

        let later = Utc::now() + chrono::Duration::hours(1);
        s.add_session("abc", id, "csrf1", later).unwrap();
        let session = s.session("abc").unwrap().unwrap();
        assert_eq!((session.user.id, session.csrf.as_str()), (id, "csrf1"));
        assert_eq!(session.expires_at.timestamp(), later.timestamp());
        assert!(s.session("nope").unwrap().is_none());
        s.add_session("old", id, "c", Utc::now() - chrono::Duration::hours(1)).unwrap();
        assert!(s.session("old").unwrap().is_none(), "{backend:?}: expired");
        // The expired one goes when the next session starts.
        s.add_session("p1", petr, "c", later).unwrap();
        assert_eq!(count(&s, "SELECT COUNT(*) FROM sessions WHERE token_hash = 'old'", args![]), 0);
        let dup = s.add_session("p1", petr, "c", later).unwrap_err();
        assert!(matches!(&dup, StoreError::Db(e) if e.is_unique_violation()), "{backend:?}: {dup}");
        assert!(s.session("p1").unwrap().is_some(), "{backend:?}: the failed one rolled back alone");
        // A new password ends every session of the user, and only theirs.
        s.set_password("jana", "$argon2id$y").unwrap();
        assert!(s.session("abc").unwrap().is_none());
        assert!(s.session("p1").unwrap().is_some());
        assert_eq!(s.user_credentials("jana").unwrap().unwrap().1, "$argon2id$y");
        assert!(matches!(s.set_password("nikdo", "h"), Err(StoreError::NotFound { what: "user", .. })));
        s.add_session("def", id, "c2", later).unwrap();
        s.remove_session("def").unwrap();
        assert!(s.session("def").unwrap().is_none());
        s.remove_session("nikdy-nebyla").unwrap();
    });
}

// ---- through the whole API ----
//
// These go through what other store files do for these (re-matching and
// merging contacts, a deal's history item, the timeline): on PostgreSQL they
// pass once those files run on it too.

/// [`policy`] without contacts made from mail, so that only the test makes them.
fn typed_contacts() -> Policy {
    Policy { auto_contacts: AutoContacts::None, ..policy() }
}

fn mail(mid: &str, from: &str, to: &[&str]) -> NewItem {
    let mut participants = vec![Participant { role: Role::From, name: None, address: from.into() }];
    participants.extend(to.iter().map(|a| Participant { role: Role::To, name: None, address: a.to_string() }));
    NewItem {
        kind: ItemKind::Email,
        message_id: Some(mid.into()),
        date: Utc.with_ymd_and_hms(2026, 2, 1, 10, 0, 0).unwrap(),
        date_source: DateSource::Header,
        subject: format!("Poptávka {mid}"),
        body: "Dobrý den, posílám poptávku.".into(),
        participants,
        content_hash: format!("hash-{mid}"),
        size: 100,
        extra: serde_json::json!({}),
        ..NewItem::default()
    }
}

fn new_item(o: IngestOutcome) -> kronika::model::ItemId {
    match o {
        IngestOutcome::New(id) => id,
        other => panic!("expected a new item, got {other:?}"),
    }
}

#[test]
fn clients_and_contacts_change_through_the_api() {
    stores::each(typed_contacts(), |backend, mut s| {
        let from_karel = mail("m1@novak-stavby.cz", "karel.horak@novak-stavby.cz", &["jana@modrykamen.cz"]);
        let m =
            new_item(s.ingest(&from_karel, &SourceKey { source: "imap:a/INBOX".into(), key: "1/1".into() }).unwrap());
        let version = s.directory_version().unwrap();
        let input = ClientInput {
            name: " Stavby Novák s.r.o. ".into(),
            ico: Some(Ico::parse("27082440").unwrap()),
            dic: Some("  ".into()),
            address: Some(" Brno, Údolní 5 ".into()),
            annual_budget: Some(1_000_000.0),
            domains: vec!["novak-stavby.cz".into(), "novak-stavby.cz".into()],
            emails: vec!["info@novak-stavby.cz".into()],
            custom: serde_json::json!({"obor": "stavby"}).as_object().unwrap().clone(),
            ..ClientInput::default()
        };
        let novak = s.add_client(&input).unwrap();
        assert!(s.directory_version().unwrap() > version, "{backend:?}");
        let c = s.client(novak).unwrap();
        assert_eq!(c.name, "Stavby Novák s.r.o.");
        assert_eq!((c.dic, c.address.as_deref(), c.status), (None, Some("Brno, Údolní 5"), ClientStatus::Lead));
        assert_eq!(c.domains, ["novak-stavby.cz"], "{backend:?}: the same domain twice is kept once");
        assert_eq!(s.client_emails(novak).unwrap(), ["info@novak-stavby.cz"]);
        // The mail from its domain is the client's now.
        assert_eq!(s.client_timeline_ids(novak, None, 10).unwrap(), [m], "{backend:?}");
        assert_eq!(s.client_item_counts(novak).unwrap().get("email"), Some(&1));

        let patch = ClientPatch {
            name: Some("Stavby Novák a.s.".into()),
            status: Some(ClientStatus::Client),
            annual_budget: Some(None),
            address: Some(None),
            add_domains: vec!["a-novak.cz".into()],
            remove_domains: vec!["novak-stavby.cz".into()],
            custom: serde_json::json!({"obor": null, "kraj": "Vysočina"}).as_object().unwrap().clone(),
            ..ClientPatch::default()
        };
        s.edit_client(novak, &patch).unwrap();
        let c = s.client(novak).unwrap();
        assert_eq!(
            (c.name.as_str(), c.status, c.annual_budget, c.address),
            ("Stavby Novák a.s.", ClientStatus::Client, None, None)
        );
        assert_eq!(c.domains, ["a-novak.cz"]);
        assert_eq!(serde_json::Value::Object(c.custom), serde_json::json!({"kraj": "Vysočina"}));
        assert_eq!(s.resolve_client("stavby novak a.s.").unwrap(), novak);
        assert!(s.client_timeline_ids(novak, None, 10).unwrap().is_empty(), "{backend:?}: its domain went");
        let back = ClientPatch { add_domains: vec!["novak-stavby.cz".into()], ..ClientPatch::default() };
        s.edit_client(novak, &back).unwrap();
        assert_eq!(s.client_timeline_ids(novak, None, 10).unwrap(), [m]);

        // A contact typed in: blank values are none, typed ones are the user's.
        let typed = ContactInput {
            name: " Ing. Karel Horák ".into(),
            emails: vec!["karel.horak@novak-stavby.cz".into()],
            phone: Some("+420 602 000 111".into()),
            role: Some(" ".into()),
        };
        let karel = s.add_contact(novak, &typed).unwrap();
        let k = s.contact(karel).unwrap();
        assert_eq!(k.name, "Ing. Karel Horák");
        assert_eq!((k.phone.as_deref(), k.phone_source.as_deref()), (Some("+420 602 000 111"), Some("manual")));
        assert_eq!((k.role, k.role_source, k.origin.as_str()), (None, None, "manual"));
        assert_eq!(s.resolve_contact(Some(novak), "karel.horak@novak-stavby.cz").unwrap(), karel);

        // It takes its address over from a contact found in mail, which goes.
        let found = contact(&s, novak, "Alena A.", &["alena@novak-stavby.cz"], "mail");
        let alena = s
            .add_contact(
                novak,
                &ContactInput {
                    name: "Alena Nováková".into(),
                    emails: vec!["alena@novak-stavby.cz".into()],
                    ..ContactInput::default()
                },
            )
            .unwrap();
        assert!(matches!(s.contact(found), Err(StoreError::NotFound { .. })), "{backend:?}");
        assert_eq!(s.contact(alena).unwrap().emails, ["alena@novak-stavby.cz"]);
        // The same person found in mail (same name, other order) is merged in.
        let twin = contact(&s, novak, "Petr Dvořák", &["petr.dvorak@gmail.com"], "mail");
        exec(&s, "UPDATE contacts SET phone = '777 123 456', phone_source = 'item:1' WHERE id = ?1", args![twin.0]);
        let petr = s
            .add_contact(
                novak,
                &ContactInput {
                    name: "Dvořák Petr".into(),
                    emails: vec!["petr@novak-stavby.cz".into()],
                    ..ContactInput::default()
                },
            )
            .unwrap();
        assert!(matches!(s.contact(twin), Err(StoreError::NotFound { .. })), "{backend:?}");
        let p = s.contact(petr).unwrap();
        assert_eq!(p.emails, ["petr.dvorak@gmail.com", "petr@novak-stavby.cz"]);
        assert_eq!(p.phone.as_deref(), Some("777 123 456"));

        // Moved to another client, an address swapped, the phone cleared.
        let zdar = s.add_client(&ClientInput { name: "Žďárská kovárna".into(), ..ClientInput::default() }).unwrap();
        let edit = ContactPatch {
            remove_emails: vec!["karel.horak@novak-stavby.cz".into()],
            add_emails: vec!["karel@zdar.cz".into()],
            phone: Some(None),
            role: Some(Some("jednatel".into())),
            client: Some(zdar),
            ..ContactPatch::default()
        };
        s.edit_contact(karel, &edit).unwrap();
        let k = s.contact(karel).unwrap();
        assert_eq!((k.client, k.emails.as_slice()), (zdar, ["karel@zdar.cz".to_string()].as_slice()), "{backend:?}");
        assert_eq!((k.phone, k.phone_source.as_deref()), (None, Some("manual")));
        assert_eq!((k.role.as_deref(), k.role_source.as_deref()), (Some("jednatel"), Some("manual")));
        let refused =
            |s: &Store, e: &str| count(s, "SELECT COUNT(*) FROM auto_contacts_refused WHERE email = ?1", args![e]);
        assert_eq!(refused(&s, "karel.horak@novak-stavby.cz"), 1, "{backend:?}");
        assert_eq!(s.contacts(zdar).unwrap().len(), 1);

        s.remove_contact(alena).unwrap();
        assert!(matches!(s.contact(alena), Err(StoreError::NotFound { .. })));
        assert_eq!(refused(&s, "alena@novak-stavby.cz"), 1);
        let names: Vec<String> = s.contacts(novak).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Dvořák Petr"], "{backend:?}");

        s.remove_client(novak).unwrap();
        assert!(matches!(s.contact(petr), Err(StoreError::NotFound { .. })));
        assert_eq!(s.clients().unwrap().into_iter().map(|c| c.id).collect::<Vec<_>>(), [zdar]);
    });
}

#[test]
fn deals_change_through_the_api_with_their_history_items() {
    stores::each(typed_contacts(), |backend, mut s| {
        let novak =
            s.add_client(&ClientInput { name: "Stavby Novák s.r.o.".into(), ..ClientInput::default() }).unwrap();
        let input = DealInput {
            title: " Rekuperace – dům Žďár ".into(),
            value: 185_000.5,
            currency: "CZK".into(),
            status: "won".into(),
            date: NaiveDate::from_ymd_opt(2026, 3, 14),
            products: vec!["Rekuperace".into(), "Servis a údržba".into()],
            number: Some("FV-2026-031".into()),
            import_key: None,
        };
        let id = s.add_deal(novak, &input).unwrap().expect("a new deal");
        let d = s.deal(id).unwrap();
        assert_eq!((d.title.as_str(), d.origin.as_str(), d.side.as_str()), ("Rekuperace – dům Žďár", "manual", "sale"));
        assert_eq!(d.products, ["Rekuperace", "Servis a údržba"]);
        // Its history item: a `deal` item of the client, kept in step.
        let history = |s: &Store, deal: i64| {
            s.db()
                .query_row(
                    "SELECT i.id, i.kind, i.subject, i.body, i.date FROM items i
                     JOIN item_sources k ON k.item_id = i.id WHERE k.source = 'deals' AND k.key = ?1",
                    args![deal.to_string()],
                    |r| {
                        Ok((
                            r.get::<i64>(0)?,
                            r.get::<String>(1)?,
                            r.get::<String>(2)?,
                            r.get::<String>(3)?,
                            r.get::<String>(4)?,
                        ))
                    },
                )
                .unwrap()
                .unwrap_or_else(|| panic!("no history item of deal {deal}"))
        };
        let (item, kind, subject, body, date) = history(&s, id);
        assert_eq!((kind.as_str(), subject.as_str()), ("deal", "Rekuperace – dům Žďár"), "{backend:?}");
        assert!(body.contains("CZK won") && body.contains("FV-2026-031"), "{backend:?}: {body}");
        assert_eq!(date, "2026-03-14T12:00:00Z");
        let linked = count(
            &s,
            "SELECT COUNT(*) FROM item_links WHERE item_id = ?1 AND client_id = ?2 AND reason = 'manual'",
            args![item, novak.0],
        );
        assert_eq!(linked, 1, "{backend:?}");

        let imported =
            DealInput { import_key: Some("1|FV-2026-040".into()), title: "Tepelné čerpadlo".into(), ..input.clone() };
        let second = s.add_deal(novak, &imported).unwrap().expect("a new deal");
        assert_eq!(s.deal(second).unwrap().origin, "import");
        assert_eq!(s.add_deal(novak, &imported).unwrap(), None, "{backend:?}: the same row imported again");
        assert_eq!(s.deals(Some(novak)).unwrap().len(), 2);
        let blank = DealInput { title: "  ".into(), ..input.clone() };
        assert!(matches!(s.add_deal(novak, &blank), Err(StoreError::Invalid(_))));
        assert!(matches!(s.add_deal(ClientId(999_999), &input), Err(StoreError::NotFound { .. })));

        s.edit_deal(id, Some("Rekuperace a servis"), Some(190_000.0), None, Some("lost"), None, Some(&[])).unwrap();
        let d = s.deal(id).unwrap();
        assert_eq!(
            (d.title.as_str(), d.value, d.currency.as_str(), d.status.as_str()),
            ("Rekuperace a servis", 190_000.0, "CZK", "lost")
        );
        assert!(d.products.is_empty());
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2026, 3, 14).unwrap());
        let (again, _, subject, body, _) = history(&s, id);
        assert_eq!((again, subject.as_str()), (item, "Rekuperace a servis"), "{backend:?}: the same item, updated");
        assert!(body.contains("lost"), "{body}");
        assert!(matches!(s.edit_deal(999_999, None, None, None, None, None, None), Err(StoreError::NotFound { .. })));

        // A deal from an invoice whose item a crash kept from being written gets it.
        let isdoc = deal(&s, novak, "Faktura FV-2026-050", 12_100.0, "CZK", "won", "2026-04-02");
        exec(&s, "UPDATE deals SET origin = 'isdoc' WHERE id = ?1", args![isdoc]);
        assert_eq!(s.sync_missing_deal_items().unwrap(), 1, "{backend:?}");
        assert_eq!(s.sync_missing_deal_items().unwrap(), 0);
        assert_eq!(history(&s, isdoc).2, "Faktura FV-2026-050");
        let sums = s.won_sales_by_currency().unwrap();
        assert_eq!(sums.into_iter().collect::<Vec<_>>(), [("CZK".to_string(), 185_000.5 + 12_100.0)]);
    });
}
