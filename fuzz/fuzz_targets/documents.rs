//! Raw bytes → `kronika::documents::extract_text` as each office format
//! (DOCX, XLSX, ODT, ODS), as an ISDOC invoice, and as an unnamed
//! attachment (recognised by content): never a panic, errors that say
//! "cannot …", text within `MAX_TEXT_BYTES`; `classify` and `candidate` on
//! whatever came out. PDFs are left out: their text is pdf-extract's, not
//! kronika's, and it is caught by `extract_text` itself.
#![no_main]

use std::sync::Once;

use kronika::documents::{MAX_TEXT_BYTES, MIME_DOCX, MIME_ODS, MIME_ODT, MIME_XLSX, candidate, classify, extract_text};
use libfuzzer_sys::fuzz_target;

/// `extract_text` runs calamine under `catch_unwind` and reports its panics
/// as a damaged spreadsheet; libfuzzer-sys aborts on every panic, caught
/// or not. This hook lets calamine's through (printing each place once) and
/// keeps every other panic fatal.
fn tolerate_calamine_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map(|l| l.file().to_string()).unwrap_or_default();
            if place.contains("calamine-") {
                eprintln!("calamine panicked (caught by kronika::documents::extract_text): {info}");
                return;
            }
            fuzzer_hook(info);
        }));
    });
}

const MIMES: &[&str] = &[
    MIME_DOCX,
    MIME_XLSX,
    MIME_ODT,
    MIME_ODS,
    "application/x-isdoc",
    "application/x-isdocx",
    "application/octet-stream",
    "application/zip",
];

fuzz_target!(|data: &[u8]| {
    tolerate_calamine_panics();
    if data.starts_with(b"%PDF") {
        return;
    }
    for mime in MIMES {
        match extract_text(mime, data) {
            Ok(text) => {
                assert!(text.len() <= MAX_TEXT_BYTES, "{mime}: {} bytes", text.len());
                let _ = classify("attachment", &text);
            }
            Err(e) => assert!(e.starts_with("cannot "), "{mime}: {e}"),
        }
        assert!(candidate("attachment", mime) || mime.ends_with("octet-stream") || mime.ends_with("zip"));
    }
});
