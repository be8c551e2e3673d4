//! Mail parsing: raw RFC 5322 bytes → [`NewItem`]. Pure (no I/O).
//!
//! [`parse`] wraps `mail-parser` and turns its best-effort view of a message
//! into an item: Message-ID (derived from the content when missing),
//! references, a UTC date with its source, decoded subject and participants,
//! a readable text body (HTML converted to text), attachment metadata and a
//! content hash that is the same for every stored copy of one message.
//!
//! Whatever a lenient reader (Python's `email` package) can read is read:
//! leading blank lines, a body that follows the headers without the empty
//! line, `Content-Type: text` without a subtype ([`prepare`]).
//!
//! Hostile input is expected: the function never panics (no indexing or
//! slicing of outside data; mail-parser runs under `catch_unwind` as a last
//! guard), never uses anything from the message as a path, and caps what it
//! keeps.
//!
//! The seams: [`prepare`] (bytes made readable before and after the first
//! parse), [`headers`] (ids, dates, subject), [`participants`], [`body`]
//! (the text), [`html`] (HTML to text), [`attachments`], [`decode`]
//! (encoded-words, charsets, transfer encodings).
#![deny(clippy::string_slice, clippy::indexing_slicing)]

mod attachments;
mod body;
mod decode;
mod forward;
mod headers;
mod html;
mod invite;
mod participants;
mod prepare;
pub mod view;

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use mail_parser::{HeaderName, HeaderValue, MessageParser};
use sha2::{Digest, Sha256};

use crate::model::{ItemKind, Role};
use crate::store::{DateSource, NewItem};

pub use attachments::sanitize_attachment_name;
pub use decode::decode_encoded_words;
pub use forward::{CAPTURE_ID_DOMAIN, NOTE_SEPARATOR, is_forward_subject, normalized_subject, parse_captured};
pub use html::{html_to_text, sanitize as sanitize_html};

/// What the caller knows about a message besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct ParseHints {
    /// The file's modification time, used when neither `Date:` nor
    /// `Received:` gives a date.
    pub file_time: Option<DateTime<Utc>>,
}

/// Why a message could not be turned into an item.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("cannot parse an empty message")]
    Empty,
    #[error("cannot parse the message: {0}")]
    NotMail(String),
}

/// Most text a body keeps (bytes, cut on a char boundary).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Attachments larger than this are not kept as documents (their metadata is).
pub const MAX_DOCUMENT_BYTES: usize = 25 << 20;
/// Most attachments an item lists (all of them still count in the hash).
pub const MAX_ATTACHMENTS: usize = 1000;
/// Most references an item keeps.
pub const MAX_REFERENCES: usize = 200;
/// Longest Message-ID or reference kept (RFC 5322 line limit).
const MAX_ID_LEN: usize = 998;
/// Longest display name, subject or attachment name kept (chars).
const MAX_NAME_CHARS: usize = 255;
const MAX_SUBJECT_CHARS: usize = 2000;
/// Longest text of one encoded-word we decode (RFC 2047 allows 75 chars;
/// broken mailers write longer ones).
const MAX_ENCODED_WORD: usize = 1000;
/// Most participants an item keeps (a hostile To: can list millions).
pub const MAX_PARTICIPANTS: usize = 1000;
/// Longest header text we decode ourselves (bytes).
const MAX_DECODE_INPUT: usize = 64 * 1024;
/// Most documents kept whole from one message's attachments.
const MAX_DOCUMENTS: usize = 20;
/// Version tag of the canonical form hashed into `content_hash`. Changing
/// the canonical form changes every hash, so it must never change silently.
const HASH_DOMAIN: &[u8] = b"kronika-mail-v1";

/// Parses one message.
///
/// `raw` is the message as stored (LF or CRLF; blank lines and an mbox
/// `From ` line at the start are skipped, `>From ` unescaping is the
/// caller's job).
///
/// Errors: [`ParseError::Empty`] for empty or whitespace-only input,
/// [`ParseError::NotMail`] when the input carries none of the headers
/// `From`, `To`, `Date`, `Subject` or `Message-ID`. Anything else parses
/// as far as it goes.
pub fn parse(raw: &[u8], hints: &ParseHints) -> Result<NewItem, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    match catch_unwind(AssertUnwindSafe(|| parse_inner(raw, hints))) {
        Ok(result) => result,
        Err(_) => Err(ParseError::NotMail("the mail parser failed on this input".into())),
    }
}

fn parse_inner(raw: &[u8], hints: &ParseHints) -> Result<NewItem, ParseError> {
    let prepared = prepare::prepare(raw);
    let parser = MessageParser::default();
    let first = parser.parse(prepared.as_ref()).ok_or_else(|| ParseError::NotMail("no header found".into()))?;
    // A multipart message whose Content-Type lost its boundary, or a part
    // whose Content-Type has no subtype: repair the bytes and parse again.
    let repaired = prepare::repair(&first);
    let msg = match repaired.as_deref().and_then(|r| parser.parse(r)) {
        Some(m) => m,
        None => first,
    };

    let root = msg.parts.first().ok_or_else(|| ParseError::NotMail("no header found".into()))?;
    let has_mail_header = root.headers.iter().any(|h| {
        matches!(
            h.name,
            HeaderName::From | HeaderName::To | HeaderName::Date | HeaderName::Subject | HeaderName::MessageId
        )
    });
    if !has_mail_header {
        return Err(ParseError::NotMail("none of From, To, Date, Subject or Message-ID is present".into()));
    }
    let raw_msg: &[u8] = msg.raw_message.as_ref();
    let mut extra = serde_json::Map::new();

    // Identity and threading.
    let header_message_id = msg
        .header(HeaderName::MessageId)
        .and_then(HeaderValue::as_text_list)
        .and_then(|ids| ids.iter().find_map(|id| headers::clean_id(id)));
    let in_reply_to: Vec<String> = headers::id_list(msg.in_reply_to());
    let mut references = Vec::new();
    let mut seen_refs = HashSet::new();
    for id in in_reply_to.iter().cloned().chain(headers::id_list(msg.references()).into_iter().rev()) {
        if references.len() >= MAX_REFERENCES {
            break;
        }
        if Some(&id) != header_message_id.as_ref() && seen_refs.insert(id.clone()) {
            references.push(id);
        }
    }
    if let Some(first) = in_reply_to.first() {
        extra.insert("in_reply_to".into(), first.clone().into());
    }
    if let Some(list_id) =
        headers::raw_header_text(root, raw_msg, &HeaderName::ListId).and_then(|v| headers::list_id_of(&v))
    {
        extra.insert("list_id".into(), list_id.into());
    }

    // Date.
    let date_header = root.headers.iter().rev().find(|h| h.name == HeaderName::Date);
    let date_raw = date_header
        .map(|h| headers::unfold(&String::from_utf8_lossy(headers::slice(raw_msg, h.offset_start, h.offset_end))));
    let (date, date_source) = if let Some(d) = date_header.and_then(|h| h.value.as_datetime()).and_then(headers::to_utc)
    {
        (d, DateSource::Header)
    } else {
        if let Some(r) = &date_raw {
            extra.insert("date_raw".into(), r.clone().into());
        }
        if let Some(d) = headers::received_date(root, raw_msg) {
            (d, DateSource::Received)
        } else if let Some(t) = hints.file_time {
            (t, DateSource::File)
        } else {
            (Utc::now(), DateSource::Import)
        }
    };

    let subject = headers::subject_of(&msg, root, raw_msg);

    let participants = participants::participants_of(root);
    if participants.len() >= MAX_PARTICIPANTS {
        extra.insert("participants_truncated".into(), true.into());
    }

    let (full_body, body_from_attachments) = body::body_of(&msg);

    // Attachments.
    let mut attachments = Vec::new();
    let mut documents = Vec::new();
    let mut attachment_hashes = Vec::new();
    for &id in &msg.attachments {
        let Some(part) = msg.parts.get(id as usize) else { continue };
        if Some(id) == body_from_attachments {
            continue;
        }
        let Some((att, bytes)) = attachments::attachment_of(part, raw_msg, attachments.len() + 1) else {
            continue;
        };
        // Offers, invoices, contracts, orders: kept whole as documents.
        if crate::documents::candidate(&att.name, &att.mime)
            && bytes.len() <= MAX_DOCUMENT_BYTES
            && documents.len() < MAX_DOCUMENTS
        {
            documents.push(crate::documents::Blob {
                name: att.name.clone(),
                mime: att.mime.clone(),
                bytes: bytes.into_owned(),
                content_hash: att.content_hash.clone(),
            });
        }
        attachment_hashes.push(att.content_hash.clone());
        if attachments.len() < MAX_ATTACHMENTS {
            attachments.push(att);
        }
    }

    // A meeting invitation (iMIP): the events it creates, moves or cancels.
    let invitation = match invite::invitation_of(&msg, date) {
        Ok(Some(inv)) => {
            let mut uids: Vec<&str> = inv.occurrences.iter().map(|o| o.uid.as_str()).collect();
            uids.extend(inv.series.iter().map(|(u, _)| u.as_str()));
            uids.extend(inv.replies.iter().map(|r| r.uid.as_str()));
            uids.sort_unstable();
            uids.dedup();
            extra.insert("invitation".into(), serde_json::json!({"method": inv.method, "uids": uids}));
            Some(inv)
        }
        Ok(None) => None,
        Err(e) => {
            extra.insert("invitation_error".into(), e.into());
            None
        }
    };

    // Content hash over the canonical form.
    let mut hasher = CanonicalHasher::new();
    if let Some(id) = &header_message_id {
        hasher.field(b'M', id.as_bytes());
    }
    if let Some(d) = &date_raw {
        hasher.field(b'D', d.as_bytes());
    }
    for (tag, role) in [(b'F', Role::From), (b'T', Role::To), (b'C', Role::Cc)] {
        let mut joined = Vec::new();
        for p in participants.iter().filter(|p| p.role == role) {
            joined.extend_from_slice(p.name.as_deref().unwrap_or("").as_bytes());
            joined.push(0x1f);
            joined.extend_from_slice(p.address.as_bytes());
            joined.push(0x1e);
        }
        hasher.field(tag, &joined);
    }
    hasher.field(b'S', subject.as_bytes());
    hasher.field(b'B', full_body.as_bytes());
    for h in &attachment_hashes {
        hasher.field(b'A', h.as_bytes());
    }
    let content_hash = hasher.finish();

    let message_id = match header_message_id {
        Some(id) => id,
        None => {
            extra.insert("derived_message_id".into(), true.into());
            format!("{}@kronika.derived", content_hash.get(..32).unwrap_or(&content_hash))
        }
    };

    let (body, truncated) = body::truncate_on_char_boundary(full_body, MAX_BODY_BYTES);
    if truncated {
        extra.insert("body_truncated".into(), true.into());
    }
    // What the sender's signature says (phones, position), read here with
    // the rest of the message so the store only has to store it.
    let sender = participants.iter().find(|p| p.role == Role::From);
    let sender_name = sender.and_then(|p| p.name.as_deref()).and_then(crate::person::parse_display_name);
    let signature = crate::person::signature(&body, sender_name.as_ref());
    if !signature.phones.is_empty() || signature.position.is_some() {
        extra.insert("signature".into(), serde_json::to_value(&signature).unwrap_or_default());
    }

    Ok(NewItem {
        kind: ItemKind::Email,
        message_id: Some(message_id),
        references,
        date,
        date_source,
        subject,
        body,
        participants,
        attachments,
        content_hash,
        size: raw.len() as u64,
        extra: serde_json::Value::Object(extra),
        direction: None,
        note: None,
        documents,
        original: Some(raw.to_vec()),
        original_file: None,
        invitation,
    })
}

/// SHA-256 over tagged, length-prefixed fields, so that no value can run
/// into the next one.
struct CanonicalHasher(Sha256);

impl CanonicalHasher {
    fn new() -> Self {
        let mut h = Sha256::new();
        h.update(HASH_DOMAIN);
        CanonicalHasher(h)
    }

    fn field(&mut self, tag: u8, value: &[u8]) {
        self.0.update([0x00, tag]);
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
    }

    fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(super) fn hints() -> ParseHints {
        ParseHints { file_time: Some(Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap()) }
    }

    #[test]
    fn empty_and_not_mail() {
        assert_eq!(parse(b"", &hints()).unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b" \r\n\t\n", &hints()).unwrap_err(), ParseError::Empty);
        assert!(matches!(parse(b"just some text\nwithout headers\n", &hints()), Err(ParseError::NotMail(_))));
        assert!(matches!(parse(&[0u8, 159, 146, 150, 1, 2, 3], &hints()), Err(ParseError::NotMail(_))));
        assert!(matches!(parse(b"X-Foo: bar\n\nbody\n", &hints()), Err(ParseError::NotMail(_))));
        assert!(parse(b"Subject: hi\n\nbody\n", &hints()).is_ok());
    }

    #[test]
    fn references_parents_first_without_self_or_duplicates() {
        let raw = b"Message-ID: <self@x>\nIn-Reply-To: <p@x>\nReferences: <root@x> <mid@x> <p@x> <self@x>\n\nb\n";
        let item = parse(raw, &hints()).unwrap();
        assert_eq!(item.references, vec!["p@x", "mid@x", "root@x"]);
        assert_eq!(item.extra["in_reply_to"], "p@x");
    }

    #[test]
    fn dates_are_checked() {
        let d = |raw: &[u8]| {
            let item = parse(raw, &hints()).unwrap();
            (item.date.to_rfc3339(), item.date_source, item.extra.get("date_raw").cloned())
        };
        let (date, source, raw) = d(b"Date: Tue, 1 Sep 2026 10:00:00 +0200\nSubject: x\n\n");
        assert_eq!((date.as_str(), source, raw), ("2026-09-01T08:00:00+00:00", DateSource::Header, None));
        // 30 February and month 13 are not dates.
        let (date, source, raw) = d(b"Date: Mon, 30 Feb 2026 10:00:00 +0200\nSubject: x\n\n");
        assert_eq!((date.as_str(), source), ("2026-03-04T05:06:07+00:00", DateSource::File));
        assert_eq!(raw, Some(serde_json::json!("Mon, 30 Feb 2026 10:00:00 +0200")));
        let received = b"Received: from a by b; Thu, 15 Oct 2026 11:12:44 +0200\nReceived: from c by a; Thu, 15 Oct 2026 11:10:00 +0200\nDate: yesterday\nSubject: x\n\n";
        let (date, source, raw) = d(received);
        assert_eq!((date.as_str(), source), ("2026-10-15T09:12:44+00:00", DateSource::Received));
        assert_eq!(raw, Some(serde_json::json!("yesterday")));
        let item = parse(b"Subject: x\n\n", &ParseHints::default()).unwrap();
        assert_eq!(item.date_source, DateSource::Import);
        // Dates at the ends of the calendar: no panic, and years before 1900
        // or after 9999 are not dates.
        let (date, source, _) = d(b"Date: Fri, 31 Dec 9999 23:59:59 -2359\nSubject: x\n\n");
        assert_eq!((date.as_str(), source), ("+10000-01-01T23:58:59+00:00", DateSource::Header));
        for date in ["Sat, 1 Jan 1850 00:00:00 +2359", "31 Dec 1899 23:59 -2359"] {
            let raw = format!("Date: {date}\nSubject: x\n\n");
            let (_, source, _) = d(raw.as_bytes());
            assert_ne!(source, DateSource::Header, "{date}");
        }
    }

    #[test]
    fn hostile_headers_stay_cheap_and_capped() {
        let start = std::time::Instant::now();
        let junk = "=?a?Q?".repeat(200_000);
        let quotes = format!("{}x{}", "\"".repeat(100_000), "\"".repeat(100_000));
        let to: String = (0..5000).map(|i| format!("u{i}@x.cz, ")).collect();
        let raw = format!("Subject: {junk}\u{fffd}\nFrom: {quotes} <a@x.cz>\nTo: {to}\n\nbody\n");
        let item = parse(raw.as_bytes(), &hints()).unwrap();
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
        assert_eq!(item.participants.len(), MAX_PARTICIPANTS);
        assert_eq!(item.extra["participants_truncated"], true);
        assert!(item.subject.chars().count() <= MAX_SUBJECT_CHARS);
        assert!(decode_encoded_words(&junk).len() <= MAX_DECODE_INPUT);
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
    }

    #[test]
    fn eight_bit_headers_use_the_declared_or_czech_charset() {
        // "Žluťoučký" in iso-8859-2, declared.
        let mut raw = b"Subject: ".to_vec();
        raw.extend_from_slice(&encoding_rs::ISO_8859_2.encode("Žluťoučký kůň").0);
        raw.extend_from_slice(b"\nContent-Type: text/plain; charset=iso-8859-2\n\nx\n");
        assert_eq!(parse(&raw, &hints()).unwrap().subject, "Žluťoučký kůň");
        // Undeclared: windows-1250.
        let mut raw = b"Subject: ".to_vec();
        raw.extend_from_slice(&encoding_rs::WINDOWS_1250.encode("Šťastný žák").0);
        raw.extend_from_slice(b"\n\nx\n");
        assert_eq!(parse(&raw, &hints()).unwrap().subject, "Šťastný žák");
    }

    #[test]
    fn boundary_is_guessed_when_missing() {
        let raw = b"Subject: x\nContent-Type: multipart/mixed\n\npreamble\n--b1\nContent-Type: text/plain\n\nhello\n--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x\n--b1--\n";
        let item = parse(raw, &hints()).unwrap();
        assert_eq!(item.body, "hello");
        assert_eq!(item.attachments.len(), 1);
        assert_eq!(item.attachments[0].name, "a.pdf");
        assert_eq!(item.attachments[0].size, 6);
    }

    #[test]
    fn truncated_base64_body_keeps_what_it_has() {
        // "Dobrý den, toto je dlouhý text zprávy." cut in the middle, no end boundary.
        let raw = b"Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
                    Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n\
                    RG9icsO9IGRlbiwgdG90byBqZSBkbG91aA==";
        let item = parse(&raw[..raw.len() - 8], &hints()).unwrap();
        assert!(item.body.starts_with("Dobrý den, toto je"), "{:?}", item.body);
    }

    #[test]
    fn mbox_from_line_is_skipped() {
        let a =
            parse(b"From jana@x.cz Thu Jun  4 10:00:00 2026\nSubject: x\nFrom: a@b.cz\n\nbody\n", &hints()).unwrap();
        let b = parse(b"Subject: x\nFrom: a@b.cz\n\nbody\n", &hints()).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(a.participants.len(), 1);
    }

    #[test]
    fn hash_ignores_transport_but_not_content() {
        let lf = b"Received: from a by b; Thu, 15 Oct 2026 11:12:44 +0200\nFrom: A <a@x.cz>\nTo: b@y.cz\nSubject: S\nDate: Thu, 15 Oct 2026 11:00:00 +0200\n\nline 1\nline 2\n".to_vec();
        let crlf: Vec<u8> = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n").into_bytes();
        let mut imap = b"X-Status: RO\nStatus: O\nReceived: from z by y; Thu, 15 Oct 2026 11:13:00 +0200\n".to_vec();
        imap.extend_from_slice(&crlf);
        let h = |raw: &[u8]| parse(raw, &hints()).unwrap().content_hash;
        assert_eq!(h(&lf), h(&crlf));
        assert_eq!(h(&lf), h(&imap));
        let other_body = String::from_utf8(lf.clone()).unwrap().replace("line 2", "line 3");
        assert_ne!(h(&lf), h(other_body.as_bytes()));
        let derived = parse(&lf, &hints()).unwrap();
        assert_eq!(derived.message_id.unwrap(), format!("{}@kronika.derived", &derived.content_hash[..32]));
        assert_eq!(derived.extra["derived_message_id"], true);
    }

    #[test]
    fn participants_roles_order_and_dedup() {
        let raw = "From: \"Jana\" <Jana@X.cz>\nSender: jana@x.cz\nReply-To: Other <other@x.cz>\n\
                   To: 'b@y.cz' <b@y.cz>, B <B@Y.CZ>, Jana, undisclosed-recipients:;\nCc: Team: c@z.cz, d@z.cz;\nBcc: e@w.cz\nSubject: x\n\n";
        let item = parse(raw.as_bytes(), &hints()).unwrap();
        let got: Vec<(Role, Option<&str>, &str)> =
            item.participants.iter().map(|p| (p.role, p.name.as_deref(), p.address.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Role::From, Some("Jana"), "jana@x.cz"),
                (Role::ReplyTo, Some("Other"), "other@x.cz"),
                // The second copy of b@y.cz lends its name to the first.
                (Role::To, Some("B"), "b@y.cz"),
                (Role::To, Some("Jana"), ""),
                (Role::Cc, None, "c@z.cz"),
                (Role::Cc, None, "d@z.cz"),
                (Role::Bcc, None, "e@w.cz"),
            ]
        );
    }

    /// What Python's `email` package reads, kronika reads too.
    #[test]
    fn lenient_like_python() {
        let want = |raw: &[u8], what: &str| {
            let item = parse(raw, &hints()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(item.subject, "Nabídka", "{what}");
            assert_eq!(item.participants[0].address, "karel@acme.cz", "{what}");
            assert_eq!(item.body, "Dobrý den, posílám nabídku.", "{what}");
            item
        };
        let plain = "From: karel@acme.cz\nSubject: Nabídka\nContent-Type: text/plain; charset=utf-8\n\nDobrý den, posílám nabídku.\n";
        let base = want(plain.as_bytes(), "plain");
        // Leading blank and whitespace-only lines, LF or CRLF, with an mbox line.
        for prefix in
            ["\n", " \n", "\t \n\n   \n", "\r\n", "  \r\n\r\n", "\nFrom MAILER-DAEMON Thu Jun  4 10:00:00 2026\n"]
        {
            let item = want(format!("{prefix}{plain}").as_bytes(), &format!("{prefix:?}"));
            assert_eq!(item.content_hash, base.content_hash, "{prefix:?}");
        }
        // A subtype-less or broken Content-Type is text/plain.
        for ct in ["text", "TEXT", "text/", "text/plain/x", "", "/", "message", "foo"] {
            let raw = format!(
                "From: karel@acme.cz\nSubject: Nabídka\nContent-Type: {ct}; charset=utf-8\n\nDobrý den, posílám nabídku.\n"
            );
            let item = want(raw.as_bytes(), &format!("Content-Type: {ct}"));
            assert!(item.attachments.is_empty(), "{ct}: {:?}", item.attachments);
        }
        let raw = "From: karel@acme.cz\nSubject: Nabídka\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text\n\nDobrý den, posílám nabídku.\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=n.pdf\n\nJVBERi0x\n--b--\n";
        let item = want(raw.as_bytes(), "a part with Content-Type: text");
        assert_eq!(item.attachments.len(), 1);
        // The body right after the headers, without the empty line.
        let raw = "From: karel@acme.cz\nSubject: Nabídka\nContent-Type: text/plain;\n charset=utf-8\nDobrý den, posílám nabídku.\n";
        want(raw.as_bytes(), "no empty line");
        want(raw.replace('\n', "\r\n").as_bytes(), "no empty line, CRLF");
        let raw = "\n  \nFrom: karel@acme.cz\nSubject: Nabídka\nContent-Type: text\nDobrý den, posílám nabídku.";
        want(raw.as_bytes(), "all three at once");
    }
}
