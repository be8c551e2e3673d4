//! A private Radicale (CalDAV) server for the tests: its own folder, an
//! htpasswd user, a free port on 127.0.0.1, request log at info level (the
//! tests count the requests kronika makes). `tests/run.sh` installs it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Radicale {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
    pub user: String,
    pub password: String,
}

impl Radicale {
    pub fn start() -> Radicale {
        let dir = tempfile::tempdir().unwrap();
        let (user, password) = ("jana".to_string(), "tajne-heslo".to_string());
        std::fs::write(dir.path().join("users"), format!("{user}:{password}\n")).unwrap();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let config = format!(
                "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n[storage]\nfilesystem_folder = {store}\n[rights]\ntype = owner_only\n[logging]\nlevel = info\n",
                users = dir.path().join("users").display(),
                store = dir.path().join("store").display(),
            );
            std::fs::write(dir.path().join("radicale.cfg"), config).unwrap();
            let log = std::fs::File::create(dir.path().join("log")).unwrap();
            let child = Command::new("python3")
                .args(["-m", "radicale", "--config"])
                .arg(dir.path().join("radicale.cfg"))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .stdin(Stdio::null())
                .spawn()
                .expect("python3 -m radicale (tests/run.sh installs it)");
            let mut child = child;
            if wait_for(port) {
                return Radicale { port, dir, child, user, password };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("Radicale did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// One request as the user; returns the status and the body.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .max_redirects(0)
            .build()
            .into();
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.user, self.password));
        let mut req = ureq::http::Request::builder()
            .method(ureq::http::Method::from_bytes(method.as_bytes()).unwrap())
            .uri(self.url(path))
            .header("Authorization", format!("Basic {auth}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// A calendar of the user, with a display name.
    pub fn make_calendar(&self, slug: &str, display: &str) {
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>{display}</d:displayname></d:prop></d:set></c:mkcalendar>"#
        );
        let (status, answer) = self.request("MKCALENDAR", &format!("/{}/{slug}/", self.user), &[], &body);
        assert_eq!(status, 201, "MKCALENDAR: {answer}");
    }

    /// Writes an event object (created or replaced).
    pub fn put(&self, slug: &str, name: &str, ics: &str) {
        let (status, answer) = self.request(
            "PUT",
            &format!("/{}/{slug}/{name}", self.user),
            &[("Content-Type", "text/calendar; charset=utf-8")],
            ics,
        );
        assert!(status == 201 || status == 204, "PUT {name}: {status} {answer}");
    }

    pub fn delete(&self, slug: &str, name: &str) {
        let (status, answer) = self.request("DELETE", &format!("/{}/{slug}/{name}", self.user), &[], "");
        assert!((200..300).contains(&status), "DELETE {name}: {status} {answer}");
    }

    /// The event objects of a calendar, as files on Radicale's disk.
    pub fn objects(&self, slug: &str) -> Vec<(String, String)> {
        let dir = self.dir.path().join("store/collection-root").join(&self.user).join(slug);
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ics"))
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Requests Radicale has logged so far (`PROPFIND`, `REPORT`, …).
    pub fn requests(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        log.lines().filter(|l| l.contains(" request for ")).map(str::to_string).collect()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Waits (at most 20 s) until the server takes connections.
fn wait_for(port: u16) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
