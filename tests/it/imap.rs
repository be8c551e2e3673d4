//! IMAP against a real, private Dovecot (started per test on free ports):
//! first and incremental sync, resume after kill -9, UIDVALIDITY reset,
//! expunges, INBOX and Sent, wrong password, TLS, and the daemon with IDLE
//! through kicks and server restarts.

use std::time::{Duration, Instant};

use crate::common::Env;
use crate::common::dovecot::Dovecot;

/// A client message from Acme (or to it, from us when `out`).
fn message(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Karel Horák <karel.horak@acme-stavby.cz>\r\nTo: Jana Svobodová <jana.svobodova@modrykamen.cz>\r\nSubject: {subject}\r\nMessage-ID: <msg-{n}@acme-stavby.cz>\r\nDate: Fri, 27 Nov 2026 08:{:02}:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDobrý den, zpráva číslo {n}: {subject}.\r\n",
        n % 60
    )
    .into_bytes()
}

fn outgoing(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Jana Svobodová <jana.svobodova@modrykamen.cz>\r\nTo: Karel Horák <karel.horak@acme-stavby.cz>\r\nSubject: {subject}\r\nMessage-ID: <out-{n}@modrykamen.cz>\r\nDate: Fri, 27 Nov 2026 09:{:02}:00 +0100\r\n\r\nOdpověď číslo {n}.\r\n",
        n % 60
    )
    .into_bytes()
}

fn env_for(dovecot: &Dovecot, extra: &str) -> Env {
    let env = Env::with_config(&format!(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[imap]]
name = "work"
host = "127.0.0.1"
port = {}
tls = "none"
username = "alice"
password_cmd = "echo secret"
poll_interval = "30s"
timeout = "10s"
{extra}
"#,
        dovecot.port()
    ));
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    env
}

fn item_count(env: &Env) -> i64 {
    env.json(&["stats"])["items"].as_i64().unwrap()
}

/// (UIDVALIDITY/UID keys, items) the store holds for a mailbox.
fn stored_keys(env: &Env, mailbox: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(env.path().join("data/kronika.sqlite3")).unwrap();
    let mut stmt =
        conn.prepare("SELECT key FROM item_sources WHERE source = ?1 AND gone_at IS NULL ORDER BY key").unwrap();
    stmt.query_map([format!("imap:work/{mailbox}")], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn duplicate_message_ids(env: &Env) -> i64 {
    let conn = rusqlite::Connection::open(env.path().join("data/kronika.sqlite3")).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM (SELECT message_id FROM items GROUP BY message_id HAVING COUNT(*) > 1)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn first_and_incremental_sync_with_inbox_and_sent() {
    let dovecot = Dovecot::start();
    for n in 0..3 {
        dovecot.append("alice", "INBOX", &message(n, "Poptávka"));
    }
    dovecot.append("alice", "Sent", &outgoing(0, "Re: Poptávka"));
    // The same message filed in INBOX and Sent (cc to self) is one item.
    dovecot.append("alice", "INBOX", &outgoing(0, "Re: Poptávka"));
    let env = env_for(&dovecot, "");
    let out = env.ok(&["sync"]);
    assert!(out.contains("4 new, 1 duplicate"), "{out}");
    assert_eq!(item_count(&env), 4);
    // Sent is found through SPECIAL-USE and its mail is outgoing.
    let out_items = env.json(&["search", "", "--direction", "out"]);
    assert_eq!(out_items.as_array().unwrap().len(), 1, "{out_items}");
    assert_eq!(env.json(&["history", "acme"]).as_array().unwrap().len(), 4);

    for n in 3..5 {
        dovecot.append("alice", "INBOX", &message(n, "Objednávka"));
    }
    let out = env.ok(&["sync"]);
    assert!(out.contains("2 new"), "{out}");
    let again = env.ok(&["sync"]);
    assert!(again.contains("0 new"), "{again}");
    assert_eq!(item_count(&env), 6);
    assert!(!env.json(&["search", "objednavka"]).as_array().unwrap().is_empty());
    // Read-only: nothing was marked seen on the server.
    let st = dovecot.status("alice", "INBOX");
    assert_eq!(st.messages, 6);
    let status = env.json(&["status"]);
    assert_eq!(status["sources"][0]["state"], "ok", "{status}");
}

#[test]
fn expunged_messages_stay_in_the_history() {
    let dovecot = Dovecot::start();
    let uids: Vec<u32> = (0..3).map(|n| dovecot.append("alice", "INBOX", &message(n, "Servis"))).collect();
    let env = env_for(&dovecot, "mailboxes = [\"INBOX\"]");
    env.ok(&["sync"]);
    dovecot.expunge("alice", "INBOX", uids[1]);
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 gone"), "{out}");
    assert_eq!(item_count(&env), 3, "the history is a record");
    assert_eq!(stored_keys(&env, "INBOX").len(), 2);
    let hits = env.json(&["search", "Servis"]);
    let gone: Vec<String> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| env.json(&["show", &h["id"].to_string()])["sources"].to_string())
        .filter(|s| s.contains("(gone)"))
        .collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
}

#[test]
fn uidvalidity_reset_refetches_without_duplicates() {
    let mut dovecot = Dovecot::start();
    for n in 0..4 {
        dovecot.append("alice", "INBOX", &message(n, "Smlouva"));
    }
    let env = env_for(&dovecot, "mailboxes = [\"INBOX\"]");
    env.ok(&["sync"]);
    let before = dovecot.status("alice", "INBOX").uidvalidity;
    let after = dovecot.reset_uidvalidity("alice", "INBOX");
    assert_ne!(before, after);
    dovecot.append("alice", "INBOX", &message(99, "Dodatek"));
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 new, 4 duplicate"), "{out}");
    assert_eq!(item_count(&env), 5);
    assert_eq!(duplicate_message_ids(&env), 0);
    // Every key now carries the new UIDVALIDITY.
    let keys = stored_keys(&env, "INBOX");
    assert_eq!(keys.len(), 5);
    assert!(keys.iter().all(|k| k.starts_with(&format!("{after}/"))), "{keys:?}");
}

#[test]
fn wrong_password_is_reported_clearly_and_never_printed() {
    let dovecot = Dovecot::start();
    let env = Env::with_config(&format!(
        "data_dir = \"data\"\n[[imap]]\nname = \"work\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"alice\"\npassword_cmd = \"echo hunter2-wrong\"\n",
        dovecot.port()
    ));
    let out = env.cmd(&["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot log in to IMAP account work"), "{err}");
    assert!(err.to_lowercase().contains("authentication failed"), "the server's words: {err}");
    assert!(!err.contains("hunter2"), "the password never reaches the output: {err}");
    let status = env.json(&["status"]);
    assert!(status["sources"][0]["last_error"].as_str().unwrap().contains("cannot log in"), "{status}");
}

#[test]
fn server_down_is_a_clear_error() {
    let mut dovecot = Dovecot::start();
    let env = env_for(&dovecot, "");
    dovecot.stop();
    let out = env.cmd(&["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read IMAP account work") && err.contains("connect"), "{err}");
}

#[test]
fn tls_implicit_and_starttls_with_an_extra_ca() {
    let dovecot = Dovecot::start();
    dovecot.append("alice", "INBOX", &message(1, "TLS"));
    let ca = dovecot.ca_cert();
    for (port, mode) in [(dovecot.tls_port(), "implicit"), (dovecot.port(), "starttls")] {
        let env = Env::with_config(&format!(
            "data_dir = \"data\"\n[[imap]]\nname = \"work\"\nhost = \"localhost\"\nport = {port}\ntls = \"{mode}\"\nusername = \"alice\"\npassword_env = \"KRONIKA_TEST_PW\"\nca_file = {:?}\nmailboxes = [\"INBOX\"]\n",
            ca.display().to_string()
        ));
        let out = env.cmd(&["sync"]).env("KRONIKA_TEST_PW", "secret").output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 new"),
            "{mode}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Without the CA, the self-signed certificate is refused.
        let env = Env::with_config(&format!(
            "data_dir = \"data\"\n[[imap]]\nname = \"work\"\nhost = \"localhost\"\nport = {port}\ntls = \"{mode}\"\nusername = \"alice\"\npassword_env = \"KRONIKA_TEST_PW\"\n"
        ));
        let out = env.cmd(&["sync"]).env("KRONIKA_TEST_PW", "secret").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("TLS"), "{mode}: {err}");
    }
}

#[test]
fn a_first_sync_killed_halfway_resumes_without_loss_or_duplicates() {
    let dovecot = Dovecot::start();
    let total = 1500;
    for n in 0..total {
        dovecot.append("alice", "INBOX", &message(n, "Hromadná"));
    }
    let env = env_for(&dovecot, "mailboxes = [\"INBOX\"]");
    let mut child = env.spawn(&["sync"]);
    let db = env.path().join("data/kronika.sqlite3");
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: killing our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
    let partial = count();
    assert!(partial > 0, "some batches landed before the kill");
    let out = env.ok(&["sync"]);
    assert!(out.contains("new"), "{out}");
    assert_eq!(count(), total as i64, "nothing lost");
    assert_eq!(duplicate_message_ids(&env), 0, "nothing twice");
    // The server's UID list and the store's keys agree.
    let st = dovecot.status("alice", "INBOX");
    let keys = stored_keys(&env, "INBOX");
    assert_eq!(keys.len(), total);
    let uids: std::collections::BTreeSet<u32> =
        keys.iter().map(|k| k.split('/').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(uids.len(), total);
    assert_eq!(*uids.iter().next_back().unwrap() + 1, st.uidnext);
    assert!(env.ok(&["check"]).contains("no drift"));
}

/// Runs the daemon in this process until the returned sender fires.
fn start_daemon(
    env: &Env,
) -> (tokio::runtime::Runtime, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let config = kronika::config::Config::load(&env.config_path()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = rt.spawn(async move {
        kronika::daemon::run(&config, async {
            let _ = rx.await;
        })
        .await
    });
    (rt, tx, handle)
}

/// Waits until a search finds `word`; returns how long it took.
fn wait_searchable(env: &Env, word: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !env.json(&["search", word]).as_array().unwrap().is_empty() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    None
}

#[test]
fn the_daemon_gets_pushed_mail_and_survives_kicks_and_restarts() {
    let mut dovecot = Dovecot::start();
    dovecot.append("alice", "INBOX", &message(1, "Úvodní"));
    let env = env_for(&dovecot, "mailboxes = [\"INBOX\", \"Sent\"]");
    let (rt, stop, handle) = start_daemon(&env);
    assert!(wait_searchable(&env, "uvodni", Duration::from_secs(20)).is_some(), "first sync");
    std::thread::sleep(Duration::from_millis(500));

    // Pushed by IDLE.
    dovecot.append("alice", "INBOX", &message(2, "Pushnutá"));
    let took = wait_searchable(&env, "pushnuta", Duration::from_secs(10)).expect("IDLE push");
    eprintln!("IDLE: searchable {took:?} after APPEND");

    // `doveadm kick` during IDLE: * BYE, EOF, reconnect, resync.
    dovecot.kick("alice");
    std::thread::sleep(Duration::from_millis(200));
    dovecot.append("alice", "INBOX", &message(3, "Pokopnutá"));
    assert!(wait_searchable(&env, "pokopnuta", Duration::from_secs(20)).is_some(), "after a kick");

    // A server restart.
    dovecot.stop();
    std::thread::sleep(Duration::from_millis(500));
    dovecot.restart();
    dovecot.append("alice", "INBOX", &message(4, "Restartovaná"));
    assert!(wait_searchable(&env, "restartovana", Duration::from_secs(30)).is_some(), "after a restart");

    let _ = stop.send(());
    rt.block_on(handle).unwrap().unwrap();
    assert_eq!(item_count(&env), 4);
    assert_eq!(duplicate_message_ids(&env), 0);
    assert!(env.ok(&["check"]).contains("no drift"));
}

/// Issue 18: invitations come by IMAP as by Maildir, and one Bcc'd to the
/// capture mailbox (bob's account here) is filed as an event too.
#[test]
fn invitations_by_imap_and_to_the_capture_mailbox_become_events() {
    let dovecot = Dovecot::start();
    let capture = format!(
        "[[imap]]\nname = \"crm\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"bob\"\npassword_cmd = \"echo secret\"\ncapture = true\ntimeout = \"10s\"\n",
        dovecot.port()
    );
    let env = env_for(&dovecot, &capture);
    let fixture = |name: &str| std::fs::read(crate::common::fixtures().join("invitations").join(name)).unwrap();
    dovecot.append("alice", "INBOX", &fixture("outlook-request-cs.eml"));
    dovecot.append("bob", "INBOX", &fixture("google-request-en.eml"));
    env.ok(&["sync"]);
    let agenda = env.json(&["agenda", "--days", "3650"]);
    let uids: Vec<&str> = agenda.as_array().unwrap().iter().filter_map(|o| o["uid"].as_str()).collect();
    assert!(
        uids.iter().any(|u| u.starts_with("040000008200E00074C5B7101A82E008")),
        "the Outlook invitation: {agenda:#}"
    );
    assert!(
        uids.contains(&"5t0q8c3m1k9v2b7n4r6s8d0f2h@google.com"),
        "the one Bcc'd to the capture mailbox: {agenda:#}"
    );
    // The organiser cancels by mail: gone from the agenda, kept in the store.
    dovecot.append("alice", "INBOX", &fixture("outlook-cancel-cs.eml"));
    env.ok(&["sync"]);
    let agenda = env.json(&["agenda", "--days", "3650"]);
    assert!(
        !agenda
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["uid"].as_str().is_some_and(|u| u.starts_with("040000008200E0007"))),
        "{agenda:#}"
    );
}
