//! Raw bytes → `kronika::mail::view` (the web's item page re-opening a
//! kept original): never a panic; the HTML version keeps nothing active
//! (no script, event handler, style, frame, form or remote source); an
//! attachment found by a hash the parser gave has that hash.
#![no_main]

use kronika::mail::{ParseHints, parse, view};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::tolerate_mail_parser_panics();
    if let Some(html) = view::html_body(data) {
        let lower = html.to_ascii_lowercase();
        for bad in ["<script", "<style", "<iframe", "<object", "<embed", "<form", "<meta", "<base", "<link", "javascript:"] {
            assert!(!lower.contains(bad), "{bad} survived: {html}");
        }
        // Inside tags (text is escaped, so `<` only opens a tag): no event
        // handler (an attribute named on…), no source but an inline image.
        for tag in lower.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            for attr in tag.split_whitespace().skip(1) {
                assert!(!(attr.starts_with("on") && attr.contains('=')), "a handler survived: {html}");
                if let Some(v) = attr.strip_prefix("src=\"") {
                    assert!(v.starts_with("data:image/"), "a remote source survived: {html}");
                }
            }
        }
    }
    let hints = ParseHints { file_time: Some(common::fixed_time()) };
    if let Ok(item) = parse(data, &hints) {
        for a in item.attachments.iter().take(4) {
            if let Some(found) = view::attachment(data, &a.content_hash) {
                assert_eq!(hex::encode(Sha256::digest(&found.bytes)), a.content_hash);
                assert!(!found.name.contains(['/', '\\']));
            }
        }
    }
});
