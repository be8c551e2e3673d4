//! A WebDAV answer from a CalDAV server → `kronika::sources::dav::parse_multistatus`
//! and the cancelling rewrite of a calendar object: never a panic; every
//! response has an href; a cancelled copy keeps its VEVENT count.
#![no_main]

use kronika::app::meeting::cancelled_ics;
use kronika::sources::dav::parse_multistatus;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(ms) = parse_multistatus(&text) {
        for r in &ms.responses {
            assert!(!r.href.is_empty());
            let _ = r.text("getetag");
            let _ = r.href_in("current-user-principal");
        }
    }
    let out = cancelled_ics(&text);
    let count = |s: &str| s.lines().filter(|l| l.to_ascii_uppercase().starts_with("BEGIN:VEVENT")).count();
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "");
    assert_eq!(count(&out), count(&unfolded));
});
