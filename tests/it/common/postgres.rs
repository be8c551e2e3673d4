//! A private PostgreSQL cluster for the tests, made with `initdb` in a
//! temporary folder and listening on a free 127.0.0.1 port (and a Unix
//! socket in the same folder). One cluster serves the whole test run
//! (`initdb` takes seconds); each test takes its own database from it with
//! [`Postgres::database`], so tests stay independent and may run in
//! parallel. The role `kronika` (password [`PASSWORD`]) owns every
//! database.
//!
//! `tests/run.sh` installs Debian's `postgresql` package; the binaries are
//! found in `/usr/lib/postgresql/<version>/bin`. As root (CI) the server
//! runs as the `postgres` system user, which owns the cluster's folder:
//! PostgreSQL refuses to run as root. A watchdog shell stops the server
//! when the test process exits, however it exits.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The password of the `kronika` role (and of the `postgres` superuser).
pub const PASSWORD: &str = "kronika-test-heslo";
const INSTALL_HINT: &str = "run `apt-get install postgresql` (tests/run.sh installs it)";

/// The running cluster.
pub struct Postgres {
    dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    /// The uid and gid the server runs as (`postgres` when the tests run as root).
    owner: Option<(u32, u32)>,
    /// The watchdog's stdin: closing it (the test process ending) stops the server.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// A database of its own for one test.
pub struct Database {
    pub name: String,
    /// `postgres://kronika:PASSWORD@127.0.0.1:PORT/NAME`
    pub url: String,
}

static CLUSTER: OnceLock<Postgres> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The run's cluster, started on first use. Panics with what to do when
/// PostgreSQL is not installed or does not start.
pub fn cluster() -> &'static Postgres {
    CLUSTER.get_or_init(|| Postgres::start("shared").unwrap_or_else(|e| panic!("private PostgreSQL: {e}")))
}

static NEXT_CLUSTER: AtomicU32 = AtomicU32::new(0);

impl Postgres {
    /// A cluster of one test's own, for tests that stop or restart the
    /// server (the shared [`cluster`] serves tests running meanwhile);
    /// stopped and removed when dropped.
    pub fn private() -> Postgres {
        let name = format!("own{}", NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed));
        Postgres::start(&name).unwrap_or_else(|e| panic!("private PostgreSQL: {e}"))
    }

    /// Stops the server (fast: sessions are ended, as at a server's restart).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "-t", "30", "stop"])
            .unwrap_or_else(|e| panic!("cannot stop PostgreSQL: {e}\n{}", self.log_tail()));
    }

    /// Starts the stopped server again, on the same port.
    pub fn start_again(&self) {
        self.start_server().unwrap_or_else(|e| panic!("cannot start PostgreSQL again: {e}"));
    }

    fn start(name: &str) -> Result<Postgres, String> {
        let bin = find_bin().ok_or_else(|| format!("cannot find initdb: {INSTALL_HINT}"))?;
        let dir = std::env::temp_dir().join(format!("kronika-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let owner = if is_root() { Some(postgres_ids()?) } else { None };
        std::fs::write(dir.join("pw"), PASSWORD).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = owner {
            chown(&dir, uid, gid)?;
            chown(&dir.join("pw"), uid, gid)?;
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let pg = Postgres { dir, port, bin, owner, watchdog: Mutex::new(None) };
        pg.run(
            "initdb",
            &["-D", &pg.data(), "-A", "scram-sha-256", "--pwfile", &pg.path("pw"), "-U", "postgres", "-E", "UTF8"],
        )?;
        // TLS with a self-signed certificate for 127.0.0.1 (clients that
        // ask for TLS trust it through ca_file; others connect in plain).
        pg.make_certificate()?;
        // Small and quick: no fsync (a test cluster), enough connections.
        std::fs::OpenOptions::new()
            .append(true)
            .open(pg.dir.join("data/postgresql.conf"))
            .and_then(|mut f| {
                use std::io::Write;
                writeln!(
                    f,
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n\
                     ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'",
                    pg.path("server.crt"),
                    pg.path("server.key")
                )
            })
            .map_err(|e| e.to_string())?;
        pg.start_server()?;
        pg.sql("postgres", &format!("CREATE ROLE kronika LOGIN PASSWORD '{PASSWORD}'"))?;
        pg.arm_watchdog()?;
        Ok(pg)
    }

    /// CPU seconds the server has used (user and system): the postmaster,
    /// the backends it has reaped and those still running (for the
    /// benchmark, which weighs the server's share of an import).
    #[allow(dead_code)]
    pub fn server_cpu(&self) -> f64 {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        let Some(pid) = pid else { return 0.0 };
        // Fields after the command's closing parenthesis: ppid is field 4,
        // utime 14, stime 15, cutime 16, cstime 17 (proc(5)); state (3) is skipped.
        let fields = |p: &str| -> Option<Vec<u64>> {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let rest = stat.rsplit_once(')')?.1;
            Some(rest.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect())
        };
        let ticks = 100.0; // USER_HZ on Linux
        let mut total = fields(&pid.to_string()).map(|f| f[10] + f[11] + f[12] + f[13]).unwrap_or(0);
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(f) = fields(&name).filter(|f| f.first() == Some(&u64::from(pid))) {
                total += f[10] + f[11];
            }
        }
        total as f64 / ticks
    }

    /// The server's certificate (PEM), to give a client as its `ca_file`.
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("server.crt")
    }

    fn make_certificate(&self) -> Result<(), String> {
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout"])
            .arg(self.dir.join("server.key"))
            .arg("-out")
            .arg(self.dir.join("server.crt"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run openssl: {e} (tests/run.sh installs it)"))?;
        if !out.status.success() {
            return Err(format!("openssl failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        for name in ["server.key", "server.crt"] {
            let path = self.dir.join(name);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = self.owner {
                chown(&path, uid, gid)?;
            }
        }
        Ok(())
    }

    fn data(&self) -> String {
        self.path("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Runs one of PostgreSQL's programs as the cluster's owner.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.args(args).env("PGPASSWORD", PASSWORD).stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().map_err(|e| format!("cannot run {program}: {e} ({INSTALL_HINT})"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn start_server(&self) -> Result<(), String> {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        self.run("pg_ctl", &["-D", &self.data(), "-l", &self.path("log"), "-o", &options, "-w", "-t", "30", "start"])
            .map(|_| ())
            .map_err(|e| format!("{e}\nlog: {}", self.log_tail()))
    }

    /// Runs SQL as the superuser in `database`, returning what psql printed
    /// (unaligned, tuples only).
    pub fn sql(&self, database: &str, sql: &str) -> Result<String, String> {
        self.psql("postgres", database, &["-Atc", sql])
    }

    /// psql as `user` in `database` over TCP, stopping at the first error.
    fn psql(&self, user: &str, database: &str, more: &[&str]) -> Result<String, String> {
        let port = self.port.to_string();
        let mut args = vec!["-h", "127.0.0.1", "-p", &port, "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1"];
        args.extend_from_slice(more);
        self.run("psql", &args)
    }

    /// Runs the SQL file `file` (a `pg_dump`) as the `kronika` role in
    /// `database`, stopping at the first error.
    pub fn sql_file(&self, database: &str, file: &Path) -> Result<String, String> {
        // psql runs as the cluster's owner, who may not read the checkout
        // (a clone in a private temporary folder): it reads a copy in the
        // cluster's own folder.
        let copy = self.path(&format!("load-{database}.sql"));
        std::fs::copy(file, &copy).map_err(|e| format!("cannot copy {} for psql: {e}", file.display()))?;
        let loaded = self.psql("kronika", database, &["-q", "-f", &copy]);
        let _ = std::fs::remove_file(&copy);
        loaded
    }

    /// A new, empty database owned by `kronika`.
    pub fn database(&self) -> Database {
        let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        self.sql("postgres", &format!("CREATE DATABASE {name} OWNER kronika"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let url = format!("postgres://kronika:{PASSWORD}@127.0.0.1:{}/{name}", self.port);
        Database { name, url }
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A shell that waits for its stdin to close, then stops the server and
    /// removes the folder: the test process ending closes it.
    fn arm_watchdog(&self) -> Result<(), String> {
        let script = format!(
            "read _ ; '{}' -D '{}' -m immediate -w stop >/dev/null 2>&1 ; rm -rf '{}'",
            self.bin.join("pg_ctl").display(),
            self.data(),
            self.dir.display()
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        // Its own process group: a Ctrl-C to the tests does not kill it
        // before it has stopped the server.
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start the watchdog: {e}"))?;
        let stdin = child.stdin.take().ok_or("the watchdog has no stdin")?;
        *self.watchdog.lock().unwrap_or_else(|p| p.into_inner()) = Some((child, stdin));
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing the watchdog's stdin stops the server and removes the folder.
        if let Some((mut child, stdin)) = self.watchdog.lock().unwrap_or_else(|p| p.into_inner()).take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

fn postgres_ids() -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres")).then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
        })
        .ok_or_else(|| format!("cannot find the postgres user: {INSTALL_HINT}"))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| format!("cannot chown {}: {e}", path.display()))
}
