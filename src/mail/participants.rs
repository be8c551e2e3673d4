//! Participants: From, Sender (when it differs), Reply-To, To, Cc and Bcc,
//! with normalised addresses and readable names, each once.

use std::collections::{HashMap, HashSet};

use mail_parser::{Address, HeaderName, MessagePart};

use super::headers::{collapse_whitespace, prefix_on_char_boundary, truncate_chars};
use super::{MAX_NAME_CHARS, MAX_PARTICIPANTS, decode_encoded_words};
use crate::address::normalize;
use crate::model::{Participant, Role};

pub(super) fn participants_of(root: &MessagePart<'_>) -> Vec<Participant> {
    let mut list = ParticipantList::default();
    let headers = &root.headers;
    let values =
        |name: HeaderName<'static>| headers.iter().filter(move |h| h.name == name).filter_map(|h| h.value.as_address());
    for a in values(HeaderName::From) {
        list.push_all(Role::From, a, |_| true);
    }
    let from: HashSet<String> =
        list.out.iter().filter(|p| p.role == Role::From && !p.address.is_empty()).map(|p| p.address.clone()).collect();
    for a in values(HeaderName::Sender) {
        list.push_all(Role::Sender, a, |p| p.address.is_empty() || !from.contains(&p.address));
    }
    for (name, role) in [
        (HeaderName::ReplyTo, Role::ReplyTo),
        (HeaderName::To, Role::To),
        (HeaderName::Cc, Role::Cc),
        (HeaderName::Bcc, Role::Bcc),
    ] {
        for a in values(name) {
            list.push_all(role, a, |_| true);
        }
    }
    list.out
}

/// Participants in order, each (role, address) once; a name-only
/// participant is kept once per (role, name).
#[derive(Default)]
struct ParticipantList {
    out: Vec<Participant>,
    index: HashMap<(Role, String), usize>,
}

impl ParticipantList {
    fn push_all(&mut self, role: Role, address: &Address<'_>, keep: impl Fn(&Participant) -> bool) {
        // Even addresses that are dropped cost work: look at a bounded number.
        for a in address.iter().take(4 * MAX_PARTICIPANTS) {
            if self.out.len() >= MAX_PARTICIPANTS {
                return;
            }
            if let Some(p) = participant(role, a)
                && keep(&p)
            {
                self.push(p);
            }
        }
    }

    fn push(&mut self, p: Participant) {
        let key = if p.address.is_empty() {
            (p.role, format!("name:{}", p.name.as_deref().unwrap_or("").to_lowercase()))
        } else {
            (p.role, p.address.clone())
        };
        match self.index.get(&key).and_then(|&i| self.out.get_mut(i)) {
            // The same person twice: keep the name the other copy had.
            Some(existing) => {
                if existing.name.is_none() {
                    existing.name = p.name;
                }
            }
            None => {
                self.index.insert(key, self.out.len());
                self.out.push(p);
            }
        }
    }
}

/// One address of a header as a participant; `None` when it has neither a
/// usable address nor a name.
fn participant(role: Role, a: &mail_parser::Addr<'_>) -> Option<Participant> {
    let raw_addr = a.address.as_deref().unwrap_or("").trim();
    let normalized = if raw_addr.is_empty() { None } else { normalize(raw_addr) };
    let mut name = a.name.as_deref().and_then(|n| clean_name(n, raw_addr));
    let address = match normalized {
        Some(addr) => {
            if name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&addr)) {
                name = None;
            }
            addr
        }
        None => {
            // No usable address: keep the person only by name. A bare word
            // where the address should be (`To: Jana`) is a name.
            if name.is_none() && !raw_addr.is_empty() && !raw_addr.contains('@') {
                name = clean_name(raw_addr, "");
            }
            name.as_ref()?;
            String::new()
        }
    };
    Some(Participant { role, name, address })
}

/// A display name as people read it: encoded-words decoded, whitespace
/// collapsed, surrounding quotes removed; `None` when empty or when it only
/// repeats the address (Outlook's `'x@y.cz' <x@y.cz>`).
pub(super) fn clean_name(name: &str, address: &str) -> Option<String> {
    let decoded = decode_encoded_words(prefix_on_char_boundary(name, 4 * MAX_NAME_CHARS));
    let mut n = collapse_whitespace(&decoded);
    loop {
        let t = n.trim();
        let stripped = [('"', '"'), ('\'', '\''), ('<', '>')]
            .iter()
            .find_map(|&(a, b)| t.strip_prefix(a).and_then(|inner| inner.strip_suffix(b)))
            .map(|inner| inner.trim().to_string());
        match stripped {
            Some(s) => n = s,
            None => break,
        }
    }
    let n = n.trim().to_string();
    if n.is_empty() || (!address.is_empty() && n.eq_ignore_ascii_case(address.trim())) {
        return None;
    }
    Some(truncate_chars(n, MAX_NAME_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("'jana@x.cz'", "jana@x.cz"), None);
        assert_eq!(clean_name("  \"Jana   Svobodová\" ", "jana@x.cz"), Some("Jana Svobodová".into()));
        assert_eq!(clean_name("\"\"", "jana@x.cz"), None);
        assert_eq!(clean_name("\"", "jana@x.cz"), Some("\"".into()));
        assert_eq!(clean_name("<\"'Žofie'\">", ""), Some("Žofie".into()));
        let quotes = format!("{}x{}", "\"".repeat(100_000), "\"".repeat(100_000));
        assert!(clean_name(&quotes, "").is_none_or(|n| n.chars().count() <= MAX_NAME_CHARS));
    }

    #[test]
    fn non_ascii_addresses_do_not_panic() {
        assert_eq!(normalize("jiri@kávovary.cz").as_deref(), Some("jiri@xn--kvovary-hwa.cz"));
        assert_eq!(normalize("<Jiří@Kávovary.CZ>").as_deref(), Some("jiří@xn--kvovary-hwa.cz"));
        assert_eq!(normalize("mailto:a@b.cz").as_deref(), Some("a@b.cz"));
        assert_eq!(normalize("žž"), None);
    }
}
