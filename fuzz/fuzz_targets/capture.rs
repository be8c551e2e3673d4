//! Raw bytes → `kronika::mail::parse_captured` (a capture mailbox's mail,
//! forwards unwrapped): never a panic, and an item that keeps the promises
//! of `mail::parse` plus the capture's own (the forwarder's note kept and
//! capped, a derived Message-ID for an original without one, the same
//! identity for the same bytes).
#![no_main]

use kronika::mail::{
    CAPTURE_ID_DOMAIN, MAX_ATTACHMENTS, MAX_BODY_BYTES, MAX_PARTICIPANTS, ParseError, ParseHints, parse, parse_captured,
};
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::tolerate_mail_parser_panics();
    let hints = ParseHints { file_time: Some(common::fixed_time()) };
    match parse_captured(data, &hints) {
        Ok(item) => {
            let id = item.message_id.as_deref().expect("every item has a Message-ID");
            assert!(!id.is_empty());
            assert!(item.body.len() <= MAX_BODY_BYTES);
            assert!(item.participants.len() <= MAX_PARTICIPANTS);
            assert!(item.attachments.len() <= MAX_ATTACHMENTS);
            assert!(item.subject.chars().count() <= 2000);
            assert_eq!(item.size, data.len() as u64);
            assert_eq!(item.content_hash.len(), 64);
            for a in &item.attachments {
                assert!(!a.name.is_empty() && a.name != "." && a.name != "..", "{a:?}");
                assert!(!a.name.contains(['/', '\\']) && !a.name.chars().any(char::is_control), "{a:?}");
            }
            for p in &item.participants {
                assert!(!p.address.is_empty() || p.name.is_some(), "{p:?}");
                assert!(p.name.as_deref().is_none_or(|n| !n.is_empty()), "{p:?}");
            }
            match item.extra.pointer("/capture/derived_id").and_then(|v| v.as_bool()) {
                Some(true) => assert!(id.ends_with(CAPTURE_ID_DOMAIN), "{id}"),
                Some(false) => assert!(!id.ends_with(CAPTURE_ID_DOMAIN), "{id}"),
                None => {}
            }
            if let Some(forward) = item.extra.get("forward") {
                let note = forward["note"].as_str().expect("a forward has a note, maybe empty");
                assert!(note.len() <= 64 * 1024);
                assert!(forward["by"].is_string() && forward["at"].is_string(), "{forward}");
            } else if item.extra.pointer("/capture/unwrapped").is_none() {
                // Not a forward: exactly what `parse` makes of it.
                let plain = parse(data, &hints).expect("parse_captured parsed it");
                assert_eq!(plain.content_hash, item.content_hash);
                assert_eq!(plain.message_id, item.message_id);
                assert_eq!(plain.body, item.body);
            }
            // The same bytes are the same message (dedup depends on it).
            let again = parse_captured(data, &hints).expect("a message parses twice");
            assert_eq!(again.content_hash, item.content_hash);
            assert_eq!(again.message_id, item.message_id);
            assert_eq!(again.body, item.body);
        }
        Err(ParseError::Empty) => assert!(data.iter().all(u8::is_ascii_whitespace)),
        Err(ParseError::NotMail(m)) => assert!(!m.is_empty()),
    }
});
