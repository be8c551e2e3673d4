//! Faults of the shared store (issue 19), against a PostgreSQL cluster of
//! the test's own (the shared one serves tests running meanwhile): the
//! server restarted under a connection, and under two daemons that ingest.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use kronika::args;
use kronika::matcher::Policy;
use kronika::store::Store;
use kronika::store::pg::PgTarget;

use crate::common::postgres::{PASSWORD, Postgres};
use crate::common::{Env, wait_until};

fn target(cluster: &Postgres) -> PgTarget {
    let database = cluster.database();
    PgTarget { url: database.url, password: None, schema: None, ca_file: Some(cluster.certificate()) }
}

fn open(target: &PgTarget, cluster: &Postgres) -> Store {
    Store::open_postgres(target, Policy::default(), None)
        .unwrap_or_else(|e| panic!("cannot open a PostgreSQL store: {e}\n{}", cluster.log_tail()))
}

/// The connection opens itself again after the server restarted: a read
/// is asked again at once, a write fails once (it may have been done) and
/// works after, and a transaction the restart cut fails as a whole, with
/// nothing of it stored and nothing after it run outside a transaction.
#[test]
fn a_connection_comes_back_after_the_server_restarts() {
    let cluster = Postgres::private();
    let target = target(&cluster);
    let store = open(&target, &cluster);
    let db = store.db();
    db.batch("CREATE TABLE t (n BIGINT PRIMARY KEY)").unwrap();
    db.execute("INSERT INTO t (n) VALUES (1)", args![]).unwrap();

    cluster.stop();
    // While the server is away: a clear error, at once, and again later.
    let err = db.value::<i64>("SELECT COUNT(*) FROM t", args![]).unwrap_err();
    assert!(err.is_disconnected(), "{err}");
    assert!(err.to_string().starts_with("cannot reach PostgreSQL"), "{err}");
    cluster.start_again();

    // A read works on a new connection (perhaps after the backoff of the
    // attempt made while the server was away).
    let read = wait_until(Duration::from_secs(10), || db.value::<i64>("SELECT COUNT(*) FROM t", args![]).is_ok());
    assert!(read, "the connection did not come back");
    assert_eq!(db.value::<i64>("SELECT COUNT(*) FROM t", args![]).unwrap(), Some(1));
    let state = kronika::store::db::link_state();
    assert!(state.reconnects >= 1, "{state:?}");

    // A transaction cut by a restart: its statements fail, its commit
    // fails, nothing of it is stored, and the next one works.
    let tx = db.begin().unwrap();
    tx.execute("INSERT INTO t (n) VALUES (2)", args![]).unwrap();
    cluster.stop();
    cluster.start_again();
    assert!(tx.execute("INSERT INTO t (n) VALUES (3)", args![]).is_err(), "a statement ran after its transaction died");
    assert!(tx.commit().is_err(), "a transaction cut by the restart committed");
    let counted = wait_until(Duration::from_secs(10), || db.value::<i64>("SELECT COUNT(*) FROM t", args![]).is_ok());
    assert!(counted);
    assert_eq!(db.value::<i64>("SELECT COUNT(*) FROM t", args![]).unwrap(), Some(1), "half a transaction stored");
    let tx = db.begin().unwrap();
    tx.execute("INSERT INTO t (n) VALUES (4)", args![]).unwrap();
    tx.commit().unwrap();
    assert_eq!(db.value::<i64>("SELECT MAX(n) FROM t", args![]).unwrap(), Some(4));
}

fn node(name: &str, target: &PgTarget, maildir: &Path) -> Env {
    let url = target.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@");
    let cert = target.ca_file.clone().unwrap_or_default();
    let maildir = crate::common::stores::maildir_section(&format!("mail-{name}"), maildir);
    crate::common::stores::node_env(name, &url, &cert, &maildir)
}

fn mail(node: &str, n: usize) -> String {
    format!(
        "From: Lucie Malá <lucie.mala@acme-stavby.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\n\
         Subject: Objednávka {node}-{n}\r\nMessage-ID: <restart-{node}-{n}@example.test>\r\n\
         Date: Tue, 1 Dec 2026 10:{:02}:00 +0100\r\n\r\nDobrý den, objednáváme položku {n}.\r\n",
        n % 60
    )
}

/// PostgreSQL stopped and started again while two daemons (each with a
/// mailbox of its own) ingest a steady stream of new mail: both keep
/// running, open their connections again, say so in `status`, and in the
/// end every message is stored exactly once, with no half-written batch.
#[test]
fn postgresql_restarted_while_two_daemons_ingest() {
    let cluster = Postgres::private();
    let target = target(&cluster);
    let dirs = tempfile::tempdir().unwrap();
    let boxes: Vec<_> = ["a", "b"]
        .iter()
        .map(|n| {
            let m = dirs.path().join(format!("maildir-{n}"));
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(m.join(sub)).unwrap();
            }
            m
        })
        .collect();
    let (a, b) = (node("a", &target, &boxes[0]), node("b", &target, &boxes[1]));
    a.ok(&["client", "add", "ACME Stavby s.r.o.", "--domain", "acme-stavby.cz"]);
    let store = open(&target, &cluster);
    let logs = dirs.path();
    let log_of = |name: &str| std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap_or_default();
    let mut daemons = [a.spawn_logged(&["run"], &logs.join("a.log")), b.spawn_logged(&["run"], &logs.join("b.log"))];

    // Mail keeps arriving in both mailboxes, before, during and after the outage.
    let stop = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let count = |sql: &str| store.db().value::<i64>(sql, args![]).ok().flatten().unwrap_or(-1);
    let stored = "SELECT COUNT(DISTINCT message_id) FROM items WHERE message_id LIKE 'restart-%'";
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                for (name, dir) in ["a", "b"].iter().zip(&boxes) {
                    let tmp = dir.join(format!("tmp/{n}.{name}.restart"));
                    std::fs::write(&tmp, mail(name, n)).unwrap();
                    std::fs::rename(&tmp, dir.join(format!("new/{}.M{n}.{name}.restart", 1796600000 + n))).unwrap();
                }
                n += 1;
                written.store(2 * n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(40));
            }
        });
        let started = wait_until(Duration::from_secs(60), || count(stored) >= 20);
        assert!(started, "the daemons stored nothing\n{}\n{}", log_of("a"), log_of("b"));
        cluster.stop();
        std::thread::sleep(Duration::from_secs(3));
        cluster.start_again();
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
    });
    let total = written.load(Ordering::Relaxed) as i64;
    let all = wait_until(Duration::from_secs(60), || count(stored) == total);
    assert!(all, "{} of {total} messages stored\n{}\n{}", count(stored), log_of("a"), log_of("b"));
    for (i, d) in daemons.iter_mut().enumerate() {
        assert!(d.try_wait().unwrap().is_none(), "daemon {i} ended\n{}\n{}", log_of("a"), log_of("b"));
    }

    // Exactly once, and whole: every item has its source and its link.
    assert_eq!(count("SELECT COUNT(*) FROM items WHERE message_id LIKE 'restart-%'"), total, "stored twice");
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT source, key FROM item_sources GROUP BY source, key HAVING COUNT(*) > 1) d"),
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM items i WHERE i.message_id LIKE 'restart-%'
             AND (NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.item_id = i.id)
               OR NOT EXISTS (SELECT 1 FROM item_links l WHERE l.item_id = i.id)
               OR NOT EXISTS (SELECT 1 FROM item_participants p WHERE p.item_id = i.id))"
        ),
        0,
        "a half-written batch"
    );

    // Status, read on either node, says both lost the store and came back.
    let said = wait_until(Duration::from_secs(15), || {
        let links = a.json(&["status"])["store_links"].clone();
        let links = links.as_array().cloned().unwrap_or_default();
        links.len() == 2
            && links.iter().all(|l| {
                l["state"].as_str().is_some_and(|s| s.starts_with("connected ("))
                    && l["last_error"].as_str().is_some_and(|e| e.contains("reconnected"))
            })
    });
    assert!(said, "status does not tell of the outage: {}", a.json(&["status"]));
    let text = b.ok(&["status"]);
    assert!(text.contains("store seen from node a: connected ("), "{text}");
    for d in daemons.iter_mut() {
        let _ = crate::common::terminate(d);
    }
}

/// A daemon killed with SIGKILL in the middle of an IMAP first sync from
/// the private Dovecot: the other node takes the account over once the
/// lease runs out, resumes from the stored cursor, and afterwards every
/// server UID is stored exactly once.
#[test]
fn an_imap_first_sync_killed_on_one_node_is_finished_by_the_other() {
    use crate::common::dovecot::Dovecot;
    let dovecot = Dovecot::start();
    let total = 2000;
    for n in 0..total {
        let raw = format!(
            "From: Karel Horák <karel.horak@acme-stavby.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\n\
             Subject: Hromadná {n}\r\nMessage-ID: <bulk-{n}@acme-stavby.cz>\r\n\
             Date: Fri, 27 Nov 2026 08:{:02}:00 +0100\r\n\r\nDobrý den, zpráva číslo {n}.\r\n",
            n % 60
        );
        if n == 0 {
            // The first by APPEND (Dovecot makes the Maildir at the login),
            // the rest as files, which Dovecot numbers when it looks.
            dovecot.append("alice", "INBOX", raw.as_bytes());
        } else {
            let inbox = dovecot.maildir("alice");
            std::fs::write(inbox.join(format!("tmp/{n}.bulk")), &raw).unwrap();
            std::fs::rename(
                inbox.join(format!("tmp/{n}.bulk")),
                inbox.join(format!("new/{}.M{n}.bulk", 1796600000 + n)),
            )
            .unwrap();
        }
    }
    let cluster = crate::common::postgres::cluster();
    let target = PgTarget { ca_file: Some(cluster.certificate()), ..crate::common::stores::postgres_target() };
    let url = target.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@");
    let imap = format!(
        "[[imap]]\nname = \"work\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"alice\"\n\
         password_cmd = \"echo secret\"\nmailboxes = [\"INBOX\"]\ntimeout = \"10s\"",
        dovecot.port()
    );
    let cert = cluster.certificate();
    let (a, b) = (
        crate::common::stores::node_env("a", &url, &cert, &imap),
        crate::common::stores::node_env("b", &url, &cert, &imap),
    );
    a.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    let store = crate::common::stores::open(&target, Policy::default());
    let count = |sql: &str| store.db().value::<i64>(sql, args![]).ok().flatten().unwrap_or(-1);
    let stored = "SELECT COUNT(*) FROM item_sources WHERE source LIKE 'imap:%'";
    let logs = tempfile::tempdir().unwrap();
    let log_of = |name: &str| std::fs::read_to_string(logs.path().join(format!("{name}.log"))).unwrap_or_default();
    let mut daemons =
        [a.spawn_logged(&["run"], &logs.path().join("a.log")), b.spawn_logged(&["run"], &logs.path().join("b.log"))];

    // Kill the node that syncs once some batches are stored.
    let started = wait_until(Duration::from_secs(60), || count(stored) > 0);
    assert!(started, "nothing stored\n{}\n{}", log_of("a"), log_of("b"));
    let leases = store.leases().unwrap();
    let owner = leases.iter().find(|l| l.name == "work" && l.expires_in > 0).map(|l| l.node.clone());
    let runner = if owner.as_deref() == Some("b") { 1 } else { 0 };
    // SAFETY: killing our own child.
    unsafe { libc::kill(daemons[runner].id() as libc::pid_t, libc::SIGKILL) };
    let _ = daemons[runner].wait();
    let partial = count(stored);
    assert!(partial < total, "the first sync was over before the kill ({partial} stored): the test proves nothing");

    let all = wait_until(Duration::from_secs(90), || count(stored) >= total);
    let other = if runner == 0 { "b" } else { "a" };
    assert!(all, "{} of {total} stored after the takeover\n{}", count(stored), log_of(other));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count(stored), total, "a UID stored twice");
    assert_eq!(
        count("SELECT COUNT(DISTINCT key) FROM item_sources WHERE source LIKE 'imap:%'"),
        total,
        "a UID stored twice"
    );
    assert_eq!(count("SELECT COUNT(DISTINCT message_id) FROM items WHERE message_id LIKE 'bulk-%'"), total);
    assert_eq!(count("SELECT COUNT(*) FROM items WHERE message_id LIKE 'bulk-%'"), total, "a message stored twice");
    let st = dovecot.status("alice", "INBOX");
    let uids: Vec<i64> = store
        .db()
        .query("SELECT key FROM item_sources WHERE source LIKE 'imap:%'", args![], |r| r.get::<String>(0))
        .unwrap()
        .iter()
        .filter_map(|k| k.split('/').nth(1)?.parse().ok())
        .collect();
    let distinct: std::collections::BTreeSet<i64> = uids.iter().copied().collect();
    assert_eq!(distinct.len() as i64, total, "every server UID once");
    assert_eq!(distinct.iter().next_back().copied(), Some(i64::from(st.uidnext) - 1));
    assert!(log_of(other).contains("runs it"), "{}", log_of(other));
    for d in daemons.iter_mut() {
        let _ = crate::common::terminate(d);
    }
}
