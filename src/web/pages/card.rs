//! The client card and its timeline: the six parts of the client record
//! (company, contacts, custom fields, the timeline, deals and documents
//! with the chart, events) and the lifetime value. The timeline filters by
//! kind, contact and date, loads more as it is scrolled, and asks every
//! few seconds for what arrived since the card was drawn.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{Local, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use super::{AppState, Row, push_row, render, signed_in};
use crate::app::visibility::Viewer;
use crate::app::{self, TimelineEntry};
use crate::model::{ClientId, ItemId};
use crate::store::{Store, StoreError, TimelineFilter};
use crate::web::i18n::Msg;

/// Timeline entries per page.
const TIMELINE_PAGE: usize = 30;

/// How often an open card asks for new items (htmx polling).
const POLL: &str = "every 10s";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients/{id}", get(card))
        .route("/clients/{id}/timeline", get(timeline))
        .route("/clients/{id}/new", get(new_items))
}

struct Words {
    edit: &'static str,
    add_contact: &'static str,
    add_deal: &'static str,
    write_note: &'static str,
    plan_meeting: &'static str,
    documents: &'static str,
    not_kept: &'static str,
    chart: &'static str,
    past_events: &'static str,
    all_kinds: &'static str,
    all_contacts: &'static str,
    from: &'static str,
    until: &'static str,
    filter: &'static str,
    clear: &'static str,
    nothing_found: &'static str,
    new_items: &'static str,
    edit_contact: &'static str,
    brief: &'static str,
    search_client: &'static str,
    from_signature: &'static str,
    found_in_mail: &'static str,
}

static CS: Words = Words {
    edit: "Upravit",
    add_contact: "Přidat kontakt",
    add_deal: "Přidat obchod",
    write_note: "Zapsat poznámku",
    plan_meeting: "Naplánovat schůzku",
    documents: "Dokumenty",
    not_kept: "soubor není uložen",
    chart: "Prodej po čtvrtletích",
    past_events: "Proběhlé události",
    all_kinds: "Vše",
    all_contacts: "Všechny kontakty",
    from: "Od",
    until: "Do",
    filter: "Filtrovat",
    clear: "Zrušit filtr",
    nothing_found: "Nic neodpovídá filtru.",
    new_items: "Nové",
    edit_contact: "upravit",
    brief: "Podklady ke schůzce",
    search_client: "Hledat v historii klienta",
    from_signature: "z podpisu",
    found_in_mail: "nalezen v poště",
};

static EN: Words = Words {
    edit: "Edit",
    add_contact: "Add a contact",
    add_deal: "Add a deal",
    write_note: "Write a note",
    plan_meeting: "Plan a meeting",
    documents: "Documents",
    not_kept: "file not kept",
    chart: "Sales per quarter",
    past_events: "Past events",
    all_kinds: "All",
    all_contacts: "All contacts",
    from: "From",
    until: "Until",
    filter: "Filter",
    clear: "Clear the filter",
    nothing_found: "Nothing matches the filter.",
    new_items: "New",
    edit_contact: "edit",
    brief: "Meeting brief",
    search_client: "Search this client's history",
    from_signature: "from the signature",
    found_in_mail: "found in mail",
};

fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

struct ContactView {
    id: i64,
    name: String,
    role: String,
    emails: String,
    phone: String,
    /// The message whose signature gave the phone or position (0: typed in).
    source_item: i64,
    /// The contact appeared by itself from mail.
    from_mail: bool,
    last_contact: String,
}

/// A timeline line as the templates show it.
pub(super) struct EntryView {
    /// A CSS class: one of the known kinds.
    pub(super) kind: &'static str,
    pub(super) kind_label: &'static str,
    pub(super) date: String,
    pub(super) arrow: &'static str,
    pub(super) who: String,
    pub(super) subject: String,
    pub(super) snippet: String,
    /// Where opening it leads: the item page, or a deal's form.
    pub(super) href: Option<String>,
}

pub(super) fn entry_view(t: &'static Msg, e: &TimelineEntry) -> EntryView {
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
        kind_label: if e.cancelled { t.word("cancelled") } else { t.word(kind) },
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
        href: match (e.item_id, e.deal_id) {
            (Some(i), _) => Some(format!("/items/{i}")),
            (None, Some(d)) => Some(format!("/deals/{d}/edit")),
            (None, None) => None,
        },
    }
}

struct DocumentView {
    href: Option<String>,
    kind: &'static str,
    name: String,
    date: String,
}

/// The timeline's filter as the page's query carries it.
#[derive(Deserialize, Default, Clone)]
struct TimelineQuery {
    before: Option<i64>,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
}

impl TimelineQuery {
    /// The store's filter; unknown kinds and unreadable dates are ignored
    /// (the form only offers valid ones).
    fn filter(&self) -> TimelineFilter {
        let day = |s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|d| Local.from_local_datetime(&d).earliest())
                .map(|d| d.with_timezone(&Utc))
        };
        let kind = KINDS.iter().find(|k| **k == self.kind.as_str()).map(|k| k.to_string());
        TimelineFilter {
            kind,
            contact: self.contact.trim().parse().ok(),
            from: day(&self.from),
            // "Until" is inclusive: the day after, at midnight.
            until: day(&self.until).and_then(|d| d.checked_add_signed(chrono::Duration::days(1))),
        }
    }

    fn is_filtered(&self) -> bool {
        self.filter() != TimelineFilter::default()
    }

    /// The query string of the filter (without `before`), for "load more".
    fn params(&self) -> String {
        let f = self.filter();
        let mut p = Vec::new();
        if let Some(k) = &f.kind {
            p.push(format!("kind={k}"));
        }
        if let Some(c) = f.contact {
            p.push(format!("contact={c}"));
        }
        if f.from.is_some() {
            p.push(format!("from={}", self.from.trim()));
        }
        if f.until.is_some() {
            p.push(format!("until={}", self.until.trim()));
        }
        p.iter().map(|s| format!("&{s}")).collect()
    }
}

/// The kinds a timeline can be filtered by.
const KINDS: [&str; 6] = ["email", "call", "meeting", "event", "document", "deal"];

struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct ContactOption {
    value: i64,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    id: i64,
    name: String,
    status: &'static str,
    company: Vec<Row>,
    contacts: Vec<ContactView>,
    fields: Vec<Row>,
    figures: Vec<Row>,
    counts: String,
    has_deals: bool,
    documents: Vec<DocumentView>,
    upcoming: Vec<EntryView>,
    past_events: Vec<EntryView>,
    kinds: Vec<KindOption>,
    contact_options: Vec<ContactOption>,
    from: String,
    until: String,
    filtered: bool,
    entries: Vec<EntryView>,
    next: Option<String>,
    poll: Option<String>,
    poll_every: &'static str,
}

#[derive(Template)]
#[template(path = "timeline_rows.html")]
struct TimelineRows {
    t: &'static Msg,
    w: &'static Words,
    entries: Vec<EntryView>,
    next: Option<String>,
}

/// What arrived since the card was drawn, and the next poll.
#[derive(Template)]
#[template(path = "timeline_new.html")]
struct NewRows {
    w: &'static Words,
    entries: Vec<EntryView>,
    poll: String,
    poll_every: &'static str,
}

fn page_of(
    t: &'static Msg,
    store: &Store,
    viewer: &Viewer,
    id: i64,
    q: &TimelineQuery,
) -> Result<(Vec<EntryView>, Option<String>), StoreError> {
    let page = app::timeline_filtered(store, ClientId(id), &q.filter(), q.before.map(ItemId), TIMELINE_PAGE, viewer)?;
    let entries = page.entries.iter().map(|e| entry_view(t, e)).collect();
    Ok((entries, page.next.map(|n| format!("/clients/{id}/timeline?before={n}{}", q.params()))))
}

fn poll_url(id: i64, after: i64) -> String {
    format!("/clients/{id}/new?after={after}")
}

async fn card(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let viewer = ctx.viewer(config);
        if ctx.htmx && q.before.is_none() {
            // The filter form asks for the timeline alone.
            let (entries, next) = page_of(t, store, &viewer, id, &q)?;
            store.client(ClientId(id))?;
            return Ok(render(StatusCode::OK, &TimelineRows { t, w, entries, next }));
        }
        let card = app::client_card_for(store, config, ClientId(id), &viewer)?;
        let c = &card.client;
        let mut company = Vec::new();
        let mut row = |label: &str, value: Option<String>| push_row(&mut company, label, value);
        row(t.ico, c.ico.clone());
        row(t.dic, c.dic.clone());
        row(t.legal_form, card.legal_form.clone());
        row(t.address, c.address.clone());
        row(t.billing, c.billing.clone());
        row(t.domains, Some(c.domains.join(", ")));
        row(t.emails, Some(card.emails.join(", ")));
        row(t.status, Some(t.word(&c.status.to_string()).to_string()));
        row(t.budget, c.annual_budget.map(crate::text::format_amount));
        let filter = q.filter();
        let contact_options = card
            .contacts
            .iter()
            .map(|p| ContactOption { value: p.id, label: p.name.clone(), selected: filter.contact == Some(p.id) })
            .collect();
        let contacts = card
            .contacts
            .iter()
            .map(|p| ContactView {
                id: p.id,
                name: p.titled_name.clone(),
                source_item: p.phone_item.or(p.role_item).unwrap_or(0),
                from_mail: p.origin == "mail",
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
        let documents = card
            .documents
            .iter()
            .map(|d| DocumentView {
                href: d.kept.then(|| format!("/documents/{}", d.item_id)),
                kind: doc_kind_word(t, &d.doc_kind),
                name: d.name.clone(),
                date: d.date.with_timezone(&Local).format("%Y-%m-%d").to_string(),
            })
            .collect();
        let kinds = KINDS
            .iter()
            .map(|k| KindOption { value: k, label: t.word(k), selected: filter.kind.as_deref() == Some(*k) })
            .collect();
        let (entries, next) = page_of(t, store, &viewer, id, &q)?;
        let has_deals = !card.figures.total_sold.is_empty();
        let page = CardPage {
            t,
            w,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: format!("/clients/{id}"),
            id,
            name: c.name.clone(),
            status: t.word(&c.status.to_string()),
            company,
            contacts,
            fields,
            figures,
            counts,
            has_deals,
            documents,
            upcoming: card.upcoming.iter().map(|e| entry_view(t, e)).collect(),
            past_events: card.past_events.iter().map(|e| entry_view(t, e)).collect(),
            kinds,
            contact_options,
            from: q.from.trim().to_string(),
            until: q.until.trim().to_string(),
            filtered: q.is_filtered(),
            entries,
            next,
            // New items are shown at the top of the unfiltered timeline.
            poll: (!q.is_filtered() && q.before.is_none()).then(|| poll_url(id, card.newest)),
            poll_every: POLL,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}

fn doc_kind_word(t: &Msg, kind: &str) -> &'static str {
    let cs = t.lang == "cs";
    match (kind, cs) {
        ("offer", true) => "nabídka",
        ("offer", false) => "offer",
        ("invoice", true) => "faktura",
        ("invoice", false) => "invoice",
        ("contract", true) => "smlouva",
        ("contract", false) => "contract",
        ("order", true) => "objednávka",
        ("order", false) => "order",
        (_, true) => "jiný",
        (_, false) => "other",
    }
}

async fn timeline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        store.client(ClientId(id))?;
        let (entries, next) = page_of(ctx.t, store, &ctx.viewer(config), id, &q)?;
        Ok(render(StatusCode::OK, &TimelineRows { t: ctx.t, w: words(ctx.t), entries, next }))
    })
    .await
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
}

/// What arrived since item `after`: the new entries (marked new) and the
/// poller that replaces this one, asking from the newest now.
async fn new_items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        store.client(ClientId(id))?;
        let (entries, newest) = app::items_after(store, ClientId(id), q.after, &ctx.viewer(config))?;
        let entries = entries.iter().map(|e| entry_view(ctx.t, e)).collect();
        Ok(render(StatusCode::OK, &NewRows { w: words(ctx.t), entries, poll: poll_url(id, newest), poll_every: POLL }))
    })
    .await
}
