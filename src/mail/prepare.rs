//! The leniency pre-pass: bytes made readable the way lenient readers
//! (Python's `email` package) read them, before mail-parser sees them
//! ([`prepare`]) and after its first look ([`repair`]).

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders};

/// Before the first parse:
///
/// * blank and whitespace-only lines at the start are skipped, and so is
///   an mbox `From ` separator line;
/// * when a line of the header block is neither `name: value` nor a
///   continuation, the header block ends there (RFC 5322 §2.2, as Python
///   reads it): the missing empty line is inserted, so the body is kept;
/// * 8-bit header lines that are not UTF-8 become UTF-8 (mail-parser would
///   make them U+FFFD). The charset is the top-level `Content-Type` charset
///   when it names an 8-bit one, else windows-1250 (the usual one for Czech
///   mail that forgot to say).
pub(super) fn prepare(raw: &[u8]) -> Cow<'_, [u8]> {
    let raw = skip_preamble(raw);
    let block = header_block(raw);
    let (header, rest) = raw.split_at_checked(block.end).unwrap_or((raw, &[]));
    let header_is_text = header.is_ascii() || std::str::from_utf8(header).is_ok();
    if header_is_text && block.separator.is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + 64);
    if header_is_text {
        out.extend_from_slice(header);
    } else {
        let encoding = fallback_encoding(header);
        for line in header.split_inclusive(|&b| b == b'\n') {
            if line.is_ascii() || std::str::from_utf8(line).is_ok() {
                out.extend_from_slice(line);
            } else {
                let (text, _) = encoding.decode_without_bom_handling(line);
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    if let Some(separator) = block.separator {
        out.extend_from_slice(separator);
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

/// The first line of `bytes` (with its line end) and the rest.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => bytes.split_at_checked(i + 1).unwrap_or((bytes, &[])),
        None => (bytes, &[]),
    }
}

/// A line without its `\n` or `\r\n`.
fn line_content(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Skips blank and whitespace-only lines at the start, and one mbox `From `
/// line among them.
fn skip_preamble(raw: &[u8]) -> &[u8] {
    let mut raw = raw;
    let mut skipped_from = false;
    loop {
        let (line, rest) = split_line(raw);
        if line.is_empty() {
            return raw;
        }
        if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            raw = rest;
        } else if !skipped_from && line.starts_with(b"From ") {
            skipped_from = true;
            raw = rest;
        } else {
            return raw;
        }
    }
}

/// Where the header block ends, and the empty line to insert there when
/// the message lacks it.
#[derive(Debug, PartialEq, Eq)]
struct HeaderBlock {
    /// Offset just past the empty line that ends the block, or the start of
    /// the first line that is not a header, or the input's length.
    end: usize,
    separator: Option<&'static [u8]>,
}

fn header_block(raw: &[u8]) -> HeaderBlock {
    let mut pos = 0;
    let mut rest = raw;
    let mut crlf = false;
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        let content = line_content(line);
        if content.is_empty() {
            return HeaderBlock { end: pos + line.len(), separator: None };
        }
        let continuation = matches!(content.first(), Some(b' ' | b'\t'));
        if !continuation && !is_field_line(content) {
            let separator: &'static [u8] = if crlf { b"\r\n" } else { b"\n" };
            return HeaderBlock { end: pos, separator: Some(separator) };
        }
        crlf = line.ends_with(b"\r\n");
        pos += line.len();
        rest = after;
    }
    HeaderBlock { end: raw.len(), separator: None }
}

/// `name: value`, where the name is one or more printable US-ASCII
/// characters other than the colon (RFC 5322 §3.6.8).
fn is_field_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            line.get(..colon).is_some_and(|name| !name.is_empty() && name.iter().all(|b| (0x21..=0x7e).contains(b)))
        }
        None => false,
    }
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

/// One change to the raw bytes: `start..end` becomes `text`.
struct Edit {
    start: usize,
    end: usize,
    text: Vec<u8>,
}

/// After the first parse: the message with its Content-Type headers
/// repaired, or `None` when nothing needs it.
///
/// * a `multipart/*` top level without a boundary gets the boundary guessed
///   from the body;
/// * a part whose Content-Type has no subtype (`text`, `text/`), an empty
///   type or a subtype with a `/` is `text/plain`, as Python reads it
///   (its parameters, such as the charset, are kept). mail-parser would
///   list such a part as an attachment and the text would be lost.
pub(super) fn repair(msg: &Message<'_>) -> Option<Vec<u8>> {
    let raw: &[u8] = msg.raw_message.as_ref();
    let mut edits: Vec<Edit> = Vec::new();
    edits.extend(missing_boundary(msg, raw));
    edits.extend(msg.parts.iter().filter_map(|p| broken_content_type(p, raw)));
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut pos = 0;
    for e in edits {
        if e.start < pos || e.end < e.start {
            continue;
        }
        out.extend_from_slice(raw.get(pos..e.start)?);
        out.extend_from_slice(&e.text);
        pos = e.end;
    }
    out.extend_from_slice(raw.get(pos..)?);
    Some(out)
}

/// The bytes of a header's value without the trailing line end, spaces
/// and `;`, as `(start, end)`.
fn trimmed_value(header: &mail_parser::Header<'_>, raw: &[u8]) -> Option<(usize, usize)> {
    let start = header.offset_start as usize;
    let value = raw.get(start..header.offset_end as usize)?;
    let len = value.iter().rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t' | b';')).map_or(0, |i| i + 1);
    Some((start, start + len))
}

/// When the top-level part is `multipart/*` without a boundary, guesses the
/// boundary from the first `--x` line followed by a MIME header and adds
/// `; boundary="x"` to its Content-Type.
fn missing_boundary(msg: &Message<'_>, raw: &[u8]) -> Option<Edit> {
    let root = msg.parts.first()?;
    let ct = root.content_type()?;
    if !ct.ctype().eq_ignore_ascii_case("multipart") || ct.attribute("boundary").is_some() {
        return None;
    }
    let body = raw.get(root.offset_body as usize..)?;
    let boundary = guess_boundary(body)?;
    let header = root.headers.iter().rev().find(|h| h.name == HeaderName::ContentType)?;
    let (_, insert_at) = trimmed_value(header, raw)?;
    let mut text = b"; boundary=\"".to_vec();
    text.extend_from_slice(boundary.as_bytes());
    text.push(b'"');
    Some(Edit { start: insert_at, end: insert_at, text })
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

/// A part's Content-Type that Python reads as `text/plain` (see [`repair`]),
/// rewritten as such.
fn broken_content_type(part: &MessagePart<'_>, raw: &[u8]) -> Option<Edit> {
    let header = part.headers.iter().rev().find(|h| h.name == HeaderName::ContentType)?;
    // A value mail-parser could not read at all already counts as text/plain.
    let ct = header.value.as_content_type()?;
    let ctype = ct.ctype().trim();
    let subtype = ct.subtype().map(str::trim).unwrap_or("");
    let broken = ctype.is_empty()
        || ctype.contains('/')
        || subtype.contains('/')
        || (subtype.is_empty() && !ctype.eq_ignore_ascii_case("multipart"));
    if !broken {
        return None;
    }
    let (start, end) = trimmed_value(header, raw)?;
    let value = raw.get(start..end)?;
    let mut text = b" text/plain".to_vec();
    if let Some(params) = value.iter().position(|&b| b == b';').and_then(|i| value.get(i..)) {
        text.extend_from_slice(params);
    }
    Some(Edit { start, end, text })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn preamble_is_skipped() {
        assert_eq!(skip_preamble(b"\n \n\t\r\nSubject: x\n"), b"Subject: x\n");
        assert_eq!(skip_preamble(b"From a@b Thu\n\nSubject: x\n"), b"Subject: x\n");
        assert_eq!(skip_preamble(b"Subject: x\n"), b"Subject: x\n");
        assert_eq!(skip_preamble(b"  \n"), b"");
        assert_eq!(skip_preamble(b"From a\nFrom b\n"), b"From b\n");
    }

    #[test]
    fn header_block_ends_where_headers_do() {
        let b = |raw: &[u8]| header_block(raw);
        assert_eq!(b(b"A: 1\n\nbody"), HeaderBlock { end: 6, separator: None });
        assert_eq!(b(b"A: 1\r\n\r\nbody"), HeaderBlock { end: 8, separator: None });
        assert_eq!(b(b"A: 1\n folded\nbody line\n"), HeaderBlock { end: 13, separator: Some(b"\n") });
        assert_eq!(b(b"A: 1\r\nHello, world\r\n"), HeaderBlock { end: 6, separator: Some(b"\r\n") });
        assert_eq!(b(b"A: 1\nB: 2"), HeaderBlock { end: 9, separator: None });
        assert_eq!(b(b"text only"), HeaderBlock { end: 0, separator: Some(b"\n") });
        assert_eq!(b(b"A: 1\nNot a: header\n"), HeaderBlock { end: 5, separator: Some(b"\n") });
        assert_eq!(b(b"A: 1\n:x\n"), HeaderBlock { end: 5, separator: Some(b"\n") });
        assert_eq!(b("A: 1\nŽ: x\n".as_bytes()), HeaderBlock { end: 5, separator: Some(b"\n") });
        assert!(is_field_line(b"X-Foo:bar") && is_field_line(b"a:") && !is_field_line(b"a b: c"));
    }

    #[test]
    fn prepare_inserts_the_empty_line_and_keeps_the_rest() {
        assert_eq!(prepare(b"\n\nA: 1\nbody\n").as_ref(), b"A: 1\n\nbody\n");
        assert!(matches!(prepare(b"A: 1\n\nbody\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn charsets_for_eight_bit_headers() {
        assert_eq!(charset_or_default(Some("us-ascii")), encoding_rs::WINDOWS_1250);
        assert_eq!(charset_or_default(Some("utf-16")), encoding_rs::WINDOWS_1250);
        assert_eq!(charset_or_default(Some("iso-8859-2")), encoding_rs::ISO_8859_2);
    }

    #[test]
    fn boundaries_are_only_guessed_from_mime_lines() {
        assert_eq!(guess_boundary(b"-- \nsig\n"), None);
        assert_eq!(guess_boundary(b"x\n--b1\nContent-Type: text/plain\n"), Some("b1".into()));
    }
}
