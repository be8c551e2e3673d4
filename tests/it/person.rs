//! Issue 15: a person's data. `person export` writes everything that
//! involves an address; `person forget` erases it, redacts what is shared,
//! and no search, history, show, documents folder or resync brings it back.

use crate::common::{Env, copy_dir, fixtures};

use crate::common::EXAMPLE_CONFIG as CONFIG;

const LUCIE: &str = "lucie.mala@acme-stavby.cz";

fn env() -> Env {
    let env = Env::with_config(CONFIG);
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env.ok(&["sync"]);
    env
}

fn count(env: &Env, sql: &str) -> i64 {
    rusqlite::Connection::open(env.path().join("data/kronika.sqlite3"))
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap()
}

/// Every kept file's bytes, to look for the person in them.
fn kept_files(env: &Env) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["documents", "originals"] {
        let mut stack = vec![env.path().join("data").join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push((e.path().display().to_string(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
    }
    out
}

fn names(bytes: &[u8], needle: &str) -> bool {
    String::from_utf8_lossy(bytes).to_lowercase().contains(needle)
}

#[test]
fn export_writes_everything_about_a_person_and_is_a_dry_run_without_yes() {
    let env = env();
    let out_dir = env.path().join("lucie");
    let dry = env.ok(&["person", "export", LUCIE, "--output", out_dir.to_str().unwrap()]);
    assert!(dry.contains("would export") && dry.contains(LUCIE), "{dry}");
    assert!(!out_dir.exists(), "a dry run writes nothing");

    let out = env.ok(&["person", "export", LUCIE, "--output", out_dir.to_str().unwrap(), "--yes"]);
    assert!(out.contains("exported"), "{out}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("person.json")).unwrap()).unwrap();
    assert_eq!(json["address"], LUCIE);
    let items = json["items"].as_array().unwrap();
    // Her own message and the six shared with her colleague.
    assert!(items.len() >= 7, "{}", items.len());
    assert!(items.iter().any(|i| i["body"].as_str().unwrap_or("").contains("klapky")));
    assert_eq!(json["contacts"][0]["name"], "Lucie Malá", "{}", json["contacts"]);
    let emls = std::fs::read_dir(out_dir.join("messages")).unwrap().count();
    let mails = items.iter().filter(|i| i["kind"] == "email").count();
    assert!(mails >= 6 && emls >= mails, "the original messages as .eml: {emls} of {mails}");
    let docs = std::fs::read_dir(out_dir.join("documents")).unwrap().count();
    assert!(docs >= 3, "the documents: {docs}");
    let readme = std::fs::read_to_string(out_dir.join("README.txt")).unwrap();
    assert!(readme.contains(LUCIE) && readme.contains("Lucie Malá"), "{readme}");
    // An export never writes over another.
    let again = env.fails(&["person", "export", LUCIE, "--output", out_dir.to_str().unwrap(), "--yes"]);
    assert!(again.contains("not empty"), "{again}");
    let bad = env.fails(&["person", "export", "not an address", "--yes"]);
    assert!(bad.contains("not an e-mail address"), "{bad}");
}

#[test]
fn forget_erases_redacts_and_nothing_brings_the_person_back() {
    let env = env();
    let items_before = count(&env, "SELECT COUNT(*) FROM items");
    assert_eq!(env.json(&["search", "klapky"]).as_array().unwrap().len(), 1);
    let own_id = env.json(&["search", "klapky"])[0]["id"].as_i64().unwrap();

    // Dry run: lists, changes nothing.
    let dry = env.ok(&["person", "forget", LUCIE]);
    assert!(dry.contains("would erase") && !dry.contains("klapky"), "{dry}");
    assert_eq!(env.json(&["search", "klapky"]).as_array().unwrap().len(), 1, "a dry run erases nothing");

    let out = env.ok(&["person", "forget", LUCIE, "--yes", "--by", "Jana (DPO)"]);
    assert!(out.contains("erased") && out.contains("recorded as erasure #1 by Jana (DPO)"), "{out}");
    assert!(out.contains("no longer holds their text"), "{out}");

    // Nothing in the store names her address or her name in full.
    assert_eq!(count(&env, &format!("SELECT COUNT(*) FROM item_participants WHERE address = '{LUCIE}'")), 0);
    assert_eq!(
        count(&env, &format!("SELECT COUNT(*) FROM items WHERE lower(body || subject || extra) LIKE '%{LUCIE}%'")),
        0
    );
    assert_eq!(count(&env, "SELECT COUNT(*) FROM items WHERE body LIKE '%Lucie Malá%'"), 0);
    assert_eq!(count(&env, "SELECT COUNT(*) FROM contacts WHERE name = 'Lucie Malá'"), 0);
    assert_eq!(count(&env, "SELECT COUNT(*) FROM items"), items_before, "erased items stay as blank tombstones");
    // Search, history and show.
    assert!(env.json(&["search", "klapky"]).as_array().unwrap().is_empty(), "her own mail is not found");
    assert!(env.json(&["search", "Lucie"]).as_array().unwrap().is_empty(), "nor her name in shared mail");
    let history = env.ok(&["history", "acme"]);
    assert!(!history.contains("Příloha – cenová nabídka") && !history.contains("Lucie"), "{history}");
    let shown = env.ok(&["show", &own_id.to_string()]);
    assert!(!shown.contains("klapky") && !shown.contains("Lucie"), "{shown}");
    // Shared mail is still there for her colleague, redacted.
    let shared = env.json(&["search", "Kladno"]);
    assert!(!shared.as_array().unwrap().is_empty(), "shared mail stays for the others");
    assert!(count(&env, "SELECT COUNT(*) FROM items WHERE body LIKE '%[erased]%' OR subject LIKE '%[erased]%'") >= 1);
    // The kept files: no original names her; a document that does is a
    // business document shared with others (an invoice to her colleague),
    // kept with its text redacted.
    let files_naming_her =
        || kept_files(&env).into_iter().filter(|(_, b)| names(b, LUCIE)).map(|(p, _)| p).collect::<Vec<_>>();
    for path in files_naming_her() {
        assert!(!path.contains("/originals/"), "{path} still names her");
        let hash = path.rsplit('/').next().unwrap();
        let shared_doc = format!(
            "SELECT COUNT(*) FROM items WHERE kind = 'document' AND deleted_at IS NULL AND content_hash = '{hash}'
               AND body NOT LIKE '%{LUCIE}%'"
        );
        assert_eq!(count(&env, &shared_doc), 1, "{path} is a shared document, redacted");
    }
    let kept_before_resync = files_naming_her();
    // The erasure is recorded with a hash, never the address.
    let erasures = env.ok(&["person", "erasures"]);
    assert!(erasures.contains("#1") && erasures.contains("Jana (DPO)") && !erasures.contains(LUCIE), "{erasures}");

    // A full resync of the mailbox, an import of the same messages under
    // other names, and single files: nothing of hers comes back.
    env.ok(&["sync"]);
    copy_dir(&fixtures().join("maildir"), &env.path().join("again"));
    let import = env.ok(&["import", "maildir", env.path().join("again").to_str().unwrap()]);
    assert!(import.contains("blocked"), "{import}");
    let eml = env.path().join("again/cur/1779343975.M3P4242Q3.demo:2,RS");
    env.ok(&["import", "eml", eml.to_str().unwrap()]);
    assert_eq!(count(&env, &format!("SELECT COUNT(*) FROM item_participants WHERE address = '{LUCIE}'")), 0);
    assert!(env.json(&["search", "klapky"]).as_array().unwrap().is_empty());
    assert_eq!(files_naming_her(), kept_before_resync, "no file of hers comes back with the resync");
}

#[test]
fn blocked_mail_leaves_no_file_behind() {
    // The example Maildir holds private mail from a blocklisted address.
    let env = Env::with_config(&CONFIG.replace(
        "own_domains = [\"modrykamen.cz\"]",
        "own_domains = [\"modrykamen.cz\"]\nblocklist = [\"mama.svobodova@gmail.com\"]",
    ));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    let out = env.ok(&["sync"]);
    assert!(!out.contains(" 0 blocked"), "the private mail is refused: {out}");
    for (path, bytes) in kept_files(&env) {
        assert!(!names(&bytes, "mama.svobodova@gmail.com"), "{path} keeps blocked mail");
    }
}

#[test]
fn a_running_daemon_refuses_the_erased_person_at_once() {
    let env = env();
    let mut daemon = env.spawn(&["run"]);
    let db = |sql: &str| count(&env, sql);
    assert!(crate::common::wait_until(std::time::Duration::from_secs(20), || db(
        "SELECT COUNT(*) FROM source_status WHERE state = 'watching'"
    ) >= 1));
    let out = env.ok(&["person", "forget", LUCIE, "--yes"]);
    assert!(out.contains("erased"), "{out}");
    // New mail from her, delivered to the watched Maildir.
    let msg = format!(
        "From: Lucie Malá <{LUCIE}>\nTo: jana.svobodova@modrykamen.cz\nSubject: Ještě jedna poptávka\nMessage-ID: <po-vymazani@acme-stavby.cz>\nDate: Tue, 1 Dec 2026 09:00:00 +0100\n\nDobrý den, ještě poptávka na žaluzie.\n"
    );
    let tmp = env.path().join("maildir/tmp/900.after.host");
    std::fs::write(&tmp, msg).unwrap();
    std::fs::rename(&tmp, env.path().join("maildir/new/900.after.host")).unwrap();
    // Something else arrives after it, so we know the daemon has read both.
    let other = "From: Ing. Karel Horák <karel.horak@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Termín\nMessage-ID: <termin-2@acme-stavby.cz>\nDate: Tue, 1 Dec 2026 10:00:00 +0100\n\nPotvrzuji termín.\n";
    std::thread::sleep(std::time::Duration::from_millis(300));
    let tmp = env.path().join("maildir/tmp/901.after.host");
    std::fs::write(&tmp, other).unwrap();
    std::fs::rename(&tmp, env.path().join("maildir/new/901.after.host")).unwrap();
    assert!(crate::common::wait_until(std::time::Duration::from_secs(10), || db(
        "SELECT COUNT(*) FROM items WHERE message_id = 'termin-2@acme-stavby.cz'"
    ) == 1));
    assert_eq!(db("SELECT COUNT(*) FROM items WHERE message_id = 'po-vymazani@acme-stavby.cz'"), 0);
    assert_eq!(db(&format!("SELECT COUNT(*) FROM item_participants WHERE address = '{LUCIE}'")), 0);
    let (_, clean) = crate::common::terminate(&mut daemon);
    assert!(clean);
    assert!(env.json(&["search", "žaluzie"]).as_array().unwrap().is_empty());
}

/// On PostgreSQL the kept files are in the store (`files`), for every
/// node: an erasure deletes the person's there too, and mail the blocklist
/// refuses leaves none there (the prepare thread shares a batch's files
/// before the store refuses an item).
#[test]
fn on_postgresql_no_file_of_an_erased_or_blocked_person_stays_in_the_store() {
    let target = crate::common::stores::postgres_target();
    let store_section = format!(
        "\n[store]\nurl = \"{}\"\npassword_cmd = \"printf %s {}\"\nca_file = \"{}\"\n",
        target.url.replace(&format!("kronika:{}@", crate::common::postgres::PASSWORD), "kronika@"),
        crate::common::postgres::PASSWORD,
        target.ca_file.as_ref().unwrap().display()
    );
    let env = Env::with_config(&format!(
        "{}{store_section}",
        CONFIG.replace(
            "own_domains = [\"modrykamen.cz\"]",
            "own_domains = [\"modrykamen.cz\"]\nblocklist = [\"mama.svobodova@gmail.com\"]",
        )
    ));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    let out = env.ok(&["sync"]);
    assert!(!out.contains(" 0 blocked"), "the private mail is refused: {out}");
    let store = crate::common::stores::open(&target, kronika::matcher::Policy::default());
    let shared = || -> Vec<(String, Vec<u8>)> {
        store.db().query("SELECT hash, bytes FROM files", kronika::args![], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
    };
    assert!(shared().len() >= 10, "the originals and documents are in the store: {}", shared().len());
    for (hash, bytes) in shared() {
        assert!(!names(&bytes, "mama.svobodova@gmail.com"), "{hash} in the store keeps blocked mail");
    }
    assert!(shared().iter().any(|(_, b)| names(b, LUCIE)));

    env.ok(&["person", "forget", LUCIE, "--yes"]);
    for (hash, bytes) in shared() {
        if names(&bytes, LUCIE) {
            // Only a business document shared with others, its text redacted.
            let doc: i64 = store
                .db()
                .value(
                    "SELECT COUNT(*) FROM items WHERE kind = 'document' AND deleted_at IS NULL AND content_hash = ?1",
                    kronika::args![hash],
                )
                .unwrap()
                .unwrap_or(0);
            assert_eq!(doc, 1, "{hash} in the store still names her");
        }
    }
}
