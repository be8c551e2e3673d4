//! An iTIP object found in mail → `kronika::calendar::invitation`, with and
//! without a `method=` from the Content-Type: never a panic; each
//! occurrence once, ends not before starts; a CANCEL cancels every
//! occurrence it names; a REPLY's answers have a UID and a PARTSTAT.
#![no_main]

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use kronika::calendar::{Method, Window, Zone, invitation, zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let window = Window {
        start: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
    };
    let local: Zone = zone("Europe/Prague").expect("Prague is a zone");
    for method in [None, Some("REQUEST"), Some("cancel"), Some("REPLY")] {
        let Ok(Some(inv)) = invitation(&text, method, &window, local) else { continue };
        let mut ids = HashSet::new();
        for o in &inv.occurrences {
            assert!(o.end >= o.start, "{o:?}");
            assert!(!o.uid.is_empty());
            assert!(ids.insert((o.uid.clone(), o.recurrence_id.clone())), "twice: {o:?}");
            if inv.method == Method::Cancel {
                assert_eq!(o.status.as_deref(), Some("CANCELLED"));
            }
        }
        for r in &inv.replies {
            assert!(!r.uid.is_empty() && !r.partstat.is_empty() && !r.address.is_empty(), "{r:?}");
        }
    }
});
