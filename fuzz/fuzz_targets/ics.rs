//! ICS text → `kronika::calendar::occurrences` in a one-year window: never
//! a panic; occurrences inside the window, sorted, each `(uid,
//! recurrence_id)` once, ends not before starts.
#![no_main]

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use kronika::calendar::{Window, Zone, occurrences, zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let window = Window {
        start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    };
    let local: Zone = zone("Europe/Prague").expect("Prague is a zone");
    let Ok((occ, _warnings)) = occurrences(&text, &window, local) else { return };
    let mut ids = HashSet::new();
    let mut last = None;
    for o in &occ {
        assert!(o.end >= o.start, "{o:?}");
        assert!(o.start < window.end && (o.end > window.start || o.start >= window.start), "outside the window: {o:?}");
        assert!(!o.uid.is_empty());
        assert!(ids.insert((o.uid.clone(), o.recurrence_id.clone())), "twice: {o:?}");
        assert!(last.is_none_or(|l| l <= o.start), "not sorted");
        last = Some(o.start);
        if o.all_day {
            assert!(o.date.is_some() && o.end_date.is_some() && o.date < o.end_date, "{o:?}");
        }
    }
});
