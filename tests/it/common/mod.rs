//! Shared test harness: a temporary data folder with its own config, and
//! the `kronika` binary run against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod browser;
pub mod dovecot;
pub mod graph_server;
pub mod oauth_server;
pub mod postgres;
pub mod radicale;
pub mod stores;
pub mod web;

/// A temporary kronika setup: a folder holding `kronika.toml` and the data dir.
pub struct Env {
    pub dir: tempfile::TempDir,
}

/// The example Maildir's config: Jana's and Petr's addresses are ours.
pub const EXAMPLE_CONFIG: &str = r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "petr.dvorak@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[maildir]]
name = "mail"
path = "maildir"
"#;

pub const BASE_CONFIG: &str = r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]
blocklist = ["mama.svobodova@gmail.com"]

[[custom_fields]]
name = "obor"
type = "text"

[[custom_fields]]
name = "segment"
type = "choice"
choices = ["A", "B"]
"#;

impl Env {
    pub fn new() -> Env {
        Env::with_config(BASE_CONFIG)
    }

    pub fn with_config(text: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("kronika.toml"), text).expect("write config");
        Env { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("kronika.toml")
    }

    /// `kronika --config <this env's config> ARGS…`
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("kronika").expect("kronika binary");
        c.env_remove("KRONIKA_CONFIG").env("NO_COLOR", "1").arg("--config").arg(self.config_path()).args(args);
        c
    }

    /// Starts a long-running command (`kronika run`) as a child process,
    /// in this env's folder; it is killed if the test ends without stopping it.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kronika"))
            .current_dir(self.path())
            .env_remove("KRONIKA_CONFIG")
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn kronika");
        Running(child)
    }

    /// Starts a command with its standard output piped (to read what it
    /// prints while it runs: `kronika login`).
    pub fn command(&self, args: &[&str]) -> Running {
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kronika"))
            .current_dir(self.path())
            .env_remove("KRONIKA_CONFIG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("spawn kronika");
        Running(child)
    }

    /// [`Env::spawn`] with the log (standard error, at debug level) written to `log`.
    pub fn spawn_logged(&self, args: &[&str], log: &Path) -> Running {
        let file = std::fs::File::create(log).expect("create the log file");
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kronika"))
            .current_dir(self.path())
            .env_remove("KRONIKA_CONFIG")
            .env("RUST_LOG", "debug")
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn kronika");
        Running(child)
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run kronika");
        assert!(
            out.status.success(),
            "kronika {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs a command that must fail and returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run kronika");
        assert!(!out.status.success(), "kronika {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stderr).expect("utf-8 output")
    }

    /// Runs a read command with `--json` and parses its output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.ok(&a);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("kronika {a:?}: not JSON ({e}): {out}"))
    }
}

/// A child process that is killed when dropped (a failing test leaves no daemon behind).
pub struct Running(pub std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every file under `dir`: path relative to it → bytes (empty when `dir` is missing).
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else if let Ok(rel) = e.path().strip_prefix(dir) {
                out.insert(rel.to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// Copies a folder tree (a fixture Maildir into a test's folder).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The project's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Stops a child with SIGTERM; returns how long it took to exit, and whether it exited well.
#[cfg(unix)]
pub fn terminate(child: &mut std::process::Child) -> (std::time::Duration, bool) {
    let t = std::time::Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (t.elapsed(), status.success());
        }
        if t.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            return (t.elapsed(), false);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Polls `f` every 50 ms until it is true or `limit` passes.
pub fn wait_until(limit: std::time::Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    f()
}
