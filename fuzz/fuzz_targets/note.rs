//! Note file bytes → `kronika::notes::parse` with front matter: never a
//! panic. An input starting with `\x01` carries its relative path on its
//! first line (so file names are fuzzed too).
#![no_main]

use kronika::model::ItemKind;
use kronika::notes::{NoteFile, parse};
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (relative, bytes) = match data.strip_prefix(b"\x01") {
        Some(rest) => match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (String::from_utf8_lossy(&rest[..i]).into_owned(), &rest[i + 1..]),
            None => (String::from_utf8_lossy(rest).into_owned(), &[][..]),
        },
        None => ("Acme Stavby s.r.o./2026-11-27-hovor.md".to_string(), data),
    };
    let file = NoteFile { relative: &relative, modified: Some(common::fixed_time()), default_kind: ItemKind::Call };
    if let Ok(note) = parse(bytes, &file) {
        assert!(!note.item.body.is_empty() || !note.item.subject.is_empty());
        assert!(note.item.subject.chars().count() <= 200);
        assert!(matches!(note.item.kind, ItemKind::Call | ItemKind::Meeting));
        assert_eq!(note.item.size, bytes.len() as u64);
    }
});
