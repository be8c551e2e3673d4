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

/// An XML element: its qualified name, local name, attributes, text and
/// children.
#[derive(Debug, Default)]
struct Node {
    qname: String,
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }

    /// The trimmed text at a path; `None` when absent or empty.
    fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.path(path).map(|n| n.text.trim()).filter(|t| !t.is_empty())
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| split_qname(k).1 == name).map(|(_, v)| v.as_str())
    }

    /// The first descendant with this local name, depth first.
    fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| if c.name == name { Some(c) } else { c.find(name) })
    }
}

fn split_qname(q: &str) -> (Option<&str>, &str) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, q),
    }
}

fn element_parts(e: &quick_xml::events::BytesStart<'_>) -> (String, Vec<(String, String)>) {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(v) => v.into_owned(),
                Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
            };
            (key, value)
        })
        .collect();
    (name, attrs)
}

fn node_of(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let (qname, attrs) = element_parts(e);
    let name = split_qname(&qname).1.to_string();
    Node { qname, name, attrs, ..Node::default() }
}

/// `&amp;`, `&#x10D;` and the other predefined references; an unknown
/// entity is kept as written.
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = String::from_utf8_lossy(r);
    match name.as_ref() {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => format!("&{other};"),
    }
}

/// The root element of some XML, bounded in depth and element count.
fn parse_tree(text: &str) -> Result<Node, InvoiceError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut elements = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| InvoiceError::Xml(format!("it is not well-formed XML ({e})")))?;
        match event {
            Event::Start(e) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(InvoiceError::TooLarge);
                }
                stack.push(node_of(&e));
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(InvoiceError::TooLarge);
                }
                let node = node_of(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let node =
                    stack.pop().ok_or_else(|| InvoiceError::Xml("it closes an element it never opened".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    let s = t
                        .xml10_content()
                        .map_err(|e| InvoiceError::Xml(format!("its text cannot be decoded ({e})")))?;
                    n.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolve_ref(&r));
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    InvoiceError::Xml("it holds no element".into())
                } else {
                    InvoiceError::Xml("it ends before its elements are closed (truncated?)".into())
                });
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// The invoice from the tree.

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
    let _ = text;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn minimal_isdoc() {
        let inv = parse_isdoc(MINIMAL.as_bytes()).unwrap();
        assert_eq!(inv.number, "2026-118");
        assert_eq!(inv.kind, InvoiceKind::Invoice);
        assert_eq!(inv.with_vat, 1210.0);
        assert_eq!(inv.customer.ico.as_deref(), Some("27468135"));
        assert!(is_isdoc("x.bin", "application/octet-stream", MINIMAL.as_bytes()));
    }
}
