//! A Microsoft Graph answer → `kronika::sources::graph::{occurrence, ical_uid}`:
//! never a panic, whatever the JSON holds; an occurrence ends no earlier
//! than it starts; a UID is never empty when the iCalUId was not.
#![no_main]

use kronika::sources::graph::{ical_uid, occurrence};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = ical_uid(&text);
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return };
    let events: Vec<&serde_json::Value> = match value.get("value").and_then(|v| v.as_array()) {
        Some(list) => list.iter().collect(),
        None => vec![&value],
    };
    for ev in events {
        if let Some(u) = ev.get("iCalUId").and_then(|u| u.as_str()).filter(|u| !u.trim().is_empty()) {
            assert!(!ical_uid(u).is_empty());
        }
        if let Ok(Some(o)) = occurrence(ev, chrono_tz::Europe::Prague.into()) {
            assert!(o.end >= o.start);
            assert!(!o.uid.is_empty());
        }
    }
});
