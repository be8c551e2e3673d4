//! Golden tests for `kronika::calendar`: every `fixtures/ics/X.ics` is run
//! through `occurrences` and compared with `fixtures/ics/X.json`.
//! A mismatch writes `X.actual.json` and fails; `KRONIKA_BLESS=1` rewrites.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use kronika::calendar::{CalendarError, Occurrence, Window, Zone, occurrences, zone};

fn window() -> Window {
    Window {
        start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn prague() -> Zone {
    zone("Europe/Prague").expect("Europe/Prague is known")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ics")
}

fn run(name: &str) -> Result<(Vec<Occurrence>, Vec<String>), CalendarError> {
    let bytes = std::fs::read(fixtures().join(format!("{name}.ics"))).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    occurrences(&text, &window(), prague())
}

fn golden(name: &str) {
    let value = match run(name) {
        Ok((occ, warnings)) => serde_json::json!({ "occurrences": occ, "warnings": warnings }),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let actual = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let expected_path = fixtures().join(format!("{name}.json"));
    let actual_path = fixtures().join(format!("{name}.actual.json"));
    if std::env::var_os("KRONIKA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&expected_path, &actual).unwrap();
        let _ = std::fs::remove_file(&actual_path);
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if expected != actual {
        std::fs::write(&actual_path, &actual).unwrap();
        panic!("{name}: output differs from {} (see {})", expected_path.display(), actual_path.display());
    }
    let _ = std::fs::remove_file(&actual_path);
}

macro_rules! golden_tests {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { golden(stringify!($name)); } )* };
}

golden_tests!(
    single_prague,
    weekly_exdate_rdate,
    override_and_cancelled,
    overrides_no_master,
    thisandfuture,
    windows_tz,
    floating,
    x_wr_timezone,
    allday_dst,
    unbounded_daily,
    cancelled_event,
    missing_uid,
    updated_copy,
    attendees,
    bom_crlf,
    html_page,
    truncated,
    empty,
);

// Property checks on top of the goldens, so a careless bless cannot hide them.

#[test]
fn errors_are_not_a_calendar() {
    for name in ["html_page", "truncated", "empty"] {
        assert!(matches!(run(name), Err(CalendarError::NotACalendar(_))), "{name}");
    }
}

#[test]
fn all_day_dates_never_shift() {
    let (occ, _) = run("allday_dst").unwrap();
    let days: Vec<String> = occ.iter().map(|o| format!("{}..{}", o.date.unwrap(), o.end_date.unwrap())).collect();
    assert_eq!(
        days,
        [
            "2026-03-21..2026-03-22",
            "2026-03-28..2026-03-29",
            "2026-04-04..2026-04-05",
            "2026-10-24..2026-10-26",
            "2026-10-31..2026-11-02",
        ]
    );
    assert!(occ.iter().all(|o| o.all_day));
}

#[test]
fn unbounded_daily_is_bounded_to_the_window() {
    let (occ, _) = run("unbounded_daily").unwrap();
    let daily = occ.iter().filter(|o| o.uid == "daily-since-2015@kronika.test").count();
    assert_eq!(daily, 365);
    // The other series still gets expanded (calcard's limit is per calendar, ours per UID).
    assert_eq!(occ.iter().filter(|o| o.uid == "after-the-daily@kronika.test").count(), 2);
}

#[test]
fn overrides_replace_and_cancel_instances() {
    let (occ, _) = run("override_and_cancelled").unwrap();
    let summaries: Vec<&str> = occ.iter().map(|o| o.summary.as_str()).collect();
    assert_eq!(summaries, ["Standup", "Standup (moved)", "Standup", "Standup"]);
    let moved = &occ[1];
    assert_eq!(moved.recurrence_id.as_deref(), Some("2026-02-03T09:00:00Z"));
    assert_eq!(moved.start, Utc.with_ymd_and_hms(2026, 2, 3, 13, 0, 0).unwrap());
    assert!(occ.iter().all(|o| o.recurrence_id.as_deref() != Some("2026-02-05T09:00:00Z")));
}

#[test]
fn corpus_does_not_panic() {
    let dir = Path::new("/work/shared/corpus/ics");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("{} not present: skipped", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "ics")) {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        // A wide window: the corpus events are from the 2010s.
        let wide = Window {
            start: Utc.with_ymd_and_hms(1990, 1, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap(),
        };
        match occurrences(&text, &wide, prague()) {
            Ok((occ, warnings)) => eprintln!(
                "{}: {} occurrences, {} warnings {:?}",
                path.file_name().unwrap().to_string_lossy(),
                occ.len(),
                warnings.len(),
                warnings
            ),
            Err(e) => eprintln!("{}: {e}", path.file_name().unwrap().to_string_lossy()),
        }
    }
}

/// Evidence for the workaround in `calendar.rs`: calcard alone matches an
/// override to its instance by (SEQUENCE, RECURRENCE-ID), so an override with
/// a higher SEQUENCE than its master leaves the original instance in place.
/// If this starts failing after a calcard upgrade, the workaround may go.
#[test]
fn calcard_alone_keeps_instances_overridden_with_another_sequence() {
    let text = std::fs::read_to_string(fixtures().join("override_and_cancelled.ics")).unwrap();
    let cal = calcard::icalendar::ICalendar::parse(&text).unwrap();
    let expanded = cal.expand_dates(prague(), 100);
    let mut starts: Vec<String> = expanded.events.iter().map(|e| e.start.naive_local().to_string()).collect();
    starts.sort();
    // 5 RRULE instances (none suppressed) + 2 overrides appended as "orphans".
    assert_eq!(
        starts,
        [
            "2026-02-02 10:00:00",
            "2026-02-03 10:00:00",
            "2026-02-03 14:00:00",
            "2026-02-04 10:00:00",
            "2026-02-05 10:00:00",
            "2026-02-05 10:00:00",
            "2026-02-06 10:00:00",
        ]
    );
}
