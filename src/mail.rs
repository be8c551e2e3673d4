//! Mail parsing: raw RFC 5322 bytes → [`NewItem`]. Pure (no I/O).
//!
//! [`parse`] wraps `mail-parser` and turns its best-effort view of a message
//! into an item: Message-ID (derived from the content when missing),
//! references, a UTC date with its source, decoded subject and participants,
//! a readable text body (HTML converted to text), attachment metadata and a
//! content hash that is the same for every stored copy of one message.
//!
//! Hostile input is expected: the function never panics (mail-parser runs
//! under `catch_unwind` as a last guard), never uses anything from the
//! message as a path, and caps what it keeps.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::address::normalize;
use crate::model::{ItemKind, Participant, Role};
use crate::store::{Attachment, DateSource, NewItem};

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
/// Most attachments an item lists (all of them still count in the hash).
/// Attachments larger than this are not kept as documents (their metadata is).
pub const MAX_DOCUMENT_BYTES: usize = 25 << 20;

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
/// Version tag of the canonical form hashed into `content_hash`. Changing
/// the canonical form changes every hash, so it must never change silently.
const HASH_DOMAIN: &[u8] = b"kronika-mail-v1";

/// Parses one message.
///
/// `raw` is the message as stored (LF or CRLF; an mbox `From ` line at the
/// start is skipped, `>From ` unescaping is the caller's job).
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
    let prepared = prepare(raw);
    let parser = MessageParser::default();
    let first = parser.parse(prepared.as_ref()).ok_or_else(|| ParseError::NotMail("no header found".into()))?;
    // A multipart message whose Content-Type lost its boundary parameter:
    // guess the boundary from the body and parse again.
    let repaired = repair_missing_boundary(&first);
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
        .and_then(|ids| ids.iter().find_map(|id| clean_id(id)));
    let in_reply_to: Vec<String> = id_list(msg.in_reply_to());
    let mut references = Vec::new();
    let mut seen_refs = HashSet::new();
    for id in in_reply_to.iter().cloned().chain(id_list(msg.references()).into_iter().rev()) {
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
    if let Some(list_id) = raw_header_text(root, raw_msg, &HeaderName::ListId).and_then(|v| list_id_of(&v)) {
        extra.insert("list_id".into(), list_id.into());
    }

    // Date.
    let date_header = root.headers.iter().rev().find(|h| h.name == HeaderName::Date);
    let date_raw = date_header.map(|h| unfold(&String::from_utf8_lossy(slice(raw_msg, h.offset_start, h.offset_end))));
    let (date, date_source) = if let Some(d) = date_header.and_then(|h| h.value.as_datetime()).and_then(to_utc) {
        (d, DateSource::Header)
    } else {
        if let Some(r) = &date_raw {
            extra.insert("date_raw".into(), r.clone().into());
        }
        if let Some(d) = received_date(root, raw_msg) {
            (d, DateSource::Received)
        } else if let Some(t) = hints.file_time {
            (t, DateSource::File)
        } else {
            (Utc::now(), DateSource::Import)
        }
    };

    // Subject.
    let subject = subject_of(&msg, root, raw_msg);

    // Participants.
    let participants = participants_of(&msg);
    if participants.len() >= MAX_PARTICIPANTS {
        extra.insert("participants_truncated".into(), true.into());
    }

    // Body.
    let (full_body, body_from_attachments) = body_of(&msg);

    // Attachments.
    let mut attachments = Vec::new();
    let mut documents = Vec::new();
    let mut attachment_hashes = Vec::new();
    for &id in &msg.attachments {
        let Some(part) = msg.parts.get(id as usize) else { continue };
        if Some(id) == body_from_attachments {
            continue;
        }
        let Some((att, bytes)) = attachment_of(part, raw_msg, attachments.len() + 1) else {
            continue;
        };
        // Offers, invoices, contracts, orders: kept whole as documents.
        if crate::documents::candidate(&att.name, &att.mime)
            && bytes.len() <= MAX_DOCUMENT_BYTES
            && documents.len() < 20
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
            format!("{}@kronika.derived", &content_hash[..32])
        }
    };

    let (body, truncated) = truncate_on_char_boundary(full_body, MAX_BODY_BYTES);
    if truncated {
        extra.insert("body_truncated".into(), true.into());
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
    })
}

// ---------------------------------------------------------------------------
// Preparing the bytes
// ---------------------------------------------------------------------------

/// Skips an mbox `From ` separator line and turns 8-bit header lines that
/// are not UTF-8 into UTF-8 (mail-parser would make them U+FFFD). The
/// charset is the top-level `Content-Type` charset when it names an 8-bit
/// one, else windows-1250 (the usual one for Czech mail that forgot to say).
fn prepare(raw: &[u8]) -> Cow<'_, [u8]> {
    let mut raw = raw;
    if raw.starts_with(b"From ") {
        raw = match memchr_newline(raw) {
            Some(i) => &raw[i + 1..],
            None => raw,
        };
    }
    let header_end = header_block_end(raw);
    let header = &raw[..header_end];
    if header.is_ascii() || std::str::from_utf8(header).is_ok() {
        return Cow::Borrowed(raw);
    }
    let encoding = fallback_encoding(header);
    let mut out = Vec::with_capacity(raw.len() + 64);
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line.is_ascii() || std::str::from_utf8(line).is_ok() {
            out.extend_from_slice(line);
        } else {
            let (text, _) = encoding.decode_without_bom_handling(line);
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(&raw[header_end..]);
    Cow::Owned(out)
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Offset just past the blank line that ends the header block (or the
/// input's length when there is none).
fn header_block_end(raw: &[u8]) -> usize {
    let mut pos = 0;
    while pos < raw.len() {
        let line_end = match raw[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => return raw.len(),
        };
        let line = &raw[pos..line_end];
        if line == b"\n" || line == b"\r\n" {
            return line_end;
        }
        pos = line_end;
    }
    raw.len()
}

/// The charset to read 8-bit header bytes with (see [`prepare`]).
fn fallback_encoding(header: &[u8]) -> &'static encoding_rs::Encoding {
    let text = String::from_utf8_lossy(header);
    let lower = text.to_ascii_lowercase();
    let label = lower
        .split("\ncontent-type:")
        .nth(1)
        .or_else(|| lower.strip_prefix("content-type:"))
        .and_then(|ct| ct.split("charset=").nth(1))
        .map(|v| {
            v.trim_start_matches(['"', '\''])
                .split(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_string()
        });
    charset_or_default(label.as_deref())
}

/// An encoding_rs encoding for a MIME charset label, falling back to
/// windows-1250 for unknown, ASCII, UTF-8 and UTF-16 labels (which cannot
/// be what 8-bit bytes that are not UTF-8 mean).
fn charset_or_default(label: Option<&str>) -> &'static encoding_rs::Encoding {
    let fallback = encoding_rs::WINDOWS_1250;
    let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return fallback;
    };
    if label.eq_ignore_ascii_case("us-ascii") || label.eq_ignore_ascii_case("ascii") {
        return fallback;
    }
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        Some(e)
            if e != encoding_rs::UTF_8
                && e != encoding_rs::UTF_16LE
                && e != encoding_rs::UTF_16BE
                && e != encoding_rs::REPLACEMENT =>
        {
            e
        }
        _ => fallback,
    }
}

/// When the top-level part is `multipart/*` without a boundary, guesses the
/// boundary from the first `--x` line followed by a MIME header and returns
/// the message with `; boundary="x"` added to its Content-Type.
fn repair_missing_boundary(msg: &Message<'_>) -> Option<Vec<u8>> {
    let root = msg.parts.first()?;
    let ct = root.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart") || ct.attribute("boundary").is_some() {
        return None;
    }
    let raw: &[u8] = msg.raw_message.as_ref();
    let body = raw.get(root.offset_body as usize..)?;
    let boundary = guess_boundary(body)?;
    let header = root.headers.iter().rev().find(|h| h.name == HeaderName::ContentType)?;
    let value = raw.get(header.offset_start as usize..header.offset_end as usize)?;
    let mut value_len = value.len();
    while value_len > 0 && matches!(value[value_len - 1], b'\r' | b'\n' | b' ' | b'\t' | b';') {
        value_len -= 1;
    }
    let insert_at = header.offset_start as usize + value_len;
    let mut out = Vec::with_capacity(raw.len() + boundary.len() + 16);
    out.extend_from_slice(&raw[..insert_at]);
    out.extend_from_slice(b"; boundary=\"");
    out.extend_from_slice(boundary.as_bytes());
    out.push(b'"');
    out.extend_from_slice(&raw[insert_at..]);
    Some(out)
}

fn guess_boundary(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        let Some(candidate) = line.strip_prefix("--") else {
            continue;
        };
        let candidate = candidate.strip_suffix("--").unwrap_or(candidate);
        let valid = !candidate.is_empty()
            && candidate.len() <= 70
            && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
            && !candidate.ends_with(' ');
        let next_is_header = lines.peek().is_some_and(|next| {
            next.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.len() < 40 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
        });
        if valid && next_is_header {
            return Some(candidate.to_string());
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let (start, end) = (start as usize, end as usize);
    if start <= end { raw.get(start..end).unwrap_or(&[]) } else { &[] }
}

/// The raw value of the last header `name` of a part, unfolded.
fn raw_header_text(part: &MessagePart<'_>, raw: &[u8], name: &HeaderName<'_>) -> Option<String> {
    let h = part.headers.iter().rev().find(|h| &h.name == name)?;
    Some(unfold(&String::from_utf8_lossy(slice(raw, h.offset_start, h.offset_end))))
}

/// Unfolds a header value: line breaks and runs of whitespace become one
/// space, control characters go, the ends are trimmed.
fn unfold(s: &str) -> String {
    collapse_whitespace(s)
}

/// Collapses every run of whitespace (and control characters) to one
/// space and trims the ends.
fn collapse_whitespace(s: &str) -> String {
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
fn prefix_on_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

fn truncate_chars(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s,
    }
}

/// A Message-ID or reference without angle brackets and whitespace; `None`
/// when nothing usable is left.
fn clean_id(raw: &str) -> Option<String> {
    let id: String = raw.chars().filter(|c| !c.is_whitespace() && !c.is_control() && *c != '<' && *c != '>').collect();
    if id.is_empty() || id.len() > MAX_ID_LEN { None } else { Some(id) }
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    value.as_text_list().map(|ids| ids.iter().filter_map(|id| clean_id(id)).collect()).unwrap_or_default()
}

/// `Name <list.example.com>` → `list.example.com`.
fn list_id_of(value: &str) -> Option<String> {
    let id = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    };
    let id = id.trim();
    if id.is_empty() { None } else { Some(truncate_chars(id.to_string(), MAX_NAME_CHARS)) }
}

/// mail-parser's date → UTC, rejecting impossible fields (month 13, 30 Feb).
/// A leap second (`:60`) counts as `:59`.
fn to_utc(dt: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    if !(1..=12).contains(&dt.month) || dt.tz_hour > 23 || dt.tz_minute > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day))?;
    if !(1900..=9999).contains(&dt.year) {
        return None;
    }
    let second = if dt.second == 60 { 59 } else { dt.second };
    let naive = date.and_hms_opt(u32::from(dt.hour), u32::from(dt.minute), u32::from(second))?;
    let offset_secs =
        (i32::from(dt.tz_hour) * 3600 + i32::from(dt.tz_minute) * 60) * if dt.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(offset_secs)?;
    offset.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
}

/// The date of the newest (topmost) `Received:` header that has one.
fn received_date(root: &MessagePart<'_>, raw: &[u8]) -> Option<DateTime<Utc>> {
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

fn subject_of(msg: &Message<'_>, root: &MessagePart<'_>, raw: &[u8]) -> String {
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

/// Decodes RFC 2047 encoded-words anywhere in `s` (also ones glued to
/// other text or quotes), dropping whitespace between adjacent ones.
/// Unknown charsets fall back to UTF-8 when valid, else windows-1250.
pub fn decode_encoded_words(s: &str) -> Cow<'_, str> {
    let s = prefix_on_char_boundary(s, MAX_DECODE_INPUT);
    if !s.contains("=?") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut pending_ws = "";
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, consumed)) = rest.strip_prefix("=?").and_then(decode_one_word) {
            if !last_was_word {
                out.push_str(pending_ws);
            }
            pending_ws = "";
            out.push_str(&decoded);
            rest = &rest[consumed + 2..];
            last_was_word = true;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        if c.is_whitespace() {
            // Keep whitespace only when it is not between two encoded-words.
            let ws_end = rest.find(|ch: char| !ch.is_whitespace()).unwrap_or(rest.len());
            if last_was_word {
                pending_ws = &rest[..ws_end];
            } else {
                out.push_str(&rest[..ws_end]);
            }
            rest = &rest[ws_end..];
            continue;
        }
        if last_was_word {
            out.push_str(pending_ws);
            pending_ws = "";
        }
        last_was_word = false;
        out.push_str(&rest[..len]);
        rest = &rest[len..];
    }
    if !last_was_word {
        out.push_str(pending_ws);
    }
    Cow::Owned(out)
}

/// Decodes `charset?E?text?=` (the part after `=?`); returns the text and
/// how many bytes of `s` it used.
fn decode_one_word(s: &str) -> Option<(String, usize)> {
    // Searches stay within a short window, so that a long header full of
    // `=?` without an end costs linear time.
    let charset_end = s.bytes().take(41).position(|b| b == b'?')?;
    let charset = &s[..charset_end];
    let valid_charset = !charset.is_empty()
        && charset.len() <= 40
        && charset.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:*".contains(&b));
    if !valid_charset {
        return None;
    }
    let rest = &s[charset_end + 1..];
    let encoding = rest.as_bytes().first()?;
    if rest.as_bytes().get(1) != Some(&b'?') {
        return None;
    }
    let data_and_rest = &rest[2..];
    let window = data_and_rest.as_bytes();
    let window = &window[..window.len().min(MAX_ENCODED_WORD)];
    let data_end = window.windows(2).position(|w| w == b"?=")?;
    let data = &data_and_rest[..data_end];
    if data.contains(['\n', '\r']) {
        return None;
    }
    let bytes = match encoding {
        b'Q' | b'q' => decode_qp(data.replace('_', " ").as_bytes(), false),
        b'B' | b'b' => decode_base64_lenient(data.as_bytes()),
        _ => return None,
    };
    // RFC 2231 language suffix: `utf-8*cs`.
    let charset = charset.split('*').next().unwrap_or(charset);
    let consumed = charset_end + 1 + 2 + data_end + 2;
    Some((decode_charset(&bytes, Some(charset)), consumed))
}

/// Bytes in a MIME charset → text. Unknown or missing charsets: UTF-8 when
/// the bytes are valid UTF-8, else windows-1250.
fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    if let Some(cs) = charset.map(str::trim).filter(|c| !c.is_empty()) {
        let lower = cs.to_ascii_lowercase();
        if lower == "utf-8" || lower == "utf8" {
            return String::from_utf8_lossy(bytes).into_owned();
        }
        if let Some(decoder) = charset_decoder(cs.as_bytes()) {
            return decoder(bytes);
        }
        if let Some(enc) = encoding_rs::Encoding::for_label(cs.as_bytes()) {
            return enc.decode_without_bom_handling(bytes).0.into_owned();
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1250.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

// ---------------------------------------------------------------------------
// Participants
// ---------------------------------------------------------------------------

fn participants_of(msg: &Message<'_>) -> Vec<Participant> {
    let mut list = ParticipantList::default();
    let headers = &msg.parts[0].headers;
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
        match self.index.get(&key) {
            // The same person twice: keep the name the other copy had.
            Some(&i) => {
                if self.out[i].name.is_none() {
                    self.out[i].name = p.name;
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
fn clean_name(name: &str, address: &str) -> Option<String> {
    let decoded = decode_encoded_words(prefix_on_char_boundary(name, 4 * MAX_NAME_CHARS));
    let mut n = collapse_whitespace(&decoded);
    loop {
        let t = n.trim();
        let stripped = [('"', '"'), ('\'', '\''), ('<', '>')].iter().find_map(|&(a, b)| {
            (t.len() >= 2 && t.starts_with(a) && t.ends_with(b)).then(|| t[1..t.len() - 1].trim().to_string())
        });
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

// ---------------------------------------------------------------------------
// Body
// ---------------------------------------------------------------------------

/// The readable text of a message: every text/plain body part in order
/// (a part split around an inline image comes back whole); when there is
/// none (or only blank ones), the first HTML body part as text; when there
/// is none either, a damaged text part that mail-parser listed as an
/// attachment (a truncated base64 body), whose id is returned too.
fn body_of(msg: &Message<'_>) -> (String, Option<u32>) {
    let raw: &[u8] = msg.raw_message.as_ref();
    let mut texts: Vec<String> = Vec::new();
    let mut first_html: Option<&MessagePart<'_>> = None;
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else { continue };
        match &part.body {
            PartType::Text(_) => {
                let t = normalize_text(&part_text(part, raw));
                if !t.is_empty() {
                    texts.push(t);
                }
            }
            PartType::Html(_) if first_html.is_none() => first_html = Some(part),
            _ => {}
        }
    }
    if !texts.is_empty() {
        return (texts.join("\n\n"), None);
    }
    if first_html.is_none() {
        first_html = msg
            .html_body
            .iter()
            .filter_map(|&id| msg.parts.get(id as usize))
            .find(|p| matches!(p.body, PartType::Html(_)));
    }
    if let Some(part) = first_html {
        return (normalize_text(&html_to_text(&part_text(part, raw))), None);
    }
    let damaged = msg.attachments.iter().find_map(|&id| {
        let part = msg.parts.get(id as usize)?;
        let is_text_type = match part.content_type() {
            None => true,
            Some(ct) => {
                ct.ctype().eq_ignore_ascii_case("text")
                    && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain") || s.eq_ignore_ascii_case("html"))
            }
        };
        let is_attachment =
            part.attachment_name().is_some() || part.content_disposition().is_some_and(|d| d.is_attachment());
        (part.is_encoding_problem && is_text_type && !is_attachment && matches!(part.body, PartType::Text(_)))
            .then_some((id, part))
    });
    match damaged {
        Some((id, part)) => {
            let text = part_text(part, raw);
            let is_html =
                part.content_type().and_then(|ct| ct.subtype()).is_some_and(|s| s.eq_ignore_ascii_case("html"));
            let body = if is_html { normalize_text(&html_to_text(&text)) } else { normalize_text(&text) };
            (body, Some(id))
        }
        None => (String::new(), None),
    }
}

/// The decoded text of a text part. mail-parser's text is used unless it
/// could not decode the part (damaged encoding) or could not read its
/// charset (U+FFFD with an unknown or missing charset): then the part is
/// decoded again here, leniently.
fn part_text<'a>(part: &'a MessagePart<'a>, raw: &[u8]) -> Cow<'a, str> {
    let text: &str = match &part.body {
        PartType::Text(t) | PartType::Html(t) => t.as_ref(),
        _ => return Cow::Borrowed(""),
    };
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    let charset_known = charset.is_some_and(|c| {
        let l = c.trim().to_ascii_lowercase();
        l == "utf-8" || l == "utf8" || charset_decoder(c.as_bytes()).is_some()
    });
    let cte = transfer_encoding(part);
    let damaged = part.is_encoding_problem && matches!(cte.as_deref(), Some("base64" | "quoted-printable"));
    if damaged || (text.contains('\u{FFFD}') && !charset_known) {
        let bytes = decode_transfer(slice(raw, part.offset_body, part.offset_end), cte.as_deref());
        return Cow::Owned(decode_charset(&bytes, charset));
    }
    Cow::Borrowed(text)
}

fn transfer_encoding(part: &MessagePart<'_>) -> Option<String> {
    part.content_transfer_encoding().map(|s| s.trim().to_ascii_lowercase())
}

/// Plain text as kronika stores it: LF line ends, no control characters
/// but tab, no trailing whitespace on lines, no leading blank lines, no
/// trailing whitespace.
fn normalize_text(s: &str) -> String {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let mut out = String::with_capacity(s.len());
    let unified = s.replace("\r\n", "\n");
    for line in unified.split(['\n', '\r']) {
        let cleaned: String = line.chars().filter(|c| *c == '\t' || !c.is_control()).collect();
        let trimmed = cleaned.trim_end();
        if out.is_empty() && trimmed.is_empty() {
            continue;
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    let len = out.trim_end().len();
    out.truncate(len);
    out
}

fn truncate_on_char_boundary(mut s: String, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let cut = prefix_on_char_boundary(&s, max).len();
    s.truncate(cut);
    (s, true)
}

/// HTML → readable text: no tags, no `<style>`/`<script>`/`<title>`/
/// comments, entities decoded (`&nbsp;` as a plain space), block elements
/// on their own lines, table cells separated by tabs, list items as `- `.
pub fn html_to_text(html: &str) -> String {
    let mut out = TextOut::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    let mut pre_depth = 0usize;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let is_markup = matches!(next, Some(c) if c.is_ascii_alphabetic() || c == b'/' || c == b'!' || c == b'?');
        if !is_markup {
            i += 1;
            continue;
        }
        out.text(&html[text_start..i], pre_depth > 0);
        if html[i..].starts_with("<!--") {
            i = match html[i + 4..].find("-->") {
                Some(e) => i + 4 + e + 3,
                None => bytes.len(),
            };
            text_start = i;
            continue;
        }
        let end = tag_end(bytes, i + 1);
        let tag = &html[i + 1..end];
        i = (end + 1).min(bytes.len());
        text_start = i;
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let self_closing = tag.ends_with('/');
        match name.as_str() {
            "script" | "style" | "title" | "template" | "svg" | "xml" if !closing && !self_closing => {
                // Raw content up to the matching end tag, which is skipped too.
                i = find_end_tag(html, i, &name);
                text_start = i;
            }
            "br" => out.newline(1),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "ul" | "ol" | "dl" | "pre"
            | "hr" => {
                if name == "pre" {
                    pre_depth = if closing { pre_depth.saturating_sub(1) } else { pre_depth + 1 };
                }
                out.newline(2);
            }
            "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "dt" | "dd"
            | "address" | "center" | "form" | "fieldset" | "figure" | "figcaption" | "caption" | "tbody" | "thead"
            | "tfoot" | "body" | "html" => out.newline(1),
            "li" => {
                out.newline(1);
                if !closing {
                    out.raw("- ");
                }
            }
            "td" | "th" if !closing => out.cell(),
            _ => {}
        }
    }
    out.text(&html[text_start.min(bytes.len())..], pre_depth > 0);
    out.finish()
}

/// Index of the `>` that ends the tag starting at `from` (quotes respected),
/// or the input's length.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i,
            None => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Offset just past `</name ...>` at or after `from` (case-insensitive), or
/// the input's length when the element is never closed.
fn find_end_tag(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let needle_len = name.len() + 2;
    let mut i = from;
    while i + needle_len <= bytes.len() {
        if bytes[i] == b'<'
            && bytes[i + 1] == b'/'
            && bytes[i + 2..i + needle_len].eq_ignore_ascii_case(name.as_bytes())
            && !bytes.get(i + needle_len).is_some_and(|b| b.is_ascii_alphanumeric())
        {
            let end = tag_end(bytes, i + 1);
            return (end + 1).min(bytes.len());
        }
        i += 1;
    }
    bytes.len()
}

/// Builds the text of [`html_to_text`].
#[derive(Default)]
struct TextOut {
    out: String,
    pending_space: bool,
}

impl TextOut {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n') || self.out.ends_with('\t')
    }

    fn text(&mut self, raw: &str, pre: bool) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        for c in decoded.chars() {
            if pre {
                if c == '\n' {
                    self.newline(1);
                } else if c != '\r' {
                    self.out.push(if c == '\u{a0}' { ' ' } else { c });
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                self.pending_space = true;
                continue;
            }
            if self.pending_space && !self.at_line_start() {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.out.push(if c == '\u{a0}' { ' ' } else { c });
        }
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.pending_space = false;
    }

    /// Ends the line; `n == 2` leaves a blank line (a paragraph).
    fn newline(&mut self, n: usize) {
        self.pending_space = false;
        let len = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(len);
        if self.out.is_empty() {
            return;
        }
        let have = self.out.len() - self.out.trim_end_matches('\n').len();
        for _ in have..n {
            self.out.push('\n');
        }
    }

    fn cell(&mut self) {
        self.pending_space = false;
        if !self.at_line_start() {
            self.out.push('\t');
        }
    }

    fn finish(mut self) -> String {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
        self.out
    }
}

/// Decodes `&name;`, `&#123;` and `&#x1F;`; anything else stays as written.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let candidate = &rest[1..];
        let end = candidate
            .char_indices()
            .take(40)
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
            .filter(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        if let Some(end) = end
            && let Some(c) = decode_entity(&candidate[..end])
        {
            out.push(c);
            rest = &candidate[end + 1..];
            continue;
        }
        out.push('&');
        rest = candidate;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return match code {
            0 => None,
            // Windows-1252 code points written as numbers (`&#150;`).
            0x80..=0x9f => {
                let byte = [code as u8];
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte).0.chars().next()
            }
            _ => char::from_u32(code),
        };
    }
    if name.is_empty() || name.contains('#') {
        return None;
    }
    // mail-parser holds the full HTML5 entity table; ask it through its
    // token decoder, which echoes the input when it does not know a name.
    let token = format!("&{name};");
    let mut decoded = String::new();
    mail_parser::decoders::html::add_html_token(&mut decoded, token.as_bytes(), false);
    if decoded == token {
        return None;
    }
    let mut chars = decoded.chars();
    let c = chars.next()?;
    if chars.next().is_some() { None } else { Some(c) }
}

// ---------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------

/// Attachment metadata for one part mail-parser lists as an attachment;
/// `None` for parts that are not attachments to a reader (a nameless inline
/// image referenced from the HTML by Content-ID).
fn attachment_of<'p>(part: &'p MessagePart<'_>, raw: &[u8], number: usize) -> Option<(Attachment, Cow<'p, [u8]>)> {
    let name = part.attachment_name().and_then(sanitize_attachment_name);
    let is_attachment_disposition = part.content_disposition().is_some_and(|d| d.is_attachment());
    if matches!(part.body, PartType::InlineBinary(_) | PartType::Binary(_))
        && name.is_none()
        && !is_attachment_disposition
        && part.content_id().is_some()
    {
        return None;
    }
    let mime = mime_of(part);
    let cte = transfer_encoding(part);
    let bytes: Cow<'_, [u8]> = match &part.body {
        // mail-parser decoded base64 without trouble: its bytes are exact.
        PartType::Binary(b) | PartType::InlineBinary(b)
            if !part.is_encoding_problem && cte.as_deref() == Some("base64") =>
        {
            Cow::Borrowed(b.as_ref())
        }
        // Everything else comes from the raw bytes: text parts keep their
        // original charset, and damaged encodings are decoded leniently.
        _ => Cow::Owned(decode_transfer(slice(raw, part.offset_body, part.offset_end), cte.as_deref())),
    };
    let name = name.unwrap_or_else(|| match extension_for(&mime) {
        Some(ext) => format!("attachment-{number}.{ext}"),
        None => format!("attachment-{number}"),
    });
    let att = Attachment { name, mime, size: bytes.len() as u64, content_hash: hex::encode(Sha256::digest(&bytes)) };
    Some((att, bytes))
}

/// `type/subtype`, lower case; `application/octet-stream` when missing or
/// malformed; `message/rfc822` for a nested message without a type.
fn mime_of(part: &MessagePart<'_>) -> String {
    let valid = |s: &str| {
        !s.is_empty() && s.len() <= 127 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match part.content_type() {
        Some(ct) => {
            let t = ct.ctype().trim().to_ascii_lowercase();
            let sub = ct.subtype().map(|s| s.trim().to_ascii_lowercase());
            match sub {
                Some(s) if valid(&t) && valid(&s) => format!("{t}/{s}"),
                None if t == "text" => "text/plain".into(),
                _ => "application/octet-stream".into(),
            }
        }
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".into(),
        None => "application/octet-stream".into(),
    }
}

/// An attachment name as metadata: decoded, no directories (`/`, `\`, a
/// drive letter), no NUL or control characters, at most 255 chars; `None`
/// when nothing usable is left (`..`, empty).
pub fn sanitize_attachment_name(raw: &str) -> Option<String> {
    let decoded = decode_encoded_words(raw);
    let cleaned: String = decoded.chars().filter(|c| !c.is_control()).collect();
    let base = cleaned.rsplit(['/', '\\']).next().unwrap_or("");
    let base = match base.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &base[2..],
        _ => base,
    };
    let base = base.trim().trim_matches('.').trim();
    if base.is_empty() {
        return None;
    }
    Some(truncate_chars(base.to_string(), MAX_NAME_CHARS))
}

fn extension_for(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "application/pdf" => "pdf",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "image/tiff" => "tif",
        "image/bmp" => "bmp",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/calendar" => "ics",
        "text/vcard" | "text/x-vcard" => "vcf",
        "text/xml" | "application/xml" => "xml",
        "application/json" => "json",
        "message/rfc822" | "message/global" => "eml",
        "application/zip" | "application/x-zip-compressed" => "zip",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/rtf" | "text/rtf" => "rtf",
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => "p7s",
        "application/pgp-signature" => "asc",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        _ => return None,
    })
}

/// Transfer-decodes a part body from its raw bytes. Anything that is not
/// base64 travels as CRLF lines, so its line ends are made CRLF: the same
/// part stored with LF (Maildir) or CRLF (IMAP) gives the same bytes.
fn decode_transfer(bytes: &[u8], cte: Option<&str>) -> Vec<u8> {
    match cte {
        Some("base64") => decode_base64_lenient(bytes),
        Some("quoted-printable") => to_crlf(&decode_qp(bytes, true)),
        _ => to_crlf(bytes),
    }
}

fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Base64 that skips whitespace and other junk, stops at `=` padding or a
/// `--` boundary line, and keeps whatever whole bytes a truncated input
/// still holds.
fn decode_base64_lenient(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let mut at_line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if at_line_start && b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            break;
        }
        at_line_start = b == b'\n';
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                // Padding ends a group; more data may follow (concatenated
                // base64), so just flush what the group holds.
                flush_b64(&mut out, acc, n);
                acc = 0;
                n = 0;
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
        i += 1;
    }
    flush_b64(&mut out, acc, n);
    out
}

fn flush_b64(out: &mut Vec<u8>, acc: u32, n: u8) {
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
}

/// Quoted-printable; `soft_breaks` handles `=` at line ends (bodies, not
/// encoded-words). Malformed escapes stay as written.
fn decode_qp(bytes: &[u8], soft_breaks: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'=' {
            if soft_breaks {
                // `=` then optional trailing whitespace then a line end.
                let mut j = i + 1;
                while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                    j += 1;
                }
                if bytes.get(j) == Some(&b'\r') && bytes.get(j + 1) == Some(&b'\n') {
                    i = j + 2;
                    continue;
                }
                if bytes.get(j) == Some(&b'\n') {
                    i = j + 1;
                    continue;
                }
                if j == bytes.len() {
                    break;
                }
            }
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|&c| hex(c)), bytes.get(i + 2).and_then(|&c| hex(c)))
            {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// Content hash
// ---------------------------------------------------------------------------

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
mod tests {
    use super::*;

    fn hints() -> ParseHints {
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
    fn ids_are_cleaned() {
        assert_eq!(clean_id(" <abc@x.cz> "), Some("abc@x.cz".into()));
        assert_eq!(clean_id("<>"), None);
        assert_eq!(clean_id("a b@c"), Some("ab@c".into()));
        assert_eq!(list_id_of("TZB novinky <tzb.example.com>"), Some("tzb.example.com".into()));
        assert_eq!(list_id_of("plain.list.id"), Some("plain.list.id".into()));
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
    }

    #[test]
    fn encoded_words_even_when_broken() {
        assert_eq!(decode_encoded_words("=?utf-8?Q?Hor=C3=A1k?= =?utf-8?Q?_Karel?="), "Horák Karel");
        assert_eq!(decode_encoded_words("\"=?utf-8?Q?Hor=C3=A1k?=\""), "\"Horák\"");
        assert_eq!(decode_encoded_words("=?windows-1250?Q?P=F8=EDloha?= x"), "Příloha x");
        assert_eq!(decode_encoded_words("=?x-unknown?Q?P=F8=EDloha?="), "Příloha");
        assert_eq!(decode_encoded_words("=?utf-8?B?xb5sdcWl?="), "žluť");
        assert_eq!(decode_encoded_words("a =?broken"), "a =?broken");
        assert_eq!(decode_encoded_words("plain"), "plain");
    }

    #[test]
    fn non_ascii_addresses_do_not_panic() {
        assert_eq!(normalize("jiri@kávovary.cz").as_deref(), Some("jiri@xn--kvovary-hwa.cz"));
        assert_eq!(normalize("<Jiří@Kávovary.CZ>").as_deref(), Some("jiří@xn--kvovary-hwa.cz"));
        assert_eq!(normalize("mailto:a@b.cz").as_deref(), Some("a@b.cz"));
        assert_eq!(normalize("žž"), None);
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
        assert_eq!(prefix_on_char_boundary("žž", 3), "ž");
        assert!(decode_encoded_words(&junk).len() <= MAX_DECODE_INPUT);
        assert!(clean_name(&quotes, "").is_none_or(|n| n.chars().count() <= MAX_NAME_CHARS));
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "took {:?}", start.elapsed());
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("'jana@x.cz'", "jana@x.cz"), None);
        assert_eq!(clean_name("  \"Jana   Svobodová\" ", "jana@x.cz"), Some("Jana Svobodová".into()));
        assert_eq!(clean_name("\"\"", "jana@x.cz"), None);
    }

    #[test]
    fn attachment_names_are_metadata() {
        assert_eq!(sanitize_attachment_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize_attachment_name("C:\\x\\evil.exe").as_deref(), Some("evil.exe"));
        assert_eq!(sanitize_attachment_name("C:evil.exe").as_deref(), Some("evil.exe"));
        assert_eq!(sanitize_attachment_name("a\u{0}b\u{7}c.txt").as_deref(), Some("abc.txt"));
        assert_eq!(sanitize_attachment_name(".."), None);
        assert_eq!(sanitize_attachment_name("dir/"), None);
        assert_eq!(sanitize_attachment_name("=?utf-8?Q?nab=C3=ADdka.pdf?=").as_deref(), Some("nabídka.pdf"));
        assert_eq!(sanitize_attachment_name(&"x".repeat(600)).map(|n| n.chars().count()), Some(255));
        assert_eq!(extension_for("application/pdf"), Some("pdf"));
        assert_eq!(extension_for("application/x-unknown"), None);
    }

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><title>T</title><style type=\"text/css\">p{color:red}</style>\
                    <script language=\"js\">if (a < b) alert(1)</script></head><body>\
                    <!-- hidden --><h1>Nab&iacute;dka &amp; servis</h1><p>Dobr&yacute;&nbsp;den,<br>pane <b>Nov&aacute;ku</b></p>\
                    <table><tr><th>A</th><th>B</th></tr><tr><td>1&nbsp;200</td><td>x &lt; y</td></tr></table>\
                    <ul><li>jedna</li><li>dv&#283;</li></ul><p>a &unknown; b &#x10C;</p></body></html>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Nabídka & servis\n\nDobrý den,\npane Nováku\n\nA\tB\n1 200\tx < y\n\n- jedna\n- dvě\n\na &unknown; b Č"
        );
        assert_eq!(html_to_text("<style>never closed"), "");
        assert_eq!(html_to_text("a < b > c"), "a < b > c");
        assert_eq!(html_to_text("<p>x</p><pre>  keep\n  this</pre>"), "x\n\n  keep\n  this");
    }

    #[test]
    fn text_is_normalized() {
        assert_eq!(normalize_text("\u{feff}\r\n\r\nA  \r\nB\u{0}\tC \r\n\r\n \n"), "A\nB\tC");
        assert_eq!(normalize_text("a\rb"), "a\nb");
        let (s, cut) = truncate_on_char_boundary("ččč".to_string(), 3);
        assert_eq!((s.as_str(), cut), ("č", true));
    }

    #[test]
    fn transfer_decoding_is_lenient() {
        assert_eq!(decode_base64_lenient(b"SGVs\nbG8=\n"), b"Hello");
        assert_eq!(decode_base64_lenient(b"SGVsbG8gd29y"), b"Hello wor");
        assert_eq!(decode_base64_lenient(b"SGVsbG8gd2"), b"Hello w");
        assert_eq!(decode_base64_lenient(b"SGVs\n--boundary\nbG8="), b"Hel");
        assert_eq!(decode_qp(b"a=C3=A1=\nb\nc=ZZ=", true), "aáb\nc=ZZ".as_bytes());
        assert_eq!(decode_qp(b"a=\r\nb", true), b"ab");
        assert_eq!(to_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert_eq!(decode_transfer(b"x\ny", None), b"x\r\ny");
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
        assert_eq!(charset_or_default(Some("us-ascii")), encoding_rs::WINDOWS_1250);
        assert_eq!(charset_or_default(Some("utf-16")), encoding_rs::WINDOWS_1250);
        assert_eq!(charset_or_default(Some("iso-8859-2")), encoding_rs::ISO_8859_2);
    }

    #[test]
    fn boundary_is_guessed_when_missing() {
        let raw = b"Subject: x\nContent-Type: multipart/mixed\n\npreamble\n--b1\nContent-Type: text/plain\n\nhello\n--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x\n--b1--\n";
        let item = parse(raw, &hints()).unwrap();
        assert_eq!(item.body, "hello");
        assert_eq!(item.attachments.len(), 1);
        assert_eq!(item.attachments[0].name, "a.pdf");
        assert_eq!(item.attachments[0].size, 6);
        assert_eq!(guess_boundary(b"-- \nsig\n"), None);
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
}
