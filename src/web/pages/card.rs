//! The client card and its timeline.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::Local;
use serde::Deserialize;

use super::{AppState, render, signed_in};
use crate::app::{self, TimelineEntry};
use crate::model::{ClientId, ItemId};
use crate::store::{Store, StoreError};
use crate::web::i18n::Msg;

/// Timeline entries per page.
const TIMELINE_PAGE: usize = 30;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/clients/{id}", get(card)).route("/clients/{id}/timeline", get(timeline))
}

struct Row {
    label: String,
    value: String,
}

struct ContactView {
    name: String,
    role: String,
    emails: String,
    phone: String,
    last_contact: String,
}

struct EntryView {
    /// A CSS class: one of the known kinds.
    kind: &'static str,
    kind_label: &'static str,
    date: String,
    arrow: &'static str,
    who: String,
    subject: String,
    snippet: String,
}

fn entry_view(t: &'static Msg, e: &TimelineEntry) -> EntryView {
    let kind = match e.kind.as_str() {
        "email" => "email",
        "call" => "call",
        "meeting" => "meeting",
        "event" => "event",
        "document" => "document",
        "deal" => "deal",
        _ => "other",
    };
    let local = e.date.with_timezone(&Local);
    EntryView {
        kind,
        kind_label: t.word(kind),
        date: if kind == "deal" {
            local.format("%Y-%m-%d").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        },
        arrow: match e.direction.as_str() {
            "in" => "←",
            "out" => "→",
            "open" | "won" | "lost" => t.word(&e.direction),
            _ => "·",
        },
        who: e.who.clone(),
        subject: if e.subject.is_empty() { t.no_subject.to_string() } else { e.subject.clone() },
        snippet: e.snippet.clone(),
    }
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    t: &'static Msg,
    user: String,
    csrf: String,
    back: String,
    name: String,
    status: &'static str,
    company: Vec<Row>,
    contacts: Vec<ContactView>,
    fields: Vec<Row>,
    figures: Vec<Row>,
    counts: String,
    upcoming: Vec<EntryView>,
    entries: Vec<EntryView>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "timeline_rows.html")]
struct TimelineRows {
    t: &'static Msg,
    entries: Vec<EntryView>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct TimelineQuery {
    before: Option<i64>,
}

fn page_of(
    t: &'static Msg,
    store: &Store,
    id: i64,
    before: Option<i64>,
) -> Result<(Vec<EntryView>, Option<String>), StoreError> {
    let page = app::timeline(store, ClientId(id), before.map(ItemId), TIMELINE_PAGE)?;
    let entries = page.entries.iter().map(|e| entry_view(t, e)).collect();
    Ok((entries, page.next.map(|n| format!("/clients/{id}/timeline?before={n}"))))
}

async fn card(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let card = app::client_card(store, config, ClientId(id))?;
        let c = &card.client;
        let mut company = Vec::new();
        let mut row = |label: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                company.push(Row { label: label.to_string(), value: v });
            }
        };
        row(t.ico, c.ico.clone());
        row(t.dic, c.dic.clone());
        row(t.legal_form, card.legal_form.clone());
        row(t.address, c.address.clone());
        row(t.billing, c.billing.clone());
        row(t.domains, Some(c.domains.join(", ")));
        row(t.emails, Some(card.emails.join(", ")));
        row(t.status, Some(t.word(&c.status.to_string()).to_string()));
        row(t.budget, c.annual_budget.map(crate::text::format_amount));
        let contacts = card
            .contacts
            .iter()
            .map(|p| ContactView {
                name: p.name.clone(),
                role: p.role.clone().unwrap_or_default(),
                emails: p.emails.join(", "),
                phone: p.phone.clone().unwrap_or_default(),
                last_contact: p
                    .last_contact
                    .as_deref()
                    .map(|d| d.get(..10).unwrap_or(d).to_string())
                    .unwrap_or_default(),
            })
            .collect();
        let fields = card
            .fields
            .iter()
            .map(|f| Row {
                label: if f.declared { f.name.clone() } else { format!("{} ({})", f.name, t.undeclared) },
                value: f.value.clone(),
            })
            .collect();
        let figures = app::figure_rows(&card.figures)
            .into_iter()
            .map(|r| Row { label: t.figure(r.key).into(), value: r.value })
            .collect();
        let parts: Vec<String> = card.counts.iter().map(|(k, n)| format!("{n} {}", t.word(k))).collect();
        let counts = format!(
            "{} {}{}",
            card.total,
            t.items,
            if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) }
        );
        let (entries, next) = page_of(t, store, id, q.before)?;
        let page = CardPage {
            t,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: format!("/clients/{id}"),
            name: c.name.clone(),
            status: t.word(&c.status.to_string()),
            company,
            contacts,
            fields,
            figures,
            counts,
            upcoming: card.upcoming.iter().map(|e| entry_view(t, e)).collect(),
            entries,
            next,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}

async fn timeline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, _| {
        store.client(ClientId(id))?;
        let (entries, next) = page_of(ctx.t, store, id, q.before)?;
        Ok(render(StatusCode::OK, &TimelineRows { t: ctx.t, entries, next }))
    })
    .await
}
