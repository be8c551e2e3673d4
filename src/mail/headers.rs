//! Header values: raw text, Message-IDs and references, `List-Id`, dates
//! (from `Date:` or `Received:`), the subject.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use mail_parser::{HeaderName, HeaderValue, Message, MessagePart};

use super::decode::decode_encoded_words;
use super::{MAX_ID_LEN, MAX_NAME_CHARS, MAX_SUBJECT_CHARS};

/// `raw[start..end]`, or nothing when the offsets do not fit.
pub(super) fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let (start, end) = (start as usize, end as usize);
    if start <= end { raw.get(start..end).unwrap_or(&[]) } else { &[] }
}

/// The raw value of the last header `name` of a part, unfolded.
pub(super) fn raw_header_text(part: &MessagePart<'_>, raw: &[u8], name: &HeaderName<'_>) -> Option<String> {
    let h = part.headers.iter().rev().find(|h| &h.name == name)?;
    Some(unfold(&String::from_utf8_lossy(slice(raw, h.offset_start, h.offset_end))))
}

/// Unfolds a header value: line breaks and runs of whitespace become one
/// space, control characters go, the ends are trimmed.
pub(super) fn unfold(s: &str) -> String {
    collapse_whitespace(s)
}

/// Collapses every run of whitespace (and control characters) to one
/// space and trims the ends.
pub(super) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char
/// boundary.
pub(super) fn prefix_on_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let cut = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    s.get(..cut).unwrap_or("")
}

/// `s` cut to at most `max` chars.
pub(super) fn truncate_chars(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

/// A Message-ID or reference without angle brackets and whitespace; `None`
/// when nothing usable is left.
pub(super) fn clean_id(raw: &str) -> Option<String> {
    let id: String = raw.chars().filter(|c| !c.is_whitespace() && !c.is_control() && *c != '<' && *c != '>').collect();
    if id.is_empty() || id.len() > MAX_ID_LEN { None } else { Some(id) }
}

pub(super) fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    value.as_text_list().map(|ids| ids.iter().filter_map(|id| clean_id(id)).collect()).unwrap_or_default()
}

/// `Name <list.example.com>` → `list.example.com`.
pub(super) fn list_id_of(value: &str) -> Option<String> {
    let id = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => value.get(a + 1..b).unwrap_or(value),
        _ => value,
    };
    let id = id.trim();
    if id.is_empty() { None } else { Some(truncate_chars(id.to_string(), MAX_NAME_CHARS)) }
}

/// mail-parser's date → UTC, rejecting impossible fields (month 13, 30 Feb)
/// and years outside 1900..=9999. A leap second (`:60`) counts as `:59`.
pub(super) fn to_utc(dt: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    if !(1..=12).contains(&dt.month) || dt.tz_hour > 23 || dt.tz_minute > 59 || !(1900..=9999).contains(&dt.year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day))?;
    let second = if dt.second == 60 { 59 } else { dt.second };
    let naive = date.and_hms_opt(u32::from(dt.hour), u32::from(dt.minute), u32::from(second))?;
    let offset_secs =
        (i32::from(dt.tz_hour) * 3600 + i32::from(dt.tz_minute) * 60) * if dt.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(offset_secs)?;
    offset.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
}

/// The date of the newest (topmost) `Received:` header that has one.
pub(super) fn received_date(root: &MessagePart<'_>, raw: &[u8]) -> Option<DateTime<Utc>> {
    for h in root.headers.iter().filter(|h| h.name == HeaderName::Received) {
        if let Some(d) = h.value.as_received().and_then(|r| r.date.as_ref()).and_then(to_utc) {
            return Some(d);
        }
        // mail-parser gave up on the header: read the date after the last ';'.
        let text = String::from_utf8_lossy(slice(raw, h.offset_start, h.offset_end));
        if let Some((_, date)) = text.rsplit_once(';')
            && let Some(d) = mail_parser::DateTime::parse_rfc822(date.trim()).as_ref().and_then(to_utc)
        {
            return Some(d);
        }
    }
    None
}

pub(super) fn subject_of(msg: &Message<'_>, root: &MessagePart<'_>, raw: &[u8]) -> String {
    let decoded = msg.subject().unwrap_or("");
    let mut subject = if decoded.contains('\u{FFFD}') || decoded.contains("=?") {
        // An encoded-word in a charset mail-parser does not know, or one it
        // left alone: decode the raw value ourselves.
        match raw_header_text(root, raw, &HeaderName::Subject) {
            Some(r) if !r.contains('\u{FFFD}') => decode_encoded_words(&r).into_owned(),
            _ => decoded.to_string(),
        }
    } else {
        decoded.to_string()
    };
    subject = collapse_whitespace(&subject);
    truncate_chars(subject, MAX_SUBJECT_CHARS)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cleaned() {
        assert_eq!(clean_id(" <abc@x.cz> "), Some("abc@x.cz".into()));
        assert_eq!(clean_id("<>"), None);
        assert_eq!(clean_id("a b@c"), Some("ab@c".into()));
        assert_eq!(list_id_of("TZB novinky <tzb.example.com>"), Some("tzb.example.com".into()));
        assert_eq!(list_id_of("plain.list.id"), Some("plain.list.id".into()));
        assert_eq!(list_id_of("> <"), Some("> <".into()));
    }

    #[test]
    fn leap_second_and_offsets() {
        let dt = mail_parser::DateTime {
            year: 2026,
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 60,
            tz_before_gmt: true,
            tz_hour: 5,
            tz_minute: 30,
        };
        assert_eq!(to_utc(&dt).unwrap().to_rfc3339(), "2027-01-01T05:29:59+00:00");
        assert!(to_utc(&mail_parser::DateTime { month: 13, ..dt }).is_none());
        assert!(to_utc(&mail_parser::DateTime { tz_hour: 24, ..dt }).is_none());
        assert!(to_utc(&mail_parser::DateTime { year: u16::MAX, ..dt }).is_none());
        assert!(to_utc(&mail_parser::DateTime { hour: 24, ..dt }).is_none());
    }

    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(prefix_on_char_boundary("žž", 3), "ž");
        assert_eq!(prefix_on_char_boundary("žž", 1), "");
        assert_eq!(prefix_on_char_boundary("ab", 9), "ab");
        assert_eq!(truncate_chars("žluť".into(), 2), "žl");
        assert_eq!(truncate_chars("ž".into(), 2), "ž");
    }
}
