//! Documents: offers, invoices, contracts and orders, recognised among
//! mail attachments (or added by hand) by name, type and text, in Czech and
//! English; their text extracted for search. Pure except for nothing: the
//! store keeps the files.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use serde::Serialize;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Offer,
    Invoice,
    Contract,
    Order,
    Other,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Offer => "offer",
            DocKind::Invoice => "invoice",
            DocKind::Contract => "contract",
            DocKind::Order => "order",
            DocKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<DocKind, String> {
        match crate::text::fold(s.trim()).as_str() {
            "offer" | "nabidka" | "quote" | "quotation" => Ok(DocKind::Offer),
            "invoice" | "faktura" => Ok(DocKind::Invoice),
            "contract" | "smlouva" | "agreement" => Ok(DocKind::Contract),
            "order" | "objednavka" => Ok(DocKind::Order),
            "other" | "jine" | "jiny" => Ok(DocKind::Other),
            _ => Err(format!("cannot use document kind {s:?}: use offer, invoice, contract, order or other")),
        }
    }
}

/// A file a message carried that may be a document.
#[derive(Debug, Clone, Default)]
pub struct Blob {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
    pub content_hash: String,
}

/// Words that tell a document's kind (accents folded), strongest first.
const WORDS: &[(&str, DocKind)] = &[
    ("faktura", DocKind::Invoice),
    ("invoice", DocKind::Invoice),
    ("dobropis", DocKind::Invoice),
    ("zalohova", DocKind::Invoice),
    ("smlouva", DocKind::Contract),
    ("dodatek", DocKind::Contract),
    ("contract", DocKind::Contract),
    ("agreement", DocKind::Contract),
    ("objednavka", DocKind::Order),
    ("purchase order", DocKind::Order),
    ("order", DocKind::Order),
    ("nabidka", DocKind::Offer),
    ("cenova nabidka", DocKind::Offer),
    ("quotation", DocKind::Offer),
    ("quote", DocKind::Offer),
    ("offer", DocKind::Offer),
];

fn by_words(text: &str) -> Option<DocKind> {
    let folded = crate::text::fold(text);
    WORDS.iter().find(|(w, _)| folded.contains(w)).map(|(_, k)| *k)
}

/// Attachments worth looking at: PDFs, office documents, or any file whose
/// name names a document.
pub fn candidate(name: &str, mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m == "application/pdf"
        || m.contains("officedocument")
        || m.contains("msword")
        || m.contains("opendocument")
        || by_words(name).is_some()
}

/// The kind of a document from its name, then its text; `None`: not one.
pub fn classify(name: &str, text: &str) -> Option<DocKind> {
    by_words(name).or_else(|| by_words(&text.chars().take(3000).collect::<String>()))
}

/// The text of a document: PDF text, or text files as they are. Errors say
/// why (a damaged or encrypted PDF); they never stop anything.
pub fn extract_text(mime: &str, bytes: &[u8]) -> Result<String, String> {
    let m = mime.to_ascii_lowercase();
    if m == "application/pdf" || bytes.starts_with(b"%PDF") {
        let owned = bytes.to_vec();
        // The PDF parser must not take the pipeline down with a panic.
        let result = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&owned));
        return match result {
            Ok(Ok(t)) => Ok(t.split_whitespace().collect::<Vec<_>>().join(" ")),
            Ok(Err(e)) => Err(format!("cannot read the PDF: {e}")),
            Err(_) => Err("cannot read the PDF: it is damaged".into()),
        };
    }
    if m.starts_with("text/") {
        return Ok(crate::text::decode_bytes(bytes));
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names_and_text() {
        assert_eq!(classify("Faktura_2026-118.pdf", ""), Some(DocKind::Invoice));
        assert_eq!(classify("nabídka.csv", ""), Some(DocKind::Offer));
        assert_eq!(classify("scan0001.pdf", "SMLOUVA O DÍLO č. 12"), Some(DocKind::Contract));
        assert_eq!(classify("photo.jpg", "holiday"), None);
        assert!(candidate("x.pdf", "application/pdf"));
        assert!(candidate("Objednávka.xlsx", "application/octet-stream"));
        assert!(!candidate("logo.png", "image/png"));
        assert_eq!(DocKind::parse("Smlouva").unwrap(), DocKind::Contract);
        assert!(DocKind::parse("memo").is_err());
    }

    #[test]
    fn damaged_pdfs_are_errors_not_panics() {
        assert!(extract_text("application/pdf", b"%PDF-1.4 garbage").is_err());
        assert_eq!(extract_text("text/plain", "Faktura".as_bytes()).unwrap(), "Faktura");
    }
}
