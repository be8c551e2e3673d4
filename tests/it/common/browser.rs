//! A real browser for the web tests: Debian's `chromedriver` started on a
//! free loopback port (its own process group, killed with the browser when
//! dropped), headless Chromium behind it, driven with fantoccini.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's
//! `chromium` and `chromium-driver`; `sh tests/run.sh` installs them). No
//! display: Chromium runs headless. The browser gets a new empty profile
//! and no background networking, so it talks to nothing but the test's
//! server. chromedriver's log goes to `target/browser/NAME-chromedriver.log`
//! (what it printed besides to `NAME-chromedriver.out`),
//! screenshots to `target/screenshots/NAME.png`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a wait for an element, a text or a condition may take: generous,
/// the machines running the tests are shared and slow.
pub const WAIT: Duration = Duration::from_secs(30);

/// The browser window: a desktop, or a phone (390 × 844 CSS pixels, with
/// the phone's viewport rules: `<meta name="viewport">` is obeyed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Desktop,
    Phone,
}

impl Size {
    pub fn width(self) -> u32 {
        match self {
            Size::Desktop => 1280,
            Size::Phone => 390,
        }
    }

    pub fn height(self) -> u32 {
        match self {
            Size::Desktop => 900,
            Size::Phone => 844,
        }
    }
}

/// The target folder (`CARGO_TARGET_DIR` or the crate's `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Where a screenshot named `name` is saved.
pub fn screenshot_path(name: &str) -> PathBuf {
    target_dir().join("screenshots").join(format!("{name}.png"))
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]).collect();
    names.iter().flat_map(|n| dirs.iter().map(move |d| d.join(n))).find(|p| p.is_file())
}

/// The Chromium and chromedriver binaries, or a failure that says how to
/// install them (a missing browser is a failed test, never a skipped one).
pub fn programs() -> (PathBuf, PathBuf) {
    let chromium = find_program(&["chromium", "chromium-browser"]);
    let driver = find_program(&["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        (c, d) => panic!(
            "the browser tests need Chromium and chromedriver ({} missing): install them with \
             `apt-get install chromium chromium-driver` (Debian), or run `sh tests/run.sh`, \
             which installs what the tests need",
            [c.is_none().then_some("chromium"), d.is_none().then_some("chromedriver")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().unwrap().port()
}

/// A headless Chromium on a server's pages. Everything it started is killed
/// when it is dropped, even when the test fails half-way.
pub struct Chrome {
    pub client: Client,
    /// The server's address, `http://127.0.0.1:PORT`; paths are relative to it.
    pub base: String,
    pub size: Size,
    name: String,
    driver: Driver,
    /// chromedriver's address.
    webdriver: String,
}

/// chromedriver, the browser it starts, its log and the browser's profile.
struct Driver {
    child: Child,
    log: PathBuf,
    profile: tempfile::TempDir,
}

impl Driver {
    /// The end of chromedriver's log, for a failure message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(30);
        format!("chromedriver log ({}):\n{}", self.log.display(), lines.get(from..).unwrap_or_default().join("\n"))
    }

    async fn wait_until_ready(&mut self, addr: std::net::SocketAddr) {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver ended at once ({status})\n{}", self.log_tail());
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return;
            }
            assert!(start.elapsed() < WAIT, "chromedriver does not answer on {addr}\n{}", self.log_tail());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: a signal to the process group this test started (the
        // child was made its leader).
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Chrome {
    /// Starts chromedriver and a browser session at `size`; `name` names
    /// the log file and failure screenshots.
    pub async fn start(base: &str, size: Size, name: &str) -> Chrome {
        let (chromium, chromedriver) = programs();
        let logs = target_dir().join("browser");
        std::fs::create_dir_all(&logs).expect("create target/browser");
        let log = logs.join(format!("{name}-chromedriver.log"));
        let out = std::fs::File::create(logs.join(format!("{name}-chromedriver.out"))).expect("create a log file");
        let port = free_port();
        let mut cmd = Command::new(&chromedriver);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        // Its own process group: chromedriver does not end the browser it
        // started when it is killed; the group takes both.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut driver = Driver { child, log, profile };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        driver.wait_until_ready(addr).await;
        let url = format!("http://{addr}");
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--no-proxy-server".into(),
            "--hide-scrollbars".into(),
            "--lang=en-US".into(),
            format!("--user-data-dir={}", driver.profile.path().display()),
        ];
        let mut options = json!({
            "binary": chromium.display().to_string(),
            "prefs": { "intl.accept_languages": "en-US,en" },
        });
        match size {
            Size::Desktop => args.push(format!("--window-size={},{}", size.width(), size.height())),
            Size::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": size.width(), "height": size.height(), "pixelRatio": 1.0, "touch": true },
                    "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
                });
            }
        }
        options["args"] = json!(args);
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        // The console (script errors, refused by the Content-Security-Policy)
        // is read back with `console_errors`.
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps);
        let session = tokio::time::timeout(Duration::from_secs(120), builder.connect(&url));
        let client = match session.await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => panic!("chromedriver gave no browser session: {e}\n{}", driver.log_tail()),
            Err(_) => panic!("no browser session within 120 s\n{}", driver.log_tail()),
        };
        let chrome = Chrome {
            client,
            base: base.trim_end_matches('/').to_string(),
            size,
            name: name.to_string(),
            driver,
            webdriver: url,
        };
        if size == Size::Desktop {
            chrome.set_viewport(size.width(), size.height()).await;
        }
        chrome
    }

    /// Makes the page's viewport (not the window around it) `width` × `height`.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let v =
            self.js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];").await;
        let frame = |i: usize| v[i].as_u64().unwrap_or(0) as u32;
        self.client.set_window_size(width + frame(0), height + frame(1)).await.expect("set the window's size");
    }

    /// The end of chromedriver's log, for a failure message.
    pub fn log_tail(&self) -> String {
        self.driver.log_tail()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens a path of the server.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// The path (and query) of the page the browser shows.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs a script (a function body: `return …`) and gives its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs a script with arguments (`arguments[0]` …).
    pub async fn js_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Fails the test: what was awaited, where the browser is, a screenshot.
    pub async fn fail(&self, what: &str) -> ! {
        let path = self.path().await;
        let shot = format!("{}-failure", self.name);
        self.screenshot(&shot).await;
        let body = self.js("return document.body ? document.body.innerText : ''").await;
        let body = body.as_str().unwrap_or_default().chars().take(3000).collect::<String>();
        panic!(
            "{what} (waited {} s) at {path}; screenshot {}\n--- the page's text:\n{body}",
            WAIT.as_secs(),
            screenshot_path(&shot).display()
        );
    }

    /// The browser console's messages since the last call, as
    /// `LEVEL message` (chromedriver's log endpoint; the console keeps what
    /// every page said: script errors, what the Content-Security-Policy
    /// refused, failed loads).
    pub async fn console(&self) -> Vec<String> {
        let id = self.client.session_id().await.ok().flatten().expect("a session id");
        let url = format!("{}/session/{id}/se/log", self.webdriver);
        let answer = tokio::task::spawn_blocking(move || {
            let mut r = ureq::post(&url).header("Content-Type", "application/json").send(r#"{"type":"browser"}"#)?;
            let text = r.body_mut().read_to_string()?;
            Ok::<Value, ureq::Error>(serde_json::from_str(&text).unwrap_or_default())
        })
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot read the browser's console: {e}"));
        answer["value"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|m| format!("{} {}", m["level"].as_str().unwrap_or(""), m["message"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The console's errors since the last call (see [`Chrome::console`]).
    pub async fn console_errors(&self) -> Vec<String> {
        self.console().await.into_iter().filter(|m| m.starts_with("SEVERE")).collect()
    }

    /// Waits for an element matching `css` that is displayed.
    pub async fn wait(&self, css: &str) -> Element {
        let start = Instant::now();
        loop {
            if let Ok(all) = self.client.find_all(Locator::Css(css)).await {
                for e in all {
                    if e.is_displayed().await.unwrap_or(false) {
                        return e;
                    }
                }
            }
            if start.elapsed() > WAIT {
                self.fail(&format!("no visible element {css:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css` whose text contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> Element {
        let start = Instant::now();
        loop {
            if let Ok(all) = self.client.find_all(Locator::Css(css)).await {
                for e in all {
                    if e.text().await.is_ok_and(|t| t.contains(text)) {
                        return e;
                    }
                }
            }
            if start.elapsed() > WAIT {
                self.fail(&format!("no element {css:?} with the text {text:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first displayed element matching `css` whose text
    /// contains `text` (any, when `text` is empty); an element that htmx
    /// swapped away between finding and clicking is found again.
    pub async fn click_text(&self, css: &str, text: &str) {
        let start = Instant::now();
        loop {
            let e = if text.is_empty() { self.wait(css).await } else { self.wait_text(css, text).await };
            match e.click().await {
                Ok(()) => return,
                Err(err) if start.elapsed() > WAIT => {
                    self.fail(&format!("cannot click {css:?} ({text:?}): {err}")).await;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Clicks the first displayed element matching `css` (see [`Chrome::click_text`]).
    pub async fn click(&self, css: &str) {
        self.click_text(css, "").await;
    }

    /// Waits until `script` (a function body) returns true.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let start = Instant::now();
        loop {
            if self.client.execute(script, vec![]).await.is_ok_and(|v| v == Value::Bool(true)) {
                return;
            }
            if start.elapsed() > WAIT {
                self.fail(&format!("never true: {what}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The texts of every element matching `css`, in page order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let v = self
            .js_with(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(v).expect("a list of texts")
    }

    /// Replaces what an input holds with `text`, typed key by key (so the
    /// page sees input events, as from a person).
    pub async fn type_into(&self, css: &str, text: &str) -> Element {
        let e = self.wait(css).await;
        e.clear().await.expect("clear the field");
        e.send_keys(text).await.unwrap_or_else(|err| panic!("cannot type into {css}: {err}"));
        e
    }

    /// Sets a marker on the page's `window`; [`Chrome::same_page`] tells
    /// whether the page was reloaded since.
    pub async fn mark_page(&self) {
        self.js("window.__kronikaMark = 'still here'; return true;").await;
    }

    /// True when the page is the one [`Chrome::mark_page`] marked (no reload).
    pub async fn same_page(&self) -> bool {
        self.js("return window.__kronikaMark === 'still here';").await == Value::Bool(true)
    }

    /// Signs in through the form and waits to leave the sign-in page.
    pub async fn sign_in(&self, user: &str, password: &str) {
        self.goto("/login").await;
        self.type_into("form.login input[name=user]", user).await;
        self.type_into("form.login input[name=password]", password).await;
        self.click("form.login button").await;
        self.wait_until("signed in (the sign-in page left)", "return location.pathname !== '/login';").await;
    }

    /// Saves what the window shows to `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("no screenshot: {e}"));
        let path = screenshot_path(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create target/screenshots");
        std::fs::write(&path, &png).expect("write the screenshot");
        path
    }

    /// Scrolls so the element matching `css` is in view.
    pub async fn scroll_to(&self, css: &str) {
        self.wait(css).await;
        self.js_with(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'end'}); return true;",
            vec![json!(css)],
        )
        .await;
    }
}
