//! The scale benchmark (issue 14): a store of about 1,000,000 items built
//! through the real CLI, and everything a firm at that size does with it,
//! measured in one run; a Markdown table at the end, also written as JSON
//! to `OUT/scale.json`.
//!
//! ```text
//! cargo bench --bench scale -- [--messages N] [--clients N] [--seed S] [--out DIR] [--keep]
//!     [--no-others] [--no-notmuch] [--compare N] [--spamassassin DIR] [--only STEP,...]
//!     [--rounds R] [--sample N] [--deliver-ms MS] [--corpora standard,varied,spamassassin]
//! ```
//!
//! 1. Data (kept in `OUT/corpus` and reused with `--keep`): the corpus
//!    generator's Maildir++ tree (`--messages`, 2,000 clients), laid out so
//!    that INBOX holds 300,000 messages at the default size (scaled with N;
//!    the older INBOX messages go to small folders of 1,000, `.Archiv.Starsi.NNN`,
//!    so the tree has very large folders and many small ones); call and
//!    meeting notes (front matter, addresses, IČO, client folders, client
//!    names in the text); an ICS file with a few thousand events, a tenth
//!    recurring; a deals CSV. One mid-size client (about 2 % of the mail)
//!    is imported without its domains and addresses, for the re-match.
//! 2. Import: `kronika client import`, `kronika import maildir` on the whole
//!    tree (wall, CPU, peak RSS by wait4; the store's item count polled every
//!    second through a read-only connection gives the rate of the first and
//!    the last 100,000 items), `kronika sync` (notes and calendar),
//!    `kronika deal import`.
//! 3. Sizes of the data folder per item. 4. Search in process
//!    (`app::search::search`, 50 queries, relevance and date order).
//! 5. `app::history`, `app::today::meeting_brief` and `app::client_card` for
//!    200 clients of every size, and `app::today::today` (the Today page). 6. `kronika run` on the whole tree plus a
//!    small live Maildir: time until ready, idle RSS; then the re-match
//!    (`kronika client edit ID --domain …`) while a message is dropped into
//!    the live Maildir every 100 ms (ingest latency). 7. `kronika reindex`.
//!    8. `kronika search` as a process, 50 queries. 9. `mu index`, `notmuch
//!    new` and `kronika import` on 100,000-message Maildirs (standard,
//!    varied, SpamAssassin from `--spamassassin DIR`, by default
//!    /work/bench-data/spamassassin/maildir when it exists; `--corpora`
//!    picks), every file read once before each tool so each starts on a warm
//!    page cache. The million is imported without a warm-up: it cannot stay
//!    cached beside what the import writes.
//!
//! `--only STEP,...` runs some steps (import, sizes, search, clients,
//! daemon, reindex, cli, others); without `import` a store left by an
//! earlier run at the same size is reused (the re-match needs a fresh one).
//! Full run, about 20 minutes on 2 idle cores:
//! `cargo bench --bench scale -- --out /work/bench-data/scale --keep`.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke
//! run of a few hundred messages in a temporary folder, removed after.

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use common::{Chosen, ms, percentile};
use kronika::app;
use kronika::app::search::{SearchInput, search, search_in};
use kronika::app::visibility::Viewer;
use kronika::config::Config;
use kronika::index::{SearchIndex, SortOrder};
use kronika::model::ClientId;
use kronika::store::Store;
use serde_json::{Value, json};

/// Messages at the default size: with notes, events, deals and the
/// documents cut from attachments the store holds about 1,000,000 items.
const DEFAULT_MESSAGES: usize = 936_000;
const KRONIKA: &str = env!("CARGO_BIN_EXE_kronika");
const STEPS: &[&str] = &["import", "sizes", "search", "clients", "daemon", "reindex", "cli", "others"];

// ---------------------------------------------------------------------------
// Options

struct Opts {
    messages: usize,
    clients: usize,
    seed: u64,
    out: PathBuf,
    keep: bool,
    others: bool,
    notmuch: bool,
    compare: usize,
    spamassassin: Option<PathBuf>,
    only: BTreeSet<String>,
    rounds: usize,
    sample: usize,
    /// The comparison corpora to run: standard, varied, spamassassin.
    corpora: BTreeSet<String>,
    /// Live deliveries during the re-match, one per this many ms.
    deliver_ms: u64,
    smoke: bool,
}

impl Opts {
    fn step(&self, s: &str) -> bool {
        self.only.contains(s)
    }
    /// Scales a count given for the default size.
    fn scaled(&self, at_default: usize, min: usize) -> usize {
        ((at_default as f64 * self.messages as f64 / DEFAULT_MESSAGES as f64).round() as usize).max(min)
    }
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let mut o = Opts {
        messages: if smoke { 400 } else { DEFAULT_MESSAGES },
        clients: if smoke { 20 } else { 2_000 },
        seed: 42,
        out: if smoke {
            std::env::temp_dir().join(format!("kronika-scale-smoke-{}", std::process::id()))
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-scale")
        },
        keep: false,
        others: true,
        notmuch: true,
        compare: if smoke { 200 } else { 100_000 },
        // A smoke run stays small: the real corpus only when asked for.
        spamassassin: Some(PathBuf::from("/work/bench-data/spamassassin/maildir")).filter(|p| !smoke && p.is_dir()),
        only: STEPS.iter().map(|s| s.to_string()).collect(),
        rounds: if smoke { 1 } else { 5 },
        sample: if smoke { 20 } else { 200 },
        deliver_ms: 100,
        corpora: ["standard", "varied", "spamassassin"].iter().map(|s| s.to_string()).collect(),
        smoke,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value =
            |name: &str| inline.clone().or_else(|| it.next()).unwrap_or_else(|| panic!("{name} needs a value"));
        let number = |name: &str, v: String| -> usize {
            v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name}: cannot read {v:?} as a number"))
        };
        match key.as_str() {
            "--messages" => o.messages = number("--messages", value("--messages")).max(50),
            "--clients" => o.clients = number("--clients", value("--clients")).max(4),
            "--seed" => o.seed = number("--seed", value("--seed")) as u64,
            "--compare" => o.compare = number("--compare", value("--compare")).max(50),
            "--rounds" => o.rounds = number("--rounds", value("--rounds")).max(1),
            "--sample" => o.sample = number("--sample", value("--sample")).max(1),
            "--deliver-ms" => o.deliver_ms = number("--deliver-ms", value("--deliver-ms")).max(1) as u64,
            "--out" => o.out = PathBuf::from(value("--out")),
            "--spamassassin" => o.spamassassin = Some(PathBuf::from(value("--spamassassin"))),
            "--only" => {
                o.only = value("--only").split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if let Some(bad) = o.only.iter().find(|s| !STEPS.contains(&s.as_str())) {
                    panic!("--only: unknown step {bad:?}; steps: {}", STEPS.join(","));
                }
            }
            "--keep" => o.keep = true,
            "--no-others" => o.others = false,
            "--no-notmuch" => o.notmuch = false,
            "--corpora" => {
                o.corpora =
                    value("--corpora").split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
            }
            "--help" | "-h" => {
                println!(
                    "scale [--messages N] [--clients N] [--seed S] [--out DIR] [--keep] [--no-others] [--no-notmuch]\n\
                     \x20     [--compare N] [--spamassassin DIR] [--only {}] [--rounds R] [--sample N]\n\
                     \x20     [--deliver-ms MS] [--corpora standard,varied,spamassassin]",
                    STEPS.join(",")
                );
                std::process::exit(0);
            }
            // cargo's --bench and anything else: not ours.
            _ => {}
        }
    }
    if !o.others {
        o.only.remove("others");
    }
    o
}

// ---------------------------------------------------------------------------
// Figures and the report

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// p50, p99 and max of a set of latencies.
struct Lat {
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Lat {
    fn of(mut v: Vec<Duration>) -> Lat {
        v.sort();
        Lat {
            n: v.len(),
            p50: percentile(&v, 0.5),
            p99: percentile(&v, 0.99),
            max: v.last().copied().unwrap_or_default(),
        }
    }
    fn text(&self) -> String {
        format!("p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n {})", ms(self.p50), ms(self.p99), ms(self.max), self.n)
    }
    fn json(&self) -> Value {
        json!({ "n": self.n, "p50_ms": ms(self.p50), "p99_ms": ms(self.p99), "max_ms": ms(self.max) })
    }
}

struct Row {
    step: &'static str,
    measure: String,
    value: String,
    target: String,
    pass: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    json: serde_json::Map<String, Value>,
    notes: Vec<String>,
}

impl Report {
    fn row(&mut self, step: &'static str, measure: impl Into<String>, value: impl Into<String>) {
        self.rows.push(Row { step, measure: measure.into(), value: value.into(), target: String::new(), pass: None });
    }
    fn target(
        &mut self,
        step: &'static str,
        measure: impl Into<String>,
        value: impl Into<String>,
        target: &str,
        pass: bool,
    ) {
        self.rows.push(Row {
            step,
            measure: measure.into(),
            value: value.into(),
            target: target.into(),
            pass: Some(pass),
        });
    }
    fn set(&mut self, section: &str, key: &str, v: Value) {
        let s = self.json.entry(section.to_string()).or_insert_with(|| json!({}));
        if let Some(m) = s.as_object_mut() {
            m.insert(key.to_string(), v);
        }
    }
    fn note(&mut self, text: impl Into<String>) {
        let t = text.into();
        println!("note: {t}");
        self.notes.push(t);
    }
    fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "| step | measure | value | target | result |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for r in &self.rows {
            let pass = match r.pass {
                Some(true) => "PASS",
                Some(false) => "MISS",
                None => "",
            };
            let _ = writeln!(s, "| {} | {} | {} | {} | {pass} |", r.step, r.measure, r.value, r.target);
        }
        s
    }
}

/// The machine-readable output: every figure, the table's rows, the notes.
fn write_json(o: &Opts, report: &Report, started: Instant) {
    let mut root = report.json.clone();
    root.insert("machine".into(), json!(common::machine()));
    root.insert("load_after".into(), json!(common::load()));
    root.insert("total_secs".into(), json!(started.elapsed().as_secs_f64()));
    root.insert(
        "rows".into(),
        Value::Array(
            report
                .rows
                .iter()
                .map(|r| json!({"step": r.step, "measure": r.measure, "value": r.value, "target": r.target, "pass": r.pass}))
                .collect(),
        ),
    );
    root.insert("notes".into(), json!(report.notes));
    let path = o.out.join("scale.json");
    std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default() + "\n")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// Processes

fn kronika(config: &Path) -> Command {
    let mut c = Command::new(KRONIKA);
    c.arg("--config").arg(config);
    c
}

/// Runs a kronika command that must succeed.
fn must(what: &str, cmd: &mut Command) -> common::Run {
    let r = common::run(cmd);
    assert!(r.ok, "{what} failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

fn cores(r: &common::Run) -> f64 {
    (r.user + r.sys) / r.wall.as_secs_f64().max(1e-6)
}

/// Memory figures of a process from /proc/PID/status, in kB.
#[derive(Clone, Copy, Default, Debug)]
struct Mem {
    rss: u64,
    hwm: u64,
    /// Anonymous memory (heap) and file-backed pages (tantivy's and
    /// SQLite's mapped files count in RSS but are page cache).
    anon: u64,
    file: u64,
}

impl Mem {
    fn of(pid: u32) -> Mem {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Mem { rss: field("VmRSS:"), hwm: field("VmHWM:"), anon: field("RssAnon:"), file: field("RssFile:") }
    }
    fn max(self, o: Mem) -> Mem {
        Mem {
            rss: self.rss.max(o.rss),
            hwm: self.hwm.max(o.hwm),
            anon: self.anon.max(o.anon),
            file: self.file.max(o.file),
        }
    }
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Our children called `kronika` (to sample a child that common::run started).
fn kronika_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid …
            let Some((comm, rest)) = stat.split_once(") ") else { return false };
            comm.ends_with("(kronika") && rest.split_whitespace().nth(1) == Some(me.as_str())
        })
        .collect()
}

/// [`common::run`], with the child's anonymous and file-backed RSS sampled
/// every `every` (their maxima; wait4 gives only the sum's peak).
fn run_sampled(cmd: &mut Command, every: Duration) -> (common::Run, Mem) {
    let done = AtomicBool::new(false);
    let peak = Mutex::new(Mem::default());
    let r = std::thread::scope(|sc| {
        sc.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                for pid in kronika_children() {
                    let m = Mem::of(pid);
                    let mut p = peak.lock().expect("peak");
                    *p = p.max(m);
                }
                std::thread::sleep(every);
            }
        });
        let r = common::run(cmd);
        done.store(true, Ordering::Relaxed);
        r
    });
    let m = *peak.lock().expect("peak");
    (r, m)
}

/// Peak RSS of this process so far, in kB.
fn self_max_rss() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}

/// A read-only connection to the store, for watching a writer from outside.
fn reader(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("cannot open {} read-only: {e}", db.display()));
    let _ = c.busy_timeout(Duration::from_secs(5));
    c
}

fn max_item_id(c: &rusqlite::Connection) -> i64 {
    c.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0)).unwrap_or(0)
}

fn count(c: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> i64 {
    c.query_row(sql, params, |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

// ---------------------------------------------------------------------------
// Maildir files

/// Every message file of a Maildir tree (files in `cur/` and `new/` at any depth).
fn message_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let leaf = matches!(d.file_name().and_then(|n| n.to_str()), Some("cur" | "new"));
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() && leaf => out.push(e.path()),
                _ => {}
            }
        }
    }
    out
}

/// Reads every message once so both tools start on a warm page cache.
fn warm(root: &Path) -> (usize, Duration) {
    let t = Instant::now();
    let mut buf = Vec::with_capacity(1 << 20);
    let files = message_files(root);
    for f in &files {
        buf.clear();
        if let Ok(mut h) = std::fs::File::open(f) {
            let _ = h.read_to_end(&mut buf);
        }
    }
    (files.len(), t.elapsed())
}

// ---------------------------------------------------------------------------
// The data

/// A row of the generator's clients.csv.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct CsvClient {
    name: String,
    ico: String,
    domains: String,
    emails: String,
    status: String,
}

impl CsvClient {
    fn domains(&self) -> Vec<String> {
        split(&self.domains)
    }
    fn emails(&self) -> Vec<String> {
        split(&self.emails)
    }
}

fn split(s: &str) -> Vec<String> {
    s.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase).collect()
}

fn read_clients(path: &Path) -> Vec<CsvClient> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    r.deserialize().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write_clients(path: &Path, rows: &[CsvClient]) {
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_path(path).expect("clients CSV");
    for r in rows {
        w.serialize(r).expect("a client row");
    }
    w.flush().expect("clients CSV");
}

/// What the data folder holds, recorded in `OUT/corpus/scale-data.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
struct DataSpec {
    messages: usize,
    clients: usize,
    seed: u64,
    inbox: usize,
    notes: usize,
    events: usize,
    deals: usize,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Data {
    spec: DataSpec,
    dir: PathBuf,
    maildir: PathBuf,
    messages: usize,
    bytes: u64,
    folders: usize,
    /// Messages per folder (the largest few).
    largest_folders: Vec<(String, usize)>,
    /// Estimated messages per client (every k-th file read), in CSV order.
    weights: Vec<u64>,
    /// The client imported without its domains and addresses.
    rematch: CsvClient,
    rematch_estimate: u64,
    queries: Vec<String>,
    generate_secs: f64,
    generate_peak_kb: i64,
    layout_secs: f64,
    occurrences_estimate: usize,
}

impl Data {
    fn import_csv(&self) -> PathBuf {
        self.dir.join("clients-import.csv")
    }
    fn notes_dir(&self) -> PathBuf {
        self.dir.join("notes")
    }
    fn ics(&self) -> PathBuf {
        self.dir.join("calendar.ics")
    }
    fn deals_csv(&self) -> PathBuf {
        self.dir.join("deals.csv")
    }
}

fn prepare_data(o: &Opts, report: &mut Report) -> Data {
    let spec = DataSpec {
        messages: o.messages,
        clients: o.clients,
        seed: o.seed,
        inbox: o.scaled(300_000, 1),
        notes: o.scaled(5_000, 20),
        events: o.scaled(3_000, 12),
        deals: o.scaled(10_000, 20),
    };
    let dir = o.out.join("corpus");
    let marker = dir.join("scale-data.json");
    if o.keep
        && let Ok(text) = std::fs::read_to_string(&marker)
        && let Ok(d) = serde_json::from_str::<Data>(&text)
        && d.spec == spec
    {
        println!("data: reusing {} ({} messages, {:.0} MB)", dir.display(), d.messages, mb(d.bytes));
        return d;
    }
    let _ = std::fs::remove_file(&marker);
    let t = Instant::now();
    let cs =
        corpus::CorpusSpec { messages: o.messages, clients: o.clients, seed: o.seed, shape: corpus::Shape::Standard };
    let (c, stats) = corpus::generate_with_stats(&cs, &dir).expect("generate the corpus");
    let generate_secs = t.elapsed().as_secs_f64();
    let generate_peak_kb = self_max_rss();
    println!(
        "data: generated {} messages, {:.0} MB in {generate_secs:.1} s ({:.0} messages/s, {:.1} MB/s), bench peak RSS {:.0} MB\n{}",
        c.messages,
        mb(c.bytes),
        c.messages as f64 / generate_secs.max(1e-3),
        mb(c.bytes) / generate_secs.max(1e-3),
        generate_peak_kb as f64 / 1024.0,
        stats.summary()
    );

    // Layout: INBOX keeps its newest `inbox` messages; the older ones go to
    // small archive folders of 1,000 (names start with the delivery time).
    let t = Instant::now();
    let inbox_cur = c.maildir.join("cur");
    let mut names: Vec<String> = std::fs::read_dir(&inbox_cur)
        .expect("INBOX/cur")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort_by_key(|n| n.split('.').next().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0));
    let overflow = names.len().saturating_sub(spec.inbox);
    for (k, chunk) in names[..overflow].chunks(1_000).enumerate() {
        let folder = c.maildir.join(format!(".Archiv.Starsi.{:03}", k + 1));
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(folder.join(sub)).expect("an archive folder");
        }
        std::fs::write(folder.join("maildirfolder"), "").expect("maildirfolder");
        for n in chunk {
            std::fs::rename(inbox_cur.join(n), folder.join("cur").join(n)).expect("move a message");
        }
    }
    let mut per_folder: BTreeMap<String, usize> = BTreeMap::new();
    let files = message_files(&c.maildir);
    for f in &files {
        let folder = f.parent().and_then(Path::parent).and_then(Path::file_name);
        let name = folder.map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        *per_folder.entry(if name == "maildir" { "INBOX".into() } else { name }).or_default() += 1;
    }
    let mut largest: Vec<(String, usize)> = per_folder.iter().map(|(k, v)| (k.clone(), *v)).collect();
    largest.sort_by_key(|f| std::cmp::Reverse(f.1));
    largest.truncate(4);

    // Client sizes, estimated from every k-th message's From/To/Cc.
    let clients = read_clients(&c.clients_csv);
    let every = (files.len() / 50_000).max(1);
    let weights = sample_client_sizes(&files, &clients, every);
    let layout_secs = t.elapsed().as_secs_f64();

    // The re-match client: the one whose mail is closest to 2 % of all.
    let goal = (o.messages as f64 * 20_000.0 / DEFAULT_MESSAGES as f64) as u64;
    let ri = (0..clients.len())
        .filter(|&i| !clients[i].domains().is_empty())
        .min_by_key(|&i| weights[i].abs_diff(goal))
        .expect("a client with a domain");
    let rematch = clients[ri].clone();
    let mut import: Vec<CsvClient> = clients.clone();
    import[ri].domains.clear();
    import[ri].emails.clear();
    let mut data = Data {
        spec: spec.clone(),
        dir: dir.clone(),
        maildir: c.maildir.clone(),
        messages: c.messages,
        bytes: c.bytes,
        folders: per_folder.len(),
        largest_folders: largest,
        rematch_estimate: weights[ri],
        weights,
        rematch,
        queries: c.queries.clone(),
        generate_secs,
        generate_peak_kb,
        layout_secs,
        occurrences_estimate: 0,
    };
    write_clients(&data.import_csv(), &import);
    write_notes(&data, &clients, spec.notes, o.seed);
    data.occurrences_estimate = write_ics(&data, &clients, spec.events, o.seed);
    write_deals(&data, &clients, spec.deals, o.seed);
    std::fs::write(&marker, serde_json::to_string_pretty(&data).expect("the data marker")).expect("the data marker");
    report.note(format!(
        "layout: INBOX capped at {} messages; {} folders; sampled every {every}th message for client sizes ({:.1} s)",
        spec.inbox, data.folders, data.layout_secs
    ));
    data
}

/// Messages per client, counted on every `every`-th file and scaled up.
fn sample_client_sizes(files: &[PathBuf], clients: &[CsvClient], every: usize) -> Vec<u64> {
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, c) in clients.iter().enumerate() {
        for d in c.domains() {
            owner.insert(d, i);
        }
    }
    let mut counts = vec![0u64; clients.len()];
    let mut buf = vec![0u8; 16 * 1024];
    for f in files.iter().step_by(every) {
        let Ok(mut h) = std::fs::File::open(f) else { continue };
        let n = h.read(&mut buf).unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]);
        let head = head.replace("\r\n", "\n");
        let head = head.split("\n\n").next().unwrap_or("").replace("\n ", " ").replace("\n\t", " ");
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if !(lower.starts_with("from:") || lower.starts_with("to:") || lower.starts_with("cc:")) {
                continue;
            }
            for part in lower.split('@').skip(1) {
                let domain: String =
                    part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
                let mut d = domain.as_str();
                loop {
                    if let Some(&i) = owner.get(d) {
                        seen.insert(i);
                        break;
                    }
                    match d.split_once('.') {
                        Some((_, rest)) if rest.contains('.') => d = rest,
                        _ => break,
                    }
                }
            }
        }
        for i in seen {
            counts[i] += every as u64;
        }
    }
    counts
}

/// Picks a client index with the sampled sizes as weights.
struct Picker {
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(weights: &[u64]) -> Picker {
        let mut t = 0.0;
        Picker {
            cumulative: weights
                .iter()
                .map(|w| {
                    t += *w as f64 + 1.0;
                    t
                })
                .collect(),
        }
    }
    fn pick(&self, rng: &mut corpus::Rng) -> usize {
        let x = rng.unit() * self.cumulative.last().copied().unwrap_or(1.0);
        self.cumulative.partition_point(|&c| c <= x).min(self.cumulative.len() - 1)
    }
}

const OURS: &[(&str, &str)] = &[
    ("Jana Svobodová", "jana.svobodova@modrykamen.cz"),
    ("Petr Dvořák", "petr.dvorak@modrykamen.cz"),
    ("Kateřina Němcová", "katerina.nemcova@modrykamen.cz"),
];

/// The first address of a client: a listed one, else one at its domain.
fn client_address(c: &CsvClient, rng: &mut corpus::Rng) -> Option<String> {
    let emails = c.emails();
    if !emails.is_empty() {
        return Some(emails[rng.below(emails.len())].clone());
    }
    c.domains().first().map(|d| format!("{}@{d}", rng.pick(&["obchod", "nakup", "info", "technik"])))
}

/// A local date between 2024-01-01 and now, as (year, month, day, hour).
fn some_day(rng: &mut corpus::Rng) -> DateTime<Utc> {
    let from = Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 0).single().expect("a date").timestamp();
    let to = Utc::now().timestamp() - 86_400;
    let ts = rng.range(from, to.max(from + 86_400));
    Utc.timestamp_opt(ts - ts % 3600, 0).single().expect("a time")
}

const NOTE_CS: &[&str] = &[
    "Chtějí cenovou nabídku na servis klimatizace a rekuperace, termín do konce měsíce.",
    "Reklamace rekuperační jednotky: technik pojede ve čtvrtek, náhradní díl objednán.",
    "Probrali jsme smlouvu o dílo a harmonogram montáže na hale, dodací list pošlou.",
    "Faktura za poslední servis je po splatnosti, slíbili úhradu do pátku.",
    "Zajímá je tepelné čerpadlo pro novou kancelář, posíláme podklady a objednávku.",
    "Kontrolní den proběhl bez potíží, další schůzka za dva týdny.",
];
const NOTE_EN: &[&str] = &[
    "They want a quotation for the heat pump service before the end of the month.",
    "Discussed the purchase order and the delivery schedule; invoice to follow.",
    "Complaint about the ventilation unit; our technician visits on Thursday.",
];

/// Call and meeting notes: each decided by another kind of evidence.
fn write_notes(data: &Data, clients: &[CsvClient], n: usize, seed: u64) {
    let root = data.notes_dir();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("the notes folder");
    let mut rng = corpus::Rng::new(seed ^ 0x4E07E5);
    let picker = Picker::new(&data.weights);
    for i in 0..n {
        let c = &clients[picker.pick(&mut rng)];
        let en = c.ico.is_empty();
        let day = some_day(&mut rng);
        let text = if en { rng.pick(NOTE_EN) } else { rng.pick(NOTE_CS) };
        let (ours, _) = rng.pick(OURS);
        let stamp = day.format("%Y-%m-%d");
        let (path, body) = match rng.below(5) {
            0 => (
                root.join(format!("{stamp}-{i}.md")),
                format!(
                    "---\nclient: {}\nkind: {}\ndate: {}\n---\n# {}\n\n{text}\n\n{ours}\n",
                    c.name,
                    if rng.chance(0.4) { "meeting" } else { "call" },
                    day.format("%Y-%m-%d %H:%M"),
                    if en { "Call" } else { "Telefonát" }
                ),
            ),
            1 => {
                let who = client_address(c, &mut rng).unwrap_or_default();
                (root.join(format!("{stamp}-hovor-{i}.txt")), format!("Hovor s {who}\n\n{text}\n"))
            }
            2 if !c.ico.is_empty() => {
                (root.join(format!("{stamp}-ico-{i}.md")), format!("# Poznámka IČO {}\n\n{text}\n", c.ico))
            }
            3 => {
                let folder = root.join(c.name.replace('/', "-"));
                std::fs::create_dir_all(&folder).expect("a client folder");
                (folder.join(format!("{stamp}-{i}.md")), format!("# Schůzka\n\n{text}\n"))
            }
            _ => (
                root.join(format!("{stamp}-firma-{i}.md")),
                if en {
                    format!("# Call with {}\n\n{text}\n", c.name)
                } else {
                    format!("# Telefonát\n\nVolal jsem s firmou {}. {text}\n", c.name)
                },
            ),
        };
        std::fs::write(path, body).expect("a note");
    }
}

/// An ICS file of `n` events over the year back and ahead, a tenth of them
/// recurring (weekly with COUNT and an EXDATE, monthly with COUNT). Returns
/// the occurrences expected in the window.
fn write_ics(data: &Data, clients: &[CsvClient], n: usize, seed: u64) -> usize {
    let mut rng = corpus::Rng::new(seed ^ 0x1C5);
    let picker = Picker::new(&data.weights);
    let now = Utc::now().timestamp();
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kronika//scale bench//CS\r\n");
    let fmt = |ts: i64| Utc.timestamp_opt(ts, 0).single().expect("a time").format("%Y%m%dT%H%M%SZ").to_string();
    let mut occurrences = 0;
    for i in 0..n {
        let c = &clients[picker.pick(&mut rng)];
        let recurring = i % 10 == 0;
        let span = if recurring { 120 } else { 330 };
        let day = now / 86_400 + rng.range(-span, span);
        let start = day * 86_400 + rng.range(7, 15) * 3600 + rng.pick(&[0, 1800]);
        let _ = write!(s, "BEGIN:VEVENT\r\nUID:scale-{i}@modrykamen.cz\r\nDTSTAMP:20260101T080000Z\r\n");
        let _ = write!(s, "DTSTART:{}\r\nDTEND:{}\r\n", fmt(start), fmt(start + 3600));
        if recurring {
            if i % 20 == 0 {
                let _ = write!(s, "RRULE:FREQ=WEEKLY;COUNT=20\r\nEXDATE:{}\r\n", fmt(start + 7 * 86_400));
                occurrences += 19;
            } else {
                let _ = write!(s, "RRULE:FREQ=MONTHLY;COUNT=12\r\n");
                occurrences += 12;
            }
        } else {
            occurrences += 1;
        }
        let summary = rng.pick(&["Schůzka – nabídka", "Kontrolní den", "Servisní výjezd", "Call: quotation", "Review"]);
        let _ = write!(s, "SUMMARY:{summary} #{i}\r\nLOCATION:Teams\r\n");
        let (name, addr) = rng.pick(OURS);
        let _ = write!(s, "ORGANIZER;CN={name}:mailto:{addr}\r\n");
        if let Some(a) = client_address(c, &mut rng) {
            let _ = write!(s, "ATTENDEE:mailto:{a}\r\n");
        }
        s.push_str("END:VEVENT\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    std::fs::write(data.ics(), s).expect("the ICS file");
    occurrences
}

/// An accounting export: invoices, offers and lost offers.
fn write_deals(data: &Data, clients: &[CsvClient], n: usize, seed: u64) {
    let mut rng = corpus::Rng::new(seed ^ 0xDEA1);
    let picker = Picker::new(&data.weights);
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_path(data.deals_csv()).expect("deals CSV");
    w.write_record(["Číslo dokladu", "Odběratel", "IČO", "Datum", "Částka", "Měna", "Stav", "Položka"])
        .expect("header");
    for i in 0..n {
        let c = &clients[picker.pick(&mut rng)];
        let d = some_day(&mut rng);
        let amount = (rng.log_uniform(5_000.0, 2_000_000.0) as u64) / 10 * 10;
        let status = rng.weighted(&[("zaplaceno", 70), ("open", 15), ("lost", 15)]);
        let product = rng.pick(&["Klimatizace", "Rekuperace", "Servis", "Tepelná čerpadla", "VZT"]);
        w.write_record([
            format!("FV-S-{i:06}"),
            c.name.clone(),
            c.ico.clone(),
            format!("{}.{}.{}", d.day(), d.month(), d.year()),
            format!("{amount},00"),
            "CZK".into(),
            status.into(),
            product.into(),
        ])
        .expect("a deal row");
    }
    w.flush().expect("deals CSV");
}

// ---------------------------------------------------------------------------
// Configs

struct Setup {
    data_dir: PathBuf,
    /// notes and calendar (for `kronika sync`), and the read side.
    sync: PathBuf,
    /// + the whole Maildir and the live one (for `kronika run`).
    daemon: PathBuf,
    live: PathBuf,
}

fn setup(o: &Opts, data: &Data) -> Setup {
    let data_dir = o.out.join("data");
    let live = o.out.join("live");
    let base = format!(
        "data_dir = {:?}\nown_domains = [\"{}\"]\n\n[[notes]]\nname = \"notes\"\npath = {:?}\nkind = \"call\"\n\n\
         [[calendar]]\nname = \"calendar\"\npath = {:?}\n",
        data_dir.display().to_string(),
        corpus::OUR_DOMAIN,
        data.notes_dir().display().to_string(),
        data.ics().display().to_string()
    );
    let sync = o.out.join("scale-sync.toml");
    let daemon = o.out.join("scale-daemon.toml");
    std::fs::write(&sync, &base).expect("the sync config");
    std::fs::write(
        &daemon,
        format!(
            "{base}\n[[maildir]]\nname = \"mail\"\npath = {:?}\n\n[[maildir]]\nname = \"live\"\npath = {:?}\n",
            data.maildir.display().to_string(),
            live.display().to_string()
        ),
    )
    .expect("the daemon config");
    Setup { data_dir, sync, daemon, live }
}

/// Written when the import step has finished: the store can be reused by
/// `--only` runs that leave `import` out.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct StoreMarker {
    spec: Option<DataSpec>,
    rematch_client: i64,
    rematched: bool,
}

fn open_store(s: &Setup) -> Store {
    let config = Config::load(&s.sync).expect("the config");
    Store::open(&config.db_path(), config.policy()).expect("the store")
}

fn store_marker_path(s: &Setup) -> PathBuf {
    s.data_dir.join("scale-store.json")
}

fn read_store_marker(s: &Setup) -> Option<StoreMarker> {
    serde_json::from_str(&std::fs::read_to_string(store_marker_path(s)).ok()?).ok()
}

fn write_store_marker(s: &Setup, m: &StoreMarker) {
    std::fs::write(store_marker_path(s), serde_json::to_string_pretty(m).unwrap_or_default())
        .expect("the store marker");
}

// ---------------------------------------------------------------------------
// 2. Import

fn import(o: &Opts, data: &Data, s: &Setup, report: &mut Report) -> i64 {
    if s.data_dir.exists() {
        let t = Instant::now();
        let _ = std::fs::remove_dir_all(&s.data_dir);
        println!("import: removed the previous data folder in {:.1} s", t.elapsed().as_secs_f64());
    }
    std::fs::create_dir_all(&s.data_dir).expect("the data folder");
    let r = must("client import", kronika(&s.sync).args(["client", "import"]).arg(data.import_csv()));
    report.row("import", "client import", format!("{} clients in {:.1} s", data.weights.len(), r.wall.as_secs_f64()));

    // No warm-up here: at this size the corpus and what the import writes
    // (originals, documents, the store: about twice the corpus) do not fit
    // in the page cache together, so the import reads as a first import does.

    // Poll the store's highest item id (= items stored) while the import runs.
    let db = s.data_dir.join("kronika.sqlite3");
    let base = max_item_id(&reader(&db));
    let done = Arc::new(AtomicBool::new(false));
    let samples: Arc<Mutex<Vec<(f64, i64)>>> = Arc::default();
    let started = Instant::now();
    let poller = {
        let (done, samples, db) = (done.clone(), samples.clone(), db.clone());
        let every = if o.smoke { Duration::from_millis(50) } else { Duration::from_secs(1) };
        std::thread::spawn(move || {
            let c = reader(&db);
            let mut told = Instant::now();
            while !done.load(Ordering::Relaxed) {
                let n = max_item_id(&c) - base;
                let t = started.elapsed().as_secs_f64();
                samples.lock().expect("samples").push((t, n));
                if told.elapsed() >= Duration::from_secs(60) {
                    told = Instant::now();
                    println!("import: {n} items stored after {t:.0} s ({:.0} items/s)", n as f64 / t.max(1e-3));
                }
                std::thread::sleep(every);
            }
        })
    };
    let every = if o.smoke { Duration::from_millis(50) } else { Duration::from_secs(1) };
    let (r, mem) = run_sampled(kronika(&s.sync).args(["import", "maildir"]).arg(&data.maildir), every);
    assert!(r.ok, "import maildir failed:\n{}\n{}", r.stdout, r.stderr);
    done.store(true, Ordering::Relaxed);
    let _ = poller.join();
    print!("{}", r.stdout);
    let secs = r.wall.as_secs_f64();
    let c = reader(&db);
    let stored = max_item_id(&c) - base;
    let mut samples = std::mem::take(&mut *samples.lock().expect("samples"));
    samples.push((secs, stored));
    // The time at which `n` items were stored (linear between polls).
    let at = |n: i64| -> f64 {
        let mut prev = (0.0, 0);
        for &(t, k) in &samples {
            if k >= n {
                let frac = if k > prev.1 { (n - prev.1) as f64 / (k - prev.1) as f64 } else { 1.0 };
                return prev.0 + frac * (t - prev.0);
            }
            prev = (t, k);
        }
        secs
    };
    let chunk = (stored / 10).clamp(1, 100_000);
    let t_first = at(chunk);
    let t_last_from = at(stored - chunk);
    let t_all = at(stored);
    let first_rate = chunk as f64 / t_first.max(1e-3);
    let last_rate = chunk as f64 / (t_all - t_last_from).max(1e-3);
    let rate = data.messages as f64 / secs;
    let peak = r.max_rss_kb as f64 / 1024.0;
    report.row(
        "import",
        "kronika import maildir (whole tree)",
        format!(
            "{} messages, {:.0} MB in {secs:.1} s: {rate:.0} messages/s, {:.1} MB/s; {stored} items stored",
            data.messages,
            mb(data.bytes),
            mb(data.bytes) / secs
        ),
    );
    report.row(
        "import",
        format!("rate, first {chunk} items vs last {chunk}"),
        format!(
            "{first_rate:.0} vs {last_rate:.0} items/s (last/first {:.2}); after the last item stored: {:.1} s to exit",
            last_rate / first_rate.max(1e-9),
            (secs - t_all).max(0.0)
        ),
    );
    report.row(
        "import",
        "CPU user + sys / wall",
        format!("{:.1} + {:.1} s / {secs:.1} s = {:.2} cores", r.user, r.sys, cores(&r)),
    );
    report.target(
        "import",
        "import peak RSS (wait4; sampled maxima: anonymous / file-backed)",
        format!("{peak:.0} MB ({:.0} MB / {:.0} MB)", mib(mem.anon), mib(mem.file)),
        "< 500 MB",
        peak < 500.0,
    );
    report.set("import", "maildir", json!({
        "messages": data.messages, "bytes": data.bytes, "wall_s": secs, "messages_per_s": rate,
        "mb_per_s": mb(data.bytes) / secs, "items_stored": stored, "user_s": r.user, "sys_s": r.sys,
        "cores": cores(&r), "peak_rss_mb": peak, "anon_max_mb": mib(mem.anon), "file_max_mb": mib(mem.file), "chunk": chunk, "first_chunk_items_per_s": first_rate,
        "last_chunk_items_per_s": last_rate, "t_first_chunk_s": t_first, "t_last_chunk_from_s": t_last_from,
        "t_all_stored_s": t_all, "samples": samples.iter().step_by((samples.len() / 200).max(1)).collect::<Vec<_>>(),
    }));

    let r = must("sync", kronika(&s.sync).arg("sync"));
    print!("{}", r.stdout);
    let after_sync = max_item_id(&c) - base;
    report.row(
        "import",
        "kronika sync (notes + calendar)",
        format!(
            "{} notes, {} VEVENTs ({} occurrences expected): {} items in {:.1} s, peak RSS {:.0} MB",
            data.spec.notes,
            data.spec.events,
            data.occurrences_estimate,
            after_sync - stored,
            r.wall.as_secs_f64(),
            r.max_rss_kb as f64 / 1024.0
        ),
    );
    report.set("import", "sync", json!({ "items": after_sync - stored, "wall_s": r.wall.as_secs_f64() }));
    let r = must("deal import", kronika(&s.sync).args(["deal", "import"]).arg(data.deals_csv()));
    let after_deals = max_item_id(&c) - base;
    report.row(
        "import",
        "kronika deal import",
        format!("{} rows: {} items in {:.1} s", data.spec.deals, after_deals - after_sync, r.wall.as_secs_f64()),
    );
    report.set("import", "deals", json!({ "items": after_deals - after_sync, "wall_s": r.wall.as_secs_f64() }));

    // What the data turned into.
    let t_summary = Instant::now();
    let kinds: Vec<(String, i64)> = {
        let mut st = c.prepare("SELECT kind, COUNT(*) FROM items GROUP BY kind ORDER BY 2 DESC").expect("kinds");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("kinds").collect::<Result<_, _>>().expect("kinds")
    };
    let total: i64 = kinds.iter().map(|k| k.1).sum();
    let contacts = count(&c, "SELECT COUNT(*) FROM contacts", []);
    let clients = count(&c, "SELECT COUNT(*) FROM clients", []);
    let linked = count(&c, "SELECT COUNT(DISTINCT item_id) FROM item_links", []);
    let (threads, longest, in_threads): (i64, i64, i64) = c
        .query_row(
            "SELECT COUNT(*), COALESCE(MAX(n), 0), COALESCE(SUM(n), 0) FROM
               (SELECT COUNT(*) AS n FROM items WHERE kind = 'email' AND thread_id IS NOT NULL GROUP BY thread_id HAVING n > 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("threads");
    let kinds_text = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    report.row("data", "items in the store", format!("{total} ({kinds_text})"));
    report.row(
        "data",
        "clients, contacts, linked items",
        format!(
            "{clients} clients, {contacts} contacts (issue 14 asks ~8,000), {linked} items linked ({:.1} %)",
            100.0 * linked as f64 / total.max(1) as f64
        ),
    );
    report.row("data", "threads (2+ messages)", format!("{threads}, {in_threads} messages; longest {longest}"));
    let corpus_stats: Value = std::fs::read_to_string(data.dir.join("corpus.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|v| v["stats"].clone())
        .unwrap_or(Value::Null);
    report.row(
        "data",
        "mail language, attachments",
        format!(
            "cs {} / en {}; {} attachments",
            corpus_stats["language"]["cs"], corpus_stats["language"]["en"], corpus_stats["attachments"]
        ),
    );
    report.row(
        "data",
        "folders",
        format!(
            "{} folders; largest {}",
            data.folders,
            data.largest_folders.iter().map(|(f, n)| format!("{f} {n}")).collect::<Vec<_>>().join(", ")
        ),
    );
    report.row(
        "data",
        "generator (corpus only)",
        format!(
            "{:.0} s for {} messages ({:.0}/s), bench peak RSS {:.0} MB",
            data.generate_secs,
            data.messages,
            data.messages as f64 / data.generate_secs.max(1e-3),
            data.generate_peak_kb as f64 / 1024.0
        ),
    );
    report.set("data", "items", json!(total));
    report.set("data", "kinds", json!(kinds.iter().cloned().collect::<BTreeMap<_, _>>()));
    report.set("data", "clients", json!(clients));
    report.set("data", "contacts", json!(contacts));
    report.set("data", "linked_items", json!(linked));
    report.set("data", "threads", json!({"count": threads, "messages": in_threads, "longest": longest}));
    report.set("data", "folders", json!({"count": data.folders, "largest": data.largest_folders}));
    report.set("data", "generator", json!({"secs": data.generate_secs, "peak_rss_kb": data.generate_peak_kb}));
    report.set("data", "corpus", corpus_stats);
    println!("import: the data's summary queries took {:.1} s", t_summary.elapsed().as_secs_f64());
    total
}

// ---------------------------------------------------------------------------
// 3. Sizes

fn sizes(s: &Setup, report: &mut Report) {
    let c = reader(&s.data_dir.join("kronika.sqlite3"));
    let items = count(&c, "SELECT COUNT(*) FROM items", []).max(1) as f64;
    let file = |n: &str| std::fs::metadata(s.data_dir.join(n)).map(|m| m.len()).unwrap_or(0);
    let db = file("kronika.sqlite3");
    let wal = file("kronika.sqlite3-wal") + file("kronika.sqlite3-shm");
    let parts = [
        ("SQLite (db + wal)", db + wal),
        ("index/", common::dir_bytes(&s.data_dir.join("index"))),
        ("documents/", common::dir_bytes(&s.data_dir.join("documents"))),
        ("originals/", common::dir_bytes(&s.data_dir.join("originals"))),
        ("data folder in all", common::dir_bytes(&s.data_dir)),
    ];
    for (name, bytes) in parts {
        report.row("sizes", name.to_string(), format!("{:.0} MB, {:.0} B per item", mb(bytes), bytes as f64 / items));
        report.set("sizes", name, json!({"bytes": bytes, "per_item": bytes as f64 / items}));
    }
    report.set("sizes", "wal_bytes", json!(wal));
}

// ---------------------------------------------------------------------------
// 4. Search

/// The clients the per-client figures are taken over (`common::choose_clients`),
/// largest first.
fn choose_clients(store: &Store, n: usize) -> Vec<Chosen> {
    let mut out = common::choose_clients(store, n);
    out.sort_by_key(|c| std::cmp::Reverse(c.items));
    out
}

/// The 50 queries: words, Czech forms, phrases, operators, `from:`, a
/// client filter, date ranges, kinds. `big` and `median` are client ids.
fn queries(data: &Data, big: i64, median: i64) -> Vec<(String, SearchInput)> {
    let mut q: Vec<(&str, Vec<(&str, String)>)> = [
        "faktura",
        "nabídka",
        "objednávka",
        "reklamace",
        "smlouva",
        "servis",
        "klimatizace",
        "rekuperace",
        "invoice",
        "quotation",
        "delivery",
        "pozdravem",
        "faktury",
        "fakturu",
        "nabídky",
        "nabídce",
        "objednávky",
        "reklamaci",
        "smlouvy",
        "smlouvě",
        "montáže",
        "čerpadla",
        "nabidka",
        "objednavka",
        "smlouve",
        "\"cenová nabídka\"",
        "\"smlouva o dílo\"",
        "\"dodací list\"",
        "\"kontrolní den\"",
        "\"purchase order\"",
        "\"tepelné čerpadlo\"",
        "faktura AND servis",
        "nabídka OR objednávka",
        "faktura -storno",
        "subject:faktura",
        "subject:invoice",
        "attachment:pdf",
        "from:seznam.cz",
        "from:jana.svobodova@modrykamen.cz",
    ]
    .iter()
    .map(|s| (*s, Vec::new()))
    .collect();
    let froms: Vec<&str> = data
        .queries
        .iter()
        .filter(|s| s.starts_with("from:") && !s.contains("modrykamen") && !s.contains("seznam"))
        .map(String::as_str)
        .take(2)
        .collect();
    for f in froms {
        q.push((f, Vec::new()));
    }
    q.push(("faktura", vec![("client", big.to_string())]));
    q.push(("nabídka", vec![("client", median.to_string())]));
    q.push(("faktura", vec![("since", "2024-01-01".into()), ("until", "2024-06-30".into())]));
    q.push(("reklamace", vec![("since", "2025-01-01".into()), ("until", "2025-12-31".into())]));
    q.push(("smlouva", vec![("since", "2026-01-01".into())]));
    q.push(("klimatizace", vec![("kind", "email".into()), ("direction", "in".into())]));
    q.push(("faktura", vec![("kind", "document".into())]));
    q.push(("nabídku", vec![("kind", "call".into())]));
    q.push(("\"kontrolní den\"", vec![("kind", "event".into())]));
    let mut i = 0;
    while q.len() < 50 {
        q.push((["servisní", "montáž", "děkuji", "penále", "upomínka"][i % 5], Vec::new()));
        i += 1;
    }
    q.truncate(50);
    q.into_iter()
        .map(|(text, filters)| {
            let mut label = text.to_string();
            let mut input = SearchInput { query: text.to_string(), limit: 20, ..SearchInput::default() };
            for (k, v) in filters {
                let _ = write!(label, " --{k} {v}");
                match k {
                    "client" => input.client = Some(v),
                    "since" => input.since = Some(v),
                    "until" => input.until = Some(v),
                    "kind" => input.kind = Some(v),
                    _ => input.direction = Some(v),
                }
            }
            (label, input)
        })
        .collect()
}

fn search_step(o: &Opts, s: &Setup, qs: &[(String, SearchInput)], report: &mut Report) {
    let config = Config::load(&s.sync).expect("the config");
    let store = Store::open(&config.db_path(), config.policy()).expect("the store");
    let viewer = Viewer::everyone();
    // Bring the index up to date first (deals were imported by the CLI).
    let t = Instant::now();
    let index = app::search::fresh_index(&config, &store).expect("the index");
    println!("search: index up to date in {:.1} s", t.elapsed().as_secs_f64());
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut empty = BTreeSet::new();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    for round in 0..=o.rounds {
        for (label, input) in qs {
            for sort in [SortOrder::Relevance, SortOrder::Date] {
                let input = SearchInput { sort, ..input.clone() };
                let t = Instant::now();
                let page = search(&store, &config, &viewer, &input).unwrap_or_else(|e| panic!("{label}: {e}"));
                let d = t.elapsed();
                let t = Instant::now();
                let _ = search_in(&store, &index, &viewer, &input).unwrap_or_else(|e| panic!("{label}: {e}"));
                let d2 = t.elapsed();
                if round == 0 {
                    if page.hits.is_empty() {
                        empty.insert(label.clone());
                    }
                    continue;
                }
                a.push(d);
                b.push(d2);
                slowest.push((d, format!("{label} ({sort:?})")));
            }
        }
    }
    slowest.sort_by_key(|x| std::cmp::Reverse(x.0));
    let la = Lat::of(a);
    let lb = Lat::of(b);
    report.target(
        "search",
        format!("app::search::search, {} queries × 2 orders × {} rounds, top 20 + snippets", qs.len(), o.rounds),
        la.text(),
        "p99 < 20 ms",
        la.p99 < Duration::from_millis(20),
    );
    report.row("search", "app::search::search_in (index kept open)", lb.text());
    let slow: Vec<String> = slowest.iter().take(5).map(|(d, w)| format!("{w} {:.1} ms", ms(*d))).collect();
    report.row("search", "slowest", slow.join("; "));
    if !empty.is_empty() {
        report.row("search", "queries without hits", empty.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    report.set("search", "search", la.json());
    report.set("search", "search_in", lb.json());
    report.set("search", "queries", json!(qs.iter().map(|q| q.0.clone()).collect::<Vec<_>>()));
    report.set("search", "without_hits", json!(empty));
}

// ---------------------------------------------------------------------------
// 5. Per client

fn clients_step(o: &Opts, s: &Setup, chosen: &[Chosen], report: &mut Report) {
    let config = Config::load(&s.sync).expect("the config");
    let store = Store::open(&config.db_path(), config.policy()).expect("the store");
    let viewer = Viewer::everyone();
    let now = Utc::now();
    let (mut h, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst: [(Duration, i64); 3] = [(Duration::ZERO, 0); 3];
    for round in 0..=o.rounds.min(3) {
        for ch in chosen {
            let id = ClientId(ch.id);
            let t = Instant::now();
            app::history(&store, id, 50, false).unwrap_or_else(|e| panic!("history {}: {e}", ch.id));
            let dh = t.elapsed();
            let t = Instant::now();
            app::today::meeting_brief(&store, &config, &viewer, id, app::today::Which::None, now)
                .unwrap_or_else(|e| panic!("brief {}: {e}", ch.id));
            let db = t.elapsed();
            let t = Instant::now();
            app::client_card(&store, &config, id).unwrap_or_else(|e| panic!("card {}: {e}", ch.id));
            let dc = t.elapsed();
            if round == 0 {
                continue;
            }
            for (k, d) in [dh, db, dc].into_iter().enumerate() {
                if d > worst[k].0 {
                    worst[k] = (d, ch.items);
                }
            }
            h.push(dh);
            b.push(db);
            c.push(dc);
        }
    }
    let sizes = format!(
        "{} clients, {} to {} items",
        chosen.len(),
        chosen.first().map(|c| c.items).unwrap_or(0),
        chosen.last().map(|c| c.items).unwrap_or(0)
    );
    let (lh, lb, lc) = (Lat::of(h), Lat::of(b), Lat::of(c));
    report.row("clients", format!("app::history (first 50, as `kronika history`), {sizes}"), lh.text());
    let t50 = Duration::from_millis(50);
    report.target("clients", "app::today::meeting_brief (`kronika brief`)", lb.text(), "p99 < 50 ms", lb.p99 < t50);
    report.target("clients", "app::client_card", lc.text(), "p99 < 50 ms", lc.p99 < t50);
    report.row(
        "clients",
        "slowest client (items)",
        format!(
            "history {:.1} ms ({}), brief {:.1} ms ({}), card {:.1} ms ({})",
            ms(worst[0].0),
            worst[0].1,
            ms(worst[1].0),
            worst[1].1,
            ms(worst[2].0),
            worst[2].1
        ),
    );
    // The Today page (every client's meetings, reminders, waiting threads
    // and silences): the team's first page, whatever the store's size.
    let mut t = Vec::new();
    for round in 0..=10 {
        let start = Instant::now();
        let day = app::today::today(&store, &config, &viewer, now).unwrap_or_else(|e| panic!("today: {e}"));
        if round > 0 {
            t.push(start.elapsed());
        }
        std::hint::black_box(day);
    }
    let lt = Lat::of(t);
    report.row("clients", "app::today::today (the Today page, `kronika today`), 10 runs", lt.text());
    report.set("clients", "history", lh.json());
    report.set("clients", "brief", lb.json());
    report.set("clients", "card", lc.json());
    report.set("clients", "today", lt.json());
    report.set("clients", "sizes", json!(chosen.iter().map(|c| c.items).collect::<Vec<_>>()));
}

// ---------------------------------------------------------------------------
// 6 + 9. The daemon and the re-match

/// A `kronika run` child, reaped with wait4 for its rusage.
struct Daemon {
    pid: u32,
    started: Instant,
    log: PathBuf,
    /// Waited for: its pid may belong to another process now.
    reaped: bool,
}

impl Daemon {
    fn start(s: &Setup) -> Daemon {
        let log = s.data_dir.parent().unwrap_or(Path::new(".")).join("daemon.log");
        let out = std::fs::File::create(&log).expect("the daemon log");
        let err = out.try_clone().expect("the daemon log");
        let started = Instant::now();
        let child = kronika(&s.daemon).args(["-v", "run"]).stdout(out).stderr(err).spawn().expect("start kronika run");
        let pid = child.id();
        std::mem::forget(child);
        Daemon { pid, started, log, reaped: false }
    }

    fn log_has(&self, what: &str) -> bool {
        std::fs::read_to_string(&self.log).map(|t| t.contains(what)).unwrap_or(false)
    }

    /// SIGTERM, then wait4: (time to stop, peak RSS kB, user + sys s, exit ok).
    fn stop(mut self) -> (Duration, i64, f64, bool) {
        let t = Instant::now();
        // SAFETY: signalling and reaping our own child.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let mut status: libc::c_int = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(self.pid as libc::pid_t, &mut status, 0, &mut usage) };
        self.reaped = true;
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let ok = r == self.pid as libc::pid_t && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        (t.elapsed(), usage.ru_maxrss, secs(usage.ru_utime) + secs(usage.ru_stime), ok)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Only when a step panics: do not leave the daemon behind.
        if !self.reaped {
            // SAFETY: our own child, not yet waited for.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn statuses(c: &rusqlite::Connection) -> BTreeMap<String, (String, String)> {
    let Ok(mut st) = c.prepare("SELECT source, state, updated_at FROM source_status") else { return BTreeMap::new() };
    st.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// One message for the live Maildir.
fn live_message(n: usize, tag: &str, from: &str) -> (String, String) {
    let id = format!("live-{tag}-{n}@bench.kronika");
    let date = Utc::now().to_rfc2822();
    let text = format!(
        "From: Karel Horák <{from}>\r\nTo: Jana Svobodová <jana.svobodova@modrykamen.cz>\r\nSubject: Objednávka servisu č. {n}\r\n\
         Date: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\nDobrý den,\r\nobjednáváme servis klimatizace, prosím o termín.\r\n\r\nS pozdravem\r\nKarel Horák\r\n"
    );
    (id, text)
}

fn daemon_step(o: &Opts, data: &Data, s: &Setup, chosen: &[Chosen], marker: &mut StoreMarker, report: &mut Report) {
    // A small live Maildir the bench delivers into.
    let _ = std::fs::remove_dir_all(&s.live);
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(s.live.join(sub)).expect("the live Maildir");
    }
    let db = s.data_dir.join("kronika.sqlite3");
    let c = reader(&db);
    let names = ["mail", "live", "notes", "calendar"];
    let before = statuses(&c);
    let _ = std::fs::remove_file(s.data_dir.join("kronika.pid"));
    let d = Daemon::start(s);
    let (mut t_pid, mut t_log, mut t_ready) = (None, None, None);
    let limit = Duration::from_secs(if o.smoke { 60 } else { 900 });
    while t_ready.is_none() && d.started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
        if t_pid.is_none() && s.data_dir.join("kronika.pid").exists() {
            t_pid = Some(d.started.elapsed());
        }
        if t_log.is_none() && d.log_has("kronika is running") {
            t_log = Some(d.started.elapsed());
        }
        let now = statuses(&c);
        let ready = names.iter().all(|n| {
            now.get(*n).is_some_and(|(state, at)| {
                // updated_at has whole seconds: a state that changed counts too.
                state == "watching" && before.get(*n).is_none_or(|b| b.0 != "watching" || &b.1 != at)
            })
        });
        if ready {
            t_ready = Some(d.started.elapsed());
        }
    }
    let sec = |t: Option<Duration>| t.map(|t| format!("{:.2} s", t.as_secs_f64())).unwrap_or_else(|| "never".into());
    report.row(
        "daemon",
        "kronika run: pid file / \"kronika is running\" / every source watching (first sync done)",
        format!("{} / {} / {}", sec(t_pid), sec(t_log), sec(t_ready)),
    );
    assert!(t_ready.is_some(), "the daemon never got ready; see {}", d.log.display());
    let idle = Duration::from_secs(if o.smoke { 1 } else { 10 });
    std::thread::sleep(idle);
    let m = Mem::of(d.pid);
    let rss_mb = mib(m.rss);
    report.target(
        "daemon",
        format!(
            "idle RSS {} s after the first sync (VmRSS: anonymous {:.0} MB + file-backed {:.0} MB; VmHWM {:.0} MB)",
            idle.as_secs(),
            mib(m.anon),
            mib(m.file),
            mib(m.hwm)
        ),
        format!("{rss_mb:.0} MB"),
        "< 300 MB",
        rss_mb < 300.0,
    );
    report.set(
        "daemon",
        "start",
        json!({
            "pid_file_s": t_pid.map(|t| t.as_secs_f64()), "log_line_s": t_log.map(|t| t.as_secs_f64()),
            "ready_s": t_ready.map(|t| t.as_secs_f64()), "idle_rss_mb": rss_mb, "vm_hwm_mb": mib(m.hwm),
            "idle_anon_mb": mib(m.anon), "idle_file_mb": mib(m.file),
        }),
    );

    if marker.rematched {
        report
            .note("the re-match was skipped: this store was re-matched by an earlier run (run the import step again)");
    } else {
        rematch(o, data, s, chosen, marker, &d, report);
    }
    let (stop, peak, cpu, ok) = d.stop();
    report.row(
        "daemon",
        "stop (SIGTERM to exit); daemon peak RSS and CPU over its life",
        format!(
            "{:.2} s{}; peak {:.0} MB; {cpu:.1} CPU s",
            stop.as_secs_f64(),
            if ok { "" } else { " (exit not clean)" },
            peak as f64 / 1024.0
        ),
    );
    report.set(
        "daemon",
        "stop",
        json!({"secs": stop.as_secs_f64(), "peak_rss_mb": peak as f64 / 1024.0, "cpu_s": cpu, "clean": ok}),
    );
}

fn rematch(
    o: &Opts,
    data: &Data,
    s: &Setup,
    chosen: &[Chosen],
    marker: &mut StoreMarker,
    d: &Daemon,
    report: &mut Report,
) {
    let db = s.data_dir.join("kronika.sqlite3");
    let c = reader(&db);
    let client = marker.rematch_client;
    let domains = data.rematch.domains();
    let like: Vec<String> = domains.iter().flat_map(|d| [format!("%@{d}"), format!("%.{d}")]).collect();
    let at_domain_sql = format!(
        "SELECT COUNT(DISTINCT item_id) FROM item_participants WHERE {}",
        like.iter().map(|_| "address LIKE ?").collect::<Vec<_>>().join(" OR ")
    );
    let at_domain = count(&c, &at_domain_sql, rusqlite::params_from_iter(like.iter()));
    let linked_sql = "SELECT COUNT(DISTINCT item_id) FROM item_links WHERE client_id = ?1";
    let linked_before = count(&c, linked_sql, [client]);

    // Deliver a message every 100 ms from a contact of the largest client;
    // watch for each in the store.
    let from = {
        let store = open_store(s);
        let big = chosen.first().map(|c| c.id).unwrap_or(1);
        store
            .client(ClientId(big))
            .ok()
            .and_then(|c| c.domains.first().cloned())
            .map(|d| format!("karel.horak@{d}"))
            .unwrap_or_else(|| "karel.horak@example.cz".into())
    };
    let tag = format!("{}-{}", std::process::id(), Utc::now().timestamp());
    let stop = Arc::new(AtomicBool::new(false));
    let sent: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let deliverer = {
        let (stop, sent, live, tag) = (stop.clone(), sent.clone(), s.live.clone(), tag.clone());
        let every = Duration::from_millis(o.deliver_ms);
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (id, text) = live_message(n, &tag, &from);
                let name = format!("{}.L{n}.bench", Utc::now().timestamp());
                let tmp = live.join("tmp").join(&name);
                std::fs::write(&tmp, text).expect("a live message");
                std::fs::rename(&tmp, live.join("new").join(&name)).expect("deliver a live message");
                sent.lock().expect("sent").push((id, Instant::now()));
                n += 1;
                std::thread::sleep(every);
            }
        })
    };
    let watch_stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (seen, db, done) = (seen.clone(), db.clone(), watch_stop.clone());
        std::thread::spawn(move || {
            let c = reader(&db);
            let mut last = max_item_id(&c);
            while !done.load(Ordering::Relaxed) {
                if let Ok(mut st) = c.prepare_cached("SELECT id, message_id FROM items WHERE id > ?1 ORDER BY id") {
                    let rows: Vec<(i64, Option<String>)> = st
                        .query_map([last], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map(|r| r.flatten().collect())
                        .unwrap_or_default();
                    let now = Instant::now();
                    let mut m = seen.lock().expect("seen");
                    for (id, mid) in rows {
                        last = last.max(id);
                        if let Some(mid) = mid.filter(|m| m.starts_with("live-")) {
                            m.entry(mid).or_insert(now);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let baseline = Duration::from_secs(if o.smoke { 1 } else { 3 });
    std::thread::sleep(baseline);
    let mut cmd = kronika(&s.daemon);
    cmd.args(["client", "edit", &client.to_string()]);
    for dmn in &domains {
        cmd.args(["--domain", dmn]);
    }
    let t0 = Instant::now();
    let r = must("client edit --domain (the re-match)", &mut cmd);
    let t1 = Instant::now();
    marker.rematched = true;
    write_store_marker(s, marker);
    // The daemon's index catches the re-matched items up (they changed in
    // another process): when does its committed rev reach the store's?
    let rev = open_store(s).max_rev().unwrap_or(0);
    let indexed = {
        let index_path = s.data_dir.join("index");
        std::thread::spawn(move || {
            while t1.elapsed() < Duration::from_secs(300) {
                if SearchIndex::open(&index_path).map(|i| i.committed_rev() >= rev).unwrap_or(false) {
                    return Some(t1.elapsed());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            None
        })
    };
    std::thread::sleep(baseline);
    stop.store(true, Ordering::Relaxed);
    let _ = deliverer.join();
    // Wait until every delivered message is stored (or 30 s).
    let wait = Instant::now();
    let total = sent.lock().expect("sent").len();
    while seen.lock().expect("seen").len() < total && wait.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    watch_stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let t_index = indexed.join().unwrap_or(None);
    let linked_after = count(&c, linked_sql, [client]);
    let sent = std::mem::take(&mut *sent.lock().expect("sent"));
    let seen = std::mem::take(&mut *seen.lock().expect("seen"));
    let (mut during, mut outside, mut lost) = (Vec::new(), Vec::new(), 0);
    // Messages that reached the store while the re-match ran.
    let stored_during = seen.values().filter(|t| **t >= t0 && **t <= t1).count();
    for (id, at) in &sent {
        match seen.get(id) {
            Some(s) => {
                let lat = s.saturating_duration_since(*at);
                if *at >= t0 && *at <= t1 { during.push(lat) } else { outside.push(lat) }
            }
            None => lost += 1,
        }
    }
    let secs = (t1 - t0).as_secs_f64();
    let (ld, lo) = (Lat::of(during), Lat::of(outside));
    let ingest_ok = lost == 0 && ld.n > 0 && ld.max < Duration::from_secs(3);
    report.target(
        "rematch",
        format!("client edit {} --domain {} (re-match, daemon running)", client, domains.join(" --domain ")),
        format!("{secs:.1} s for {} items at the domain; peak RSS {:.0} MB", at_domain, r.max_rss_kb as f64 / 1024.0),
        "< 10 s (for ~20k)",
        secs < 10.0,
    );
    report.target(
        "rematch",
        "daemon ingest latency during the re-match (file → item)",
        format!(
            "{} ({} delivered, one every {} ms; {stored_during} stored while it ran){}",
            ld.text(),
            ld.n,
            o.deliver_ms,
            if lost > 0 { format!("; {lost} never stored") } else { String::new() }
        ),
        "ingestion goes on: all stored, max < 3 s",
        ingest_ok,
    );
    report.row("rematch", "daemon ingest latency before/after it", lo.text());
    if lo.p50 > Duration::from_secs(2) {
        report.note(format!(
            "ingest latency is high even without the re-match (p50 {:.1} s): the folder watcher rescans only after \
             200 ms without events (sources/watch.rs FolderWatch::changed, quiet = 200 ms from sources/maildir.rs), \
             so a message every {} ms is not read until the deliveries pause; --deliver-ms 300 shows the re-match's own effect",
            lo.p50.as_secs_f64(),
            o.deliver_ms
        ));
    }
    report.row(
        "rematch",
        "items linked to the client before → after (items at its domains)",
        format!(
            "{linked_before} → {linked_after} ({at_domain}; estimated {} messages){}",
            data.rematch_estimate,
            if linked_after >= at_domain { "" } else { ": MISSING LINKS" }
        ),
    );
    report.row(
        "rematch",
        "daemon index caught up with the re-match",
        match t_index {
            Some(t) => format!("{:.1} s after the re-match ended", t.as_secs_f64()),
            None => "not within 300 s".into(),
        },
    );
    report.set("rematch", "result", json!({
        "client": client, "domains": domains, "secs": secs, "items_at_domains": at_domain, "estimate": data.rematch_estimate,
        "linked_before": linked_before, "linked_after": linked_after, "peak_rss_mb": r.max_rss_kb as f64 / 1024.0,
        "ingest_during": ld.json(), "ingest_outside": lo.json(), "lost": lost, "stored_during": stored_during,
        "deliver_ms": o.deliver_ms,
        "index_caught_up_s": t_index.map(|t| t.as_secs_f64()), "daemon_pid": d.pid,
    }));
    assert!(linked_after >= at_domain, "the re-match left {} items at the domain unlinked", at_domain - linked_after);
}

// ---------------------------------------------------------------------------
// 7 + 8. Reindex and the search command

fn reindex_step(s: &Setup, report: &mut Report) {
    let (r, mem) = run_sampled(kronika(&s.sync).arg("reindex"), Duration::from_millis(500));
    assert!(r.ok, "reindex failed:\n{}\n{}", r.stdout, r.stderr);
    report.row(
        "reindex",
        "kronika reindex (whole store)",
        format!(
            "{:.1} s, peak RSS {:.0} MB (sampled maxima: anonymous {:.0} MB / file-backed {:.0} MB), {:.2} cores",
            r.wall.as_secs_f64(),
            r.max_rss_kb as f64 / 1024.0,
            mib(mem.anon),
            mib(mem.file),
            cores(&r)
        ),
    );
    report.set(
        "reindex",
        "result",
        json!({"secs": r.wall.as_secs_f64(), "peak_rss_mb": r.max_rss_kb as f64 / 1024.0, "cores": cores(&r),
               "anon_max_mb": mib(mem.anon), "file_max_mb": mib(mem.file)}),
    );
}

fn cli_step(s: &Setup, qs: &[(String, SearchInput)], report: &mut Report) {
    let args = |input: &SearchInput| {
        let mut a = vec!["search".to_string(), "--limit".into(), "20".into()];
        for (flag, v) in [
            ("--client", &input.client),
            ("--since", &input.since),
            ("--until", &input.until),
            ("--kind", &input.kind),
            ("--direction", &input.direction),
        ] {
            if let Some(v) = v {
                a.push(flag.into());
                a.push(v.clone());
            }
        }
        a.push("--".into());
        a.push(input.query.clone());
        a
    };
    // Two runs to settle the page cache, then one per query.
    for (_, input) in qs.iter().take(2) {
        must("kronika search", kronika(&s.sync).args(args(input)));
    }
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for (i, (_, input)) in qs.iter().enumerate() {
        let mut a = args(input);
        if i % 2 == 1 {
            a.splice(1..1, ["--sort".to_string(), "date".into()]);
        }
        let r = must("kronika search", kronika(&s.sync).args(a));
        walls.push(r.wall);
        rss.push(r.max_rss_kb);
    }
    rss.sort();
    let l = Lat::of(walls);
    let rss_p50 = rss.get(rss.len() / 2).copied().unwrap_or(0) as f64 / 1024.0;
    let rss_max = rss.last().copied().unwrap_or(0) as f64 / 1024.0;
    report.target(
        "cli",
        format!("kronika search as a process, {} different queries", l.n),
        format!("{}; peak RSS p50 {rss_p50:.0} MB, max {rss_max:.0} MB", l.text()),
        "p50 < 30 ms",
        l.p50 < Duration::from_millis(30),
    );
    report.set("cli", "search", json!({"latency": l.json(), "rss_p50_mb": rss_p50, "rss_max_mb": rss_max}));
}

// ---------------------------------------------------------------------------
// 10. mu and notmuch

struct Tool {
    secs: f64,
    rss_mb: f64,
    ok: bool,
}

fn tool(r: &common::Run) -> Tool {
    Tool { secs: r.wall.as_secs_f64(), rss_mb: r.max_rss_kb as f64 / 1024.0, ok: r.ok }
}

/// kronika, mu and notmuch on one Maildir; each after reading every file.
fn compare(o: &Opts, name: &str, maildir: &Path, clients_csv: Option<&Path>, report: &mut Report) -> Option<f64> {
    let work = o.out.join(format!("cmp-{name}"));
    let (messages, _) = warm(maildir);
    let bytes = common::dir_bytes(maildir);
    let data = work.join("kronika-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("a data folder");
    let config = work.join("kronika.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\nown_domains = [\"{}\"]\n", data.display().to_string(), corpus::OUR_DOMAIN),
    )
    .expect("a config");
    if let Some(csv) = clients_csv {
        must("client import", kronika(&config).args(["client", "import"]).arg(csv));
    }
    println!("others: {name}: {messages} messages, kronika import …");
    let k = tool(&must("import", kronika(&config).args(["import", "maildir"]).arg(maildir)));
    let _ = std::fs::remove_dir_all(&data);
    let rate = |t: &Tool| messages as f64 / t.secs.max(1e-6);
    let mut line = format!("{messages} messages, {:.0} MB: kronika {:.0}/s ({:.0} MB)", mb(bytes), rate(&k), k.rss_mb);
    let mut j = json!({"messages": messages, "bytes": bytes, "kronika": {"secs": k.secs, "per_s": rate(&k), "rss_mb": k.rss_mb}});
    let mut mu_ratio = None;
    if common::have("mu") {
        warm(maildir);
        let home = work.join("mu");
        let _ = std::fs::remove_dir_all(&home);
        let init = common::run(
            Command::new("mu")
                .arg("init")
                .arg(format!("--muhome={}", home.display()))
                .arg(format!("--maildir={}", maildir.display())),
        );
        if init.ok {
            println!("others: {name}: mu index …");
            let m = tool(&common::run(Command::new("mu").arg("index").arg(format!("--muhome={}", home.display()))));
            let ratio = rate(&k) / rate(&m);
            let _ = write!(
                line,
                "; mu index {:.0}/s ({:.0} MB){}: ×{ratio:.2}",
                rate(&m),
                m.rss_mb,
                if m.ok { "" } else { " (failed)" }
            );
            j["mu"] = json!({"secs": m.secs, "per_s": rate(&m), "rss_mb": m.rss_mb, "ok": m.ok, "ratio": ratio});
            mu_ratio = Some(ratio);
        }
        let _ = std::fs::remove_dir_all(&home);
    } else {
        line.push_str("; mu not installed");
    }
    if o.notmuch && common::have("notmuch") {
        warm(maildir);
        let db = work.join("notmuch-db");
        let _ = std::fs::remove_dir_all(&db);
        std::fs::create_dir_all(&db).expect("the notmuch folder");
        let nm_config = work.join("notmuch-config");
        std::fs::write(
            &nm_config,
            format!(
                "[database]\npath={}\nmail_root={}\n[user]\nname=Bench\nprimary_email=bench@modrykamen.cz\n[new]\ntags=inbox;\n[maildir]\nsynchronize_flags=false\n",
                db.display(),
                maildir.display()
            ),
        )
        .expect("the notmuch config");
        println!("others: {name}: notmuch new …");
        let n = tool(&common::run(Command::new("notmuch").env("NOTMUCH_CONFIG", &nm_config).args(["new", "--quiet"])));
        let ratio = rate(&k) / rate(&n);
        let _ = write!(
            line,
            "; notmuch new {:.0}/s ({:.0} MB){}: ×{ratio:.2}",
            rate(&n),
            n.rss_mb,
            if n.ok { "" } else { " (failed)" }
        );
        j["notmuch"] = json!({"secs": n.secs, "per_s": rate(&n), "rss_mb": n.rss_mb, "ok": n.ok, "ratio": ratio});
        let _ = std::fs::remove_dir_all(&db);
    } else if o.notmuch {
        line.push_str("; notmuch not installed");
    }
    match mu_ratio {
        Some(r) => report.target("others", format!("{name}: kronika import ÷ mu index"), line, "≥ 5× mu", r >= 5.0),
        None => report.row("others", format!("{name}: kronika import"), line),
    }
    report.set("others", name, j);
    mu_ratio
}

fn others_step(o: &Opts, report: &mut Report) {
    for (name, shape) in [("standard", corpus::Shape::Standard), ("varied", corpus::Shape::Varied)] {
        if !o.corpora.contains(name) {
            continue;
        }
        let dir = o.out.join(format!("cmp-{name}")).join("corpus");
        let spec = corpus::CorpusSpec { messages: o.compare, clients: o.clients, seed: o.seed, shape };
        let reuse = o.keep
            && std::fs::read_to_string(dir.join("corpus.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| {
                    v["complete"] == true
                        && v["spec"]["messages"] == o.compare
                        && v["spec"]["clients"] == o.clients
                        && v["spec"]["seed"] == o.seed
                });
        let c = if reuse {
            corpus::Corpus {
                maildir: dir.join("maildir"),
                clients_csv: dir.join("clients.csv"),
                queries: Vec::new(),
                bytes: 0,
                messages: o.compare,
            }
        } else {
            corpus::generate(&spec, &dir).expect("a comparison corpus")
        };
        compare(o, name, &c.maildir, Some(&c.clients_csv), report);
    }
    // The varied shape is another engineer's work: say when it is not there yet.
    let stats = |n: &str| {
        std::fs::read_to_string(o.out.join(format!("cmp-{n}/corpus/corpus.json")))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| v["stats"].clone())
    };
    if o.corpora.contains("standard") && o.corpora.contains("varied") && stats("standard") == stats("varied") {
        report
            .note("Shape::Varied generates the same corpus as Shape::Standard (not implemented yet in benches/corpus)");
    }
    match &o.spamassassin {
        _ if !o.corpora.contains("spamassassin") => {}
        Some(dir) if dir.is_dir() => {
            compare(o, "spamassassin", dir, None, report);
        }
        Some(dir) => report.note(format!("SpamAssassin corpus: {} is not a folder; skipped", dir.display())),
        None => report.note("SpamAssassin corpus: not given (--spamassassin DIR, a Maildir); skipped"),
    }
}

// ---------------------------------------------------------------------------

/// Wall time per step.
struct Lap {
    at: Instant,
    times: Vec<(String, f64)>,
}

impl Lap {
    fn done(&mut self, step: &str) {
        let t = self.at.elapsed().as_secs_f64();
        println!("== {step}: {t:.1} s");
        self.times.push((step.to_string(), t));
        self.at = Instant::now();
    }
}

fn main() {
    let o = opts();
    let started = Instant::now();
    std::fs::create_dir_all(&o.out).expect("the bench folder");
    println!("machine: {}; load {}", common::machine(), common::load());
    println!("out: {}; steps: {}", o.out.display(), o.only.iter().cloned().collect::<Vec<_>>().join(","));
    let mut report = Report::default();
    report.set("options", "messages", json!(o.messages));
    report.set("options", "clients", json!(o.clients));
    report.set("options", "seed", json!(o.seed));
    report.set("options", "smoke", json!(o.smoke));

    let mut lap = Lap { at: Instant::now(), times: Vec::new() };
    let needs_store = ["import", "sizes", "search", "clients", "daemon", "reindex", "cli"].iter().any(|s| o.step(s));
    if needs_store {
        let data = prepare_data(&o, &mut report);
        lap.done("data");
        let s = setup(&o, &data);
        let reusable = read_store_marker(&s).filter(|m| m.spec.as_ref() == Some(&data.spec));
        let mut marker = match reusable {
            Some(m) if !o.step("import") => {
                println!("import: reusing the store in {}", s.data_dir.display());
                m
            }
            _ => {
                import(&o, &data, &s, &mut report);
                let store = open_store(&s);
                let id = store.resolve_client(&data.rematch.name).expect("the re-match client").0;
                let m = StoreMarker { spec: Some(data.spec.clone()), rematch_client: id, rematched: false };
                write_store_marker(&s, &m);
                lap.done("import");
                m
            }
        };
        if o.step("sizes") {
            sizes(&s, &mut report);
            lap.done("sizes");
        }
        let chosen = choose_clients(&open_store(&s), o.sample);
        let big = chosen.first().map(|c| c.id).unwrap_or(1);
        let median = chosen.get(chosen.len() / 2).map(|c| c.id).unwrap_or(1);
        let qs = queries(&data, big, median);
        lap.done("choose clients");
        if o.step("search") {
            search_step(&o, &s, &qs, &mut report);
            lap.done("search");
        }
        if o.step("clients") {
            clients_step(&o, &s, &chosen, &mut report);
            lap.done("clients");
        }
        if o.step("daemon") {
            daemon_step(&o, &data, &s, &chosen, &mut marker, &mut report);
            lap.done("daemon");
        }
        if o.step("reindex") {
            reindex_step(&s, &mut report);
            lap.done("reindex");
        }
        if o.step("cli") {
            cli_step(&s, &qs, &mut report);
            lap.done("cli");
        }
    }
    if o.step("others") {
        others_step(&o, &mut report);
        lap.done("others");
    }
    let steps: Vec<String> = lap.times.iter().map(|(n, t)| format!("{n} {t:.0} s")).collect();
    report.note(format!("time per step: {}", steps.join(", ")));
    report.set("options", "step_secs", json!(lap.times.iter().cloned().collect::<BTreeMap<_, _>>()));

    println!();
    println!(
        "## kronika at scale: {} messages; {} s in all; {}",
        o.messages,
        started.elapsed().as_secs(),
        common::machine()
    );
    println!();
    print!("{}", report.markdown());
    for n in &report.notes {
        println!("- {n}");
    }
    write_json(&o, &report, started);
    println!("\nwritten: {}", o.out.join("scale.json").display());
    if o.smoke {
        let _ = std::fs::remove_dir_all(&o.out);
        println!("scale bench: smoke run passed (targets are not checked at this size)");
    }
}
