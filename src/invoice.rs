//! Invoices found in mail: ISDOC (`.isdoc` XML, `.isdocx` packages) and
//! PDF text that clearly states an invoice. Pure.
//!
//! ISDOC is the Czech e-invoice format (ISDOC 6.0.x, namespace
//! `http://isdoc.cz/namespace/2013`; 5.x used
//! `http://isdoc.cz/namespace/invoice`). The XML is read into a small,
//! bounded tree of elements by local name (prefixes do not matter), and the
//! fields kronika needs are taken from it by path.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::io::Read;

use chrono::NaiveDate;
use quick_xml::events::Event;

use crate::xml::{Node, XmlError, element_parts, split_qname};
use serde::Serialize;

/// An ISDOC invoice, as far as kronika needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    /// `<ID>`: the number people quote.
    pub number: String,
    /// `<UUID>`.
    pub uuid: Option<String>,
    /// From `<DocumentType>`.
    pub kind: InvoiceKind,
    /// `<IssueDate>`.
    pub issued: NaiveDate,
    /// `<TaxPointDate>` (DUZP).
    pub taxable: Option<NaiveDate>,
    /// `PaymentMeans/Payment/Details/PaymentDueDate`.
    pub due: Option<NaiveDate>,
    /// `ForeignCurrencyCode` when the amounts are in it, else
    /// `LocalCurrencyCode`; upper-case ISO 4217 (CZK when absent).
    pub currency: String,
    /// `LegalMonetaryTotal/TaxExclusiveAmount` (the `Curr` one when foreign).
    pub without_vat: f64,
    /// `LegalMonetaryTotal/TaxInclusiveAmount` (the `Curr` one when foreign).
    pub with_vat: f64,
    /// `LegalMonetaryTotal/PayableAmount` (the `Curr` one when foreign).
    pub payable: Option<f64>,
    /// `AccountingSupplierParty`.
    pub supplier: Party,
    /// `AccountingCustomerParty`.
    pub customer: Party,
    /// `InvoiceLines/InvoiceLine`.
    pub lines: Vec<Line>,
    /// The invoice's `<Note>`s, one per line.
    pub note: Option<String>,
}

/// A supplier or customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// `PartyName/Name`; empty when the invoice names none.
    pub name: String,
    /// `PartyIdentification/ID` when it is a valid IČO (8 digits).
    pub ico: Option<String>,
    /// `PartyTaxScheme/CompanyID` (DIČ), upper case, no spaces.
    pub dic: Option<String>,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `Item/Description`.
    pub description: String,
    /// `InvoicedQuantity`.
    pub quantity: Option<f64>,
    /// `InvoicedQuantity/@unitCode`.
    pub unit: Option<String>,
    /// `LineExtensionAmount` (the `Curr` one when foreign).
    pub without_vat: Option<f64>,
    /// `LineExtensionAmountTaxInclusive` (the `Curr` one when foreign).
    pub with_vat: Option<f64>,
}

/// What kind of tax document an invoice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// 1: faktura – daňový doklad; 7: zjednodušený daňový doklad.
    Invoice,
    /// 2: opravný daňový doklad (dobropis); 6: dobropis of an advance tax document.
    CreditNote,
    /// 3: vrubopis.
    DebitNote,
    /// 4: zálohová faktura; 5: daňový doklad k přijaté platbě.
    Advance,
}

impl InvoiceKind {
    /// A credit note lowers what the customer owes.
    pub fn is_credit(self) -> bool {
        self == InvoiceKind::CreditNote
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "invoice",
            InvoiceKind::CreditNote => "credit_note",
            InvoiceKind::DebitNote => "debit_note",
            InvoiceKind::Advance => "advance",
        }
    }

    /// ISDOC's `DocumentType` code.
    fn from_code(code: &str) -> Option<InvoiceKind> {
        Some(match code.trim() {
            "1" | "7" => InvoiceKind::Invoice,
            "2" | "6" => InvoiceKind::CreditNote,
            "3" => InvoiceKind::DebitNote,
            "4" | "5" => InvoiceKind::Advance,
            _ => return None,
        })
    }
}

/// Why an ISDOC invoice could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error("cannot read the ISDOC invoice: {0}")]
    Xml(String),
    #[error("cannot read the ISDOC invoice: its root is <{0}>, not an ISDOC <Invoice>")]
    NotIsdoc(String),
    #[error("cannot read the ISDOC invoice: it has no <{0}>")]
    Missing(&'static str),
    #[error("cannot read the ISDOC invoice: <{0}> holds {1:?}, which is not a valid value")]
    Invalid(&'static str, String),
    #[error("cannot open the ISDOCX package: {0}")]
    Package(String),
    #[error("cannot read the ISDOC invoice: it is larger than {} MB or nested deeper than {MAX_DEPTH} elements", MAX_XML_BYTES >> 20)]
    TooLarge,
}

/// The largest ISDOC XML read, and the largest entry read from a package.
pub const MAX_XML_BYTES: usize = 10 << 20;
/// The most entries a package (or an office document) may hold.
pub const MAX_ZIP_ENTRIES: usize = 200;
/// The deepest element nesting read (ISDOC needs fewer than 10).
pub const MAX_DEPTH: usize = 64;
/// The most elements read from one document.
const MAX_ELEMENTS: usize = 200_000;
/// Amounts at or beyond this are not believed.
const MAX_AMOUNT: f64 = 1e12;

const ISDOC_NAMESPACES: &[&str] = &["http://isdoc.cz/namespace/2013", "http://isdoc.cz/namespace/invoice"];

/// Is this attachment an ISDOC invoice (by name `.isdoc`/`.isdocx`, or mime
/// application/x-isdoc(x), or XML whose root is an ISDOC Invoice)?
pub fn is_isdoc(name: &str, mime: &str, bytes: &[u8]) -> bool {
    let name = name.trim().to_ascii_lowercase();
    let mime = mime.trim().to_ascii_lowercase();
    name.ends_with(".isdoc")
        || name.ends_with(".isdocx")
        || mime == "application/x-isdoc"
        || mime == "application/x-isdocx"
        || root_is_isdoc(bytes)
}

/// Whether the first element of some XML is an ISDOC `<Invoice>`: only the
/// beginning is looked at, so this is cheap on any attachment.
fn root_is_isdoc(bytes: &[u8]) -> bool {
    if !may_be_xml(bytes) {
        return false;
    }
    let head = bytes.get(..bytes.len().min(64 << 10)).unwrap_or(bytes);
    let text = decode_xml(head);
    let trimmed = text.trim_start();
    if !trimmed.starts_with('<') {
        return false;
    }
    let mut reader = quick_xml::Reader::from_str(trimmed);
    for _ in 0..1000 {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let (name, attrs) = element_parts(&e);
                return is_isdoc_root(&name, &attrs);
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    false
}

/// Whether bytes can start an XML document at all: a byte-order mark, or
/// `<` after white space. Looked at before anything is decoded, so a PDF
/// or an image is turned away at its first byte.
fn may_be_xml(bytes: &[u8]) -> bool {
    if encoding_rs::Encoding::for_bom(bytes).is_some() {
        return true;
    }
    bytes.iter().take(4096).find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

fn is_isdoc_root(qname: &str, attrs: &[(String, String)]) -> bool {
    let (prefix, local) = split_qname(qname);
    if local != "Invoice" {
        return false;
    }
    let xmlns = match prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    match attrs.iter().find(|(k, _)| *k == xmlns) {
        Some((_, ns)) => ISDOC_NAMESPACES.contains(&ns.trim()),
        // An ISDOC without a namespace is still read; but a prefixed root
        // whose prefix is not declared is not XML kronika understands.
        None => prefix.is_none(),
    }
}

/// Reads an ISDOC invoice from its XML: UTF-8 with or without a BOM, UTF-16
/// with a BOM, or the encoding its declaration names (windows-1250,
/// iso-8859-2, …).
pub fn parse_isdoc(xml: &[u8]) -> Result<Invoice, InvoiceError> {
    if xml.len() > MAX_XML_BYTES {
        return Err(InvoiceError::TooLarge);
    }
    let text = decode_xml(xml);
    let root = parse_tree(&text)?;
    if !is_isdoc_root(&root.qname, &root.attrs) {
        return Err(InvoiceError::NotIsdoc(root.qname.clone()));
    }
    invoice_from(&root)
}

/// Reads the main ISDOC document of an `.isdocx` package: the one its
/// `manifest.xml` names, or the only `.isdoc` entry when there is no
/// manifest.
pub fn parse_isdocx(zip: &[u8]) -> Result<Invoice, InvoiceError> {
    let mut archive = open_zip(zip).map_err(InvoiceError::Package)?;
    let names: Vec<String> = archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let manifest = names.iter().find(|n| n.eq_ignore_ascii_case("manifest.xml")).cloned();
    let main = match manifest {
        Some(m) => {
            let bytes = read_entry(&mut archive, &m).map_err(InvoiceError::Package)?;
            main_document(&bytes)
        }
        None => None,
    };
    let main = match main {
        Some(m) => names
            .iter()
            .find(|n| *n == &m || n.eq_ignore_ascii_case(&m))
            .cloned()
            .ok_or_else(|| InvoiceError::Package(format!("its manifest names {m:?}, which it does not hold")))?,
        None => {
            let isdocs: Vec<&String> = names.iter().filter(|n| n.to_ascii_lowercase().ends_with(".isdoc")).collect();
            match isdocs.as_slice() {
                [one] => (*one).clone(),
                [] => return Err(InvoiceError::Package("it holds no .isdoc file".into())),
                _ => {
                    return Err(InvoiceError::Package(
                        "it holds several .isdoc files and no manifest naming one".into(),
                    ));
                }
            }
        }
    };
    let bytes = read_entry(&mut archive, &main).map_err(InvoiceError::Package)?;
    parse_isdoc(&bytes)
}

/// The ISDOC invoice an attachment holds; `None` when it is not ISDOC.
pub fn from_attachment(name: &str, mime: &str, bytes: &[u8]) -> Option<Result<Invoice, InvoiceError>> {
    if !is_isdoc(name, mime, bytes) {
        return None;
    }
    Some(if bytes.starts_with(b"PK\x03\x04") { parse_isdocx(bytes) } else { parse_isdoc(bytes) })
}

/// `maindocument/@filename` of an ISDOCX manifest.
fn main_document(manifest: &[u8]) -> Option<String> {
    let root = parse_tree(&decode_xml(manifest)).ok()?;
    let main = if root.name == "maindocument" { Some(&root) } else { root.find("maindocument") };
    let name = main?.attr("filename")?.trim();
    // Packages made on Windows may name the file with a `./` or a backslash.
    let name = name.trim_start_matches("./").replace('\\', "/");
    (!name.is_empty()).then_some(name)
}

// ---------------------------------------------------------------------------
// ZIP, bounded.

/// A ZIP archive that passes the bomb checks: at most `MAX_ZIP_ENTRIES`
/// entries. Each entry is checked when read (`read_entry`).
pub(crate) fn open_zip(bytes: &[u8]) -> Result<zip::ZipArchive<std::io::Cursor<&[u8]>>, String> {
    let archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("it is not a ZIP file ({e})"))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("it holds {} files, more than {MAX_ZIP_ENTRIES}", archive.len()));
    }
    Ok(archive)
}

/// One entry's bytes, at most `MAX_XML_BYTES` of them whatever its header
/// claims (a lying header cannot make this read more).
pub(crate) fn read_entry<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, String> {
    let file = archive.by_name(name).map_err(|e| format!("cannot read {name:?} in it ({e})"))?;
    if file.encrypted() {
        return Err(format!("{name:?} in it is encrypted"));
    }
    if file.size() > MAX_XML_BYTES as u64 {
        return Err(format!("{name:?} in it is larger than {} MB", MAX_XML_BYTES >> 20));
    }
    let mut out = Vec::new();
    file.take(MAX_XML_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot read {name:?} in it ({e})"))?;
    if out.len() > MAX_XML_BYTES {
        return Err(format!("{name:?} in it is larger than {} MB", MAX_XML_BYTES >> 20));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// XML: decoding and a bounded element tree.

/// XML bytes as text: a BOM decides, else the declaration's encoding, else
/// UTF-8 (windows-1250 when the bytes are not UTF-8).
pub(crate) fn decode_xml(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let rest = bytes.get(bom..).unwrap_or_default();
        return enc.decode_without_bom_handling(rest).0.into_owned();
    }
    if let Some(label) = declared_encoding(bytes)
        && let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes())
        && enc != encoding_rs::UTF_8
    {
        return enc.decode_without_bom_handling(bytes).0.into_owned();
    }
    crate::text::decode_bytes(bytes)
}

/// The `encoding="…"` of an XML declaration at the start of the bytes.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(256)).unwrap_or(bytes);
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix("<?xml")?;
    let decl = decl.split("?>").next()?;
    let (_, after) = decl.split_once("encoding")?;
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = after.strip_prefix(quote)?.split(quote).next()?;
    Some(value.trim().to_string())
}

/// The root element of ISDOC XML, bounded in depth and element count.
fn parse_tree(text: &str) -> Result<Node, InvoiceError> {
    crate::xml::parse_tree(text, MAX_DEPTH, MAX_ELEMENTS).map_err(|e| match e {
        XmlError::TooLarge => InvoiceError::TooLarge,
        XmlError::Malformed(m) => InvoiceError::Xml(m),
    })
}

fn invoice_from(root: &Node) -> Result<Invoice, InvoiceError> {
    let number = root.text_at(&["ID"]).ok_or(InvoiceError::Missing("ID"))?;
    let number = crate::text::ellipsize(&single_line(number), 100);
    let kind_code = root.text_at(&["DocumentType"]).ok_or(InvoiceError::Missing("DocumentType"))?;
    let kind =
        InvoiceKind::from_code(kind_code).ok_or_else(|| InvoiceError::Invalid("DocumentType", kind_code.into()))?;
    let issued = date_at(root, &["IssueDate"], "IssueDate")?.ok_or(InvoiceError::Missing("IssueDate"))?;
    let taxable = date_at(root, &["TaxPointDate"], "TaxPointDate")?;
    let due = root
        .child("PaymentMeans")
        .into_iter()
        .flat_map(|pm| pm.children("Payment"))
        .find_map(|p| p.text_at(&["Details", "PaymentDueDate"]))
        .map(|d| parse_date(d).ok_or_else(|| InvoiceError::Invalid("PaymentDueDate", d.into())))
        .transpose()?;

    let local = root.text_at(&["LocalCurrencyCode"]).and_then(currency_code).unwrap_or_else(|| "CZK".into());
    let totals = root.child("LegalMonetaryTotal").ok_or(InvoiceError::Missing("LegalMonetaryTotal"))?;
    // The amounts are in the foreign currency only when the invoice names one
    // and gives its totals in it; otherwise its local amounts are the truth.
    let foreign = root
        .text_at(&["ForeignCurrencyCode"])
        .and_then(currency_code)
        .filter(|f| *f != local && totals.text_at(&["TaxInclusiveAmountCurr"]).is_some());
    let suffix = if foreign.is_some() { "Curr" } else { "" };
    let currency = foreign.unwrap_or(local);

    let without_vat = amount_required(totals, "TaxExclusiveAmount", suffix)?;
    let with_vat = amount_required(totals, "TaxInclusiveAmount", suffix)?;
    let payable = amount_optional(totals, "PayableAmount", suffix)?;

    let supplier = party(root, "AccountingSupplierParty")?;
    let customer = party(root, "AccountingCustomerParty")?;
    let lines = root
        .child("InvoiceLines")
        .into_iter()
        .flat_map(|l| l.children("InvoiceLine"))
        .map(|l| line(l, suffix))
        .collect();
    let notes: Vec<&str> = root.children("Note").map(|n| n.text.trim()).filter(|t| !t.is_empty()).collect();
    let note = (!notes.is_empty()).then(|| crate::text::ellipsize(&notes.join("\n"), 4000));
    let uuid = root.text_at(&["UUID"]).map(|u| crate::text::ellipsize(&single_line(u), 100));
    Ok(Invoice {
        number,
        uuid,
        kind,
        issued,
        taxable,
        due,
        currency,
        without_vat,
        with_vat,
        payable,
        supplier,
        customer,
        lines,
        note,
    })
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn currency_code(s: &str) -> Option<String> {
    let c = s.trim().to_ascii_uppercase();
    (c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

fn date_at(node: &Node, path: &[&str], field: &'static str) -> Result<Option<NaiveDate>, InvoiceError> {
    match node.text_at(path) {
        None => Ok(None),
        Some(t) => parse_date(t).map(Some).ok_or_else(|| InvoiceError::Invalid(field, t.into())),
    }
}

/// An `xs:date` (`2026-03-01`, maybe with a zone: `2026-03-01+01:00`,
/// `2026-03-01Z`); the zone does not move the day.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = s.get(..10)?;
    let rest = s.get(10..)?;
    if !(rest.is_empty() || rest.starts_with(['+', '-', 'Z', 'T'])) {
        return None;
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// An `xs:decimal`, finite and below `MAX_AMOUNT`.
fn parse_amount(s: &str) -> Option<f64> {
    let t: String = s.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() || t.len() > 40 || !t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+')) {
        return None;
    }
    // Some exporters write a decimal comma.
    let t = if t.contains('.') { t } else { t.replace(',', ".") };
    let v: f64 = t.parse().ok()?;
    (v.is_finite() && v.abs() < MAX_AMOUNT).then_some(v)
}

fn amount_element(node: &Node, base: &'static str, suffix: &str) -> Option<(String, &'static str)> {
    let name = format!("{base}{suffix}");
    node.text_at(&[name.as_str()]).map(|t| (t.to_string(), base))
}

fn amount_required(node: &Node, base: &'static str, suffix: &str) -> Result<f64, InvoiceError> {
    amount_optional(node, base, suffix)?.ok_or(InvoiceError::Missing(base))
}

fn amount_optional(node: &Node, base: &'static str, suffix: &str) -> Result<Option<f64>, InvoiceError> {
    match amount_element(node, base, suffix) {
        None => Ok(None),
        Some((t, field)) => parse_amount(&t).map(Some).ok_or(InvoiceError::Invalid(field, t)),
    }
}

fn party(root: &Node, role: &'static str) -> Result<Party, InvoiceError> {
    let p = root.child(role).ok_or(InvoiceError::Missing(role))?;
    // `<Party>` in ISDOC; tolerate its fields directly under the role.
    let p = p.child("Party").unwrap_or(p);
    let name =
        p.text_at(&["PartyName", "Name"]).map(|n| crate::text::ellipsize(&single_line(n), 300)).unwrap_or_default();
    let ico = p
        .children("PartyIdentification")
        .filter_map(|id| id.text_at(&["ID"]))
        .find_map(|id| crate::model::Ico::parse(id).ok())
        .map(|i| i.as_str().to_string());
    let dic = p
        .children("PartyTaxScheme")
        .filter_map(|t| t.text_at(&["CompanyID"]))
        .map(|d| d.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase())
        .find(|d| !d.is_empty() && d.chars().count() <= 20);
    Ok(Party { name, ico, dic })
}

fn line(l: &Node, suffix: &str) -> Line {
    let description = l
        .text_at(&["Item", "Description"])
        .or_else(|| l.text_at(&["Note"]))
        .map(|d| crate::text::ellipsize(&single_line(d), 1000))
        .unwrap_or_default();
    let qty = l.child("InvoicedQuantity");
    let quantity = qty.and_then(|q| parse_amount(&q.text));
    let unit = qty
        .and_then(|q| q.attr("unitCode"))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| crate::text::ellipsize(u, 20));
    let amount = |base: &'static str| amount_element(l, base, suffix).and_then(|(t, _)| parse_amount(&t));
    Line {
        description,
        quantity,
        unit,
        without_vat: amount("LineExtensionAmount"),
        with_vat: amount("LineExtensionAmountTaxInclusive"),
    }
}

// ---------------------------------------------------------------------------
// Invoices stated in text (a PDF's).

/// A PDF (or other document) text that clearly states an invoice: its
/// number and total, and what else it says plainly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextInvoice {
    pub number: String,
    pub total: f64,
    pub currency: String,
    pub issued: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    /// Valid IČOs the text names (after `IČ`, `IČO`), in order, once each.
    pub icos: Vec<String>,
    /// A credit note (dobropis, opravný daňový doklad that is not a vrubopis).
    pub credit: bool,
}

/// A PDF (or other document) text that clearly states an invoice:
/// "Faktura č. 2026-118" / "Faktura – daňový doklad č." / "Invoice No." and
/// "Celkem k úhradě 12 345,00 Kč" / "Total due EUR 1,234.50". Only when
/// BOTH number and total are found; a credit note ("Dobropis", "Opravný
/// daňový doklad", "Credit note") flagged.
pub fn from_text(text: &str) -> Option<TextInvoice> {
    // Extracted PDF text has lost its lines (and may be huge): words are
    // what is compared, folded, in the first part of the document only.
    let words: Vec<Word<'_>> = text.split_whitespace().take(MAX_TEXT_WORDS).map(Word::new).collect();
    let number = text_number(&words)?;
    let (total, currency) = text_total(&words)?;
    let folded: String = words.iter().map(|w| w.folded.as_str()).collect::<Vec<_>>().join(" ");
    let credit = folded.contains("dobropis")
        || folded.contains("credit note")
        || (folded.contains("opravny danovy doklad") && !folded.contains("vrubopis"));
    let currency = currency.or_else(|| currency_anywhere(&words)).unwrap_or_else(|| "CZK".into());
    Some(TextInvoice {
        number,
        total,
        currency,
        issued: text_date(&words, ISSUED_PHRASES),
        due: text_date(&words, DUE_PHRASES),
        icos: text_icos(&words),
        credit,
    })
}

/// How many words of a text `from_text` looks at (an invoice states its
/// number and total on its first pages).
const MAX_TEXT_WORDS: usize = 20_000;

/// A word of the text and its folded form, without the punctuation that
/// ends it (`č.:` → `c.`, `úhradě:` → `uhrade`).
struct Word<'a> {
    raw: &'a str,
    folded: String,
}

impl<'a> Word<'a> {
    fn new(raw: &'a str) -> Word<'a> {
        let folded = crate::text::fold(raw);
        let folded = folded.trim_end_matches([':', ',', ';']).to_string();
        Word { raw, folded }
    }
}

/// Words after which an invoice number follows (possibly after fillers).
const NUMBER_WORDS: &[&str] =
    &["faktura", "faktury", "fakturu", "invoice", "dobropis", "dobropisu", "vrubopis", "doklad", "dokladu", "note"];
/// Words that may stand between a document word and its number.
const NUMBER_FILLERS: &[&str] = &[
    "-", "–", "—", "danovy", "doklad", "dokladu", "c", "c.", "cislo", "no", "no.", "nr", "nr.", "number", "#", "num.",
    "ref.",
];

/// The number after "Faktura č.", "Faktura – daňový doklad č.", "Číslo
/// faktury:", "Invoice No.", "Opravný daňový doklad č.", "Credit note #".
fn text_number(words: &[Word<'_>]) -> Option<String> {
    for (i, w) in words.iter().enumerate() {
        if !NUMBER_WORDS.contains(&w.folded.as_str()) {
            continue;
        }
        // "Credit note" and "doklad" count only as whole phrases.
        if w.folded == "note" && !(i > 0 && words.get(i - 1).is_some_and(|p| p.folded == "credit")) {
            continue;
        }
        let mut saw_filler = false;
        for next in words.iter().skip(i + 1).take(6) {
            if NUMBER_FILLERS.contains(&next.folded.as_str()) {
                saw_filler = true;
                continue;
            }
            // `č.2026-118`, `#2026-118`, `No.2026-118`: a filler glued on.
            if let Some(n) = glued_number(next) {
                return Some(n);
            }
            if let Some(n) = number_token(next.raw) {
                // Without "č."/"No." the next word must look like a number
                // with a separator, not a bare year ("Faktura 2026").
                if saw_filler || n.contains(['-', '/']) || n.chars().any(|c| c.is_ascii_alphabetic()) {
                    return Some(n);
                }
            }
            break;
        }
    }
    None
}

fn glued_number(w: &Word<'_>) -> Option<String> {
    let (prefix, rest) = w.raw.split_once(['.', '#', ':'])?;
    let p = crate::text::fold(prefix);
    if !matches!(p.as_str(), "" | "c" | "no" | "nr" | "cislo" | "c.") {
        return None;
    }
    number_token(rest.trim_start_matches(['.', '#', ':']))
}

/// A document number: ASCII letters, digits and `-/_.`, with a digit, at
/// most 40 characters; the punctuation that ends a sentence dropped.
fn number_token(raw: &str) -> Option<String> {
    let t = raw.trim_start_matches(['(', '[']).trim_end_matches(['.', ',', ';', ':', ')', ']']);
    let ok = !t.is_empty()
        && t.len() <= 40
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_' | '.'));
    ok.then(|| t.to_string())
}

/// Phrases before the amount due, strongest first.
const TOTAL_PHRASES: &[&[&str]] = &[
    &["celkem", "k", "uhrade"],
    &["k", "uhrade", "celkem"],
    &["castka", "k", "uhrade"],
    &["zbyva", "uhradit"],
    &["k", "uhrade"],
    &["total", "due"],
    &["amount", "due"],
    &["balance", "due"],
    &["total", "payable"],
    &["amount", "payable"],
    &["celkem", "s", "dph"],
    &["total", "incl.", "vat"],
    &["total", "including", "vat"],
];

/// The amount due and the currency written with it.
fn text_total(words: &[Word<'_>]) -> Option<(f64, Option<String>)> {
    TOTAL_PHRASES.iter().find_map(|phrase| {
        (0..words.len()).filter(|&i| phrase_at(words, i, phrase)).find_map(|i| {
            let after = words.iter().skip(i + phrase.len()).take(8).map(|w| w.raw).collect::<Vec<_>>().join(" ");
            amount_in(&after)
        })
    })
}

fn phrase_at(words: &[Word<'_>], i: usize, phrase: &[&str]) -> bool {
    phrase.iter().enumerate().all(|(k, p)| words.get(i + k).is_some_and(|w| w.folded == *p))
}

/// The currency a word names.
fn currency_word(w: &str) -> Option<&'static str> {
    let w = w.trim_matches(|c: char| matches!(c, '(' | ')' | ':' | ',' | ';' | '.') || c.is_whitespace());
    Some(match w {
        "Kč" | "Kc" | "KČ" | "CZK" | "czk" | "kč" => "CZK",
        "EUR" | "€" | "eur" | "Eur" => "EUR",
        "USD" | "$" | "US$" => "USD",
        "GBP" | "£" => "GBP",
        "PLN" | "zł" => "PLN",
        "CHF" => "CHF",
        _ => return None,
    })
}

fn currency_anywhere(words: &[Word<'_>]) -> Option<String> {
    words.iter().find_map(|w| currency_word(w.raw)).map(str::to_string)
}

/// The first amount in a short text, with a currency next to it: "12 345,00
/// Kč", "12.345,50 CZK", "12 345,- Kč", "EUR 1,234.50", "€1,234.50".
fn amount_in(s: &str) -> Option<(f64, Option<String>)> {
    let chars: Vec<char> = s.chars().map(|c| if c == '\u{a0}' || c == '\u{202f}' { ' ' } else { c }).collect();
    let start = chars.iter().position(|c| c.is_ascii_digit())?;
    // Only currency words, signs and punctuation may come before the amount.
    let before: String = chars.iter().take(start).collect();
    let mut currency = None;
    for w in before.split_whitespace() {
        let w = w.trim_end_matches(|c: char| c.is_ascii_digit());
        if let Some(c) = currency_word(w) {
            currency = Some(c.to_string());
        } else if !w.chars().all(|c| matches!(c, ':' | '-' | '–' | '(' | ')' | '=' | '.')) {
            return None;
        }
    }
    // Glued currency signs: "€1,234.50", "$99".
    if let Some(c) = chars.get(start.wrapping_sub(1)).and_then(|c| currency_word(&c.to_string())) {
        currency = Some(c.to_string());
    }
    let negative = before.trim_end().ends_with('-') && !before.trim_end().ends_with(":-");
    let mut digits = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() || (matches!(c, '.' | ',') && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            digits.push(c);
        } else if matches!(c, ' ' | '\'')
            && (1..=3).all(|k| chars.get(i + k).is_some_and(char::is_ascii_digit))
            && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
            && digits.chars().rev().take_while(char::is_ascii_digit).count() <= 3
        {
            // A thousands group: exactly three digits follow. The space is
            // kept so that the next group is checked against this one.
            digits.push(' ');
        } else {
            break;
        }
        i += 1;
    }
    let value = number_from_grouped(&digits)?;
    let rest: String = chars.iter().skip(i).collect();
    let rest = rest.trim_start().trim_start_matches([',', '.']).trim_start_matches(['-', '–']);
    if currency.is_none() {
        currency = rest.split_whitespace().next().and_then(currency_word).map(str::to_string);
    }
    let value = if negative { -value } else { value };
    (value.is_finite() && value.abs() < MAX_AMOUNT).then_some((value, currency))
}

/// `12.345,50` → 12345.5, `1,234.50` → 1234.5, `12345` → 12345; a single
/// separator followed by exactly three digits groups thousands.
fn number_from_grouped(s: &str) -> Option<f64> {
    let plain = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
    let last_sep = s.rfind(['.', ',']).unwrap_or(s.len());
    let (int, frac) = match (s.get(..last_sep), s.get(last_sep + 1..)) {
        (Some(int), Some(frac)) if (1..=2).contains(&frac.len()) && frac.chars().all(|c| c.is_ascii_digit()) => {
            (plain(int), frac.to_string())
        }
        _ => (plain(s), String::new()),
    };
    if int.is_empty() || int.len() > 13 {
        return None;
    }
    format!("{int}.{}", if frac.is_empty() { "0" } else { &frac }).parse().ok()
}

const ISSUED_PHRASES: &[&[&str]] = &[
    &["datum", "vystaveni"],
    &["vystaveno"],
    &["vystavena"],
    &["issue", "date"],
    &["date", "of", "issue"],
    &["invoice", "date"],
];
const DUE_PHRASES: &[&[&str]] = &[
    &["datum", "splatnosti"],
    &["splatnost"],
    &["splatno"],
    &["due", "date"],
    &["payment", "due"],
    &["due", "on"],
    &["due"],
];

/// The first date after one of the phrases (within five words).
fn text_date(words: &[Word<'_>], phrases: &[&[&str]]) -> Option<NaiveDate> {
    phrases.iter().find_map(|phrase| {
        (0..words.len()).filter(|&i| phrase_at(words, i, phrase)).find_map(|i| {
            let after = words.iter().skip(i + phrase.len()).take(5).map(|w| w.raw).collect::<Vec<_>>().join(" ");
            date_in(&after)
        })
    })
}

/// `2. 3. 2026`, `02.03.2026`, `2026-03-02`, `02/03/2026` (day first), the
/// first one in a short text.
fn date_in(s: &str) -> Option<NaiveDate> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut seps = Vec::new();
    for c in compact.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
            seps.push(c);
        }
        if parts.len() >= 3 {
            break;
        }
        if !matches!(c, '.' | '-' | '/') {
            parts.clear();
            seps.clear();
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    let num = |p: &String| p.parse::<u32>().ok();
    let (a, b, c) = match parts.as_slice() {
        [a, b, c, ..] => (a, b, c),
        _ => return None,
    };
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// IČOs after `IČ`, `IČO`, `IČ:` or "Company ID": valid ones, once each.
fn text_icos(words: &[Word<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let marker = matches!(w.folded.as_str(), "ic" | "ico" | "ic." | "ic.:")
            || (w.folded == "id" && i > 0 && words.get(i - 1).is_some_and(|p| p.folded == "company"));
        if !marker {
            continue;
        }
        // The digits may be written in groups: "IČ 270 82 440".
        let mut digits = String::new();
        for next in words.iter().skip(i + 1).take(4) {
            let d = next.raw.trim_end_matches([',', ';', '.']);
            if d.is_empty() || !d.chars().all(|c| c.is_ascii_digit()) || digits.len() + d.len() > 8 {
                break;
            }
            digits.push_str(d);
            if digits.len() == 8 {
                break;
            }
        }
        if let Ok(ico) = crate::model::Ico::parse(&digits)
            && digits.len() >= 6
            && !out.iter().any(|o| o == ico.as_str())
        {
            out.push(ico.as_str().to_string());
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/isdoc").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A ZIP of these entries, deflated (packages and office documents in tests).
    pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="http://isdoc.cz/namespace/2013" version="6.0.2">
  <DocumentType>1</DocumentType>
  <ID>2026-118</ID>
  <IssueDate>2026-03-02</IssueDate>
  <LocalCurrencyCode>CZK</LocalCurrencyCode>
  <AccountingSupplierParty><Party><PartyName><Name>Modrý kámen s.r.o.</Name></PartyName></Party></AccountingSupplierParty>
  <AccountingCustomerParty><Party><PartyIdentification><ID>27468135</ID></PartyIdentification><PartyName><Name>Acme Stavby s.r.o.</Name></PartyName></Party></AccountingCustomerParty>
  <LegalMonetaryTotal><TaxExclusiveAmount>1000.00</TaxExclusiveAmount><TaxInclusiveAmount>1210.00</TaxInclusiveAmount></LegalMonetaryTotal>
</Invoice>"#;

    /// Every good fixture reads as its golden JSON (written by the fixture
    /// generator from the same data, not by this parser).
    #[test]
    fn fixtures_match_their_golden_json() {
        let cases = [
            ("faktura-2026-118.isdoc", "faktura-2026-118.json", InvoiceKind::Invoice),
            ("dobropis-2026-007.isdoc", "dobropis-2026-007.json", InvoiceKind::CreditNote),
            ("faktura-eur.isdoc", "faktura-eur.json", InvoiceKind::Invoice),
            ("faktura-5x.isdoc", "faktura-5x.json", InvoiceKind::Invoice),
            ("faktura-2026-131.isdocx", "faktura-2026-131.json", InvoiceKind::Invoice),
        ];
        for (file, golden, kind) in cases {
            let bytes = fixture(file);
            assert!(is_isdoc(file, "application/octet-stream", &bytes), "{file}");
            let invoice = from_attachment(file, "application/octet-stream", &bytes)
                .unwrap_or_else(|| panic!("{file} is not ISDOC"))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(invoice.kind, kind, "{file}");
            let expected: serde_json::Value = serde_json::from_slice(&fixture(golden)).unwrap();
            let got = serde_json::to_value(&invoice).unwrap();
            assert_eq!(got, expected, "{file}");
        }
    }

    #[test]
    fn fixtures_read_the_parts_that_matter() {
        let inv = parse_isdoc(&fixture("faktura-2026-118.isdoc")).unwrap();
        assert_eq!(inv.supplier.ico.as_deref(), Some("27082440"));
        assert_eq!(inv.customer.ico.as_deref(), Some("27468135"));
        assert_eq!((inv.without_vat, inv.with_vat, inv.payable), (77300.0, 93533.0, Some(93533.0)));
        assert_eq!(inv.lines.len(), 3);
        // `&amp;` in the XML is `&` in the text.
        assert!(inv.lines.iter().any(|l| l.description.contains(" & ")), "{:?}", inv.lines);
        let credit = parse_isdoc(&fixture("dobropis-2026-007.isdoc")).unwrap();
        assert!(credit.kind.is_credit() && credit.kind.as_str() == "credit_note");
        assert_eq!(credit.with_vat, -6050.0);
        let eur = parse_isdoc(&fixture("faktura-eur.isdoc")).unwrap();
        assert_eq!((eur.currency.as_str(), eur.with_vat), ("EUR", 1350.5));
        // The customer's UK company number is not an IČO: dropped, the DIČ kept.
        assert_eq!((eur.customer.ico, eur.customer.dic.as_deref()), (None, Some("GB123456789")));
        // windows-1250 by its declaration, the 5.x namespace.
        let old = parse_isdoc(&fixture("faktura-5x.isdoc")).unwrap();
        assert_eq!(old.customer.name, "Pekárna Novák s.r.o.");
        assert!(old.note.as_deref().unwrap_or_default().contains("Žluťoučký kůň"));
    }

    #[test]
    fn broken_and_foreign_xml_are_errors() {
        let truncated = fixture("broken-truncated.isdoc");
        assert!(is_isdoc("broken-truncated.isdoc", "", &truncated));
        let e = parse_isdoc(&truncated).unwrap_err();
        assert!(matches!(e, InvoiceError::Xml(_)), "{e}");
        assert!(e.to_string().starts_with("cannot read the ISDOC invoice"), "{e}");

        let ubl = fixture("not-isdoc.xml");
        assert!(!is_isdoc("not-isdoc.xml", "application/xml", &ubl));
        assert!(from_attachment("not-isdoc.xml", "application/xml", &ubl).is_none());
        assert!(matches!(parse_isdoc(&ubl), Err(InvoiceError::NotIsdoc(_))));
        assert!(!is_isdoc("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0"));
        assert!(!is_isdoc("a.xml", "text/xml", b"<objednavka/>"));
        assert!(parse_isdoc(b"").is_err());
        assert!(parse_isdoc(b"not xml at all").is_err());
        assert!(parse_isdoc(b"<Invoice><ID>1</ID></Invoice></Invoice>").is_err());
    }

    #[test]
    fn namespaces_prefixes_and_encodings() {
        let inv = parse_isdoc(MINIMAL.as_bytes()).unwrap();
        assert_eq!((inv.number.as_str(), inv.kind, inv.with_vat), ("2026-118", InvoiceKind::Invoice, 1210.0));
        assert_eq!((inv.currency.as_str(), inv.taxable, inv.due, inv.payable), ("CZK", None, None, None));
        assert!(inv.lines.is_empty() && inv.note.is_none() && inv.uuid.is_none());

        let bare = MINIMAL.replace(r#" xmlns="http://isdoc.cz/namespace/2013""#, "");
        assert_eq!(parse_isdoc(bare.as_bytes()).unwrap().number, "2026-118");
        let old = MINIMAL.replace("namespace/2013", "namespace/invoice");
        assert!(parse_isdoc(old.as_bytes()).is_ok());
        let prefixed = MINIMAL
            .replace(r#"<Invoice xmlns="#, "<isdoc:Invoice xmlns:isdoc=")
            .replace("</Invoice>", "</isdoc:Invoice>")
            .replace("<ID>", "<isdoc:ID>")
            .replace("</ID>", "</isdoc:ID>");
        assert!(is_isdoc("", "", prefixed.as_bytes()));
        assert_eq!(parse_isdoc(prefixed.as_bytes()).unwrap().customer.ico.as_deref(), Some("27468135"));
        let undeclared = MINIMAL.replace("<Invoice ", "<x:Invoice ").replace("</Invoice>", "</x:Invoice>");
        assert!(!is_isdoc("", "", undeclared.as_bytes()));
        let other = MINIMAL.replace("http://isdoc.cz/namespace/2013", "urn:example:invoice");
        assert!(matches!(parse_isdoc(other.as_bytes()), Err(InvoiceError::NotIsdoc(_))));

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(MINIMAL.as_bytes());
        assert_eq!(parse_isdoc(&bom).unwrap().supplier.name, "Modrý kámen s.r.o.");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(MINIMAL.replace("UTF-8", "UTF-16").encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(parse_isdoc(&utf16).unwrap().supplier.name, "Modrý kámen s.r.o.");
        let latin2 = MINIMAL.replace("UTF-8", "iso-8859-2");
        let (bytes, _, bad) = encoding_rs::ISO_8859_2.encode(&latin2);
        assert!(!bad);
        assert_eq!(parse_isdoc(&bytes).unwrap().supplier.name, "Modrý kámen s.r.o.");
        // Entities and character references in text.
        let refs = MINIMAL.replace("Acme Stavby s.r.o.", "Acme &amp; syn &#x10D;&#237;slo");
        assert_eq!(parse_isdoc(refs.as_bytes()).unwrap().customer.name, "Acme & syn číslo");
    }

    #[test]
    fn missing_and_invalid_fields_are_named() {
        let cases: &[(&str, &str, &str)] = &[
            ("<ID>2026-118</ID>", "", "it has no <ID>"),
            ("<IssueDate>2026-03-02</IssueDate>", "", "it has no <IssueDate>"),
            (
                "<IssueDate>2026-03-02</IssueDate>",
                "<IssueDate>2026-02-30</IssueDate>",
                "<IssueDate> holds \"2026-02-30\"",
            ),
            ("<IssueDate>2026-03-02</IssueDate>", "<IssueDate>2. 3. 2026</IssueDate>", "<IssueDate> holds"),
            ("<DocumentType>1</DocumentType>", "<DocumentType>9</DocumentType>", "<DocumentType> holds \"9\""),
            ("<DocumentType>1</DocumentType>", "", "it has no <DocumentType>"),
            ("1210.00", "1e13", "<TaxInclusiveAmount> holds \"1e13\""),
            ("1210.00", "NaN", "<TaxInclusiveAmount> holds"),
            ("1210.00", "12 10,0 Kč", "<TaxInclusiveAmount> holds"),
            ("<TaxInclusiveAmount>1210.00</TaxInclusiveAmount>", "", "it has no <TaxInclusiveAmount>"),
            ("<AccountingSupplierParty>", "<Other>", "well-formed"),
        ];
        for (from, to, message) in cases {
            let xml = MINIMAL.replace(from, to);
            let e = parse_isdoc(xml.as_bytes()).expect_err(from);
            assert!(e.to_string().contains(message), "{from} -> {to}: {e}");
        }
        let no_supplier = MINIMAL.replace("AccountingSupplierParty", "SellerSupplierParty");
        assert!(matches!(parse_isdoc(no_supplier.as_bytes()), Err(InvoiceError::Missing("AccountingSupplierParty"))));
        // A wrong IČO is dropped, not an error; a zoned date is its day.
        let lenient = MINIMAL.replace("27468135", "27468136").replace("2026-03-02", "2026-03-02+01:00");
        let inv = parse_isdoc(lenient.as_bytes()).unwrap();
        assert_eq!((inv.customer.ico, inv.issued), (None, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()));
        assert_eq!(InvoiceKind::from_code("7"), Some(InvoiceKind::Invoice));
        assert_eq!(InvoiceKind::from_code("6"), Some(InvoiceKind::CreditNote));
        assert_eq!(InvoiceKind::from_code("3").map(InvoiceKind::as_str), Some("debit_note"));
        assert_eq!(InvoiceKind::from_code("5").map(InvoiceKind::is_credit), Some(false));
    }

    #[test]
    fn foreign_currency_needs_its_amounts() {
        // ForeignCurrencyCode without *Curr totals: the local amounts, in CZK.
        let xml = MINIMAL.replace(
            "<LocalCurrencyCode>CZK</LocalCurrencyCode>",
            "<LocalCurrencyCode>czk</LocalCurrencyCode><ForeignCurrencyCode>EUR</ForeignCurrencyCode>",
        );
        let inv = parse_isdoc(xml.as_bytes()).unwrap();
        assert_eq!((inv.currency.as_str(), inv.with_vat), ("CZK", 1210.0));
        let xml = xml.replace(
            "</TaxInclusiveAmount>",
            "</TaxInclusiveAmount><TaxInclusiveAmountCurr>48.21</TaxInclusiveAmountCurr>",
        );
        // Foreign totals but no foreign TaxExclusiveAmountCurr: that one is missing.
        assert!(matches!(parse_isdoc(xml.as_bytes()), Err(InvoiceError::Missing("TaxExclusiveAmount"))));
        let xml = xml.replace(
            "</TaxExclusiveAmount>",
            "</TaxExclusiveAmount><TaxExclusiveAmountCurr>39.84</TaxExclusiveAmountCurr>",
        );
        let inv = parse_isdoc(xml.as_bytes()).unwrap();
        assert_eq!((inv.currency.as_str(), inv.without_vat, inv.with_vat), ("EUR", 39.84, 48.21));
    }

    #[test]
    fn xml_is_bounded() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 5), "</a>".repeat(MAX_DEPTH + 5));
        assert!(matches!(parse_tree(&deep), Err(InvoiceError::TooLarge)));
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS + 1));
        assert!(matches!(parse_tree(&wide), Err(InvoiceError::TooLarge)));
        let huge = vec![b' '; MAX_XML_BYTES + 1];
        assert!(matches!(parse_isdoc(&huge), Err(InvoiceError::TooLarge)));
    }

    #[test]
    fn packages_are_read_and_bounded() {
        let xml = MINIMAL.as_bytes();
        // No manifest: the only .isdoc.
        let plain = zip_of(&[("faktura.isdoc", xml), ("faktura.pdf", b"%PDF-1.4")]);
        assert_eq!(parse_isdocx(&plain).unwrap().number, "2026-118");
        assert!(from_attachment("faktura.isdocx", "application/octet-stream", &plain).unwrap().is_ok());
        let two = zip_of(&[("a.isdoc", xml), ("b.isdoc", xml)]);
        assert!(parse_isdocx(&two).unwrap_err().to_string().contains("several"));
        let manifest = br#"<manifest xmlns="http://isdoc.cz/namespace/2013/manifest"><maindocument filename="b.isdoc"/></manifest>"#;
        let named = zip_of(&[("manifest.xml", manifest), ("a.isdoc", b"<broken"), ("b.isdoc", xml)]);
        assert_eq!(parse_isdocx(&named).unwrap().number, "2026-118");
        let dangling = zip_of(&[("manifest.xml", manifest), ("a.isdoc", xml)]);
        assert!(parse_isdocx(&dangling).unwrap_err().to_string().contains("does not hold"));
        assert!(zip_of(&[("readme.txt", b"x")]).as_slice() != plain.as_slice());
        assert!(parse_isdocx(&zip_of(&[("readme.txt", b"x")])).unwrap_err().to_string().contains("no .isdoc"));
        let e = parse_isdocx(b"PK\x03\x04 not really").unwrap_err();
        assert!(e.to_string().starts_with("cannot open the ISDOCX package"), "{e}");

        // Zip bombs: too many entries, an entry too large once inflated.
        let names: Vec<String> = (0..=MAX_ZIP_ENTRIES).map(|i| format!("f{i}.txt")).collect();
        let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"x".as_slice())).collect();
        assert!(parse_isdocx(&zip_of(&many)).unwrap_err().to_string().contains("more than 200"));
        let zeros = vec![b'<'; MAX_XML_BYTES + 10];
        let bomb = zip_of(&[("faktura.isdoc", &zeros)]);
        assert!(bomb.len() < 100_000);
        assert!(parse_isdocx(&bomb).unwrap_err().to_string().contains("larger than 10 MB"));
    }

    #[test]
    fn invoices_stated_in_pdf_text() {
        let text = String::from_utf8(fixture("faktura-pdf.txt")).unwrap();
        let expected = TextInvoice {
            number: "2026-118".into(),
            total: 93533.0,
            currency: "CZK".into(),
            issued: NaiveDate::from_ymd_opt(2026, 3, 2),
            due: NaiveDate::from_ymd_opt(2026, 3, 16),
            icos: vec!["27082440".into(), "27468135".into()],
            credit: false,
        };
        assert_eq!(from_text(&text).as_ref(), Some(&expected));
        // PDF extraction joins everything with single spaces: the same.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(from_text(&flat).as_ref(), Some(&expected));

        let credit = from_text(&String::from_utf8(fixture("dobropis-pdf.txt")).unwrap()).unwrap();
        assert_eq!((credit.number.as_str(), credit.total, credit.credit), ("2026-007", -6050.0, true));
        assert_eq!(
            (credit.issued, credit.due),
            (NaiveDate::from_ymd_opt(2026, 3, 20), NaiveDate::from_ymd_opt(2026, 4, 3))
        );
        assert_eq!(credit.icos, ["27082440", "27468135"]);

        // An offer with totals but no invoice number is not an invoice.
        assert_eq!(from_text(&String::from_utf8(fixture("nabidka-pdf.txt")).unwrap()), None);
    }

    #[test]
    fn text_invoices_in_both_languages() {
        let english = "INVOICE Invoice No.: INV-2026-0042 Issue date: 2026-03-05 Due date: 05/04/2026 \
                       Brightwell Ltd Total due EUR 1,234.50";
        let inv = from_text(english).unwrap();
        assert_eq!((inv.number.as_str(), inv.total, inv.currency.as_str()), ("INV-2026-0042", 1234.5, "EUR"));
        assert_eq!((inv.issued, inv.due), (NaiveDate::from_ymd_opt(2026, 3, 5), NaiveDate::from_ymd_opt(2026, 4, 5)));
        assert!(!inv.credit && inv.icos.is_empty());
        let credit = from_text("Credit note #CN-17 Amount due: €99.00").unwrap();
        assert_eq!(
            (credit.number.as_str(), credit.total, credit.currency.as_str(), credit.credit),
            ("CN-17", 99.0, "EUR", true)
        );
        type Case<'a> = (&'a str, Option<(&'a str, f64, &'a str)>);
        let cases: &[Case<'_>] = &[
            ("Faktura č.2026-5 Celkem k úhradě 12 345,- Kč", Some(("2026-5", 12345.0, "CZK"))),
            ("Faktura číslo 77 K úhradě: 12.345,50 CZK", Some(("77", 12345.5, "CZK"))),
            (
                "Číslo faktury: FV/2026/12 Zbývá uhradit 1\u{a0}200\u{a0}000,00 Kč",
                Some(("FV/2026/12", 1_200_000.0, "CZK")),
            ),
            ("Faktura - daňový doklad č. 2026-9. Celkem k úhradě (Kč): 500", Some(("2026-9", 500.0, "CZK"))),
            ("Vrubopis č. 3 Celkem k úhradě 1 000,00 Kč", Some(("3", 1000.0, "CZK"))),
            // No number: a year after "Faktura" is not one; no total.
            ("Faktura 2026 Celkem k úhradě 100 Kč", None),
            ("Faktura č. 2026-1 Celkem bez DPH 100 Kč", None),
            ("Faktura bude vystavena po dodání. Celkem k úhradě 100 Kč", None),
            ("Celkem k úhradě 100 Kč", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = from_text(text);
            assert_eq!(got.as_ref().map(|t| (t.number.as_str(), t.total, t.currency.as_str())), *want, "{text}");
        }
        assert!(!from_text("Opravný daňový doklad – vrubopis č. 4 K úhradě 10 Kč").unwrap().credit);
        assert!(from_text("Opravný daňový doklad č. 5 K úhradě 10 Kč").unwrap().credit);
    }

    #[test]
    fn amounts_and_dates_in_text() {
        let cases: &[(&str, Option<f64>)] = &[
            ("12 345,50 Kč", Some(12345.5)),
            ("12.345,50", Some(12345.5)),
            ("1,234.50", Some(1234.5)),
            ("1,234", Some(1234.0)),
            ("12,5", Some(12.5)),
            ("1 234 567,89", Some(1_234_567.89)),
            ("12 345,-", Some(12345.0)),
            ("-5.000,00", Some(-5000.0)),
            ("99999999999999", None),
            ("Kč", None),
            ("bez DPH 100", None),
        ];
        for (s, want) in cases {
            assert_eq!(amount_in(s).map(|(v, _)| v), *want, "{s}");
        }
        assert_eq!(date_in("2. 3. 2026"), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(date_in("02.03.2026 x"), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(date_in("2026-03-02"), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(date_in("31. 2. 2026"), None);
        assert_eq!(date_in("99999999999999.1.2026"), None);
        assert_eq!(date_in("převodem"), None);
        let words: Vec<Word<'_>> =
            "IČ 270 82 440 IČO: 27082440 IČ: 12345678".split_whitespace().map(Word::new).collect();
        assert_eq!(text_icos(&words), ["27082440"]);
    }
}
