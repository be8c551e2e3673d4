//! The crash soak: `kronika run` is killed with SIGKILL at random moments
//! while it does a first IMAP sync of thousands of messages from a private
//! Dovecot, while new mail is delivered to the server and notes are written
//! to a watched folder; after every kill it is restarted. Nothing may be
//! lost or stored twice, and the search index must equal the store.
//!
//! `cargo bench --bench soak -- [--kills N] [--messages N] [--seed S] [--keep]`
//!
//! Every option also has an environment variable (the argument wins):
//!
//! | argument | variable | default | meaning |
//! |---|---|---|---|
//! | `--kills N` | `SOAK_KILLS` | 20 | SIGKILLs, each followed by a restart |
//! | `--messages N` | `SOAK_MESSAGES` | 5000 | corpus messages on the server before the first start |
//! | `--seed S` | `SOAK_SEED` | from the clock | seed of the kill moments, deliveries and notes (printed) |
//! | `--min-delay-ms N` | `SOAK_MIN_DELAY_MS` | 50 | shortest run before a kill |
//! | `--sync-max-delay-ms N` | `SOAK_SYNC_MAX_DELAY_MS` | 300 | longest run before a kill while the first sync goes on |
//! | `--max-delay-ms N` | `SOAK_MAX_DELAY_MS` | 2500 | longest run before a kill after it |
//! | `--deliver-ms N` | `SOAK_DELIVER_MS` | 50 | mean pause between two APPENDs |
//! | `--note-ms N` | `SOAK_NOTE_MS` | 100 | mean pause between two note writes |
//! | `--settle-s N` | `SOAK_SETTLE_S` | 300 | how long the last run may take to catch up |
//! | `--keep` | | | keep `target/bench/soak/` (corpus, logs, data, notes) afterwards; a failed run always keeps it |
//!
//! What it does:
//!
//! 1. The pipeline bench's corpus (`corpus/mod.rs`, 400 clients, seed 42;
//!    the corpus seed is fixed, the soak seed is not) goes into alice's
//!    mailboxes before Dovecot's first look at them: INBOX, `Sent` and
//!    `Archiv/2025`, as the corpus has them. The clients are imported.
//! 2. Two threads run for the whole kill phase: one APPENDs new mail to
//!    INBOX and Sent (about 5 % without a Message-ID), one writes notes
//!    into the watched folder (plain writes, editors' atomic saves, writes
//!    in two halves with a pause between; edits, renames and deletions of
//!    earlier notes).
//! 3. `kronika run` (the binary cargo builds for the bench: `--release`
//!    profile; `SOAK_KRONIKA=path` runs another) is started, killed with
//!    SIGKILL after a random delay, checked while it is down, restarted;
//!    `--kills` times. One kill in four comes during a clean stop (SIGTERM,
//!    then SIGKILL 0–300 ms later, as a service manager's stop timeout
//!    does). While the first sync goes on (for at most three quarters of
//!    the kills) runs are short, so that most kills land inside it; after
//!    it, kills hit IDLE, deliveries and notes.
//! 4. The check after each kill runs on a copy of the data (database, WAL,
//!    index), so the next run starts from exactly what the kill left, hot
//!    WAL included: SQLite `quick_check`; no Message-ID or content stored
//!    twice; every stored UID holds the message the server has under it;
//!    every server UID at or below a mailbox's stored cursor is stored (the
//!    daemon never fetches those again: missing means lost for good);
//!    `kronika check` finds no drift (an index behind the store is fine: it
//!    catches up; so is an item deleted after the index's last commit,
//!    which `kronika check` calls drift: counted as a false alarm).
//! 5. Deliveries and notes stop; a last run catches up, then stops with
//!    SIGTERM. The final check: every UID of every mailbox is stored once,
//!    under the Message-ID the server has for it; nothing is stored that
//!    the server does not have; no Message-ID or content twice; every note
//!    in the folder stored once with its final text, none of the renamed or
//!    deleted ones live; every document file there and matching its hash;
//!    `kronika check` reports the index equal to the store, nothing pending.
//!
//! The exit status is non-zero when anything was lost or duplicated, a
//! check failed or the daemon exited on its own. A run is repeated (kill
//! moments, delivery and note order; not the machine's timing) with
//! `SOAK_SEED`.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke
//! run: 300 messages, 3 kills, in a temporary folder; no Dovecot means
//! skipped.

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "../tests/it/common/dovecot.rs"]
mod dovecot;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, ensure};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use common::{load, machine};
use corpus::Rng;
use dovecot::{Dovecot, Imap, quote_mailbox};

/// The kronika config's IMAP account name.
const ACCOUNT: &str = "soak";
/// The environment variable the password reaches kronika by.
const PASSWORD_ENV: &str = "SOAK_IMAP_PASSWORD";
/// Mailboxes: the corpus folder (Maildir++) and the IMAP name.
const MAILBOXES: [(&str, &str); 3] = [("", "INBOX"), (".Sent", "Sent"), (".Archiv.2025", "Archiv/2025")];
/// The last run gives up when nothing more is stored for this long (the
/// daemon polls every 2 s).
const STALLED: Duration = Duration::from_secs(30);
/// Our side of the corpus (`corpus/mod.rs`).
const OWN_DOMAIN: &str = "modrykamen.cz";
const OWN_ADDRESS: &str = "jana.svobodova@modrykamen.cz";

struct Opts {
    kills: usize,
    messages: usize,
    clients: usize,
    seed: u64,
    min_delay: Duration,
    max_delay: Duration,
    /// The longest run before a kill while the first sync goes on.
    sync_max_delay: Duration,
    deliver_every: Duration,
    note_every: Duration,
    settle: Duration,
    keep: bool,
    out: PathBuf,
    smoke: bool,
}

/// `--flag VALUE`, else `$ENV`, else `default`.
fn setting<T: std::str::FromStr>(args: &[String], flag: &str, env: &str, default: T) -> Result<T> {
    let given = match args.iter().position(|a| a == flag) {
        Some(i) => Some(args.get(i + 1).cloned().ok_or_else(|| anyhow!("{flag} needs a value"))?),
        None => std::env::var(env).ok().filter(|v| !v.trim().is_empty()),
    };
    match given {
        Some(v) => v.trim().parse().map_err(|_| anyhow!("{flag} / {env}: {v:?} is not a valid value")),
        None => Ok(default),
    }
}

fn opts() -> Result<Opts> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs benches without --bench: a smoke run.
    let smoke = !args.iter().any(|a| a == "--bench");
    let clock_seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
        ^ u64::from(std::process::id()).rotate_left(32);
    let ms = |flag, env, default| setting(&args, flag, env, default).map(Duration::from_millis);
    let (kills, messages, max_delay) = if smoke { (3, 300, 800) } else { (20, 5000, 2500) };
    Ok(Opts {
        kills: setting(&args, "--kills", "SOAK_KILLS", kills)?,
        messages: setting(&args, "--messages", "SOAK_MESSAGES", messages)?,
        clients: if smoke { 20 } else { 400 },
        seed: setting(&args, "--seed", "SOAK_SEED", clock_seed)?,
        min_delay: ms("--min-delay-ms", "SOAK_MIN_DELAY_MS", 50)?,
        max_delay: ms("--max-delay-ms", "SOAK_MAX_DELAY_MS", max_delay)?,
        sync_max_delay: ms("--sync-max-delay-ms", "SOAK_SYNC_MAX_DELAY_MS", 300)?,
        deliver_every: ms("--deliver-ms", "SOAK_DELIVER_MS", 50)?,
        note_every: ms("--note-ms", "SOAK_NOTE_MS", 100)?,
        settle: setting(&args, "--settle-s", "SOAK_SETTLE_S", 300).map(Duration::from_secs)?,
        keep: args.iter().any(|a| a == "--keep"),
        out: if smoke {
            std::env::temp_dir().join(format!("kronika-bench-soak-smoke-{}", std::process::id()))
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/soak")
        },
        smoke,
    })
}

fn main() -> ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = soak(&o);
    // A failed run keeps its logs and data for a look.
    if matches!(result, Ok(true)) && !o.keep {
        let _ = fs::remove_dir_all(&o.out);
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("soak: FAILED (repeat with SOAK_SEED={})", o.seed);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("soak: {e:#} (seed {})", o.seed);
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// The run

/// What happened at one kill.
struct Kill {
    /// How long the daemon ran before SIGKILL.
    ran: Duration,
    /// Corpus messages stored when it was killed.
    stored: usize,
    /// The daemon had exited on its own before the kill (status, log file).
    exited: Option<String>,
    /// SIGTERM came first, this long before SIGKILL.
    grace: Option<Duration>,
    /// What the check while it was down found wrong.
    check: Interim,
}

/// Shared between the threads of the kill phase.
#[derive(Default)]
struct Shared {
    /// (mailbox, UID, Message-ID) of every delivered message.
    delivered: Mutex<Vec<(String, u32, Option<String>)>>,
    /// Note key (path below the folder) → the marker its final text carries.
    notes: Mutex<BTreeMap<String, String>>,
    note_ops: Mutex<NoteOps>,
    /// When all corpus messages were first seen stored.
    synced_at: Mutex<Option<Instant>>,
    /// The daemon runs (the monitor reads the store only then).
    up: AtomicBool,
    errors: Mutex<Vec<String>>,
}

/// Everything ready before the first start.
struct Setup {
    dovecot: Dovecot,
    k: Kronika,
    /// The corpus as the server has it before the first start.
    initial: Vec<(String, ServerMailbox)>,
    seeded: usize,
    /// Client names and domains, for deliveries and notes.
    clients: Vec<(String, String)>,
    notes_source: String,
    work: PathBuf,
}

/// What the kill phase did.
struct KillPhase {
    started: Instant,
    kills: Vec<Kill>,
    /// When each run of the daemon started and ended.
    runs: Vec<(Instant, Instant)>,
    delivered: Vec<(String, u32, Option<String>)>,
    notes: BTreeMap<String, String>,
    note_ops: NoteOps,
    errors: Vec<String>,
    synced_at: Option<Instant>,
}

/// What the last run did.
struct LastRun {
    run: (Instant, Instant),
    /// How long it took to store everything.
    caught_up: Option<Duration>,
    synced_at: Option<Instant>,
    /// How long SIGTERM took, and the exit status.
    shutdown: Option<(Duration, std::process::ExitStatus)>,
    exited_early: Option<String>,
}

fn soak(o: &Opts) -> Result<bool> {
    println!("machine: {}", machine());
    println!("load before: {}", load());
    println!("seed: {} (repeat with SOAK_SEED={})", o.seed, o.seed);
    println!(
        "kills: {}, corpus messages: {}, run before a kill: {}–{} ms during the first sync, {}–{} ms after it; \
         a delivery every ~{} ms, a note every ~{} ms",
        o.kills,
        o.messages,
        o.min_delay.as_millis(),
        o.sync_max_delay.max(o.min_delay).as_millis(),
        o.min_delay.as_millis(),
        o.max_delay.as_millis(),
        o.deliver_every.as_millis(),
        o.note_every.as_millis()
    );
    ensure!(o.min_delay <= o.max_delay, "the minimum delay is above the maximum");
    let Some(s) = setup(o)? else { return Ok(true) };
    let phase = kill_phase(o, &s)?;
    for e in &phase.errors {
        println!("background error: {e}");
    }
    println!(
        "kill phase over after {:.1}s: {} messages delivered; {} notes in the folder ({} written, {} edits, {} renames, \
         {} deletions)",
        phase.started.elapsed().as_secs_f64(),
        phase.delivered.len(),
        phase.notes.len(),
        phase.note_ops.created,
        phase.note_ops.edits,
        phase.note_ops.renames,
        phase.note_ops.deletes
    );
    // What the server has now that nothing is delivered any more.
    let server: Vec<(String, ServerMailbox)> = MAILBOXES
        .iter()
        .map(|(_, m)| Ok((m.to_string(), server_mailbox(&s.dovecot, m, true)?)))
        .collect::<Result<_>>()?;
    let last = last_run(o, &s, &server, &phase.notes)?;
    // The final check, with the daemon stopped.
    let f = final_check(&s.k, &server, &phase.delivered, &s.notes_source, &phase.notes)?;
    println!("load after: {}", load());
    Ok(report(o, &s, &phase, &last, &server, &f))
}

/// The corpus in Dovecot, a kronika config and data folder with the
/// clients imported. `None`: skipped (a smoke run without Dovecot).
fn setup(o: &Opts) -> Result<Option<Setup>> {
    let bin =
        std::env::var_os("SOAK_KRONIKA").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_kronika").into());
    println!("kronika: {}", bin.display());
    fs::create_dir_all(&o.out).with_context(|| format!("creating {}", o.out.display()))?;
    let started = Instant::now();
    let spec =
        corpus::CorpusSpec { messages: o.messages, clients: o.clients, seed: 42, shape: corpus::Shape::Standard };
    let corpus = corpus::generate(&spec, &o.out.join("corpus")).context("generating the corpus")?;
    println!(
        "corpus: {} messages, {:.1} MB ({:.1}s)",
        corpus.messages,
        corpus.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let dovecot = match Dovecot::try_start() {
        Ok(d) => d,
        Err(e) if o.smoke && e.to_string().contains("not installed") => {
            println!("skipped: {e:#}");
            return Ok(None);
        }
        Err(e) => return Err(e.context("starting a private Dovecot")),
    };
    println!("dovecot: {} on 127.0.0.1:{}", common::version("dovecot", "--version"), dovecot.port());
    let mut seeded = 0;
    for (folder, mailbox) in MAILBOXES {
        let n = seed_mailbox(&corpus.maildir.join(folder), &mailbox_dir(&dovecot, mailbox))?;
        let status = dovecot.status("alice", mailbox);
        ensure!(status.messages as usize == n, "Dovecot sees {} messages in {mailbox}, not {n}", status.messages);
        println!("  {mailbox}: {n} messages");
        seeded += n;
    }
    ensure!(seeded == corpus.messages, "seeded {seeded} messages, the corpus has {}", corpus.messages);
    let initial: Vec<(String, ServerMailbox)> = MAILBOXES
        .iter()
        .map(|(_, m)| Ok((m.to_string(), server_mailbox(&dovecot, m, true)?)))
        .collect::<Result<_>>()?;

    let work = o.out.join("run");
    let _ = fs::remove_dir_all(&work);
    let k = Kronika::new(bin, &work, dovecot.port())?;
    let r = k.output(&["client", "import"], Some(&corpus.clients_csv))?;
    ensure!(r.status.success(), "kronika client import failed:\n{}", String::from_utf8_lossy(&r.stderr));
    let clients = read_clients(&corpus.clients_csv)?;
    let notes_source = format!("notes:{}", fs::canonicalize(&k.notes)?.display());
    Ok(Some(Setup { dovecot, k, initial, seeded, clients, notes_source, work }))
}

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Starts, kills (SIGKILL) and checks the daemon `o.kills` times while mail
/// is delivered and notes are written.
fn kill_phase(o: &Opts, s: &Setup) -> Result<KillPhase> {
    let shared = Shared::default();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut kills: Vec<Kill> = Vec::new();
    let mut runs = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(|| deliver(&s.dovecot, o, &s.clients, &shared, &stop));
        scope.spawn(|| write_notes(&s.k.notes, o, &s.clients, &shared, &stop));
        scope.spawn(|| monitor(&s.k.db, &s.initial, &shared, &stop));
        // The background threads end with the kill phase, whatever happens
        // in it (an error, a panic).
        let _stop = StopOnDrop(&stop);
        let snapshot_dir = s.work.join("check");
        let mut kill_all = || -> Result<()> {
            let mut rng = Rng::new(o.seed);
            for n in 1..=o.kills {
                // Short runs while the first sync goes on (for at most three
                // quarters of the kills), so that most kills land inside it.
                let syncing = kills.last().is_none_or(|k| k.stored < s.seeded) && n <= o.kills * 3 / 4;
                let max = if syncing { o.sync_max_delay.max(o.min_delay) } else { o.max_delay };
                let delay = o.min_delay + (max - o.min_delay).mul_f64(rng.unit());
                let mut child = s.k.start(n)?;
                let t = Instant::now();
                shared.up.store(true, Ordering::SeqCst);
                sleep(delay);
                let exited = child.try_wait().unwrap_or(None).map(|st| format!("{st}, see {}", s.k.log(n).display()));
                // The monitor leaves the data alone while the daemon is down.
                shared.up.store(false, Ordering::SeqCst);
                let ran = t.elapsed();
                // One kill in four comes during a clean stop: SIGTERM, and
                // SIGKILL when a service manager's stop timeout would end.
                let grace = rng.chance(0.25).then(|| Duration::from_millis(300).mul_f64(rng.unit()));
                if let Some(grace) = grace {
                    // SAFETY: a signal to our own child, by its pid.
                    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                    sleep(grace);
                }
                let _ = child.kill();
                let _ = child.wait();
                runs.push((t, Instant::now()));
                let checked = Instant::now();
                let copy = s.k.snapshot(&snapshot_dir)?;
                let stored = stored_corpus(&copy.db, &s.initial).unwrap_or(0);
                let expected = expected_ids(&s.initial, &shared.delivered.lock().unwrap());
                let check = interim_check(&copy, &s.dovecot, &expected).unwrap_or_else(|e| Interim {
                    problems: vec![format!("the check failed: {e:#}")],
                    lost: Vec::new(),
                    false_alarms: 0,
                });
                println!(
                    "kill {n:>2}: after {:>5} ms{}, {stored}/{} corpus messages stored, checked in {} ms{}{}",
                    ran.as_millis(),
                    grace.map(|g| format!(" (SIGTERM, SIGKILL {} ms later)", g.as_millis())).unwrap_or_default(),
                    s.seeded,
                    checked.elapsed().as_millis(),
                    exited.as_ref().map(|e| format!("; HAD EXITED ON ITS OWN ({e})")).unwrap_or_default(),
                    if check.problems.is_empty() {
                        String::new()
                    } else {
                        format!("; PROBLEMS: {}", check.problems.join("; "))
                    }
                );
                kills.push(Kill { ran, stored, exited, grace, check });
            }
            Ok(())
        };
        kill_all()
    })?;
    Ok(KillPhase {
        started,
        kills,
        runs,
        delivered: shared.delivered.into_inner().unwrap_or_default(),
        notes: shared.notes.into_inner().unwrap_or_default(),
        note_ops: shared.note_ops.into_inner().unwrap_or_default(),
        errors: shared.errors.into_inner().unwrap_or_default(),
        synced_at: shared.synced_at.into_inner().unwrap_or_default(),
    })
}

/// The last run: lets the daemon catch up with everything, then stops it
/// with SIGTERM.
fn last_run(
    o: &Opts,
    s: &Setup,
    server: &[(String, ServerMailbox)],
    notes: &BTreeMap<String, String>,
) -> Result<LastRun> {
    let n = o.kills + 1;
    let mut child = s.k.start(n)?;
    let t = Instant::now();
    let mut synced_at = None;
    let mut caught_up_in = None;
    // Waiting ends early when nothing more is stored for a while (what is
    // missing then stays missing).
    let mut last_change = (0, Instant::now());
    while t.elapsed() < o.settle && last_change.1.elapsed() < STALLED && child.try_wait().unwrap_or(None).is_none() {
        if synced_at.is_none() && stored_corpus(&s.k.db, &s.initial).unwrap_or(0) == s.seeded {
            synced_at = Some(Instant::now());
        }
        let (done, all) = progress(&s.k.db, server, &s.notes_source, notes).unwrap_or((0, 1));
        if done == all {
            caught_up_in = Some(t.elapsed());
            synced_at = synced_at.or_else(|| Some(Instant::now()));
            break;
        }
        if done != last_change.0 {
            last_change = (done, Instant::now());
        }
        sleep(Duration::from_millis(200));
    }
    // A moment to go idle (the index commits within a second), so the
    // shutdown measured is that of a daemon at rest.
    sleep(Duration::from_millis(1500));
    let exited_early = child.try_wait().unwrap_or(None).map(|st| format!("{st}, see {}", s.k.log(n).display()));
    let ts = Instant::now();
    // SAFETY: a signal to our own child, by its pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let mut status = None;
    while ts.elapsed() < Duration::from_secs(30) && status.is_none() {
        sleep(Duration::from_millis(10));
        status = child.try_wait().unwrap_or(None);
    }
    let shutdown = status.map(|st| (ts.elapsed(), st));
    if shutdown.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(LastRun { run: (t, Instant::now()), caught_up: caught_up_in, synced_at, shutdown, exited_early })
}

/// Prints the figures; true when nothing was lost or duplicated and every
/// check passed.
fn report(
    o: &Opts,
    s: &Setup,
    phase: &KillPhase,
    last: &LastRun,
    server: &[(String, ServerMailbox)],
    f: &Final,
) -> bool {
    let kills = &phase.kills;
    let total: usize = server.iter().map(|(_, m)| m.uids.len()).sum();
    let sync_done = phase.synced_at.or(last.synced_at);
    // Daemon uptime until the first sync was done, and the run that finished it.
    let until = sync_done.unwrap_or(last.run.1);
    let runs: Vec<(Instant, Instant)> = phase.runs.iter().copied().chain([last.run]).collect();
    let uptime_to_sync: Duration = runs.iter().map(|(a, b)| (*b).min(until).saturating_duration_since(*a)).sum();
    let sync_run = runs.iter().position(|(a, b)| *a <= until && until <= *b).map(|i| i + 1);
    let lost_behind_cursor: BTreeSet<&(String, u32)> = kills.iter().flat_map(|k| &k.check.lost).collect();
    let interim_failed = kills.iter().filter(|k| !k.check.problems.is_empty()).count();
    let exited_on_own = kills.iter().filter(|k| k.exited.is_some()).count() + usize::from(last.exited_early.is_some());
    let during_sync = kills.iter().filter(|k| k.stored < s.seeded).count();
    let ms: Vec<u128> = kills.iter().map(|k| k.ran.as_millis()).collect();

    println!("--- crash soak: summary ---");
    let mut table = Table::default();
    table.row("seed", format!("{} (repeat with SOAK_SEED={})", o.seed, o.seed));
    table.row(
        "kills (SIGKILL)",
        format!(
            "{} ({during_sync} during the first sync, {} after it; {} of them SIGTERM first, SIGKILL 0–300 ms later)",
            kills.len(),
            kills.len() - during_sync,
            kills.iter().filter(|k| k.grace.is_some()).count()
        ),
    );
    table.row(
        "run before a kill",
        format!(
            "{}–{} ms (mean {} ms)",
            ms.iter().min().unwrap_or(&0),
            ms.iter().max().unwrap_or(&0),
            ms.iter().sum::<u128>() / ms.len().max(1) as u128
        ),
    );
    table.row("restarts", format!("{} ({} after a kill, 1 last clean run)", kills.len() + 1, kills.len()));
    let per_mailbox: Vec<String> = server.iter().map(|(m, sm)| format!("{m} {}", sm.uids.len())).collect();
    table.row(
        "messages on the server",
        format!(
            "{total} ({} corpus + {} delivered during the run; {})",
            s.seeded,
            phase.delivered.len(),
            per_mailbox.join(", ")
        ),
    );
    table.row("stored", f.stored.to_string());
    table.row("lost", format!("{} (0 expected){}", f.lost.len(), sample(&f.lost)));
    table.row(
        "duplicated",
        format!(
            "{} (0 expected; Message-ID {}, content {}){}",
            f.dup_message_ids.len() + f.dup_hashes.len(),
            f.dup_message_ids.len(),
            f.dup_hashes.len(),
            sample(&f.dup_message_ids.iter().chain(&f.dup_hashes).cloned().collect::<Vec<_>>())
        ),
    );
    table.row("wrong message behind a UID", format!("{} (0 expected){}", f.wrong.len(), sample(&f.wrong)));
    table.row("stored, not on the server", format!("{} (0 expected){}", f.extra.len(), sample(&f.extra)));
    table.row(
        "notes in the folder / stored",
        format!(
            "{} / {} ({} with their final text; {} written, {} edits, {} renames, {} deletions){}",
            phase.notes.len(),
            f.notes_stored,
            f.notes_final,
            phase.note_ops.created,
            phase.note_ops.edits,
            phase.note_ops.renames,
            phase.note_ops.deletes,
            sample(&f.note_problems)
        ),
    );
    table.row(
        "documents (attachments)",
        format!(
            "{} stored, {} files missing or not matching their hash (0 expected){}",
            f.documents,
            f.document_problems.len(),
            sample(&f.document_problems)
        ),
    );
    table.row(
        "first sync finished",
        match sync_done {
            Some(at) => format!(
                "{:.1}s after the first start (kills and checks included), {:.1}s of daemon uptime, in run {}",
                at.duration_since(phase.started).as_secs_f64(),
                uptime_to_sync.as_secs_f64(),
                sync_run.map_or("?".into(), |r| r.to_string())
            ),
            None => "never".into(),
        },
    );
    table.row(
        "last run caught up",
        last.caught_up.map_or(
            format!("NO (within {}s, or nothing more stored for {}s)", o.settle.as_secs(), STALLED.as_secs()),
            |d| format!("in {:.1}s", d.as_secs_f64()),
        ),
    );
    table.row(
        "clean shutdown (SIGTERM)",
        match &last.shutdown {
            Some((d, st)) => format!("{:.2}s, {st}", d.as_secs_f64()),
            None => "did not exit within 30s (killed)".into(),
        },
    );
    table.row(
        "checks after a kill",
        format!(
            "{} of {} passed (UIDs lost behind the cursor: {})",
            kills.len() - interim_failed,
            kills.len(),
            lost_behind_cursor.len()
        ),
    );
    table.row(
        "kronika check false alarms",
        format!(
            "{} (after a kill: items deleted after the index's last commit reported as drift, not pending)",
            kills.iter().map(|k| k.check.false_alarms).sum::<usize>()
        ),
    );
    table.row("daemon exited on its own", exited_on_own.to_string());
    table.row("kronika check", f.check.clone());
    table.row("background errors", phase.errors.len().to_string());
    print!("{table}");
    for (i, kill) in kills.iter().enumerate() {
        for p in &kill.check.problems {
            println!("kill {}: {p}", i + 1);
        }
    }
    if let Some(e) = &last.exited_early {
        println!("the last run had exited on its own: {e}");
    }
    let ok = f.lost.is_empty()
        && f.document_problems.is_empty()
        && f.dup_message_ids.is_empty()
        && f.dup_hashes.is_empty()
        && f.wrong.is_empty()
        && f.extra.is_empty()
        && f.note_problems.is_empty()
        && f.check_ok
        && interim_failed == 0
        && exited_on_own == 0
        && last.caught_up.is_some()
        && last.shutdown.is_some_and(|(_, st)| st.success())
        && phase.errors.is_empty();
    println!("result: {}", if ok { "PASS" } else { "FAIL" });
    if !ok || o.keep {
        println!("logs and data: {}", s.work.display());
    }
    ok
}

/// A few examples of a list, for the table.
fn sample(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let few: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    format!(": {}{}", few.join(", "), if items.len() > 5 { ", …" } else { "" })
}

/// Two columns, the first padded.
#[derive(Default)]
struct Table(Vec<(String, String)>);

impl Table {
    fn row(&mut self, label: &str, value: String) {
        self.0.push((label.to_string(), value));
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.0.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        for (label, value) in &self.0 {
            writeln!(f, "{label:<width$}  {value}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// kronika

struct Kronika {
    bin: PathBuf,
    config: PathBuf,
    data: PathBuf,
    db: PathBuf,
    notes: PathBuf,
    logs: PathBuf,
}

impl Kronika {
    fn new(bin: PathBuf, work: &Path, port: u16) -> Result<Kronika> {
        let data = work.join("data");
        let notes = work.join("notes");
        let logs = work.join("logs");
        for d in [&data, &notes, &logs] {
            fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let config = work.join("kronika.toml");
        let mailboxes: Vec<String> = MAILBOXES.iter().map(|(_, m)| format!("{m:?}")).collect();
        fs::write(
            &config,
            format!(
                "# Written by benches/soak.rs\n\
                 data_dir = {data:?}\nown_domains = [\"{OWN_DOMAIN}\"]\n\n\
                 [[imap]]\nname = \"{ACCOUNT}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
                 username = \"alice\"\npassword_env = \"{PASSWORD_ENV}\"\nmailboxes = [{mailboxes}]\n\
                 outgoing = [\"Sent\"]\npoll_interval = \"2s\"\ntimeout = \"60s\"\n\n\
                 [[notes]]\nname = \"soak-notes\"\npath = {notes:?}\nkind = \"call\"\n",
                data = data.display().to_string(),
                notes = notes.display().to_string(),
                mailboxes = mailboxes.join(", "),
            ),
        )?;
        Ok(Kronika { bin, config, db: data.join("kronika.sqlite3"), data, notes, logs })
    }

    /// A copy of the data as the killed daemon left it (the database with
    /// its WAL, the index; not the documents) under `dir`, with a config of
    /// its own. Checks run on the copy: `kronika check` checkpoints the WAL
    /// when it closes the store, so checking the real data would spare the
    /// next run its recovery from a crash.
    fn snapshot(&self, dir: &Path) -> Result<Kronika> {
        let _ = fs::remove_dir_all(dir);
        let data = dir.join("data");
        let index = data.join("index");
        fs::create_dir_all(&index).with_context(|| format!("creating {}", index.display()))?;
        for name in ["kronika.sqlite3", "kronika.sqlite3-wal"] {
            let from = self.data.join(name);
            if from.exists() {
                fs::copy(&from, data.join(name)).with_context(|| format!("copying {}", from.display()))?;
            }
        }
        // Index files are written once and never changed: links will do.
        // Lock files stay behind.
        for entry in fs::read_dir(self.data.join("index")).context("listing the index")? {
            let entry = entry?;
            let name = entry.file_name();
            if entry.file_type()?.is_file() && !name.to_string_lossy().starts_with(".tantivy-") {
                fs::hard_link(entry.path(), index.join(&name))
                    .or_else(|_| fs::copy(entry.path(), index.join(&name)).map(|_| ()))
                    .with_context(|| format!("linking {}", entry.path().display()))?;
            }
        }
        let config = dir.join("kronika.toml");
        fs::write(
            &config,
            format!(
                "# A copy of the soak's data, written by benches/soak.rs\n\
                 data_dir = {:?}\nown_domains = [\"{OWN_DOMAIN}\"]\n",
                data.display().to_string()
            ),
        )?;
        Ok(Kronika {
            bin: self.bin.clone(),
            config,
            db: data.join("kronika.sqlite3"),
            data,
            notes: self.notes.clone(),
            logs: self.logs.clone(),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.env_remove("KRONIKA_CONFIG")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env(PASSWORD_ENV, dovecot::PASSWORD)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn output(&self, args: &[&str], path: Option<&Path>) -> Result<std::process::Output> {
        let mut c = self.command(args);
        if let Some(p) = path {
            c.arg(p);
        }
        c.output().with_context(|| format!("running kronika {args:?}"))
    }

    fn log(&self, run: usize) -> PathBuf {
        self.logs.join(format!("run-{run:02}.log"))
    }

    /// `kronika -v run`, output to its own log file.
    fn start(&self, run: usize) -> Result<Child> {
        let log = fs::File::create(self.log(run))?;
        let err = log.try_clone()?;
        self.command(&["-v", "run"]).stdout(log).stderr(err).spawn().context("starting kronika run")
    }

    /// `kronika check --json`.
    fn check(&self) -> Result<Check> {
        let out = self.output(&["check", "--json"], None)?;
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
            format!("kronika check --json printed no JSON: {}", String::from_utf8_lossy(&out.stderr))
        })?;
        let len = |k: &str| json[k].as_array().map_or(0, Vec::len);
        let extra: Vec<i64> =
            json["extra"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(|v| v.as_i64()).collect());
        let (missing, stale) = (len("missing"), len("stale"));
        let ahead = json["ahead_of_store"].as_bool().unwrap_or(true);
        let pending = json["pending"].as_u64().unwrap_or(u64::MAX);
        let summary = format!(
            "{} store items, {} index documents, {pending} pending; missing {missing}, stale {stale}, extra {}{}; exit {}",
            json["store_items"],
            json["index_documents"],
            extra.len(),
            if ahead { ", index ahead of the store" } else { "" },
            out.status.code().map_or("by a signal".into(), |c| c.to_string())
        );
        Ok(Check { missing, stale, extra, ahead, pending, exit_ok: out.status.success(), summary })
    }

    /// The highest store rev the index has committed (`kronika stats --json`).
    fn index_rev(&self) -> Result<i64> {
        let out = self.output(&["stats", "--json"], None)?;
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).context("kronika stats --json")?;
        json["index"]["rev"].as_i64().ok_or_else(|| anyhow!("kronika stats --json has no index.rev: {json}"))
    }
}

/// What `kronika check --json` said.
struct Check {
    missing: usize,
    stale: usize,
    /// Index documents that are not live items of the store.
    extra: Vec<i64>,
    ahead: bool,
    pending: u64,
    exit_ok: bool,
    summary: String,
}

impl Check {
    fn no_drift(&self) -> bool {
        self.missing + self.stale + self.extra.len() == 0 && !self.ahead && self.exit_ok
    }
}

// ---------------------------------------------------------------------------
// The server

/// A mailbox as the server has it.
struct ServerMailbox {
    uidvalidity: u32,
    /// UID → Message-ID (without angle brackets) when asked for and present.
    uids: BTreeMap<u32, Option<String>>,
}

/// The Maildir++ folder of a mailbox of alice's.
fn mailbox_dir(dovecot: &Dovecot, mailbox: &str) -> PathBuf {
    let maildir = dovecot.maildir("alice");
    if mailbox == "INBOX" { maildir } else { maildir.join(format!(".{}", dovecot::mutf7(mailbox).replace('/', "."))) }
}

/// Copies the messages of a corpus folder into a Dovecot mailbox folder
/// before Dovecot's first look at it (original mtimes: INTERNALDATE; owned
/// like alice's home). Returns how many.
fn seed_mailbox(from: &Path, to: &Path) -> Result<usize> {
    let home = dovecot_home(to)?;
    let meta = fs::metadata(&home).with_context(|| format!("reading {}", home.display()))?;
    let (uid, gid) = (Some(meta.uid()), Some(meta.gid()));
    let mut dirs = vec![to.to_path_buf()];
    if to.parent() != Some(&home) {
        dirs.insert(0, to.parent().unwrap_or(to).to_path_buf());
    }
    for sub in ["cur", "new", "tmp"] {
        dirs.push(to.join(sub));
    }
    for dir in &dirs {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::os::unix::fs::chown(dir, uid, gid).with_context(|| format!("chown {}", dir.display()))?;
    }
    let mut files = Vec::new();
    for sub in ["cur", "new"] {
        for entry in fs::read_dir(from.join(sub)).with_context(|| format!("listing {}", from.display()))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    for src in &files {
        let name = src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if name.contains(":2,") { name } else { format!("{name}:2,") };
        let dest = to.join("cur").join(name);
        let mtime = fs::metadata(src).and_then(|m| m.modified()).with_context(|| format!("{}", src.display()))?;
        fs::copy(src, &dest).with_context(|| format!("copying {}", src.display()))?;
        let file = fs::File::options().write(true).open(&dest)?;
        file.set_modified(mtime).with_context(|| format!("setting the mtime of {}", dest.display()))?;
        std::os::unix::fs::fchown(&file, uid, gid).with_context(|| format!("chown {}", dest.display()))?;
    }
    Ok(files.len())
}

/// alice's home: the folder above `Maildir`.
fn dovecot_home(mailbox_dir: &Path) -> Result<PathBuf> {
    mailbox_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "Maildir"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("{} is not below a Maildir", mailbox_dir.display()))
}

/// UIDVALIDITY and UIDs (with Message-IDs when `ids`) of one of alice's mailboxes.
fn server_mailbox(dovecot: &Dovecot, mailbox: &str, ids: bool) -> Result<ServerMailbox> {
    let mut imap = dovecot.login("alice");
    imap.stream().set_read_timeout(Some(Duration::from_secs(120)))?;
    let lines = imap.ok(&format!("EXAMINE {}", quote_mailbox(mailbox)))?;
    let uidvalidity = lines
        .iter()
        .find_map(|l| l.split("[UIDVALIDITY ").nth(1)?.split(']').next()?.parse().ok())
        .ok_or_else(|| anyhow!("EXAMINE {mailbox} sent no UIDVALIDITY"))?;
    let exists: usize =
        lines.iter().find_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS")?.parse().ok()).unwrap_or(0);
    let mut uids = BTreeMap::new();
    if exists > 0 && ids {
        for line in imap.ok("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")? {
            let Some(uid) = line.split("UID ").nth(1).and_then(|r| r.split([' ', ')']).next()?.parse().ok()) else {
                continue;
            };
            uids.insert(uid, header_message_id(&line));
        }
    } else if exists > 0 {
        for line in imap.ok("UID SEARCH ALL")? {
            if let Some(rest) = line.strip_prefix("* SEARCH") {
                uids.extend(rest.split_whitespace().filter_map(|u| u.parse().ok()).map(|u| (u, None)));
            }
        }
    }
    imap.logout();
    ensure!(uids.len() == exists, "{mailbox}: {exists} messages exist, {} UIDs were listed", uids.len());
    Ok(ServerMailbox { uidvalidity, uids })
}

/// The Message-ID in a FETCH line that carries the header field, without `<>`.
fn header_message_id(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let start = lower.find("message-id:")? + "message-id:".len();
    // Unfold: the value may continue on lines that start with white space.
    let mut value = String::new();
    for (i, part) in line[start..].split("\r\n").enumerate() {
        if i > 0 && !part.starts_with([' ', '\t']) {
            break;
        }
        value.push_str(part);
    }
    let id = value.trim().trim_start_matches('<').split('>').next()?.trim().to_string();
    (!id.is_empty()).then_some(id)
}

// ---------------------------------------------------------------------------
// The store, read-only

fn open_store(db: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("opening {} read-only", db.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

fn imap_source(mailbox: &str) -> String {
    format!("imap:{ACCOUNT}/{mailbox}")
}

/// A source key as the store has it.
struct KeyRow {
    gone: bool,
    /// The item, unless it is missing or deleted.
    item: Option<i64>,
    message_id: Option<String>,
    body: String,
}

fn keys(conn: &Connection, source: &str, bodies: bool) -> Result<HashMap<String, KeyRow>> {
    let mut stmt = conn.prepare(
        "SELECT s.key, s.gone_at IS NOT NULL, i.id, i.deleted_at IS NULL, i.message_id, \
         CASE WHEN ?2 THEN i.body ELSE '' END \
         FROM item_sources s LEFT JOIN items i ON i.id = s.item_id WHERE s.source = ?1",
    )?;
    let rows = stmt.query_map(rusqlite::params![source, bodies], |r| {
        let live: Option<bool> = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            KeyRow {
                gone: r.get(1)?,
                item: r.get::<_, Option<i64>>(2)?.filter(|_| live == Some(true)),
                message_id: r.get(4)?,
                body: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many corpus messages are stored (live keys of the initial UIDs).
fn stored_corpus(db: &Path, initial: &[(String, ServerMailbox)]) -> Result<usize> {
    let conn = open_store(db)?;
    let mut n = 0;
    for (mailbox, server) in initial {
        let mut stmt = conn.prepare("SELECT key FROM item_sources WHERE source = ?1 AND gone_at IS NULL")?;
        let keys: Vec<String> =
            stmt.query_map([imap_source(mailbox)], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        n += keys
            .iter()
            .filter_map(|k| k.split_once('/')?.1.parse::<u32>().ok())
            .filter(|u| server.uids.contains_key(u))
            .count();
    }
    Ok(n)
}

/// Values stored by more than one live item: (Message-IDs, content hashes).
fn duplicates(conn: &Connection) -> Result<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for column in ["message_id", "content_hash"] {
        let mut stmt = conn.prepare(&format!(
            "SELECT {column}, COUNT(*), GROUP_CONCAT(id) FROM items WHERE {column} IS NOT NULL AND deleted_at IS NULL \
             GROUP BY {column} HAVING COUNT(*) > 1"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "{column} {} in {} items (#{})",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?
            ))
        })?;
        out.push(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    }
    let hashes = out.pop().unwrap_or_default();
    Ok((out.pop().unwrap_or_default(), hashes))
}

/// A mailbox's stored cursor: (UIDVALIDITY, last UID).
fn cursor(conn: &Connection, mailbox: &str) -> Result<Option<(u32, u32)>> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM cursors WHERE source = ?1", [imap_source(mailbox)], |r| r.get(0))
        .optional()?;
    let Some(value) = value else { return Ok(None) };
    let json: serde_json::Value = serde_json::from_str(&value).with_context(|| format!("cursor {value:?}"))?;
    let get = |k: &str| json[k].as_u64().and_then(|v| u32::try_from(v).ok());
    Ok(get("uidvalidity").zip(get("last_uid")))
}

/// What may be checked while the daemon is down after a kill.
/// What the check after a kill found.
struct Interim {
    problems: Vec<String>,
    /// (mailbox, UID) at or below a stored cursor that are not stored.
    lost: Vec<(String, u32)>,
    /// Items deleted after the index's last commit that `kronika check`
    /// called drift.
    false_alarms: usize,
}

fn interim_check(k: &Kronika, dovecot: &Dovecot, expected: &HashMap<(String, u32), String>) -> Result<Interim> {
    let mut problems = Vec::new();
    let mut lost = Vec::new();
    let conn = open_store(&k.db)?;
    let quick: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if quick != "ok" {
        problems.push(format!("SQLite quick_check: {quick}"));
    }
    let (ids, hashes) = duplicates(&conn)?;
    problems.extend(ids.into_iter().chain(hashes).map(|d| format!("duplicated: {d}")));
    for (_, mailbox) in MAILBOXES {
        let Some((validity, last_uid)) = cursor(&conn, mailbox)? else { continue };
        let server = server_mailbox(dovecot, mailbox, false)?;
        if validity != server.uidvalidity {
            problems.push(format!("{mailbox}: cursor UIDVALIDITY {validity}, the server's is {}", server.uidvalidity));
            continue;
        }
        let stored = keys(&conn, &imap_source(mailbox), false)?;
        for (key, row) in &stored {
            let uid = key.strip_prefix(&format!("{validity}/")).and_then(|u| u.parse::<u32>().ok());
            let want = uid.and_then(|u| expected.get(&(mailbox.to_string(), u)));
            if let Some(want) = want
                && row.message_id.as_deref() != Some(want.as_str())
            {
                problems.push(format!(
                    "{mailbox} {key}: wrong message stored (Message-ID {:?}, not {want:?})",
                    row.message_id
                ));
            }
        }
        let missing: Vec<u32> = server
            .uids
            .keys()
            .filter(|u| **u <= last_uid)
            .filter(|u| stored.get(&format!("{validity}/{u}")).is_none_or(|r| r.gone || r.item.is_none()))
            .copied()
            .collect();
        if !missing.is_empty() {
            lost.extend(missing.iter().map(|u| (mailbox.to_string(), *u)));
            problems.push(format!(
                "{mailbox}: {} UIDs at or below the cursor ({last_uid}) are not stored, so lost: {:?}",
                missing.len(),
                &missing[..missing.len().min(10)]
            ));
        }
    }
    let check = k.check()?;
    let mut false_alarms = 0;
    if !check.no_drift() {
        // `kronika check` counts an item deleted after the index's last
        // commit as drift ("extra"), though the index drops it when it
        // catches up, as it does with the changed items it calls pending.
        let committed = k.index_rev()?;
        let deleted_later = check
            .extra
            .iter()
            .filter(|id| {
                conn.query_row("SELECT rev FROM items WHERE id = ?1 AND deleted_at IS NOT NULL", [**id], |r| {
                    r.get::<_, i64>(0)
                })
                .is_ok_and(|rev| rev > committed)
            })
            .count();
        if check.missing + check.stale == 0 && !check.ahead && deleted_later == check.extra.len() {
            false_alarms = deleted_later;
        } else {
            problems.push(format!("kronika check: {}", check.summary));
        }
    }
    Ok(Interim { problems, lost, false_alarms })
}

/// The Message-ID each known UID must be stored with: the corpus's (as
/// the server had them at the start) and the deliveries' so far.
fn expected_ids(
    initial: &[(String, ServerMailbox)],
    delivered: &[(String, u32, Option<String>)],
) -> HashMap<(String, u32), String> {
    let corpus =
        initial.iter().flat_map(|(m, s)| s.uids.iter().filter_map(|(u, id)| Some(((m.clone(), *u), id.clone()?))));
    let sent = delivered.iter().filter_map(|(m, u, id)| Some(((m.clone(), *u), id.clone()?)));
    corpus.chain(sent).collect()
}

/// Is everything on the server and every note stored, with its final text?
/// How many of the server's UIDs and of the notes (with their final text)
/// are stored, and how many there are.
fn progress(
    db: &Path,
    server: &[(String, ServerMailbox)],
    notes_source: &str,
    notes: &BTreeMap<String, String>,
) -> Result<(usize, usize)> {
    let conn = open_store(db)?;
    let mut done = 0;
    for (mailbox, s) in server {
        let stored = keys(&conn, &imap_source(mailbox), false)?;
        done += s
            .uids
            .keys()
            .filter(|u| stored.get(&format!("{}/{u}", s.uidvalidity)).is_some_and(|r| r.item.is_some()))
            .count();
    }
    let stored = keys(&conn, notes_source, true)?;
    done += notes
        .iter()
        .filter(|(key, marker)| stored.get(*key).is_some_and(|r| r.item.is_some() && r.body.contains(marker.as_str())))
        .count();
    Ok((done, server.iter().map(|(_, s)| s.uids.len()).sum::<usize>() + notes.len()))
}

/// What the final check found.
#[derive(Default)]
struct Final {
    stored: usize,
    lost: Vec<String>,
    extra: Vec<String>,
    wrong: Vec<String>,
    dup_message_ids: Vec<String>,
    dup_hashes: Vec<String>,
    notes_stored: usize,
    notes_final: usize,
    note_problems: Vec<String>,
    /// Document items, and the problems with their files.
    documents: usize,
    document_problems: Vec<String>,
    check_ok: bool,
    check: String,
}

fn final_check(
    k: &Kronika,
    server: &[(String, ServerMailbox)],
    delivered: &[(String, u32, Option<String>)],
    notes_source: &str,
    notes: &BTreeMap<String, String>,
) -> Result<Final> {
    let conn = open_store(&k.db)?;
    let mut f = Final::default();
    let sent_ids: HashMap<(&str, u32), &Option<String>> =
        delivered.iter().map(|(m, u, id)| ((m.as_str(), *u), id)).collect();
    for (mailbox, s) in server {
        let source = imap_source(mailbox);
        let stored = keys(&conn, &source, false)?;
        for (uid, id) in &s.uids {
            let key = format!("{}/{uid}", s.uidvalidity);
            match stored.get(&key) {
                Some(r) if !r.gone && r.item.is_some() => {
                    f.stored += 1;
                    // The server's Message-ID, or the one the bench delivered.
                    let expected = id.as_ref().or(sent_ids.get(&(mailbox.as_str(), *uid)).and_then(|i| i.as_ref()));
                    if let Some(expected) = expected
                        && r.message_id.as_deref() != Some(expected.as_str())
                    {
                        f.wrong.push(format!(
                            "{source} {key}: Message-ID {:?}, the server has {expected:?}",
                            r.message_id
                        ));
                    }
                }
                Some(r) => f.lost.push(format!(
                    "{source} {key} ({})",
                    if r.gone { "marked gone" } else { "its item is missing or deleted" }
                )),
                None => f.lost.push(format!("{source} {key}")),
            }
        }
        for key in stored.keys() {
            let uid =
                key.split_once('/').filter(|(v, _)| *v == s.uidvalidity.to_string()).and_then(|(_, u)| u.parse().ok());
            if uid.is_none_or(|u| !s.uids.contains_key(&u)) {
                f.extra.push(format!("{source} {key}"));
            }
        }
    }
    (f.dup_message_ids, f.dup_hashes) = duplicates(&conn)?;
    let documents = keys(&conn, "documents", false)?;
    f.documents = documents.values().filter(|r| r.item.is_some()).count();
    f.document_problems = document_files(&k.data.join("documents"), &documents)?;
    let stored = keys(&conn, notes_source, true)?;
    let notes_items: i64 = conn.query_row(
        "SELECT COUNT(*) FROM items WHERE kind IN ('call', 'meeting') AND deleted_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    for (key, marker) in notes {
        match stored.get(key) {
            Some(r) if r.item.is_some() => {
                f.notes_stored += 1;
                if r.body.contains(marker) {
                    f.notes_final += 1;
                } else {
                    f.note_problems.push(format!("{key}: the stored text lacks {marker:?}"));
                }
            }
            _ => f.note_problems.push(format!("{key}: not stored")),
        }
    }
    if notes_items as usize != notes.len() {
        f.note_problems.push(format!("{notes_items} live note items for {} notes written", notes.len()));
    }
    // Keys of renamed and deleted notes may stay, but not with a live item.
    for (key, _) in stored.iter().filter(|(k, r)| !notes.contains_key(*k) && r.item.is_some()) {
        f.note_problems.push(format!("{key}: a live item, but no such note in the folder"));
    }
    drop(conn);
    let check = k.check()?;
    f.check_ok = check.no_drift() && check.pending == 0;
    f.check = format!("{}: {}", if f.check_ok { "index = store" } else { "MISMATCH" }, check.summary);
    Ok(f)
}

/// Every live document item has its file, and every file's SHA-256 is its
/// name: a kill while a document was written leaves no truncated file.
fn document_files(dir: &Path, documents: &HashMap<String, KeyRow>) -> Result<Vec<String>> {
    use sha2::Digest;
    let mut problems = Vec::new();
    for (hash, row) in documents {
        let path = dir.join(hash.get(..2).unwrap_or("00")).join(hash);
        if row.item.is_some() && !path.is_file() {
            problems.push(format!("{}: missing", path.display()));
        }
    }
    for sub in fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in fs::read_dir(sub.path()).into_iter().flatten().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                // Left by a kill between write and rename: never read.
                continue;
            }
            let bytes = fs::read(file.path()).with_context(|| format!("reading {}", file.path().display()))?;
            if hex::encode(sha2::Sha256::digest(&bytes)) != name {
                problems.push(format!("{}: its content does not match its name", file.path().display()));
            }
        }
    }
    Ok(problems)
}

// ---------------------------------------------------------------------------
// Background work during the kill phase

/// Client names and domains from the corpus's clients.csv.
fn read_clients(csv_path: &Path) -> Result<Vec<(String, String)>> {
    let mut r = csv::ReaderBuilder::new().delimiter(b';').from_path(csv_path)?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        let name = rec.get(0).unwrap_or("").to_string();
        if let Some(domain) = rec.get(2).and_then(|d| d.split(',').next()).map(str::trim).filter(|d| !d.is_empty()) {
            out.push((name, domain.to_string()));
        }
    }
    ensure!(!out.is_empty(), "{} lists no client with a domain", csv_path.display());
    Ok(out)
}

/// A pause of about `mean` (uniform in 0..2×mean), cut short by `stop`.
fn pause(rng: &mut Rng, mean: Duration, stop: &AtomicBool) {
    let until = Instant::now() + mean.mul_f64(2.0 * rng.unit());
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        sleep(Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())));
    }
}

/// APPENDs new mail to INBOX (incoming) and Sent (outgoing) until `stop`.
fn deliver(dovecot: &Dovecot, o: &Opts, clients: &[(String, String)], shared: &Shared, stop: &AtomicBool) {
    let mut rng = Rng::new(o.seed ^ 0xDE11_7E12);
    let mut imap: Option<Imap> = None;
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        pause(&mut rng, o.deliver_every, stop);
        if stop.load(Ordering::SeqCst) {
            break;
        }
        n += 1;
        let (name, domain) = &clients[rng.below(clients.len())];
        let outgoing = rng.chance(0.2);
        let mailbox = if outgoing { "Sent" } else { "INBOX" };
        let id = (!rng.chance(0.05)).then(|| format!("soak.{:x}.{n}@{domain}", o.seed));
        let raw = delivery(n, o.seed, name, domain, outgoing, id.as_deref(), &mut rng);
        let session = match imap.take() {
            Some(s) => Ok(s),
            None => Imap::connect(dovecot.port()).and_then(|mut s| {
                s.ok(&format!("LOGIN alice {}", dovecot::quote(dovecot::PASSWORD)))?;
                Ok(s)
            }),
        };
        let result = session.and_then(|mut s| {
            let head = format!("{} {{{}}}", quote_mailbox(mailbox), raw.len());
            let resp = s.command_with_literal("APPEND", &head, &raw)?;
            let uid = dovecot::parse_appenduid(&resp.tagged).ok_or_else(|| anyhow!("no APPENDUID: {}", resp.tagged))?;
            Ok((s, uid))
        });
        match result {
            Ok((s, uid)) => {
                imap = Some(s);
                shared.delivered.lock().unwrap().push((mailbox.to_string(), uid, id));
            }
            Err(e) => {
                shared.errors.lock().unwrap().push(format!("APPEND of delivery {n} to {mailbox}: {e:#}"));
                break;
            }
        }
    }
    if let Some(s) = imap {
        s.logout();
    }
}

/// A plain business message, Czech, UTF-8 8bit.
fn delivery(
    n: usize,
    seed: u64,
    client: &str,
    domain: &str,
    outgoing: bool,
    id: Option<&str>,
    rng: &mut Rng,
) -> Vec<u8> {
    const SUBJECTS: [&str; 4] = ["Objednavka", "Dotaz na cenu", "Faktura", "Termin dodani"];
    const NAMES: [&str; 4] = ["Petr Dvorak", "Lucie Mala", "Karel Vesely", "Eva Horakova"];
    let person = NAMES[rng.below(NAMES.len())];
    let local = ["obchod", "nakup", "info", "petr"][rng.below(4)];
    let client_addr = format!("{local}@{domain}");
    let (from, to) = if outgoing {
        (format!("Jana Svobodova <{OWN_ADDRESS}>"), format!("{person} <{client_addr}>"))
    } else {
        (format!("{person} <{client_addr}>"), format!("Jana Svobodova <{OWN_ADDRESS}>"))
    };
    let subject = format!("{} c. {n}", SUBJECTS[rng.below(SUBJECTS.len())]);
    let mut m = String::new();
    let _ =
        write!(m, "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\n", chrono::Utc::now().to_rfc2822());
    if let Some(id) = id {
        let _ = write!(m, "Message-ID: <{id}>\r\n");
    }
    m.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    let _ = write!(
        m,
        "Dobrý den,\r\n\r\nposílám podklady k zakázce {n} pro {client}. Prosím o potvrzení do pátku.\r\n\
         Kontrolní značka: soakmail{seed:x}x{n}\r\n\r\nS pozdravem\r\n{}\r\n",
        if outgoing { "Jana Svobodová" } else { person }
    );
    m.into_bytes()
}

/// What the notes writer did.
#[derive(Default, Clone, Copy)]
struct NoteOps {
    created: usize,
    edits: usize,
    renames: usize,
    deletes: usize,
}

/// Writes notes into the watched folder until `stop`: new notes (plain
/// writes, atomic saves through a hidden temp file, writes in two halves
/// with a pause longer than kronika's settle time), edits (a line with a
/// new marker appended), renames and deletions of earlier notes.
fn write_notes(dir: &Path, o: &Opts, clients: &[(String, String)], shared: &Shared, stop: &AtomicBool) {
    let mut rng = Rng::new(o.seed ^ 0x4E07_E5E5);
    // Live notes: (key, path).
    let mut live: Vec<(String, PathBuf)> = Vec::new();
    let mut ops = NoteOps::default();
    while !stop.load(Ordering::SeqCst) {
        pause(&mut rng, o.note_every, stop);
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let roll = rng.unit();
        let result = if !live.is_empty() && roll < 0.27 {
            let i = rng.below(live.len());
            if roll < 0.15 {
                ops.edits += 1;
                let marker = format!("soakedit{:x}x{}", o.seed, ops.edits);
                let (key, path) = &live[i];
                fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, format!("\nDoplněno: {marker}\n").as_bytes()))
                    .map(|()| {
                        shared.notes.lock().unwrap().insert(key.clone(), marker);
                    })
            } else if roll < 0.23 {
                // A rename keeps the item (kronika recognises the content).
                ops.renames += 1;
                let (key, path) = live.swap_remove(i);
                let new_key = key.replace(".md", &format!("-r{}.md", ops.renames));
                let new_path = dir.join(&new_key);
                fs::rename(&path, &new_path).map(|()| {
                    let mut notes = shared.notes.lock().unwrap();
                    if let Some(marker) = notes.remove(&key) {
                        notes.insert(new_key.clone(), marker);
                    }
                    live.push((new_key, new_path));
                })
            } else {
                ops.deletes += 1;
                let (key, path) = live.swap_remove(i);
                fs::remove_file(&path).map(|()| {
                    shared.notes.lock().unwrap().remove(&key);
                })
            }
        } else {
            ops.created += 1;
            let n = ops.created;
            let (client, _) = &clients[rng.below(clients.len())];
            let key = if n % 5 == 0 { format!("Zákazníci/soak-{n:04}.md") } else { format!("soak-{n:04}.md") };
            let path = dir.join(&key);
            let marker = format!("soaknote{:x}x{n}", o.seed);
            let text = format!(
                "---\nclient: {client:?}\nkind: call\n---\n# Hovor {n} s {client}\n\n\
                 Domluvili jsme další schůzku a cenovou nabídku na jaro.\n{marker}\n"
            );
            write_note(&path, &text, rng.below(3)).map(|()| {
                shared.notes.lock().unwrap().insert(key.clone(), marker);
                live.push((key, path));
            })
        };
        *shared.note_ops.lock().unwrap() = ops;
        if let Err(e) = result {
            shared.errors.lock().unwrap().push(format!("writing notes: {e}"));
            break;
        }
    }
}

/// Writes a new note: 0 plainly, 1 as an editor's atomic save (a hidden
/// temp file renamed), 2 in two halves with a pause between.
fn write_note(path: &Path, text: &str, mode: usize) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    match mode {
        0 => fs::write(path, text),
        1 => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let tmp = path.with_file_name(format!(".{name}.tmp"));
            fs::write(&tmp, text)?;
            fs::rename(&tmp, path)
        }
        _ => {
            // Bytes, not characters: a half-written file may end inside one.
            let (a, b) = text.as_bytes().split_at(text.len() / 2);
            let mut f = fs::File::create(path)?;
            std::io::Write::write_all(&mut f, a)?;
            sleep(Duration::from_millis(400));
            std::io::Write::write_all(&mut f, b)
        }
    }
}

/// Records when every corpus message is first seen stored.
fn monitor(db: &Path, initial: &[(String, ServerMailbox)], shared: &Shared, stop: &AtomicBool) {
    let total: usize = initial.iter().map(|(_, s)| s.uids.len()).sum();
    while !stop.load(Ordering::SeqCst) && shared.synced_at.lock().unwrap().is_none() {
        if shared.up.load(Ordering::SeqCst)
            && let Ok(n) = stored_corpus(db, initial)
            && n == total
        {
            *shared.synced_at.lock().unwrap() = Some(Instant::now());
        }
        sleep(Duration::from_millis(100));
    }
}
