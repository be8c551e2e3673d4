//! The calendar account benchmark: a Radicale calendar of 5,000 events (one
//! in twenty a weekly series), synced by `kronika sync` from nothing, then
//! polled unchanged; then the same through Microsoft Graph (a Graph-shaped
//! server on 127.0.0.1, a series as the bare occurrences calendarView's delta
//! returns, each series master fetched once,
//! 200 events a page). Targets: the first sync under 10 s; an unchanged
//! poll makes one request and takes under 200 ms (here: the whole `kronika
//! sync` process, start and store opening included).
//!
//! `cargo bench --bench caldav -- [--events N]`
//!
//! The events are written into Radicale's folder before it starts (5,000
//! PUTs would take Radicale minutes); kronika then reads them over HTTP
//! like any server's. Without `--bench` (as `cargo test --all-targets` runs
//! it) it is a smoke run of 100 events, skipped when Radicale is missing.

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

#[path = "../tests/it/common/radicale.rs"]
#[allow(dead_code)]
mod radicale;

#[path = "../tests/it/common/graph_server.rs"]
#[allow(dead_code)]
mod graph_server;

use std::process::{Command, ExitCode};
use std::time::Duration;

use common::{machine, run};

fn event(i: usize) -> String {
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days((i % 300) as i64 - 30);
    let hour = 7 + i % 10;
    let rule = if i.is_multiple_of(20) { "RRULE:FREQ=WEEKLY;COUNT=20\r\n" } else { "" };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-{i}@kronika\r\nDTSTAMP:20261201T100000Z\r\nDTSTART:{}T{hour:02}0000Z\r\nDTEND:{}T{hour:02}4500Z\r\nSUMMARY:Schůzka {i} s klientem\r\nLOCATION:Brno\r\nORGANIZER:mailto:jana.svobodova@modrykamen.cz\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:kontakt{}@klient{}.cz\r\n{rule}END:VEVENT\r\nEND:VCALENDAR\r\n",
        day.format("%Y%m%d"),
        day.format("%Y%m%d"),
        i % 50,
        i % 400
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let events: usize = args
        .windows(2)
        .find(|w| w[0] == "--events")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(if bench { 5000 } else { 100 });
    println!("Calendar account bench on {}", machine());
    if Command::new("python3").args(["-c", "import radicale"]).output().map(|o| !o.status.success()).unwrap_or(true) {
        println!("caldav bench: skipped (Radicale is not installed; tests/run.sh installs it)");
    } else {
        caldav(bench, events);
    }
    graph(bench, events);
    ExitCode::SUCCESS
}

/// The events as Graph's calendarView returns them: a series as its
/// occurrences.
fn graph_events(events: usize) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for i in 0..events {
        let day = chrono::Utc::now().date_naive() + chrono::Duration::days((i % 300) as i64 - 30);
        let start = day.and_hms_opt(7 + (i % 10) as u32, 0, 0).unwrap().and_utc();
        let attendee = format!("kontakt{}@klient{}.cz", i % 50, i % 400);
        let weeks = if i.is_multiple_of(20) { 20 } else { 1 };
        for w in 0..weeks {
            let at = start + chrono::Duration::weeks(w);
            let mut e = graph_server::event(
                &format!("AAMkBench-{i}-{w}"),
                &format!("bench-{i}@kronika"),
                &format!("Schůzka {i} s klientem"),
                at,
                45,
                "jana.svobodova@modrykamen.cz",
                &[(attendee.as_str(), "accepted")],
            );
            if weeks > 1 {
                // As the delta sends an occurrence: its times and its series.
                e = graph_server::occurrence_stub(&format!("AAMkBench-{i}-{w}"), &format!("AAMkBench-{i}"), at, 45);
            }
            out.push(e);
        }
    }
    out
}

fn graph(bench: bool, events: usize) {
    let server = graph_server::GraphServer::with_token("jana.svobodova@modrykamen.cz", "bench-token");
    server.add_calendar("AAMkCal", "Calendar", true);
    server.set_page(200);
    for e in graph_events(events) {
        server.put_event("AAMkCal", e);
    }
    // The series masters, fetched by id for their occurrences.
    for i in (0..events).step_by(20) {
        let day = chrono::Utc::now().date_naive() + chrono::Duration::days((i % 300) as i64 - 30);
        let start = day.and_hms_opt(7 + (i % 10) as u32, 0, 0).unwrap().and_utc();
        let mut m = graph_server::event(
            &format!("AAMkBench-{i}"),
            &format!("bench-{i}@kronika"),
            &format!("Schůzka {i} s klientem"),
            start,
            45,
            "jana.svobodova@modrykamen.cz",
            &[],
        );
        m["type"] = "seriesMaster".into();
        server.put_master("AAMkCal", m);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kronika.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nown_addresses = [\"jana.svobodova@modrykamen.cz\"]\n\n[[graph]]\nname = \"m365\"\nurl = \"{}\"\ntoken_cmd = \"printf bench-token\"\n",
            server.base()
        ),
    )
    .unwrap();
    let kronika = env!("CARGO_BIN_EXE_kronika");
    let sync = || run(Command::new(kronika).arg("--config").arg(&config).arg("sync"));
    // The server alone: every page of a first round, as kronika asks them.
    let t = std::time::Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut url = format!("{}/me/calendars/AAMkCal/calendarView/delta?startDateTime=x&endDateTime=y", server.base());
    loop {
        let mut resp = agent
            .get(&url)
            .header("Authorization", "Bearer bench-token")
            .header("Prefer", "odata.maxpagesize=200")
            .call()
            .unwrap();
        let text = resp.body_mut().with_config().limit(1 << 30).read_to_string().unwrap();
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        match page["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    let server_first = t.elapsed();
    let alone = server.requests("calendarView/delta");
    let first = sync();
    assert!(first.ok, "first Graph sync failed: {}{}", first.stdout, first.stderr);
    let pages = server.requests("calendarView/delta") - alone;
    let before = server.all_requests();
    let mut polls: Vec<Duration> = Vec::new();
    let mut poll_cpu: Vec<f64> = Vec::new();
    for _ in 0..5 {
        let r = sync();
        assert!(r.ok, "Graph poll failed: {}", r.stderr);
        polls.push(r.wall);
        poll_cpu.push(r.user + r.sys);
    }
    let asked = server.all_requests() - before;
    polls.sort();
    poll_cpu.sort_by(f64::total_cmp);
    let stored = Command::new(kronika).arg("--config").arg(&config).args(["stats", "--json"]).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&stored.stdout).unwrap_or_default();
    println!();
    println!("| Microsoft Graph | figure | target |");
    println!("|---|---|---|");
    println!("| events (series as occurrences) | {} | |", stats["by_kind"]["event"]);
    println!(
        "| first sync ({pages} delta pages, the calendar list) | {:.2} s wall, {:.2} s CPU, {} MB peak | < 10 s |",
        first.wall.as_secs_f64(),
        first.user + first.sys,
        first.max_rss_kb / 1024
    );
    println!(
        "| the Graph-shaped server alone: the same pages, fetched in a loop | {:.2} s | |",
        server_first.as_secs_f64()
    );
    println!(
        "| unchanged poll (whole `kronika sync`), median of 5 | {} ms wall, {:.0} ms CPU | < 200 ms |",
        polls[2].as_millis(),
        poll_cpu[2] * 1000.0
    );
    println!("| requests per unchanged poll | {} | 1 |", asked as f64 / 5.0);
    if bench && (first.wall > Duration::from_secs(10) || polls[2] > Duration::from_millis(200) || asked != 5) {
        println!("graph bench: a target is missed");
    }
}

fn caldav(bench: bool, events: usize) {
    let server = radicale::Radicale::start();
    server.make_calendar("prace", "Práce");
    let folder = server.dir().join("store/collection-root/jana/prace");
    for i in 0..events {
        std::fs::write(folder.join(format!("bench-{i}.ics")), event(i)).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kronika.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nown_addresses = [\"jana.svobodova@modrykamen.cz\"]\n\n[[caldav]]\nname = \"cal\"\nurl = \"{}\"\nusername = \"{}\"\npassword_cmd = \"printf '%s' '{}'\"\n",
            server.url("/"),
            server.user,
            server.password
        ),
    )
    .unwrap();
    let kronika = env!("CARGO_BIN_EXE_kronika");
    let sync = || run(Command::new(kronika).arg("--config").arg(&config).arg("sync"));
    // The server alone: its first full listing (Radicale builds its cache
    // here), untimed by kronika, so that the rows below show kronika's share.
    let listing = r#"<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
    let t = std::time::Instant::now();
    let (status, body) = server.request("REPORT", "/jana/prace/", &[("Depth", "1")], listing);
    let server_first = t.elapsed();
    assert_eq!(status, 207, "{body}");
    let token = body.split("<sync-token>").nth(1).and_then(|r| r.split('<').next()).unwrap_or_default().to_string();
    let first = sync();
    assert!(first.ok, "first sync failed: {}{}", first.stdout, first.stderr);
    let before = server.requests().len();
    let mut polls: Vec<Duration> = Vec::new();
    let mut poll_cpu: Vec<f64> = Vec::new();
    let mut asked = 0;
    for _ in 0..5 {
        let r = sync();
        assert!(r.ok, "poll failed: {}", r.stderr);
        polls.push(r.wall);
        poll_cpu.push(r.user + r.sys);
        asked = server.requests().len() - before;
    }
    polls.sort();
    let unchanged = format!(
        r#"<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
    );
    let mut server_polls: Vec<Duration> = (0..5)
        .map(|_| {
            let t = std::time::Instant::now();
            let _ = server.request("REPORT", "/jana/prace/", &[("Depth", "1")], &unchanged);
            t.elapsed()
        })
        .collect();
    server_polls.sort();
    let stored = Command::new(kronika).arg("--config").arg(&config).args(["stats", "--json"]).output().unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&stored.stdout).unwrap_or_default();
    println!("| CalDAV (Radicale) | figure | target |");
    println!("|---|---|---|");
    println!("| calendar objects | {events} | |");
    println!("| events stored (series expanded) | {} | |", stats["by_kind"]["event"]);
    println!(
        "| first sync | {:.2} s wall, {:.2} s CPU, {} MB peak | < 10 s |",
        first.wall.as_secs_f64(),
        first.user + first.sys,
        first.max_rss_kb / 1024
    );
    println!("| Radicale alone: first full listing (untimed above) | {:.2} s | |", server_first.as_secs_f64());
    println!("| unchanged poll (whole `kronika sync`), median of 5 | {} ms | |", polls[2].as_millis());
    println!(
        "| Radicale alone: the same unchanged sync-collection, median of 5 | {} ms | |",
        server_polls[2].as_millis()
    );
    poll_cpu.sort_by(f64::total_cmp);
    println!(
        "| kronika's share of an unchanged poll: wall minus the server's answer; CPU | {} ms; {:.0} ms CPU | < 200 ms |",
        polls[2].saturating_sub(server_polls[2]).as_millis(),
        poll_cpu[2] * 1000.0
    );
    println!("| requests per unchanged poll | {} | 1 |", asked as f64 / 5.0);
    if bench
        && (first.wall > Duration::from_secs(10)
            || polls[2].saturating_sub(server_polls[2]) > Duration::from_millis(200)
            || asked != 5)
    {
        println!("caldav bench: a target is missed");
    }
}
