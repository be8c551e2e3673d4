//! Plain data shared by every part of kronika: clients, contacts, items,
//! participants and links. Nothing here does I/O.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Row id of a client in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientId(pub i64);

/// Row id of a contact person in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContactId(pub i64);

/// Row id of a history item in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemId(pub i64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Declares a string-backed enum with `as_str`, `FromStr` and `Display`,
/// so the store, the CLI and JSON all spell a value the same way.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl Default for $name {
            /// The first variant.
            fn default() -> Self {
                $name::ALL[0]
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "cannot read {} {:?}: expected one of {}",
                        $what,
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// What a history item is.
    ItemKind, "item kind" {
        Email => "email",
        Call => "call",
        Meeting => "meeting",
        Event => "event",
        Document => "document",
        Deal => "deal",
    }
);

str_enum!(
    /// Whether a client is a prospect or already buys.
    ClientStatus, "client status" {
        Lead => "lead",
        Client => "client",
    }
);

str_enum!(
    /// Which way an item went, seen from our side.
    Direction, "direction" {
        In => "in",
        Out => "out",
        Internal => "internal",
    }
);

str_enum!(
    /// The header or property a participant came from.
    Role, "participant role" {
        From => "from",
        To => "to",
        Cc => "cc",
        Bcc => "bcc",
        ReplyTo => "reply-to",
        Sender => "sender",
        Organizer => "organizer",
        Attendee => "attendee",
        Mentioned => "mentioned",
    }
);

str_enum!(
    /// Why an item is linked to a client.
    LinkReason, "link reason" {
        Address => "address",
        Domain => "domain",
        Thread => "thread",
        Folder => "folder",
        Name => "name",
        Ico => "ico",
        Manual => "manual",
    }
);

/// One person on an item: a sender, a recipient, an attendee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub role: Role,
    /// Display name as written, when there is one.
    pub name: Option<String>,
    /// Normalised address (see [`crate::address::normalize`]); empty when
    /// the header carried only a name.
    pub address: String,
}

/// A link from an item to a client (and maybe one of its contacts), with
/// the reason the matcher (or a user) gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub client: ClientId,
    pub contact: Option<ContactId>,
    pub reason: LinkReason,
    /// Set when the domain that decided it belongs to several clients.
    pub ambiguous: bool,
    /// The address (or other evidence) that decided the link.
    pub evidence: String,
}

/// A custom field declared in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomField {
    pub name: String,
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// The type of a custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Choice { choices: Vec<String> },
}

impl FieldKind {
    /// Checks a value against the type and returns it as it is stored.
    pub fn check(&self, field: &str, value: &str) -> Result<serde_json::Value, String> {
        let v = value.trim();
        match self {
            FieldKind::Text => Ok(serde_json::Value::String(v.to_string())),
            FieldKind::Number => {
                let n =
                    parse_number(v).ok_or_else(|| format!("cannot set field {field:?}: {value:?} is not a number"))?;
                Ok(serde_json::json!(n))
            }
            FieldKind::Date => {
                let d = parse_date(v).ok_or_else(|| {
                    format!("cannot set field {field:?}: {value:?} is not a date (use YYYY-MM-DD or D.M.YYYY)")
                })?;
                Ok(serde_json::Value::String(d.format("%Y-%m-%d").to_string()))
            }
            FieldKind::Choice { choices } => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v) || c.to_lowercase() == v.to_lowercase())
                .map(|c| serde_json::Value::String(c.clone()))
                .ok_or_else(|| format!("cannot set field {field:?}: {value:?} is not one of {}", choices.join(", "))),
        }
    }
}

/// Reads a number as people type it: `1200000`, `1 200 000`, `1200000,50`,
/// `1.5`. Returns `None` for anything else, including NaN and infinity.
pub fn parse_number(s: &str) -> Option<f64> {
    let cleaned: String =
        s.trim().chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}').collect();
    if cleaned.is_empty() {
        return None;
    }
    // A single comma with no dot is a decimal comma (Czech spreadsheets).
    let normalized = if cleaned.contains(',') && !cleaned.contains('.') && cleaned.matches(',').count() == 1 {
        cleaned.replace(',', ".")
    } else {
        cleaned.replace(',', "")
    };
    normalized.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Reads a calendar date: ISO `2026-11-27` or Czech `27.11.2026` / `27. 11. 2026`.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    chrono::NaiveDate::parse_from_str(&compact, "%d.%m.%Y").ok()
}

/// A Czech company id (IČO): eight digits, the last a mod-11 check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ico(String);

impl Ico {
    /// Parses an IČO, accepting spaces and fewer than eight digits (the
    /// register pads with leading zeros), and checks its check digit.
    pub fn parse(s: &str) -> Result<Ico, String> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() || digits.len() > 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("cannot read IČO {s:?}: it must be up to 8 digits"));
        }
        let padded = format!("{digits:0>8}");
        let d: Vec<u32> = padded.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
        let sum: u32 = d[..7].iter().zip([8, 7, 6, 5, 4, 3, 2]).map(|(a, w)| a * w).sum();
        let expected = match sum % 11 {
            0 => 1,
            1 => 0,
            r => (11 - r) % 10,
        };
        if d[7] != expected {
            return Err(format!(
                "cannot accept IČO {padded}: its check digit is {}, but the first seven digits need {expected}",
                d[7]
            ));
        }
        Ok(Ico(padded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ico {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client (company) as the directory holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub ico: Option<String>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub billing: Option<String>,
    pub status: ClientStatus,
    pub annual_budget: Option<f64>,
    pub domains: Vec<String>,
    /// Custom field values by field name, already checked against their type.
    pub custom: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which people found in mail become contacts of a client by themselves
/// (`auto_contacts` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoContacts {
    /// Whoever writes to us, and whoever we write to, from an address at a
    /// client's domain.
    #[default]
    SentAndReceived,
    /// Only people we write to (a mail we received proves less).
    Sent,
    /// Nobody: contacts are typed in or imported.
    None,
}

impl AutoContacts {
    pub fn parse(s: &str) -> Option<AutoContacts> {
        match s {
            "sent_and_received" => Some(AutoContacts::SentAndReceived),
            "sent" => Some(AutoContacts::Sent),
            "none" => Some(AutoContacts::None),
            _ => None,
        }
    }
}

/// A person at a client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub client: ClientId,
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    /// Academic titles kept apart from the name ("Ing.", "Ph.D.").
    pub title_before: Option<String>,
    pub title_after: Option<String>,
    /// `manual` (typed in, imported) or `mail` (found in mail by itself).
    pub origin: String,
    /// Where the phone and the position came from: `manual` (typed in:
    /// never overwritten by mail) or `item:ID` (a signature in that item).
    pub phone_source: Option<String>,
    pub role_source: Option<String>,
}

impl Contact {
    /// The name with its titles: "Ing. Karel Horák, Ph.D.".
    pub fn titled_name(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.title_before {
            s.push_str(t);
            s.push(' ');
        }
        s.push_str(&self.name);
        if let Some(t) = &self.title_after {
            s.push_str(", ");
            s.push_str(t);
        }
        s
    }
}

/// An event whose meeting was cancelled (an invitation's CANCEL, or a
/// calendar's STATUS:CANCELLED): it stays in the history, marked, and
/// leaves the agenda.
pub fn is_cancelled_event(kind: &str, extra: &serde_json::Value) -> bool {
    kind == "event"
        && extra.get("status").and_then(serde_json::Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ico_check_digit() {
        // Table: input, valid?
        let cases = [
            ("27074358", true),
            ("25596641", true),
            ("00006947", true),
            ("6947", true),
            ("27074359", false),
            ("1234567", false),
            ("123456789", false),
            ("abc", false),
            ("", false),
        ];
        for (input, ok) in cases {
            assert_eq!(Ico::parse(input).is_ok(), ok, "IČO {input}");
        }
        assert_eq!(Ico::parse("6947").unwrap().as_str(), "00006947");
        assert_eq!(Ico::parse("270 74 358").unwrap().as_str(), "27074358");
    }

    #[test]
    fn numbers_and_dates_as_people_type_them() {
        assert_eq!(parse_number("1 200 000"), Some(1_200_000.0));
        assert_eq!(parse_number("1200000,50"), Some(1_200_000.5));
        assert_eq!(parse_number("1,200,000.5"), Some(1_200_000.5));
        assert_eq!(parse_number("12a"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_date("27. 11. 2026"), chrono::NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(parse_date("2026-11-27"), chrono::NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(parse_date("2026-13-27"), None);
    }

    #[test]
    fn field_kinds_check_values() {
        let choice = FieldKind::Choice { choices: vec!["A".into(), "Bé".into()] };
        assert_eq!(choice.check("tier", "bé").unwrap(), serde_json::json!("Bé"));
        assert!(choice.check("tier", "C").is_err());
        assert!(FieldKind::Number.check("n", "x").is_err());
        assert_eq!(FieldKind::Date.check("d", "1.2.2026").unwrap(), serde_json::json!("2026-02-01"));
    }

    #[test]
    fn enums_round_trip() {
        for k in ItemKind::ALL {
            assert_eq!(k.as_str().parse::<ItemKind>().unwrap(), *k);
        }
        assert!("vip".parse::<ClientStatus>().is_err());
    }
}
