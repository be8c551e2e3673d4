//! The application layer: what the CLI and the web interface both show,
//! read from the store once and handed over as plain, serialisable data.
//! `cli` prints it as text or JSON, `web` renders it as HTML; neither runs
//! its own queries for a client card, a timeline or a client search.

pub mod clients;
pub mod edit;
pub mod item;
pub mod meeting;
pub mod person;
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
use crate::store::{Deal, ItemRow, Result, Store, TimelineFilter};
use visibility::Viewer;

/// A contact person with their last contact.
#[derive(Debug, Clone, Serialize)]
pub struct ContactCard {
    pub id: i64,
    pub name: String,
    /// The name with its titles: "Ing. Karel Horák".
    pub titled_name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    /// `manual` or `mail` (the contact appeared by itself).
    pub origin: String,
    /// The item whose signature gave the phone / the position (`None`:
    /// typed in).
    pub phone_item: Option<i64>,
    pub role_item: Option<i64>,
    /// RFC 3339 date of the latest item with them.
    pub last_contact: Option<String>,
}

/// `item:42` → 42: where a contact's field came from.
fn source_item(source: Option<&str>) -> Option<i64> {
    source?.strip_prefix("item:")?.parse().ok()
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
    /// Past events and meetings, newest first (at most 10).
    pub past_events: Vec<TimelineEntry>,
    /// The client's documents (offers, invoices, contracts, orders), newest first.
    pub documents: Vec<DocumentEntry>,
    /// The newest linked item's id: ask [`items_after`] for what came since.
    pub newest: i64,
}

/// A document as the card lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentEntry {
    pub item_id: i64,
    /// `offer`, `invoice`, `contract`, `order` or `other`.
    pub doc_kind: String,
    pub name: String,
    pub date: DateTime<Utc>,
    pub size: i64,
    /// The file is kept and can be downloaded.
    pub kept: bool,
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
    /// A cancelled meeting: it stays in the history, marked.
    pub cancelled: bool,
}

/// A page of a client's timeline, newest first; `next` is the item to pass
/// as `before` for the page after it (`None`: this was the last page).
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next: Option<i64>,
}

/// The client card of one client, whole (the CLI: the operator sees all).
pub fn client_card(store: &Store, config: &Config, id: ClientId) -> Result<ClientCard> {
    client_card_for(store, config, id, &Viewer::everyone())
}

/// The client card as `viewer` may see it: events and documents redacted
/// to their access ([`visibility`]).
pub fn client_card_for(store: &Store, config: &Config, id: ClientId, viewer: &Viewer) -> Result<ClientCard> {
    let c = store.client(id)?;
    let figures = crate::brief::client_figures_of(store, &config.figures, &c)?;
    card_of(store, config, c, figures, viewer)
}

/// The client card, whole, with all deals read once (listing many clients).
pub fn client_card_among(store: &Store, config: &Config, c: Client, all_deals: &[Deal]) -> Result<ClientCard> {
    let figures = crate::brief::figures_among(all_deals, &c, &config.figures);
    card_of(store, config, c, figures, &Viewer::everyone())
}

fn card_of(store: &Store, config: &Config, c: Client, figures: Figures, viewer: &Viewer) -> Result<ClientCard> {
    let last_seen = store.contact_last_contact(c.id, Utc::now())?;
    let contacts = store
        .contacts(c.id)?
        .into_iter()
        .map(|p| ContactCard {
            last_contact: last_seen.get(&p.id.0).cloned(),
            id: p.id.0,
            titled_name: p.titled_name(),
            phone_item: source_item(p.phone_source.as_deref()),
            role_item: source_item(p.role_source.as_deref()),
            name: p.name,
            emails: p.emails,
            phone: p.phone,
            role: p.role,
            origin: p.origin,
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
    let now = Utc::now();
    let soon: Vec<ItemId> =
        store.events_between(now, now + Duration::days(90), Some(c.id))?.into_iter().take(10).collect();
    let upcoming = entries_for(store, viewer, &soon)?;
    let past_events = entries_for(store, viewer, &store.client_past_events(c.id, 10)?)?;
    let far = now + Duration::days(36_500);
    let documents =
        store.items_in_order(&store.client_items_of_kind(c.id, crate::model::ItemKind::Document, far, 200)?)?;
    let kept = item::documents_kept(store, &documents)?;
    let documents = documents
        .into_iter()
        .map(|mut r| {
            let access = viewer.redact_item_in(store, &mut r)?;
            Ok(DocumentEntry {
                item_id: r.id,
                doc_kind: r.extra["doc_kind"].as_str().unwrap_or("other").to_string(),
                kept: access.shows_body() && kept.contains(&r.id),
                name: r.subject,
                date: r.date,
                size: r.size,
            })
        })
        .collect::<Result<_>>()?;
    Ok(ClientCard {
        past_events,
        documents,
        newest: store.client_newest_id(c.id)?,
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
    store.items_in_order(&store.client_item_ids(id, limit, deleted)?)
}

/// One page of a client's timeline: items older than `before` and the
/// client's deals dated among them (the last page takes the older deals).
pub fn timeline(store: &Store, id: ClientId, before: Option<ItemId>, limit: usize) -> Result<TimelinePage> {
    timeline_filtered(store, id, &TimelineFilter::default(), before, limit, &Viewer::everyone())
}

/// A timeline page narrowed by `filter`: deals appear when no kind other
/// than `deal` and no contact is asked for, within the dates asked for;
/// `kind = "deal"` gives the deals alone.
pub fn timeline_filtered(
    store: &Store,
    id: ClientId,
    filter: &TimelineFilter,
    before: Option<ItemId>,
    limit: usize,
    viewer: &Viewer,
) -> Result<TimelinePage> {
    let limit = limit.max(1);
    let deals_only = filter.kind.as_deref() == Some("deal");
    let with_deals = filter.contact.is_none() && (filter.kind.is_none() || deals_only);
    let ids = if deals_only { Vec::new() } else { store.client_timeline_filtered(id, filter, before, limit + 1)? };
    let more = ids.len() > limit;
    let rows: Vec<ItemRow> = store.items_in_order(ids.get(..limit).unwrap_or(&ids))?;
    let upper = match before {
        Some(b) if !deals_only => Some(store.item(b)?.date),
        _ => None,
    };
    let lower = if more { rows.last().map(|r| r.date) } else { None };
    let mut entries: Vec<TimelineEntry> =
        rows.iter().map(|r| redacted_entry(store, viewer, r)).collect::<Result<_>>()?;
    if with_deals && (before.is_none() || !deals_only) {
        for d in store.deals(Some(id))? {
            let date = d.date.and_time(NaiveTime::MIN).and_utc();
            let after_lower = lower.is_none_or(|l| date >= l);
            let before_upper = upper.is_none_or(|u| date < u);
            let in_range = filter.from.is_none_or(|f| date >= f) && filter.until.is_none_or(|u| date < u);
            if after_lower && before_upper && in_range {
                entries.push(deal_entry(&d, date));
            }
        }
    }
    entries.sort_by(|a, b| b.date.cmp(&a.date).then(b.item_id.cmp(&a.item_id)));
    let next = if more { rows.last().map(|r| r.id) } else { None };
    Ok(TimelinePage { entries, next })
}

/// A client's items stored after item `after` (what arrived since a card
/// was drawn), newest first, at most 50; and the newest id now.
pub fn items_after(store: &Store, id: ClientId, after: i64, viewer: &Viewer) -> Result<(Vec<TimelineEntry>, i64)> {
    let rows: Vec<ItemRow> = store.items_in_order(&store.client_items_after(id, after, 50)?)?;
    let newest = rows.iter().map(|r| r.id).max().unwrap_or(after).max(after);
    Ok((rows.iter().map(|r| redacted_entry(store, viewer, r)).collect::<Result<_>>()?, newest))
}

/// Timeline lines for items `ids`, in that order, as `viewer` may see them.
fn entries_for(store: &Store, viewer: &Viewer, ids: &[ItemId]) -> Result<Vec<TimelineEntry>> {
    store.items_in_order(ids)?.iter().map(|r| redacted_entry(store, viewer, r)).collect()
}

/// A timeline line for item `id` as `viewer` may see it.
pub(crate) fn entry_for(store: &Store, viewer: &Viewer, id: ItemId) -> Result<TimelineEntry> {
    redacted_entry(store, viewer, &store.item(id)?)
}

fn redacted_entry(store: &Store, viewer: &Viewer, row: &ItemRow) -> Result<TimelineEntry> {
    let mut e = item_entry(row);
    if viewer.is_restricted() {
        viewer.redact_entry(&mut e, viewer.item_access(store, row)?);
    }
    Ok(e)
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

pub(crate) fn item_entry(row: &ItemRow) -> TimelineEntry {
    TimelineEntry {
        kind: row.kind.clone(),
        item_id: Some(row.id),
        deal_id: None,
        date: row.date,
        direction: row.direction.clone(),
        who: who(row),
        subject: row.subject.clone(),
        snippet: lead(&row.body),
        cancelled: crate::model::is_cancelled_event(&row.kind, &row.extra),
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
        cancelled: false,
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
