//! The clients list: search as you type, filters by status and by each
//! custom field, sorting by name, last contact, lifetime value and open
//! deals. Every state of the list is a link (`/clients?q=…&status=…&f.obor=…&sort=ltv&order=desc`);
//! htmx swaps only the rows as the form changes.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

use super::{AppState, asset, render, signed_in};
use crate::app::clients::{ClientFilter, ClientSort, ClientSummary};
use crate::config::Config;
use crate::figures::Money;
use crate::model::{ClientStatus, FieldKind};
use crate::web::i18n::Msg;

const CSS: &str = include_str!("../../../assets/clients.css");

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/clients", get(clients)).route("/assets/clients.css", get(css))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The words of this page.
pub(super) struct Words {
    pub filter: &'static str,
    pub any_status: &'static str,
    pub any: &'static str,
    pub sort_by: &'static str,
    pub ascending: &'static str,
    pub descending: &'static str,
    pub apply: &'static str,
    pub clear: &'static str,
    pub last_contact: &'static str,
    pub ltv: &'static str,
    pub open_deals: &'static str,
    pub never: &'static str,
    /// "client", "clients" (2–4), "clients" (5 and more): Czech has three forms.
    pub shown: [&'static str; 3],
    pub contains: &'static str,
}

static CS: Words = Words {
    filter: "Filtr",
    any_status: "všechny stavy",
    any: "cokoli",
    sort_by: "Řadit podle",
    ascending: "vzestupně",
    descending: "sestupně",
    apply: "Použít",
    clear: "Zrušit filtry",
    last_contact: "Poslední kontakt",
    ltv: "Hodnota zákazníka",
    open_deals: "Otevřené obchody",
    never: "zatím nic",
    shown: ["klient", "klienti", "klientů"],
    contains: "obsahuje…",
};

static EN: Words = Words {
    filter: "Filter",
    any_status: "any status",
    any: "any",
    sort_by: "Sort by",
    ascending: "ascending",
    descending: "descending",
    apply: "Apply",
    clear: "Clear filters",
    last_contact: "Last contact",
    ltv: "Lifetime value",
    open_deals: "Open deals",
    never: "nothing yet",
    shown: ["client", "clients", "clients"],
    contains: "contains…",
};

/// "1 client", "3 klienti", "7 klientů".
fn count(w: &Words, n: usize) -> String {
    let form = match n {
        1 => 0,
        2..=4 => 1,
        _ => 2,
    };
    format!("{n} {}", w.shown.get(form).copied().unwrap_or(""))
}

fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

/// The list's state, as the query string gives it.
#[derive(Debug, Clone, Default)]
struct ListQuery {
    q: String,
    status: String,
    /// Custom field filters (`f.NAME=VALUE`), declared fields only, in the config's order.
    fields: Vec<(String, String)>,
    sort: ClientSort,
    descending: bool,
}

impl ListQuery {
    fn parse(pairs: &[(String, String)], config: &Config) -> ListQuery {
        let get = |k: &str| pairs.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
        let sort = get("sort").and_then(|s| ClientSort::parse(&s)).unwrap_or_default();
        let descending = match get("order").as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort.descending_by_default(),
        };
        let status = get("status").filter(|s| s.parse::<ClientStatus>().is_ok()).unwrap_or_default();
        let fields = config
            .custom_fields
            .iter()
            .filter_map(|f| get(&format!("f.{}", f.name)).filter(|v| !v.is_empty()).map(|v| (f.name.clone(), v)))
            .collect();
        ListQuery { q: get("q").unwrap_or_default(), status, fields, sort, descending }
    }

    fn filter(&self) -> ClientFilter {
        ClientFilter {
            query: self.q.clone(),
            status: self.status.parse().ok(),
            fields: self.fields.clone(),
            sort: self.sort,
            descending: Some(self.descending),
        }
    }

    fn value_of(&self, field: &str) -> &str {
        self.fields.iter().find(|(n, _)| n == field).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The link to this list ordered by `sort` (a second click turns the order round).
    fn link_sorted(&self, sort: ClientSort) -> String {
        let descending = if sort == self.sort { !self.descending } else { sort.descending_by_default() };
        self.link(sort, descending)
    }

    /// The link to this list ordered by `sort` in the given direction.
    fn link(&self, sort: ClientSort, descending: bool) -> String {
        let mut parts: Vec<(String, String)> = Vec::new();
        if !self.q.is_empty() {
            parts.push(("q".into(), self.q.clone()));
        }
        if !self.status.is_empty() {
            parts.push(("status".into(), self.status.clone()));
        }
        for (k, v) in &self.fields {
            parts.push((format!("f.{k}"), v.clone()));
        }
        parts.push(("sort".into(), sort.as_str().into()));
        parts.push(("order".into(), if descending { "desc" } else { "asc" }.into()));
        let query: Vec<String> = parts.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("/clients?{}", query.join("&"))
    }

    fn is_filtered(&self) -> bool {
        !self.q.is_empty() || !self.status.is_empty() || !self.fields.is_empty()
    }
}

/// Percent-encodes a query-string part.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn money(m: &Money) -> String {
    m.iter().map(|(c, v)| format!("{} {c}", crate::text::format_amount(*v))).collect::<Vec<_>>().join(" + ")
}

struct FieldFilter {
    name: String,
    /// `f.NAME`
    param: String,
    value: String,
    /// The choices of a `choice` field (a select); empty: a text box.
    choices: Vec<String>,
}

struct SortOption {
    key: &'static str,
    label: &'static str,
    selected: bool,
}

struct Column {
    label: &'static str,
    href: String,
    /// `asc`, `desc` or empty when the list is not ordered by it.
    current: &'static str,
}

struct ClientView {
    id: i64,
    name: String,
    ico: String,
    status: &'static str,
    fields: Vec<String>,
    domains: String,
    contacts: String,
    last_contact: String,
    ltv: String,
    open_deals: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    q: String,
    status: String,
    field_filters: Vec<FieldFilter>,
    sorts: Vec<SortOption>,
    descending: bool,
    filtered: bool,
    r: RowsData,
}

#[derive(Template)]
#[template(path = "client_rows.html")]
struct ClientRows {
    t: &'static Msg,
    r: RowsData,
}

/// The table (the part htmx swaps).
struct RowsData {
    count: String,
    field_names: Vec<String>,
    name_col: Column,
    last_col: Column,
    ltv_col: Column,
    open_col: Column,
    clients: Vec<ClientView>,
}

fn rows(t: &'static Msg, w: &'static Words, config: &Config, q: &ListQuery, found: Vec<ClientSummary>) -> RowsData {
    let col = |label, sort: ClientSort| Column {
        label,
        href: q.link_sorted(sort),
        current: if q.sort != sort {
            ""
        } else if q.descending {
            "desc"
        } else {
            "asc"
        },
    };
    let clients: Vec<ClientView> = found
        .into_iter()
        .map(|c| ClientView {
            id: c.id,
            ico: c.ico.unwrap_or_default(),
            status: t.word(&c.status),
            fields: c.fields.into_iter().map(|(_, v)| v).collect(),
            domains: c.domains.join(", "),
            contacts: c.contacts.join(", "),
            last_contact: c
                .last_contact
                .map(|d| d.with_timezone(&chrono::Local).format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| w.never.to_string()),
            ltv: money(&c.ltv),
            open_deals: if c.open_deals == 0 {
                String::new()
            } else {
                format!("{} ({})", money(&c.open_value), c.open_deals)
            },
            name: c.name,
        })
        .collect();
    RowsData {
        count: count(w, clients.len()),
        field_names: config.custom_fields.iter().map(|f| f.name.clone()).collect(),
        name_col: col(t.name, ClientSort::Name),
        last_col: col(w.last_contact, ClientSort::LastContact),
        ltv_col: col(w.ltv, ClientSort::Ltv),
        open_col: col(w.open_deals, ClientSort::OpenDeals),
        clients,
    }
}

async fn clients(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let q = ListQuery::parse(&pairs, config);
        let found = crate::app::find_clients(store, config, &q.filter())?;
        let r = rows(t, w, config, &q, found);
        if ctx.htmx {
            return Ok(render(StatusCode::OK, &ClientRows { t, r }));
        }
        let field_filters = config
            .custom_fields
            .iter()
            .map(|f| FieldFilter {
                name: f.name.clone(),
                param: format!("f.{}", f.name),
                value: q.value_of(&f.name).to_string(),
                choices: match &f.kind {
                    FieldKind::Choice { choices } => choices.clone(),
                    _ => Vec::new(),
                },
            })
            .collect();
        let page = ClientsPage {
            t,
            w,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: q.link(q.sort, q.descending),
            filtered: q.is_filtered(),
            sorts: [
                (ClientSort::Name, t.name),
                (ClientSort::LastContact, w.last_contact),
                (ClientSort::Ltv, w.ltv),
                (ClientSort::OpenDeals, w.open_deals),
            ]
            .into_iter()
            .map(|(s, label)| SortOption { key: s.as_str(), label, selected: s == q.sort })
            .collect(),
            descending: q.descending,
            q: q.q.clone(),
            status: q.status.clone(),
            field_filters,
            r,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}
