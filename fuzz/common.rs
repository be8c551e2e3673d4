//! Shared by the fuzz targets.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Mutex, Once};

use chrono::{DateTime, TimeZone, Utc};

/// A fixed "now" for inputs that need one.
pub fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single().unwrap_or_default()
}

/// `kronika::mail::parse` runs mail-parser under `catch_unwind`: a panic
/// inside mail-parser (its `debug_assert!`s fire on some malformed
/// multiparts, and fuzz builds have debug assertions on) comes back as
/// `ParseError::NotMail`. libfuzzer-sys aborts on every panic, caught or
/// not; this hook lets those through to kronika's guard and prints each
/// place once, so they can be looked at. Any other panic still aborts.
pub fn tolerate_mail_parser_panics() {
    static ONCE: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            if place.contains("mail-parser-") {
                if let Ok(mut seen) = SEEN.lock()
                    && seen.get_or_insert_with(HashSet::new).insert(place.clone())
                {
                    eprintln!("mail-parser panicked (caught by kronika::mail::parse) at {place}: {info}");
                }
                return;
            }
            fuzzer_hook(info);
        }));
    });
}
