//! A private Dovecot IMAP server for integration tests.
//!
//! `Dovecot::start()` runs `dovecot -F -c CONFIG` as a child process in a
//! temporary folder, on free 127.0.0.1 ports: a plain port (which also offers
//! STARTTLS) and an implicit-TLS port, with a self-signed certificate for
//! `localhost` / `127.0.0.1`. Users `alice` and `bob`, password `secret`.
//! Mailboxes `Sent`, `Archive`, `Junk` and `Trash` exist from the first login
//! on and carry their SPECIAL-USE attribute; the hierarchy separator is `/`.
//!
//! Nothing is installed here: the `dovecot-imapd` and `openssl` packages must
//! be present (tests/run.sh installs them). As root (CI), mail belongs to the
//! `dovecot` system user and login processes run as `dovenull`. As another
//! user, everything runs under that user's own uid, which Dovecot allows for
//! an unprivileged instance; only that user's files are touched.
//!
//! Every instance has its own folder, ports, base_dir, state_dir and
//! instance_name, so tests may run them in parallel. Dropping the value stops
//! the server and every process it started; a small watchdog process also
//! stops it if the test process dies without running `Drop`.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// The users every instance has; all share [`PASSWORD`].
pub const USERS: &[&str] = &["alice", "bob"];
/// The password of every user.
pub const PASSWORD: &str = "secret";
/// Mailboxes that exist from the start, with their SPECIAL-USE attribute.
pub const SPECIAL_MAILBOXES: &[(&str, &str)] =
    &[("Sent", "\\Sent"), ("Archive", "\\Archive"), ("Junk", "\\Junk"), ("Trash", "\\Trash")];

const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const INSTALL_HINT: &str = "run `apt-get install dovecot-imapd` (tests/run.sh installs it)";

/// A mailbox's `STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub messages: u32,
    pub highestmodseq: u64,
}

/// A running (or stopped) private Dovecot instance.
pub struct Dovecot {
    dir: tempfile::TempDir,
    name: String,
    port: u16,
    tls_port: u16,
    dovecot_bin: PathBuf,
    doveadm_bin: PathBuf,
    running: Option<Running>,
    /// With OAuth2: the introspection URL bearer tokens are checked
    /// against, and the SASL mechanisms offered.
    introspection: Option<(String, String)>,
}

/// The master process (leader of its own process group) and its watchdog.
struct Running {
    master: Child,
    watchdog: Option<(Child, ChildStdin)>,
}

/// A failed start: the error, and whether a listening port was taken.
struct LaunchError {
    port_taken: bool,
    error: anyhow::Error,
}

/// Who runs what: the uid/gid owning the mail, and the users Dovecot's
/// services switch to.
struct Accounts {
    mail_uid: u32,
    mail_gid: u32,
    internal_user: String,
    internal_group: String,
    login_user: String,
}

impl Dovecot {
    /// Starts a private instance and waits (at most 10 s) until its plain
    /// port answers with an `* OK` greeting. Panics with a clear message
    /// (and the log tail) when that fails.
    pub fn start() -> Dovecot {
        Dovecot::try_start().unwrap_or_else(|e| panic!("private dovecot: {e:#}"))
    }

    /// [`Dovecot::start`] returning the error instead of panicking.
    pub fn try_start() -> Result<Dovecot> {
        Dovecot::try_start_with(None)
    }

    /// An instance that also takes XOAUTH2 and OAUTHBEARER, checking each
    /// bearer token by introspection (POST `token=…`) at `introspection_url`;
    /// the answer must be `{"active": true, "username": USER}`.
    pub fn start_with_oauth(introspection_url: &str) -> Dovecot {
        Dovecot::start_with_mechanisms(introspection_url, "xoauth2 oauthbearer")
    }

    /// [`Dovecot::start_with_oauth`] offering only `mechanisms` (e.g. `xoauth2`, as Outlook).
    pub fn start_with_mechanisms(introspection_url: &str, mechanisms: &str) -> Dovecot {
        Dovecot::try_start_with(Some((introspection_url.to_string(), mechanisms.to_string())))
            .unwrap_or_else(|e| panic!("private dovecot with OAuth2: {e:#}"))
    }

    fn try_start_with(introspection: Option<(String, String)>) -> Result<Dovecot> {
        let dovecot_bin =
            find_program("dovecot").ok_or_else(|| anyhow!("`dovecot` is not installed: {INSTALL_HINT}"))?;
        let doveadm_bin =
            find_program("doveadm").ok_or_else(|| anyhow!("`doveadm` is not installed: {INSTALL_HINT}"))?;
        let openssl = find_program("openssl")
            .ok_or_else(|| anyhow!("`openssl` is not installed: run `apt-get install openssl`"))?;
        let accounts = Accounts::detect()?;

        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!("kronika-dovecot-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        let dir = tempfile::Builder::new().prefix(&format!("{name}-")).tempdir().context("creating the temp dir")?;
        let root = dir.path();
        fs::set_permissions(root, fs::Permissions::from_mode(0o755)).context("chmod 755 the temp dir")?;
        if accounts.mail_uid != fs::metadata("/proc/self")?.uid() {
            // Mail processes run as the `dovecot` user: every folder above
            // the temp dir must let others through.
            for folder in root.ancestors().skip(1) {
                let mode = fs::metadata(folder).map(|m| m.mode()).unwrap_or(0);
                if mode & 0o001 == 0 {
                    bail!(
                        "{} (mode {:o}) cannot be traversed by the `dovecot` user; point TMPDIR to a folder that can, \
                         e.g. /tmp",
                        folder.display(),
                        mode & 0o7777
                    );
                }
            }
        }

        let out = Command::new(&openssl)
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout"])
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem"))
            .stdin(Stdio::null())
            .output()
            .context("running openssl req")?;
        if !out.status.success() {
            bail!("openssl req failed: {}", String::from_utf8_lossy(&out.stderr));
        }

        let mut users = String::new();
        for user in USERS {
            let home = root.join("mail").join(user);
            fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
            users.push_str(&format!(
                "{user}:{{PLAIN}}{PASSWORD}:{}:{}::{}\n",
                accounts.mail_uid,
                accounts.mail_gid,
                home.display()
            ));
        }
        for path in [root.join("mail")].into_iter().chain(USERS.iter().map(|u| root.join("mail").join(u))) {
            std::os::unix::fs::chown(&path, Some(accounts.mail_uid), Some(accounts.mail_gid))
                .with_context(|| format!("chown {} to uid {}", path.display(), accounts.mail_uid))?;
        }
        fs::write(root.join("users"), users).context("writing the users file")?;
        fs::create_dir_all(root.join("state")).context("creating state_dir")?;

        if let Some((url, _)) = &introspection {
            fs::write(
                root.join("oauth2.conf.ext"),
                format!(
                    "introspection_mode = post\nintrospection_url = {url}\nforce_introspection = yes\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"
                ),
            )
            .context("writing oauth2.conf.ext")?;
        }
        let mut dovecot =
            Dovecot { dir, name, port: 0, tls_port: 0, dovecot_bin, doveadm_bin, running: None, introspection };
        // Free ports are found by binding port 0 and closing it; another
        // process may take one in between, so a failed bind means new ports.
        let mut last_err = None;
        for _ in 0..5 {
            let (port, tls_port) = free_ports()?;
            dovecot.port = port;
            dovecot.tls_port = tls_port;
            fs::write(dovecot.config_path(), dovecot.config(&accounts)).context("writing dovecot.conf")?;
            match dovecot.launch() {
                Ok(()) => return Ok(dovecot),
                Err(e) => {
                    // The temp dir goes with `dovecot`: keep the log tail.
                    let error = anyhow!("{:#}\n{}", e.error, dovecot.log_tail(30));
                    if !e.port_taken {
                        return Err(error);
                    }
                    last_err = Some(error);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("no free ports")))
    }

    /// The plain IMAP port (offers STARTTLS).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The implicit-TLS (IMAPS) port.
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }

    /// The self-signed certificate (PEM) to trust as an extra CA; it names
    /// `localhost` and `127.0.0.1`.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The instance's folder (config, certificate, mail, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The config file; it also appears on the master's command line.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    /// The instance_name, prefix of every process title of this instance.
    pub fn instance_name(&self) -> &str {
        &self.name
    }

    /// PID of the master process (the leader of the instance's process
    /// group), when running.
    pub fn master_pid(&self) -> Option<u32> {
        self.running.as_ref().map(|r| r.master.id())
    }

    /// The user's Maildir (`~/Maildir`, INBOX); other mailboxes are its
    /// `.Name` subfolders (Maildir++). Created by Dovecot at first login.
    pub fn maildir(&self, user: &str) -> PathBuf {
        assert!(USERS.contains(&user), "unknown user {user:?}; the harness has {USERS:?}");
        self.dir.path().join("mail").join(user).join("Maildir")
    }

    /// Connects to the plain port and reads the greeting (not logged in).
    pub fn connect(&self) -> Imap {
        Imap::connect(self.port).unwrap_or_else(|e| self.fail(e))
    }

    /// Connects to the plain port and logs in as `user` with [`PASSWORD`].
    pub fn login(&self, user: &str) -> Imap {
        self.session(user).unwrap_or_else(|e| self.fail(e))
    }

    /// Appends a raw message via IMAP APPEND (creating the mailbox if
    /// missing) and returns its UID (from APPENDUID).
    pub fn append(&self, user: &str, mailbox: &str, raw: &[u8]) -> u32 {
        self.append_with_flags(user, mailbox, raw, &[])
    }

    /// [`Dovecot::append`] with flags, e.g. `&["\\Seen", "$Important"]`.
    pub fn append_with_flags(&self, user: &str, mailbox: &str, raw: &[u8], flags: &[&str]) -> u32 {
        self.try_append(user, mailbox, raw, flags)
            .unwrap_or_else(|e| self.fail(e.context(format!("APPEND to {user}'s {mailbox:?}"))))
    }

    fn try_append(&self, user: &str, mailbox: &str, raw: &[u8], flags: &[&str]) -> Result<u32> {
        let mut imap = self.session(user)?;
        imap.create_if_missing(mailbox)?;
        let flags = if flags.is_empty() { String::new() } else { format!("({}) ", flags.join(" ")) };
        let head = format!("{} {}{{{}}}", quote_mailbox(mailbox), flags, raw.len());
        let resp = imap.command_with_literal("APPEND", &head, raw)?;
        let uid = parse_appenduid(&resp.tagged).ok_or_else(|| anyhow!("no APPENDUID in {:?}", resp.tagged))?;
        imap.logout();
        Ok(uid)
    }

    /// Creates (and subscribes) a mailbox; `Sent`, `Archive`, `Junk` and
    /// `Trash` already exist and carry SPECIAL-USE, which is not an error.
    pub fn create_mailbox(&self, user: &str, mailbox: &str) {
        let run = || -> Result<()> {
            let mut imap = self.session(user)?;
            imap.create_if_missing(mailbox)?;
            imap.logout();
            Ok(())
        };
        run().unwrap_or_else(|e| self.fail(e.context(format!("CREATE {user}'s {mailbox:?}"))))
    }

    /// Expunges the message with this UID (UID STORE +FLAGS \Deleted, UID
    /// EXPUNGE). Panics when there is no such message.
    pub fn expunge(&self, user: &str, mailbox: &str, uid: u32) {
        let run = || -> Result<()> {
            let mut imap = self.session(user)?;
            imap.ok(&format!("SELECT {}", quote_mailbox(mailbox)))?;
            imap.ok(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))?;
            let untagged = imap.ok(&format!("UID EXPUNGE {uid}"))?;
            if !untagged.iter().any(|l| l.ends_with(" EXPUNGE")) {
                bail!("no message with UID {uid}");
            }
            imap.logout();
            Ok(())
        };
        run().unwrap_or_else(|e| self.fail(e.context(format!("expunging UID {uid} in {user}'s {mailbox:?}"))))
    }

    /// `doveadm kick user`: each of the user's connections gets `* BYE`,
    /// then EOF. Returns once doveadm has signalled them.
    pub fn kick(&self, user: &str) {
        let out = self.doveadm(&["kick", user]).unwrap_or_else(|e| self.fail(e));
        // Exit code 68 (EX_NOUSER) just means nobody was connected.
        if !out.status.success() && out.status.code() != Some(68) {
            self.fail(anyhow!(
                "doveadm kick {user} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }

    /// Stops the instance (SIGTERM to all its processes, then waits until
    /// every one is gone), keeping its files. Clients get `* BYE` or EOF.
    /// Does nothing if already stopped.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            stop_running(running);
        }
    }

    /// Starts the instance again on the same ports, with the same files.
    pub fn restart(&mut self) {
        self.stop();
        self.relaunch().unwrap_or_else(|e| self.fail(e));
    }

    /// Makes Dovecot assign a new UIDVALIDITY to a mailbox (as after an
    /// index rebuild): stops, deletes the folder's `dovecot-uidlist` and
    /// `dovecot.index*` (and the mailbox list index), starts again. The
    /// messages stay, with new UIDs from 1. Returns the new UIDVALIDITY.
    pub fn reset_uidvalidity(&mut self, user: &str, mailbox: &str) -> u32 {
        let run = |d: &mut Dovecot| -> Result<u32> {
            let before = d.try_status(user, mailbox)?;
            let folder = d.mailbox_dir(user, mailbox);
            if !folder.is_dir() {
                bail!("mailbox folder {} does not exist", folder.display());
            }
            d.stop();
            remove_files(&folder, |name| name == "dovecot-uidlist" || name.starts_with("dovecot.index"))?;
            remove_files(&d.maildir(user), |name| name.starts_with("dovecot.list.index"))?;
            d.relaunch()?;
            let after = d.try_status(user, mailbox)?;
            if after.uidvalidity == before.uidvalidity {
                bail!("UIDVALIDITY stayed {} after deleting the index", after.uidvalidity);
            }
            Ok(after.uidvalidity)
        };
        run(self).unwrap_or_else(|e| self.fail(e.context(format!("resetting UIDVALIDITY of {user}'s {mailbox:?}"))))
    }

    /// `STATUS mailbox (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)`.
    pub fn status(&self, user: &str, mailbox: &str) -> Status {
        self.try_status(user, mailbox).unwrap_or_else(|e| self.fail(e.context(format!("STATUS {user}'s {mailbox:?}"))))
    }

    fn try_status(&self, user: &str, mailbox: &str) -> Result<Status> {
        let mut imap = self.session(user)?;
        let untagged =
            imap.ok(&format!("STATUS {} (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)", quote_mailbox(mailbox)))?;
        imap.logout();
        let line = untagged.iter().find(|l| l.starts_with("* STATUS ")).ok_or_else(|| anyhow!("no STATUS reply"))?;
        parse_status(line).ok_or_else(|| anyhow!("cannot parse {line:?}"))
    }

    /// Dovecot's log file (`log_path`); config errors at start go to
    /// `master.out` beside it instead.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("dovecot.log")
    }

    /// The last `lines` lines of Dovecot's log and of the master's
    /// stdout/stderr (where config errors land), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for (label, file) in [("dovecot.log", "dovecot.log"), ("master stderr", "master.out")] {
            let text = fs::read(self.dir.path().join(file)).map(|b| String::from_utf8_lossy(&b).into_owned());
            let text = text.unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            if all.is_empty() {
                continue;
            }
            out.push_str(&format!("--- {label} (last {lines} lines) ---\n"));
            for line in &all[all.len().saturating_sub(lines)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    fn fail(&self, e: anyhow::Error) -> ! {
        panic!("private dovecot {}: {e:#}\n{}", self.name, self.log_tail(30))
    }

    fn session(&self, user: &str) -> Result<Imap> {
        let mut imap = Imap::connect(self.port)?;
        imap.ok(&format!("LOGIN {} {}", quote(user), quote(PASSWORD))).with_context(|| format!("LOGIN {user}"))?;
        Ok(imap)
    }

    /// The Maildir++ folder of a mailbox: `~/Maildir` for INBOX, else
    /// `~/Maildir/.A.B` for `A/B` (names in modified UTF-7, as on disk).
    fn mailbox_dir(&self, user: &str, mailbox: &str) -> PathBuf {
        let maildir = self.maildir(user);
        if mailbox.eq_ignore_ascii_case("INBOX") {
            maildir
        } else {
            maildir.join(format!(".{}", mutf7(mailbox).replace('/', ".")))
        }
    }

    fn doveadm(&self, args: &[&str]) -> Result<std::process::Output> {
        Command::new(&self.doveadm_bin)
            .arg("-c")
            .arg(self.config_path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running doveadm {args:?}"))
    }

    /// Starts on the current ports; retries for a while if another process
    /// has taken one of them meanwhile.
    fn relaunch(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.launch() {
                Ok(()) => return Ok(()),
                Err(e) if e.port_taken && Instant::now() < deadline => sleep(Duration::from_millis(200)),
                Err(e) => return Err(e.error),
            }
        }
    }

    /// Spawns the master and waits for the greeting.
    fn launch(&mut self) -> Result<(), LaunchError> {
        let log_offset = fs::metadata(self.log_path()).map(|m| m.len()).unwrap_or(0);
        let master_out = self.dir.path().join("master.out");
        let spawned = (|| -> Result<Child> {
            let out = fs::File::create(&master_out).context("creating master.out")?;
            let err = out.try_clone()?;
            Command::new(&self.dovecot_bin)
                .arg("-F")
                .arg("-c")
                .arg(self.config_path())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .with_context(|| format!("spawning {}", self.dovecot_bin.display()))
        })();
        let master = spawned.map_err(|error| LaunchError { port_taken: false, error })?;
        let watchdog = spawn_watchdog(master.id());
        self.running = Some(Running { master, watchdog });
        let started = Instant::now();
        self.wait_ready().map_err(|e| {
            self.stop();
            let mut output = read_from(&self.log_path(), log_offset);
            output.push_str(&read_from(&master_out, 0));
            LaunchError {
                port_taken: output.contains("Address already in use"),
                error: e.context(format!("dovecot did not become ready within {:?}", started.elapsed())),
            }
        })
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = anyhow!("no attempt");
        while Instant::now() < deadline {
            let running = self.running.as_mut().expect("launched");
            if let Some(status) = running.master.try_wait()? {
                bail!("dovecot exited at start ({status})");
            }
            match greeting(self.port) {
                Ok(line) if line.starts_with("* OK") => return Ok(()),
                Ok(line) => last = anyhow!("unexpected greeting {line:?}"),
                Err(e) => last = e,
            }
            sleep(Duration::from_millis(20));
        }
        Err(last.context("timed out waiting for `* OK`"))
    }

    fn config(&self, a: &Accounts) -> String {
        let t = self.dir.path().display();
        let mut special = String::new();
        for (name, attr) in SPECIAL_MAILBOXES {
            special.push_str(&format!("  mailbox {name} {{\n    special_use = {attr}\n    auto = subscribe\n  }}\n"));
        }
        format!(
            r#"# Private test instance written by tests/common/dovecot.rs
instance_name = {name}
base_dir = {t}/run
state_dir = {t}/state
log_path = {t}/dovecot.log
auth_verbose = yes
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{t}/cert.pem
ssl_key = <{t}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login{mechanisms}
# Tests of failed logins should not wait the default 2 s (Dovecot still
# answers a failure up to 0.5 s late).
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
mailbox_list_index = yes
mail_plugins =
imap_idle_notify_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
{special}}}
{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {t}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {t}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
  # No auth penalty (2, 4, 8, 15 s added to every login after a failed one
  # from the same IP): auth cannot open this socket and runs without it.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"#,
            name = self.name,
            internal_user = a.internal_user,
            internal_group = a.internal_group,
            login_user = a.login_user,
            port = self.port,
            tls_port = self.tls_port,
            mechanisms = if self.introspection.is_some() { " xoauth2 oauthbearer" } else { "" },
            oauth_passdb = if self.introspection.is_some() {
                format!(
                    "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {t}/oauth2.conf.ext\n}}\n"
                )
            } else {
                String::new()
            },
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM to the instance's whole process group, then waits until the
/// master is reaped and no process of the group is left (children hold the
/// listening sockets, so a restart must wait for them); SIGKILL after
/// [`STOP_TIMEOUT`]. Signalling only the master is slow: it exits after
/// about a second, and `imap`, `stats` and `log` processes serving open
/// connections linger for seconds more.
fn stop_running(mut running: Running) {
    if let Some((mut watchdog, stdin)) = running.watchdog.take() {
        let _ = watchdog.kill();
        let _ = watchdog.wait();
        drop(stdin);
    }
    let group = format!("-{}", running.master.id());
    signal(&group, "TERM");
    let deadline = Instant::now() + STOP_TIMEOUT;
    let mut master_gone = false;
    loop {
        master_gone = master_gone || matches!(running.master.try_wait(), Ok(Some(_)));
        if master_gone && group_members(running.master.id()).is_empty() {
            return;
        }
        if Instant::now() > deadline {
            break;
        }
        sleep(Duration::from_millis(5));
    }
    signal(&group, "KILL");
    let _ = running.master.wait();
    let deadline = Instant::now() + STOP_TIMEOUT;
    while !group_members(running.master.id()).is_empty() && Instant::now() < deadline {
        sleep(Duration::from_millis(5));
    }
}

/// A `sh` in its own process group that kills the instance's process group
/// when its stdin closes, i.e. when the test process dies without `Drop`
/// (a killed test binary, Ctrl-C). Normally it is killed first.
fn spawn_watchdog(pgid: u32) -> Option<(Child, ChildStdin)> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"read _ ; env kill -TERM -- "-$0" 2>/dev/null; sleep 2; env kill -KILL -- "-$0" 2>/dev/null"#)
        .arg(pgid.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()?;
    let stdin = child.stdin.take()?;
    Some((child, stdin))
}

/// `kill -SIG -- target` (a PID, or `-PGID` for a process group).
fn signal(target: &str, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Live (non-zombie) processes whose process group is `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else { return pids };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state ppid pgrp ..."; comm may contain spaces.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            pids.push(pid);
        }
    }
    pids
}

/// A file's text from byte `offset` on (lossy UTF-8; empty if unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut file) = fs::File::open(path) {
        use std::io::Seek;
        if file.seek(std::io::SeekFrom::Start(offset)).is_ok() {
            let _ = file.read_to_end(&mut text);
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

fn remove_files(dir: &Path, matches: impl Fn(&str) -> bool) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(&matches) {
            fs::remove_file(entry.path()).with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Two distinct free ports on 127.0.0.1 (bound together, then released).
fn free_ports() -> Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    let b = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

fn greeting(port: u16) -> Result<String> {
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_string())
}

/// Finds a program in PATH, or in the sbin folders a non-root PATH lacks.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

impl Accounts {
    fn detect() -> Result<Accounts> {
        let me = fs::metadata("/proc/self").context("reading /proc/self")?;
        let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
        let group = fs::read_to_string("/etc/group").unwrap_or_default();
        let user_by_name = |name: &str| {
            passwd
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 3 && f[0] == name)
                .map(|f| (f[2].parse::<u32>().unwrap_or(u32::MAX), f[3].parse::<u32>().unwrap_or(u32::MAX)))
        };
        let user_by_uid = |uid: u32| {
            passwd
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[2] == uid.to_string())
                .map(|f| f[0].to_string())
        };
        let group_by_gid = |gid: u32| {
            group
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[2] == gid.to_string())
                .map(|f| f[0].to_string())
        };
        if me.uid() == 0 {
            let (uid, gid) =
                user_by_name("dovecot").ok_or_else(|| anyhow!("no `dovecot` user in /etc/passwd: {INSTALL_HINT}"))?;
            if user_by_name("dovenull").is_none() {
                bail!("no `dovenull` user in /etc/passwd: {INSTALL_HINT}");
            }
            Ok(Accounts {
                mail_uid: uid,
                mail_gid: gid,
                internal_user: "dovecot".into(),
                internal_group: group_by_gid(gid).unwrap_or_else(|| "dovecot".into()),
                login_user: "dovenull".into(),
            })
        } else {
            // Unprivileged: Dovecot cannot switch users, so every service and
            // the mail run as the current user.
            let user = user_by_uid(me.uid())
                .or_else(|| std::env::var("USER").ok())
                .ok_or_else(|| anyhow!("uid {} has no name in /etc/passwd", me.uid()))?;
            let group = group_by_gid(me.gid()).ok_or_else(|| anyhow!("gid {} has no name in /etc/group", me.gid()))?;
            Ok(Accounts {
                mail_uid: me.uid(),
                mail_gid: me.gid(),
                internal_user: user.clone(),
                internal_group: group,
                login_user: user,
            })
        }
    }
}

/// A minimal blocking IMAP client over a plain TCP socket, for the
/// harness's own commands and for tests that need a raw connection.
pub struct Imap {
    reader: BufReader<TcpStream>,
    tag: u32,
    /// The server's greeting line.
    pub greeting: String,
}

/// The lines a command produced.
#[derive(Debug, Clone)]
pub struct Response {
    /// Untagged and continuation lines, literals inlined, without CRLF.
    pub untagged: Vec<String>,
    /// The tagged completion line, e.g. `A3 OK [APPENDUID 17 4] Append completed.`
    pub tagged: String,
}

impl Response {
    /// The completion status: `OK`, `NO` or `BAD`.
    pub fn status(&self) -> &str {
        self.tagged.split(' ').nth(1).unwrap_or("")
    }

    pub fn is_ok(&self) -> bool {
        self.status() == "OK"
    }
}

impl Imap {
    /// Connects to 127.0.0.1:port and reads the greeting.
    pub fn connect(port: u16) -> Result<Imap> {
        let stream = TcpStream::connect(("127.0.0.1", port)).with_context(|| format!("connecting to port {port}"))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        let mut imap = Imap { reader: BufReader::new(stream), tag: 0, greeting: String::new() };
        let greeting = imap.read_line()?;
        if !greeting.starts_with("* OK") {
            bail!("unexpected greeting {greeting:?}");
        }
        imap.greeting = greeting;
        Ok(imap)
    }

    /// The socket, e.g. to change its read timeout.
    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Writes bytes as they are (e.g. `DONE\r\n` to end IDLE).
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.reader.get_mut().write_all(data).context("writing to the IMAP socket")
    }

    /// Reads one response line with literals inlined (lossy UTF-8),
    /// without the final CRLF; `None` at EOF.
    pub fn try_read_line(&mut self) -> Result<Option<String>> {
        let mut line = Vec::new();
        loop {
            let n = self.reader.read_until(b'\n', &mut line).context("reading from the IMAP socket")?;
            if n == 0 {
                return if line.is_empty() { Ok(None) } else { bail!("EOF inside a response line") };
            }
            if line.ends_with(b"\n") {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
            }
            match literal_len(&line) {
                Some(len) => {
                    let mut literal = vec![0; len];
                    self.reader.read_exact(&mut literal).context("reading a literal")?;
                    line.extend_from_slice(b"\r\n");
                    line.extend_from_slice(&literal);
                }
                None => return Ok(Some(String::from_utf8_lossy(&line).into_owned())),
            }
        }
    }

    /// Like [`Imap::try_read_line`], with EOF as an error.
    pub fn read_line(&mut self) -> Result<String> {
        self.try_read_line()?.ok_or_else(|| anyhow!("connection closed by the server"))
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("A{}", self.tag)
    }

    /// Sends `TAG command` and reads up to its tagged completion.
    pub fn command(&mut self, command: &str) -> Result<Response> {
        let tag = self.next_tag();
        self.write(format!("{tag} {command}\r\n").as_bytes())?;
        self.read_until_tagged(&tag).with_context(|| format!("{tag} {command}"))
    }

    /// [`Imap::command`] that must end in OK; returns the untagged lines.
    pub fn ok(&mut self, command: &str) -> Result<Vec<String>> {
        let resp = self.command(command)?;
        if !resp.is_ok() {
            bail!("{command} failed: {}", resp.tagged);
        }
        Ok(resp.untagged)
    }

    /// Sends `TAG NAME HEAD` where HEAD ends in a `{n}` literal header,
    /// waits for the continuation, then sends the literal and CRLF.
    pub fn command_with_literal(&mut self, name: &str, head: &str, literal: &[u8]) -> Result<Response> {
        let tag = self.next_tag();
        self.write(format!("{tag} {name} {head}\r\n").as_bytes())?;
        loop {
            let line = self.read_line()?;
            if line.starts_with('+') {
                break;
            }
            if line.starts_with(&format!("{tag} ")) {
                bail!("{name} refused: {line}");
            }
        }
        self.write(literal)?;
        self.write(b"\r\n")?;
        let resp = self.read_until_tagged(&tag)?;
        if !resp.is_ok() {
            bail!("{name} failed: {}", resp.tagged);
        }
        Ok(resp)
    }

    fn read_until_tagged(&mut self, tag: &str) -> Result<Response> {
        let mut untagged = Vec::new();
        let prefix = format!("{tag} ");
        loop {
            let line = self.read_line().with_context(|| format!("after {untagged:?}"))?;
            if line.starts_with(&prefix) {
                return Ok(Response { untagged, tagged: line });
            }
            untagged.push(line);
        }
    }

    /// CREATE + SUBSCRIBE unless the mailbox exists (INBOX always does).
    pub fn create_if_missing(&mut self, mailbox: &str) -> Result<()> {
        if mailbox.eq_ignore_ascii_case("INBOX") {
            return Ok(());
        }
        let resp = self.command(&format!("CREATE {}", quote_mailbox(mailbox)))?;
        if !resp.is_ok() && !resp.tagged.contains("[ALREADYEXISTS]") {
            bail!("CREATE {mailbox:?} failed: {}", resp.tagged);
        }
        self.ok(&format!("SUBSCRIBE {}", quote_mailbox(mailbox)))?;
        Ok(())
    }

    /// LOGOUT, ignoring errors (the harness is done with the connection).
    pub fn logout(mut self) {
        let _ = self.command("LOGOUT");
    }
}

/// `{123}` or `{123+}` at the end of a line.
pub fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// An IMAP quoted string.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A mailbox name as an IMAP quoted string in modified UTF-7 (RFC 3501
/// 5.1.3), so `Odeslaná pošta` works without UTF8=ACCEPT.
pub fn quote_mailbox(name: &str) -> String {
    quote(&mutf7(name))
}

/// Modified UTF-7: printable ASCII as is (`&` as `&-`), other characters
/// as `&` + base64 of UTF-16BE with `,` for `/` + `-`.
pub fn mutf7(name: &str) -> String {
    fn flush(out: &mut String, pending: &mut Vec<u16>) {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            }
        }
        out.push('-');
        pending.clear();
    }
    let mut out = String::new();
    let mut pending = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// The UID from a tagged `OK [APPENDUID uidvalidity uid]`.
pub fn parse_appenduid(tagged: &str) -> Option<u32> {
    let rest = &tagged[tagged.find("[APPENDUID ")? + "[APPENDUID ".len()..];
    let mut parts = rest.split([' ', ']']);
    let _uidvalidity = parts.next()?;
    parts.next()?.parse().ok()
}

/// `* STATUS name (UIDVALIDITY 1 UIDNEXT 2 MESSAGES 1 HIGHESTMODSEQ 3)`
pub fn parse_status(line: &str) -> Option<Status> {
    let items = line[line.rfind('(')? + 1..].trim_end_matches(')');
    let words: Vec<&str> = items.split_whitespace().collect();
    let get = |key: &str| words.chunks(2).find(|p| p.len() == 2 && p[0].eq_ignore_ascii_case(key)).map(|p| p[1]);
    Some(Status {
        uidvalidity: get("UIDVALIDITY")?.parse().ok()?,
        uidnext: get("UIDNEXT")?.parse().ok()?,
        messages: get("MESSAGES")?.parse().ok()?,
        highestmodseq: get("HIGHESTMODSEQ")?.parse().ok()?,
    })
}
