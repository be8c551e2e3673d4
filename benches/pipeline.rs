//! The pipeline benchmark: import throughput (matching and indexing
//! included), peak memory and search latency on a generated corpus, with
//! `notmuch new`, `mu index` and `notmuch search` on the same Maildir for
//! comparison when they are installed.
//!
//! `cargo bench --bench pipeline -- [--messages N] [--clients N] [--seed S] [--keep] [--out DIR] [--no-others]`

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Opts, dir_bytes, have, ms, percentile, run};
use kronika::config::Config;
use kronika::index::{SearchIndex, SearchRequest, SortOrder};
use kronika::model::ItemId;
use kronika::store::Store;

fn opts() -> Opts {
    Opts::parse(100_000, "bench", 300)
}

fn main() {
    let o = opts();
    std::fs::create_dir_all(&o.out).expect("bench folder");
    let corpus_dir = o.out.join(format!("corpus-{}-{}-{}", o.messages, o.clients, o.seed));
    let spec =
        corpus::CorpusSpec { messages: o.messages, clients: o.clients, seed: o.seed, shape: corpus::Shape::Standard };
    let started = Instant::now();
    let corpus = if o.keep && corpus_dir.join("queries.txt").exists() {
        println!("reusing the corpus in {}", corpus_dir.display());
        corpus::Corpus::read(&corpus_dir, o.messages, dir_bytes(&corpus_dir.join("maildir"))).expect("queries.txt")
    } else {
        let _ = std::fs::remove_dir_all(&corpus_dir);
        corpus::generate(&spec, &corpus_dir).expect("generate the corpus")
    };
    let mb = corpus.bytes as f64 / 1e6;
    println!(
        "corpus: {} messages, {:.1} MB, {} clients ({:.1}s)",
        corpus.messages,
        mb,
        o.clients,
        started.elapsed().as_secs_f64()
    );

    // kronika: a fresh data folder, the clients, then the import.
    let data = o.out.join("kronika-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("data folder");
    let config_path = o.out.join("kronika-bench.toml");
    std::fs::write(
        &config_path,
        format!("data_dir = {:?}\nown_domains = [\"modrykamen.cz\"]\n", data.display().to_string()),
    )
    .expect("config");
    let kronika = env!("CARGO_BIN_EXE_kronika");
    let r = run(Command::new(kronika)
        .arg("--config")
        .arg(&config_path)
        .args(["client", "import"])
        .arg(&corpus.clients_csv));
    assert!(r.ok, "client import failed");
    let import =
        run(Command::new(kronika).arg("--config").arg(&config_path).args(["import", "maildir"]).arg(&corpus.maildir));
    assert!(import.ok, "import failed");
    print!("{}", import.stdout);
    let secs = import.wall.as_secs_f64();
    let kr_rate = corpus.messages as f64 / secs;
    println!(
        "kronika import: {secs:.1}s, {kr_rate:.0} messages/s, {:.1} MB/s, peak memory {:.0} MB",
        mb / secs,
        import.max_rss_kb as f64 / 1024.0
    );

    // Search latency in-process: the same path as `kronika search` (query,
    // filters, top 20, snippets from the store).
    let config = Config::load(&config_path).expect("config");
    let store = Store::open(&config.db_path(), config.policy()).expect("store");
    let index = SearchIndex::open(&config.index_path()).expect("index");
    let mut latencies = Vec::new();
    let mut empty = 0;
    for round in 0..6 {
        for q in &corpus.queries {
            for sort in [SortOrder::Relevance, SortOrder::Date] {
                let req = SearchRequest { query: q.clone(), limit: 20, sort, ..SearchRequest::default() };
                let t = Instant::now();
                let hits = index
                    .search(&req, |id| store.item(ItemId(id)).map(|r| r.body).unwrap_or_default())
                    .unwrap_or_else(|e| panic!("query {q:?}: {e}"));
                let d = t.elapsed();
                if round > 0 {
                    latencies.push(d);
                    if hits.is_empty() {
                        empty += 1;
                    }
                }
            }
        }
    }
    latencies.sort();
    let p50 = percentile(&latencies, 0.5);
    let p99 = percentile(&latencies, 0.99);
    println!(
        "kronika search ({} runs of {} queries, relevance and date order, snippets included): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} runs without hits",
        latencies.len(),
        corpus.queries.len(),
        ms(p50),
        ms(p99),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        empty
    );
    // The whole command, process start included, for comparison with notmuch's CLI.
    let mut cli = Vec::new();
    for q in &corpus.queries {
        let r = run(Command::new(kronika).arg("--config").arg(&config_path).args(["search", "--limit", "20", q]));
        if r.ok {
            cli.push(r.wall);
        }
    }
    cli.sort();
    println!(
        "kronika search CLI (process included): p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&cli, 0.5)),
        ms(percentile(&cli, 0.99))
    );

    if o.smoke {
        let _ = std::fs::remove_dir_all(&o.out);
    }
    if o.smoke || o.flag("--no-others") {
        return;
    }
    // mu
    if have("mu") {
        let muhome = o.out.join("mu");
        let _ = std::fs::remove_dir_all(&muhome);
        let init = run(Command::new("mu")
            .arg("init")
            .arg(format!("--muhome={}", muhome.display()))
            .arg(format!("--maildir={}", corpus.maildir.display())));
        if init.ok {
            let r = run(Command::new("mu").arg("index").arg(format!("--muhome={}", muhome.display())));
            let s = r.wall.as_secs_f64();
            println!(
                "mu index: {s:.1}s, {:.0} messages/s, peak memory {:.0} MB; kronika/mu throughput = {:.2}x",
                corpus.messages as f64 / s,
                r.max_rss_kb as f64 / 1024.0,
                s / secs
            );
        }
    } else {
        println!("mu: not installed (apt-get install maildir-utils)");
    }
    // notmuch
    if have("notmuch") {
        let db = o.out.join("notmuch-db");
        let _ = std::fs::remove_dir_all(&db);
        std::fs::create_dir_all(&db).expect("notmuch folder");
        let nm_config = o.out.join("notmuch-config");
        std::fs::write(
            &nm_config,
            format!(
                "[database]\npath={}\nmail_root={}\n[user]\nname=Bench\nprimary_email=bench@modrykamen.cz\n[new]\ntags=inbox;\n[maildir]\nsynchronize_flags=false\n",
                db.display(),
                corpus.maildir.display()
            ),
        )
        .expect("notmuch config");
        let r = run(Command::new("notmuch").env("NOTMUCH_CONFIG", &nm_config).args(["new", "--quiet"]));
        let s = r.wall.as_secs_f64();
        println!(
            "notmuch new: {s:.1}s, {:.0} messages/s, peak memory {:.0} MB; kronika/notmuch throughput = {:.2}x",
            corpus.messages as f64 / s,
            r.max_rss_kb as f64 / 1024.0,
            s / secs
        );
        let mut nm = Vec::new();
        for q in &corpus.queries {
            let q = notmuch_query(q);
            let r = run(Command::new("notmuch").env("NOTMUCH_CONFIG", &nm_config).args(["search", "--limit=20", &q]));
            if r.ok {
                nm.push(r.wall);
            }
        }
        nm.sort();
        println!(
            "notmuch search CLI (process included): p50 {:.1} ms, p99 {:.1} ms; kronika CLI p50 is {:.2}x notmuch's",
            ms(percentile(&nm, 0.5)),
            ms(percentile(&nm, 0.99)),
            ms(percentile(&cli, 0.5)) / ms(percentile(&nm, 0.5)).max(0.001)
        );
    } else {
        println!("notmuch: not installed (apt-get install notmuch)");
    }
}

/// Our syntax to Xapian's: `-word` becomes `NOT word`.
fn notmuch_query(q: &str) -> String {
    q.split_whitespace()
        .map(|w| match w.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => format!("NOT {rest}"),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
