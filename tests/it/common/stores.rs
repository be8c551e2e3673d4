//! The store on each backend, for tests that must hold on both (issue 19):
//! SQLite in memory, then PostgreSQL in a database of its own on the run's
//! private cluster ([`super::postgres`]).
#![allow(dead_code)]

use kronika::matcher::Policy;
use kronika::store::Store;
use kronika::store::pg::PgTarget;

use super::postgres;

/// Which backend a store of [`each`] is on, for assertion messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL store with `policy`, in a database no other test uses.
pub fn postgres(policy: Policy) -> Store {
    open(&postgres_target(), policy)
}

/// A database no other test uses, to open stores in (several connections
/// to one store, as several daemons have).
pub fn postgres_target() -> PgTarget {
    let database = postgres::cluster().database();
    PgTarget {
        url: database.url.clone(),
        password: None,
        schema: None,
        ca_file: Some(postgres::cluster().certificate()),
    }
}

/// The store in `target`.
pub fn open(target: &PgTarget, policy: Policy) -> Store {
    Store::open_postgres(target, policy, None)
        .unwrap_or_else(|e| panic!("cannot open a PostgreSQL store: {e}\n{}", postgres::cluster().log_tail()))
}

/// Runs `test` on a fresh store of each backend, SQLite first.
pub fn each(policy: Policy, mut test: impl FnMut(Backend, Store)) {
    test(Backend::Sqlite, Store::open_in_memory(policy.clone()).expect("cannot open an SQLite store in memory"));
    test(Backend::Postgres, postgres(policy));
}

/// A node of a firm on PostgreSQL at `url` (its password from
/// `password_cmd`, the server's certificate trusted), with a lease of 4 s
/// and `sources` (TOML sections).
pub fn node_env(name: &str, url: &str, cert: &std::path::Path, sources: &str) -> crate::common::Env {
    firm_env(name, url, cert, None, sources)
}

/// [`node_env`] of the firm kept in PostgreSQL schema `schema`.
pub fn firm_env(
    name: &str,
    url: &str,
    cert: &std::path::Path,
    schema: Option<&str>,
    sources: &str,
) -> crate::common::Env {
    let schema = schema.map(|s| format!("schema = \"{s}\"")).unwrap_or_default();
    crate::common::Env::with_config(&format!(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "petr.dvorak@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[node]
name = "{name}"
lease = "4s"

[store]
url = "{url}"
password_cmd = "printf %s {password}"
ca_file = "{cert}"
{schema}

{sources}
"#,
        password = postgres::PASSWORD,
        cert = cert.display(),
    ))
}

/// A `[[maildir]]` section named `name` for the Maildir at `path`.
pub fn maildir_section(name: &str, path: &std::path::Path) -> String {
    format!("[[maildir]]\nname = \"{name}\"\npath = \"{}\"", path.display())
}

/// `thread_last` (kept by the items' triggers, migration 20) holds, for
/// every thread with a live mail, its last one (by date, then id) and
/// whether it waits (came in, no invitation), and nothing else: recomputed
/// here from the items, in Rust.
pub fn assert_thread_last_holds(s: &Store, what: &str) {
    use std::collections::BTreeMap;
    let mails: Vec<(i64, i64, String, String, String)> = s
        .db()
        .query(
            "SELECT thread_id, id, date, direction, extra FROM items
             WHERE kind = 'email' AND deleted_at IS NULL AND thread_id IS NOT NULL",
            kronika::args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let mut want: BTreeMap<i64, (i64, String, i64)> = BTreeMap::new();
    for (thread, id, date, direction, extra) in mails {
        let later = want.get(&thread).is_none_or(|(i, d, _)| (&date, id) > (d, *i));
        if later {
            let invitation = serde_json::from_str::<serde_json::Value>(&extra)
                .ok()
                .is_some_and(|e| e.get("invitation").is_some_and(|v| !v.is_null()));
            want.insert(thread, (id, date, i64::from(direction == "in" && !invitation)));
        }
    }
    let got: BTreeMap<i64, (i64, String, i64)> = s
        .db()
        .query("SELECT thread_id, item_id, date, waiting FROM thread_last", kronika::args![], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(got, want, "{what}: thread_last against the items");
}
