//! Issue 15: upgrades. A database made by every earlier schema version
//! (`fixtures/datadirs/schema-N.sql`, dumped from the bundled example by the
//! kronika of that version; see its README) is opened by today's kronika,
//! migrated, and everything in it is found: items, links, clients, search.

use crate::common::{EXAMPLE_CONFIG, Env, fixtures};

/// Message-IDs every version stored from the example Maildir.
const MESSAGE_IDS: [&str; 3] = [
    "20260512094107.31337.1@mail.acme-stavby.cz",
    "20260520140531.a41f@modrykamen.cz",
    "000a01dcbb12$5f3e2a10$1dba7e30$@acme-stavby.cz",
];

fn count(db: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).and_then(|c| c.query_row(sql, [], |r| r.get(0))).unwrap()
}

/// The schema versions of the `schema-N.sql` files in `dir`, in order.
fn versions(dir: &std::path::Path) -> Vec<i64> {
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("schema-")?.strip_suffix(".sql")?.parse().ok()
        })
        .collect();
    versions.sort();
    versions
}

#[test]
fn a_store_of_every_earlier_schema_version_migrates_and_keeps_everything() {
    let dir = fixtures().join("datadirs");
    let versions = versions(&dir);
    assert_eq!(versions, (1..=21).collect::<Vec<_>>(), "a fixture for every earlier version");
    for n in versions {
        let env = Env::with_config(EXAMPLE_CONFIG);
        let db = env.path().join("data/kronika.sqlite3");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        {
            let c = rusqlite::Connection::open(&db).unwrap();
            c.execute_batch(&std::fs::read_to_string(dir.join(format!("schema-{n}.sql"))).unwrap()).unwrap();
            // `.dump` does not keep the version.
            c.pragma_update(None, "user_version", n).unwrap();
        }
        let before = |sql: &str| count(&db, sql);
        let (items, links, clients) = (
            before("SELECT COUNT(*) FROM items"),
            before("SELECT COUNT(*) FROM item_links"),
            before("SELECT COUNT(*) FROM clients"),
        );
        // Opening it migrates it.
        let stats = env.json(&["stats"]);
        let now: i64 = count(&db, "PRAGMA user_version");
        assert!(now > n, "schema {n} was migrated (now {now})");
        assert_eq!(stats["items"], items, "schema {n}: {stats}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM item_links"), links, "schema {n}: the links");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM clients"), clients, "schema {n}: the clients");
        for id in MESSAGE_IDS {
            assert_eq!(
                count(&db, &format!("SELECT COUNT(*) FROM items WHERE message_id = '{id}'")),
                1,
                "schema {n}: {id}"
            );
        }
        // Events stored before get their identities (migration 12), and
        // threads their last mails (20).
        let events = before("SELECT COUNT(*) FROM items WHERE kind = 'event'");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM events"), events, "schema {n}: event identities");
        let store = kronika::store::Store::open(&db, kronika::matcher::Policy::default()).unwrap();
        crate::common::stores::assert_thread_last_holds(&store, &format!("schema {n}"));
        assert!(count(&db, "SELECT COUNT(*) FROM thread_last") > 0, "schema {n}: threads");
        drop(store);
        // The index is built from the migrated store, and reads work.
        let hits = env.json(&["search", "klapky"]);
        assert_eq!(hits.as_array().map(|h| h.len()), Some(1), "schema {n}: search {hits}");
        let history = env.ok(&["history", "acme"]);
        assert!(history.contains("Příloha – cenová nabídka"), "schema {n}: {history}");
        let card = env.json(&["client", "show", "acme"]);
        assert!(card.to_string().contains("Acme"), "schema {n}: {card}");
        // And it takes new items.
        let eml = env.path().join("new.eml");
        std::fs::write(
            &eml,
            "From: Ing. Karel Horák <karel.horak@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Po upgradu\nMessage-ID: <po-upgradu@acme-stavby.cz>\nDate: Tue, 1 Dec 2026 10:00:00 +0100\n\nFunguje to.\n",
        )
        .unwrap();
        env.ok(&["import", "eml", eml.to_str().unwrap()]);
        assert_eq!(env.json(&["stats"])["items"], items + 1, "schema {n}: a new item is stored");
        assert!(env.ok(&["history", "acme"]).contains("Po upgradu"), "schema {n}");
    }
}

/// The same on PostgreSQL: a store made by the kronika of every earlier
/// schema version that had the PostgreSQL backend (13 to 21;
/// `fixtures/pgdumps/schema-N.sql`, `pg_dump`s of the bundled example,
/// see its README), loaded into a database of its own, is migrated by
/// today's kronika and keeps everything.
#[test]
fn a_postgresql_store_of_every_earlier_schema_version_migrates_and_keeps_everything() {
    use crate::common::postgres::{self, PASSWORD};
    let dir = fixtures().join("pgdumps");
    let versions = versions(&dir);
    assert_eq!(versions, (13..=21).collect::<Vec<_>>(), "a dump for every earlier PostgreSQL version");
    let cluster = postgres::cluster();
    for n in versions {
        let database = cluster.database();
        cluster
            .sql_file(&database.name, &dir.join(format!("schema-{n}.sql")))
            .unwrap_or_else(|e| panic!("schema {n}: cannot load the dump: {e}"));
        let count = |sql: &str| -> i64 {
            let out = cluster.sql(&database.name, sql).unwrap_or_else(|e| panic!("schema {n}: {sql}: {e}"));
            out.trim().parse().unwrap_or_else(|e| panic!("schema {n}: {sql}: {out:?}: {e}"))
        };
        let version = "SELECT version FROM schema_version WHERE id = 1";
        assert_eq!(count(version), n, "schema {n}: the dump's version");
        let (items, links, clients) = (
            count("SELECT COUNT(*) FROM items"),
            count("SELECT COUNT(*) FROM item_links"),
            count("SELECT COUNT(*) FROM clients"),
        );
        // Schema 13's PostgreSQL backend refused every write ("it needs
        // SQLite"): a store of that version holds the schema alone.
        let empty = n == 13;
        assert_eq!(items == 0, empty, "schema {n}: {items} items in the dump");
        let env = Env::with_config(&format!(
            "{EXAMPLE_CONFIG}\n[store]\nurl = \"{}\"\npassword_cmd = \"printf %s {PASSWORD}\"\nca_file = \"{}\"\n",
            database.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@"),
            cluster.certificate().display()
        ));
        // Opening it migrates it.
        let stats = env.json(&["stats"]);
        let now = count(version);
        assert!(now > n, "schema {n} was migrated (now {now})");
        assert_eq!(stats["items"], items, "schema {n}: {stats}");
        assert_eq!(count("SELECT COUNT(*) FROM items"), items, "schema {n}: the items");
        assert_eq!(count("SELECT COUNT(*) FROM item_links"), links, "schema {n}: the links");
        assert_eq!(count("SELECT COUNT(*) FROM clients"), clients, "schema {n}: the clients");
        let events = count("SELECT COUNT(*) FROM items WHERE kind = 'event'");
        assert_eq!(count("SELECT COUNT(*) FROM events"), events, "schema {n}: event identities");
        let store = crate::common::stores::open(
            &kronika::store::pg::PgTarget {
                url: database.url.clone(),
                password: None,
                schema: None,
                ca_file: Some(cluster.certificate()),
            },
            kronika::matcher::Policy::default(),
        );
        crate::common::stores::assert_thread_last_holds(&store, &format!("schema {n}"));
        assert_eq!(count("SELECT COUNT(*) FROM thread_last") > 0, !empty, "schema {n}: threads");
        drop(store);
        let eml = env.path().join("new.eml");
        std::fs::write(
            &eml,
            "From: Ing. Karel Horák <karel.horak@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Po upgradu\nMessage-ID: <po-upgradu@acme-stavby.cz>\nDate: Tue, 1 Dec 2026 10:00:00 +0100\n\nFunguje to.\n",
        )
        .unwrap();
        if empty {
            // The migrated empty store takes items.
            env.ok(&["import", "eml", eml.to_str().unwrap()]);
            assert_eq!(env.json(&["stats"])["items"], 1, "schema {n}: a new item is stored");
            continue;
        }
        for id in MESSAGE_IDS {
            assert_eq!(count(&format!("SELECT COUNT(*) FROM items WHERE message_id = '{id}'")), 1, "schema {n}: {id}");
        }
        // The index is built from the migrated store, and reads work.
        let hits = env.json(&["search", "klapky"]);
        assert_eq!(hits.as_array().map(|h| h.len()), Some(1), "schema {n}: search {hits}");
        let history = env.ok(&["history", "acme"]);
        assert!(history.contains("Příloha – cenová nabídka"), "schema {n}: {history}");
        let card = env.json(&["client", "show", "acme"]);
        assert!(card.to_string().contains("Acme"), "schema {n}: {card}");
        // And it takes new items.
        env.ok(&["import", "eml", eml.to_str().unwrap()]);
        assert_eq!(env.json(&["stats"])["items"], items + 1, "schema {n}: a new item is stored");
        assert!(env.ok(&["history", "acme"]).contains("Po upgradu"), "schema {n}");
    }
}
