//! Client CSV files as spreadsheets write them: a header row, UTF-8 with
//! or without BOM (or windows-1250 from older Czech Excel), `,` or `;` as
//! separator. Reading is pure: bytes in, rows or per-line errors out.

use crate::directory::RawClient;

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
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(RowError { line, message: format!("cannot read the row: {e}") });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
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
                Column::Custom(i) => c.fields.push((custom_fields[*i].clone(), v.to_string())),
                Column::Ignored => {}
            }
        }
        rows.push(ClientRow { line, client: c });
    }
    (rows, errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reports_lines_of_bad_rows() {
        let (rows, errors, _) = read_clients(b"name,ico\nA,1\nB,2,extra\nC,3\n", &[]);
        assert_eq!(rows.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        let (_, errors, _) = read_clients(b"firmaX,ico\nA,1\n", &[]);
        assert!(errors[0].message.contains("no name column"));
    }
}
