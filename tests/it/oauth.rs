//! Issue 11: OAuth2 mail accounts against the private Dovecot (XOAUTH2 and
//! OAUTHBEARER, tokens checked by introspection) and a local authorization
//! server: `kronika login` by the device-code and the browser flow, a sync
//! with the token, expiry and refresh while the daemon runs, rotation, a
//! revoked sign-in (`login needed`, other accounts go on), no token printed.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use crate::common::dovecot::Dovecot;
use crate::common::oauth_server::OAuthServer;
use crate::common::{Env, wait_until};

fn message(n: u32, subject: &str) -> Vec<u8> {
    format!(
        "From: Karel Horák <karel.horak@acme-stavby.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\nSubject: {subject}\r\nMessage-ID: <oauth-{n}@acme-stavby.cz>\r\nDate: Mon, 30 Nov 2026 09:{:02}:00 +0100\r\n\r\nText {n}.\r\n",
        n % 60
    )
    .into_bytes()
}

/// A config with one OAuth2 account (`work`, alice) and `extra` sections.
fn env_for(dovecot: &Dovecot, server: &OAuthServer, extra: &str) -> Env {
    let env = Env::with_config(&format!(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]

[[imap]]
name = "work"
host = "127.0.0.1"
port = {port}
tls = "none"
username = "alice"
auth = "oauth2"
provider = "custom"
client_id = "kronika-test"
device_url = "{device}"
auth_url = "{auth}"
token_url = "{token}"
scopes = ["imap", "offline_access"]
poll_interval = "30s"
timeout = "10s"
{extra}
"#,
        port = dovecot.port(),
        device = server.url("/devicecode"),
        auth = server.url("/authorize"),
        token = server.url("/token"),
    ));
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    env
}

fn count(env: &Env, sql: &str) -> i64 {
    rusqlite::Connection::open(env.path().join("data/kronika.sqlite3"))
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// Runs `kronika login work --device`, approving the code it shows; returns its output.
pub(crate) fn login_by_device(env: &Env, server: &OAuthServer) -> String {
    let mut child = env.command(&["login", "work", "--device"]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    let code = loop {
        let line = lines.next().expect("login printed no code").unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(c) = line.strip_prefix("code: ") {
            break c.trim().to_string();
        }
    };
    assert!(seen.contains("/device"), "the address to open is shown: {seen}");
    server.approve(&code);
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "login failed: {seen}");
    seen
}

fn token_file(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.path().join("data/oauth/work.json")).unwrap()).unwrap()
}

/// Nothing the server issued appears in `text`.
fn no_token_in(server: &OAuthServer, text: &str) {
    for t in server.issued() {
        assert!(!text.contains(&t), "a token was printed: {t}");
    }
}

#[test]
fn device_login_then_sync_with_the_token() {
    let server = OAuthServer::start("alice");
    let dovecot = Dovecot::start_with_oauth(&server.url("/introspect"));
    dovecot.append("alice", "INBOX", &message(1, "Nabídka přes OAuth"));
    let env = env_for(&dovecot, &server, "");
    // Before signing in, a sync says what to run.
    let err = env.fails(&["sync"]);
    assert!(err.contains("kronika login work"), "{err}");
    let out = login_by_device(&env, &server);
    no_token_in(&server, &out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path().join("data/oauth/work.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the sign-in is readable by its owner only");
    }
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 new"), "{out}");
    assert_eq!(count(&env, "SELECT COUNT(*) FROM items WHERE message_id = 'oauth-1@acme-stavby.cz'"), 1);
    // Neither the status nor the config check shows a token.
    no_token_in(&server, &env.ok(&["status", "--json"]));
    no_token_in(&server, &env.ok(&["config", "check", "--json"]));
}

#[test]
fn browser_login_with_pkce_and_a_loopback_redirect() {
    let server = OAuthServer::start("alice");
    // Only XOAUTH2 on offer, as Outlook does.
    let dovecot = Dovecot::start_with_mechanisms(&server.url("/introspect"), "xoauth2");
    dovecot.append("alice", "INBOX", &message(2, "Prohlížeč"));
    let env = env_for(&dovecot, &server, "");
    let mut child = env.command(&["login", "work", "--browser", "--no-browser"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("login printed no address").unwrap();
        if line.starts_with("http://127.0.0.1") {
            break line;
        }
    };
    assert!(url.contains("code_challenge_method=S256") && url.contains("state="), "{url}");
    // The user opens the address: the server redirects to kronika's loopback.
    let location = http_get(&url).1.expect("a redirect");
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    let (status, _) = http_get(&location);
    assert!(status.contains("200"), "{status}");
    assert!(child.wait().unwrap().success());
    assert_eq!(server.token_requests("authorization_code"), 1);
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 new"), "{out}");
}

/// A GET; returns the status line and the Location header.
fn http_get(url: &str) -> (String, Option<String>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.lines().next().unwrap_or("").to_string();
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
        .map(|l| l.trim().to_string());
    (status, location)
}

#[cfg(unix)]
#[test]
fn the_daemon_refreshes_expired_tokens_and_waits_when_the_sign_in_is_revoked() {
    let server = OAuthServer::start("alice");
    let mut dovecot = Dovecot::start_with_oauth(&server.url("/introspect"));
    dovecot.append("alice", "INBOX", &message(10, "První"));
    // A second account, with a password: it must not notice the first one's trouble.
    let env = env_for(
        &dovecot,
        &server,
        &format!(
            "\n[[imap]]\nname = \"other\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"bob\"\npassword_cmd = \"echo secret\"\ntimeout = \"10s\"\n",
            dovecot.port()
        ),
    );
    login_by_device(&env, &server);
    let first_refresh = token_file(&env)["refresh_token"].as_str().unwrap().to_string();
    let log = env.path().join("daemon.log");
    let mut daemon = env.spawn_logged(&["run"], &log);
    assert!(wait_until(Duration::from_secs(20), || count(
        &env,
        "SELECT COUNT(*) FROM items WHERE message_id = 'oauth-10@acme-stavby.cz'"
    ) == 1));

    // The access token expires on the server; the connection goes (a restart).
    server.expire_access_tokens();
    dovecot.restart();
    dovecot.append("alice", "INBOX", &message(11, "Po obnovení"));
    assert!(
        wait_until(Duration::from_secs(40), || count(
            &env,
            "SELECT COUNT(*) FROM items WHERE message_id = 'oauth-11@acme-stavby.cz'"
        ) == 1),
        "new mail after the refresh"
    );
    assert!(server.token_requests("refresh_token") >= 1);
    // The refresh token rotated: the new one is kept, the old one is used up.
    let second_refresh = token_file(&env)["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first_refresh, second_refresh);
    assert!(!server.refresh_valid(&first_refresh) && server.refresh_valid(&second_refresh));

    // The user revokes kronika: the account waits for `kronika login`.
    server.revoke_refresh_tokens();
    server.expire_access_tokens();
    dovecot.restart();
    let login_needed = || {
        count(
            &env,
            "SELECT COUNT(*) FROM source_status WHERE state = 'login needed' AND last_error LIKE '%kronika login work%'",
        ) == 1
    };
    assert!(wait_until(Duration::from_secs(40), login_needed), "status says `login needed`");
    let refreshes = server.token_requests("refresh_token");
    // The other account goes on meanwhile.
    dovecot.append("bob", "INBOX", &message(12, "Pro Boba"));
    assert!(wait_until(Duration::from_secs(40), || count(
        &env,
        "SELECT COUNT(*) FROM items WHERE message_id = 'oauth-12@acme-stavby.cz'"
    ) == 1));
    std::thread::sleep(Duration::from_secs(3));
    assert!(server.token_requests("refresh_token") <= refreshes + 1, "no hammering of the token endpoint");
    let status = env.json(&["status"]);
    let text = status.to_string();
    assert!(text.contains("login needed") && text.contains("kronika login work"), "{text}");

    // Signing in again brings the account back without a restart.
    login_by_device(&env, &server);
    dovecot.append("alice", "INBOX", &message(13, "Zpět"));
    assert!(
        wait_until(Duration::from_secs(40), || count(
            &env,
            "SELECT COUNT(*) FROM items WHERE message_id = 'oauth-13@acme-stavby.cz'"
        ) == 1),
        "the account is back after `kronika login`"
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let _ = daemon.wait();
    let mut text = String::new();
    std::fs::File::open(&log).unwrap().read_to_string(&mut text).unwrap();
    no_token_in(&server, &text);
    no_token_in(&server, &env.ok(&["status", "--json"]));
}
