//! Raw bytes → `kronika::mail::parse`: never a panic, and an item that
//! keeps kronika's promises (an id, capped sizes, safe attachment names, a
//! content hash that does not depend on the run).
#![no_main]

use kronika::mail::{MAX_ATTACHMENTS, MAX_BODY_BYTES, MAX_PARTICIPANTS, ParseError, ParseHints, parse};
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::tolerate_mail_parser_panics();
    let hints = ParseHints { file_time: Some(common::fixed_time()) };
    match parse(data, &hints) {
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
            }
            // The same bytes are the same message (dedup depends on it).
            let again = parse(data, &hints).expect("a message parses twice");
            assert_eq!(again.content_hash, item.content_hash);
            assert_eq!(again.message_id, item.message_id);
        }
        Err(ParseError::Empty) => assert!(data.iter().all(u8::is_ascii_whitespace)),
        Err(ParseError::NotMail(m)) => assert!(!m.is_empty()),
    }
});
