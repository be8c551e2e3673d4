//! Tests of the private-Dovecot harness itself (tests/common/dovecot.rs):
//! that it starts, seeds mail, injects faults and cleans up as promised.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::dovecot::{self, Dovecot, Imap};

const MSG: &[u8] = b"From: Petr <petr@example.com>\r\nTo: alice@example.com\r\nSubject: Test\r\n\
Message-ID: <m1@example.com>\r\n\r\nHello\r\n";

fn message(n: u32) -> Vec<u8> {
    format!("From: a@example.com\r\nSubject: Message {n}\r\nMessage-ID: <{n}@example.com>\r\n\r\nBody {n}\r\n")
        .into_bytes()
}

/// `pgrep -f PATTERN`: the PIDs of matching processes.
fn pgrep(pattern: &str) -> Vec<String> {
    let out = Command::new("pgrep").args(["-f", pattern]).output().expect("run pgrep");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn two_instances_run_at_once() {
    let started = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(Dovecot::start);
        let b = s.spawn(Dovecot::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!("two instances started in {:?}", started.elapsed());
    let ports = [a.port(), a.tls_port(), b.port(), b.tls_port()];
    for (i, p) in ports.iter().enumerate() {
        assert!(!ports[..i].contains(p), "ports must differ: {ports:?}");
    }
    assert_ne!(a.instance_name(), b.instance_name());

    a.append("alice", "INBOX", MSG);
    assert_eq!(a.status("alice", "INBOX").messages, 1);
    assert_eq!(b.status("alice", "INBOX").messages, 0, "instances must not share mail");
    assert!(a.maildir("alice").starts_with(a.dir()));
}

#[test]
fn append_status_and_special_use() {
    let d = Dovecot::start();
    let uids: Vec<u32> = (1..=3).map(|n| d.append("alice", "INBOX", &message(n))).collect();
    assert_eq!(uids, [1, 2, 3]);
    assert_eq!(d.append_with_flags("alice", "Sent", MSG, &["\\Seen"]), 1);

    let inbox = d.status("alice", "INBOX");
    assert_eq!((inbox.messages, inbox.uidnext), (3, 4));
    assert!(inbox.uidvalidity > 0 && inbox.highestmodseq > 0, "{inbox:?}");
    let sent = d.status("alice", "Sent");
    assert_eq!((sent.messages, sent.uidnext), (1, 2));
    assert_eq!(d.status("bob", "INBOX").messages, 0);

    // The messages are files in the Maildir.
    let files = std::fs::read_dir(d.maildir("alice").join("cur")).unwrap().count()
        + std::fs::read_dir(d.maildir("alice").join("new")).unwrap().count();
    assert_eq!(files, 3);

    let mut imap = d.login("alice");
    let caps = imap.ok("CAPABILITY").unwrap().join("\n");
    eprintln!("capabilities after login: {caps}");
    for cap in ["IDLE", "CONDSTORE", "QRESYNC", "UIDPLUS", "MOVE", "ENABLE", "SPECIAL-USE", "LITERAL+"] {
        assert!(caps.split_whitespace().any(|c| c == cap), "no {cap} in {caps}");
    }
    let list = imap.ok("LIST \"\" \"*\" RETURN (SPECIAL-USE)").unwrap();
    for (name, attr) in dovecot::SPECIAL_MAILBOXES {
        let want = format!("* LIST ({attr}) \"/\" {name}");
        assert!(list.contains(&want), "{want:?} not in {list:#?}");
    }
    assert!(list.iter().any(|l| l.ends_with(" INBOX")), "{list:#?}");
    imap.logout();

    // Before login, the plain port offers STARTTLS and allows LOGIN.
    let greeting = d.connect().greeting;
    assert!(greeting.contains("STARTTLS") && !greeting.contains("LOGINDISABLED"), "{greeting}");

    let log = d.log_tail(1000);
    assert!(!log.contains("Error:") && !log.contains("Warning:") && !log.contains("Fatal:"), "{log}");
}

#[test]
fn mailboxes_expunge_and_non_ascii_names() {
    let d = Dovecot::start();
    d.create_mailbox("bob", "Projects/ACME");
    d.create_mailbox("bob", "Sent"); // exists already: not an error
    let name = "Odeslaná pošta";
    let uid = d.append("bob", name, MSG);
    assert_eq!(d.status("bob", name).messages, 1);
    assert!(d.maildir("bob").join(".Odeslan&AOE- po&AWE-ta").is_dir());
    assert!(d.maildir("bob").join(".Projects.ACME").is_dir());

    let keep = d.append("bob", name, &message(2));
    d.expunge("bob", name, uid);
    let status = d.status("bob", name);
    assert_eq!((status.messages, status.uidnext), (1, keep + 1));
    let mut imap = d.login("bob");
    imap.ok(&format!("SELECT {}", dovecot::quote_mailbox(name))).unwrap();
    let fetched = imap.ok("UID FETCH 1:* (UID)").unwrap();
    assert_eq!(fetched, [format!("* 1 FETCH (UID {keep})")]);
    imap.logout();
}

#[test]
fn kick_sends_bye_then_eof() {
    let d = Dovecot::start();
    let mut imap = d.login("bob");
    imap.ok("SELECT INBOX").unwrap();
    imap.write(b"I1 IDLE\r\n").unwrap();
    assert!(imap.read_line().unwrap().starts_with("+ "));
    let kicked = Instant::now();
    d.kick("bob");
    let mut lines = Vec::new();
    while let Some(line) = imap.try_read_line().unwrap() {
        lines.push(line);
    }
    eprintln!("after kick ({:?}): {lines:?}", kicked.elapsed());
    assert!(lines.iter().any(|l| l.starts_with("* BYE")), "{lines:?}");
    d.kick("alice"); // nobody connected: not an error
}

#[test]
fn stop_and_restart_keep_mail_and_ports() {
    let mut d = Dovecot::start();
    d.append("alice", "INBOX", MSG);
    let before = d.status("alice", "INBOX");
    let (port, tls_port) = (d.port(), d.tls_port());
    let mut open = d.login("alice");

    let stopped = Instant::now();
    d.stop();
    eprintln!("stop took {:?}", stopped.elapsed());
    assert!(d.master_pid().is_none());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "port still answers after stop");
    // The open connection was closed (BYE or plain EOF).
    while let Ok(Some(_)) = open.try_read_line() {}

    let restarted = Instant::now();
    d.restart();
    eprintln!("restart took {:?}", restarted.elapsed());
    assert_eq!((d.port(), d.tls_port()), (port, tls_port));
    assert_eq!(d.status("alice", "INBOX"), before);
    d.stop();
    d.stop(); // twice is fine
}

#[test]
fn reset_uidvalidity_keeps_messages() {
    let mut d = Dovecot::start();
    for n in 1..=2 {
        d.append("alice", "INBOX", &message(n));
    }
    d.append("alice", "Sent", MSG);
    d.expunge("alice", "INBOX", 1);
    d.append("alice", "INBOX", &message(3));
    let before = d.status("alice", "INBOX");
    assert_eq!((before.messages, before.uidnext), (2, 4));

    let new = d.reset_uidvalidity("alice", "INBOX");
    assert_ne!(new, before.uidvalidity);
    let after = d.status("alice", "INBOX");
    assert_eq!((after.uidvalidity, after.messages, after.uidnext), (new, 2, 3), "UIDs renumbered from 1");

    let sent = d.status("alice", "Sent");
    let new_sent = d.reset_uidvalidity("alice", "Sent");
    assert_ne!(new_sent, sent.uidvalidity);
    assert_eq!(d.status("alice", "Sent").messages, 1);
}

fn s_client(args: &[String]) -> (bool, String) {
    let mut child = Command::new("openssl")
        .arg("s_client")
        .args(args)
        .args(["-verify_return_error", "-verify_ip", "127.0.0.1", "-quiet", "-crlf"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl s_client");
    child.stdin.take().unwrap().write_all(b"a1 LOGIN alice secret\na2 LOGOUT\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn tls_and_starttls_verify_against_the_cert() {
    let d = Dovecot::start();
    let cert = d.ca_cert().display().to_string();
    let pem = std::fs::read_to_string(d.ca_cert()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let implicit =
        s_client(&["-connect".into(), format!("127.0.0.1:{}", d.tls_port()), "-CAfile".into(), cert.clone()]);
    assert!(implicit.1.contains("* OK") && implicit.1.contains("a1 OK"), "{implicit:?}");
    assert!(implicit.0, "{implicit:?}");

    let starttls = s_client(&[
        "-connect".into(),
        format!("127.0.0.1:{}", d.port()),
        "-starttls".into(),
        "imap".into(),
        "-CAfile".into(),
        cert,
    ]);
    assert!(starttls.1.contains("a1 OK"), "{starttls:?}");

    // Without the cert as CA, verification fails.
    let untrusted = s_client(&["-connect".into(), format!("127.0.0.1:{}", d.tls_port())]);
    assert!(!untrusted.1.contains("a1 OK"), "{untrusted:?}");
}

#[test]
fn wrong_password_is_authenticationfailed() {
    let d = Dovecot::start();
    let mut imap = d.connect();
    // Failures come back within 0.5 s, and without the auth penalty a
    // later login is not delayed either.
    for (command, ok) in [("LOGIN alice wrong", false), ("LOGIN nobody secret", false), ("LOGIN alice secret", true)] {
        let started = Instant::now();
        let resp = imap.command(command).unwrap();
        assert!(started.elapsed() < Duration::from_millis(1500), "{command} took {:?}", started.elapsed());
        if ok {
            assert!(resp.is_ok(), "{resp:?}");
        } else {
            assert!(resp.tagged.contains("NO [AUTHENTICATIONFAILED]"), "{resp:?}");
        }
    }
}

#[test]
fn nothing_survives_drop() {
    let d = Dovecot::start();
    let config = d.config_path().display().to_string();
    let titles = format!("{}/", d.instance_name());
    let pgid = d.master_pid().unwrap();
    // An open session, so there is an imap process to clean up too.
    let mut open = d.login("alice");
    open.ok("SELECT INBOX").unwrap();
    assert_eq!(pgrep(&config).len(), 1, "the master names its config");
    assert!(pgrep(&titles).len() >= 4, "{titles} processes: {:?}", pgrep(&titles));

    let dir = d.dir().to_path_buf();
    drop(d);
    assert_eq!(pgrep(&config), Vec::<String>::new());
    assert_eq!(pgrep(&titles), Vec::<String>::new());
    assert_eq!(dovecot::group_members(pgid), Vec::<u32>::new());
    assert!(!dir.exists(), "the temp dir is removed");
    while let Ok(Some(_)) = open.try_read_line() {}
}

#[test]
fn raw_client_handles_literals() {
    let d = Dovecot::start();
    d.append("alice", "INBOX", MSG);
    let mut imap: Imap = d.login("alice");
    imap.ok("SELECT INBOX").unwrap();
    let lines = imap.ok("UID FETCH 1 (BODY.PEEK[])").unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].ends_with(&format!("{})", String::from_utf8_lossy(MSG))), "{lines:?}");
}

#[test]
fn helpers() {
    use crate::common::dovecot::{Status, literal_len, mutf7, parse_appenduid, parse_status};
    assert_eq!(mutf7("INBOX"), "INBOX");
    assert_eq!(mutf7("A&B"), "A&-B");
    assert_eq!(mutf7("Odeslaná pošta"), "Odeslan&AOE- po&AWE-ta");
    assert_eq!(mutf7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    assert_eq!(parse_appenduid("A3 OK [APPENDUID 1700000000 42] Append completed."), Some(42));
    assert_eq!(literal_len(b"* LIST () \"/\" {5}"), Some(5));
    assert_eq!(literal_len(b"A1 APPEND x {12+}"), Some(12));
    assert_eq!(literal_len(b"* OK {x}"), None);
    let s = parse_status("* STATUS \"a (b)\" (UIDVALIDITY 7 UIDNEXT 4 MESSAGES 3 HIGHESTMODSEQ 5)").unwrap();
    assert_eq!(s, Status { uidvalidity: 7, uidnext: 4, messages: 3, highestmodseq: 5 });
}

#[test]
fn restart_waits_for_a_taken_port() {
    let mut d = Dovecot::start();
    d.stop();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", d.port())).unwrap();
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            drop(squatter);
        });
        d.restart();
    });
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(d.log_tail(100).contains("Address already in use"), "{}", d.log_tail(100));
    assert!(d.connect().greeting.starts_with("* OK"));
}

/// Run as a child by `watchdog_stops_an_orphaned_instance`: starts an
/// instance, prints its config path, and waits to be killed.
const ORPHAN_ENV: &str = "KRONIKA_DOVECOT_HARNESS_ORPHAN";

#[test]
fn watchdog_stops_an_orphaned_instance() {
    if std::env::var_os(ORPHAN_ENV).is_some() {
        let d = Dovecot::start();
        println!("CONFIG {}", d.config_path().display());
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["dovecot_harness::watchdog_stops_an_orphaned_instance", "--exact", "--nocapture"])
        .env(ORPHAN_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let config = loop {
        let line = lines.next().expect("the child printed no config path").unwrap();
        if let Some(path) = line.strip_prefix("CONFIG ") {
            break path.to_string();
        }
    };
    assert_eq!(pgrep(&config).len(), 1);
    child.kill().unwrap(); // SIGKILL: no Drop runs in the child
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pgrep(&config).is_empty() {
        assert!(Instant::now() < deadline, "the orphaned dovecot survived: {:?}", pgrep(&config));
        std::thread::sleep(Duration::from_millis(20));
    }
    // The orphan's temp dir stays behind; remove it.
    std::fs::remove_dir_all(std::path::Path::new(&config).parent().unwrap()).unwrap();
}
