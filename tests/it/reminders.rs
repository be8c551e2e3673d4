//! Reminders on tokio's paused clock: each fires once, also across a
//! restart between two of them; one due while kronika was down fires at
//! start if the event has not begun and is recorded as missed otherwise;
//! moved and cancelled events move and drop theirs; the command sink gets
//! the JSON; the served ICS feed parses back with its alarms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::Env;
use chrono::{DateTime, TimeZone, Utc};
use kronika::config::Config;
use kronika::reminders::{Reminders, Sink, SinkError, TokioClock};
use kronika::store::Store;
use serde_json::Value;

/// A sink that keeps what it gets.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Value>>>);

impl Sink for Collect {
    fn name(&self) -> String {
        "collect".into()
    }
    fn deliver(&self, reminder: &Value) -> Result<(), SinkError> {
        self.0.lock().unwrap().push(reminder.clone());
        Ok(())
    }
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 8, 0, 0).unwrap()
}

fn ics(events: &[(&str, DateTime<Utc>, &str)]) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for (uid, start, extra) in events {
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:{}\r\nDURATION:PT1H\r\nSUMMARY:Schůzka {uid}\r\nATTENDEE:mailto:karel@acme.cz\r\n{extra}END:VEVENT\r\n",
            start.format("%Y%m%dT%H%M%SZ")
        ));
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn env(reminders: &str) -> Env {
    let env = Env::with_config(&format!(
        "data_dir = \"data\"\nown_domains = [\"modrykamen.cz\"]\n[[calendar]]\nname = \"cal\"\npath = \"cal.ics\"\nfuture = \"3000d\"\n[reminders]\n{reminders}"
    ));
    env.ok(&["client", "add", "Acme", "--domain", "acme.cz"]);
    env
}

fn write_calendar(env: &Env, events: &[(&str, DateTime<Utc>, &str)]) {
    std::fs::write(env.path().join("cal.ics"), ics(events)).unwrap();
    env.ok(&["sync"]);
}

/// An engine on its own connection, with the given sinks (`None`: the config's).
fn engine_with(env: &Env, at: DateTime<Utc>, sinks: Option<Vec<Box<dyn Sink>>>) -> Reminders {
    let config = Config::load(&env.config_path()).unwrap();
    let rc = config.reminders.clone().unwrap();
    let store = Store::open(&config.db_path(), config.policy()).unwrap();
    let sinks = sinks.unwrap_or_else(|| kronika::reminders::sinks(&rc, &kronika::shutdown::Shutdown::new()));
    Reminders::new(rc, store, Arc::new(TokioClock::starting_at(at)), sinks, Some(env.path().join("feed.ics")))
}

fn engine(env: &Env, at: DateTime<Utc>, sink: &Collect) -> Reminders {
    engine_with(env, at, Some(vec![Box::new(sink.clone())]))
}

/// Runs an engine for `span` of paused time.
async fn run_for(engine: Reminders, span: Duration) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = rx.await;
    }));
    tokio::time::sleep(span).await;
    let _ = tx.send(());
    task.await.unwrap();
}

fn states(env: &Env) -> Vec<(String, String)> {
    env.json(&["reminders"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["title"].as_str().unwrap().split(':').next().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn each_reminder_fires_once_across_a_restart() {
    let env = env("lead_times = [\"1d\", \"30m\"]\nstdout = false\n");
    let meeting = base() + chrono::Duration::hours(26);
    write_calendar(&env, &[("m1", meeting, "")]);
    let sink = Collect::default();
    // The 1d reminder is due 2 hours after the start.
    run_for(engine(&env, base(), &sink), Duration::from_secs(3 * 3600)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 1);
    // Restart: a new engine (a new connection) three hours later.
    run_for(engine(&env, base() + chrono::Duration::hours(3), &sink), Duration::from_secs(24 * 3600)).await;
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0]["title"].as_str().unwrap().contains("in 1d"));
    assert!(got[1]["title"].as_str().unwrap().contains("in 30m"));
    // Each carries the brief and the event.
    assert_eq!(got[1]["brief"]["client"]["name"], "Acme");
    assert_eq!(got[1]["event"]["uid"], "m1");
    assert!(got[1]["brief_text"].as_str().unwrap().starts_with("Acme"));
    // A third run finds nothing more to do.
    run_for(engine(&env, base() + chrono::Duration::hours(27), &sink), Duration::from_secs(3600)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 2);
    let list = env.json(&["reminders"]);
    assert!(
        list.as_array().unwrap().iter().all(|r| r["state"] == "fired" && r["deliveries"][0]["state"] == "done"),
        "{list}"
    );
}

#[tokio::test(start_paused = true)]
async fn missed_while_down_fires_if_the_event_has_not_begun() {
    let env = env("lead_times = [\"1d\", \"30m\"]\nstdout = false\n");
    let soon = base() + chrono::Duration::hours(2);
    write_calendar(&env, &[("soon", soon, "")]);
    let sink = Collect::default();
    // The 1d reminder was due yesterday: the event has not begun, so it fires now.
    run_for(engine(&env, base(), &sink), Duration::from_secs(60)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 1);
    // kronika is down until after the meeting began: the 30m one is missed.
    run_for(engine(&env, soon + chrono::Duration::minutes(10), &sink), Duration::from_secs(60)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 1);
    let s = states(&env);
    assert!(s.iter().any(|(_, st)| st == "missed"), "{s:?}");
}

#[tokio::test(start_paused = true)]
async fn moved_and_cancelled_events_move_and_drop_their_reminders() {
    let env = env("lead_times = [\"30m\"]\nstdout = false\n");
    let t1 = base() + chrono::Duration::hours(5);
    write_calendar(&env, &[("a", t1, ""), ("b", t1, "")]);
    let sink = Collect::default();
    run_for(engine(&env, base(), &sink), Duration::from_secs(60)).await;
    // "a" moves two hours later, "b" is cancelled.
    let t2 = t1 + chrono::Duration::hours(2);
    write_calendar(&env, &[("a", t2, "SEQUENCE:1\r\n"), ("b", t1, "STATUS:CANCELLED\r\n")]);
    run_for(engine(&env, base() + chrono::Duration::minutes(1), &sink), Duration::from_secs(8 * 3600)).await;
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0]["title"].as_str().unwrap().starts_with("Schůzka a"));
    assert!(got[0]["event"]["start"].as_str().unwrap().starts_with("2030-01-07T15:00"), "{}", got[0]["event"]);
}

#[tokio::test(start_paused = true)]
async fn the_command_sink_gets_json_and_the_feed_parses_back() {
    let env = env("lead_times = [\"1d\", \"30m\"]\nstdout = false\n");
    let out = env.path().join("delivered.jsonl");
    let config_text = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        format!(
            "{config_text}commands = [[\"sh\", \"-c\", \"cat >> '{}'; echo >> '{}'\"]]\n",
            out.display(),
            out.display()
        ),
    )
    .unwrap();
    write_calendar(&env, &[("m", base() + chrono::Duration::hours(3), "")]);
    run_for(engine_with(&env, base(), None), Duration::from_secs(60)).await;
    let delivered = std::fs::read_to_string(&out).unwrap();
    let first: Value = serde_json::from_str(delivered.lines().next().unwrap()).unwrap();
    assert_eq!(first["brief"]["client"]["name"], "Acme");

    // The served feed: the meeting with the brief and an alarm per lead time.
    let feed = std::fs::read_to_string(env.path().join("feed.ics")).unwrap();
    assert_eq!(feed.matches("BEGIN:VALARM").count(), 2, "{feed}");
    let window = kronika::calendar::Window { start: base(), end: base() + chrono::Duration::days(2) };
    let (occ, _) = kronika::calendar::occurrences(&feed, &window, chrono_tz::Europe::Prague.into()).unwrap();
    assert_eq!(occ.len(), 1);
    assert!(occ[0].summary.contains("[Acme]"));
    assert!(occ[0].description.contains("Acme"));

    // And over HTTP.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kronika::reminders::serve_feed(addr, env.path().join("feed.ics"), None, async move {
        let _ = rx.await;
    }));
    tokio::task::yield_now().await;
    let body = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        for _ in 0..50 {
            if let Ok(mut s) = std::net::TcpStream::connect(addr) {
                s.write_all(b"GET /kronika.ics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let mut r = String::new();
                s.read_to_string(&mut r).unwrap();
                return r;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(body.starts_with("HTTP/1.1 200") && body.contains("BEGIN:VCALENDAR"), "{body}");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_clock_jumping_back_fires_nothing_twice() {
    let env = env("lead_times = [\"1h\"]\nstdout = false\n");
    write_calendar(&env, &[("j", base() + chrono::Duration::hours(2), "")]);
    let sink = Collect::default();
    run_for(engine(&env, base(), &sink), Duration::from_secs(90 * 60)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 1);
    // The clock jumps an hour back, then runs past the due time again.
    run_for(engine(&env, base(), &sink), Duration::from_secs(90 * 60)).await;
    assert_eq!(sink.0.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn silent_clients_get_one_follow_up_per_silence() {
    let env = env("lead_times = [\"30m\"]\nfollow_up_after = \"90d\"\nstdout = false\n");
    write_calendar(&env, &[]);
    let sink = Collect::default();
    // The client was created now (2026) and has no history: at the 2030 base it is long silent.
    run_for(engine(&env, base(), &sink), Duration::from_secs(3600)).await;
    run_for(engine(&env, base() + chrono::Duration::hours(1), &sink), Duration::from_secs(3600)).await;
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["kind"], "follow-up");
    assert!(got[0]["title"].as_str().unwrap().starts_with("Get in touch with Acme"));
}

#[tokio::test(start_paused = true)]
async fn a_failing_webhook_is_retried_until_it_takes_the_reminder() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(Vec::<String>::new()));
    let h = hits.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut buf = vec![0u8; 65536];
            let mut req = Vec::new();
            // Read headers and the announced body.
            loop {
                let k = s.read(&mut buf).unwrap_or(0);
                if k == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..k]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            h.lock().unwrap().push(String::from_utf8_lossy(&req).to_string());
            let status = if n == 0 { "503 Busy" } else { "200 OK" };
            let _ =
                s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
        }
    });
    let env = env(&format!("lead_times = [\"30m\"]\nstdout = false\nwebhooks = [\"http://127.0.0.1:{port}/hook\"]\n"));
    write_calendar(&env, &[("w", base() + chrono::Duration::hours(1), "")]);
    run_for(engine_with(&env, base(), None), Duration::from_secs(3600)).await;
    let hits = hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 2, "one failure, one success: {hits:?}");
    assert!(hits[1].contains("\"brief\""), "{}", hits[1]);
    let list = env.json(&["reminders"]);
    assert_eq!(list[0]["deliveries"][0]["state"], "done", "{list}");
    assert_eq!(list[0]["deliveries"][0]["attempts"], 2, "{list}");
}

/// Delivers a fixture invitation into the env's Maildir and syncs.
fn deliver_invitation(env: &Env, name: &str) {
    let raw = std::fs::read(crate::common::fixtures().join("invitations").join(name)).unwrap();
    let n = std::fs::read_dir(env.path().join("maildir/new")).unwrap().count();
    std::fs::write(env.path().join(format!("maildir/new/17950000{n:02}.M1P1Q{n}.test")), raw).unwrap();
    env.ok(&["sync"]);
}

#[tokio::test(start_paused = true)]
async fn an_invitation_by_mail_gets_its_reminder_moved_and_withdrawn_by_later_ones() {
    let env = Env::with_config(
        "data_dir = \"data\"\nown_addresses = [\"jana.svobodova@modrykamen.cz\"]\nown_domains = [\"modrykamen.cz\"]\n\
         [[maildir]]\nname = \"inbox\"\npath = \"maildir\"\n[reminders]\nlead_times = [\"1d\"]\nstdout = false\nhorizon = \"30d\"\n",
    );
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env.path().join("maildir").join(sub)).unwrap();
    }
    env.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    // Karel's Outlook invitation: 15 January 2030, 10:00 in Prague.
    deliver_invitation(&env, "outlook-request-cs.eml");
    let before = Utc.with_ymd_and_hms(2030, 1, 10, 9, 0, 0).unwrap();
    let sink = Collect::default();
    run_for(engine(&env, before, &sink), Duration::from_secs(60)).await;
    let planned = env.json(&["reminders"]);
    let pending: Vec<&Value> = planned.as_array().unwrap().iter().filter(|r| r["state"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{planned:#}");
    assert_eq!(pending[0]["event_start"], "2030-01-15T09:00:00+00:00");

    // The organiser moves it by mail: the reminder moves along.
    deliver_invitation(&env, "outlook-update-cs.eml");
    let sink = Collect::default();
    run_for(engine(&env, before, &sink), Duration::from_secs(60)).await;
    let planned = env.json(&["reminders"]);
    let pending: Vec<&Value> = planned.as_array().unwrap().iter().filter(|r| r["state"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{planned:#}");
    assert_eq!(pending[0]["event_start"], "2030-01-16T12:00:00+00:00");

    // It fires once, a day before, with the client's brief.
    let day_before = Utc.with_ymd_and_hms(2030, 1, 15, 11, 30, 0).unwrap();
    run_for(engine(&env, day_before, &sink), Duration::from_secs(3600)).await;
    let got = sink.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["brief"]["client"]["name"], "Acme Stavby");
    assert!(got[0]["title"].as_str().unwrap().contains("VZT"), "{}", got[0]["title"]);

    // A new meeting by mail, then its cancellation: the pending reminder is withdrawn.
    let env2 = Env::with_config(&std::fs::read_to_string(env.config_path()).unwrap());
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(env2.path().join("maildir").join(sub)).unwrap();
    }
    env2.ok(&["client", "add", "Acme Stavby", "--domain", "acme-stavby.cz"]);
    deliver_invitation(&env2, "outlook-request-cs.eml");
    let sink = Collect::default();
    run_for(engine(&env2, before, &sink), Duration::from_secs(60)).await;
    deliver_invitation(&env2, "outlook-cancel-cs.eml");
    run_for(engine(&env2, before + chrono::Duration::minutes(1), &sink), Duration::from_secs(6 * 86_400)).await;
    assert!(sink.0.lock().unwrap().is_empty(), "a cancelled meeting reminds nobody");
    let planned = env2.json(&["reminders"]);
    assert!(
        planned.as_array().unwrap().iter().all(|r| r["state"] != "pending" && r["state"] != "fired"),
        "{planned:#}"
    );
}
