//! Invitations in mail (iMIP, RFC 6047): the calendar object a message
//! carries as a `text/calendar` part or an `.ics` attachment, read as an
//! iTIP request, cancellation or reply ([`crate::calendar::invitation`]).
#![deny(clippy::string_slice, clippy::indexing_slicing)]
//!
//! Senders put the same object in more than one part (Google Calendar and
//! Thunderbird: `text/calendar` in the alternative and `invite.ics` beside
//! it): the first part that reads as an invitation is the invitation.

use chrono::{DateTime, Duration, Utc};
use mail_parser::{Message, MimeHeaders};

use super::body::transfer_encoding;
use super::decode::decode_transfer;
use super::headers::slice;
use crate::calendar::{Invitation, Window};

/// The largest calendar part read (a real invitation is a few kilobytes).
const MAX_CALENDAR_BYTES: usize = 2 << 20;
/// The window an invitation's recurring series is expanded in: from a
/// month before the mail to a year after the later of the mail's date and
/// now. A single event is kept wherever it falls.
const BEFORE: i64 = 31;
const AFTER: i64 = 366;

/// The invitation in `msg`, or why its calendar part could not be read.
pub(super) fn invitation_of(msg: &Message<'_>, date: DateTime<Utc>) -> Result<Option<Invitation>, String> {
    let raw: &[u8] = msg.raw_message.as_ref();
    let window = Window {
        start: date.checked_sub_signed(Duration::days(BEFORE)).unwrap_or(DateTime::<Utc>::MIN_UTC),
        end: date.max(Utc::now()).checked_add_signed(Duration::days(AFTER)).unwrap_or(DateTime::<Utc>::MAX_UTC),
    };
    // Floating times are rare in invitations (Outlook, Google and Apple
    // write zones or UTC); kronika is Czech first.
    let local: crate::calendar::Zone = chrono_tz::Europe::Prague.into();
    let mut error = None;
    for part in &msg.parts {
        let Some(ct) = part.content_type() else { continue };
        let mime = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase();
        let named_ics = part.attachment_name().is_some_and(|n| n.trim().to_ascii_lowercase().ends_with(".ics"));
        if !(matches!(mime.as_str(), "text/calendar" | "application/ics" | "text/x-vcalendar") || named_ics) {
            continue;
        }
        let encoded = slice(raw, part.offset_body, part.offset_end);
        if encoded.len() > MAX_CALENDAR_BYTES {
            error = Some(format!(
                "cannot read the invitation: its calendar part is larger than {MAX_CALENDAR_BYTES} bytes"
            ));
            continue;
        }
        let bytes = unfold(&decode_transfer(encoded, transfer_encoding(part).as_deref()));
        let text = match ct.attribute("charset").and_then(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes())) {
            Some(enc) if enc != encoding_rs::UTF_8 => enc.decode(&bytes).0.into_owned(),
            _ => crate::text::decode_bytes(&bytes),
        };
        match crate::calendar::invitation(&text, ct.attribute("method"), &window, local) {
            Ok(Some(inv)) => return Ok(Some(inv)),
            Ok(None) => {}
            Err(e) => error = Some(format!("cannot read the invitation: {e}")),
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// Content lines unfolded on the bytes, before any decoding: careless
/// senders fold inside a multi-byte UTF-8 character.
fn unfold(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let fold = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'\r', Some(b'\n'), Some(b' ' | b'\t')) => 3,
            (b'\n', Some(b' ' | b'\t'), _) => 2,
            _ => 0,
        };
        if fold > 0 {
            i += fold;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn folds_inside_a_character_are_joined_before_decoding() {
        let folded = "SUMMARY:Kontroln\u{ed} den".as_bytes();
        let (a, b) = folded.split_at(16); // inside the two bytes of "í"
        let mut bytes = a.to_vec();
        bytes.extend_from_slice(b"\r\n ");
        bytes.extend_from_slice(b);
        assert_eq!(String::from_utf8(super::unfold(&bytes)).unwrap(), "SUMMARY:Kontrolní den");
        assert_eq!(super::unfold(b"A\n\tB\nC"), b"AB\nC");
    }
}
