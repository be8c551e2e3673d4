//! Issue 15: backups taken while the daemon ingests, restored into an
//! empty data folder, hold everything the snapshot held; the restored
//! store resumes its sources from the backed-up cursors and ends equal to
//! the original.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{Env, copy_dir, files, fixtures, terminate, wait_until};

const CONFIG: &str = r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[maildir]]
name = "mail"
path = "maildir"
"#;

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).and_then(|c| c.query_row(sql, [], |r| r.get(0))).unwrap_or(-1)
}

/// Rows of `sql` as strings, for comparing two stores (ids left out: a
/// restored store that resumes gives new items their own ids).
fn rows(db: &Path, sql: &str) -> BTreeSet<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut q = c.prepare(sql).unwrap();
    let n = q.column_count();
    q.query_map([], |r| {
        let cols: Vec<String> =
            (0..n).map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap())).collect();
        Ok(cols.join(" | "))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// What both stores must agree on, table by table.
fn contents(db: &Path) -> BTreeMap<&'static str, BTreeSet<String>> {
    let q: [(&str, &str); 6] = [
        ("items", "SELECT kind, message_id, date, direction, subject, body, content_hash, size, deleted_at FROM items"),
        (
            "links",
            "SELECT i.message_id, c.name, k.name, l.reason FROM item_links l JOIN items i ON i.id = l.item_id
             JOIN clients c ON c.id = l.client_id LEFT JOIN contacts k ON k.id = l.contact_id",
        ),
        ("sources", "SELECT s.source, s.key, i.message_id FROM item_sources s JOIN items i ON i.id = s.item_id"),
        (
            "deals",
            "SELECT c.name, d.title, d.value, d.currency, d.status, d.date, d.number FROM deals d JOIN clients c ON c.id = d.client_id",
        ),
        (
            "attachments",
            "SELECT i.message_id, a.name, a.mime, a.size, a.content_hash FROM item_attachments a JOIN items i ON i.id = a.item_id",
        ),
        ("contacts", "SELECT c.name, k.name FROM contacts k JOIN clients c ON c.id = k.client_id"),
    ];
    q.into_iter().map(|(name, sql)| (name, rows(db, sql))).collect()
}

fn message(n: usize) -> String {
    format!(
        "From: Lucie Malá <lucie.mala@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Dodávka č. {n}\n\
         Message-ID: <dodavka-{n}@acme-stavby.cz>\nDate: Mon, 30 Nov 2026 09:{:02}:00 +0100\n\n\
         Dobrý den, posíláme rozpis dodávky číslo {n} lešení a podpěr.\n",
        n % 60
    )
}

#[test]
fn a_backup_taken_while_the_daemon_ingests_restores_whole_and_resumes() {
    let env = Env::with_config(CONFIG);
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env.ok(&["deal", "import", fixtures().join("deals.csv").to_str().unwrap()]);
    let db = env.path().join("data/kronika.sqlite3");
    let mut daemon = env.spawn(&["run"]);
    assert!(wait_until(Duration::from_secs(30), || count(&db, "SELECT COUNT(*) FROM items WHERE kind = 'email'") >= 20));

    // Mail keeps arriving while the backups are taken.
    let stop = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicUsize::new(0));
    let deliverer = {
        let (stop, delivered, maildir) = (stop.clone(), delivered.clone(), env.path().join("maildir"));
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 20_000 {
                let tmp = maildir.join(format!("tmp/{n}.backup.host"));
                std::fs::write(&tmp, message(n)).unwrap();
                std::fs::rename(&tmp, maildir.join(format!("new/{n}.backup.host"))).unwrap();
                n += 1;
                delivered.store(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // The daemon has stored some of it (on a loaded machine that takes a while).
    let deliveries = "SELECT COUNT(*) FROM items WHERE message_id LIKE 'dodavka-%'";
    assert!(wait_until(Duration::from_secs(30), || count(&db, deliveries) >= 5), "the daemon stores arriving mail");
    let backups = env.path().join("backups");
    let out = env.ok(&["backup", backups.join("one").to_str().unwrap()]);
    assert!(out.contains("backed up into") && out.contains("items"), "{out}");
    let manifest = env.json(&["backup", backups.join("two").to_str().unwrap()]);
    stop.store(true, Ordering::SeqCst);
    deliverer.join().unwrap();
    let sent = delivered.load(Ordering::SeqCst) as i64;
    assert!(wait_until(Duration::from_secs(30), || count(&db, deliveries) == sent), "all delivered mail stored");
    let (_, clean) = terminate(&mut daemon);
    assert!(clean, "the daemon stops cleanly");
    let in_snapshot = count(&backups.join("two/kronika.sqlite3"), deliveries);
    assert!(in_snapshot > 0 && in_snapshot < sent, "the backup was taken during ingestion: {in_snapshot} of {sent}");

    // A backup never overwrites, and a cut-short one leaves no folder.
    let again = env.fails(&["backup", backups.join("one").to_str().unwrap()]);
    assert!(again.contains("cannot back up") && again.contains("not empty"), "{again}");
    assert!(!backups.join("one.partial").exists() && !backups.join("two.partial").exists());
    // The index is left out; the database, documents and originals are in.
    assert!(!backups.join("two/index").exists());
    assert!(backups.join("two/kronika.sqlite3").is_file() && backups.join("two/documents").is_dir());
    let snap_items = manifest["items"].as_i64().unwrap();
    assert_eq!(count(&backups.join("two/kronika.sqlite3"), "SELECT COUNT(*) FROM items"), snap_items);

    // Restore into an empty data folder of a second config.
    // The same Maildir, by the path the original's source knows it by.
    let canonical = std::fs::canonicalize(env.path().join("maildir")).unwrap();
    let restored = Env::with_config(
        &CONFIG
            .replace("data_dir = \"data\"", "data_dir = \"restored\"")
            .replace("path = \"maildir\"", &format!("path = {:?}", canonical.display().to_string())),
    );
    let rdb = restored.path().join("restored/kronika.sqlite3");
    let out = restored.ok(&["restore", backups.join("two").to_str().unwrap()]);
    assert!(out.contains("restored") && out.contains("index is rebuilt"), "{out}");
    assert_eq!(count(&rdb, "SELECT COUNT(*) FROM items"), snap_items);
    // Everything the snapshot held is in the original, unchanged.
    let original = contents(&db);
    for (table, rows) in contents(&rdb) {
        let missing: Vec<&String> = rows.difference(&original[table]).collect();
        assert!(missing.is_empty(), "{table}: restored rows not in the original: {missing:?}");
    }
    let (orig_docs, rest_docs) =
        (files(&env.path().join("data/documents")), files(&restored.path().join("restored/documents")));
    assert!(!rest_docs.is_empty(), "the example's documents are in the backup");
    for (name, bytes) in &rest_docs {
        assert_eq!(orig_docs.get(name), Some(bytes), "document {name}");
    }
    // A second restore into the same, now full, folder is refused.
    let refused = restored.fails(&["restore", backups.join("one").to_str().unwrap()]);
    assert!(refused.contains("not empty"), "{refused}");
    // Not a backup: named.
    let not = restored.fails(&["restore", env.path().join("maildir").to_str().unwrap()]);
    assert!(not.contains("cannot restore") && not.contains("kronika backup"), "{not}");

    // The restored store resumes the same Maildir from its cursors: what
    // came after the snapshot comes in, nothing twice.
    restored.ok(&["sync"]);
    assert_eq!(contents(&rdb), original, "the restored store, resumed, equals the original");
    // And its index was rebuilt from the store.
    let hits = restored.json(&["search", "dodávky"]);
    assert!(hits.as_array().is_some_and(|h| !h.is_empty()), "{hits}");
}

#[test]
fn a_store_from_a_newer_kronika_is_refused_and_left_alone() {
    let env = Env::with_config(CONFIG);
    env.ok(&["stats"]);
    let db = env.path().join("data/kronika.sqlite3");
    let c = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    c.pragma_update(None, "user_version", v + 1).unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    let err = env.fails(&["stats"]);
    assert!(err.contains("newer than this kronika knows") && err.contains("upgrade kronika"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is not touched");
    // Its backup is refused at restore too.
    let backup = env.path().join("b");
    let out = env.fails(&["backup", backup.to_str().unwrap()]);
    assert!(out.contains("newer than this kronika knows"), "{out}");
}

#[test]
fn the_daemon_backs_up_on_schedule_and_keeps_the_newest() {
    let env = Env::with_config(&format!("{CONFIG}\n[backup]\ndir = \"backups\"\nevery = \"1m\"\nkeep = 2\n"));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    // Two older backups there already: the daemon's first one is due at
    // once (the newest is over a minute old) and the oldest goes.
    env.ok(&["sync"]);
    let backups = env.path().join("backups");
    env.ok(&["backup", backups.join("kronika-20261201T020000Z").to_str().unwrap()]);
    env.ok(&["backup", backups.join("kronika-20261202T020000Z").to_str().unwrap()]);
    let mut daemon = env.spawn(&["run"]);
    let names = || -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(&backups)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    assert!(
        wait_until(Duration::from_secs(20), || {
            let n = names();
            n.len() == 2 && n[0] == "kronika-20261202T020000Z" && !n[1].ends_with(".partial")
        }),
        "{:?}",
        names()
    );
    let newest = backups.join(&names()[1]);
    // Linked to the previous one where the files are the same.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(newest.join("kronika-backup.json")).unwrap()).unwrap();
    assert!(manifest["items"].as_i64().unwrap() > 20 && manifest["format"] == 1, "{manifest}");
    assert!(manifest["linked"].as_u64().unwrap() > 0, "files the previous backup holds are linked: {manifest}");
    assert!(
        wait_until(Duration::from_secs(10), || env.json(&["status"])["backup"]["state"] == "ok"),
        "the backup shows in status"
    );
    let (_, clean) = terminate(&mut daemon);
    assert!(clean);
}

#[test]
fn a_bad_backup_section_is_named() {
    let env = Env::with_config(&format!("{CONFIG}\n[backup]\ndir = \"b\"\nkeep = 0\n"));
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("backup.keep") && err.contains("1 to 10000"), "{err}");
    let env = Env::with_config(&format!("{CONFIG}\n[backup]\nevery = \"1d\"\n"));
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("backup.dir") && err.contains("missing"), "{err}");
    let env = Env::with_config(&format!("{CONFIG}\n[backup]\ndir = \"b\"\nevery = \"often\"\n"));
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("backup.every"), "{err}");
}
