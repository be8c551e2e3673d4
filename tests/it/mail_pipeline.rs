//! The mail pipeline end to end: archives → parser → matcher → store →
//! index → search and history, through the `kronika` binary; and the
//! daemon watching a Maildir, through the library with an injected shutdown.

use std::time::{Duration, Instant};

use crate::common::{Env, copy_dir, fixtures};
use serde_json::Value;

/// A config with the example's people and the fixture Maildir copied into the env.
fn env_with_maildir() -> Env {
    let env = Env::with_config(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "petr.dvorak@modrykamen.cz"]
own_domains = ["modrykamen.cz"]
blocklist = ["mama.svobodova@gmail.com"]

[[custom_fields]]
name = "obor"
type = "text"

[[maildir]]
name = "mail"
path = "maildir"
"#,
    );
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env
}

fn subjects(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|h| h["subject"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn sync_imports_the_example_once() {
    let env = env_with_maildir();
    let out = env.ok(&["sync"]);
    // 25 files: one is a copy of another (INBOX and Sent), one is blocklisted.
    assert!(out.contains("25 read, 23 new, 1 duplicate, 1 blocked, 0 skipped"), "{out}");
    let again = env.ok(&["sync"]);
    assert!(again.contains(" 0 new, 0 duplicate"), "{again}");
    // Importing the same Maildir by hand recognises every message.
    let out = env.ok(&["import", "maildir", env.path().join("maildir").to_str().unwrap()]);
    assert!(out.contains("0 new"), "{out}");
    let stats = env.json(&["stats"]);
    // 23 messages, 4 documents kept from their attachments (two invoice
    // PDFs, an ISDOC, the offer), and the deal the ISDOC invoice made; and
    // the weekly meeting of the invitation, as many occurrences as a year
    // ahead of today holds.
    let events = stats["by_kind"]["event"].as_i64().unwrap();
    assert!(events >= 52, "{stats}");
    assert_eq!(stats["items"].as_i64().unwrap() - events, 28, "{stats}");
    assert_eq!(stats["index"]["up_to_date"], true, "{stats}");
}

/// A Maildir message's original is a hard link to its file (no copy);
/// an mbox message's is a file of its own. Either outlives its source.
#[test]
fn originals_of_maildir_mail_are_links_and_outlive_the_maildir() {
    use std::os::unix::fs::MetadataExt;
    let env = env_with_maildir();
    env.ok(&["sync"]);
    let inodes = |dir: &std::path::Path| -> std::collections::BTreeMap<u64, u64> {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    stack.push(e.path());
                } else {
                    out.insert(m.ino(), m.nlink());
                }
            }
        }
        out
    };
    let originals = inodes(&env.path().join("data/originals"));
    let maildir = inodes(&env.path().join("maildir"));
    assert!(originals.len() >= 20, "{originals:?}");
    let linked = originals.keys().filter(|i| maildir.contains_key(i)).count();
    // Every original but the capture of a duplicate is a Maildir file.
    assert!(linked >= originals.len() - 1, "{linked} of {} linked", originals.len());
    assert!(originals.values().all(|n| *n >= 1));
    // The Maildir goes; every original stays readable, whole.
    let before: Vec<Vec<u8>> = std::fs::read_dir(env.path().join("data/originals"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|f| std::fs::read(f.path()).unwrap()))
        .collect();
    std::fs::remove_dir_all(env.path().join("maildir")).unwrap();
    let after: Vec<Vec<u8>> = std::fs::read_dir(env.path().join("data/originals"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|f| std::fs::read(f.path()).unwrap()))
        .collect();
    assert_eq!(before, after);
    assert!(after.iter().all(|b| b.windows(8).any(|w| w == b"Subject:") || b.windows(8).any(|w| w == b"subject:")));
    // An mbox's messages are written out, not linked.
    let mbox = env.path().join("archive.mbox");
    std::fs::write(
        &mbox,
        "From karel@acme-stavby.cz Mon Mar  2 09:00:00 2026\nFrom: Karel <karel@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Z mboxu\nMessage-ID: <mbox-1@acme-stavby.cz>\nDate: Mon, 2 Mar 2026 09:00:00 +0100\n\nDobry den.\n",
    )
    .unwrap();
    env.ok(&["import", "mbox", mbox.to_str().unwrap()]);
    let now = inodes(&env.path().join("data/originals"));
    assert_eq!(now.len(), originals.len() + 1);
    assert!(now.values().all(|n| *n == 1), "after the Maildir went, nothing is shared: {now:?}");
}

#[test]
fn history_links_by_address_domain_and_thread() {
    let env = env_with_maildir();
    env.ok(&["sync"]);
    let h = env.json(&["history", "acme"]);
    let items = h.as_array().unwrap();
    assert!(items.len() >= 8, "{h}");
    // Newest first, RFC 3339 dates, client names.
    let dates: Vec<&str> = items.iter().map(|i| i["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert!(items.iter().all(|i| i["clients"].as_array().unwrap().iter().any(|c| c == "Acme Stavby s.r.o.")));
    // The reply to a free-mail statik only belongs to Acme through its thread.
    let statik = items.iter().find(|i| i["links"].as_array().unwrap().iter().any(|l| l["reason"] == "thread"));
    assert!(statik.is_some(), "a thread-linked item: {h}");
    // The message from mail.acme-stavby.cz links by domain (subdomain of acme-stavby.cz) or address.
    assert!(subjects(&h).iter().any(|s| s.contains("Objednávka") || s.contains("objednávka")), "{h}");
    // Brightwell: English mail, co.uk domain.
    let b = env.json(&["history", "Brightwell"]);
    assert!(!b.as_array().unwrap().is_empty(), "{b}");
    // Internal mail and the newsletter belong to nobody.
    let all: i64 = ["acme", "pekárna", "brightwell"]
        .iter()
        .map(|c| env.json(&["history", c]).as_array().unwrap().iter().filter(|i| i["kind"] == "email").count() as i64)
        .sum();
    assert!(all < 22, "internal and newsletter mail stay unlinked");
}

#[test]
fn search_folds_case_and_diacritics_and_filters() {
    let env = env_with_maildir();
    env.ok(&["sync"]);
    for (query, expect) in [("nabidka", "nabídka"), ("PRILOHA", "Příloha"), ("smlouva", "smlouv")] {
        let hits = env.json(&["search", query]);
        let arr = hits.as_array().unwrap();
        assert!(!arr.is_empty(), "{query}: no hits");
        let text: String = arr
            .iter()
            .map(|h| format!("{} {}", h["subject"].as_str().unwrap(), h["snippet"].as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        assert!(text.contains(&expect.to_lowercase()), "{query}: {hits}");
        for h in arr {
            for key in ["id", "kind", "date", "subject", "snippet", "clients"] {
                assert!(h.get(key).is_some(), "{key} in {h}");
            }
        }
    }
    // from:, a phrase, boolean operators, a client filter, a kind filter, dates.
    let from = env.json(&["search", "from:brightwell.co.uk"]);
    assert!(!from.as_array().unwrap().is_empty(), "{from}");
    let phrase = env.json(&["search", "\"cenová nabídka\""]);
    assert!(!phrase.as_array().unwrap().is_empty(), "{phrase}");
    let none = env.json(&["search", "nabídka AND NOT nabídka"]);
    assert!(none.as_array().unwrap().is_empty(), "{none}");
    let pek = env.json(&["search", "", "--client", "pekárna"]);
    assert!(pek.as_array().unwrap().iter().all(|h| h["clients"].to_string().contains("Pekárna")), "{pek}");
    let later = env.json(&["search", "", "--since", "2026-10-01", "--sort", "date"]);
    for h in later.as_array().unwrap() {
        assert!(h["date"].as_str().unwrap() >= "2026-09-30", "{h}");
    }
    let out_only = env.json(&["search", "", "--direction", "out"]);
    assert!(out_only.as_array().unwrap().iter().all(|h| h["direction"] == "out"), "{out_only}");
    // A bad query is a clear error.
    let err = env.fails(&["search", "nosuchfield:x"]);
    assert!(err.contains("cannot understand the query"), "{err}");
}

#[test]
fn show_prints_one_item_whole() {
    let env = env_with_maildir();
    env.ok(&["sync"]);
    let hits = env.json(&["search", "faktura", "--kind", "email"]);
    let id = hits[0]["id"].as_i64().unwrap().to_string();
    let item = env.json(&["show", &id]);
    assert!(item["body"].as_str().unwrap().len() > 10);
    assert!(!item["participants"].as_array().unwrap().is_empty());
    let text = env.ok(&["show", &id]);
    assert!(text.contains("Subject:"), "{text}");
    assert!(env.fails(&["show", "999999"]).contains("cannot find item"));
}

#[test]
fn index_drift_is_found_and_repaired_and_reindex_rebuilds() {
    let env = env_with_maildir();
    env.ok(&["sync"]);
    assert!(env.ok(&["check"]).contains("no drift"));
    // Restore the store from a backup taken before the last message arrived:
    // the index now holds a document the store does not have.
    let db = env.path().join("data/kronika.sqlite3");
    let backup = env.path().join("backup.sqlite3");
    std::fs::copy(&db, &backup).unwrap();
    let msg = "From: tomas@pekarna-novak.cz\nTo: petr.dvorak@modrykamen.cz\nSubject: Reklamace trouby\nMessage-ID: <rekl-1@pekarna-novak.cz>\nDate: Fri, 27 Nov 2026 08:00:00 +0100\n\nTrouba opet nehreje.\n";
    std::fs::write(env.path().join("maildir/new/300.rekl.host"), msg).unwrap();
    env.ok(&["sync"]);
    assert_eq!(env.json(&["search", "reklamace"]).as_array().unwrap().len(), 1);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(env.path().join(format!("data/kronika.sqlite3{suffix}")));
    }
    std::fs::copy(&backup, &db).unwrap();
    let out = env.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let j = env.json(&["check", "--repair"]);
    assert_eq!(j["extra"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["repaired"], true, "{j}");
    assert!(env.ok(&["check"]).contains("no drift"));
    assert!(env.json(&["search", "reklamace"]).as_array().unwrap().is_empty());
    // Mail that arrives after the restore is indexed again.
    env.ok(&["sync"]);
    assert_eq!(env.json(&["search", "reklamace"]).as_array().unwrap().len(), 1);
    assert!(env.ok(&["check"]).contains("no drift"));
    // Losing the index entirely is no drift: it is behind, and catches up.
    std::fs::remove_dir_all(env.path().join("data/index")).unwrap();
    assert!(!env.json(&["search", "faktura"]).as_array().unwrap().is_empty());
    let out = env.ok(&["reindex"]);
    let items = env.json(&["stats"])["items"].as_i64().unwrap();
    assert!(out.contains(&format!("reindexed {items} items")), "{out}");
    assert!(!env.json(&["search", "faktura"]).as_array().unwrap().is_empty());
    // Each thread's last mail is derived too: a row lost is drift, and the
    // repair writes it again.
    let c = rusqlite::Connection::open(&db).unwrap();
    let threads: i64 = c.query_row("SELECT COUNT(*) FROM thread_last", [], |r| r.get(0)).unwrap();
    assert!(threads > 0);
    c.execute("DELETE FROM thread_last WHERE thread_id = (SELECT MIN(thread_id) FROM thread_last)", []).unwrap();
    drop(c);
    let out = env.cmd(&["check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("threads whose last mail is out of date: 1"), "{text}");
    let j = env.json(&["check", "--repair"]);
    assert_eq!(j["threads_out_of_date"].as_array().map(Vec::len), Some(1), "{j}");
    assert!(env.ok(&["check"]).contains("no drift"));
}

#[test]
fn mbox_and_eml_imports_are_idempotent() {
    let env = env_with_maildir();
    // Build an mbox from the fixture messages, with a body line that needs quoting.
    let mut mbox = Vec::new();
    let mut files: Vec<_> =
        std::fs::read_dir(env.path().join("maildir/cur")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in &files {
        mbox.extend_from_slice(b"From someone@example.com Thu Nov 27 07:11:04 2026\n");
        let body = std::fs::read(f).unwrap();
        for line in body.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b"From ") {
                mbox.push(b'>');
            }
            mbox.extend_from_slice(line);
        }
        mbox.extend_from_slice(b"\n");
    }
    let path = env.path().join("archive.mbox");
    std::fs::write(&path, &mbox).unwrap();
    let out = env.ok(&["import", "mbox", path.to_str().unwrap()]);
    assert!(out.contains(&format!("{} read", files.len())), "{out}");
    let again = env.ok(&["import", "mbox", path.to_str().unwrap()]);
    assert!(again.contains("0 new"), "{again}");
    // The same messages as Maildir files are the same items.
    let out = env.ok(&["sync"]);
    assert!(out.contains("0 skipped"), "{out}");
    let eml = files[0].to_str().unwrap();
    let out = env.ok(&["import", "eml", eml]);
    assert!(out.contains("0 new, 1 duplicate"), "{out}");
    assert!(env.fails(&["import", "mbox", "/nonexistent.mbox"]).contains("cannot import"));
}

#[test]
fn broken_messages_are_skipped_with_reasons() {
    let env = env_with_maildir();
    let cur = env.path().join("maildir/cur");
    std::fs::write(cur.join("100.bad1.host:2,S"), b"").unwrap();
    std::fs::write(cur.join("100.bad2.host:2,S"), [0u8, 159, 146, 150, 1, 2, 3, 255, 254]).unwrap();
    std::fs::write(
        cur.join("100.trunc.host:2,S"),
        b"From: karel.horak@acme-stavby.cz\nSubject: useknuto\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nzacatek zpravy\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK",
    )
    .unwrap();
    let out = env.ok(&["sync"]);
    assert!(out.contains("2 skipped"), "{out}");
    assert!(out.contains("skipped"), "{out}");
    // The truncated message is kept as far as it goes.
    let hits = env.json(&["search", "useknuto"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
}

#[test]
fn daemon_picks_up_new_mail_without_a_restart() {
    let env = env_with_maildir();
    let config = kronika::config::Config::load(&env.config_path()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = {
        let config = config.clone();
        rt.spawn(async move {
            kronika::daemon::run(&config, async {
                let _ = stop_rx.await;
            })
            .await
        })
    };
    // Wait for the first pass.
    let store_path = config.db_path();
    let count = || -> i64 {
        let conn = rusqlite::Connection::open(&store_path).unwrap();
        conn.query_row("SELECT COUNT(*) FROM items WHERE kind != 'event'", [], |r| r.get(0)).unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while count() < 28 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(), 28);
    // Deliver a message the Maildir way (tmp/, then rename into new/).
    let msg = "From: Lucie Malá <lucie.mala@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: Nová poptávka lešení\nMessage-ID: <lesení-1@acme-stavby.cz>\nDate: Fri, 27 Nov 2026 08:00:00 +0100\n\nDobrý den, posíláme poptávku na lešení.\n";
    let tmp = env.path().join("maildir/tmp/200.new.host");
    std::fs::write(&tmp, msg).unwrap();
    let delivered = Instant::now();
    std::fs::rename(&tmp, env.path().join("maildir/new/200.new.host")).unwrap();
    while count() < 29 && delivered.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(count(), 29, "the new message is stored");
    // Searchable through the index the daemon writes.
    let mut found = false;
    while !found && delivered.elapsed() < Duration::from_secs(10) {
        let hits = env.json(&["search", "lesení"]);
        found = !hits.as_array().unwrap().is_empty();
        if !found {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(found, "the new message is searchable");

    // What the watcher names is looked at alone; each kind of change ends
    // as a full rescan would leave it.
    let live_keys = || -> Vec<String> {
        let conn = rusqlite::Connection::open(&store_path).unwrap();
        let mut q = conn
            .prepare("SELECT key FROM item_sources WHERE source LIKE 'maildir:%' AND gone_at IS NULL ORDER BY key")
            .unwrap();
        q.query_map([], |r| r.get(0)).unwrap().map(|k| k.unwrap()).collect()
    };
    let wait_for = |what: &str, ok: &dyn Fn(&[String]) -> bool| {
        let t = Instant::now();
        while !ok(&live_keys()) && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(ok(&live_keys()), "{what}: {:?}", live_keys());
    };
    // The mail client reads it: new/ → cur/ with flags. The same message.
    let maildir = env.path().join("maildir");
    std::fs::rename(maildir.join("new/200.new.host"), maildir.join("cur/200.new.host:2,S")).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    wait_for("a move keeps the key", &|k| k.iter().any(|k| k == "INBOX/200.new.host"));
    assert_eq!(count(), 29, "a move is not a new item");
    // Deleted: the key goes.
    std::fs::remove_file(maildir.join("cur/200.new.host:2,S")).unwrap();
    wait_for("a deleted file is gone", &|k| !k.iter().any(|k| k == "INBOX/200.new.host"));
    // A new folder with a message in it (the tree is rescanned).
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(".Nová/").join(d)).unwrap();
    }
    std::fs::write(maildir.join(".Nová/cur/201.new.host:2,S"), msg.replace("lesení-1", "lesení-2")).unwrap();
    wait_for("a new folder is read", &|k| k.iter().any(|k| k == ".Nová/201.new.host"));

    let _ = stop_tx.send(());
    rt.block_on(daemon).unwrap().unwrap();
    // After a clean stop the index is committed and in step with the store.
    assert!(env.ok(&["check"]).contains("no drift"));
}

#[test]
fn sync_names_a_failing_source_and_serves_the_others() {
    let env = env_with_maildir();
    let mut text = std::fs::read_to_string(env.config_path()).unwrap();
    text.push_str("\n[[maildir]]\nname = \"gone\"\npath = \"no-such-folder\"\n");
    std::fs::write(env.config_path(), text).unwrap();
    let out = env.cmd(&["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gone") && err.contains("no-such-folder"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("23 new"), "the good source still syncs: {stdout}");
}

#[cfg(unix)]
#[test]
fn run_stops_cleanly_on_sigterm() {
    let env = env_with_maildir();
    let mut child = env.spawn(&["run"]);
    let db = env.path().join("data/kronika.sqlite3");
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM items WHERE kind != 'event'", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while count() < 28 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(), 28);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // The index was committed on the way out.
    let stats = env.json(&["stats"]);
    assert_eq!(stats["index"]["up_to_date"], true, "{stats}");
    assert_eq!(stats["index"]["documents"], stats["items"], "{stats}");
}
