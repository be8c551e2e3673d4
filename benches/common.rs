//! Helpers shared by the benchmarks: running a child process and measuring
//! its wall time, CPU time (wait4) and peak memory (its VmHWM), and facts about the
//! machine the figures come from.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Wall time, CPU time and peak resident memory of a child process.
pub struct Run {
    pub wall: Duration,
    /// User and system CPU seconds of the process (and children it waited for).
    pub user: f64,
    pub sys: f64,
    pub max_rss_kb: i64,
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start {cmd:?}: {e}"),
    };
    let pid = child.id() as libc::pid_t;
    // Read output on threads so the child never blocks on a full pipe.
    let mut child = child;
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    // wait4's ru_maxrss is at least this process's own RSS when the child
    // was spawned (Linux carries the parent's high-water mark over exec),
    // so a bench that holds an index in memory would see every child as
    // big as itself. The child's own VmHWM, read while it runs, is its
    // peak; wait4's figure is kept only for a child too short to be read.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hwm = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0i64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kb) = vm_hwm_kb(pid) {
                    peak = peak.max(kb);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let mut status: libc::c_int = 0;
    // SAFETY: plain wait4 on our own child; rusage is written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled = hwm.join().unwrap_or(0);
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let ok = r == pid && std::process::ExitStatus::from_raw(status).success();
    if !ok {
        eprintln!("{cmd:?} failed:\n{stderr}");
    }
    std::mem::forget(child);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let max_rss_kb = if sampled > 0 { sampled } else { usage.ru_maxrss };
    Run { wall, user: secs(usage.ru_utime), sys: secs(usage.ru_stime), max_rss_kb, ok, stdout, stderr }
}

/// The peak resident memory of a running process (VmHWM), in KB.
fn vm_hwm_kb(pid: libc::pid_t) -> Option<i64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn have(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().map(|o| o.status.success()).unwrap_or(false)
}

pub fn dir_bytes(p: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                Err(_) => {}
            }
        }
    }
    total
}

/// The load averages, as `uptime` shows them.
pub fn load() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let f: Vec<&str> = text.split_whitespace().collect();
    if f.len() < 3 { "unknown".into() } else { format!("{} {} {}", f[0], f[1], f[2]) }
}

/// CPU model and count, memory, kernel: what the figures depend on.
pub fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim()))
        .unwrap_or("unknown CPU");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cpus} CPUs, {:.1} GB RAM, Linux {}", mem_kb as f64 / 1048576.0, kernel.trim())
}

/// First line of a program's version output (stdout or stderr).
pub fn version(cmd: &str, arg: &str) -> String {
    match Command::new(cmd).arg(arg).output() {
        Ok(o) => {
            let text = String::from_utf8_lossy(if o.stdout.is_empty() { &o.stderr } else { &o.stdout }).into_owned();
            text.lines().next().unwrap_or("").trim().to_string()
        }
        Err(_) => "unknown".into(),
    }
}

/// A client chosen for measuring, with its size.
pub struct Chosen {
    pub id: i64,
    pub items: i64,
    pub class: &'static str,
}

/// `n` clients over every size: the 10 largest, 10 around the median, the
/// 10 smallest, the rest evenly spaced by rank.
pub fn choose_clients(store: &kronika::store::Store, n: usize) -> Vec<Chosen> {
    let mut stmt = store
        .sqlite()
        .unwrap()
        .prepare(
            "SELECT c.id, (SELECT COUNT(DISTINCT l.item_id) FROM item_links l WHERE l.client_id = c.id) AS n
             FROM clients c ORDER BY n DESC, c.id",
        )
        .expect("the sizes query");
    let all: Vec<(i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("client sizes")
        .collect::<Result<_, _>>()
        .expect("client sizes");
    let len = all.len();
    let mut picked: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let mut take = |i: usize, class: &'static str, out: &mut Vec<Chosen>| {
        if i < len && picked.insert(i) {
            out.push(Chosen { id: all[i].0, items: all[i].1, class });
        }
    };
    let k = (n / 20).clamp(1, 10);
    for i in 0..k {
        take(i, "largest", &mut out);
    }
    for i in 0..k {
        take(len / 2 - k / 2 + i, "median", &mut out);
    }
    for i in 0..k {
        take(len.saturating_sub(1 + i), "smallest", &mut out);
    }
    let rest = n.saturating_sub(out.len());
    for j in 0..rest {
        take(j * len / rest.max(1), "spread", &mut out);
    }
    // Ranks already taken: fill up with their neighbours.
    let mut i = 0;
    while out.len() < n.min(len) && i < len {
        take(i, "spread", &mut out);
        i += 1;
    }
    out
}

/// The options of the corpus benchmarks (`pipeline`, `imap`, `postgres`):
/// `--messages N --clients N --seed S --out DIR --keep` and the flags each
/// benchmark asks of [`Opts::flag`]. Without `--bench` (`cargo test
/// --all-targets` runs benchmarks so) a smoke run: `smoke_messages`
/// messages, 20 clients, in a temporary folder that is removed after.
pub struct Opts {
    pub messages: usize,
    pub clients: usize,
    pub seed: u64,
    pub keep: bool,
    pub out: std::path::PathBuf,
    /// A quick run under `cargo test`; its folder is removed at the end.
    pub smoke: bool,
    flags: Vec<String>,
}

impl Opts {
    /// Reads the process's arguments; `name` names the output folder
    /// (`target/NAME`, or `NAME-smoke-PID` in the temporary folder).
    pub fn parse(messages: usize, name: &str, smoke_messages: usize) -> Opts {
        Opts::from_args(std::env::args().skip(1).collect(), messages, name, smoke_messages)
    }

    fn from_args(args: Vec<String>, messages: usize, name: &str, smoke_messages: usize) -> Opts {
        let smoke = !args.iter().any(|a| a == "--bench");
        let mut o = Opts {
            messages: if smoke { smoke_messages } else { messages },
            clients: if smoke { 20 } else { 400 },
            seed: 42,
            keep: false,
            out: if smoke {
                std::env::temp_dir().join(format!("kronika-{name}-smoke-{}", std::process::id()))
            } else {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join(name)
            },
            smoke,
            flags: Vec::new(),
        };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let mut value = |what: &str| it.next().unwrap_or_else(|| panic!("{arg} needs {what}"));
            match arg.as_str() {
                "--messages" => o.messages = value("N").parse().expect("--messages N"),
                "--clients" => o.clients = value("N").parse().expect("--clients N"),
                "--seed" => o.seed = value("S").parse().expect("--seed S"),
                "--out" => o.out = std::path::PathBuf::from(value("DIR")),
                "--keep" => o.keep = true,
                // cargo's --bench, and each benchmark's own flags.
                _ => o.flags.push(arg),
            }
        }
        o
    }

    /// Whether the flag `name` (`--tls`) was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

/// Nearest-rank percentile (`p` in 0..=1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Milliseconds, for the tables.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
