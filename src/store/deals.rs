//! Deals: what was offered, sold or turned down, per client.

use chrono::NaiveDate;
use serde::Serialize;

use crate::args;

use super::{Result, Store, StoreError, now};
use crate::model::ClientId;

/// A deal's state.
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];

/// A deal as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deal {
    pub id: i64,
    pub client_id: i64,
    pub client: String,
    pub title: String,
    pub value: f64,
    pub currency: String,
    pub status: String,
    pub date: NaiveDate,
    pub products: Vec<String>,
    /// Invoice or order number from an import.
    pub number: Option<String>,
    /// `sale`, or `purchase` (an invoice a client sent us: not a sale, so
    /// figures leave it out).
    pub side: String,
    /// `manual`, `import` (CSV), `isdoc` (an invoice in mail), `proposal`
    /// (read from a PDF and confirmed).
    pub origin: String,
    /// The document item it came from.
    pub item_id: Option<i64>,
    /// Each product's own amount, when the deal knows it (an invoice's
    /// lines); empty: each product stands for the whole deal.
    pub product_values: Vec<f64>,
}

/// A new deal (validated by the caller).
#[derive(Debug, Clone, Default)]
pub struct DealInput {
    pub title: String,
    pub value: f64,
    pub currency: String,
    pub status: String,
    pub date: Option<NaiveDate>,
    pub products: Vec<String>,
    pub number: Option<String>,
    /// Identity of an imported row: importing it again adds nothing.
    pub import_key: Option<String>,
}

impl Store {
    /// Adds a deal; `None` when its import key is already stored.
    pub fn add_deal(&mut self, client: ClientId, d: &DealInput) -> Result<Option<i64>> {
        self.client(client)?;
        if d.title.trim().is_empty() {
            return Err(StoreError::Invalid("a deal needs a title".into()));
        }
        let ts = now();
        let date = d.date.unwrap_or_else(|| chrono::Local::now().date_naive());
        // A known import key adds no row, and so returns no id.
        let id = self.db.value::<i64>(
            "INSERT INTO deals (client_id, title, value, currency, status, date, products, number, import_key, created_at, updated_at, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, CASE WHEN ?9 IS NULL THEN 'manual' ELSE 'import' END)
             ON CONFLICT DO NOTHING RETURNING id",
            args![
                client.0,
                d.title.trim(),
                d.value,
                d.currency,
                d.status,
                date.to_string(),
                serde_json::to_string(&d.products).unwrap_or_default(),
                d.number,
                d.import_key,
                ts
            ],
        )?;
        let Some(id) = id else { return Ok(None) };
        self.sync_deal_item(id)?;
        Ok(Some(id))
    }

    /// Keeps a deal's history item (kind `deal`: searchable, in the client's
    /// history) in step with the deal.
    pub(super) fn sync_deal_item(&mut self, id: i64) -> Result<()> {
        let d = self.deal(id)?;
        let body = format!(
            "{} {} {}, {}{}{}",
            crate::text::format_amount(d.value),
            d.currency,
            d.status,
            d.title,
            if d.products.is_empty() { String::new() } else { format!("; {}", d.products.join(", ")) },
            d.number.as_deref().map(|n| format!("; {n}")).unwrap_or_default()
        );
        let date = d.date.and_hms_opt(12, 0, 0).map(|t| t.and_utc()).unwrap_or_default();
        let item = super::NewItem {
            kind: crate::model::ItemKind::Deal,
            date,
            date_source: super::DateSource::Import,
            subject: d.title.clone(),
            body,
            content_hash: crate::text::sha256_hex(format!("deal {id} {:?}", d).as_bytes()),
            extra: serde_json::json!({"deal": id, "value": d.value, "currency": d.currency, "status": d.status}),
            ..super::NewItem::default()
        };
        let key = super::SourceKey { source: "deals".into(), key: id.to_string() };
        let items = [(item, key)];
        let changes = super::Changes { items: &items, replace: true, ..Default::default() };
        let outcomes = self.apply(&changes)?.outcomes;
        if let Some(super::IngestOutcome::New(item) | super::IngestOutcome::Updated(item)) = outcomes.first() {
            self.db.execute("DELETE FROM item_links WHERE item_id = ?1", args![item.0])?;
            self.link_manual(*item, ClientId(d.client_id), None)?;
        }
        Ok(())
    }

    /// Deals without their history item (one made from an invoice whose
    /// item a crash kept from being written) get it. Returns how many.
    pub fn sync_missing_deal_items(&mut self) -> Result<usize> {
        let missing = self.db.query(
            "SELECT d.id FROM deals d WHERE d.origin = 'isdoc' AND NOT EXISTS
             (SELECT 1 FROM item_sources s WHERE s.source = 'deals' AND s.key = CAST(d.id AS TEXT))
             ORDER BY d.id",
            args![],
            |r| r.get::<i64>(0),
        )?;
        for id in &missing {
            self.sync_deal_item(*id)?;
        }
        Ok(missing.len())
    }

    /// Changes a deal: `None` fields stay.
    #[allow(clippy::too_many_arguments)]
    pub fn edit_deal(
        &mut self,
        id: i64,
        title: Option<&str>,
        value: Option<f64>,
        currency: Option<&str>,
        status: Option<&str>,
        date: Option<NaiveDate>,
        products: Option<&[String]>,
    ) -> Result<()> {
        let cur = self.deal(id)?;
        self.db.execute(
            "UPDATE deals SET title = ?2, value = ?3, currency = ?4, status = ?5, date = ?6, products = ?7, updated_at = ?8 WHERE id = ?1",
            args![
                id,
                title.unwrap_or(&cur.title),
                value.unwrap_or(cur.value),
                currency.unwrap_or(&cur.currency),
                status.unwrap_or(&cur.status),
                date.unwrap_or(cur.date).to_string(),
                serde_json::to_string(products.unwrap_or(&cur.products)).unwrap_or_default(),
                now()
            ],
        )?;
        self.sync_deal_item(id)
    }

    /// One deal.
    pub fn deal(&self, id: i64) -> Result<Deal> {
        self.deals_where("d.id = ?1", id)?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "deal", query: id.to_string() })
    }

    /// Deals of one client, or of everybody (`None`), newest first.
    pub fn deals(&self, client: Option<ClientId>) -> Result<Vec<Deal>> {
        match client {
            Some(c) => self.deals_where("d.client_id = ?1", c.0),
            None => self.deals_where("?1 = ?1", 0),
        }
    }

    /// Everybody's won sales (purchases left out), summed by currency:
    /// what a client's share of revenue is measured against.
    pub fn won_sales_by_currency(&self) -> Result<std::collections::BTreeMap<String, f64>> {
        // `value` is a REAL (DOUBLE PRECISION): its SUM is one on both.
        let rows = self.db.query(
            "SELECT d.currency, SUM(d.value) FROM deals d JOIN clients c ON c.id = d.client_id
             WHERE d.status = 'won' AND d.side != 'purchase' GROUP BY d.currency",
            args![],
            |r| Ok((r.get::<String>(0)?, r.get::<f64>(1)?)),
        )?;
        Ok(rows.into_iter().collect())
    }

    fn deals_where(&self, condition: &str, arg: i64) -> Result<Vec<Deal>> {
        let sql = format!(
            "SELECT d.id, d.client_id, c.name, d.title, d.value, d.currency, d.status, d.date, d.products, d.number,
                    d.side, d.origin, d.item_id, d.details
             FROM deals d JOIN clients c ON c.id = d.client_id WHERE {condition} ORDER BY d.date DESC, d.id DESC"
        );
        Ok(self.db.query(&sql, args![arg], |r| {
            let date: String = r.get(7)?;
            let products: String = r.get(8)?;
            Ok(Deal {
                id: r.get(0)?,
                client_id: r.get(1)?,
                client: r.get(2)?,
                title: r.get(3)?,
                value: r.get(4)?,
                currency: r.get(5)?,
                status: r.get(6)?,
                date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").unwrap_or_default(),
                products: serde_json::from_str(&products).unwrap_or_default(),
                number: r.get(9)?,
                side: r.get(10)?,
                origin: r.get(11)?,
                item_id: r.get(12)?,
                product_values: line_values(&r.get::<String>(13)?),
            })
        })?)
    }

    /// The legal form of a client (from ARES).
    pub fn set_legal_form(&self, client: ClientId, form: Option<&str>) -> Result<()> {
        self.db.execute("UPDATE clients SET legal_form = ?2 WHERE id = ?1", args![client.0, form])?;
        Ok(())
    }

    /// The legal form of a client, when known.
    pub fn legal_form(&self, client: ClientId) -> Result<Option<String>> {
        Ok(self.db.value::<Option<String>>("SELECT legal_form FROM clients WHERE id = ?1", args![client.0])?.flatten())
    }
}

/// The amounts of an invoice's lines, from a deal's details; empty unless
/// every line has one.
fn line_values(details: &str) -> Vec<f64> {
    let v: serde_json::Value = serde_json::from_str(details).unwrap_or_default();
    let Some(lines) = v.get("lines").and_then(|l| l.as_array()) else { return Vec::new() };
    let values: Option<Vec<f64>> = lines.iter().map(|l| l.get("without_vat").and_then(|x| x.as_f64())).collect();
    values.unwrap_or_default()
}
