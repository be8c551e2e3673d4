//! Inputs that once crashed kronika (found by the fuzz targets in `fuzz/`,
//! or reported in issue 10): every file in `fixtures/fuzz/<target>/` runs
//! through the function its fuzz target calls, and must neither panic nor
//! give a nonsensical result. A new crash becomes a file there (see
//! `fixtures/fuzz/README.md`); its folder decides which function reads it.
//!
//! The CLI tests at the end are issue 10's known panics, end to end.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use kronika::calendar::{Window, occurrences, zone};
use kronika::config::Config;
use kronika::csvio::{MAX_AMOUNT, read_clients, read_deals};
use kronika::mail::{MAX_BODY_BYTES, ParseError, ParseHints};
use kronika::model::ItemKind;
use kronika::notes::NoteFile;

use crate::common::{Env, fixtures};

/// The files of `fixtures/fuzz/<target>/` (README files aside), sorted.
fn cases(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixtures().join("fuzz").join(target);
    let mut paths: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    paths.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("README")));
    paths.sort();
    paths.into_iter().map(|p| (p.display().to_string(), fs::read(&p).unwrap())).collect()
}

/// Runs `check` on every case of `target`, naming the file that panics.
fn each(target: &str, mut check: impl FnMut(&str, &[u8])) {
    for (name, bytes) in cases(target) {
        if catch_unwind(AssertUnwindSafe(|| check(&name, &bytes))).is_err() {
            panic!("{name}: panicked (see the message above)");
        }
    }
}

#[test]
fn mail() {
    let hints = ParseHints { file_time: Some(Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()) };
    each("mail", |name, raw| match kronika::mail::parse(raw, &hints) {
        Ok(item) => {
            assert!(item.message_id.as_deref().is_some_and(|id| !id.is_empty()), "{name}");
            assert!(item.body.len() <= MAX_BODY_BYTES, "{name}");
            for a in &item.attachments {
                assert!(!a.name.contains(['/', '\\']) && !a.name.chars().any(char::is_control), "{name}: {a:?}");
            }
            let again = kronika::mail::parse(raw, &hints).unwrap();
            assert_eq!(again.content_hash, item.content_hash, "{name}: the same bytes hash alike");
        }
        Err(ParseError::Empty) => assert!(raw.iter().all(u8::is_ascii_whitespace), "{name}"),
        Err(ParseError::NotMail(m)) => assert!(!m.contains("failed"), "{name}: the mail parser panicked: {m}"),
    });
    // The lenient case: all three of issue 10's leniencies in one message.
    let raw = fs::read(fixtures().join("fuzz/mail/lenient-all-three.eml")).unwrap();
    let item = kronika::mail::parse(&raw, &hints).unwrap();
    assert_eq!((item.subject.as_str(), item.body.as_str()), ("Termín", "Dobrý den, termín platí."));
    assert_eq!(item.participants[0].address, "karel.horak@acme-stavby.cz");
}

/// Capture mailbox mail (`kronika::mail::parse_captured`): forwards of
/// forwards past the depth kronika unwraps, and a header block built to
/// be expensive, stay cheap, capped and panic-free.
#[test]
fn capture() {
    let hints = ParseHints { file_time: Some(Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()) };
    each("capture", |name, raw| {
        let start = std::time::Instant::now();
        match kronika::mail::parse_captured(raw, &hints) {
            Ok(item) => {
                assert!(item.message_id.as_deref().is_some_and(|id| !id.is_empty()), "{name}");
                assert!(item.body.len() <= MAX_BODY_BYTES, "{name}");
                assert!(item.participants.len() <= kronika::mail::MAX_PARTICIPANTS, "{name}");
                let again = kronika::mail::parse_captured(raw, &hints).unwrap();
                assert_eq!((again.message_id, again.content_hash), (item.message_id, item.content_hash), "{name}");
            }
            Err(ParseError::Empty) => assert!(raw.iter().all(u8::is_ascii_whitespace), "{name}"),
            Err(ParseError::NotMail(m)) => assert!(!m.contains("failed"), "{name}: the mail parser panicked: {m}"),
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "{name}: took {:?}", start.elapsed());
    });
    // 20 forwards deep: unwrapped 8 levels (the depth cap), no further.
    let raw = fs::read(fixtures().join("fuzz/capture/forwards-20-deep.eml")).unwrap();
    let item = kronika::mail::parse_captured(&raw, &hints).unwrap();
    assert_eq!(item.extra["forward"]["via"].as_array().map(Vec::len), Some(8));
    assert_eq!(item.participants[0].address, "kolega11@modrykamen.cz");
    // The hostile block: its To: list is read up to the cap, the rest is text.
    let raw = fs::read(fixtures().join("fuzz/capture/hostile-header-block.eml")).unwrap();
    let item = kronika::mail::parse_captured(&raw, &hints).unwrap();
    assert_eq!(item.participants.first().map(|p| p.address.as_str()), Some("karel@acme-stavby.cz"));
    assert_eq!(item.extra["date_raw"].as_str().map(|d| d.starts_with("99999")), Some(true));
}

#[test]
fn ics() {
    let window = Window {
        start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    };
    let prague = zone("Europe/Prague").unwrap();
    each("ics", |name, raw| {
        let text = String::from_utf8_lossy(raw);
        let Ok((occ, warnings)) = occurrences(&text, &window, prague) else { return };
        let mut ids = std::collections::HashSet::new();
        for o in &occ {
            assert!(o.end >= o.start, "{name}: {o:?}");
            assert!(o.start < window.end && (o.end > window.start || o.start >= window.start), "{name}: {o:?}");
            assert!(ids.insert((o.uid.clone(), o.recurrence_id.clone())), "{name}: twice: {o:?}");
        }
        // A good event beside a broken one is kept; the broken one is named.
        if text.contains("UID:good@modrykamen.cz") {
            assert!(occ.iter().any(|o| o.uid == "good@modrykamen.cz"), "{name}: {occ:?} {warnings:?}");
        }
        for uid in ["absurd@modrykamen.cz", "allday@modrykamen.cz"] {
            if text.contains(&format!("UID:{uid}")) {
                assert!(!occ.iter().any(|o| o.uid == uid), "{name}: {occ:?}");
                assert!(warnings.iter().any(|w| w.contains(uid)), "{name}: {uid} is named in {warnings:?}");
            }
        }
    });
}

#[test]
fn note() {
    each("note", |name, data| {
        // As the fuzz target reads it: `\x01path\n` first, optionally.
        let (relative, bytes) = match data.strip_prefix(b"\x01") {
            Some(rest) => match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (String::from_utf8_lossy(&rest[..i]).into_owned(), &rest[i + 1..]),
                None => (String::from_utf8_lossy(rest).into_owned(), &[][..]),
            },
            None => ("Acme Stavby s.r.o./2026-11-27-hovor.md".to_string(), data),
        };
        let file = NoteFile { relative: &relative, modified: None, default_kind: ItemKind::Call };
        if let Ok(n) = kronika::notes::parse(bytes, &file) {
            assert!(n.item.subject.chars().count() <= 200, "{name}");
            assert!(matches!(n.item.kind, ItemKind::Call | ItemKind::Meeting), "{name}");
        }
    });
    // The date after a multi-byte char in the file name is found.
    let data = fs::read(fixtures().join("fuzz/note/multibyte-name-and-quotes")).unwrap();
    let rest = data.strip_prefix(b"\x01").unwrap();
    let i = rest.iter().position(|&b| b == b'\n').unwrap();
    let relative = String::from_utf8(rest[..i].to_vec()).unwrap();
    let file = NoteFile { relative: &relative, modified: None, default_kind: ItemKind::Call };
    let n = kronika::notes::parse(&rest[i + 1..], &file).unwrap();
    assert_eq!(n.item.date.with_timezone(&chrono::Local).date_naive().to_string(), "2026-11-27");
}

#[test]
fn config() {
    each("config", |name, raw| {
        let Ok(text) = std::str::from_utf8(raw) else { return };
        if let Err(e) = Config::parse(Path::new("/fuzz/kronika.toml"), text) {
            assert!(!e.to_string().is_empty(), "{name}");
        }
    });
}

#[test]
fn csv_clients() {
    let config = Config::parse(Path::new("k.toml"), "[[custom_fields]]\nname = \"obor\"\ntype = \"text\"\n").unwrap();
    each("csv_clients", |name, raw| {
        let (rows, errors, _) = read_clients(raw, &["obor".to_string()]);
        assert!(errors.iter().all(|e| e.message.starts_with("cannot ")), "{name}: {errors:?}");
        for row in &rows {
            if let Err(e) = kronika::directory::client_input(&row.client, &config) {
                assert!(e.starts_with("cannot "), "{name}: {e}");
            }
        }
    });
    // Issue 10: the DIČ `CŽ12345678` is refused with a reason; the next row is fine.
    let raw = fs::read(fixtures().join("fuzz/csv_clients/dic-multibyte.csv")).unwrap();
    let (rows, errors, _) = read_clients(&raw, &[]);
    assert!(errors.is_empty(), "{errors:?}");
    let outcomes: Vec<Result<_, String>> =
        rows.iter().map(|r| kronika::directory::client_input(&r.client, &config)).collect();
    assert!(outcomes[0].as_ref().is_err_and(|e| e.contains("cannot read DIČ \"CŽ12345678\"")), "{outcomes:?}");
    assert!(outcomes[1].as_ref().is_ok_and(|c| c.dic.as_deref() == Some("CZ27468135")), "{outcomes:?}");
}

#[test]
fn csv_deals() {
    each("csv_deals", |name, raw| {
        let Ok((rows, errors)) = read_deals(raw) else { return };
        assert!(errors.iter().all(|e| e.message.starts_with("cannot ")), "{name}: {errors:?}");
        for r in &rows {
            assert!(r.deal.value.is_finite() && (0.0..=MAX_AMOUNT).contains(&r.deal.value), "{name}: {r:?}");
        }
    });
    let raw = fs::read(fixtures().join("fuzz/csv_deals/amounts.csv")).unwrap();
    let (rows, errors) = read_deals(&raw).unwrap();
    assert_eq!(rows.iter().map(|r| r.deal.value).collect::<Vec<_>>(), [120_000.5]);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{errors:?}");
}

#[test]
fn query() {
    let dir = tempfile::tempdir().unwrap();
    let index = kronika::index::SearchIndex::open(dir.path()).unwrap();
    each("query", |name, raw| {
        let Ok(text) = std::str::from_utf8(raw) else { return };
        let checked = index.check_query(text);
        let req = kronika::index::SearchRequest { query: text.to_string(), limit: 5, ..Default::default() };
        let ran = index.search(&req, |_| String::new());
        assert_eq!(checked.is_ok(), ran.is_ok(), "{name}: the check and the search disagree");
    });
}

/// Issue 10: `client add --dic "CŽ12345678"` panicked (a byte slice inside
/// `Ž`); now it is refused with a reason, and the same DIČ in a CSV import
/// refuses that row only.
#[test]
fn multistatus() {
    each("multistatus", |name, raw| {
        let text = String::from_utf8_lossy(raw);
        if let Ok(ms) = kronika::sources::dav::parse_multistatus(&text) {
            assert!(ms.responses.iter().all(|r| !r.href.is_empty()), "{name}");
        }
        let out = kronika::app::meeting::cancelled_ics(&text);
        assert_eq!(out.matches("BEGIN:VEVENT").count(), text.matches("BEGIN:VEVENT").count(), "{name}");
    });
    assert!(!cases("multistatus").is_empty());
}

#[test]
fn graph() {
    use kronika::sources::graph::{ical_uid, occurrence};
    let mut read = 0;
    each("graph", |name, raw| {
        let text = String::from_utf8_lossy(raw);
        let _ = ical_uid(&text);
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        let events: Vec<serde_json::Value> = match value["value"].as_array() {
            Some(list) => list.clone(),
            None => vec![value.clone()],
        };
        for ev in &events {
            match occurrence(ev, chrono_tz::Europe::Prague.into()) {
                Ok(Some(o)) => {
                    assert!(o.end >= o.start && !o.uid.is_empty(), "{name}: {o:?}");
                    read += 1;
                }
                Ok(None) => assert_eq!(ev["type"], "seriesMaster", "{name}"),
                Err(e) => assert!(e.contains("event"), "{name}: {e}"),
            }
        }
    });
    assert!(read >= 4, "the good seeds read: {read}");
    let wrapped = std::fs::read_to_string(fixtures().join("fuzz/graph/vcal-uid.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&wrapped).unwrap();
    assert_eq!(ical_uid(v["iCalUId"].as_str().unwrap()), "abc123@example.com");
}

#[test]
fn a_dic_with_a_multi_byte_char_is_refused_by_the_cli() {
    let env = Env::new();
    let out = env.cmd(&["client", "add", "Test s.r.o.", "--dic", "CŽ12345678"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("cannot read DIČ \"CŽ12345678\""), "{stderr}");
    let csv = fixtures().join("fuzz/csv_clients/dic-multibyte.csv");
    let out = env.cmd(&["client", "import", csv.to_str().unwrap()]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(format!("{stdout}{stderr}").contains("cannot read DIČ"), "{stdout}\n{stderr}");
    let list = env.json(&["client", "list"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Druhý s.r.o."], "{list}");
}

/// Deal amounts that are no numbers kronika can hold (1e400, NaN, inf,
/// more than 10^15) are refused row by row through the CLI.
#[test]
fn absurd_deal_amounts_are_refused_by_the_cli() {
    let env = Env::new();
    env.ok(&["client", "add", "Acme", "--no-ares"]);
    let csv = fixtures().join("fuzz/csv_deals/amounts.csv");
    let out = env.cmd(&["deal", "import", csv.to_str().unwrap()]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("1 deals added") && stdout.contains("4 rows refused"), "{stdout}");
    for line in [":2:", ":3:", ":4:", ":5:"] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    let err = env.fails(&["deal", "add", "Acme", "--title", "x", "--value", "1e400"]);
    assert!(err.contains("cannot read value \"1e400\""), "{err}");
}

#[test]
fn pgpass() {
    use kronika::store::pg::{pgpass_lookup, redacted};
    let mut seen = 0;
    each("pgpass", |name, raw| {
        let text = String::from_utf8_lossy(raw);
        let _ = pgpass_lookup(&text, "db.firma.cz", "5432", "kronika", "kronika");
        for line in text.lines() {
            let shown = redacted(line);
            assert!(!shown.contains("H3sl0-t4jn3"), "{name}: {line} -> {shown}");
            seen += 1;
        }
    });
    assert!(seen > 0, "the pgpass seeds were read");
}
