//! The readable text of a message.

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::decode::{decode_charset, decode_transfer};
use super::headers::{prefix_on_char_boundary, slice};
use super::html::html_to_text;

/// The readable text of a message: every text/plain body part in order
/// (a part split around an inline image comes back whole); when there is
/// none (or only blank ones), the first HTML body part as text; when there
/// is none either, a damaged text part that mail-parser listed as an
/// attachment (a truncated base64 body), whose id is returned too.
pub(super) fn body_of(msg: &Message<'_>) -> (String, Option<u32>) {
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
pub(super) fn part_text<'a>(part: &'a MessagePart<'a>, raw: &[u8]) -> Cow<'a, str> {
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

pub(super) fn transfer_encoding(part: &MessagePart<'_>) -> Option<String> {
    part.content_transfer_encoding().map(|s| s.trim().to_ascii_lowercase())
}

/// Plain text as kronika stores it: LF line ends, no control characters
/// but tab, no trailing whitespace on lines, no leading blank lines, no
/// trailing whitespace.
pub(super) fn normalize_text(s: &str) -> String {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let mut out = String::with_capacity(s.len());
    // Line ends: "\r\n", a lone '\n' and a lone '\r'. Each line is
    // written straight into `out` and trimmed there (no copy per line).
    for piece in s.split('\n') {
        let piece = piece.strip_suffix('\r').unwrap_or(piece);
        for line in piece.split('\r') {
            let start = out.len();
            out.extend(line.chars().filter(|c| *c == '\t' || !c.is_control()));
            let kept = out.get(start..).map_or(0, |l| l.trim_end().len());
            out.truncate(start + kept);
            if !out.is_empty() {
                out.push('\n');
            }
        }
    }
    let len = out.trim_end().len();
    out.truncate(len);
    out
}

/// `s` cut to at most `max` bytes on a char boundary; true when it was cut.
pub(super) fn truncate_on_char_boundary(mut s: String, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let cut = prefix_on_char_boundary(&s, max).len();
    s.truncate(cut);
    (s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The way [`normalize_text`] was first written (a copy per line):
    /// the reference the faster one must agree with.
    fn normalize_reference(s: &str) -> String {
        let s = s.strip_prefix('\u{feff}').unwrap_or(s);
        let mut out = String::new();
        for line in s.replace("\r\n", "\n").split(['\n', '\r']) {
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

    #[test]
    fn normalizing_agrees_with_the_reference() {
        let pieces = ["a", "č", " ", "\t", "\r", "\n", "\r\n", "\u{0}", "\u{feff}", "\u{a0}", "\u{2028}", "x y"];
        let mut seed = 7u64;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut r = seed;
            for _ in 0..(r % 12) {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1);
                s.push_str(pieces.get((r >> 33) as usize % pieces.len()).copied().unwrap_or_default());
            }
            assert_eq!(normalize_text(&s), normalize_reference(&s), "{s:?}");
        }
    }

    #[test]
    fn text_is_normalized() {
        assert_eq!(normalize_text("\u{feff}\r\n\r\nA  \r\nB\u{0}\tC \r\n\r\n \n"), "A\nB\tC");
        assert_eq!(normalize_text("a\rb"), "a\nb");
        let (s, cut) = truncate_on_char_boundary("ččč".to_string(), 3);
        assert_eq!((s.as_str(), cut), ("č", true));
    }
}
