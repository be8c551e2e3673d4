//! Generates the benchmark corpus (see `corpus/mod.rs`).
//!
//!     cargo bench --bench gen_corpus -- --messages 100000 --clients 500 --seed 1 --out /tmp/corpus \
//!         [--shape standard|varied] [--verify]
//!
//! `--shape varied` makes the second corpus, with other charsets (8-bit
//! bodies too), attachments, thread lengths and sizes (see `corpus/mod.rs`).
//!
//! Unknown arguments (such as the `--bench` that `cargo bench` passes) are
//! ignored. Run without `--bench` and without `--out`, as `cargo test
//! --all-targets` does, it makes a small corpus of each shape in a
//! temporary directory, verifies every message and removes it again: a
//! smoke test.

// Until Cargo.toml registers this file with `harness = false`, cargo builds
// it as a libtest bench in which `main` is unused.
#![allow(dead_code)]

#[path = "corpus/mod.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

struct Args {
    messages: usize,
    clients: usize,
    seed: u64,
    shape: corpus::Shape,
    out: Option<PathBuf>,
    verify: bool,
    bench: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        messages: 2_000,
        clients: 400,
        seed: 1,
        shape: corpus::Shape::Standard,
        out: None,
        verify: false,
        bench: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| -> Result<u64, String> {
            v.replace('_', "").parse::<u64>().map_err(|_| format!("{name}: cannot read {v:?} as a number"))
        };
        match key.as_str() {
            "--messages" | "-n" => a.messages = number("--messages", value("--messages")?)? as usize,
            "--clients" => a.clients = number("--clients", value("--clients")?)? as usize,
            "--seed" => a.seed = number("--seed", value("--seed")?)?,
            "--shape" => {
                let v = value("--shape")?;
                a.shape =
                    corpus::Shape::parse(&v).ok_or_else(|| format!("--shape: {v:?} is neither standard nor varied"))?;
            }
            "--out" | "-o" => a.out = Some(PathBuf::from(value("--out")?)),
            "--verify" => a.verify = true,
            "--bench" => a.bench = true,
            "--help" | "-h" => {
                println!(
                    "gen_corpus --messages N --clients N --seed S --out DIR [--shape standard|varied] [--verify]\n\
                     Writes DIR/clients.csv, DIR/maildir/, DIR/queries.txt and DIR/corpus.json."
                );
                std::process::exit(0);
            }
            // cargo's --bench, libtest flags, filters: not ours.
            _ => {}
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_corpus: {e}");
            return ExitCode::from(2);
        }
    };
    let smoke = !args.bench && args.out.is_none();
    let shapes = if smoke { vec![corpus::Shape::Standard, corpus::Shape::Varied] } else { vec![args.shape] };
    let mut ok = true;
    for shape in shapes {
        ok &= run(&args, shape, smoke);
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Generates (and verifies, when asked or in the smoke test) one corpus.
fn run(args: &Args, shape: corpus::Shape, smoke: bool) -> bool {
    let spec = corpus::CorpusSpec {
        messages: if smoke { 300 } else { args.messages },
        clients: if smoke { 40 } else { args.clients },
        seed: args.seed,
        shape,
    };
    let out = match (&args.out, smoke) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            std::env::temp_dir().join(format!("kronika-corpus-smoke-{}-{}", shape.name(), std::process::id()))
        }
        (None, false) => std::env::temp_dir().join(format!(
            "kronika-corpus-{}-{}{}",
            spec.messages,
            spec.seed,
            if shape == corpus::Shape::Standard { "" } else { "-varied" }
        )),
    };

    let started = Instant::now();
    let (corpus, stats) = match corpus::generate_with_stats(&spec, &out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gen_corpus: cannot generate the corpus in {}: {e}", out.display());
            return false;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "gen_corpus: {} messages, {:.1} MB in {:.2} s ({} clients, seed {}, {} shape) -> {}",
        corpus.messages,
        corpus.bytes as f64 / 1e6,
        secs,
        stats.clients,
        spec.seed,
        spec.shape.name(),
        out.display()
    );
    if !smoke {
        println!("{}", stats.summary());
        println!("queries ({}): {}", corpus.queries.len(), corpus.queries.join(" | "));
    }

    let mut ok = true;
    if args.verify || smoke {
        let sample = if smoke { usize::MAX } else { 200 };
        match verify(&corpus.maildir, sample) {
            Ok(report) => println!("verify: {report}"),
            Err(e) => {
                eprintln!("gen_corpus: verify failed: {e}");
                ok = false;
            }
        }
    }
    if smoke {
        let _ = std::fs::remove_dir_all(&out);
        println!("gen_corpus: smoke test ({} shape) {}", shape.name(), if ok { "passed" } else { "FAILED" });
    }
    ok
}

/// Re-reads up to `sample` message files spread evenly over the corpus and
/// checks their headers with plain string tests. 8-bit bytes are allowed
/// only in the body of a message that declares an 8bit part.
fn verify(maildir: &Path, sample: usize) -> Result<String, String> {
    let mut files = Vec::new();
    for folder in ["", ".Sent", ".Archiv.2025"] {
        let dir = maildir.join(folder).join("cur");
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for e in entries {
            let e = e.map_err(|e| e.to_string())?;
            files.push(e.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err("no message files".into());
    }
    let step = files.len().div_ceil(sample.min(files.len())).max(1);
    let (mut checked, mut no_id, mut problems) = (0usize, 0usize, Vec::new());
    for path in files.iter().step_by(step) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let well_named = name.ends_with(".bench:2,S")
            && name.split('.').next().is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            && name.contains(".M")
            && name.contains('P')
            && name.contains('Q');
        if !well_named {
            problems.push(format!("{name}: not a Maildir name of the expected form"));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let head_len = [b"\n\n".as_slice(), b"\r\n\r\n"]
            .iter()
            .filter_map(|end| bytes.windows(end.len()).position(|w| w == *end))
            .min()
            .unwrap_or(bytes.len());
        const EIGHT_BIT: &[u8] = b"content-transfer-encoding: 8bit";
        let declares_8bit = bytes.windows(EIGHT_BIT.len()).any(|w| w.eq_ignore_ascii_case(EIGHT_BIT));
        if !bytes[..head_len].is_ascii() {
            problems.push(format!("{name}: has 8-bit bytes in the header"));
        } else if !bytes.is_ascii() && !declares_8bit {
            problems.push(format!("{name}: has 8-bit bytes without an 8bit part"));
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.replace("\r\n", "\n");
        let Some(end) = text.find("\n\n") else {
            problems.push(format!("{name}: no blank line after the header"));
            continue;
        };
        let header = &text[..end];
        let has =
            |field: &str| header.lines().any(|l| l.len() > field.len() && l[..field.len()].eq_ignore_ascii_case(field));
        for field in ["From:", "Date:", "Subject:", "MIME-Version:", "Content-Type:"] {
            if !has(field) {
                problems.push(format!("{name}: no {field} header"));
            }
        }
        if !has("Message-ID:") {
            no_id += 1;
        }
        if header.lines().any(|l| l.len() > 998) {
            problems.push(format!("{name}: header line over 998 characters"));
        }
        checked += 1;
    }
    // About 1 % have no Message-ID on purpose; far more is a bug.
    if no_id * 100 > checked * 5 + 200 {
        problems.push(format!("{no_id} of {checked} files have no Message-ID"));
    }
    if problems.is_empty() {
        Ok(format!("{checked} of {} files checked, {no_id} without Message-ID (expected ~1 %)", files.len()))
    } else {
        let shown: Vec<_> = problems.iter().take(10).cloned().collect();
        Err(format!("{} problems in {checked} files:\n  {}", problems.len(), shown.join("\n  ")))
    }
}
