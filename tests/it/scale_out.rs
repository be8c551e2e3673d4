//! Scaling out (issue 19), end to end with the real binary: two daemons
//! (nodes a and b, each with a data folder and search index of its own)
//! and a web server on one PostgreSQL. One node runs the shared mailbox at
//! a time; a client added on the other is matched at once; each node
//! searches what the other stored; a document kept by one downloads from
//! the web of the other; and when the running node is killed, the other
//! takes the mailbox over and every message stays stored exactly once.

use std::path::Path;
use std::time::{Duration, Instant};

use kronika::args;
use kronika::matcher::Policy;

use crate::common::postgres::{self, PASSWORD};
use crate::common::web::{Browser, Server};
use crate::common::{Env, copy_dir, fixtures, wait_until};

fn node(name: &str, url: &str, cert: &Path, maildir: &Path) -> Env {
    crate::common::stores::node_env(name, url, cert, &crate::common::stores::maildir_section("mail", maildir))
}

fn mail(n: usize, from: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: jana.svobodova@modrykamen.cz\r\nSubject: {subject}\r\n\
         Message-ID: <scale-out-{n}@example.test>\r\nDate: Tue, 1 Dec 2026 10:{:02}:00 +0100\r\n\r\n\
         Dobrý den, posíláme podklady číslo {n}.\r\n",
        n % 60
    )
}

#[test]
fn two_daemons_and_a_web_server_share_one_postgresql() {
    let cluster = postgres::cluster();
    let database = cluster.database();
    let url = database.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@");
    let cert = cluster.certificate();
    let shared = tempfile::tempdir().unwrap();
    let maildir = shared.path().join("maildir");
    copy_dir(&fixtures().join("maildir"), &maildir);
    let (a, b) = (node("a", &url, &cert, &maildir), node("b", &url, &cert, &maildir));
    a.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    let target = crate::common::stores::postgres_target();
    let target = kronika::store::pg::PgTarget { url: database.url.clone(), ..target };
    let store = crate::common::stores::open(&target, Policy::default());
    let count = |sql: &str| store.db().value::<i64>(sql, args![]).unwrap().unwrap_or(0);

    let logs = shared.path();
    let mut daemons = [a.spawn_logged(&["run"], &logs.join("a.log")), b.spawn_logged(&["run"], &logs.join("b.log"))];
    let log_of = |name: &str| std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap_or_default();
    // The mailbox is stored when its count stops growing (the example has 20 messages).
    let mailbox = "SELECT COUNT(*) FROM item_sources WHERE source LIKE 'maildir:%' AND gone_at IS NULL";
    let mut last = (-1, Instant::now());
    let stored = wait_until(Duration::from_secs(60), || {
        let n = count(mailbox);
        if n != last.0 {
            last = (n, Instant::now());
        }
        n >= 15 && last.1.elapsed() > Duration::from_secs(3)
    });
    assert!(stored, "the mailbox was not stored: {} sources\n{}\n{}", count(mailbox), log_of("a"), log_of("b"));
    let files = count(mailbox);

    // One node runs the mailbox; status says which, on either node.
    let owner =
        |env: &Env| -> Option<String> { env.json(&["status"])["sources"][0]["node"].as_str().map(str::to_string) };
    let first = owner(&a).expect("a node runs the mailbox");
    assert_eq!(owner(&b).as_deref(), Some(first.as_str()));
    let (other, runner_at) = if first == "a" { (&b, 0) } else { (&a, 1) };
    assert!(log_of(if first == "a" { "b" } else { "a" }).contains("run by the node"), "the other node did not wait");

    // Each node's own index follows the shared store: search on the node
    // that did not store the mail finds it.
    let found = wait_until(Duration::from_secs(15), || {
        other.json(&["search", "faktura"]).as_array().is_some_and(|r| !r.is_empty())
    });
    assert!(found, "search on the other node finds nothing");

    // A client added on the node that does not run the mailbox is matched
    // by the one that does, at once.
    other.ok(&["client", "add", "Nový Klient s.r.o.", "--domain", "novyklient.cz"]);
    std::fs::write(
        maildir.join("new/1796600001.M1P1Q1.scaleout"),
        mail(1, "Marta Nová <marta@novyklient.cz>", "Poptávka rekuperace"),
    )
    .unwrap();
    let linked = wait_until(Duration::from_secs(20), || {
        count(
            "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id JOIN clients c ON c.id = l.client_id
             WHERE i.message_id = 'scale-out-1@example.test' AND c.name = 'Nový Klient s.r.o.'",
        ) == 1
    });
    assert!(linked, "the new client's mail was not linked to it\n{}", log_of(&first));

    // A document kept by one node downloads from the web of the other.
    a.ok(&["document", "add", "acme", fixtures().join("documents/smlouva.odt").to_str().unwrap()]);
    a.cmd(&["user", "add", "jana", "--email", "jana@modrykamen.cz", "--password-stdin"])
        .write_stdin("tajne-heslo-1\n")
        .assert()
        .success();
    let doc: i64 = count("SELECT MAX(id) FROM items WHERE kind = 'document'");
    let server = Server::start(&b);
    let mut browser = Browser::new();
    browser.sign_in(&server, "jana", "tajne-heslo-1");
    let mut resp = browser
        .agent
        .get(&server.url(&format!("/documents/{doc}")))
        .header("Cookie", browser.cookie_header())
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.body_mut().read_to_vec().unwrap();
    assert_eq!(bytes, std::fs::read(fixtures().join("documents/smlouva.odt")).unwrap());
    // Node b had the bytes from the store, not from a file of its own (it
    // keeps files only of what it stored itself: mail attachments, when it
    // runs the mailbox).
    let kept_by_b = crate::common::files(&b.path().join("data/documents"));
    assert!(!kept_by_b.values().any(|f| *f == bytes), "node b keeps the document in its own folder");
    drop(server);

    // The running node dies: the other takes the mailbox over after its
    // lease runs out, and what arrives meanwhile is stored, once.
    let _ = daemons[runner_at].kill();
    let _ = daemons[runner_at].wait();
    let killed = Instant::now();
    std::fs::write(
        maildir.join("new/1796600002.M2P2Q2.scaleout"),
        mail(2, "Lucie Malá <lucie.mala@acme-stavby.cz>", "Objednávka po výpadku"),
    )
    .unwrap();
    let taken = wait_until(Duration::from_secs(30), || {
        count("SELECT COUNT(*) FROM items WHERE message_id = 'scale-out-2@example.test'") == 1
    });
    assert!(taken, "nobody took the mailbox over\n{}", log_of(if first == "a" { "b" } else { "a" }));
    let took = killed.elapsed();
    assert!(took >= Duration::from_secs(2), "taken over before the dead node's lease ran out ({took:?})");
    let now_runs = owner(other).expect("a node runs the mailbox");
    assert_ne!(now_runs, first, "status still names the dead node");
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT source, key FROM item_sources GROUP BY source, key HAVING COUNT(*) > 1) d"),
        0,
        "a message was stored twice"
    );
    assert_eq!(count(mailbox), files + 2);
    for d in daemons.iter_mut() {
        let _ = crate::common::terminate(d);
    }
}

/// Two firms on one PostgreSQL database, each in its own schema, each
/// with a daemon whose mailbox has the same name: both run at once (each
/// firm's leases are its own), and neither firm's CLI or web sees a row of
/// the other.
#[test]
fn two_firms_on_one_server_never_see_each_other() {
    let cluster = postgres::cluster();
    let database = cluster.database();
    let url = database.url.replace(&format!("kronika:{PASSWORD}@"), "kronika@");
    let cert = cluster.certificate();
    let dirs = tempfile::tempdir().unwrap();
    let (box_a, box_b) = (dirs.path().join("a"), dirs.path().join("b"));
    copy_dir(&fixtures().join("maildir"), &box_a);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(box_b.join(sub)).unwrap();
    }
    std::fs::write(
        box_b.join("new/1796600003.M3P3Q3.firmab"),
        mail(3, "Marta Nová <marta@novyklient.cz>", "Poptávka tepelného čerpadla"),
    )
    .unwrap();
    let firm = |schema: &str, maildir: &Path| {
        let sources = crate::common::stores::maildir_section("mail", maildir);
        crate::common::stores::firm_env("praha-1", &url, &cert, Some(schema), &sources)
    };
    let (a, b) = (firm("firma_a", &box_a), firm("firma_b", &box_b));
    a.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    b.ok(&["client", "add", "Nový Klient s.r.o.", "--domain", "novyklient.cz"]);
    b.cmd(&["user", "add", "marta", "--email", "marta@firma-b.cz", "--password-stdin"])
        .write_stdin("heslo-firmy-b\n")
        .assert()
        .success();
    let logs = dirs.path();
    let mut daemons = [a.spawn_logged(&["run"], &logs.join("a.log")), b.spawn_logged(&["run"], &logs.join("b.log"))];
    let items = |env: &Env| env.json(&["stats"])["items"].as_i64().unwrap_or(0);
    let stored = wait_until(Duration::from_secs(60), || items(&a) >= 15 && items(&b) == 1);
    let log_of = |name: &str| std::fs::read_to_string(logs.join(format!("{name}.log"))).unwrap_or_default();
    assert!(stored, "{} and {} items\n{}\n{}", items(&a), items(&b), log_of("a"), log_of("b"));
    // Both firms' "mail" ran at once, each under its own lease.
    assert_eq!(a.json(&["status"])["sources"][0]["node"], "praha-1");
    assert_eq!(b.json(&["status"])["sources"][0]["node"], "praha-1");

    // The CLI of firm b: its own client and mail, nothing of firm a.
    let found = wait_until(Duration::from_secs(15), || !b.json(&["search", "čerpadla"]).as_array().unwrap().is_empty());
    assert!(found, "firm b does not find its own mail");
    assert!(b.json(&["search", "faktura"]).as_array().unwrap().is_empty(), "firm b finds firm a's mail");
    let clients = b.ok(&["client", "list"]);
    assert!(clients.contains("Nový Klient") && !clients.contains("Acme"), "{clients}");
    assert!(!b.cmd(&["history", "acme"]).assert().get_output().status.success(), "firm b knows firm a's client");
    assert!(!a.json(&["search", "faktura"]).as_array().unwrap().is_empty(), "firm a finds its own mail");
    assert!(a.json(&["search", "čerpadla"]).as_array().unwrap().is_empty(), "firm a finds firm b's mail");

    // The web of firm b: the same.
    let server = Server::start(&b);
    let mut browser = Browser::new();
    browser.sign_in(&server, "marta", "heslo-firmy-b");
    let page = browser.get(&server.url("/clients"));
    assert!(page.body.contains("Nový Klient") && !page.body.contains("Acme"), "{}", page.body);
    let own = browser.get(&server.url("/search?q=%C4%8Derpadla"));
    assert!(own.body.contains("Poptávka tepelného čerpadla"), "firm b's web does not find its own mail");
    let other = browser.get(&server.url("/search?q=faktura"));
    assert_eq!(other.status, 200);
    assert!(!other.body.contains("<mark>") && !other.body.contains("Acme"), "firm b's web shows firm a's mail");
    drop(server);
    for d in daemons.iter_mut() {
        let _ = crate::common::terminate(d);
    }
}
