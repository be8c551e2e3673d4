//! Documents: offers, invoices, contracts and orders, recognised among
//! mail attachments (or added by hand) by name, type and text, in Czech and
//! English; their text extracted for search: PDF, text files, Word (DOCX),
//! OpenDocument text (ODT), spreadsheets (XLSX, ODS) and ISDOC invoices.
//! Pure: the store keeps the files.
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
    ("vrubopis", DocKind::Invoice),
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

/// Attachments worth looking at: PDFs, office documents, ISDOC invoices, or
/// any file whose name names a document.
pub fn candidate(name: &str, mime: &str) -> bool {
    let m = mime.to_ascii_lowercase();
    m == "application/pdf"
        || m.contains("officedocument")
        || m.contains("msword")
        || m.contains("opendocument")
        || m == "application/x-isdoc"
        || m == "application/x-isdocx"
        || is_isdoc_name(name)
        || by_words(name).is_some()
}

fn is_isdoc_name(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n.ends_with(".isdoc") || n.ends_with(".isdocx")
}

/// The kind of a document from its name, then its text; `None`: not one.
/// An ISDOC file is an invoice whatever it is called (its text, from
/// `extract_text`, says "Faktura", "Dobropis"; raw ISDOC XML names its
/// namespace).
pub fn classify(name: &str, text: &str) -> Option<DocKind> {
    if is_isdoc_name(name) {
        return Some(DocKind::Invoice);
    }
    let head: String = text.chars().take(3000).collect();
    if head.contains("isdoc.cz/namespace/") && head.contains("Invoice") {
        return Some(DocKind::Invoice);
    }
    by_words(name).or_else(|| by_words(&head))
}

/// MIME types of the office formats `extract_text` reads.
pub const MIME_DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const MIME_XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const MIME_ODT: &str = "application/vnd.oasis.opendocument.text";
pub const MIME_ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";

/// The most text taken from one document (the index keeps less).
pub const MAX_TEXT_BYTES: usize = 4 << 20;
/// The most bytes inflated from one office document, all entries together.
const MAX_INFLATED_BYTES: usize = 64 << 20;

/// The formats read besides PDF and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Isdoc,
    Isdocx,
    Docx,
    Xlsx,
    Odt,
    Ods,
}

/// The format by MIME type, else by content: a ZIP's `mimetype` entry
/// (OpenDocument), its `[Content_Types].xml` (Office), an ISDOCX manifest;
/// XML whose root is an ISDOC invoice.
fn format_of(mime: &str, bytes: &[u8]) -> Option<Format> {
    let m = mime.trim().to_ascii_lowercase();
    let by_mime = match m.as_str() {
        MIME_DOCX | "application/vnd.openxmlformats-officedocument.wordprocessingml.template" => Some(Format::Docx),
        MIME_XLSX | "application/vnd.ms-excel.sheet.macroenabled.12" => Some(Format::Xlsx),
        MIME_ODT => Some(Format::Odt),
        MIME_ODS => Some(Format::Ods),
        "application/x-isdoc" => Some(Format::Isdoc),
        "application/x-isdocx" => Some(Format::Isdocx),
        _ => None,
    };
    if by_mime.is_some() {
        return by_mime;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return sniff_zip(bytes);
    }
    crate::invoice::is_isdoc("", &m, bytes).then_some(Format::Isdoc)
}

fn sniff_zip(bytes: &[u8]) -> Option<Format> {
    let mut archive = crate::invoice::open_zip(bytes).ok()?;
    let names: Vec<String> = archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("mimetype")
        && let Ok(m) = crate::invoice::read_entry(&mut archive, "mimetype")
    {
        match String::from_utf8_lossy(&m).trim() {
            MIME_ODT => return Some(Format::Odt),
            MIME_ODS => return Some(Format::Ods),
            _ => {}
        }
    }
    if has("[Content_Types].xml")
        && let Ok(ct) = crate::invoice::read_entry(&mut archive, "[Content_Types].xml")
    {
        let ct = String::from_utf8_lossy(&ct).to_ascii_lowercase();
        if ct.contains("wordprocessingml.document.main") || ct.contains("wordprocessingml.template.main") {
            return Some(Format::Docx);
        }
        if ct.contains("spreadsheetml.sheet.main") || ct.contains("ms-excel.sheet.macroenabled.main") {
            return Some(Format::Xlsx);
        }
    }
    if has("word/document.xml") {
        return Some(Format::Docx);
    }
    if has("xl/workbook.xml") {
        return Some(Format::Xlsx);
    }
    let isdoc =
        names.iter().any(|n| n.eq_ignore_ascii_case("manifest.xml") || n.to_ascii_lowercase().ends_with(".isdoc"));
    isdoc.then_some(Format::Isdocx)
}

/// The text of a document: PDF text, Word and OpenDocument text, every
/// sheet of a spreadsheet (cells tab-separated, one row a line), an ISDOC
/// invoice as readable lines, text files as they are. Errors say why (a
/// damaged or encrypted file, a ZIP bomb); they never stop anything.
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
    match format_of(&m, bytes) {
        Some(Format::Isdoc) => {
            return crate::invoice::parse_isdoc(bytes).map(|i| invoice_text(&i)).map_err(|e| e.to_string());
        }
        Some(Format::Isdocx) => {
            return crate::invoice::parse_isdocx(bytes).map(|i| invoice_text(&i)).map_err(|e| e.to_string());
        }
        Some(Format::Docx) => return docx_text(bytes).map_err(|e| format!("cannot read the Word document: {e}")),
        Some(Format::Odt) => return odt_text(bytes).map_err(|e| format!("cannot read the OpenDocument text: {e}")),
        Some(f @ (Format::Xlsx | Format::Ods)) => {
            return sheets_text(bytes, f).map_err(|e| format!("cannot read the spreadsheet: {e}"));
        }
        None => {}
    }
    if m.starts_with("text/") {
        return Ok(crate::text::decode_bytes(bytes));
    }
    Ok(String::new())
}

/// An ISDOC invoice as lines a person (and the search) reads: what it is,
/// who, when, the lines and the totals. The first word ("Faktura",
/// "Dobropis", …) is what `classify` recognises.
fn invoice_text(i: &crate::invoice::Invoice) -> String {
    use crate::invoice::InvoiceKind;
    use std::fmt::Write;
    let kind = match i.kind {
        InvoiceKind::Invoice => "Faktura",
        InvoiceKind::CreditNote => "Dobropis (opravný daňový doklad)",
        InvoiceKind::DebitNote => "Vrubopis (opravný daňový doklad)",
        InvoiceKind::Advance => "Zálohová faktura",
    };
    let party = |p: &crate::invoice::Party| {
        let mut s = p.name.clone();
        if let Some(ico) = &p.ico {
            let _ = write!(s, ", IČO {ico}");
        }
        if let Some(dic) = &p.dic {
            let _ = write!(s, ", DIČ {dic}");
        }
        s
    };
    let amount = |v: f64| format!("{} {}", crate::text::format_amount(v), i.currency);
    let mut out = format!(
        "{kind} {}\nDodavatel: {}\nOdběratel: {}\nVystaveno: {}",
        i.number,
        party(&i.supplier),
        party(&i.customer),
        i.issued
    );
    if let Some(d) = i.taxable {
        let _ = write!(out, ", DUZP: {d}");
    }
    if let Some(d) = i.due {
        let _ = write!(out, ", splatnost: {d}");
    }
    out.push('\n');
    for l in &i.lines {
        out.push_str(&l.description);
        if let Some(q) = l.quantity {
            let _ = write!(out, "\t{q}");
            if let Some(u) = &l.unit {
                let _ = write!(out, " {u}");
            }
        }
        if let Some(v) = l.without_vat {
            let _ = write!(out, "\t{}", amount(v));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Celkem bez DPH: {}\nCelkem s DPH: {}", amount(i.without_vat), amount(i.with_vat));
    if let Some(p) = i.payable {
        let _ = writeln!(out, "K úhradě: {}", amount(p));
    }
    if let Some(n) = &i.note {
        let _ = writeln!(out, "{n}");
    }
    out
}

/// The names of a ZIP's entries, after the bomb checks on its size.
fn zip_names(archive: &zip::ZipArchive<std::io::Cursor<&[u8]>>) -> Vec<String> {
    archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect()
}

/// Text collected from XML events, bounded by `MAX_TEXT_BYTES`.
#[derive(Default)]
struct TextOut {
    text: String,
    full: bool,
}

impl TextOut {
    fn push(&mut self, s: &str) {
        if self.full {
            return;
        }
        if self.text.len() + s.len() > MAX_TEXT_BYTES {
            // Cut on a char boundary; the rest of the document is dropped.
            let room = MAX_TEXT_BYTES.saturating_sub(self.text.len());
            let cut = (0..=room.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
            self.text.push_str(s.get(..cut).unwrap_or_default());
            self.full = true;
            return;
        }
        self.text.push_str(s);
    }

    /// Text with each run of white space as one space, none at the start
    /// of a line.
    fn push_collapsed(&mut self, s: &str) {
        let mut collapsed = String::with_capacity(s.len());
        let mut space = self.text.is_empty() || self.text.ends_with([' ', '\n', '\t']);
        for c in s.chars() {
            if c.is_whitespace() {
                if !space {
                    collapsed.push(' ');
                }
                space = true;
            } else {
                collapsed.push(c);
                space = false;
            }
        }
        self.push(&collapsed);
    }

    /// Ends a paragraph: one newline, never a run of blank lines.
    fn newline(&mut self) {
        while self.text.ends_with([' ', '\t']) {
            self.text.pop();
        }
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.push("\n");
        }
    }

    fn finish(self) -> String {
        self.text.trim().to_string()
    }
}

/// What an XML element means for the text of a document.
enum Mark {
    /// Its text is document text (`w:t`, an ODF paragraph's content).
    Text,
    /// A paragraph (`w:p`): a newline after it.
    Paragraph,
    /// A paragraph whose text is document text (`text:p`, `text:h`).
    TextParagraph,
    /// A run of Word text (`w:r`): tabs and breaks count only inside one.
    Run,
    /// Content that is not the document's text (`w:delText`, ODF styles).
    Skip,
    Other,
}

/// Walks one XML part, calling `mark` for each element's local name; text
/// is kept inside `Text` elements that nothing skips. `empty` handles the
/// elements that stand for characters (`w:tab`, `text:s`). With `collapse`,
/// runs of white space in the text are one space (ODF's rule: spaces that
/// count are written as `text:s`).
fn walk_xml(
    xml: &[u8],
    out: &mut TextOut,
    collapse: bool,
    mark: impl Fn(&[u8]) -> Mark,
    empty: impl Fn(&[u8], &quick_xml::events::BytesStart<'_>, bool) -> Option<String>,
) -> Result<(), String> {
    use quick_xml::events::Event;
    let text = crate::invoice::decode_xml(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    // For each open element: (is text, is skipped, is a run).
    let mut stack: Vec<(bool, bool, bool)> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| format!("its XML is damaged ({e})"))?;
        let (in_text, skipped, in_run) = stack.last().copied().unwrap_or((false, false, false));
        match event {
            Event::Start(e) => {
                if stack.len() >= crate::invoice::MAX_DEPTH * 4 {
                    return Err("its XML is nested too deeply".into());
                }
                let local = e.local_name();
                let entry = match mark(local.as_ref()) {
                    Mark::Text | Mark::TextParagraph => (true, skipped, in_run),
                    Mark::Skip => (false, true, in_run),
                    Mark::Run => (in_text, skipped, true),
                    Mark::Paragraph | Mark::Other => (in_text, skipped, in_run),
                };
                if let Some(s) = empty(local.as_ref(), &e, in_run).filter(|_| !skipped) {
                    out.push(&s);
                }
                stack.push(entry);
            }
            Event::Empty(e) => {
                let local = e.local_name();
                if skipped {
                    continue;
                }
                if let Some(s) = empty(local.as_ref(), &e, in_run) {
                    out.push(&s);
                } else if matches!(mark(local.as_ref()), Mark::Paragraph | Mark::TextParagraph) {
                    out.newline();
                }
            }
            Event::End(e) => {
                stack.pop();
                if matches!(mark(e.local_name().as_ref()), Mark::Paragraph | Mark::TextParagraph) && !skipped {
                    out.newline();
                }
            }
            Event::Text(t) if in_text && !skipped => {
                let t = t.xml10_content().map_err(|e| format!("its text cannot be decoded ({e})"))?;
                if collapse {
                    out.push_collapsed(&t);
                } else {
                    out.push(&t);
                }
            }
            Event::CData(t) if in_text && !skipped => out.push(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) if in_text && !skipped => out.push(&crate::invoice::resolve_ref(&r)),
            Event::Eof if stack.is_empty() => return Ok(()),
            Event::Eof => return Err("its XML ends before its elements are closed".into()),
            _ => {}
        }
        if out.full {
            return Ok(());
        }
    }
}

/// Reads entries one by one, refusing an archive that inflates to more
/// than `MAX_INFLATED_BYTES` in all.
struct Entries<'a> {
    archive: zip::ZipArchive<std::io::Cursor<&'a [u8]>>,
    inflated: usize,
}

impl<'a> Entries<'a> {
    fn open(bytes: &'a [u8]) -> Result<Entries<'a>, String> {
        Ok(Entries { archive: crate::invoice::open_zip(bytes)?, inflated: 0 })
    }

    fn read(&mut self, name: &str) -> Result<Vec<u8>, String> {
        let bytes = crate::invoice::read_entry(&mut self.archive, name)?;
        self.inflated = self.inflated.saturating_add(bytes.len());
        if self.inflated > MAX_INFLATED_BYTES {
            return Err(format!("it inflates to more than {} MB", MAX_INFLATED_BYTES >> 20));
        }
        Ok(bytes)
    }
}

/// DOCX: `word/document.xml`, then the headers and footers: `w:t` text,
/// `w:tab` and `w:br` inside runs, a newline after each paragraph; deleted
/// text (`w:delText`) and field codes (`w:instrText`) are not text.
fn docx_text(bytes: &[u8]) -> Result<String, String> {
    let mut entries = Entries::open(bytes)?;
    let names = zip_names(&entries.archive);
    if !names.iter().any(|n| n == "word/document.xml") {
        return Err("it has no word/document.xml".into());
    }
    let part = |n: &str, kind: &str| {
        n.strip_prefix("word/")
            .and_then(|r| r.strip_prefix(kind))
            .and_then(|r| r.strip_suffix(".xml"))
            .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
    };
    let mut parts = vec!["word/document.xml".to_string()];
    let mut extra: Vec<String> = names.iter().filter(|n| part(n, "header") || part(n, "footer")).cloned().collect();
    extra.sort();
    parts.extend(extra);
    let mut out = TextOut::default();
    for name in parts {
        let xml = entries.read(&name)?;
        walk_xml(
            &xml,
            &mut out,
            false,
            |local| match local {
                b"t" => Mark::Text,
                b"p" => Mark::Paragraph,
                b"r" => Mark::Run,
                b"delText" | b"instrText" | b"pPr" | b"rPr" => Mark::Skip,
                _ => Mark::Other,
            },
            |local, _, in_run| match local {
                b"tab" if in_run => Some("\t".into()),
                b"br" | b"cr" if in_run => Some("\n".into()),
                b"noBreakHyphen" if in_run => Some("-".into()),
                _ => None,
            },
        )?;
        out.newline();
        if out.full {
            break;
        }
    }
    Ok(out.finish())
}

/// ODT: `content.xml`'s body: paragraphs and headings a line each, spans,
/// `text:s` (with its count), `text:tab`, `text:line-break`.
fn odt_text(bytes: &[u8]) -> Result<String, String> {
    let mut entries = Entries::open(bytes)?;
    let xml = entries.read("content.xml")?;
    let mut out = TextOut::default();
    walk_xml(
        &xml,
        &mut out,
        true,
        |local| match local {
            b"p" | b"h" => Mark::TextParagraph,
            // Styles and the like hold no text; a deleted change is not text.
            b"automatic-styles" | b"font-face-decls" | b"tracked-changes" => Mark::Skip,
            _ => Mark::Other,
        },
        |local, e, _| match local {
            b"s" => {
                let count = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == b"c")
                    .and_then(|a| String::from_utf8_lossy(&a.value).trim().parse::<usize>().ok())
                    .unwrap_or(1);
                Some(" ".repeat(count.clamp(1, 100)))
            }
            b"tab" => Some("\t".into()),
            b"line-break" => Some("\n".into()),
            _ => None,
        },
    )?;
    Ok(out.finish())
}

/// XLSX and ODS through calamine: each sheet's name on a line, then its
/// rows, cells tab-separated. Every entry is inflated (bounded) before
/// calamine sees the file, so a bomb is refused here, not inside it.
fn sheets_text(bytes: &[u8], format: Format) -> Result<String, String> {
    use calamine::Reader;
    let mut entries = Entries::open(bytes)?;
    for name in zip_names(&entries.archive) {
        entries.read(&name)?;
    }
    let owned = bytes.to_vec();
    // A third-party parser on outside input: a panic is a damaged file.
    let result = std::panic::catch_unwind(move || -> Result<Vec<(String, calamine::Range<calamine::Data>)>, String> {
        let cursor = std::io::Cursor::new(owned);
        match format {
            Format::Ods => {
                let mut book: calamine::Ods<_> =
                    calamine::open_workbook_from_rs(cursor).map_err(|e: calamine::OdsError| e.to_string())?;
                Ok(book.worksheets())
            }
            _ => {
                let mut book: calamine::Xlsx<_> =
                    calamine::open_workbook_from_rs(cursor).map_err(|e: calamine::XlsxError| e.to_string())?;
                Ok(book.worksheets())
            }
        }
    });
    let sheets = match result {
        Ok(r) => r?,
        Err(p) => return Err(format!("it is damaged ({})", crate::text::panic_text(p.as_ref()))),
    };
    let mut out = TextOut::default();
    for (name, range) in sheets {
        out.push(&name);
        out.newline();
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(cell_text).collect();
            let used = cells.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
            if used == 0 {
                continue;
            }
            out.push(&cells.get(..used).unwrap_or_default().join("\t"));
            out.newline();
            if out.full {
                return Ok(out.finish());
            }
        }
        out.newline();
    }
    Ok(out.finish())
}

/// A cell as text: numbers as Rust writes them (`350`, `86.5`), dates as
/// `2026-03-01`, errors as nothing.
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::DateTime(dt) if dt.is_datetime() => excel_date(dt.as_f64()).unwrap_or_else(|| dt.to_string()),
        Data::Error(_) | Data::Empty => String::new(),
        Data::String(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`, with the
/// time when it has one.
fn excel_date(serial: f64) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.trunc();
    let secs = ((serial - days) * 86_400.0).round();
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    // Both are bounded above: the casts cannot overflow.
    let at = base
        .checked_add_signed(chrono::TimeDelta::try_days(days as i64)?)?
        .checked_add_signed(chrono::TimeDelta::try_seconds(secs as i64)?)?;
    Some(if secs == 0.0 { at.date().to_string() } else { at.format("%Y-%m-%d %H:%M").to_string() })
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

    fn fixture(path: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Each office fixture: its MIME type, words its text must hold, words it
    /// must not, and the kind its text alone gives.
    #[test]
    fn office_documents_give_their_text_and_kind() {
        let cases: &[(&str, &str, &[&str], &[&str], DocKind)] = &[
            (
                "documents/nabidka.docx",
                MIME_DOCX,
                &[
                    "Cenová nabídka č. N-2026-014\n",
                    "Odběratel:\tPekárna Novák s.r.o.\nHusova 31, 370 01 České Budějovice",
                    "nabízíme fotografie sortimentu pro e-shop.",
                    "Retuš & příprava",
                    "Celkem bez DPH: 18 000 Kč\tPlatnost nabídky: 30 dní",
                    "S pozdravem Jana Modrá",
                    "Modrý kámen s.r.o. – IČO 27082440",
                    "www.modry-kamen.cz",
                ],
                &["SMAZÁNO", "\t\t", "\n\n"],
                DocKind::Offer,
            ),
            (
                "documents/smlouva.odt",
                MIME_ODT,
                &[
                    "Smlouva o dílo č. SD-2026-03\nuzavřená mezi Modrý kámen s.r.o., IČO 27082440,\na Acme Stavby s.r.o., IČO 27468135.\n",
                    "navrhnout   a vytisknout katalog 2026.",
                    "Termín:\tdo 31. 3. 2026\nCena díla:\t77 300 Kč bez DPH",
                    "V Praze dne 1. 3. 2026 & v Kladně",
                ],
                &["T1", "bold"],
                DocKind::Contract,
            ),
            (
                "documents/cenik.xlsx",
                MIME_XLSX,
                &[
                    "Ceník\nCeník – nabídka služeb 2026\nSlužba\tJednotka\tCena bez DPH\nFotografie produktu\tks\t350\n",
                    "Tisk katalogu A4\tks\t86.5",
                    "Slevy\nSleva\tOd\n5 %\t50000\n10 %\t200000",
                ],
                &["\t\n"],
                DocKind::Offer,
            ),
            (
                "documents/cenik.ods",
                MIME_ODS,
                &["Ceník – nabídka služeb 2026", "Retuš a příprava\th\t800", "10 %\t200000"],
                &[],
                DocKind::Offer,
            ),
        ];
        for (file, mime, present, absent, kind) in cases {
            let bytes = fixture(file);
            let text = extract_text(mime, &bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            for p in *present {
                assert!(text.contains(p), "{file}: no {p:?} in\n{text}");
            }
            for a in *absent {
                assert!(!text.contains(a), "{file}: {a:?} in\n{text}");
            }
            assert_eq!(classify("scan0001", &text), Some(*kind), "{file}");
            // Sent as application/octet-stream (or zip): recognised by content.
            for other in ["application/octet-stream", "application/zip", ""] {
                assert_eq!(extract_text(other, &bytes).as_deref(), Ok(text.as_str()), "{file} as {other:?}");
            }
            let name = file.rsplit('/').next().unwrap_or_default();
            assert!(candidate(name, mime), "{file}");
        }
        assert_eq!(classify("nabidka.docx", ""), Some(DocKind::Offer));
        assert_eq!(classify("smlouva.odt", ""), Some(DocKind::Contract));
        // The same price list, as Excel and as OpenDocument, reads the same.
        let xlsx = extract_text(MIME_XLSX, &fixture("documents/cenik.xlsx")).unwrap();
        assert_eq!(extract_text(MIME_ODS, &fixture("documents/cenik.ods")).unwrap(), xlsx);
    }

    #[test]
    fn isdoc_attachments_are_invoices_with_readable_text() {
        assert!(candidate("faktura.isdoc", "application/octet-stream"));
        assert!(candidate("x.bin", "application/x-isdocx"));
        assert_eq!(classify("0001.isdocx", ""), Some(DocKind::Invoice));
        let xml = fixture("isdoc/faktura-2026-118.isdoc");
        for mime in ["application/octet-stream", "application/xml", "text/xml", "application/x-isdoc"] {
            let text = extract_text(mime, &xml).unwrap();
            assert!(
                text.starts_with("Faktura 2026-118\nDodavatel: Modrý kámen s.r.o., IČO 27082440, DIČ CZ27082440\n"),
                "{mime}: {text}"
            );
            assert!(text.contains("Odběratel: Acme Stavby s.r.o., IČO 27468135"), "{text}");
            assert!(text.contains("Tisk katalogu A4, 250 ks\t250 ks\t21 500 CZK"), "{text}");
            assert!(text.contains("Celkem s DPH: 93 533 CZK"), "{text}");
            assert_eq!(classify("attachment-1.xml", &text), Some(DocKind::Invoice));
        }
        // Raw ISDOC XML (as a text/* fallback would give it) is an invoice too.
        assert_eq!(classify("data.xml", &String::from_utf8_lossy(&xml)), Some(DocKind::Invoice));
        let credit = extract_text("application/octet-stream", &fixture("isdoc/dobropis-2026-007.isdoc")).unwrap();
        assert!(credit.starts_with("Dobropis (opravný daňový doklad) 2026-007"), "{credit}");
        let package = extract_text("application/zip", &fixture("isdoc/faktura-2026-131.isdocx")).unwrap();
        assert!(package.starts_with("Faktura 2026-131\n"), "{package}");
        let e = extract_text("application/x-isdoc", &fixture("isdoc/broken-truncated.isdoc")).unwrap_err();
        assert!(e.starts_with("cannot read the ISDOC invoice"), "{e}");
        // A UBL invoice is XML, not ISDOC: as text/xml it is text.
        let ubl = fixture("isdoc/not-isdoc.xml");
        assert!(extract_text("text/xml", &ubl).unwrap().contains("UBL-2026-1"));
        assert_eq!(extract_text("application/xml", &ubl).unwrap(), "");
    }

    #[test]
    fn the_pdf_inside_the_isdocx_states_its_invoice() {
        let text = extract_text("application/pdf", &fixture("isdoc/faktura-2026-131.pdf")).unwrap();
        let inv = crate::invoice::from_text(&text).unwrap_or_else(|| panic!("no invoice in {text:?}"));
        assert_eq!((inv.number.as_str(), inv.total, inv.currency.as_str()), ("2026-131", 21780.0, "CZK"));
        assert_eq!(inv.icos, ["27082440", "05831296"]);
    }

    #[test]
    fn damaged_office_files_and_zip_bombs_are_errors() {
        for mime in [MIME_DOCX, MIME_XLSX, MIME_ODT, MIME_ODS] {
            let e = extract_text(mime, b"PK\x03\x04 garbage").unwrap_err();
            assert!(e.starts_with("cannot read the "), "{mime}: {e}");
            assert!(extract_text(mime, b"").is_err(), "{mime}");
        }
        let no_body = zip_of(&[("[Content_Types].xml", b"wordprocessingml.document.main".as_slice())]);
        assert_eq!(
            extract_text("application/octet-stream", &no_body),
            Err("cannot read the Word document: it has no word/document.xml".into())
        );
        let broken = zip_of(&[("word/document.xml", b"<w:document><w:body><w:p><w:r><w:t>ok".as_slice())]);
        assert!(extract_text(MIME_DOCX, &broken).unwrap_err().contains("ends before its elements are closed"));
        // A ZIP that is none of these is no text.
        assert_eq!(extract_text("application/zip", &zip_of(&[("a.txt", b"x".as_slice())])), Ok(String::new()));

        let names: Vec<String> = (0..=crate::invoice::MAX_ZIP_ENTRIES).map(|i| format!("word/media/{i}.png")).collect();
        let mut many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
        many.push(("word/document.xml", b"<w:document/>"));
        assert!(extract_text(MIME_DOCX, &zip_of(&many)).unwrap_err().contains("more than 200"));
        let big = vec![b' '; crate::invoice::MAX_XML_BYTES + 1];
        let bomb = zip_of(&[("word/document.xml", &big)]);
        assert!(extract_text(MIME_DOCX, &bomb).unwrap_err().contains("larger than 10 MB"));
        let part = vec![b' '; crate::invoice::MAX_XML_BYTES - 1];
        let parts: Vec<String> = (0..7).map(|i| format!("xl/worksheets/sheet{i}.xml")).collect();
        let wide: Vec<(&str, &[u8])> = parts.iter().map(|n| (n.as_str(), part.as_slice())).collect();
        let e = extract_text(MIME_XLSX, &zip_of(&wide)).unwrap_err();
        assert!(e.contains("inflates to more than 64 MB"), "{e}");
    }

    #[test]
    fn text_is_bounded_and_spaces_are_capped() {
        let mut out = TextOut::default();
        out.push(&"ž".repeat(MAX_TEXT_BYTES));
        assert!(out.full && out.text.len() <= MAX_TEXT_BYTES);
        let odt = zip_of(&[(
            "content.xml",
            br#"<office:document-content xmlns:office="o" xmlns:text="t"><office:body><office:text><text:p>a<text:s text:c="99999999999"/>b<text:s/>c</text:p></office:text></office:body></office:document-content>"#
                .as_slice(),
        )]);
        assert_eq!(extract_text(MIME_ODT, &odt).unwrap(), format!("a{}b c", " ".repeat(100)));
        assert_eq!(excel_date(46082.0).as_deref(), Some("2026-03-01"));
        assert_eq!(excel_date(46082.5).as_deref(), Some("2026-03-01 12:00"));
        assert_eq!(excel_date(f64::NAN), None);
        assert_eq!(excel_date(1e300), None);
    }
}
