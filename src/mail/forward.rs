//! The capture mailbox: mail that colleagues Bcc or forward to an address
//! such as `crm@firma.cz`, so that kronika keeps it.
//!
//! [`parse_captured`] returns a Bcc'd message as [`parse`] does. A
//! forwarded message becomes the original: an attached `message/rfc822`,
//! or the header block that Outlook (desktop and OWA), Gmail, Apple Mail,
//! Thunderbird and Seznam.cz write above the original text, with Czech or
//! English labels, read from the text part or, when the text part has
//! none, from the HTML. A forward of a forward is unwrapped down to the
//! original. What the forwarder wrote above the forward is kept in
//! `extra["forward"]` and, after a separator line, at the end of the body.
//!
//! An original without a Message-ID (every inline forward) gets one
//! derived from its sender, its minute, its subject and its first words,
//! so that the same mail forwarded by two colleagues is one item; the
//! store recognises it beside a mailbox copy of the same mail by sender,
//! minute and [`normalized_subject`].
//!
//! Pure, and it never panics on outside data: a forward that cannot be
//! unwrapped is returned as received with `extra["capture"]["warning"]`.

use std::collections::HashSet;
use std::iter::Peekable;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::Chars;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Prague;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::body::{normalize_text, truncate_on_char_boundary};
use super::headers::{collapse_whitespace, prefix_on_char_boundary, truncate_chars};
use super::participants::clean_name;
use super::{MAX_BODY_BYTES, MAX_NAME_CHARS, MAX_PARTICIPANTS, MAX_SUBJECT_CHARS, ParseError, ParseHints};
use super::{html_to_text, parse, prepare};
use crate::address::normalize;
use crate::model::{Participant, Role};
use crate::store::{DateSource, NewItem};
use crate::text::fold;

/// The line between the original text and the forwarders' notes in the body.
pub const NOTE_SEPARATOR: &str = "---------- Poznámka k přeposlání / forwarding note ----------";
/// Where a Message-ID derived for a captured original ends.
pub const CAPTURE_ID_DOMAIN: &str = "kronika.capture";

/// Most forwards of forwards unwrapped.
const MAX_DEPTH: usize = 8;
/// Most lines of one header block.
const MAX_HEADER_LINES: usize = 40;
/// Longest header value read from a header block (bytes).
const MAX_HEADER_VALUE: usize = 16 * 1024;
/// Longest note kept from one forwarder (bytes).
const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Letters and digits at the start of the body that identify an original.
const BODY_KEY_CHARS: usize = 200;
/// Version tag of what a derived identity hashes; changing it changes
/// every derived Message-ID, so it must never change silently.
const CAPTURE_HASH_DOMAIN: &[u8] = b"kronika-capture-v1";

/// Subject prefixes of a forward: English, Czech (`PŘ`), French (`TR`),
/// German (`WG`).
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "př", "tr", "wg"];
/// Subject prefixes of a reply: a reply quoting an earlier mail is a
/// Bcc'd message, not a forward.
const REPLY_PREFIXES: &[&str] = &["re", "odp", "aw", "sv", "antw", "ref"];

/// Parses a message that arrived in a capture mailbox.
///
/// A Bcc'd message is returned as [`parse`] returns it. A forward is
/// returned as the original message: its sender, recipients (roles as
/// [`parse`] gives them), date and subject (forward prefixes removed), its
/// text followed by [`NOTE_SEPARATOR`] and the forwarders' notes. The
/// forwarder is not a participant. `extra` gains:
///
/// - `forward`: `{"by": forwarder's address, "name": their name (when
///   known), "note": what they wrote, "at": the forward's date}`, and
///   `via`: the same for each earlier forwarder of a forward of a forward;
/// - `capture`: `{"format": "rfc822" | "outlook" | "gmail" | "apple" |
///   "thunderbird" | "seznam", "derived_id": true when the original had no
///   Message-ID of its own}` (plus `attached_messages` when a forward
///   carried more than one);
/// - `date_raw` when the original's date could not be read (the forward's
///   date is used).
///
/// A message that looks forwarded (`Fwd:`, `FW:`, `PŘ:`, …) but has no
/// header block to unwrap is returned as received with
/// `extra["capture"] = {"unwrapped": false, "warning": …}`.
///
/// Errors are [`parse`]'s, for the message as received.
pub fn parse_captured(raw: &[u8], hints: &ParseHints) -> Result<NewItem, ParseError> {
    let outer = parse(raw, hints)?;
    let outcome = catch_unwind(AssertUnwindSafe(|| unwrap(raw, hints, &outer, 0)))
        .unwrap_or(Outcome::Failed("cannot unwrap the forward: the parser failed on it"));
    Ok(match outcome {
        Outcome::NotForward => outer,
        Outcome::Failed(warning) => with_warning(outer, warning),
        Outcome::Unwrapped(u) => finish(*u, raw.len()),
    })
}

/// A subject as the store compares captured mail with mailbox copies:
/// forward prefixes removed, whitespace collapsed, lower case, no accents.
pub fn normalized_subject(subject: &str) -> String {
    let s = prefix_on_char_boundary(subject, 4 * MAX_SUBJECT_CHARS);
    fold(&collapse_whitespace(strip_forward_prefixes(&collapse_whitespace(s))))
}

/// True when `subject` starts with a forward prefix (`Fwd:`, `FW:`, `PŘ:`…).
pub fn is_forward_subject(subject: &str) -> bool {
    strip_prefix_word(subject, FORWARD_PREFIXES).is_some() || bracketed_forward(subject).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Attached,
    Outlook,
    Gmail,
    Apple,
    Thunderbird,
    Seznam,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Attached => "rfc822",
            Format::Outlook => "outlook",
            Format::Gmail => "gmail",
            Format::Apple => "apple",
            Format::Thunderbird => "thunderbird",
            Format::Seznam => "seznam",
        }
    }
}

/// One forwarding step: who forwarded, when, and what they wrote.
#[derive(Debug)]
struct Level {
    by: String,
    name: Option<String>,
    at: DateTime<Utc>,
    note: String,
}

impl Level {
    fn of(forward: &NewItem, note: &str) -> Level {
        let from = forward.participants.iter().find(|p| p.role == Role::From);
        let by = match from {
            Some(p) if !p.address.is_empty() => p.address.clone(),
            Some(p) => p.name.clone().unwrap_or_default(),
            None => String::new(),
        };
        let name = from.and_then(|p| p.name.clone()).filter(|n| !n.is_empty());
        let (note, _) = truncate_on_char_boundary(normalize_text(note), MAX_NOTE_BYTES);
        Level { by, name, at: forward.date, note }
    }

    fn json(&self) -> Value {
        let mut m = Map::new();
        m.insert("by".into(), self.by.clone().into());
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        m.insert("note".into(), self.note.clone().into());
        m.insert("at".into(), self.at.to_rfc3339_opts(SecondsFormat::Secs, true).into());
        Value::Object(m)
    }
}

/// A forward taken apart.
#[derive(Debug)]
struct Unwrapped {
    /// The original as far as it is known (no identity yet for inline forwards).
    original: NewItem,
    /// Forwarding steps, the one that reached the capture mailbox first.
    levels: Vec<Level>,
    /// How the innermost original was found.
    format: Format,
    /// The original carried its own Message-ID (an attached message).
    has_id: bool,
    /// The original's date as written (empty when the header block has
    /// none), when it could not be read.
    date_raw: Option<String>,
    /// Messages attached to the outermost forward.
    attached_messages: usize,
}

#[derive(Debug)]
enum Outcome {
    NotForward,
    Unwrapped(Box<Unwrapped>),
    Failed(&'static str),
}

fn with_warning(mut item: NewItem, warning: &str) -> NewItem {
    if !item.extra.is_object() {
        item.extra = Value::Object(Map::new());
    }
    if let Some(extra) = item.extra.as_object_mut() {
        extra.insert("capture".into(), json!({ "unwrapped": false, "warning": warning }));
    }
    item
}

/// Unwraps `outer` (the parse of `raw`): an attached message first, then
/// an inline forward.
fn unwrap(raw: &[u8], hints: &ParseHints, outer: &NewItem, depth: usize) -> Outcome {
    let parts = Parts::of(raw);
    // An attached message is the forwarded one when the subject says so
    // (or repeats the attachment's, or is empty), and not in a delivery
    // report (a bounce quotes the mail it could not deliver).
    if let Some(inner_raw) = &parts.attached
        && !parts.report
        && let Ok(inner) = parse(inner_raw, hints)
        && (is_forward_subject(&outer.subject)
            || outer.subject.trim().is_empty()
            || normalized_subject(&outer.subject) == normalized_subject(&inner.subject))
    {
        let nested =
            if depth + 1 < MAX_DEPTH { unwrap(inner_raw, hints, &inner, depth + 1) } else { Outcome::NotForward };
        let mut u = match nested {
            Outcome::Unwrapped(u) => u,
            Outcome::NotForward | Outcome::Failed(_) => {
                let has_id = inner.extra.get("derived_message_id").is_none();
                // A date from Received: or the file is no date of the original.
                let date_raw = (inner.date_source != DateSource::Header)
                    .then(|| inner.extra.get("date_raw").and_then(Value::as_str).unwrap_or_default().to_string());
                Box::new(Unwrapped {
                    original: inner,
                    levels: Vec::new(),
                    format: Format::Attached,
                    has_id,
                    date_raw,
                    attached_messages: 0,
                })
            }
        };
        u.levels.insert(0, Level::of(outer, &outer.body));
        u.attached_messages = parts.attached_count;
        return Outcome::Unwrapped(u);
    }
    inline(outer, parts.html.as_deref(), depth)
}

/// What the MIME structure of a message offers besides [`parse`]'s view.
#[derive(Default)]
struct Parts {
    /// The first attached message, raw.
    attached: Option<Vec<u8>>,
    attached_count: usize,
    /// The HTML body, when there is also a text body (without one,
    /// [`parse`] already read the HTML).
    html: Option<String>,
    /// A delivery or read report (`multipart/report`).
    report: bool,
}

impl Parts {
    fn of(raw: &[u8]) -> Parts {
        let prepared = prepare::prepare(raw);
        let parser = MessageParser::default();
        let Some(first) = parser.parse(prepared.as_ref()) else { return Parts::default() };
        let repaired = prepare::repair(&first);
        let msg = match repaired.as_deref().and_then(|r| parser.parse(r)) {
            Some(m) => m,
            None => first,
        };
        let report = msg.parts.first().and_then(MimeHeaders::content_type).is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
        });
        let mut out = Parts { report, ..Parts::default() };
        for part in &msg.parts {
            if let PartType::Message(m) = &part.body {
                out.attached_count = out.attached_count.saturating_add(1);
                if out.attached.is_none() {
                    out.attached = Some(m.raw_message().to_vec());
                }
            }
        }
        let has_text = msg
            .text_body
            .iter()
            .filter_map(|&id| msg.parts.get(id as usize))
            .any(|p| matches!(&p.body, PartType::Text(t) if !t.trim().is_empty()));
        if has_text {
            out.html = msg.html_body.iter().filter_map(|&id| msg.parts.get(id as usize)).find_map(|p| match &p.body {
                PartType::Html(h) => Some(h.to_string()),
                _ => None,
            });
        }
        out
    }
}

/// An inline forward: the header block in the text (or the HTML).
fn inline(outer: &NewItem, html: Option<&str>, depth: usize) -> Outcome {
    let forward_subject = is_forward_subject(&outer.subject);
    let reply_subject = !forward_subject && strip_prefix_word(&outer.subject, REPLY_PREFIXES).is_some();
    // Outlook's and Seznam's markers also head quoted replies: they count
    // only under a forward's subject.
    let accept = |b: &Block| forward_subject || (b.forward_marker && !reply_subject);
    let mut block = find_block(&outer.body).filter(|b| accept(b));
    if block.is_none()
        && let Some(h) = html
    {
        block = find_block(&normalize_text(&html_to_text(h))).filter(|b| accept(b));
    }
    let Some(block) = block else {
        return if forward_subject {
            Outcome::Failed(
                "cannot find the forwarded message's header block (From:, Date:, Subject:); kept as received",
            )
        } else {
            Outcome::NotForward
        };
    };
    let mut levels = vec![Level::of(outer, &block.note)];
    let mut current = original_of(block, outer);
    // A forward of a forward: unwrap down to the original.
    for _ in depth..MAX_DEPTH {
        if !is_forward_subject(&current.item.subject) {
            break;
        }
        let Some(inner) = find_block(&current.item.body) else { break };
        levels.push(Level::of(&current.item, &inner.note));
        current = original_of(inner, &current.item);
    }
    Outcome::Unwrapped(Box::new(Unwrapped {
        original: current.item,
        levels,
        format: current.format,
        has_id: false,
        date_raw: current.date_raw,
        attached_messages: 0,
    }))
}

struct Original {
    item: NewItem,
    format: Format,
    date_raw: Option<String>,
}

/// The original that a header block heads; `parent` is the forward.
fn original_of(block: Block, parent: &NewItem) -> Original {
    let h = &block.headers;
    // Without a date that can be read, the forward's: never `Header`, so
    // the store does not look for a mailbox copy at that minute.
    let (date, date_source, date_raw) = match h.date.as_deref().and_then(forward_date) {
        Some(d) => (d, DateSource::Header, None),
        None => (
            parent.date,
            match parent.date_source {
                DateSource::Header => DateSource::Received,
                other => other,
            },
            Some(h.date.as_deref().map(|d| truncate_chars(collapse_whitespace(d), MAX_NAME_CHARS)).unwrap_or_default()),
        ),
    };
    let subject = match &h.subject {
        Some(s) => truncate_chars(collapse_whitespace(s), MAX_SUBJECT_CHARS),
        None => strip_forward_prefixes(&parent.subject).to_string(),
    };
    let item = NewItem {
        kind: parent.kind,
        message_id: None,
        references: Vec::new(),
        date,
        date_source,
        subject,
        body: block.body,
        participants: participants_of(h),
        attachments: parent.attachments.clone(),
        content_hash: String::new(),
        size: 0,
        extra: Value::Object(Map::new()),
        direction: None,
        note: None,
        documents: parent.documents.clone(),
        original: parent.original.clone(),
        original_file: None,
        invitation: parent.invitation.clone(),
    };
    Original { item, format: block.format, date_raw }
}

/// The unwrapped original as the item to store.
fn finish(u: Unwrapped, size: usize) -> NewItem {
    let mut item = u.original;
    item.subject = strip_forward_prefixes(&item.subject).to_string();
    let mut extra = match std::mem::take(&mut item.extra) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(raw) = u.date_raw.as_ref().filter(|r| !r.is_empty()) {
        extra.insert("date_raw".into(), raw.clone().into());
    }
    if !u.has_id {
        let hash = derived_hash(&item, u.date_raw.as_deref());
        item.message_id = Some(format!("{}@{CAPTURE_ID_DOMAIN}", hash.get(..32).unwrap_or(&hash)));
        item.content_hash = hash;
        extra.remove("derived_message_id");
    }
    if participants_truncated(&item.participants) {
        extra.insert("participants_truncated".into(), true.into());
    }
    let mut levels = u.levels.iter();
    let mut forward = levels.next().map(Level::json).unwrap_or_else(|| json!({}));
    let via: Vec<Value> = levels.map(Level::json).collect();
    if !via.is_empty()
        && let Some(f) = forward.as_object_mut()
    {
        f.insert("via".into(), via.into());
    }
    extra.insert("forward".into(), forward);
    let mut capture = Map::new();
    capture.insert("format".into(), u.format.as_str().into());
    capture.insert("derived_id".into(), (!u.has_id).into());
    if u.attached_messages > 1 {
        capture.insert("attached_messages".into(), u.attached_messages.into());
    }
    extra.insert("capture".into(), Value::Object(capture));

    // The notes are searchable with the original: after it, separated.
    let mut body = std::mem::take(&mut item.body);
    let notes: Vec<&Level> = u.levels.iter().filter(|l| !l.note.is_empty()).collect();
    if !notes.is_empty() {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(NOTE_SEPARATOR);
        for l in notes {
            body.push('\n');
            match &l.name {
                Some(n) if !l.by.is_empty() && *n != l.by => body.push_str(&format!("{n} <{}>:\n", l.by)),
                _ if !l.by.is_empty() => body.push_str(&format!("{}:\n", l.by)),
                _ => {}
            }
            body.push_str(&l.note);
            body.push('\n');
        }
        let len = body.trim_end().len();
        body.truncate(len);
    }
    let (body, truncated) = truncate_on_char_boundary(body, MAX_BODY_BYTES);
    if truncated {
        extra.insert("body_truncated".into(), true.into());
    }
    item.body = body;
    item.extra = Value::Object(extra);
    item.size = size as u64;
    item.direction = None;
    item.note = None;
    item
}

fn participants_truncated(p: &[Participant]) -> bool {
    p.len() >= MAX_PARTICIPANTS
}

/// The identity of an original without a Message-ID: its sender, its
/// minute (or its date as written, or nothing when the header block has
/// none: the forward's date differs between forwarders), its subject and
/// its first words. Hex SHA-256; the first 32 digits make the Message-ID.
fn derived_hash(item: &NewItem, date_raw: Option<&str>) -> String {
    let sender = item
        .participants
        .iter()
        .find(|p| p.role == Role::From)
        .map(|p| if p.address.is_empty() { fold(p.name.as_deref().unwrap_or("")) } else { p.address.clone() })
        .unwrap_or_default();
    let when = match date_raw {
        Some(raw) => fold(raw),
        None => item.date.format("%Y-%m-%dT%H:%MZ").to_string(),
    };
    let mut h = Sha256::new();
    h.update(CAPTURE_HASH_DOMAIN);
    for (tag, value) in [
        (b'F', sender.as_str()),
        (b'D', when.as_str()),
        (b'S', normalized_subject(&item.subject).as_str()),
        (b'B', body_key(&item.body).as_str()),
    ] {
        h.update([0x00, tag]);
        h.update((value.len() as u64).to_le_bytes());
        h.update(value.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The first letters and digits of a body, folded, without what clients
/// add in brackets (`<mailto:…>`, `[cid:image001.png]`): the same for an
/// original however it was forwarded.
fn body_key(body: &str) -> String {
    let text = fold(prefix_on_char_boundary(body, 32 * 1024));
    let mut out = String::new();
    let mut count = 0usize;
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '<' | '[' => depth = depth.saturating_add(1),
            '>' | ']' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => {
                out.push(c);
                count = count.saturating_add(1);
                if count >= BODY_KEY_CHARS {
                    break;
                }
            }
            _ => {}
        }
    }
    out
}

/// `subject` without a leading prefix from `words` (`Fwd:`, `FW[2]:`,
/// `PŘ :`), or `None`.
fn strip_prefix_word<'a>(subject: &'a str, words: &[&str]) -> Option<&'a str> {
    let t = subject.trim_start();
    let (head, rest) = t.split_once(':')?;
    let head = head.trim_end();
    if head.len() > 16 {
        return None;
    }
    let word: String = head.chars().take_while(|c| c.is_alphabetic()).collect();
    let tail: String = head.chars().skip(word.chars().count()).filter(|c| !c.is_whitespace()).collect();
    let counter = tail.is_empty()
        || ((tail.starts_with('[') && tail.ends_with(']')) || (tail.starts_with('(') && tail.ends_with(')')))
            && tail.chars().filter(|c| !matches!(c, '[' | ']' | '(' | ')')).all(|c| c.is_ascii_digit());
    (counter && words.contains(&word.to_lowercase().as_str())).then_some(rest)
}

/// Old Thunderbird's `[Fwd: Nabídka]` → `Nabídka`.
fn bracketed_forward(subject: &str) -> Option<&str> {
    let inner = subject.trim().strip_prefix('[')?.strip_suffix(']')?;
    strip_prefix_word(inner, FORWARD_PREFIXES)
}

/// `subject` without its forward prefixes (`FW: Fwd: Nabídka` → `Nabídka`,
/// `[Fwd: Nabídka]` → `Nabídka`).
fn strip_forward_prefixes(subject: &str) -> &str {
    let mut s = subject;
    while let Some(rest) = strip_prefix_word(s, FORWARD_PREFIXES).or_else(|| bracketed_forward(s)) {
        s = rest;
    }
    s.trim()
}

// ---------------------------------------------------------------------------
// Header blocks

/// A header field of a forward's header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    To,
    Cc,
    Bcc,
    Subject,
    /// A header kept by some clients that kronika does not use
    /// (`Reply-To:`, `Importance:`, `Attachments:`).
    Other,
}

fn field_of(label: &str) -> Option<Field> {
    let label = label.trim().trim_matches('*').trim();
    if label.is_empty() || label.len() > 24 {
        return None;
    }
    Some(match fold(label).as_str() {
        "from" | "od" | "von" | "de" => Field::From,
        "sent" | "date" | "datum" | "odeslano" | "gesendet" | "envoye" => Field::Date,
        "to" | "komu" | "an" | "a" => Field::To,
        "cc" | "kopie" => Field::Cc,
        "bcc" | "skryta kopie" => Field::Bcc,
        "subject" | "predmet" | "vec" | "betreff" | "objet" => Field::Subject,
        "reply-to" | "odpovedet" | "importance" | "dulezitost" | "attachments" | "prilohy" | "priority"
        | "priorita" | "sensitivity" | "citlivost" | "wichtigkeit" | "anlagen" => Field::Other,
        _ => return None,
    })
}

/// `From: Karel <karel@acme.cz>` (Gmail's `*From:* …` too) → the field and
/// its value.
fn header_line(line: &str) -> Option<(Field, &str)> {
    let (label, value) = line.trim_start().split_once(':')?;
    let field = field_of(label)?;
    Some((field, value.trim_start_matches('*').trim()))
}

/// A line that heads a forward: the format it belongs to, and whether it
/// says "forwarded" (Outlook's and Seznam's also head quoted replies).
fn marker_of(line: &str) -> Option<(Format, bool)> {
    let t = line.trim();
    if t.len() > 80 {
        return None;
    }
    if t.chars().count() >= 10 && t.chars().all(|c| c == '_') {
        // Outlook's rule above the header block.
        return Some((Format::Outlook, false));
    }
    let core = t.trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c == '*' || c.is_whitespace());
    Some(match fold(core).as_str() {
        "original message" | "puvodni zprava" | "ursprungliche nachricht" | "message d'origine" => {
            (Format::Outlook, false)
        }
        // Gmail's, or Thunderbird's when the block starts with the subject.
        "forwarded message" | "preposlana zprava" | "weitergeleitete nachricht" | "message transfere" => {
            (Format::Gmail, true)
        }
        "begin forwarded message:" | "zacatek preposlane zpravy:" | "zacatek preposlane zpravy" => {
            (Format::Apple, true)
        }
        "puvodni e-mail" | "puvodni email" => (Format::Seznam, false),
        _ => return None,
    })
}

/// The line without up to `max` levels of `>` quoting, and how many it had.
fn unquote(line: &str, max: usize) -> (usize, &str) {
    let mut rest = line;
    let mut depth = 0usize;
    while depth < max {
        match rest.trim_start().strip_prefix('>') {
            Some(r) => {
                rest = r;
                depth += 1;
            }
            None => break,
        }
    }
    if depth > 0 { (depth, rest.strip_prefix(' ').unwrap_or(rest)) } else { (0, rest) }
}

#[derive(Debug, Default)]
struct Headers {
    from: Option<String>,
    date: Option<String>,
    to: Option<String>,
    cc: Option<String>,
    bcc: Option<String>,
    subject: Option<String>,
    first: Option<Field>,
    /// The line after the block.
    end: usize,
}

impl Headers {
    fn slot(&mut self, field: Field) -> Option<&mut Option<String>> {
        match field {
            Field::From => Some(&mut self.from),
            Field::Date => Some(&mut self.date),
            Field::To => Some(&mut self.to),
            Field::Cc => Some(&mut self.cc),
            Field::Bcc => Some(&mut self.bcc),
            Field::Subject => Some(&mut self.subject),
            Field::Other => None,
        }
    }
}

/// A forward's header block found in a text.
#[derive(Debug)]
struct Block {
    format: Format,
    forward_marker: bool,
    /// What the forwarder wrote above it.
    note: String,
    headers: Headers,
    /// The original's text below it.
    body: String,
}

/// The first forward header block of `text` (LF line ends): after a
/// marker line (`-----Original Message-----`, `---------- Forwarded
/// message ---------`, `Begin forwarded message:`…), or Outlook's block
/// without one (`From:` followed by `Sent:`/`Date:` and `Subject:`/`To:`).
fn find_block(text: &str) -> Option<Block> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let (depth, rest) = unquote(line, usize::MAX);
        let (format, forward_marker, start, strict) = match marker_of(rest) {
            Some((f, m)) => (f, m, i.saturating_add(1), false),
            None if matches!(header_line(rest), Some((Field::From, _))) => (Format::Outlook, false, i, true),
            None => continue,
        };
        let Some(headers) = read_headers(&lines, start, depth) else { continue };
        if strict && !(headers.date.is_some() && (headers.subject.is_some() || headers.to.is_some())) {
            continue;
        }
        let format = match format {
            Format::Gmail if headers.first == Some(Field::Subject) => Format::Thunderbird,
            f => f,
        };
        let note = normalize_text(&lines.iter().take(i).copied().collect::<Vec<_>>().join("\n"));
        let body_lines: Vec<&str> = lines.iter().skip(headers.end).map(|l| unquote(l, depth).1).collect();
        let body = normalize_text(&body_lines.join("\n"));
        return Some(Block { format, forward_marker, note, headers, body });
    }
    None
}

/// The header block starting at line `start` (a blank line or two before
/// it are skipped); `None` unless it names the sender and a date or a
/// subject.
fn read_headers(lines: &[&str], start: usize, depth: usize) -> Option<Headers> {
    let blank = |j: usize| lines.get(j).is_some_and(|l| unquote(l, depth).1.trim().is_empty());
    let mut j = start;
    let mut skipped = 0;
    while blank(j) {
        skipped += 1;
        if skipped > 2 {
            return None;
        }
        j += 1;
    }
    let mut h = Headers::default();
    let mut last: Option<Field> = None;
    let mut count = 0;
    while let Some(line) = lines.get(j) {
        let rest = unquote(line, depth).1;
        if rest.trim().is_empty() || count >= MAX_HEADER_LINES {
            break;
        }
        if let Some((field, value)) = header_line(rest) {
            h.first.get_or_insert(field);
            if let Some(slot) = h.slot(field) {
                if slot.is_some() {
                    // A second `From:`: the next block, not this one.
                    break;
                }
                *slot = Some(prefix_on_char_boundary(value, MAX_HEADER_VALUE).to_string());
            }
            last = Some(field);
        } else {
            // A folded line, or an address list that goes on (`…,` or `…;`).
            // Gmail breaks `Name <` / `address>` over two lines.
            let folded = rest.starts_with([' ', '\t']);
            let goes_on =
                |v: &str| v.ends_with(',') || v.ends_with(';') || v.matches('<').count() > v.matches('>').count();
            let Some(slot) = last.and_then(|f| {
                let list = matches!(f, Field::From | Field::To | Field::Cc | Field::Bcc);
                h.slot(f).filter(|s| folded || (list && s.as_deref().is_some_and(goes_on)))
            }) else {
                if last == Some(Field::Other) && folded {
                    j += 1;
                    count += 1;
                    continue;
                }
                break;
            };
            if let Some(v) = slot.as_mut()
                && v.len() < MAX_HEADER_VALUE
            {
                v.push(' ');
                v.push_str(rest.trim());
            }
        }
        j += 1;
        count += 1;
    }
    h.end = j;
    (h.from.is_some() && (h.date.is_some() || h.subject.is_some())).then_some(h)
}

// ---------------------------------------------------------------------------
// Addresses

fn participants_of(h: &Headers) -> Vec<Participant> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (role, value) in [(Role::From, &h.from), (Role::To, &h.to), (Role::Cc, &h.cc), (Role::Bcc, &h.bcc)] {
        let Some(value) = value else { continue };
        for (name, address) in addresses(value) {
            if out.len() >= MAX_PARTICIPANTS {
                return out;
            }
            let key = if address.is_empty() {
                format!("name:{}", name.as_deref().unwrap_or("").to_lowercase())
            } else {
                address.clone()
            };
            if seen.insert((role, key)) {
                out.push(Participant { role, name, address });
            }
        }
    }
    out
}

/// The people of an address list as forward headers print them:
/// `Karel Horák <karel@acme.cz>`, `Karel Horák [mailto:karel@acme.cz]`,
/// `"Horák, Karel" <karel@acme.cz>`, `Horák, Karel <karel@acme.cz>`, bare
/// addresses, names alone; separated by `;` (Outlook) or `,`.
fn addresses(value: &str) -> Vec<(Option<String>, String)> {
    let value = prefix_on_char_boundary(value, MAX_HEADER_VALUE);
    let semicolons = split_top_level(value, ';').len() > 1;
    let sep = if semicolons { ';' } else { ',' };
    let mut out = Vec::new();
    let mut pending = String::new();
    for seg in split_top_level(value, sep) {
        if out.len() >= MAX_PARTICIPANTS {
            return out;
        }
        let seg = seg.trim();
        if seg.is_empty() {
            continue;
        }
        if !semicolons && !seg.contains('@') {
            // `Horák, Karel <karel@acme.cz>`: the comma was in the name.
            if !pending.is_empty() {
                pending.push_str(", ");
            }
            pending.push_str(seg);
            continue;
        }
        let joined =
            if pending.is_empty() { seg.to_string() } else { format!("{}, {seg}", std::mem::take(&mut pending)) };
        out.extend(one_address(&joined));
    }
    for name in pending.split(", ") {
        if out.len() >= MAX_PARTICIPANTS {
            break;
        }
        out.extend(one_address(name));
    }
    out
}

/// `value` split at `sep` outside quotes and brackets.
fn split_top_level(value: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' | '[' | '(' if !quoted => depth = depth.saturating_add(1),
            '>' | ']' | ')' if !quoted => depth = depth.saturating_sub(1),
            c if c == sep && !quoted && depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out
}

/// One person of an address list → (name, normalised address or empty).
fn one_address(seg: &str) -> Option<(Option<String>, String)> {
    let mut outside = String::new();
    let mut bracketed: Vec<String> = Vec::new();
    let mut comment: Option<String> = None;
    let mut current = String::new();
    let mut open = ' ';
    let mut depth = 0usize;
    let mut quoted = false;
    for c in seg.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                outside.push(c);
            }
            '<' | '[' | '(' if !quoted => {
                if depth == 0 {
                    open = c;
                    current.clear();
                } else {
                    current.push(c);
                }
                depth = depth.saturating_add(1);
            }
            '>' | ']' | ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    if open == '(' && !current.contains('@') {
                        comment = Some(std::mem::take(&mut current));
                    } else {
                        bracketed.push(std::mem::take(&mut current));
                    }
                } else {
                    current.push(c);
                }
            }
            _ if depth > 0 => current.push(c),
            _ => outside.push(c),
        }
    }
    if depth > 0 {
        // An unclosed `<`: what follows it is text.
        outside.push(' ');
        outside.push_str(&current);
    }
    let (address, mut name_text) = match bracketed.iter().rev().find_map(|b| email_in(b)) {
        Some((address, _)) => (address, outside),
        None => match email_in(&outside) {
            Some((address, token)) => {
                let rest = outside.replacen(&token, "", 1);
                (address, rest)
            }
            None => (String::new(), outside),
        },
    };
    let trimmed = name_text.trim().trim_matches('*').trim();
    let trimmed = trimmed.strip_suffix("mailto:").unwrap_or(trimmed).trim();
    name_text = trimmed.to_string();
    let mut name = clean_name(&name_text, &address).map(|n| n.trim_matches('*').trim().to_string());
    if name.as_deref().is_none_or(str::is_empty) {
        name = comment.and_then(|c| clean_name(&c, &address));
    }
    // A name has a letter or a digit (not `<<<`).
    let name = name.filter(|n| n.chars().any(char::is_alphanumeric));
    if address.is_empty() && name.is_none() {
        return None;
    }
    Some((name, address))
}

/// The first address in `s` (`mailto:` and quotes around it ignored):
/// the normalised address and the text it was found as.
fn email_in(s: &str) -> Option<(String, String)> {
    let address_char = |c: char| c.is_alphanumeric() || "._%+-'=!#$&*/?^`{|}~@".contains(c);
    s.split(|c: char| !address_char(c))
        .map(|t| t.trim_matches(|c: char| matches!(c, '\'' | '*' | '.' | '-' | '/' | '?' | '=')))
        .filter(|t| t.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty()))
        .find_map(|t| normalize(t).map(|a| (a, t.to_string())))
}

// ---------------------------------------------------------------------------
// Dates

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num {
        value: u32,
        digits: usize,
        sep: Option<char>,
    },
    Word(String),
    Time(u32, u32, Option<u32>),
    /// Minutes east of UTC.
    Offset(i32),
}

impl Tok {
    fn allows_offset(&self) -> bool {
        match self {
            Tok::Time(..) => true,
            Tok::Word(w) => zone_of(w).is_some() || w == "am" || w == "pm",
            _ => false,
        }
    }
}

fn read_number(it: &mut Peekable<Chars<'_>>) -> (u32, usize) {
    let mut value: u32 = 0;
    let mut digits = 0usize;
    while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
        it.next();
        value = value.saturating_mul(10).saturating_add(d);
        digits = digits.saturating_add(1);
    }
    (value, digits)
}

fn tokens(s: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_ascii_digit() {
            let (value, digits) = read_number(&mut it);
            if it.peek() == Some(&':') {
                it.next();
                if it.peek().is_some_and(char::is_ascii_digit) {
                    let (minute, _) = read_number(&mut it);
                    let mut second = None;
                    if it.peek() == Some(&':') {
                        it.next();
                        if it.peek().is_some_and(char::is_ascii_digit) {
                            second = Some(read_number(&mut it).0);
                        }
                    }
                    out.push(Tok::Time(value, minute, second));
                    continue;
                }
            }
            let sep = match it.peek() {
                Some(&c @ ('.' | '/' | '-')) => {
                    it.next();
                    Some(c)
                }
                _ => None,
            };
            out.push(Tok::Num { value, digits, sep });
        } else if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&c) = it.peek() {
                if !(c.is_alphabetic() || c == '.') || word.len() > 40 {
                    break;
                }
                if c != '.' {
                    word.push(c);
                }
                it.next();
            }
            out.push(Tok::Word(fold(&word)));
        } else if (c == '+' || c == '-') && out.last().is_some_and(Tok::allows_offset) {
            it.next();
            if it.peek().is_some_and(char::is_ascii_digit) {
                let (value, digits) = read_number(&mut it);
                let minutes = if digits <= 2 {
                    let mut m = value.saturating_mul(60);
                    if it.peek() == Some(&':') {
                        it.next();
                        m = m.saturating_add(read_number(&mut it).0);
                    }
                    m
                } else {
                    (value / 100).saturating_mul(60).saturating_add(value % 100)
                };
                if let Ok(m) = i32::try_from(minutes) {
                    out.push(Tok::Offset(if c == '-' { -m } else { m }));
                }
            }
        } else {
            it.next();
        }
    }
    out
}

fn month_of(word: &str) -> Option<u32> {
    Some(match word {
        "january" | "jan" | "ledna" | "leden" | "januar" => 1,
        "february" | "feb" | "unora" | "unor" | "februar" => 2,
        "march" | "mar" | "brezna" | "brezen" | "marz" => 3,
        "april" | "apr" | "dubna" | "duben" => 4,
        "may" | "kvetna" | "kveten" | "mai" => 5,
        "june" | "jun" | "cervna" | "cerven" | "juni" => 6,
        "july" | "jul" | "cervence" | "cervenec" | "juli" => 7,
        "august" | "aug" | "srpna" | "srpen" => 8,
        "september" | "sep" | "sept" | "zari" => 9,
        "october" | "oct" | "rijna" | "rijen" | "oktober" | "okt" => 10,
        "november" | "nov" | "listopadu" | "listopad" => 11,
        "december" | "dec" | "prosince" | "prosinec" | "dezember" | "dez" => 12,
        _ => return None,
    })
}

/// Minutes east of UTC of a zone name (folded: `SEČ` is `sec`).
fn zone_of(word: &str) -> Option<i32> {
    Some(match word {
        // Not `ut`: that is `út` (Tuesday) folded.
        "gmt" | "utc" => 0,
        "cet" | "sec" | "mez" | "bst" => 60,
        "cest" | "selc" | "mesz" => 120,
        "edt" => -240,
        "est" | "cdt" => -300,
        "cst" | "mdt" => -360,
        "mst" | "pdt" => -420,
        "pst" => -480,
        _ => return None,
    })
}

/// A date as forward header blocks write it, in UTC: RFC 2822
/// (`Fri, 27 Nov 2026 10:15:33 +0100`), Outlook's and Gmail's
/// (`Friday, November 27, 2026 10:15 AM`, `Fri, Nov 27, 2026 at 10:15 AM`,
/// `pátek 27. listopadu 2026 10:15`, `pá 27. 11. 2026 v 10:15`), Apple
/// Mail's (`27. listopadu 2026 v 10:15:33 SEČ`, `27 November 2026 at
/// 10:15:33 CET`), Seznam's (`27. 11. 2026 10:15:33`), ISO. Without a zone
/// the time is Europe/Prague's. Weekdays are not checked.
fn forward_date(s: &str) -> Option<DateTime<Utc>> {
    let toks = tokens(prefix_on_char_boundary(s.trim(), 200));
    let mut time: Option<(u32, u32, u32)> = None;
    let mut pm: Option<bool> = None;
    let mut month_name: Option<u32> = None;
    let mut nums: Vec<(u32, usize, Option<char>)> = Vec::new();
    let mut offset: Option<i32> = None;
    let mut zone: Option<i32> = None;
    for t in &toks {
        match t {
            Tok::Time(h, m, s) => {
                if time.is_none() {
                    time = Some((*h, *m, s.unwrap_or(0)));
                }
            }
            Tok::Word(w) => {
                if let Some(m) = month_of(w) {
                    month_name.get_or_insert(m);
                } else if let Some(z) = zone_of(w) {
                    zone = Some(z);
                } else if matches!(w.as_str(), "am" | "dop" | "dopoledne") {
                    pm = Some(false);
                } else if matches!(w.as_str(), "pm" | "odp" | "odpoledne") {
                    pm = Some(true);
                }
            }
            Tok::Offset(o) => offset = Some(*o),
            Tok::Num { value, digits, sep } => nums.push((*value, *digits, *sep)),
        }
    }
    let (hour, minute, second) = time?;
    let (year, month, day) = match month_name {
        Some(month) => {
            let day = nums.iter().find(|n| n.1 <= 2 && (1..=31).contains(&n.0))?.0;
            let year = nums.iter().find(|n| n.1 == 4)?.0;
            (year, month, day)
        }
        None => {
            let mut it = nums.iter();
            let (a, b, c) = (it.next()?, it.next()?, it.next()?);
            if a.1 == 4 {
                (a.0, b.0, c.0)
            } else {
                let year = match c.1 {
                    4 => c.0,
                    2 => c.0.checked_add(2000)?,
                    _ => return None,
                };
                // 11/27/2026 (en-US) or 27/11/2026 (en-GB): the number
                // above 12 decides, else a 12-hour clock means US.
                let us = a.2 == Some('/') && (b.0 > 12 || (a.0 <= 12 && pm.is_some()));
                if us { (year, a.0, b.0) } else { (year, b.0, a.0) }
            }
        }
    };
    let hour = match pm {
        Some(true) if hour < 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        _ => hour,
    };
    let second = if second == 60 { 59 } else { second };
    if !(1900..=9999).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let naive = date.and_hms_opt(hour, minute, second)?;
    match offset.or(zone) {
        Some(minutes) => {
            let offset = FixedOffset::east_opt(minutes.checked_mul(60)?)?;
            offset.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc))
        }
        None => prague(naive),
    }
}

/// A Prague wall-clock time in UTC (the earlier of an autumn hour that
/// happens twice; the hour after a spring gap).
fn prague(naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    match Prague.from_local_datetime(&naive) {
        LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => Some(d.with_timezone(&Utc)),
        LocalResult::None => {
            let later = naive.checked_add_signed(TimeDelta::hours(1))?;
            Prague.from_local_datetime(&later).earliest().map(|d| d.with_timezone(&Utc))
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_as_clients_write_them() {
        let winter = utc("2026-11-27T09:15:00Z");
        for s in [
            "27. 11. 2026 10:15",
            "pá 27. 11. 2026 v 10:15",
            "čtvrtek 27. listopadu 2026 10:15",
            "pátek 27. listopadu 2026 10:15",
            "Friday, November 27, 2026 10:15 AM",
            "Fri, Nov 27, 2026 at 10:15 AM",
            "27 November 2026 at 10:15",
            "Fri, 27 Nov 2026 10:15:00 +0100",
            "Fri, 27 Nov 2026 09:15:00 GMT",
            "2026-11-27 10:15",
            "11/27/2026 10:15 AM",
            "27/11/2026 10:15",
            "27.11.26 10:15",
            "November 27, 2026 at 10:15:00 AM GMT+1",
        ] {
            assert_eq!(forward_date(s), Some(winter), "{s}");
        }
        assert_eq!(forward_date("27. listopadu 2026 v 10:15:33 SEČ"), Some(utc("2026-11-27T09:15:33Z")));
        assert_eq!(forward_date("Friday, November 27, 2026 2:40 PM"), Some(utc("2026-11-27T13:40:00Z")));
        assert_eq!(forward_date("Friday, November 27, 2026 12:05 AM"), Some(utc("2026-11-26T23:05:00Z")));
        // Summer time in Prague; an explicit zone wins.
        assert_eq!(forward_date("1. 7. 2026 10:15"), Some(utc("2026-07-01T08:15:00Z")));
        assert_eq!(forward_date("1. července 2026 v 10:15:00 SELČ"), Some(utc("2026-07-01T08:15:00Z")));
        assert_eq!(forward_date("Wed, 1 Jul 2026 10:15:00 -0500"), Some(utc("2026-07-01T15:15:00Z")));
        // The spring gap and the autumn repeat.
        assert_eq!(forward_date("29. 3. 2026 2:30"), Some(utc("2026-03-29T01:30:00Z")));
        assert_eq!(forward_date("25. 10. 2026 2:30"), Some(utc("2026-10-25T00:30:00Z")));
        for bad in [
            "",
            "yesterday",
            "27. 11. 2026",
            "31. 2. 2026 10:00",
            "27. 13. 2026 10:00",
            "1. 1. 99999 10:00",
            "27. 11. 2026 25:00",
            "27. 11. 2026 10:61",
            "Fri, 27 Nov 2026 10:15 +9999",
            "99999999999999999999:99999999999999 +99999999999999999",
        ] {
            assert_eq!(forward_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn addresses_in_every_form() {
        let one = |s: &str| addresses(s);
        let pair = |n: Option<&str>, a: &str| (n.map(str::to_string), a.to_string());
        assert_eq!(one("Karel Horák <karel@acme.cz>"), vec![pair(Some("Karel Horák"), "karel@acme.cz")]);
        assert_eq!(one("Karel Horák [mailto:Karel@Acme.cz]"), vec![pair(Some("Karel Horák"), "karel@acme.cz")]);
        assert_eq!(one("\"Horák, Karel\" <karel@acme.cz>"), vec![pair(Some("Horák, Karel"), "karel@acme.cz")]);
        assert_eq!(one("karel@acme.cz"), vec![pair(None, "karel@acme.cz")]);
        assert_eq!(one("<karel@acme.cz>"), vec![pair(None, "karel@acme.cz")]);
        assert_eq!(one("*Karel Horák* <karel@acme.cz>"), vec![pair(Some("Karel Horák"), "karel@acme.cz")]);
        assert_eq!(
            one("Karel Horák <karel@acme.cz<mailto:karel@acme.cz>>"),
            vec![pair(Some("Karel Horák"), "karel@acme.cz")]
        );
        assert_eq!(one("karel@acme.cz (Karel Horák)"), vec![pair(Some("Karel Horák"), "karel@acme.cz")]);
        assert_eq!(
            one("Horák, Karel <karel@acme.cz>, Malá, Lucie <lucie@acme.cz>, x@y.cz"),
            vec![
                pair(Some("Horák, Karel"), "karel@acme.cz"),
                pair(Some("Malá, Lucie"), "lucie@acme.cz"),
                pair(None, "x@y.cz")
            ]
        );
        assert_eq!(
            one("Horák, Karel; Jana Svobodová <jana@mk.cz>; 'petr@mk.cz'"),
            vec![pair(Some("Horák, Karel"), ""), pair(Some("Jana Svobodová"), "jana@mk.cz"), pair(None, "petr@mk.cz")]
        );
        assert!(one("").is_empty());
        assert!(one(" ; , ").is_empty());
        assert_eq!(one("<<<<"), vec![]);
    }

    #[test]
    fn forward_prefixes() {
        assert_eq!(strip_forward_prefixes("FW: Fwd: PŘ: TR: WG: Fw[2]: Nabídka"), "Nabídka");
        assert_eq!(strip_forward_prefixes("Re: Nabídka"), "Re: Nabídka");
        assert_eq!(strip_forward_prefixes("Přeposílám: nabídka"), "Přeposílám: nabídka");
        assert_eq!(strip_forward_prefixes("Fwd:"), "");
        assert_eq!(strip_forward_prefixes("[Fwd: Nabídka]"), "Nabídka");
        assert_eq!(strip_forward_prefixes("[Fwd: [PŘ: x]]"), "x");
        assert_eq!(strip_forward_prefixes("[Interní] Nabídka"), "[Interní] Nabídka");
        assert!(is_forward_subject(" př : x"));
        assert!(!is_forward_subject("Fwdx: x"));
        assert_eq!(normalized_subject("FW:  Poptávka   REKUPERACE "), "poptavka rekuperace");
    }

    #[test]
    fn blocks_and_markers() {
        let text = "Posílám dál.\n\n-----Original Message-----\nFrom: Karel <karel@acme.cz>\nSent: Friday, November 27, 2026 10:15 AM\nTo: a@b.cz;\n c@d.cz\nSubject: Nabídka\n\nDobrý den,\nposílám.";
        let b = find_block(text).unwrap();
        assert_eq!(b.note, "Posílám dál.");
        assert_eq!(b.headers.to.as_deref(), Some("a@b.cz; c@d.cz"));
        assert_eq!(b.body, "Dobrý den,\nposílám.");
        assert!(!b.forward_marker);
        // Quoted, Thunderbird's order.
        let text = "> -------- Forwarded Message --------\n> Subject: \tX\n> Date: \tFri, 27 Nov 2026 10:15:33 +0100\n> From: \tK <k@a.cz>\n>\n> body\n";
        let b = find_block(text).unwrap();
        assert_eq!((b.format, b.body.as_str()), (Format::Thunderbird, "body"));
        // A From: line alone is not a block; nor a marker without headers.
        assert!(find_block("From: me\nhello\n").is_none());
        assert!(find_block("---------- Forwarded message ---------\nhello\n").is_none());
        assert!(find_block("From: k@a.cz\nSubject: x\n\nbody").is_none(), "no marker needs a date");
    }

    fn hints() -> ParseHints {
        ParseHints { file_time: Some(utc("2026-12-31T12:00:00Z")) }
    }

    const GMAIL_BLOCK: &str = "---------- Forwarded message ---------<br>From: Karel &lt;karel@acme.cz&gt;<br>\
        Date: Fri, Nov 27, 2026 at 10:15 AM<br>Subject: Nabídka<br>To: &lt;jana@mk.cz&gt;<br><br><p>Dobrý den, nabídka.</p>";

    #[test]
    fn the_html_is_read_when_the_text_part_has_no_header_block() {
        let raw = format!(
            "From: jana@mk.cz\nTo: crm@mk.cz\nSubject: Fwd: Nabídka\nDate: Fri, 27 Nov 2026 12:00:00 +0100\n\
             Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
             Viz níže.\n--b\nContent-Type: text/html; charset=utf-8\n\n<p>Viz níže.</p>{GMAIL_BLOCK}\n--b--\n"
        );
        let item = parse_captured(raw.as_bytes(), &hints()).unwrap();
        assert_eq!(item.extra["capture"]["format"], "gmail");
        assert_eq!(item.participants[0].address, "karel@acme.cz");
        assert_eq!(item.subject, "Nabídka");
        assert!(item.body.starts_with("Dobrý den, nabídka."), "{}", item.body);
        assert_eq!(item.extra["forward"]["note"], "Viz níže.");
    }

    #[test]
    fn attached_messages_are_forwards_only_when_the_mail_says_so() {
        let inner = "Message-ID: <orig@acme.cz>\nFrom: karel@acme.cz\nTo: jana@mk.cz\nSubject: Nabídka\n\
                     Date: Fri, 27 Nov 2026 10:15:00 +0100\n\nText nabídky.\n";
        let with = |headers: &str| {
            format!(
                "From: jana@mk.cz\nDate: Fri, 27 Nov 2026 12:00:00 +0100\n{headers}\n\
                 --b\nContent-Type: text/plain\n\nPoznámka.\n--b\nContent-Type: message/rfc822\n\n{inner}\n--b--\n"
            )
        };
        let mixed = "Content-Type: multipart/mixed; boundary=b";
        for subject in ["FW: Nabídka", "Nabídka", "", "[Fwd: Nabídka]"] {
            let raw = with(&format!("Subject: {subject}\n{mixed}"));
            let item = parse_captured(raw.as_bytes(), &hints()).unwrap();
            assert_eq!(item.message_id.as_deref(), Some("orig@acme.cz"), "{subject:?}");
            assert_eq!(item.extra["forward"]["note"], "Poznámka.", "{subject:?}");
        }
        // A mail of our own that attaches another, and a bounce: as received.
        let raw = with(&format!("Subject: Podklady k jednání\nTo: karel@acme.cz\n{mixed}"));
        let item = parse_captured(raw.as_bytes(), &hints()).unwrap();
        assert_eq!(item.subject, "Podklady k jednání");
        assert!(item.extra.get("forward").is_none());
        let raw = with(
            "Subject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=b",
        );
        assert!(parse_captured(raw.as_bytes(), &hints()).unwrap().extra.get("forward").is_none());
    }

    #[test]
    fn a_header_block_without_a_date_is_dated_by_the_forward_and_identified_without_it() {
        let forward = |date: &str, by: &str| {
            format!(
                "From: {by}\nTo: crm@mk.cz\nSubject: Fwd: Nabídka\nDate: {date}\n\n\
                 -------- Forwarded Message --------\nSubject: Nabídka\nFrom: karel@acme.cz\n\nText nabídky.\n"
            )
        };
        let a = parse_captured(forward("Fri, 27 Nov 2026 12:00:00 +0100", "jana@mk.cz").as_bytes(), &hints()).unwrap();
        let b = parse_captured(forward("Mon, 30 Nov 2026 08:00:00 +0100", "petr@mk.cz").as_bytes(), &hints()).unwrap();
        assert_eq!(a.date_source, DateSource::Received);
        assert_eq!(a.date, utc("2026-11-27T11:00:00Z"));
        assert!(a.extra.get("date_raw").is_none());
        assert_eq!((a.message_id, a.content_hash), (b.message_id, b.content_hash));
    }

    #[test]
    fn body_key_ignores_what_clients_add() {
        assert_eq!(
            body_key("Dobrý den, <mailto:x@y.cz> viz [cid:image001.png] příloha."),
            body_key("dobry   den viz priloha")
        );
        assert_eq!(body_key(&"ab ".repeat(1000)).chars().count(), BODY_KEY_CHARS);
    }
}
