//! Arbitrary text → `kronika::person`: display names, role addresses,
//! signatures and `same_person` never panic, and what they return keeps
//! its promises. The first line is also the sender's display name and
//! the second line the other name for `same_person`; the whole input is
//! the body.
#![no_main]

use kronika::person::{is_role_address, parse_display_name, same_person, signature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let second = lines.next().unwrap_or("");
    let name = parse_display_name(first);
    if let Some(p) = &name {
        assert!(!p.name.is_empty() && p.name.chars().count() <= 100, "{p:?}");
        assert!(!p.name.contains('@'), "{p:?}");
        assert!(same_person(first, first), "{first:?}");
    }
    let _ = is_role_address(first);
    let _ = is_role_address(&text);
    assert_eq!(same_person(first, second), same_person(second, first), "{first:?} / {second:?}");
    let sig = signature(&text, name.as_ref());
    for (i, phone) in sig.phones.iter().enumerate() {
        assert!(phone.starts_with('+') && phone.chars().skip(1).all(|c| c.is_ascii_digit()), "{phone}");
        assert!(!sig.phones.iter().skip(i + 1).any(|p| p == phone), "duplicate {phone}");
    }
    if let Some(position) = &sig.position {
        assert!(!position.is_empty() && position.chars().count() <= 60, "{position:?}");
    }
});
