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
    extract_unbounded(mime, bytes).map(|mut t| {
        if t.len() > MAX_TEXT_BYTES {
            let cut = (0..=MAX_TEXT_BYTES).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
            t.truncate(cut);
        }
        t
    })
}

fn extract_unbounded(mime: &str, bytes: &[u8]) -> Result<String, String> {
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
            Event::GeneralRef(r) if in_text && !skipped => out.push(&crate::xml::resolve_ref(&r)),
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

/// XLSX and ODS: each sheet's name on a line, then its rows, cells
/// tab-separated (trailing empty cells dropped).
///
/// kronika reads the sheets' XML itself rather than through calamine: on
/// hostile files calamine 0.38 allocates the whole dense cell grid (two
/// cells at A1 and XFD1048576 ask for hundreds of GB, and an allocation
/// failure aborts the process) and loops forever on an ODS table that is
/// never closed. Text for search needs neither the grid nor formulas.
fn sheets_text(bytes: &[u8], format: Format) -> Result<String, String> {
    let mut entries = Entries::open(bytes)?;
    let mut out = TextOut::default();
    match format {
        Format::Ods => {
            let xml = entries.read("content.xml")?;
            ods_sheets(&xml, &mut out)?;
        }
        _ => xlsx_sheets(&mut entries, &mut out)?,
    }
    Ok(out.finish())
}

/// The attribute with this local name (any prefix), decoded.
fn attr_of(e: &quick_xml::events::BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().as_ref() == local).map(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned())
    })
}

/// The most empty cells written for a gap or a repeat: enough to keep
/// columns apart, not enough to let a crafted sheet spin.
const MAX_CELL_GAP: usize = 64;

/// One row's cells, written as a line.
fn push_row(out: &mut TextOut, row: &mut Vec<String>) {
    let used = row.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
    if used > 0 {
        out.push(&row.get(..used).unwrap_or_default().join("\t"));
        out.newline();
    }
    row.clear();
}

/// Whitespace inside a cell as single spaces (a tab or newline would break
/// the row apart).
fn cell_clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ODS `content.xml`: `table:table` (its `table:name`), `table:table-row`,
/// `table:table-cell` with its `text:p` paragraphs; repeats bounded.
fn ods_sheets(xml: &[u8], out: &mut TextOut) -> Result<(), String> {
    use quick_xml::events::Event;
    let text = crate::invoice::decode_xml(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut depth = 0usize;
    let mut row: Vec<String> = Vec::new();
    let mut cell: Option<(String, usize)> = None;
    let mut skip_depth: Option<usize> = None;
    let repeat_of = |e: &quick_xml::events::BytesStart<'_>| -> usize {
        attr_of(e, b"number-columns-repeated").and_then(|r| r.trim().parse().ok()).unwrap_or(1)
    };
    loop {
        let event = reader.read_event().map_err(|e| format!("its XML is damaged ({e})"))?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > crate::invoice::MAX_DEPTH * 4 {
                    return Err("its XML is nested too deeply".into());
                }
                if skip_depth.is_some() {
                    continue;
                }
                match e.local_name().as_ref() {
                    b"table" => {
                        out.newline();
                        out.push(&cell_clean(&attr_of(&e, b"name").unwrap_or_default()));
                        out.newline();
                    }
                    b"table-row" => row.clear(),
                    b"table-cell" | b"covered-table-cell" => cell = Some((String::new(), repeat_of(&e))),
                    b"p" | b"h" => {
                        if let Some((c, _)) = cell.as_mut().filter(|(c, _)| !c.is_empty()) {
                            c.push(' ');
                        }
                    }
                    // Comments are not the sheet's text.
                    b"annotation" => skip_depth = Some(depth),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if skip_depth.is_some() {
                    continue;
                }
                match e.local_name().as_ref() {
                    b"table-cell" | b"covered-table-cell" => {
                        row.extend(std::iter::repeat_n(String::new(), repeat_of(&e).clamp(1, MAX_CELL_GAP)));
                    }
                    b"s" | b"tab" | b"line-break" => {
                        if let Some((c, _)) = cell.as_mut() {
                            c.push(' ');
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if let Some(d) = skip_depth {
                    if depth < d {
                        skip_depth = None;
                    }
                    continue;
                }
                match e.local_name().as_ref() {
                    b"table-cell" | b"covered-table-cell" => {
                        if let Some((c, repeat)) = cell.take() {
                            let c = cell_clean(&c);
                            // Repeated content once per column, up to a cap.
                            let n = if c.is_empty() { repeat.clamp(1, MAX_CELL_GAP) } else { repeat.clamp(1, 16) };
                            row.extend(std::iter::repeat_n(c, n));
                        }
                    }
                    b"table-row" => push_row(out, &mut row),
                    b"table" => out.newline(),
                    _ => {}
                }
            }
            Event::Text(t) if skip_depth.is_none() => {
                if let Some((c, _)) = cell.as_mut() {
                    c.push_str(&t.xml10_content().map_err(|e| format!("its text cannot be decoded ({e})"))?);
                }
            }
            Event::GeneralRef(r) if skip_depth.is_none() => {
                if let Some((c, _)) = cell.as_mut() {
                    c.push_str(&crate::xml::resolve_ref(&r));
                }
            }
            Event::Eof if depth == 0 => return Ok(()),
            Event::Eof => return Err("its XML ends before its elements are closed".into()),
            _ => {}
        }
        if out.full {
            return Ok(());
        }
    }
}

/// Sheet names and parts in workbook order: `xl/workbook.xml`'s sheets and
/// their relationships; without them, the worksheet parts by name.
fn xlsx_sheet_parts(entries: &mut Entries<'_>, names: &[String]) -> Result<Vec<(String, String)>, String> {
    use quick_xml::events::Event;
    let mut rels: Vec<(String, String)> = Vec::new();
    if names.iter().any(|n| n == "xl/_rels/workbook.xml.rels") {
        let xml = crate::invoice::decode_xml(&entries.read("xl/_rels/workbook.xml.rels")?);
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"Relationship" => {
                    if let (Some(id), Some(target)) = (attr_of(&e, b"Id"), attr_of(&e, b"Target")) {
                        let target = target.replace('\\', "/");
                        let path = match target.strip_prefix('/') {
                            Some(abs) => abs.to_string(),
                            None => format!("xl/{}", target.trim_start_matches("./")),
                        };
                        rels.push((id, path));
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    let mut sheets = Vec::new();
    if names.iter().any(|n| n == "xl/workbook.xml") {
        let xml = crate::invoice::decode_xml(&entries.read("xl/workbook.xml")?);
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"sheet" => {
                    let name = attr_of(&e, b"name").unwrap_or_default();
                    let part =
                        attr_of(&e, b"id").and_then(|id| rels.iter().find(|(i, _)| *i == id).map(|(_, p)| p.clone()));
                    if let Some(part) = part.filter(|p| names.contains(p)) {
                        sheets.push((name, part));
                    }
                }
                Ok(Event::Eof) => break,
                Err(e) => return Err(format!("its workbook is damaged ({e})")),
                Ok(_) => {}
            }
        }
    }
    if sheets.is_empty() {
        let mut parts: Vec<&String> =
            names.iter().filter(|n| n.starts_with("xl/worksheets/") && n.ends_with(".xml")).collect();
        parts.sort();
        sheets = parts
            .into_iter()
            .map(|p| (p.trim_start_matches("xl/worksheets/").trim_end_matches(".xml").to_string(), p.clone()))
            .collect();
    }
    Ok(sheets)
}

/// `xl/sharedStrings.xml`: each `si`'s text (its runs' `t`, not the
/// phonetic `rPh`).
fn xlsx_shared_strings(xml: &[u8]) -> Result<Vec<String>, String> {
    use quick_xml::events::Event;
    let text = crate::invoice::decode_xml(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut strings = Vec::new();
    let mut current: Option<String> = None;
    let (mut in_t, mut in_phonetic) = (false, false);
    loop {
        match reader.read_event().map_err(|e| format!("its shared strings are damaged ({e})"))? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"si" => current = Some(String::new()),
                b"t" => in_t = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if e.local_name().as_ref() == b"si" => strings.push(String::new()),
            Event::End(e) => match e.local_name().as_ref() {
                b"si" => strings.push(cell_clean(&current.take().unwrap_or_default())),
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(t) if in_t && !in_phonetic => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.xml10_content().map_err(|e| format!("its text cannot be decoded ({e})"))?);
                }
            }
            Event::GeneralRef(r) if in_t && !in_phonetic => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&crate::xml::resolve_ref(&r));
                }
            }
            Event::Eof => return Ok(strings),
            _ => {}
        }
    }
}

/// Which cell styles (`s="N"`, an index into `cellXfs`) show dates:
/// Excel's built-in date formats and custom ones with days or years.
fn xlsx_date_styles(xml: &[u8]) -> Vec<bool> {
    use quick_xml::events::Event;
    let text = crate::invoice::decode_xml(xml);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut custom: Vec<(u32, bool)> = Vec::new();
    let mut styles = Vec::new();
    let mut in_xfs = false;
    let is_date_code = |code: &str| {
        // Quoted text and [colour]/[$-locale] sections are not the format.
        let mut plain = String::new();
        let (mut quoted, mut bracket) = (false, false);
        for c in code.chars() {
            match c {
                '"' => quoted = !quoted,
                '[' if !quoted => bracket = true,
                ']' if !quoted => bracket = false,
                _ if !quoted && !bracket => plain.push(c.to_ascii_lowercase()),
                _ => {}
            }
        }
        plain.contains('y') || plain.contains('d')
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"cellXfs" => in_xfs = true,
            Ok(Event::End(e)) if e.local_name().as_ref() == b"cellXfs" => in_xfs = false,
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                b"numFmt" => {
                    let id = attr_of(&e, b"numFmtId").and_then(|i| i.parse().ok());
                    if let (Some(id), Some(code)) = (id, attr_of(&e, b"formatCode")) {
                        custom.push((id, is_date_code(&code)));
                    }
                }
                b"xf" if in_xfs => {
                    let id: u32 = attr_of(&e, b"numFmtId").and_then(|i| i.parse().ok()).unwrap_or(0);
                    let date = matches!(id, 14..=22 | 45..=47) || custom.iter().any(|(c, d)| *c == id && *d);
                    styles.push(date);
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => return styles,
            Ok(_) => {}
        }
    }
}

/// The column of a cell reference (`C7` → 2), at most Excel's 16384.
fn column_of(reference: &str) -> Option<usize> {
    let letters: String = reference.chars().take_while(char::is_ascii_alphabetic).collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let n = letters.bytes().fold(0usize, |n, b| n * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1));
    (n <= 16_384).then(|| n - 1)
}

/// A number as Rust writes it (`350`, `86.5`), or as written when it is
/// not one.
fn number_text(v: &str) -> String {
    match v.trim().parse::<f64>() {
        Ok(f) if f.is_finite() => f.to_string(),
        _ => v.trim().to_string(),
    }
}

/// Empty cells up to the column a cell reference names (bounded).
fn pad_to(row: &mut Vec<String>, e: &quick_xml::events::BytesStart<'_>) {
    if let Some(col) = attr_of(e, b"r").as_deref().and_then(column_of) {
        let gap = col.saturating_sub(row.len()).min(MAX_CELL_GAP);
        row.extend(std::iter::repeat_n(String::new(), gap));
    }
}

/// XLSX: shared strings, date styles, then each sheet's rows (`row`, `c`
/// with `t`, `s` and `r`; `v` values, inline `is/t` strings; formulas are
/// not text, their cached values are).
fn xlsx_sheets(entries: &mut Entries<'_>, out: &mut TextOut) -> Result<(), String> {
    use quick_xml::events::Event;
    let names = zip_names(&entries.archive);
    let shared = match names.iter().any(|n| n == "xl/sharedStrings.xml") {
        true => xlsx_shared_strings(&entries.read("xl/sharedStrings.xml")?)?,
        false => Vec::new(),
    };
    let dates = match names.iter().any(|n| n == "xl/styles.xml") {
        true => xlsx_date_styles(&entries.read("xl/styles.xml")?),
        false => Vec::new(),
    };
    let sheets = xlsx_sheet_parts(entries, &names)?;
    if sheets.is_empty() {
        return Err("it has no worksheets".into());
    }
    for (name, part) in sheets {
        let xml = entries.read(&part)?;
        let text = crate::invoice::decode_xml(&xml);
        let mut reader = quick_xml::Reader::from_str(&text);
        out.newline();
        out.push(&cell_clean(&name));
        out.newline();
        let mut row: Vec<String> = Vec::new();
        // The open cell: its type, style and value (or inline text).
        let mut cell: Option<(String, usize, String)> = None;
        let (mut in_v, mut in_t, mut depth) = (false, false, 0usize);
        loop {
            match reader.read_event().map_err(|e| format!("its sheet {name:?} is damaged ({e})"))? {
                Event::Start(e) => {
                    depth += 1;
                    if depth > crate::invoice::MAX_DEPTH * 4 {
                        return Err("its XML is nested too deeply".into());
                    }
                    match e.local_name().as_ref() {
                        b"row" => row.clear(),
                        b"c" => {
                            pad_to(&mut row, &e);
                            let t = attr_of(&e, b"t").unwrap_or_default();
                            let s = attr_of(&e, b"s").and_then(|s| s.parse().ok()).unwrap_or(0);
                            cell = Some((t, s, String::new()));
                        }
                        b"v" => in_v = true,
                        b"t" => in_t = true,
                        _ => {}
                    }
                }
                Event::Empty(e) if e.local_name().as_ref() == b"c" => {
                    pad_to(&mut row, &e);
                    row.push(String::new());
                }
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    match e.local_name().as_ref() {
                        b"v" => in_v = false,
                        b"t" => in_t = false,
                        b"c" => {
                            if let Some((t, s, value)) = cell.take() {
                                row.push(xlsx_cell(&t, s, &value, &shared, &dates));
                            }
                        }
                        b"row" => push_row(out, &mut row),
                        _ => {}
                    }
                }
                Event::Text(t) if in_v || in_t => {
                    if let Some((_, _, v)) = cell.as_mut() {
                        v.push_str(&t.xml10_content().map_err(|e| format!("its text cannot be decoded ({e})"))?);
                    }
                }
                Event::GeneralRef(r) if in_v || in_t => {
                    if let Some((_, _, v)) = cell.as_mut() {
                        v.push_str(&crate::xml::resolve_ref(&r));
                    }
                }
                Event::Eof if depth == 0 => break,
                Event::Eof => return Err(format!("its sheet {name:?} ends before its elements are closed")),
                _ => {}
            }
            if out.full {
                return Ok(());
            }
        }
        push_row(out, &mut row);
    }
    Ok(())
}

/// One XLSX cell as text, by its type `t` and style `s`.
fn xlsx_cell(t: &str, s: usize, value: &str, shared: &[String], dates: &[bool]) -> String {
    match t {
        "s" => value.trim().parse::<usize>().ok().and_then(|i| shared.get(i).cloned()).unwrap_or_default(),
        "inlineStr" | "str" | "d" => cell_clean(value),
        "b" => (if value.trim() == "1" { "TRUE" } else { "FALSE" }).to_string(),
        "e" => String::new(),
        _ if dates.get(s).copied().unwrap_or(false) => {
            value.trim().parse::<f64>().ok().and_then(excel_date).unwrap_or_else(|| number_text(value))
        }
        _ => number_text(value),
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

    use crate::invoice::tests::zip_of;

    /// Each office fixture: its MIME type, words its text must hold, words it
    /// must not, and the kind its text alone gives.
    #[test]
    fn office_documents_give_their_text_and_kind() {
        type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a [&'a str], DocKind);
        let cases: &[Case<'_>] = &[
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
    fn hostile_sheets_are_read_without_a_grid_or_a_hang() {
        // Two cells far apart: no dense grid, the gap bounded.
        let sheet = br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Start</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>7</v></c></row></sheetData></worksheet>"#;
        let far = zip_of(&[("xl/worksheets/sheet1.xml", sheet.as_slice())]);
        let text = extract_text(MIME_XLSX, &far).unwrap();
        assert_eq!(text, format!("sheet1\nStart\n{}7", "\t".repeat(MAX_CELL_GAP)));
        // An ODS table that is never closed is an error, not a loop.
        let open = zip_of(&[("content.xml", br#"<office:document-content><office:body><office:spreadsheet><table:table table:name="A"><table:table-row><table:table-cell><text:p>x</text:p></table:table-cell>"#.as_slice())]);
        assert!(extract_text(MIME_ODS, &open).unwrap_err().contains("ends before its elements are closed"));
        // Huge repeats are capped; comments are not text.
        let repeats = zip_of(&[("content.xml", br#"<d><table:table table:name="R"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384"><text:p>a</text:p><office:annotation><text:p>comment</text:p></office:annotation></table:table-cell><table:table-cell table:number-columns-repeated="99999999999999999999"/><table:table-cell><text:p>b</text:p><text:p>c</text:p></table:table-cell></table:table-row></table:table></d>"#.as_slice())]);
        let text = extract_text(MIME_ODS, &repeats).unwrap();
        assert_eq!(text, format!("R\n{}\t{}\tb c", vec!["a"; 16].join("\t"), ""));
        // Dates by style (built-in 14, a custom d.m.yyyy), shared strings with runs.
        let styles = r#"<styleSheet><numFmts><numFmt numFmtId="164" formatCode="d/m/yyyy;@"/><numFmt numFmtId="165" formatCode="&quot;Kč&quot; #,##0"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/></cellXfs></styleSheet>"#.as_bytes();
        let shared =
            r#"<sst><si><r><t>Ce</t></r><r><t>ník</t></r><rPh><t>x</t></rPh></si><si><t>A &amp; B</t></si></sst>"#
                .as_bytes();
        let sheet = br#"<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c s="1"><v>46082</v></c><c s="2"><v>46082.5</v></c><c s="3"><v>1200</v></c><c t="b"><v>1</v></c><c t="s"><v>99</v></c><c t="e"><v>#DIV/0!</v></c><c><f>A1</f><v>3.50</v></c></row></sheetData></worksheet>"#;
        let book = zip_of(&[
            ("xl/styles.xml", styles),
            ("xl/sharedStrings.xml", shared),
            ("xl/worksheets/sheet1.xml", sheet.as_slice()),
        ]);
        assert_eq!(
            extract_text(MIME_XLSX, &book).unwrap(),
            "sheet1\nCeník\tA & B\t2026-03-01\t2026-03-01 12:00\t1200\tTRUE\t\t\t3.5"
        );
        assert!(
            extract_text(MIME_XLSX, &zip_of(&[("xl/workbook.xml", b"<workbook/>".as_slice())]))
                .unwrap_err()
                .contains("no worksheets")
        );
        assert_eq!(column_of("A1"), Some(0));
        assert_eq!(column_of("XFD7"), Some(16_383));
        assert_eq!(column_of("XFE1"), None);
        assert_eq!(column_of("ZZZZ1"), None);
        assert_eq!(column_of("12"), None);
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

/// Damaged copies of the fixtures (bytes changed, cut, repeated inside
/// their XML, then zipped again): every one is text or a "cannot" error.
/// A seeded xorshift, so a failure repeats.
#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod mutations {
    use std::io::{Read, Write};
    #[test]
    fn mutated_inner_xml_never_panics() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let files = [
            "documents/nabidka.docx",
            "documents/smlouva.odt",
            "documents/cenik.xlsx",
            "documents/cenik.ods",
            "isdoc/faktura-2026-131.isdocx",
        ];
        let mut seed: u64 = 0x9E3779B97F4A7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mimes = [
            super::MIME_DOCX,
            super::MIME_XLSX,
            super::MIME_ODT,
            super::MIME_ODS,
            "application/x-isdocx",
            "application/octet-stream",
        ];
        let tokens: &[&[u8]] = &[
            b"<",
            b">",
            b"</",
            b"/>",
            b"&",
            b"&#x0;",
            b"&#99999999;",
            b"<w:t>",
            b"<text:s text:c=\"-1\"/>",
            b"<c t=\"s\"><v>999</v></c>",
            b"<v>1e400</v>",
            b"<t>",
            b"\"",
            b"]]>",
            b"<![CDATA[",
            b"<row r=\"99999999\">",
            b"<c r=\"XFD1048576\">",
        ];
        let mut n = 0;
        for f in files {
            let orig = std::fs::read(dir.join(f)).unwrap();
            let mut a = zip::ZipArchive::new(std::io::Cursor::new(&orig)).unwrap();
            let mut entries = Vec::new();
            for i in 0..a.len() {
                let mut e = a.by_index(i).unwrap();
                let mut b = Vec::new();
                e.read_to_end(&mut b).unwrap();
                entries.push((e.name().unwrap().to_string(), b));
            }
            for _ in 0..300 {
                let mut es = entries.clone();
                let pick = (next() as usize) % es.len();
                let b = &mut es[pick].1;
                for _ in 0..((next() % 6) + 1) {
                    let i = (next() as usize) % b.len().max(1);
                    match next() % 5 {
                        0 => {
                            if let Some(x) = b.get_mut(i) {
                                *x = next() as u8;
                            }
                        }
                        1 => b.truncate(i),
                        2 => {
                            let t = tokens[(next() as usize) % tokens.len()];
                            let at = i.min(b.len());
                            b.splice(at..at, t.iter().copied());
                        }
                        3 => {
                            let len = ((next() as usize) % 50).min(b.len() - i.min(b.len()));
                            let at = i.min(b.len());
                            let chunk: Vec<u8> = b[at..at + len].to_vec();
                            b.splice(at..at, chunk);
                        }
                        _ => {
                            if i < b.len() {
                                b.remove(i);
                            }
                        }
                    }
                }
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                for (name, bytes) in &es {
                    w.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
                    w.write_all(bytes).unwrap();
                }
                let z = w.finish().unwrap().into_inner();
                for m in mimes {
                    match super::extract_text(m, &z) {
                        Ok(t) => assert!(t.len() <= super::MAX_TEXT_BYTES),
                        Err(e) => assert!(e.starts_with("cannot "), "{e}"),
                    }
                }
                let _ = crate::invoice::parse_isdocx(&z);
                for (_, b) in &es {
                    let _ = crate::invoice::parse_isdoc(b);
                }
                n += 1;
            }
        }
        assert_eq!(n, 1500);
    }
}
