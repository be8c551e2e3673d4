//! Issue 15: kronika as a systemd service. The daemon speaks sd_notify
//! (ready, watchdog, reloading, stopping), and SIGHUP re-reads the config:
//! sources added start, sources removed stop, the others go on.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::common::{EXAMPLE_CONFIG, Env, copy_dir, fixtures, terminate, wait_until};

fn count(env: &Env, sql: &str) -> i64 {
    rusqlite::Connection::open(env.path().join("data/kronika.sqlite3"))
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(-1)
}

fn deliver(dir: &std::path::Path, name: &str, message_id: &str, subject: &str) {
    let msg = format!(
        "From: Ing. Karel Horák <karel.horak@acme-stavby.cz>\nTo: jana.svobodova@modrykamen.cz\nSubject: {subject}\nMessage-ID: <{message_id}>\nDate: Tue, 1 Dec 2026 10:00:00 +0100\n\nDobrý den.\n"
    );
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::create_dir_all(dir.join("new")).unwrap();
    std::fs::create_dir_all(dir.join("cur")).unwrap();
    std::fs::write(dir.join("tmp").join(name), msg).unwrap();
    std::fs::rename(dir.join("tmp").join(name), dir.join("new").join(name)).unwrap();
}

fn stored(env: &Env, message_id: &str) -> bool {
    count(env, &format!("SELECT COUNT(*) FROM items WHERE message_id = '{message_id}'")) == 1
}

fn hup(child: &std::process::Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) };
}

#[test]
fn the_daemon_tells_systemd_it_is_ready_alive_reloading_and_stopping() {
    let env = Env::with_config(EXAMPLE_CONFIG);
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    let socket_path = env.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kronika"))
        .current_dir(env.path())
        .env_remove("KRONIKA_CONFIG")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000")
        .arg("--config")
        .arg(env.config_path())
        .arg("run")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen: Vec<String> = Vec::new();
    let wait_for = |what: &str, seen: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if seen.iter().any(|m| m.lines().any(|l| l == what)) {
                return;
            }
            let mut buf = [0u8; 512];
            if let Ok(n) = socket.recv(&mut buf) {
                seen.push(String::from_utf8_lossy(buf.get(..n).unwrap()).into_owned());
            }
        }
        panic!("no {what} from the daemon: {seen:?}");
    };
    wait_for("READY=1", &mut seen);
    assert!(seen.iter().any(|m| m.contains("STATUS=running 1 sources")), "{seen:?}");
    // The watchdog is fed (every half of WATCHDOG_USEC).
    wait_for("WATCHDOG=1", &mut seen);
    seen.clear();
    wait_for("WATCHDOG=1", &mut seen);
    // A reload says so, with the monotonic time, then it is ready again.
    seen.clear();
    hup(&child);
    wait_for("RELOADING=1", &mut seen);
    assert!(seen.iter().any(|m| m.contains("MONOTONIC_USEC=")), "{seen:?}");
    wait_for("READY=1", &mut seen);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    wait_for("STOPPING=1", &mut seen);
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_reload_starts_new_sources_and_stops_removed_ones_while_the_others_go_on() {
    let env = Env::with_config(EXAMPLE_CONFIG);
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    let mut daemon = env.spawn(&["run"]);
    let watching = |name: &str| {
        count(&env, &format!("SELECT COUNT(*) FROM source_status WHERE source = '{name}' AND state = 'watching'")) == 1
    };
    assert!(wait_until(Duration::from_secs(20), || watching("mail")));

    // A second Maildir is added to the config; SIGHUP applies it.
    let second = env.path().join("second");
    deliver(&second, "1.second.host", "druha-1@acme-stavby.cz", "Druhá schránka");
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), format!("{text}\n[[maildir]]\nname = \"second\"\npath = \"second\"\n")).unwrap();
    hup(&daemon);
    assert!(wait_until(Duration::from_secs(10), || stored(&env, "druha-1@acme-stavby.cz")), "the new source started");
    assert!(wait_until(Duration::from_secs(10), || watching("second")));
    // The first source went on without a restart: its first pass is not
    // repeated, and it still takes new mail.
    deliver(&env.path().join("maildir"), "2.first.host", "prvni-2@acme-stavby.cz", "Pořád první");
    assert!(wait_until(Duration::from_secs(10), || stored(&env, "prvni-2@acme-stavby.cz")));

    // The second is removed again: it stops, and mail there stays unread.
    std::fs::write(env.config_path(), &text).unwrap();
    hup(&daemon);
    assert!(wait_until(Duration::from_secs(10), || count(
        &env,
        "SELECT COUNT(*) FROM source_status WHERE source = 'second' AND state = 'stopped'"
    ) == 1));
    deliver(&second, "3.second.host", "druha-3@acme-stavby.cz", "Už nečteno");
    deliver(&env.path().join("maildir"), "4.first.host", "prvni-4@acme-stavby.cz", "Pořád první 2");
    assert!(wait_until(Duration::from_secs(10), || stored(&env, "prvni-4@acme-stavby.cz")));
    assert!(!stored(&env, "druha-3@acme-stavby.cz"), "a removed source is not read");

    // A broken config on reload keeps everything running.
    std::fs::write(env.config_path(), format!("{text}\nno_such_key = 1\n")).unwrap();
    hup(&daemon);
    std::thread::sleep(Duration::from_millis(500));
    deliver(&env.path().join("maildir"), "5.first.host", "prvni-5@acme-stavby.cz", "Po chybě");
    assert!(wait_until(Duration::from_secs(10), || stored(&env, "prvni-5@acme-stavby.cz")));
    let (_, clean) = terminate(&mut daemon);
    assert!(clean);
}
