//! `kronika store copy` (issue 19): a store with history, clients, deals,
//! users and documents moves from SQLite to PostgreSQL and back, and the
//! store that comes back is the one that left, row for row and file for
//! file. A copy into a store that holds history already is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::postgres::{self, PASSWORD};
use crate::common::{Env, copy_dir, files, fixtures};

const CONFIG: &str = r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "petr.dvorak@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[maildir]]
name = "mail"
path = "maildir"
"#;

/// Every table's rows as text (ids included: a copy keeps them), but the
/// leases (who runs what stays with the old store's daemons) and the
/// files table (SQLite keeps files in its folder).
fn all_rows(db: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('leases', 'files') AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for t in tables {
        let mut q = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = q.column_count();
        let rows: BTreeSet<String> = q
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join(" | "))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        out.insert(t, rows);
    }
    out
}

#[test]
fn a_store_moves_to_postgresql_and_back_whole() {
    let env = Env::with_config(CONFIG);
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env.ok(&["deal", "import", fixtures().join("deals.csv").to_str().unwrap()]);
    env.ok(&["sync"]);
    env.ok(&["document", "add", "acme", fixtures().join("documents/smlouva.odt").to_str().unwrap()]);
    let mut user = env.cmd(&["user", "add", "jana", "--email", "jana.svobodova@modrykamen.cz", "--password-stdin"]);
    user.write_stdin("heslo-pro-janu-2026\n").assert().success();
    let sqlite = env.path().join("data/kronika.sqlite3");
    let before = all_rows(&sqlite);
    assert!(before["items"].len() > 10 && !before["deals"].is_empty() && !before["users"].is_empty(), "{before:?}");
    let kept = files(&env.path().join("data/originals"));
    let documents = files(&env.path().join("data/documents"));
    assert!(!kept.is_empty());

    let cluster = postgres::cluster();
    let database = cluster.database();
    let cert = cluster.certificate();
    let out = env.ok(&["store", "copy", "--to", &database.url, "--ca-file", cert.to_str().unwrap()]);
    assert!(out.contains("counts and checksums agree"), "{out}");
    assert!(!out.contains(PASSWORD), "the password is shown: {out}");
    // Into a store that holds history already: refused, nothing touched.
    let again = env.fails(&["store", "copy", "--to", &database.url, "--ca-file", cert.to_str().unwrap()]);
    assert!(again.contains("copy into an empty one"), "{again}");

    // A second firm setup reads the PostgreSQL store, and copies it back
    // into an SQLite data folder of its own.
    let url = database.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@");
    let pg = Env::with_config(&format!(
        "data_dir = \"data\"\nown_domains = [\"modrykamen.cz\"]\n\n[store]\nurl = \"{url}\"\npassword_env = \"KRONIKA_TEST_PG\"\nca_file = \"{}\"\n",
        cert.display()
    ));
    let back = pg.path().join("back");
    let out = pg
        .cmd(&["store", "copy", "--to", back.to_str().unwrap(), "--json"])
        .env("KRONIKA_TEST_PG", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true);
    assert_eq!(report["files"].as_u64().unwrap() as usize, kept.len() + documents.len(), "{report}");
    let after = all_rows(&back.join("kronika.sqlite3"));
    for (table, rows) in &before {
        assert_eq!(after.get(table), Some(rows), "table {table} differs after the round trip");
    }
    assert_eq!(files(&back.join("originals")), kept);
    assert_eq!(files(&back.join("documents")), documents);
    // The copy of an SQLite store into SQLite is the backup's job.
    let refused = env.fails(&["store", "copy", "--to", back.to_str().unwrap()]);
    assert!(refused.contains("kronika backup"), "{refused}");
}
