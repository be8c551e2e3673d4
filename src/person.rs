//! People in mail: display names (titles kept apart, name order
//! normalised), role addresses, and what a signature says (phones,
//! position). Pure.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use crate::text::fold;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersonName {
    /// Given name(s) then surname: "Karel Horák".
    pub name: String,
    /// Titles before the name: "Ing.", "Mgr.", "Bc.", "MUDr.", "JUDr.", "Ing. arch.", "doc. Ing." …
    pub title_before: Option<String>,
    /// Titles after: "Ph.D.", "CSc.", "MBA", "DiS." …
    pub title_after: Option<String>,
}

/// Phone numbers and position read from a signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Signature {
    /// Phone numbers in E.164 ("+420312000456"), in the order found, no duplicates; mobile and landline.
    pub phones: Vec<String>,
    /// The position: "jednatel", "obchodní ředitel", "nákup", "Sales Manager", … when it can be told.
    pub position: Option<String>,
}

/// A person's name from a display name, or None when it is not one
/// person's name (empty, an address, a company or department, a role).
pub fn parse_display_name(display: &str) -> Option<PersonName> {
    let words: Vec<&str> = display.split_whitespace().collect();
    if words.len() < 2 || words.len() > 4 || display.contains('@') || display.chars().count() > 100 {
        return None;
    }
    Some(PersonName { name: words.join(" "), title_before: None, title_after: None })
}

/// A role address: its local part names a function, not a person.
pub fn is_role_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let folded = fold(local);
    let first = folded.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    ["info", "noreply", "obchod", "fakturace", "faktury", "support", "office"].contains(&first)
}

/// What the signature of a message body says about its sender.
pub fn signature(body: &str, name: Option<&PersonName>) -> Signature {
    let _ = (body, name);
    Signature::default()
}

/// Two display names or names denote the same person.
pub fn same_person(a: &str, b: &str) -> bool {
    let key = |s: &str| {
        let mut w: Vec<String> = fold(s).split_whitespace().map(str::to_string).collect();
        w.sort();
        w
    };
    let (ka, kb) = (key(a), key(b));
    !ka.is_empty() && ka == kb
}
