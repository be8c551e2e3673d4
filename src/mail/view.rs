//! A kept original, opened again for reading: its HTML version, sanitised
//! for the web, and its attachments by content hash. Pure (no I/O); the
//! bytes are hostile, as at ingestion.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Message, MessageParser, PartType};
use sha2::{Digest, Sha256};

use super::{attachments, body, prepare};

/// One attachment, whole: its safe name, MIME type and decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentBytes {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Runs `f` on the parsed message (prepared and repaired as at ingestion);
/// `None` when it does not parse or the parser fails.
fn with_message<T>(raw: &[u8], f: impl FnOnce(&Message<'_>) -> Option<T>) -> Option<T> {
    catch_unwind(AssertUnwindSafe(|| {
        let prepared = prepare::prepare(raw);
        let parser = MessageParser::default();
        let first = parser.parse(prepared.as_ref())?;
        let repaired = prepare::repair(&first);
        match repaired.as_deref().and_then(|r| parser.parse(r)) {
            Some(m) => f(&m),
            None => f(&first),
        }
    }))
    .ok()
    .flatten()
}

/// The message's HTML body, sanitised ([`super::html::sanitize`]); `None`
/// for a message without an HTML part.
pub fn html_body(raw: &[u8]) -> Option<String> {
    with_message(raw, |msg| {
        let raw_msg: &[u8] = msg.raw_message.as_ref();
        let part = msg
            .html_body
            .iter()
            .chain(msg.text_body.iter())
            .filter_map(|&id| msg.parts.get(id as usize))
            .find(|p| matches!(p.body, PartType::Html(_)))?;
        Some(super::html::sanitize(&body::part_text(part, raw_msg)))
    })
}

/// The attachment whose decoded bytes have this SHA-256 (as the store
/// lists it); `None` when the message has no such attachment.
pub fn attachment(raw: &[u8], content_hash: &str) -> Option<AttachmentBytes> {
    with_message(raw, |msg| {
        let raw_msg: &[u8] = msg.raw_message.as_ref();
        msg.attachments.iter().enumerate().find_map(|(n, &id)| {
            let part = msg.parts.get(id as usize)?;
            let (att, bytes) = attachments::attachment_of(part, raw_msg, n + 1)?;
            (att.content_hash == content_hash || hex::encode(Sha256::digest(&bytes)) == content_hash)
                .then(|| AttachmentBytes { name: att.name, mime: att.mime, bytes: bytes.into_owned() })
        })
    })
}
