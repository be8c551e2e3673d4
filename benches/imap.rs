//! The IMAP first-sync benchmark: kronika against mbsync (Debian package
//! `isync`) pulling the same mailbox from the same private Dovecot in the
//! same run. mbsync only copies; kronika parses, matches, stores and
//! indexes. Target: kronika takes no longer than mbsync (ratio ≤ 1.0).
//!
//! `cargo bench --bench imap -- [--messages N] [--clients N] [--seed S] [--keep] [--out DIR]`
//!
//! 1. The corpus of the pipeline bench (`corpus/mod.rs`, 400 clients, seed
//!    42) in `target/bench/corpus-N-400-42`; `--keep` reuses a complete one
//!    and keeps the copies and data in `target/bench/imap/` afterwards.
//! 2. A private Dovecot (`tests/it/common/dovecot.rs`); every message of the
//!    corpus (all folders flattened) is copied into alice's `Maildir/cur`
//!    before the first login, then Dovecot indexes the mailbox and caches
//!    the metadata both clients ask for (STATUS, then `FETCH 1:* (UID FLAGS
//!    RFC822.SIZE INTERNALDATE)`), untimed. The mail is then in the page
//!    cache for both clients.
//! 3. `mbsync -a` into a fresh Maildir (installed with `apt-get install -y
//!    isync` when missing), timed: the reference. Then once more with
//!    `FSync no`, for information: by default mbsync fsyncs every message
//!    file, which is most of its time.
//! 4. `kronika sync` into a fresh data folder, clients imported first
//!    (untimed), timed; `kronika stats --json` checks the counts.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke
//! run: 200 messages in a temporary folder, mbsync only when installed,
//! nothing installed, Dovecot missing means skipped.

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

// The harness carries its own `#![allow(dead_code)]`; an outer one here
// would be a clippy::duplicated_attributes error.
#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "../tests/it/common/dovecot.rs"]
mod dovecot;

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};

use common::{Opts, Run, dir_bytes, have, load, machine, run, version};
use dovecot::Dovecot;

/// The kronika config section's name; `kronika sync` prints `work: …`.
const ACCOUNT: &str = "work";

fn opts() -> Opts {
    Opts::parse(100_000, "bench", 200)
}

fn main() -> ExitCode {
    let o = opts();
    let result = bench(&o);
    if o.smoke {
        let _ = fs::remove_dir_all(&o.out);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imap bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn bench(o: &Opts) -> Result<()> {
    println!("machine: {}", machine());
    println!("load before: {}", load());
    fs::create_dir_all(&o.out).with_context(|| format!("creating {}", o.out.display()))?;

    // mbsync first: installing it must not happen between the timed runs.
    let mut mbsync = have("mbsync");
    if !mbsync && !o.smoke {
        println!("mbsync is missing: installing it (apt-get install -y isync)");
        install_isync()?;
        mbsync = have("mbsync");
        ensure!(mbsync, "mbsync is still missing after installing isync");
    }
    if mbsync {
        println!("mbsync: {}", version("mbsync", "--version"));
    } else {
        println!("mbsync: not installed (apt-get install isync); the smoke run skips it");
    }

    let corpus = corpus(o)?;
    let mb = corpus.bytes as f64 / 1e6;

    // Dovecot with the corpus in alice's INBOX.
    let dovecot = match Dovecot::try_start() {
        Ok(d) => d,
        Err(e) if o.smoke && e.to_string().contains("not installed") => {
            println!("skipped: {e:#}");
            return Ok(());
        }
        Err(e) => return Err(e.context("starting a private Dovecot")),
    };
    println!("dovecot: {} on 127.0.0.1:{}", version("dovecot", "--version"), dovecot.port());
    let t = Instant::now();
    let (copied, copied_bytes) = seed(&corpus.maildir, &dovecot.maildir("alice"))?;
    ensure!(copied == corpus.messages, "copied {copied} messages, the corpus has {}", corpus.messages);
    println!(
        "seeded alice's INBOX: {copied} messages, {:.1} MB copied into Maildir/cur ({:.1}s)",
        copied_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let status = dovecot.status("alice", "INBOX");
    ensure!(status.messages as usize == copied, "Dovecot sees {} messages in INBOX, not {copied}", status.messages);
    let indexed = t.elapsed();
    let t = Instant::now();
    warm(&dovecot, copied)?;
    println!(
        "untimed: Dovecot indexed the mailbox (STATUS INBOX, {:.1}s) and cached UID FLAGS RFC822.SIZE INTERNALDATE \
         of every message (FETCH 1:*, {:.1}s), so neither client pays for that; the mail is in the page cache for both",
        indexed.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );

    let work = o.out.join("imap");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    // mbsync: copies INBOX into a fresh Maildir, as configured by default
    // (the reference), then once more with `FSync no` (for information:
    // by default mbsync fsyncs every message file, which dominates its time).
    let mut mbsync_run = None;
    let mut mbsync_nofsync = None;
    if mbsync {
        let r = run_mbsync(&work, "mbsync", true, dovecot.port(), copied)?;
        report("mbsync -a (default FSync yes)", &r, copied, mb);
        mbsync_run = Some(r);
        let r = run_mbsync(&work, "mbsync-nofsync", false, dovecot.port(), copied)?;
        report("mbsync -a (FSync no)", &r, copied, mb);
        mbsync_nofsync = Some(r);
        let _ = fs::remove_dir_all(work.join("mbsync-nofsync"));
    }

    // kronika: a fresh data folder, the clients, then the timed sync.
    let kr = run_kronika(&work, dovecot.port(), &corpus, copied)?;
    report("kronika sync", &kr, copied, mb);

    println!("load after: {}", load());
    println!("--- summary ---");
    println!("messages: {copied}, {mb:.1} MB");
    if let Some(m) = &mbsync_run {
        println!("mbsync:            {}", figures(m, copied, mb));
    }
    if let Some(m) = &mbsync_nofsync {
        println!("mbsync (FSync no): {}", figures(m, copied, mb));
    }
    println!("kronika:           {}", figures(&kr, copied, mb));
    if let Some(m) = &mbsync_run {
        let ratio = kr.wall.as_secs_f64() / m.wall.as_secs_f64();
        println!(
            "ratio kronika/mbsync time: {ratio:.2} (target ≤ 1.00: {})",
            if ratio <= 1.0 { "met" } else { "missed" }
        );
    }
    if let Some(m) = &mbsync_nofsync {
        println!(
            "ratio kronika/mbsync (FSync no) time: {:.2} (for information)",
            kr.wall.as_secs_f64() / m.wall.as_secs_f64()
        );
    }
    drop(dovecot);
    if !o.keep && !o.smoke {
        // The copies are as large as the corpus; the corpus itself stays.
        let _ = fs::remove_dir_all(&work);
    }
    Ok(())
}

/// The pipeline bench's corpus, reused with `--keep` when complete.
fn corpus(o: &Opts) -> Result<corpus::Corpus> {
    let dir = o.out.join(format!("corpus-{}-{}-{}", o.messages, o.clients, o.seed));
    let complete = fs::read_to_string(dir.join("corpus.json")).is_ok_and(|j| j.contains("\"complete\": true"));
    let started = Instant::now();
    let corpus = if o.keep && complete {
        println!("reusing the corpus in {}", dir.display());
        corpus::Corpus::read(&dir, o.messages, dir_bytes(&dir.join("maildir"))).context("queries.txt")?
    } else {
        let spec = corpus::CorpusSpec {
            messages: o.messages,
            clients: o.clients,
            seed: o.seed,
            shape: corpus::Shape::Standard,
        };
        corpus::generate(&spec, &dir).with_context(|| format!("generating the corpus in {}", dir.display()))?
    };
    println!(
        "corpus: {} messages, {:.1} MB, {} clients ({:.1}s)",
        corpus.messages,
        corpus.bytes as f64 / 1e6,
        o.clients,
        started.elapsed().as_secs_f64()
    );
    Ok(corpus)
}

/// `apt-get install -y isync` (through sudo when not root), with an
/// `apt-get update` when the first try fails.
fn install_isync() -> Result<()> {
    let root = fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
    let apt = |args: &[&str]| -> Result<bool> {
        let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            cmd.arg("apt-get");
        }
        let out = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .with_context(|| format!("running apt-get {args:?}"))?;
        if !out.status.success() {
            eprintln!("apt-get {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(out.status.success())
    };
    if apt(&["install", "-y", "-qq", "isync"])? {
        return Ok(());
    }
    ensure!(apt(&["update", "-qq"])?, "apt-get update failed");
    ensure!(apt(&["install", "-y", "-qq", "isync"])?, "apt-get install isync failed");
    Ok(())
}

/// Every message file below a Maildir++ tree (in `cur/` or `new/` of any folder).
fn mail_files(root: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(root).with_context(|| format!("listing {}", root.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name();
        if name == "cur" || name == "new" {
            for f in fs::read_dir(entry.path())? {
                let f = f?;
                if f.file_type()?.is_file() {
                    out.push(f.path());
                }
            }
        } else if name != "tmp" {
            mail_files(&entry.path(), out)?;
        }
    }
    Ok(())
}

/// Copies every message of the corpus into `maildir/cur` (INBOX) before
/// Dovecot's first look at it: unique base names, a `:2,` info suffix, the
/// original mtime (Dovecot's INTERNALDATE), owned like the user's home.
/// Returns the number of messages and bytes.
fn seed(corpus_maildir: &Path, maildir: &Path) -> Result<(usize, u64)> {
    let home = maildir.parent().ok_or_else(|| anyhow!("{} has no parent", maildir.display()))?;
    let meta = fs::metadata(home).with_context(|| format!("reading {}", home.display()))?;
    let (uid, gid) = (Some(meta.uid()), Some(meta.gid()));
    for sub in ["", "cur", "new", "tmp"] {
        let dir = maildir.join(sub);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::os::unix::fs::chown(&dir, uid, gid).with_context(|| format!("chown {}", dir.display()))?;
    }
    let mut files = Vec::new();
    mail_files(corpus_maildir, &mut files)?;
    files.sort();
    let cur = maildir.join("cur");
    let mut names = HashSet::new();
    let mut bytes = 0;
    for src in &files {
        let name = src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (base, info) = name.split_once(":2,").unwrap_or((&name, ""));
        let mut unique = base.to_string();
        let mut n = 1;
        while !names.insert(unique.clone()) {
            n += 1;
            unique = format!("{base}.{n}");
        }
        let dest = cur.join(format!("{unique}:2,{info}"));
        let mtime = fs::metadata(src).and_then(|m| m.modified()).with_context(|| format!("{}", src.display()))?;
        let mut input = fs::File::open(src).with_context(|| format!("opening {}", src.display()))?;
        let mut output = fs::File::create(&dest).with_context(|| format!("creating {}", dest.display()))?;
        bytes += std::io::copy(&mut input, &mut output).with_context(|| format!("copying {}", src.display()))?;
        output.set_modified(mtime).with_context(|| format!("setting the mtime of {}", dest.display()))?;
        std::os::unix::fs::fchown(&output, uid, gid).with_context(|| format!("chown {}", dest.display()))?;
    }
    Ok((files.len(), bytes))
}

/// Lets Dovecot read every message and cache the metadata both clients
/// fetch, on one connection, before any timing.
fn warm(dovecot: &Dovecot, messages: usize) -> Result<()> {
    let mut imap = dovecot.login("alice");
    imap.stream().set_read_timeout(Some(Duration::from_secs(120)))?;
    imap.ok("EXAMINE INBOX")?;
    let lines = imap.ok("FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)")?;
    let fetched = lines.iter().filter(|l| l.contains(" FETCH (")).count();
    imap.logout();
    ensure!(fetched == messages, "FETCH 1:* answered for {fetched} messages, not {messages}");
    Ok(())
}

/// `mbsync -a` pulling INBOX into a fresh Maildir `work/NAME` (config
/// `work/NAME.rc`), with or without its per-message fsync; checks it
/// copied every message.
fn run_mbsync(work: &Path, name: &str, fsync: bool, port: u16, messages: usize) -> Result<Run> {
    let mail = work.join(name);
    let _ = fs::remove_dir_all(&mail);
    fs::create_dir_all(&mail)?;
    let config = work.join(format!("{name}.rc"));
    fs::write(
        &config,
        format!(
            "# Written by benches/imap.rs\n\
             FSync {fsync}\n\n\
             IMAPAccount bench\nHost 127.0.0.1\nPort {port}\nUser alice\nPass {pass}\nSSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount bench\n\n\
             MaildirStore local\nPath {path}/\nInbox {path}/INBOX\n\n\
             Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\nSync Pull\nCreate Near\nSyncState *\n",
            fsync = if fsync { "yes" } else { "no" },
            pass = dovecot::PASSWORD,
            path = mail.display()
        ),
    )?;
    let r = run(Command::new("mbsync").arg("-c").arg(&config).arg("-a"));
    ensure!(r.ok, "mbsync failed:\n{}{}", r.stdout, r.stderr);
    let inbox = mail.join("INBOX");
    let copied =
        ["cur", "new"].iter().filter_map(|d| fs::read_dir(inbox.join(d)).ok()).map(|d| d.count()).sum::<usize>();
    ensure!(copied == messages, "mbsync copied {copied} messages, not {messages}:\n{}{}", r.stdout, r.stderr);
    Ok(r)
}

/// `kronika sync` of INBOX into a fresh data folder under `work`, the
/// clients imported first; checks the summary and `kronika stats`.
fn run_kronika(work: &Path, port: u16, corpus: &corpus::Corpus, messages: usize) -> Result<Run> {
    let data = work.join("kronika-data");
    fs::create_dir_all(&data)?;
    let config = work.join("kronika.toml");
    fs::write(
        &config,
        format!(
            "# Written by benches/imap.rs\n\
             data_dir = {data:?}\nown_domains = [\"modrykamen.cz\"]\n\n\
             [[imap]]\nname = \"{ACCOUNT}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
             username = \"alice\"\npassword_cmd = \"echo {pass}\"\nmailboxes = [\"INBOX\"]\ntimeout = \"60s\"\n",
            data = data.display().to_string(),
            pass = dovecot::PASSWORD,
        ),
    )?;
    let kronika = env!("CARGO_BIN_EXE_kronika");
    let cmd = |args: &[&str]| {
        let mut c = Command::new(kronika);
        c.env_remove("KRONIKA_CONFIG").env("NO_COLOR", "1").arg("--config").arg(&config).args(args);
        c
    };
    let r = run(cmd(&["client", "import"]).arg(&corpus.clients_csv));
    ensure!(r.ok, "kronika client import failed:\n{}", r.stderr);

    let r = run(&mut cmd(&["sync"]));
    ensure!(r.ok, "kronika sync failed:\n{}{}", r.stdout, r.stderr);
    print!("{}", r.stdout);
    let line = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{ACCOUNT}: ")))
        .ok_or_else(|| anyhow!("no `{ACCOUNT}: …` line in the output of kronika sync:\n{}", r.stdout))?;
    let count = |what: &str| -> Option<usize> {
        line.split(", ").find_map(|part| part.strip_suffix(what)?.trim().parse().ok())
    };
    let (read, new) = (count(" read"), count(" new"));
    ensure!(
        read == Some(messages) && new == Some(messages),
        "kronika sync should read and add {messages} messages: {line}"
    );

    let stats = run(&mut cmd(&["stats", "--json"]));
    ensure!(stats.ok, "kronika stats failed:\n{}", stats.stderr);
    let json: serde_json::Value = serde_json::from_str(&stats.stdout).context("kronika stats --json")?;
    let items = json["items"].as_u64();
    let docs = json["index"]["documents"].as_u64();
    let linked = json["linked_items"].as_u64().unwrap_or(0);
    println!(
        "kronika stats: {} items, {} linked to {} clients, {} index documents, index up to date: {}",
        items.unwrap_or(0),
        linked,
        json["clients"],
        docs.unwrap_or(0),
        json["index"]["up_to_date"]
    );
    // Attachments that are documents (invoices, offers) are items of their own.
    let mails = json["by_kind"]["email"].as_u64();
    ensure!(mails == Some(messages as u64), "kronika stats counts {mails:?} mails, not {messages}");
    ensure!(docs == items, "the index holds {docs:?} documents, the store {items:?} items");
    if json["index"]["up_to_date"] != serde_json::Value::Bool(true) {
        bail!("the index is behind the store after kronika sync: {}", json["index"]);
    }
    Ok(r)
}

fn figures(r: &Run, messages: usize, mb: f64) -> String {
    let secs = r.wall.as_secs_f64();
    format!(
        "{secs:.1}s, {:.0} messages/s, {:.1} MB/s, peak memory {:.0} MB, CPU {:.1}s user + {:.1}s sys",
        messages as f64 / secs,
        mb / secs,
        r.max_rss_kb as f64 / 1024.0,
        r.user,
        r.sys
    )
}

fn report(what: &str, r: &Run, messages: usize, mb: f64) {
    println!("{what}: {}", figures(r, messages, mb));
}
