//! Attachment metadata: a safe name, the MIME type, size and hash of the
//! decoded bytes (which the caller may keep as a document).

use std::borrow::Cow;

use mail_parser::{MessagePart, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::MAX_NAME_CHARS;
use super::body::transfer_encoding;
use super::decode::{decode_encoded_words, decode_transfer};
use super::headers::{slice, truncate_chars};
use crate::store::Attachment;

/// Attachment metadata for one part mail-parser lists as an attachment;
/// `None` for parts that are not attachments to a reader (a nameless inline
/// image referenced from the HTML by Content-ID).
pub(super) fn attachment_of<'p>(
    part: &'p MessagePart<'_>,
    raw: &[u8],
    number: usize,
) -> Option<(Attachment, Cow<'p, [u8]>)> {
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
        [d, b':', ..] if d.is_ascii_alphabetic() => base.get(2..).unwrap_or(""),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(sanitize_attachment_name("Ž:x").as_deref(), Some("Ž:x"));
        assert_eq!(sanitize_attachment_name("C:").as_deref(), None);
        assert_eq!(extension_for("application/pdf"), Some("pdf"));
        assert_eq!(extension_for("application/x-unknown"), None);
    }
}
