//! The application layer: what the CLI and the web interface both show,
//! read from the store once and handed over as plain, serialisable data.
//! `cli` prints it as text or JSON, `web` renders it as HTML; neither runs
//! its own queries for a client card, a timeline or a client search.

pub mod clients;
pub mod edit;
pub mod search;
pub mod today;
pub mod visibility;

pub use clients::{ClientSummary, find_clients};

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::figures::Figures;
use crate::model::{Client, ClientId, ItemId};
use crate::store::{Deal, ItemRow, Result, Store};

/// A contact person with their last contact.
#[derive(Debug, Clone, Serialize)]
pub struct ContactCard {
    pub id: i64,
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    /// RFC 3339 date of the latest item with them.
    pub last_contact: Option<String>,
}

/// A custom field's value as shown: the config's fields first, in their
/// order; then values of fields the config no longer declares.
#[derive(Debug, Clone, Serialize)]
pub struct FieldValue {
    pub name: String,
    pub value: String,
    pub declared: bool,
}

/// Everything the client card shows but the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct ClientCard {
    pub client: Client,
    pub legal_form: Option<String>,
    /// Addresses of the company itself.
    pub emails: Vec<String>,
    pub contacts: Vec<ContactCard>,
    pub fields: Vec<FieldValue>,
    /// Linked live items by kind, and their total.
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
    pub figures: Figures,
    /// Events in the next 90 days, earliest first (at most 10).
    pub upcoming: Vec<TimelineEntry>,
}

/// One line of a timeline: an item (mail, call, meeting, event, document) or a deal.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// `email`, `call`, `meeting`, `event`, `document` or `deal`.
    pub kind: String,
    pub item_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub date: DateTime<Utc>,
    /// `in`, `out` or `none` for items; the deal's status for deals.
    pub direction: String,
    /// Sender or organiser (name, else address); empty for deals.
    pub who: String,
    pub subject: String,
    pub snippet: String,
}

/// A page of a client's timeline, newest first; `next` is the item to pass
/// as `before` for the page after it (`None`: this was the last page).
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next: Option<i64>,
}

/// The client card of one client.
pub fn client_card(store: &Store, config: &Config, id: ClientId) -> Result<ClientCard> {
    let c = store.client(id)?;
    client_card_among(store, config, c, &store.deals(None)?)
}

/// The client card, with all deals read once (listing many clients).
pub fn client_card_among(store: &Store, config: &Config, c: Client, all_deals: &[Deal]) -> Result<ClientCard> {
    let last_seen = store.contact_last_seen(c.id)?;
    let contacts = store
        .contacts(c.id)?
        .into_iter()
        .map(|p| ContactCard {
            last_contact: last_seen.get(&p.id.0).cloned(),
            id: p.id.0,
            name: p.name,
            emails: p.emails,
            phone: p.phone,
            role: p.role,
        })
        .collect();
    let mut fields = Vec::new();
    for f in &config.custom_fields {
        if let Some(v) = c.custom.get(&f.name) {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push(FieldValue { name: f.name.clone(), value, declared: true });
        }
    }
    for (k, v) in &c.custom {
        if config.custom_field(k).is_none() {
            fields.push(FieldValue { name: k.clone(), value: v.to_string(), declared: false });
        }
    }
    let counts = store.client_item_counts(c.id)?;
    let total = counts.values().sum();
    let figures = crate::brief::figures_among(all_deals, &c, &config.figures);
    let now = Utc::now();
    let upcoming = store
        .events_between(now, now + Duration::days(90), Some(c.id))?
        .into_iter()
        .take(10)
        .map(|i| store.item(i).map(|r| item_entry(&r)))
        .collect::<Result<_>>()?;
    Ok(ClientCard {
        legal_form: store.legal_form(c.id)?,
        emails: store.client_emails(c.id)?,
        contacts,
        fields,
        counts,
        total,
        figures,
        upcoming,
        client: c,
    })
}

/// A client's history for `kronika history`: the newest `limit` items, or
/// the deleted ones.
pub fn history(store: &Store, id: ClientId, limit: usize, deleted: bool) -> Result<Vec<ItemRow>> {
    store.client_item_ids(id, limit, deleted)?.into_iter().map(|i| store.item(i)).collect()
}

/// One page of a client's timeline: items older than `before` and the
/// client's deals dated among them (the last page takes the older deals).
pub fn timeline(store: &Store, id: ClientId, before: Option<ItemId>, limit: usize) -> Result<TimelinePage> {
    let limit = limit.max(1);
    let ids = store.client_timeline_ids(id, before, limit + 1)?;
    let more = ids.len() > limit;
    let rows: Vec<ItemRow> = ids.into_iter().take(limit).map(|i| store.item(i)).collect::<Result<_>>()?;
    let upper = match before {
        Some(b) => Some(store.item(b)?.date),
        None => None,
    };
    let lower = if more { rows.last().map(|r| r.date) } else { None };
    let mut entries: Vec<TimelineEntry> = rows.iter().map(item_entry).collect();
    for d in store.deals(Some(id))? {
        let date = d.date.and_time(NaiveTime::MIN).and_utc();
        let after_lower = lower.is_none_or(|l| date >= l);
        let before_upper = upper.is_none_or(|u| date < u);
        if after_lower && before_upper {
            entries.push(deal_entry(&d, date));
        }
    }
    entries.sort_by(|a, b| b.date.cmp(&a.date).then(b.item_id.cmp(&a.item_id)));
    let next = if more { rows.last().map(|r| r.id) } else { None };
    Ok(TimelinePage { entries, next })
}

/// The first words of a body without quoted lines, for a timeline line.
pub fn lead(body: &str) -> String {
    let flat: String = body
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .flat_map(|l| l.split_whitespace())
        .collect::<Vec<_>>()
        .join(" ");
    crate::text::ellipsize(&flat, 140)
}

/// Sender or organiser of an item: name, else address.
pub fn who(row: &ItemRow) -> String {
    row.participants
        .iter()
        .find(|p| p.role.as_str() == "from" || p.role.as_str() == "organizer")
        .map(|p| p.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| p.address.clone()))
        .unwrap_or_default()
}

fn item_entry(row: &ItemRow) -> TimelineEntry {
    TimelineEntry {
        kind: row.kind.clone(),
        item_id: Some(row.id),
        deal_id: None,
        date: row.date,
        direction: row.direction.clone(),
        who: who(row),
        subject: row.subject.clone(),
        snippet: lead(&row.body),
    }
}

fn deal_entry(d: &Deal, date: DateTime<Utc>) -> TimelineEntry {
    let mut snippet = format!("{} {}", crate::text::format_amount(d.value), d.currency);
    if !d.products.is_empty() {
        snippet.push_str(&format!(" · {}", d.products.join(", ")));
    }
    if let Some(n) = &d.number {
        snippet.push_str(&format!(" · {n}"));
    }
    TimelineEntry {
        kind: "deal".into(),
        item_id: None,
        deal_id: Some(d.id),
        date,
        direction: d.status.clone(),
        who: String::new(),
        subject: d.title.clone(),
        snippet,
    }
}

/// One line of the figures: what it is (a key the faces label in their
/// language) and its value as text.
#[derive(Debug, Clone, Serialize)]
pub struct FigureRow {
    /// `total_sold`, `sold_last_year`, `rejected_offers`, `open_value`,
    /// `share_of_revenue`, `top_products`, `annual_budget` or `ltv`.
    pub key: &'static str,
    pub value: String,
}

fn money(m: &crate::figures::Money) -> String {
    if m.is_empty() {
        return "0".into();
    }
    m.iter().map(|(c, v)| format!("{} {c}", crate::text::format_amount(*v))).collect::<Vec<_>>().join(" + ")
}

/// The figures as rows, in the order the card and `client show` give them;
/// the lifetime value comes with its formula.
pub fn figure_rows(f: &Figures) -> Vec<FigureRow> {
    let row = |key, value| FigureRow { key, value };
    let mut out = vec![
        row("total_sold", money(&f.total_sold)),
        row("sold_last_year", money(&f.sold_last_year)),
        row("rejected_offers", format!("{} ({})", f.rejected_offers.count, money(&f.rejected_offers.value))),
        row("open_value", money(&f.open_value)),
    ];
    if !f.share_of_revenue.is_empty() {
        let s: Vec<String> = f.share_of_revenue.iter().map(|(c, v)| format!("{:.1} % of {c}", v * 100.0)).collect();
        out.push(row("share_of_revenue", s.join(", ")));
    }
    if !f.top_products.is_empty() {
        let p: Vec<String> = f.top_products.iter().map(|p| format!("{} ({})", p.product, money(&p.value))).collect();
        out.push(row("top_products", p.join(", ")));
    }
    if let Some(b) = f.annual_budget {
        out.push(row("annual_budget", crate::text::format_amount(b)));
    }
    for (cur, l) in &f.ltv {
        out.push(row("ltv", crate::figures::ltv_formula(cur, l)));
    }
    out
}
