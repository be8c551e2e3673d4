//! The brief: everything to know about a client before a meeting, built
//! from the store (read only). JSON is the model; text and Markdown are
//! rendered from it. Also the JSON of a calendar occurrence, shared by the
//! agenda, the brief and reminders.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Local, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::figures::{Figures, FiguresConfig, figures};
use crate::model::{ClientId, ClientStatus, ItemId, ItemKind};
use crate::store::{ItemRow, Store};

/// A calendar occurrence as the agenda, the brief and reminders give it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occurrence {
    pub id: i64,
    /// RFC 3339 start (as the calendar gave it).
    pub start: String,
    pub end: Option<String>,
    pub all_day: Option<bool>,
    pub summary: String,
    pub location: Option<String>,
    /// Names of the linked clients, each once.
    pub clients: Vec<String>,
    pub uid: Option<String>,
    /// RECURRENCE-ID of an occurrence of a series.
    pub recurrence_id: Option<String>,
    pub calendar: Option<String>,
    /// STATUS as the calendar or the invitation gave it (CONFIRMED…).
    pub status: Option<String>,
    /// Organizer and attendees, each with the answer known (PARTSTAT):
    /// `{address, name, partstat}`.
    pub attendees: Vec<Value>,
}

impl Occurrence {
    pub fn of(row: &ItemRow) -> Occurrence {
        let text = |key: &str| row.extra[key].as_str().map(str::to_string);
        let mut clients: Vec<String> = Vec::new();
        for l in &row.links {
            if !clients.contains(&l.client) {
                clients.push(l.client.clone());
            }
        }
        Occurrence {
            id: row.id,
            start: text("start").unwrap_or_else(|| row.date.to_rfc3339()),
            end: text("end"),
            all_day: row.extra["all_day"].as_bool(),
            summary: row.subject.clone(),
            location: text("location"),
            clients,
            uid: text("uid"),
            recurrence_id: text("recurrence_id"),
            calendar: text("calendar"),
            status: text("status"),
            attendees: row.extra["attendees"].as_array().cloned().unwrap_or_default(),
        }
    }
}

/// The JSON of one agenda entry.
pub fn occurrence_json(row: &ItemRow) -> Value {
    serde_json::to_value(Occurrence::of(row)).unwrap_or(Value::Null)
}

pub fn when(row: &ItemRow) -> String {
    if row.extra["all_day"].as_bool() == Some(true) {
        return format!("{} (all day)", row.extra["date"].as_str().unwrap_or(""));
    }
    let start = row.date.with_timezone(&Local);
    let end = row.extra["end"]
        .as_str()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .map(|e| e.with_timezone(&Local).format("%H:%M").to_string())
        .unwrap_or_default();
    format!("{}–{end}", start.format("%a %Y-%m-%d %H:%M"))
}

/// The client as the brief shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BriefClient {
    pub id: i64,
    pub name: String,
    pub ico: Option<String>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub status: ClientStatus,
    pub domains: Vec<String>,
    pub annual_budget: Option<f64>,
    pub custom: serde_json::Map<String, Value>,
}

/// A contact person with their last contact.
#[derive(Debug, Clone, Serialize)]
pub struct BriefContact {
    pub name: String,
    pub role: Option<String>,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    /// RFC 3339 date of the latest item with them.
    pub last_contact: Option<String>,
}

/// One interaction in the brief.
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    pub id: i64,
    pub kind: String,
    /// RFC 3339.
    pub date: String,
    pub direction: String,
    pub subject: String,
    /// The sender: name, else address.
    pub from: Option<String>,
    /// The body on one line, shortened.
    pub snippet: String,
    /// For a thread waiting for our reply: whole days since its last mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_days: Option<i64>,
}

impl ItemSummary {
    fn of(row: &ItemRow) -> ItemSummary {
        let body: String = row.body.split_whitespace().collect::<Vec<_>>().join(" ");
        ItemSummary {
            id: row.id,
            kind: row.kind.clone(),
            date: row.date.to_rfc3339(),
            direction: row.direction.clone(),
            subject: row.subject.clone(),
            from: row
                .participants
                .iter()
                .find(|p| p.role.as_str() == "from")
                .map(|p| p.name.clone().unwrap_or(p.address.clone())),
            snippet: crate::text::ellipsize(&body, 200),
            waiting_days: None,
        }
    }
}

/// The figures of the brief: items in the history by kind, and the deals' figures.
#[derive(Debug, Clone, Serialize)]
pub struct BriefFigures {
    pub items: BTreeMap<String, i64>,
    pub total: i64,
    pub deals: Figures,
}

/// Everything to know about a client before a meeting. The JSON of
/// `kronika brief --json`, reminders' payloads and the feed are this,
/// serialised; the text, the Markdown and the web page are rendered from it.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    pub client: BriefClient,
    pub contacts: Vec<BriefContact>,
    /// The last three emails, calls, meetings and documents.
    pub last: BTreeMap<String, Vec<ItemSummary>>,
    /// Threads waiting for our reply, newest first (at most five).
    pub open_threads: Vec<ItemSummary>,
    /// The last three calendar events.
    pub past_events: Vec<Occurrence>,
    /// Events in the next 90 days (at most five).
    pub upcoming_events: Vec<Occurrence>,
    pub figures: BriefFigures,
    /// The meeting this brief is for, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_event: Option<Occurrence>,
}

impl Brief {
    /// The brief of a client at `now`, everything shown.
    pub fn build(
        store: &Store,
        cfg: &FiguresConfig,
        id: ClientId,
        now: DateTime<Utc>,
    ) -> Result<Brief, crate::store::StoreError> {
        Brief::build_with(store, cfg, id, now, &mut |_, _| Ok(()))
    }

    /// The brief of a client at `now`, each mail, note and document passed
    /// through `redact` first (the web hides what a user may not read).
    pub fn build_with(
        store: &Store,
        cfg: &FiguresConfig,
        id: ClientId,
        now: DateTime<Utc>,
        redact: &mut dyn FnMut(&Store, &mut ItemRow) -> Result<(), crate::store::StoreError>,
    ) -> Result<Brief, crate::store::StoreError> {
        // Each list in one read of the store (a round trip a statement on PostgreSQL).
        let mut read = |ids: &[ItemId]| -> Result<Vec<ItemRow>, crate::store::StoreError> {
            let mut rows = store.items_in_order(ids)?;
            for row in &mut rows {
                redact(store, row)?;
            }
            Ok(rows)
        };
        let c = store.client(id)?;
        let last_seen = store.contact_last_contact(id, now)?;
        let contacts = store
            .contacts(id)?
            .into_iter()
            .map(|p| BriefContact {
                last_contact: last_seen.get(&p.id.0).cloned(),
                name: p.name,
                role: p.role,
                emails: p.emails,
                phone: p.phone,
            })
            .collect();
        let mut last = BTreeMap::new();
        for kind in [ItemKind::Email, ItemKind::Call, ItemKind::Meeting, ItemKind::Document] {
            let rows: Vec<ItemSummary> =
                read(&store.client_items_of_kind(id, kind, now, 3)?)?.iter().map(ItemSummary::of).collect();
            last.insert(kind.as_str().to_string(), rows);
        }
        let waiting: Vec<ItemId> =
            store.waiting_threads(Some(id), Some(5))?.iter().rev().map(|w| ItemId(w.item_id)).collect();
        let open_threads: Vec<ItemSummary> = read(&waiting)?
            .iter()
            .map(|r| ItemSummary { waiting_days: Some((now - r.date).num_days()), ..ItemSummary::of(r) })
            .collect();
        let past_events: Vec<Occurrence> =
            read(&store.client_items_of_kind(id, ItemKind::Event, now, 3)?)?.iter().map(Occurrence::of).collect();
        let soon: Vec<ItemId> =
            store.events_between(now, now + Duration::days(90), Some(id))?.into_iter().take(5).collect();
        let upcoming_events: Vec<Occurrence> = read(&soon)?.iter().map(Occurrence::of).collect();
        let items = store.client_item_counts(id)?;
        let total = items.values().sum::<i64>();
        let deals = client_figures_of(store, cfg, &c)?;
        Ok(Brief {
            client: BriefClient {
                id: c.id.0,
                name: c.name,
                ico: c.ico,
                dic: c.dic,
                address: c.address,
                status: c.status,
                domains: c.domains,
                annual_budget: c.annual_budget,
                custom: c.custom,
            },
            contacts,
            last,
            open_threads,
            past_events,
            upcoming_events,
            figures: BriefFigures { items, total, deals },
            next_event: None,
        })
    }

    /// The brief as JSON (keys sorted, as `kronika brief --json` prints it).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Everything to know about a client before a meeting, as JSON (the text
/// and Markdown forms are rendered from it).
pub fn brief_json(store: &Store, cfg: &FiguresConfig, id: ClientId) -> Result<Value, crate::store::StoreError> {
    Ok(Brief::build(store, cfg, id, Utc::now())?.to_json())
}

/// A client's figures from its deals (see [`crate::figures`]).
pub fn client_figures(store: &Store, cfg: &FiguresConfig, id: ClientId) -> Result<Figures, crate::store::StoreError> {
    client_figures_of(store, cfg, &store.client(id)?)
}

/// A client's figures from its own deals and everybody's sums (two
/// statements, whatever the number of deals).
pub fn client_figures_of(
    store: &Store,
    cfg: &FiguresConfig,
    client: &crate::model::Client,
) -> Result<Figures, crate::store::StoreError> {
    let mine = store.deals(Some(client.id))?;
    let sums = store.won_sales_by_currency()?;
    Ok(crate::figures::figures_given(&mine, &sums, client.annual_budget, chrono::Local::now().date_naive(), cfg))
}

/// A client's figures among everybody's deals, loaded once by callers that
/// go through many clients.
pub fn figures_among(all: &[crate::store::Deal], client: &crate::model::Client, cfg: &FiguresConfig) -> Figures {
    let mine: Vec<crate::store::Deal> = all.iter().filter(|d| d.client_id == client.id.0).cloned().collect();
    figures(&mine, all, client.annual_budget, chrono::Local::now().date_naive(), cfg)
}

/// The brief as text or Markdown.
pub fn render_brief(b: &Value, markdown: bool) -> String {
    let mut out = String::new();
    let (h1, h2, item) = if markdown { ("# ", "\n## ", "- ") } else { ("", "\n", "  ") };
    let c = &b["client"];
    out.push_str(&format!("{h1}{}\n", c["name"].as_str().unwrap_or("")));
    let mut facts = Vec::new();
    for (label, key) in [("IČO", "ico"), ("DIČ", "dic"), ("Address", "address"), ("Status", "status")] {
        if let Some(v) = c[key].as_str() {
            facts.push(format!("{label}: {v}"));
        }
    }
    if let Some(b) = c["annual_budget"].as_f64() {
        facts.push(format!("Annual budget: {}", crate::text::format_amount(b)));
    }
    if let Some(custom) = c["custom"].as_object() {
        for (k, v) in custom {
            facts.push(format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or(v.to_string())));
        }
    }
    for f in facts {
        out.push_str(&format!("{item}{f}\n"));
    }
    out.push_str(&format!("{h2}Contacts\n"));
    for p in b["contacts"].as_array().into_iter().flatten() {
        let last = p["last_contact"]
            .as_str()
            .map(|d| format!(", last contact {}", d.get(..10).unwrap_or(d)))
            .unwrap_or_default();
        let role = p["role"].as_str().map(|r| format!(" ({r})")).unwrap_or_default();
        let emails: Vec<&str> = p["emails"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        out.push_str(&format!("{item}{}{role} {}{last}\n", p["name"].as_str().unwrap_or(""), emails.join(", ")));
    }
    let line = |v: &Value| {
        format!(
            "{item}{} {}: {} — {}\n",
            v["date"].as_str().map(|d| d.get(..10).unwrap_or(d)).unwrap_or(""),
            v["kind"].as_str().unwrap_or(""),
            v["subject"].as_str().unwrap_or(""),
            v["snippet"].as_str().unwrap_or("")
        )
    };
    let open = b["open_threads"].as_array().cloned().unwrap_or_default();
    if !open.is_empty() {
        out.push_str(&format!("{h2}Waiting for our reply\n"));
        for v in &open {
            out.push_str(&format!(
                "{item}{} ({} days): {}\n",
                v["subject"].as_str().unwrap_or(""),
                v["waiting_days"],
                v["from"].as_str().unwrap_or("")
            ));
        }
    }
    out.push_str(&format!("{h2}Last interactions\n"));
    for kind in ["email", "call", "meeting", "document"] {
        for v in b["last"][kind].as_array().into_iter().flatten() {
            out.push_str(&line(v));
        }
    }
    let events = |title: &str, list: &Value, out: &mut String| {
        if let Some(a) = list.as_array().filter(|a| !a.is_empty()) {
            out.push_str(&format!("{h2}{title}\n"));
            for e in a {
                let start = e["start"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|d| d.with_timezone(&Local).format("%a %Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{item}{} {}{}\n",
                    start,
                    e["summary"].as_str().unwrap_or(""),
                    e["location"].as_str().filter(|l| !l.is_empty()).map(|l| format!(" @ {l}")).unwrap_or_default()
                ));
            }
        }
    };
    events("Upcoming", &b["upcoming_events"], &mut out);
    events("Past meetings", &b["past_events"], &mut out);
    out.push_str(&format!("{h2}Figures\n{item}{} items in the history", b["figures"]["total"]));
    if let Some(items) = b["figures"]["items"].as_object() {
        let parts: Vec<String> = items.iter().map(|(k, v)| format!("{v} {k}")).collect();
        if !parts.is_empty() {
            out.push_str(&format!(": {}", parts.join(", ")));
        }
    }
    out.push('\n');
    if let Ok(f) = serde_json::from_value::<FiguresView>(b["figures"]["deals"].clone()) {
        for line in f.lines() {
            out.push_str(&format!("{item}{line}\n"));
        }
    }
    out
}

/// The parts of [`Figures`] the rendered brief shows.
#[derive(serde::Deserialize)]
struct FiguresView {
    total_sold: std::collections::BTreeMap<String, f64>,
    open_value: std::collections::BTreeMap<String, f64>,
    ltv: std::collections::BTreeMap<String, crate::figures::Ltv>,
}

impl FiguresView {
    fn lines(&self) -> Vec<String> {
        let money = |m: &std::collections::BTreeMap<String, f64>| {
            m.iter().map(|(c, v)| format!("{} {c}", crate::text::format_amount(*v))).collect::<Vec<_>>().join(" + ")
        };
        let mut out = Vec::new();
        if !self.total_sold.is_empty() {
            out.push(format!("sold: {}", money(&self.total_sold)));
        }
        if !self.open_value.is_empty() {
            out.push(format!("open deals: {}", money(&self.open_value)));
        }
        for (c, l) in &self.ltv {
            out.push(format!("lifetime value: {}", crate::figures::ltv_formula(c, l)));
        }
        out
    }
}
