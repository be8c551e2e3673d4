//! The PostgreSQL benchmark (issue 19's speed part): the corpus of
//! `benches/pipeline.rs` imported with `kronika import maildir` once into
//! SQLite and once into a private PostgreSQL (durable settings: fsync,
//! synchronous_commit and full_page_writes on), then search and client card
//! latency on each, and the takeover of a lease after its holder dies.
//!
//! `cargo bench --bench postgres -- [--messages N] [--clients N] [--seed S] [--out DIR] [--keep] [--tls] [--no-takeover] [--statements]`
//!
//! `--statements` loads pg_stat_statements and prints the statements the
//! import spent the server's time on.

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "corpus/mod.rs"]
#[allow(dead_code)]
mod corpus;

#[path = "../tests/it/common/postgres.rs"]
mod postgres;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Opts, dir_bytes, ms, percentile, run};
use kronika::config::Config;
use kronika::index::{SearchIndex, SearchRequest, SortOrder};
use kronika::model::{ClientId, ItemId};
use kronika::store::Store;

const PASSWORD_ENV: &str = "KRONIKA_BENCH_PG_PASSWORD";

/// One backend's figures.
struct Figures {
    secs: f64,
    cpu: f64,
    search: (Duration, Duration),
    card: (Duration, Duration),
}

fn import(o: &Opts, corpus: &corpus::Corpus, name: &str, store_section: &str) -> (PathBuf, f64, f64) {
    let data = o.out.join(format!("data-{name}"));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("data folder");
    let config_path = o.out.join(format!("kronika-{name}.toml"));
    std::fs::write(
        &config_path,
        format!("data_dir = {:?}\nown_domains = [\"modrykamen.cz\"]\n{store_section}", data.display().to_string()),
    )
    .expect("config");
    let kronika = env!("CARGO_BIN_EXE_kronika");
    let import = |what: [&str; 2], from: &Path| {
        run(Command::new(kronika)
            .env(PASSWORD_ENV, postgres::PASSWORD)
            .arg("--config")
            .arg(&config_path)
            .args(what)
            .arg(from))
    };
    let r = import(["client", "import"], &corpus.clients_csv);
    assert!(r.ok, "client import into {name} failed");
    let r = import(["import", "maildir"], &corpus.maildir);
    assert!(r.ok, "import into {name} failed");
    print!("{name}: {}", r.stdout);
    (config_path, r.wall.as_secs_f64(), r.user + r.sys)
}

fn latencies(config_path: &Path, queries: &[String], cards: usize) -> ((Duration, Duration), (Duration, Duration)) {
    // SAFETY: set before any thread of ours reads the environment.
    unsafe { std::env::set_var(PASSWORD_ENV, postgres::PASSWORD) };
    let config = Config::load(config_path).expect("config");
    let store = Store::open_config(&config).expect("store");
    let index = SearchIndex::open(&config.index_path()).expect("index");
    let mut search = Vec::new();
    for round in 0..6 {
        for q in queries {
            for sort in [SortOrder::Relevance, SortOrder::Date] {
                let req = SearchRequest { query: q.clone(), limit: 20, sort, ..SearchRequest::default() };
                let t = Instant::now();
                // The hits' rows in one read, as `app::search` reads them.
                index
                    .search_counted(&req, |ids| {
                        let ids: Vec<ItemId> = ids.iter().map(|i| ItemId(*i)).collect();
                        let mut rows = store.items(&ids).unwrap_or_default();
                        ids.iter().map(|i| rows.remove(&i.0).map(|r| r.body).unwrap_or_default()).collect()
                    })
                    .unwrap_or_else(|e| panic!("query {q:?}: {e}"));
                if round > 0 {
                    search.push(t.elapsed());
                }
            }
        }
    }
    search.sort();
    // The clients by size, largest first, as both stores give them.
    let ids: Vec<i64> = store
        .db()
        .query(
            "SELECT c.id, (SELECT COUNT(DISTINCT l.item_id) FROM item_links l WHERE l.client_id = c.id) AS n
             FROM clients c ORDER BY n DESC, c.id",
            kronika::args![],
            |r| r.get::<i64>(0),
        )
        .expect("client sizes");
    let step = (ids.len() / cards.max(1)).max(1);
    let chosen: Vec<i64> = ids.iter().step_by(step).take(cards).copied().collect();
    let mut card = Vec::new();
    for round in 0..4 {
        for id in &chosen {
            let t = Instant::now();
            kronika::app::client_card(&store, &config, ClientId(*id)).expect("client card");
            if round > 0 {
                card.push(t.elapsed());
            }
        }
    }
    card.sort();
    ((percentile(&search, 0.5), percentile(&search, 0.99)), (percentile(&card, 0.5), percentile(&card, 0.99)))
}

/// Two lease keepers on the PostgreSQL store; the holder dies (stops
/// renewing); the time until the other holds the lease.
fn takeover(config_path: &Path) -> (Duration, Duration) {
    use kronika::leases::Leases;
    use kronika::store::Holder;
    let config = Config::load(config_path).expect("config");
    let ttl = kronika::config::DEFAULT_LEASE;
    let a = Leases::start_with(Store::open_config(&config).expect("store"), Holder::this_process("bench-a"), ttl);
    let owned_a = a.want("imap:bench");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !*owned_a.borrow() {
        assert!(Instant::now() < deadline, "node a never took the lease");
        std::thread::sleep(Duration::from_millis(20));
    }
    let b = Leases::start_with(Store::open_config(&config).expect("store"), Holder::this_process("bench-b"), ttl);
    let owned_b = b.want("imap:bench");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!*owned_b.borrow(), "node b took a lease node a holds");
    let died = Instant::now();
    a.abandon();
    while !*owned_b.borrow() {
        assert!(died.elapsed() < Duration::from_secs(120), "node b never took the lease over");
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = died.elapsed();
    b.stop();
    (took, ttl)
}

fn opts() -> Opts {
    Opts::parse(20_000, "bench-postgres", 200)
}

fn main() {
    let o = opts();
    std::fs::create_dir_all(&o.out).expect("bench folder");
    println!("machine: {}; load {}", common::machine(), common::load());
    let corpus_dir = o.out.join(format!("corpus-{}-{}-{}", o.messages, o.clients, o.seed));
    let spec =
        corpus::CorpusSpec { messages: o.messages, clients: o.clients, seed: o.seed, shape: corpus::Shape::Standard };
    let corpus = if o.keep && corpus_dir.join("queries.txt").exists() {
        corpus::Corpus::read(&corpus_dir, o.messages, dir_bytes(&corpus_dir.join("maildir"))).expect("queries.txt")
    } else {
        let _ = std::fs::remove_dir_all(&corpus_dir);
        corpus::generate(&spec, &corpus_dir).expect("generate the corpus")
    };
    let mb = corpus.bytes as f64 / 1e6;
    println!("corpus: {} messages, {mb:.1} MB, {} clients", corpus.messages, o.clients);

    // The private server, made durable again (the test harness turns
    // fsync and synchronous commits off for speed).
    let pg = postgres::cluster();
    for setting in ["fsync = on", "synchronous_commit = on", "full_page_writes = on"] {
        pg.sql("postgres", &format!("ALTER SYSTEM SET {setting}")).expect("ALTER SYSTEM");
    }
    pg.sql("postgres", "SELECT pg_reload_conf()").expect("reload");
    std::thread::sleep(Duration::from_millis(300));
    let shown = pg.sql("postgres", "SHOW fsync").unwrap_or_default()
        + " "
        + &pg.sql("postgres", "SHOW synchronous_commit").unwrap_or_default();
    let version = pg.sql("postgres", "SHOW server_version").unwrap_or_default();
    println!(
        "PostgreSQL {} on 127.0.0.1:{} (fsync, synchronous_commit: {})",
        version.trim(),
        pg.port,
        shown.replace('\n', "")
    );
    let db = pg.database();
    let tls = if o.flag("--tls") {
        format!("ca_file = {:?}\n", pg.certificate().display().to_string())
    } else {
        String::new()
    };
    let sslmode = if o.flag("--tls") { "require" } else { "disable" };
    let section = format!(
        "[store]\nurl = \"postgres://kronika@127.0.0.1:{}/{}?sslmode={sslmode}\"\npassword_env = \"{PASSWORD_ENV}\"\n{tls}",
        pg.port, db.name
    );

    let profile = o.flag("--statements");
    if profile {
        pg.sql("postgres", "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'").expect("ALTER SYSTEM");
        pg.stop();
        pg.start_again();
        pg.sql(&db.name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements").expect("pg_stat_statements");
    }
    let (sqlite_config, s_secs, s_cpu) = import(&o, &corpus, "sqlite", "");
    let server_before = pg.server_cpu();
    let (pg_config, p_secs, p_cpu) = import(&o, &corpus, "postgres", &section);
    let server_cpu = pg.server_cpu() - server_before;
    if profile {
        // Where the server's time went: the statements of the import.
        let top = pg
            .sql(
                &db.name,
                "SELECT calls, round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3), \
                 left(regexp_replace(query, '\\s+', ' ', 'g'), 110) \
                 FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25",
            )
            .unwrap_or_default();
        println!("statements of the import (calls | total ms | mean ms | statement):\n{top}");
        let often = pg
            .sql(
                &db.name,
                "SELECT calls, round(total_exec_time::numeric, 0), \
                 left(regexp_replace(query, '\\s+', ' ', 'g'), 110) \
                 FROM pg_stat_statements ORDER BY calls DESC LIMIT 12",
            )
            .unwrap_or_default();
        println!("the most frequent (calls | total ms | statement):\n{often}");
    }
    let cards = if o.smoke { 5 } else { 50 };
    let (s_search, s_card) = latencies(&sqlite_config, &corpus.queries, cards);
    let (p_search, p_card) = latencies(&pg_config, &corpus.queries, cards);
    let figures = [
        ("SQLite", Figures { secs: s_secs, cpu: s_cpu, search: s_search, card: s_card }),
        ("PostgreSQL", Figures { secs: p_secs, cpu: p_cpu, search: p_search, card: p_card }),
    ];
    println!();
    println!("| store | import | messages/s | MB/s | kronika CPU | search p50 / p99 | client card p50 / p99 |");
    println!("|---|---|---|---|---|---|---|");
    for (name, f) in &figures {
        println!(
            "| {name} | {:.1} s | {:.0} | {:.1} | {:.1} s | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
            f.secs,
            corpus.messages as f64 / f.secs,
            mb / f.secs,
            f.cpu,
            ms(f.search.0),
            ms(f.search.1),
            ms(f.card.0),
            ms(f.card.1)
        );
    }
    println!("PostgreSQL server CPU during its import: {server_cpu:.1} s");
    let ratio = s_secs / p_secs;
    println!(
        "PostgreSQL import throughput / SQLite's: {ratio:.2} (target ≥ 0.70: {})",
        if ratio >= 0.7 { "pass" } else { "miss" }
    );
    println!(
        "({} queries × 2 orders × 5 runs; {cards} clients × 3 runs, spread over every size; TLS {})",
        corpus.queries.len(),
        if o.flag("--tls") { "on" } else { "off (sslmode=disable)" }
    );
    if !o.smoke && !o.flag("--no-takeover") {
        let (took, ttl) = takeover(&pg_config);
        println!(
            "takeover: node b holds the lease {:.1} s after node a died (lease {} s; target ≤ 30 s: {})",
            took.as_secs_f64(),
            ttl.as_secs(),
            if took <= Duration::from_secs(30) { "pass" } else { "miss" }
        );
    }
    if o.smoke {
        let _ = std::fs::remove_dir_all(&o.out);
    }
}
