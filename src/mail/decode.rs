//! Decoders kronika applies itself where mail-parser gives up: RFC 2047
//! encoded-words (also broken ones), charsets, quoted-printable and
//! lenient base64, transfer decoding of raw part bytes.

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;

use super::headers::prefix_on_char_boundary;
use super::{MAX_DECODE_INPUT, MAX_ENCODED_WORD};

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
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("=?")
            && let Some((decoded, consumed)) = decode_one_word(after)
        {
            if !last_was_word {
                out.push_str(pending_ws);
            }
            pending_ws = "";
            out.push_str(&decoded);
            rest = after.get(consumed..).unwrap_or("");
            last_was_word = true;
            continue;
        }
        if c.is_whitespace() {
            // Keep whitespace only when it is not between two encoded-words.
            let ws_end = rest.find(|ch: char| !ch.is_whitespace()).unwrap_or(rest.len());
            let (ws, after) = rest.split_at_checked(ws_end).unwrap_or((rest, ""));
            if last_was_word {
                pending_ws = ws;
            } else {
                out.push_str(ws);
            }
            rest = after;
            continue;
        }
        if last_was_word {
            out.push_str(pending_ws);
            pending_ws = "";
        }
        last_was_word = false;
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or("");
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
    let (charset, rest) = s.split_at_checked(charset_end)?;
    let valid_charset = !charset.is_empty()
        && charset.len() <= 40
        && charset.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:*".contains(&b));
    if !valid_charset {
        return None;
    }
    // `?E?data?=`
    let mut head = rest.bytes();
    let (Some(b'?'), Some(encoding), Some(b'?')) = (head.next(), head.next(), head.next()) else {
        return None;
    };
    let data_and_rest = rest.get(3..)?;
    let window = data_and_rest.as_bytes();
    let window = window.get(..window.len().min(MAX_ENCODED_WORD)).unwrap_or(window);
    let data_end = window.windows(2).position(|w| w == b"?=")?;
    let data = data_and_rest.get(..data_end)?;
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
    let consumed = charset_end + 3 + data_end + 2;
    Some((decode_charset(&bytes, Some(charset)), consumed))
}

/// Bytes in a MIME charset → text. Unknown or missing charsets: UTF-8 when
/// the bytes are valid UTF-8, else windows-1250.
pub(super) fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
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

/// Transfer-decodes a part body from its raw bytes. Anything that is not
/// base64 travels as CRLF lines, so its line ends are made CRLF: the same
/// part stored with LF (Maildir) or CRLF (IMAP) gives the same bytes.
pub(super) fn decode_transfer(bytes: &[u8], cte: Option<&str>) -> Vec<u8> {
    match cte {
        Some("base64") => decode_base64_lenient(bytes),
        Some("quoted-printable") => to_crlf(&decode_qp(bytes, true)),
        _ => to_crlf(bytes),
    }
}

pub(super) fn to_crlf(bytes: &[u8]) -> Vec<u8> {
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
pub(super) fn decode_base64_lenient(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let mut at_line_start = true;
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if at_line_start && b == b'-' && iter.peek() == Some(&&b'-') {
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
                continue;
            }
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
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
pub(super) fn decode_qp(bytes: &[u8], soft_breaks: bool) -> Vec<u8> {
    let hex = |c: &u8| char::from(*c).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'=' {
            if soft_breaks {
                // `=` then optional trailing whitespace then a line end.
                let mut j = i + 1;
                while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                match (bytes.get(j), bytes.get(j + 1)) {
                    (Some(b'\r'), Some(b'\n')) => {
                        i = j + 2;
                        continue;
                    }
                    (Some(b'\n'), _) => {
                        i = j + 1;
                        continue;
                    }
                    (None, _) => break,
                    _ => {}
                }
            }
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
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

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_even_when_broken() {
        assert_eq!(decode_encoded_words("=?utf-8?Q?Hor=C3=A1k?= =?utf-8?Q?_Karel?="), "Horák Karel");
        assert_eq!(decode_encoded_words("\"=?utf-8?Q?Hor=C3=A1k?=\""), "\"Horák\"");
        assert_eq!(decode_encoded_words("=?windows-1250?Q?P=F8=EDloha?= x"), "Příloha x");
        assert_eq!(decode_encoded_words("=?x-unknown?Q?P=F8=EDloha?="), "Příloha");
        assert_eq!(decode_encoded_words("=?utf-8?B?xb5sdcWl?="), "žluť");
        assert_eq!(decode_encoded_words("a =?broken"), "a =?broken");
        assert_eq!(decode_encoded_words("plain"), "plain");
        // Multi-byte characters where the parser looks for `?`.
        assert_eq!(decode_encoded_words("=?ž?Q?x?="), "=?ž?Q?x?=");
        assert_eq!(decode_encoded_words("=?utf-8?ž?x?="), "=?utf-8?ž?x?=");
        assert_eq!(decode_encoded_words("=?utf-8?Q?ž"), "=?utf-8?Q?ž");
        assert_eq!(decode_encoded_words("=?utf-8?Q?a?= ž =?"), "a ž =?");
    }

    #[test]
    fn transfer_decoding_is_lenient() {
        assert_eq!(decode_base64_lenient(b"SGVs\nbG8=\n"), b"Hello");
        assert_eq!(decode_base64_lenient(b"SGVsbG8gd29y"), b"Hello wor");
        assert_eq!(decode_base64_lenient(b"SGVsbG8gd2"), b"Hello w");
        assert_eq!(decode_base64_lenient(b"SGVs\n--boundary\nbG8="), b"Hel");
        assert_eq!(decode_qp(b"a=C3=A1=\nb\nc=ZZ=", true), "aáb\nc=ZZ".as_bytes());
        assert_eq!(decode_qp(b"a=\r\nb", true), b"ab");
        assert_eq!(decode_qp(b"a= \t", true), b"a");
        assert_eq!(decode_qp(b"=", false), b"=");
        assert_eq!(decode_qp(b"=4", false), b"=4");
        assert_eq!(to_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert_eq!(decode_transfer(b"x\ny", None), b"x\r\ny");
    }
}
