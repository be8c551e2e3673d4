//! Client and deal CSV files as spreadsheets and accounting programs
//! write them: a header row, UTF-8 with or without BOM (or windows-1250
//! from older Czech Excel), `,` or `;` as separator. Reading is pure: bytes
//! in, rows or per-line errors out.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use chrono::NaiveDate;

use crate::directory::RawClient;
use crate::figures::CURRENCIES;
use crate::model::parse_number;
use crate::store::{DEAL_STATUSES, DealInput};

/// One problem with one line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    pub message: String,
}

/// A parsed client row with the line it came from.
#[derive(Debug, Clone)]
pub struct ClientRow {
    pub line: u64,
    pub client: RawClient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Ico,
    Dic,
    Address,
    Billing,
    Status,
    Budget,
    Domains,
    Emails,
    Custom(usize),
    Ignored,
}

/// Known header names (folded: lower case, no accents) for each column.
fn standard_column(folded: &str) -> Option<Column> {
    Some(match folded {
        "name" | "nazev" | "firma" | "company" | "klient" | "client" | "obchodni jmeno" => Column::Name,
        "ico" | "ic" | "company id" | "company_id" => Column::Ico,
        "dic" | "vat" | "vat id" | "vat_id" => Column::Dic,
        "address" | "adresa" | "sidlo" => Column::Address,
        "billing" | "fakturace" | "fakturacni udaje" => Column::Billing,
        "status" | "stav" => Column::Status,
        "annual_budget" | "annual budget" | "budget" | "rozpocet" | "rocni rozpocet" => Column::Budget,
        "domains" | "domain" | "domeny" | "domena" | "web" | "website" => Column::Domains,
        "emails" | "email" | "e-mail" | "e-maily" | "emaily" => Column::Emails,
        _ => return None,
    })
}

/// The header names kronika writes on export, in order.
pub const EXPORT_HEADER: &[&str] =
    &["name", "ico", "dic", "address", "billing", "status", "annual_budget", "domains", "emails"];

/// 1-based line numbers of records, from their byte offsets. (The csv
/// crate's own line count is one short for CRLF files, as Excel writes
/// them: a record's position sits on the `\n` of the line before.)
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    newlines: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines { text: text.as_bytes(), at: 0, newlines: 0 }
    }

    /// The line a record starting at `pos` begins on.
    fn of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let mut start = usize::try_from(pos.byte()).unwrap_or(usize::MAX).min(self.text.len());
        // Line ends left before the record belong to the lines above it.
        while let Some(b'\r' | b'\n') = self.text.get(start) {
            start += 1;
        }
        if start < self.at {
            self.at = 0;
            self.newlines = 0;
        }
        let skipped = self.text.get(self.at..start).unwrap_or_default();
        self.newlines += skipped.iter().filter(|&&b| b == b'\n').count() as u64;
        self.at = start;
        self.newlines + 1
    }
}

/// Picks `;` or `,` by which appears more often outside quotes in the header line.
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let (mut semi, mut comma, mut quoted) = (0, 0, false);
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => semi += 1,
            ',' if !quoted => comma += 1,
            _ => {}
        }
    }
    if semi > comma { b';' } else { b',' }
}

/// Reads client rows. `custom_fields` are the declared field names: a
/// column with such a header fills that field. Unknown columns are
/// reported once as a warning (line 1) and ignored.
pub fn read_clients(bytes: &[u8], custom_fields: &[String]) -> (Vec<ClientRow>, Vec<RowError>, Vec<String>) {
    let text = crate::text::decode_bytes(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(separator(&text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut lines = Lines::new(&text);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.push(RowError { line: 1, message: format!("cannot read the header row: {e}") });
            return (rows, errors, warnings);
        }
    };
    let columns: Vec<Column> = headers
        .iter()
        .map(|h| {
            let folded = crate::text::fold(h.trim());
            if let Some(c) = standard_column(&folded) {
                return c;
            }
            if let Some(i) = custom_fields.iter().position(|f| crate::text::fold(f) == folded) {
                return Column::Custom(i);
            }
            if !h.trim().is_empty() {
                warnings.push(format!("line 1: column {h:?} is not a client field nor a custom field; ignored"));
            }
            Column::Ignored
        })
        .collect();
    if !columns.contains(&Column::Name) {
        errors.push(RowError {
            line: 1,
            message: "cannot import: the header has no name column (name, název, firma)".into(),
        });
        return (rows, errors, warnings);
    }
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = lines.of(e.position());
                errors.push(RowError { line, message: format!("cannot read the row: {e}") });
                continue;
            }
        };
        let line = lines.of(record.position());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() > columns.len() {
            errors.push(RowError {
                line,
                message: format!(
                    "cannot import the row: it has {} cells but the header has {}",
                    record.len(),
                    columns.len()
                ),
            });
            continue;
        }
        let mut c = RawClient::default();
        for (cell, col) in record.iter().zip(&columns) {
            let v = cell.trim();
            if v.is_empty() {
                continue;
            }
            let some = Some(v.to_string());
            match col {
                Column::Name => c.name = v.to_string(),
                Column::Ico => c.ico = some,
                Column::Dic => c.dic = some,
                Column::Address => c.address = some,
                Column::Billing => c.billing = some,
                Column::Status => c.status = some,
                Column::Budget => c.annual_budget = some,
                Column::Domains => c.domains.push(v.replace(';', ",")),
                Column::Emails => c.emails.push(v.replace(';', ",")),
                Column::Custom(i) => {
                    if let Some(field) = custom_fields.get(*i) {
                        c.fields.push((field.clone(), v.to_string()));
                    }
                }
                Column::Ignored => {}
            }
        }
        rows.push(ClientRow { line, client: c });
    }
    (rows, errors, warnings)
}

/// Largest amount kronika takes (a deal's value): more is a typo, and sums
/// of such amounts would overflow to infinity.
pub const MAX_AMOUNT: f64 = 1e15;

/// A deal's value: a non-negative number as people write it (`120 000,50`).
pub fn deal_value(s: &str) -> Result<f64, String> {
    match parse_number(s) {
        Some(v) if v > MAX_AMOUNT => Err(format!("cannot use value {s:?}: it is larger than 10^15")),
        Some(v) if v >= 0.0 => Ok(v),
        Some(_) => Err(format!("cannot use value {s:?}: it is negative")),
        None if s.trim().parse::<f64>().is_ok_and(f64::is_infinite) => {
            Err(format!("cannot read value {s:?}: not a number kronika can hold (too large)"))
        }
        None => Err(format!("cannot read value {s:?}: not a number")),
    }
}

/// A currency code (`CZK`, `Kč` and `€` as written on Czech invoices).
pub fn deal_currency(s: &str) -> Result<String, String> {
    let c = s.trim().to_uppercase().replace("KČ", "CZK").replace("KC", "CZK").replace('€', "EUR");
    if CURRENCIES.contains(&c.as_str()) {
        Ok(c)
    } else {
        Err(format!("cannot use currency {s:?}: kronika knows {}", CURRENCIES.join(", ")))
    }
}

/// open, won or lost, also in Czech and as accounting programs say it.
pub fn deal_status(s: &str) -> Result<String, String> {
    let l = s.trim().to_lowercase();
    let mapped = match l.as_str() {
        "open" | "otevřená" | "otevrena" | "nabídka" | "nabidka" | "offer" => "open",
        "won" | "vyhraná" | "vyhrana" | "zaplaceno" | "paid" | "invoiced" | "fakturováno" | "fakturovano" => "won",
        "lost" | "prohraná" | "prohrana" | "odmítnuto" | "odmitnuto" | "rejected" => "lost",
        other => other,
    };
    if DEAL_STATUSES.contains(&mapped) {
        Ok(mapped.to_string())
    } else {
        Err(format!("cannot use status {s:?}: use open, won or lost"))
    }
}

/// A date as `YYYY-MM-DD` or `D.M.YYYY`.
pub fn deal_date(s: &str) -> Result<NaiveDate, String> {
    crate::model::parse_date(s).ok_or_else(|| format!("cannot read date {s:?}: use YYYY-MM-DD or D.M.YYYY"))
}

/// One deal row of a CSV file, checked, before its client is looked up.
#[derive(Debug, Clone)]
pub struct DealRow {
    pub line: u64,
    /// The row's IČO when it has one, else the client's name as written.
    pub client: String,
    /// The deal; `import_key` is left to the caller, who knows the client.
    pub deal: DealInput,
    /// The row's cells joined by U+001F: its identity when it has no number.
    pub cells: String,
}

/// Known deal column names (folded) → field.
fn deal_column(folded: &str) -> Option<&'static str> {
    Some(match folded {
        "client" | "klient" | "odberatel" | "zakaznik" | "customer" | "firma" | "nazev" | "company" => "client",
        "ico" | "ic" | "ico odberatele" => "ico",
        "title" | "popis" | "predmet" | "description" | "text" | "nazev polozky" => "title",
        "value" | "castka" | "amount" | "total" | "celkem" | "cena" | "hodnota" | "castka bez dph" => "value",
        "currency" | "mena" => "currency",
        "status" | "stav" => "status",
        "date" | "datum" | "datum vystaveni" | "duzp" | "issued" => "date",
        "product" | "products" | "produkt" | "produkty" | "polozka" | "zbozi" => "products",
        "number" | "cislo" | "doklad" | "invoice" | "faktura" | "cislo dokladu" | "order" | "objednavka" => "number",
        _ => return None,
    })
}

/// Reads deal rows (orders or invoices exported from accounting). The
/// header needs a client (or IČO) column and a value column; the error
/// says so otherwise. Rows that cannot be read are per-line errors; blank
/// rows are skipped. Missing cells default to title `deal`, CZK, won.
pub fn read_deals(bytes: &[u8]) -> Result<(Vec<DealRow>, Vec<RowError>), String> {
    let text = crate::text::decode_bytes(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(separator(&text))
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| format!("cannot read the header row: {e}"))?.clone();
    let cols: Vec<Option<&str>> = headers.iter().map(|h| deal_column(&crate::text::fold(h.trim()))).collect();
    if !cols.contains(&Some("value")) || !(cols.contains(&Some("client")) || cols.contains(&Some("ico"))) {
        return Err("the header needs a client (or IČO) column and a value column".into());
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut lines = Lines::new(&text);
    for record in rdr.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = lines.of(e.position());
                errors.push(RowError { line, message: format!("cannot read the row: {e}") });
                continue;
            }
        };
        let line = lines.of(record.position());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |name: &str| {
            cols.iter()
                .position(|c| *c == Some(name))
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let row = (|| -> Result<DealRow, String> {
            let client = get("ico").or(get("client")).ok_or("cannot import the row: it names no client")?;
            let deal = DealInput {
                title: get("title").or(get("number")).unwrap_or("deal").to_string(),
                value: deal_value(get("value").ok_or("cannot import the row: it has no value")?)?,
                currency: deal_currency(get("currency").unwrap_or("CZK"))?,
                status: deal_status(get("status").unwrap_or("won"))?,
                date: get("date").map(deal_date).transpose()?,
                // A product's name has spaces ("Tepelná čerpadla"): only commas,
                // pipes and line breaks part products.
                products: get("products").map(product_list).unwrap_or_default(),
                number: get("number").map(str::to_string),
                import_key: None,
            };
            Ok(DealRow {
                line,
                client: client.to_string(),
                deal,
                cells: record.iter().collect::<Vec<_>>().join("\u{1f}"),
            })
        })();
        match row {
            Ok(r) => rows.push(r),
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    Ok((rows, errors))
}

/// Products as a cell lists them.
fn product_list(s: &str) -> Vec<String> {
    s.split([',', '|', '\n', ';']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn reads_deals_from_accounting_exports() {
        let data = "\u{feff}Číslo dokladu;Odběratel;IČO;Datum;Částka;Měna;Stav;Položka\n\
                    FV-1;Acme;27468135;15.1.2026;120 000,50;Kč;zaplaceno;VZT, servis\n\
                    FV-2;Beta;;2026-02-01;1e400;CZK;won;\n\
                    FV-3;Beta;;2026-02-01;NaN;CZK;won;\n\
                    FV-4;Beta;;2026-02-01;inf;CZK;won;\n\
                    FV-5;Beta;;2026-02-01;2e15;CZK;won;\n\
                    FV-6;;;2026-02-01;5;CZK;won;\n\
                    FV-7;Beta;;31.2.2026;5;CZK;won;\n\
                    ;;;;;;;\n\
                    FV-8;Beta;;;7;USD;offer;\n";
        let (rows, errors) = read_deals(data.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].client, "27468135");
        assert_eq!(rows[0].deal.value, 120_000.5);
        assert_eq!(rows[0].deal.currency, "CZK");
        assert_eq!(rows[0].deal.status, "won");
        assert_eq!(rows[0].deal.products, vec!["VZT", "servis"]);
        assert_eq!(product_list("Tepelná čerpadla | Servis"), vec!["Tepelná čerpadla", "Servis"]);
        assert_eq!(rows[0].deal.number.as_deref(), Some("FV-1"));
        assert_eq!(rows[1].deal.status, "open");
        assert_eq!(rows[1].deal.date, None);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8]);
        assert!(errors[0].message.contains("too large"), "{errors:?}");
        assert!(errors[1].message.contains("not a number"), "{errors:?}");
        assert!(errors[3].message.contains("10^15"), "{errors:?}");
        assert!(errors[4].message.contains("no client"), "{errors:?}");
        assert!(errors[5].message.contains("cannot read date"), "{errors:?}");
        assert!(errors.iter().all(|e| e.message.starts_with("cannot ")), "{errors:?}");
        assert!(read_deals(b"name,ico\nA,1\n").unwrap_err().contains("value column"));
        assert!(read_deals(b"").is_err());
    }

    #[test]
    fn reads_czech_excel_export() {
        let data = "\u{feff}Název;IČO;Domény;Obor;Poznámka\n\"Acme; s.r.o.\";27074358;acme.cz, mail.acme.cz;stavby;x\n\n;;;;\nBeta;;beta.cz;;\n";
        let (rows, errors, warnings) = read_clients(data.as_bytes(), &["obor".to_string()]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].client.name, "Acme; s.r.o.");
        assert_eq!(rows[0].client.ico.as_deref(), Some("27074358"));
        assert_eq!(rows[0].client.fields, vec![("obor".to_string(), "stavby".to_string())]);
        assert_eq!(rows[1].line, 5);
    }

    #[test]
    fn reads_comma_and_windows_1250() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode("name,ico\nPekárna,\n");
        let (rows, errors, _) = read_clients(&bytes, &[]);
        assert!(errors.is_empty());
        assert_eq!(rows[0].client.name, "Pekárna");
    }

    #[test]
    fn line_numbers_are_right_for_lf_crlf_and_quoted_breaks() {
        for (data, want) in [
            (&b"name,ico\nA,1\nB,2,extra\n\nC,3\n"[..], [2, 3, 5]),
            (b"name,ico\r\nA,1\r\nB,2,extra\r\n\r\nC,3\r\n", [2, 3, 5]),
            (b"\xef\xbb\xbfname,ico\r\nA,1\r\nB,2,extra\r\n\r\nC,3", [2, 3, 5]),
            (b"name,ico\r\n\"A\r\nx\",1\r\nB,2,extra\r\nC,3\r\n", [2, 4, 5]),
        ] {
            let (rows, errors, _) = read_clients(data, &[]);
            let got = [rows[0].line, errors[0].line, rows[1].line];
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(data));
        }
        let (rows, errors) = read_deals(b"client;value\r\nA;1\r\nB;x\r\n").unwrap();
        assert_eq!((rows[0].line, errors[0].line), (2, 3));
    }

    #[test]
    fn reports_lines_of_bad_rows() {
        let (rows, errors, _) = read_clients(b"name,ico\nA,1\nB,2,extra\nC,3\n", &[]);
        assert_eq!(rows.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        let (_, errors, _) = read_clients(b"firmaX,ico\nA,1\n", &[]);
        assert!(errors[0].message.contains("no name column"));
    }
}
