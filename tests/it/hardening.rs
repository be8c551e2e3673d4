//! Issue 10: a daemon that runs for months. Changes made by other
//! processes reach it at once; a busy database is waited out; one bad
//! calendar stops nothing else; shutdown is bounded whatever a sink does;
//! the reminder feed needs its token off loopback.

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::{BASE_CONFIG, Env, copy_dir, fixtures, terminate, wait_until};

/// The base config with the example Maildir copied in.
fn env_with_maildir(extra: &str) -> Env {
    let env = Env::with_config(&format!("{BASE_CONFIG}\n[[maildir]]\nname = \"work\"\npath = \"maildir\"\n{extra}"));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env
}

fn query_i64(env: &Env, sql: &str) -> i64 {
    rusqlite::Connection::open(env.path().join("data/kronika.sqlite3"))
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// Delivers a message the Maildir way: tmp/, then a rename into new/.
fn deliver(env: &Env, name: &str, text: &str) {
    let tmp = env.path().join("maildir/tmp").join(name);
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, env.path().join("maildir/new").join(name)).unwrap();
}

#[cfg(unix)]
#[test]
fn a_client_added_while_the_daemon_runs_is_matched_at_once() {
    let env = env_with_maildir("");
    let mut daemon = env.spawn(&["run"]);
    assert!(wait_until(Duration::from_secs(20), || query_i64(&env, "SELECT COUNT(*) FROM items") >= 22));

    // Another process adds a client while the daemon runs…
    env.ok(&["client", "add", "Novák Trade s.r.o.", "--domain", "novaktrade.cz"]);
    // …and the next message from its domain is linked to it, without a restart.
    deliver(
        &env,
        "300.novak.host",
        "From: Jan Novák <jan@novaktrade.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Objednávka palet\nMessage-ID: <palety-1@novaktrade.cz>\nDate: Mon, 30 Nov 2026 09:00:00 +0100\n\nDobrý den, objednáváme 40 palet.\n",
    );
    let linked =
        "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id JOIN clients c ON c.id = l.client_id
                  WHERE i.message_id = 'palety-1@novaktrade.cz' AND c.name = 'Novák Trade s.r.o.'";
    assert!(wait_until(Duration::from_secs(10), || query_i64(&env, linked) == 1), "the new mail is linked");

    // A contact added from the CLI: a free-mail address only matches by exact address.
    env.ok(&["contact", "add", "novak", "Petr Dvořák", "--email", "petr.dvorak@seznam.cz"]);
    deliver(
        &env,
        "301.dvorak.host",
        "From: Petr Dvořák <petr.dvorak@seznam.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Faktura za palety\nMessage-ID: <palety-2@seznam.cz>\nDate: Mon, 30 Nov 2026 10:00:00 +0100\n\nPosílám fakturu.\n",
    );
    let contact =
        "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id JOIN contacts c ON c.id = l.contact_id
                   WHERE i.message_id = 'palety-2@seznam.cz' AND c.name = 'Petr Dvořák'";
    assert!(wait_until(Duration::from_secs(10), || query_i64(&env, contact) == 1), "linked to the new contact");

    // The blocklist, edited in the config file while the daemon runs, keeps the next private mail out.
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    let text = text.replace(
        "blocklist = [\"mama.svobodova@gmail.com\"]",
        "blocklist = [\"mama.svobodova@gmail.com\", \"@soukrome.cz\"]",
    );
    std::fs::write(env.config_path(), text).unwrap();
    std::thread::sleep(Duration::from_millis(2500)); // the daemon looks every second
    deliver(
        &env,
        "302.private.host",
        "From: Teta <teta@soukrome.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Nedělní oběd\nMessage-ID: <obed@soukrome.cz>\nDate: Mon, 30 Nov 2026 11:00:00 +0100\n\nPřijdete?\n",
    );
    // A marker after it: once the marker is stored, the private one was decided too.
    deliver(
        &env,
        "303.marker.host",
        "From: jan@novaktrade.cz\nTo: jana.svobodova@modrykamen.cz\nSubject: Značka\nMessage-ID: <znacka@novaktrade.cz>\nDate: Mon, 30 Nov 2026 12:00:00 +0100\n\nx\n",
    );
    assert!(wait_until(Duration::from_secs(10), || {
        query_i64(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'znacka@novaktrade.cz'") == 1
    }));
    assert_eq!(query_i64(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'obed@soukrome.cz'"), 0);

    let (took, ok) = terminate(&mut daemon);
    assert!(ok && took < Duration::from_secs(10), "{took:?}");
}

#[cfg(unix)]
#[test]
fn a_busy_database_is_waited_out_and_the_source_goes_on() {
    let env = env_with_maildir("");
    let mut daemon = env.spawn(&["run"]);
    assert!(wait_until(Duration::from_secs(20), || query_i64(&env, "SELECT COUNT(*) FROM items") >= 22));
    // Another process holds the write lock longer than the busy timeout (10 s).
    let mut other = rusqlite::Connection::open(env.path().join("data/kronika.sqlite3")).unwrap();
    other.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = other.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    deliver(
        &env,
        "400.busy.host",
        "From: karel.horak@acme-stavby.cz\nTo: jana.svobodova@modrykamen.cz\nSubject: Během zámku\nMessage-ID: <zamek@acme-stavby.cz>\nDate: Mon, 30 Nov 2026 09:00:00 +0100\n\nText.\n",
    );
    std::thread::sleep(Duration::from_secs(13));
    tx.rollback().unwrap();
    // The source retried rather than giving up, and its status said why.
    assert!(
        wait_until(Duration::from_secs(20), || {
            query_i64(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'zamek@acme-stavby.cz'") == 1
        }),
        "the message is stored once the lock is gone"
    );
    let busy = "SELECT COUNT(*) FROM source_status WHERE source = 'work' AND last_error LIKE '%another kronika process holds the database%'";
    assert!(wait_until(Duration::from_secs(5), || query_i64(&env, busy) == 1), "status records the busy database");
    // And the source still watches: the next message comes in too.
    deliver(
        &env,
        "401.after.host",
        "From: karel.horak@acme-stavby.cz\nTo: jana.svobodova@modrykamen.cz\nSubject: Po zámku\nMessage-ID: <po-zamku@acme-stavby.cz>\nDate: Mon, 30 Nov 2026 10:00:00 +0100\n\nText.\n",
    );
    assert!(wait_until(Duration::from_secs(10), || {
        query_i64(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'po-zamku@acme-stavby.cz'") == 1
    }));
    let (took, ok) = terminate(&mut daemon);
    assert!(ok && took < Duration::from_secs(10), "{took:?}");
}

#[cfg(unix)]
#[test]
fn shutdown_is_bounded_with_a_command_sink_that_never_exits() {
    // A follow-up reminder due at once, delivered to a command that never
    // ends, and a calendar server that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let env = Env::with_config(&format!(
        "{BASE_CONFIG}\n[[calendar]]\nname = \"silent\"\nurl = \"http://127.0.0.1:{port}/cal.ics\"\ntimeout = \"10m\"\n[reminders]\nstdout = false\nfollow_up_after = \"1s\"\ncommands = [[\"sh\", \"-c\", \"echo $$ > sink.pid; exec sleep 600\"]]\n"
    ));
    env.ok(&["client", "add", "Tichá s.r.o.", "--domain", "ticha.cz"]);
    let mut daemon = env.spawn(&["run"]);
    let pid_file = env.path().join("sink.pid");
    assert!(wait_until(Duration::from_secs(20), || pid_file.exists()), "the command sink started");
    std::thread::sleep(Duration::from_millis(200));
    let sink_pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    // The calendar fetch is waiting on the silent server.
    let (_held, _) = silent.accept().unwrap();
    let (took, ok) = terminate(&mut daemon);
    assert!(ok, "the daemon exits cleanly");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    // The sink was stopped with it, and its delivery stays pending for the next start.
    // SAFETY: signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(sink_pid, 0) } == 0;
    assert!(!alive, "the command sink was stopped");
    assert_eq!(query_i64(&env, "SELECT COUNT(*) FROM reminder_deliveries WHERE state = 'pending' AND attempts = 0"), 1);
}

#[test]
fn a_broken_calendar_stops_nothing_else() {
    let bad = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n\
        BEGIN:VEVENT\r\nUID:absurd@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261203T100000Z\r\nDURATION:P99999999W\r\nSUMMARY:Nesmysl\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:far@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:99991231T230000Z\r\nDURATION:P2D\r\nRRULE:FREQ=DAILY;INTERVAL=4000000000\r\nSUMMARY:Daleko\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:good@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261203T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Kontrola lešení\r\nATTENDEE:mailto:karel.horak@acme-stavby.cz\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    let env = env_with_maildir("\n[[calendar]]\nname = \"cal\"\npath = \"cal.ics\"\n");
    std::fs::write(env.path().join("cal.ics"), bad).unwrap();
    let out = env.cmd(&["sync"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("23 new"), "the Maildir is read: {stdout}");
    // The good event is stored; the absurd one is skipped with a warning that names it.
    assert_eq!(query_i64(&env, "SELECT COUNT(*) FROM items WHERE kind = 'event' AND subject = 'Kontrola lešení'"), 1);
    assert!(format!("{stdout}{stderr}").contains("absurd@x"), "{stdout}\n{stderr}");
}

#[test]
fn the_feed_refuses_requests_without_its_token_off_loopback() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = Env::with_config(&format!("{BASE_CONFIG}\n[reminders]\nstdout = false\nserve = \"0.0.0.0:{port}\"\n"));
    // `config check` shows the address with the token it made.
    let check = env.json(&["config", "check"]);
    let url = check["reminder_feed"].as_str().unwrap().to_string();
    let token = url.split("token=").nth(1).unwrap().to_string();
    assert!(token.len() >= 32, "{url}");
    assert_eq!(check, env.json(&["config", "check"]), "the token stays the same");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = kronika::config::Config::load(&env.config_path()).unwrap();
    let stop = kronika::shutdown::Shutdown::new();
    let daemon = {
        let (config, stop) = (config.clone(), stop.clone());
        rt.spawn(async move { kronika::daemon::run(&config, async move { stop.wait().await }).await })
    };
    let get = |target: &str| -> String {
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                // Sent in pieces, as real clients may.
                for piece in ["GET ", target, " HTTP/1.1\r\n", "Host: x\r\n\r\n"] {
                    s.write_all(piece.as_bytes()).unwrap();
                    s.flush().unwrap();
                }
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the feed never listened");
    };
    assert!(get("/kronika.ics").starts_with("HTTP/1.1 403"), "no token: refused");
    assert!(get("/kronika.ics?token=wrong").starts_with("HTTP/1.1 403"), "a wrong token: refused");
    let ok = get(&format!("/kronika.ics?token={token}"));
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(get(&format!("/{token}/kronika.ics")).starts_with("HTTP/1.1 200"));
    stop.trigger();
    rt.block_on(daemon).unwrap().unwrap();
}

#[cfg(unix)]
#[test]
fn the_daemon_takes_the_index_over_once_another_process_lets_it_go() {
    let env = env_with_maildir("");
    env.ok(&["sync"]);
    let index_path = env.path().join("data/index");
    // Another process (a `reindex`, say) holds the index writer while the daemon starts.
    let index = kronika::index::SearchIndex::open(&index_path).unwrap();
    let held = kronika::index::Indexer::new(&index, 15 << 20).unwrap();
    let mut daemon = env.spawn(&["run"]);
    std::thread::sleep(Duration::from_secs(1));
    deliver(
        &env,
        "500.locked.host",
        "From: karel.horak@acme-stavby.cz\nTo: jana.svobodova@modrykamen.cz\nSubject: Index zamceny\nMessage-ID: <index@acme-stavby.cz>\nDate: Mon, 30 Nov 2026 09:00:00 +0100\n\nText.\n",
    );
    // Stored at once…
    assert!(wait_until(Duration::from_secs(10), || {
        query_i64(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'index@acme-stavby.cz'") == 1
    }));
    // …and indexed by the daemon once the writer is free.
    drop(held);
    let max_rev = query_i64(&env, "SELECT MAX(rev) FROM items");
    let indexed = wait_until(Duration::from_secs(25), || {
        kronika::index::SearchIndex::open(&index_path).map(|i| i.committed_rev() >= max_rev).unwrap_or(false)
    });
    assert!(indexed, "the daemon took the writer over and caught up");
    let (took, ok) = terminate(&mut daemon);
    assert!(ok && took < Duration::from_secs(10), "{took:?}");
    assert!(env.ok(&["check"]).contains("no drift"));
}

#[test]
fn a_deletion_the_index_has_not_committed_yet_is_pending_not_drift() {
    let env = Env::with_config(&format!("{BASE_CONFIG}\n[[notes]]\nname = \"notes\"\npath = \"notes\"\n"));
    std::fs::create_dir_all(env.path().join("notes")).unwrap();
    let note = env.path().join("notes/2026-11-27-hovor.md");
    std::fs::write(&note, "Hovor s Karlem o lešení.\n").unwrap();
    std::thread::sleep(Duration::from_millis(1200)); // past the settle time
    env.ok(&["sync"]);
    // The note goes while another process holds the index writer: stored, not yet indexed.
    std::fs::remove_file(&note).unwrap();
    let index = kronika::index::SearchIndex::open(&env.path().join("data/index")).unwrap();
    let held = kronika::index::Indexer::new(&index, 15 << 20).unwrap();
    env.ok(&["sync"]);
    drop(held);
    let check = env.json(&["check"]);
    assert_eq!(check["extra"].as_array().unwrap().len(), 0, "{check}");
    assert_eq!(check["pending"], 1, "{check}");
    assert!(env.ok(&["check"]).contains("no drift"));
}

/// Issue 11: a `[[maildir]]` with `capture = true` files a forward under the
/// original sender's client, with the original's date, end to end.
#[test]
fn a_capture_maildir_files_forwards_under_the_original_sender() {
    let env =
        Env::with_config(&format!("{BASE_CONFIG}\n[[maildir]]\nname = \"crm\"\npath = \"crm\"\ncapture = true\n"));
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env.path().join("crm").join(sub)).unwrap();
    }
    std::fs::copy(fixtures().join("capture/outlook-cs.eml"), env.path().join("crm/cur/1.outlook.host:2,S")).unwrap();
    env.ok(&["client", "add", "Acme Stavby s.r.o.", "--domain", "acme-stavby.cz"]);
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 new"), "{out}");
    let history = env.json(&["history", "acme"]);
    let item = history.as_array().unwrap().first().expect("the forward is in Acme's history").clone();
    assert!(item["from"].to_string().contains("karel.horak@acme-stavby.cz"), "{item}");
    assert!(item["date"].as_str().unwrap().starts_with("2026-11-27"), "{item}");
    assert!(!item["subject"].as_str().unwrap().starts_with("PŘ"), "{item}");
}
