//! The brief: everything to know about a client before a meeting, built
//! from the store (read only). JSON is the model; text and Markdown are
//! rendered from it. Also the JSON of a calendar occurrence, shared by the
//! agenda, the brief and reminders.

use chrono::{Duration, Local, Utc};
use serde_json::{Value, json};

use crate::figures::{Figures, FiguresConfig, figures};
use crate::model::{ClientId, ItemKind};
use crate::store::{ItemRow, Store};

/// The JSON of one agenda entry.
pub fn occurrence_json(row: &ItemRow) -> Value {
    let clients: Vec<String> = row.links.iter().map(|l| l.client.clone()).fold(Vec::new(), |mut v, c| {
        if !v.contains(&c) {
            v.push(c);
        }
        v
    });
    json!({
        "id": row.id,
        "start": row.extra["start"].as_str().map(str::to_string).unwrap_or_else(|| row.date.to_rfc3339()),
        "end": row.extra["end"],
        "all_day": row.extra["all_day"],
        "summary": row.subject,
        "location": row.extra["location"],
        "clients": clients,
        "uid": row.extra["uid"],
        "calendar": row.extra["calendar"],
    })
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

/// Everything to know about a client before a meeting, as JSON (the text
/// and Markdown forms are rendered from it).
pub fn brief_json(store: &Store, cfg: &FiguresConfig, id: ClientId) -> Result<Value, crate::store::StoreError> {
    let c = store.client(id)?;
    let now = Utc::now();
    let last_seen = store.contact_last_seen(id)?;
    let contacts: Vec<Value> = store
        .contacts(id)?
        .iter()
        .map(|p| json!({"name": p.name, "role": p.role, "emails": p.emails, "phone": p.phone, "last_contact": last_seen.get(&p.id.0)}))
        .collect();
    let summary = |row: &ItemRow| {
        let body: String = row.body.split_whitespace().collect::<Vec<_>>().join(" ");
        json!({
            "id": row.id,
            "kind": row.kind,
            "date": row.date.to_rfc3339(),
            "direction": row.direction,
            "subject": row.subject,
            "from": row.participants.iter().find(|p| p.role.as_str() == "from").map(|p| p.name.clone().unwrap_or(p.address.clone())),
            "snippet": crate::text::ellipsize(&body, 200),
        })
    };
    let mut last = serde_json::Map::new();
    for kind in [ItemKind::Email, ItemKind::Call, ItemKind::Meeting, ItemKind::Document] {
        let rows: Vec<Value> = store
            .client_items_of_kind(id, kind, now, 3)?
            .into_iter()
            .map(|i| store.item(i).map(|r| summary(&r)))
            .collect::<Result<_, _>>()?;
        last.insert(kind.as_str().to_string(), Value::Array(rows));
    }
    let open: Vec<Value> = store
        .open_threads(id)?
        .into_iter()
        .rev()
        .take(5)
        .map(|i| {
            store.item(i).map(|r| {
                let mut v = summary(&r);
                v["waiting_days"] = json!((now - r.date).num_days());
                v
            })
        })
        .collect::<Result<_, _>>()?;
    let past: Vec<Value> = store
        .client_items_of_kind(id, ItemKind::Event, now, 3)?
        .into_iter()
        .map(|i| store.item(i).map(|r| occurrence_json(&r)))
        .collect::<Result<_, _>>()?;
    let upcoming: Vec<Value> = store
        .events_between(now, now + Duration::days(90), Some(id))?
        .into_iter()
        .take(5)
        .map(|i| store.item(i).map(|r| occurrence_json(&r)))
        .collect::<Result<_, _>>()?;
    let counts = store.client_item_counts(id)?;
    Ok(json!({
        "client": {
            "id": c.id.0, "name": c.name, "ico": c.ico, "dic": c.dic, "address": c.address, "status": c.status,
            "domains": c.domains, "annual_budget": c.annual_budget, "custom": c.custom,
        },
        "contacts": contacts,
        "last": last,
        "open_threads": open,
        "past_events": past,
        "upcoming_events": upcoming,
        "figures": {
            "items": counts,
            "total": counts.values().sum::<i64>(),
            "deals": client_figures(store, cfg, id)?,
        },
    }))
}

/// A client's figures from its deals (see [`crate::figures`]).
pub fn client_figures(store: &Store, cfg: &FiguresConfig, id: ClientId) -> Result<Figures, crate::store::StoreError> {
    Ok(figures_among(&store.deals(None)?, &store.client(id)?, cfg))
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
        let last =
            p["last_contact"].as_str().map(|d| format!(", last contact {}", &d[..10.min(d.len())])).unwrap_or_default();
        let role = p["role"].as_str().map(|r| format!(" ({r})")).unwrap_or_default();
        let emails: Vec<&str> = p["emails"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        out.push_str(&format!("{item}{}{role} {}{last}\n", p["name"].as_str().unwrap_or(""), emails.join(", ")));
    }
    let line = |v: &Value| {
        format!(
            "{item}{} {}: {} — {}\n",
            &v["date"].as_str().unwrap_or("")[..10.min(v["date"].as_str().unwrap_or("").len())],
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
