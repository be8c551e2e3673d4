//! A printable brief for one meeting: `GET /brief/{client}` for the
//! client's next meeting, `GET /brief/{client}?event={item}` for a given
//! one. The data is [`crate::app::today::meeting_brief`], what
//! `kronika brief` prints; `assets/brief.css` makes it print on paper
//! (no navigation, black on white, sections kept whole).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::today::{MeetingView, local, meeting_view, words as today_words};
use super::{AppState, Row, asset, push_row, render, signed_in};
use crate::app::today::{Which, meeting_brief};
use crate::brief::{ItemSummary, Occurrence};
use crate::model::{ClientId, ItemId};
use crate::web::i18n::Msg;

const CSS: &str = include_str!("../../../assets/brief.css");

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/brief/{client}", get(brief)).route("/assets/brief.css", get(css))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The words of this page.
struct Words {
    title: &'static str,
    meeting: &'static str,
    no_meeting: &'static str,
    client: &'static str,
    card: &'static str,
    description: &'static str,
    calendar: &'static str,
    location: &'static str,
    when: &'static str,
    waiting: &'static str,
    recent: &'static str,
    nothing: &'static str,
    past: &'static str,
    print: &'static str,
    print_button: &'static str,
    from: &'static str,
    in_history: &'static str,
}

static CS: Words = Words {
    title: "Podklady ke schůzce",
    meeting: "Schůzka",
    no_meeting: "S tímto klientem není naplánovaná žádná schůzka; níže jsou podklady o klientovi.",
    client: "Klient",
    card: "karta klienta",
    description: "Popis",
    calendar: "Kalendář",
    location: "Místo",
    when: "Kdy",
    waiting: "Čeká na naši odpověď",
    recent: "Poslední kontakty",
    nothing: "nic",
    past: "Proběhlé schůzky",
    print: "Vytiskne se jen obsah, bez navigace (také Ctrl+P, ⌘P).",
    print_button: "Vytisknout",
    from: "od",
    in_history: "položek v historii",
};

static EN: Words = Words {
    title: "Meeting brief",
    meeting: "Meeting",
    no_meeting: "No meeting with this client is planned; below is the brief on the client.",
    client: "Client",
    card: "client card",
    description: "Description",
    calendar: "Calendar",
    location: "Place",
    when: "When",
    waiting: "Waiting for our reply",
    recent: "Recent interactions",
    nothing: "nothing",
    past: "Past meetings",
    print: "Only the content is printed, without navigation (also Ctrl+P, ⌘P).",
    print_button: "Print",
    from: "from",
    in_history: "items in the history",
};

#[derive(Deserialize)]
struct BriefQuery {
    event: Option<String>,
}

struct ContactView {
    name: String,
    role: String,
    emails: String,
    phone: String,
    last_contact: String,
}

struct ItemView {
    id: i64,
    date: String,
    subject: String,
    from: String,
    snippet: String,
    waiting: String,
}

struct KindView {
    label: &'static str,
    items: Vec<ItemView>,
}

struct EventView {
    id: i64,
    when: String,
    summary: String,
    location: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "brief.html")]
struct BriefPage {
    t: &'static Msg,
    w: &'static Words,
    tw: &'static super::today::Words,
    user: String,
    csrf: String,
    back: String,
    client_id: i64,
    name: String,
    status: &'static str,
    generated: String,
    meeting: Option<MeetingView>,
    meeting_when: String,
    meeting_calendar: String,
    description: String,
    company: Vec<Row>,
    contacts: Vec<ContactView>,
    waiting: Vec<ItemView>,
    recent: Vec<KindView>,
    upcoming: Vec<EventView>,
    past: Vec<EventView>,
    figures: Vec<Row>,
    counts: String,
}

fn date_of(rfc3339: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|d| d.with_timezone(&Utc))
}

fn item_view(t: &Msg, tw: &super::today::Words, s: &ItemSummary) -> ItemView {
    ItemView {
        id: s.id,
        date: date_of(&s.date).map(|d| local(d).format("%Y-%m-%d").to_string()).unwrap_or_default(),
        subject: if s.subject.trim().is_empty() { t.no_subject.to_string() } else { s.subject.clone() },
        from: s.from.clone().unwrap_or_default(),
        snippet: s.snippet.clone(),
        waiting: s.waiting_days.map(|d| tw.days(d)).unwrap_or_default(),
    }
}

fn event_view(o: &Occurrence, current: Option<i64>) -> EventView {
    let when = match date_of(&o.start) {
        Some(d) if o.all_day == Some(true) => local(d).format("%Y-%m-%d").to_string(),
        Some(d) => local(d).format("%Y-%m-%d %H:%M").to_string(),
        None => String::new(),
    };
    EventView {
        id: o.id,
        when,
        summary: o.summary.clone(),
        location: o.location.clone().unwrap_or_default().trim().to_string(),
        current: current == Some(o.id),
    }
}

async fn brief(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(client): Path<String>,
    Query(q): Query<BriefQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = if t.lang == "cs" { &CS } else { &EN };
        let tw = today_words(t);
        let not_found = || crate::store::StoreError::NotFound { what: "client", query: client.clone() };
        let id: i64 = client.trim().parse().map_err(|_| not_found())?;
        let which = match q.event.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => Which::Next,
            Some(e) => Which::Event(ItemId(
                e.parse().map_err(|_| crate::store::StoreError::NotFound { what: "meeting", query: e.to_string() })?,
            )),
        };
        let now = Utc::now();
        let viewer = ctx.viewer(config);
        let mb = meeting_brief(store, config, &viewer, ClientId(id), which, now)?;
        let b = &mb.brief;
        let c = &b.client;
        let mut company = Vec::new();
        let mut row = |label: &str, value: Option<String>| push_row(&mut company, label, value);
        row(t.ico, c.ico.clone());
        row(t.dic, c.dic.clone());
        row(t.address, c.address.clone());
        row(t.domains, Some(c.domains.join(", ")));
        row(t.status, Some(t.word(&c.status.to_string()).to_string()));
        row(t.budget, c.annual_budget.map(crate::text::format_amount));
        for f in &config.custom_fields {
            if let Some(v) = c.custom.get(&f.name) {
                row(&f.name, Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())));
            }
        }
        for (k, v) in &c.custom {
            if config.custom_field(k).is_none() {
                row(k, Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())));
            }
        }
        let contacts = b
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
                    .and_then(date_of)
                    .map(|d| local(d).format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            })
            .collect();
        let recent = ["email", "call", "meeting", "document"]
            .into_iter()
            .map(|k| KindView {
                label: t.word(k),
                items: b.last.get(k).into_iter().flatten().map(|s| item_view(t, tw, s)).collect(),
            })
            .collect();
        let current = mb.meeting.as_ref().map(|m| m.item_id);
        let figures = crate::app::figure_rows(&b.figures.deals)
            .into_iter()
            .map(|r| Row { label: t.figure(r.key).into(), value: r.value })
            .collect();
        let parts: Vec<String> = b.figures.items.iter().map(|(k, n)| format!("{n} {}", t.word(k))).collect();
        let counts = format!(
            "{} {}{}",
            b.figures.total,
            w.in_history,
            if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) }
        );
        let (meeting_when, meeting_calendar, description) = match &mb.meeting {
            Some(m) => {
                let day = local(m.start).date_naive();
                (format!("{}, {}", tw.long_date(day), tw.span(m)), m.calendar.clone(), m.description.clone())
            }
            None => Default::default(),
        };
        let page = BriefPage {
            t,
            w,
            tw,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: match current {
                Some(e) => format!("/brief/{id}?event={e}"),
                None => format!("/brief/{id}"),
            },
            client_id: c.id,
            name: c.name.clone(),
            status: t.word(&c.status.to_string()),
            generated: local(now).format("%Y-%m-%d %H:%M").to_string(),
            meeting: mb.meeting.as_ref().map(|m| meeting_view(tw, m)),
            meeting_when,
            meeting_calendar,
            description,
            company,
            contacts,
            waiting: b.open_threads.iter().map(|s| item_view(t, tw, s)).collect(),
            recent,
            upcoming: b.upcoming_events.iter().map(|o| event_view(o, current)).collect(),
            past: b.past_events.iter().map(|o| event_view(o, current)).collect(),
            figures,
            counts,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}
