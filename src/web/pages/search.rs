//! Search (`GET /search`): the query language of `kronika search` (words,
//! "phrases", `from:`, `to:`, `subject:`, `attachment:`, AND / OR / NOT /
//! -word; accents ignored) with filters (client, kind, contact, dates,
//! direction), relevance or date order, results as you type (htmx, the URL
//! follows), "more" for the next page, and snippets with the matches marked.
//! The data is [`crate::app::search::search`], as `kronika search` prints
//! it, for the signed-in user's [`Viewer`]: what they may not read is
//! neither found nor shown.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::Local;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{AppState, asset, render, signed_in};
use crate::app::search::{
    self as app_search, ClientLink, FilterProblem, Fragment, SearchError, SearchHit, SearchInput,
};
use crate::app::visibility::{Access, Viewer};
use crate::index::{QUERY_FIELDS, QueryProblem, SortOrder};
use crate::model::ItemKind;
use crate::web::i18n::Msg;

/// Hits per page.
const PAGE: usize = 20;
/// The furthest a "more" may go (deep pages cost the index; refine instead).
const MAX_OFFSET: usize = 2_000;

const CSS: &str = include_str!("../../../assets/search.css");

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search)).route("/search/more", get(more)).route("/assets/search.css", get(css))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The words of this page.
struct Words {
    title: &'static str,
    query: &'static str,
    placeholder: &'static str,
    client: &'static str,
    all_clients: &'static str,
    kind: &'static str,
    all_kinds: &'static str,
    contact: &'static str,
    contact_placeholder: &'static str,
    from: &'static str,
    to: &'static str,
    direction: &'static str,
    any_direction: &'static str,
    dir_in: &'static str,
    dir_out: &'static str,
    dir_internal: &'static str,
    sort: &'static str,
    by_relevance: &'static str,
    by_date: &'static str,
    submit: &'static str,
    more: &'static str,
    nothing: &'static str,
    hint: &'static str,
    syntax: &'static str,
    bad_query: &'static str,
    bad_filter: &'static str,
    subject_hidden: &'static str,
    body_hidden: &'static str,
    shown: &'static str,
    failed: &'static str,
    restricted: &'static str,
}

static CS: Words = Words {
    title: "Hledání",
    query: "Hledat",
    placeholder: "Hledat v poště, poznámkách, schůzkách a dokumentech",
    client: "Klient",
    all_clients: "všichni klienti",
    kind: "Druh",
    all_kinds: "vše",
    contact: "Kontakt",
    contact_placeholder: "adresa nebo jméno",
    from: "Od",
    to: "Do",
    direction: "Směr",
    any_direction: "oba směry",
    dir_in: "příchozí",
    dir_out: "odchozí",
    dir_internal: "interní",
    sort: "Řazení",
    by_relevance: "podle shody",
    by_date: "od nejnovějších",
    submit: "Hledat",
    more: "Další výsledky",
    nothing: "Nic neodpovídá.",
    hint: "Napište slovo nebo zvolte filtr. Diakritika nevadí: nabidka najde nabídka.",
    syntax: "\"přesná fráze\" · from:adresa · to:adresa · subject:slovo · attachment:název · A OR B · -slovo · NOT slovo",
    bad_query: "Dotaz nelze použít",
    bad_filter: "Filtr nelze použít",
    subject_hidden: "(předmět skrytý)",
    body_hidden: "Obsah je skrytý: schránka patří kolegovi.",
    shown: "Zobrazeno",
    failed: "Hledání se nepodařilo.",
    restricted: "Poštu ze schránek kolegů vidíte, jak dovolí jejich nastavení: z některých jen předmět, nebo jen kdo a kdy psal.",
};

static EN: Words = Words {
    title: "Search",
    query: "Search",
    placeholder: "Search mail, notes, meetings and documents",
    client: "Client",
    all_clients: "all clients",
    kind: "Kind",
    all_kinds: "all",
    contact: "Contact",
    contact_placeholder: "address or name",
    from: "From",
    to: "To",
    direction: "Direction",
    any_direction: "both ways",
    dir_in: "incoming",
    dir_out: "outgoing",
    dir_internal: "internal",
    sort: "Order",
    by_relevance: "best match",
    by_date: "newest first",
    submit: "Search",
    more: "More results",
    nothing: "Nothing matches.",
    hint: "Type a word or pick a filter. Accents do not matter: nabidka finds nabídka.",
    syntax: "\"exact phrase\" · from:address · to:address · subject:word · attachment:name · A OR B · -word · NOT word",
    bad_query: "The query cannot be used",
    bad_filter: "The filter cannot be used",
    subject_hidden: "(subject hidden)",
    body_hidden: "Content hidden: a colleague's mailbox.",
    shown: "Shown",
    failed: "The search failed.",
    restricted: "Colleagues' mailboxes show you what their settings allow: some only the subject, some only who wrote when.",
};

fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

/// The query string as a form sends it; everything optional and checked
/// here or in `app::search` (a bad value is a message, not a rejection).
#[derive(Debug, Clone, Default, Deserialize)]
struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    offset: String,
}

impl Params {
    fn is_blank(&self) -> bool {
        [&self.q, &self.client, &self.kind, &self.contact, &self.from, &self.to, &self.direction]
            .iter()
            .all(|v| v.trim().is_empty())
    }

    /// Date order when asked, or when there are no words to rank by.
    fn sort(&self) -> SortOrder {
        match self.sort.trim() {
            "date" => SortOrder::Date,
            "relevance" => SortOrder::Relevance,
            _ if self.q.trim().is_empty() => SortOrder::Date,
            _ => SortOrder::Relevance,
        }
    }

    fn offset(&self) -> usize {
        self.offset.trim().parse::<usize>().unwrap_or(0).min(MAX_OFFSET)
    }

    fn input(&self) -> SearchInput {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        SearchInput {
            query: self.q.clone(),
            client: opt(&self.client),
            contact: opt(&self.contact),
            kind: opt(&self.kind),
            since: opt(&self.from),
            until: opt(&self.to),
            direction: opt(&self.direction),
            sort: self.sort(),
            limit: PAGE,
            offset: self.offset(),
        }
    }

    /// The query string of these filters (without the offset).
    fn query_string(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("client", &self.client),
            ("kind", &self.kind),
            ("contact", &self.contact),
            ("from", &self.from),
            ("to", &self.to),
            ("direction", &self.direction),
            ("sort", &self.sort),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// An option of a select.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// Above this many clients the client filter is a text field.
const MAX_CLIENT_OPTIONS: usize = 200;

fn choices(current: &str, all_label: &str, options: Vec<(String, String)>) -> Vec<Choice> {
    let current = current.trim();
    let mut out = vec![Choice { value: String::new(), label: all_label.to_string(), selected: current.is_empty() }];
    out.extend(options.into_iter().map(|(value, label)| Choice { selected: value == current, value, label }));
    out
}

/// One hit as the page shows it.
struct HitView {
    id: i64,
    /// A CSS class: one of the known kinds.
    kind: &'static str,
    kind_label: &'static str,
    date: String,
    arrow: &'static str,
    who: String,
    subject: String,
    subject_hidden: bool,
    clients: Vec<ClientLink>,
    snippet: Vec<Fragment>,
    body_hidden: bool,
}

fn hit_view(t: &'static Msg, h: &SearchHit) -> HitView {
    let kind = ItemKind::ALL.iter().map(|k| k.as_str()).find(|k| *k == h.kind).unwrap_or("other");
    HitView {
        id: h.item_id,
        kind,
        kind_label: t.word(kind),
        date: h.date.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
        arrow: match h.direction.as_str() {
            "in" => "←",
            "out" => "→",
            _ => "·",
        },
        who: h.who.clone(),
        subject_hidden: !h.access.shows_subject(),
        subject: if h.subject.is_empty() && h.access.shows_subject() {
            t.no_subject.to_string()
        } else {
            h.subject.clone()
        },
        clients: h.clients.clone(),
        snippet: h.snippet.clone(),
        body_hidden: h.access < Access::Full && h.kind != "deal",
    }
}

/// The rows of one page and the link to the next.
struct Rows {
    hits: Vec<HitView>,
    /// `/search/more?…` for htmx, `/search?…` without it.
    more: Option<(String, String)>,
}

/// What the search gave: rows, or a message about the user's input.
struct Outcome {
    rows: Rows,
    /// "25 results" (empty before a search or on a problem).
    count: String,
    /// (headline, message) of a bad query or filter.
    problem: Option<(&'static str, String)>,
    failed: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    p: Params,
    blank: bool,
    clients: Vec<Choice>,
    /// Too many clients for a select: a text field instead.
    typed_client: bool,
    client_text: String,
    kinds: Vec<Choice>,
    directions: Vec<Choice>,
    sorts: Vec<Choice>,
    offset: usize,
    out: Outcome,
    /// Some mailbox hides something from this user.
    restricted: bool,
}

#[derive(Template)]
#[template(path = "search_results.html")]
struct ResultsPart {
    t: &'static Msg,
    w: &'static Words,
    blank: bool,
    offset: usize,
    out: Outcome,
}

#[derive(Template)]
#[template(path = "search_rows.html")]
struct RowsPart {
    w: &'static Words,
    rows: Rows,
}

fn run(
    store: &crate::store::Store,
    config: &crate::config::Config,
    user: &str,
    p: &Params,
    t: &'static Msg,
) -> Outcome {
    let w = words(t);
    let viewer = Viewer::for_user(config, user);
    let input = p.input();
    let empty = || Rows { hits: Vec::new(), more: None };
    match app_search::search(store, config, &viewer, &input) {
        Ok(page) => {
            let next = input.offset.saturating_add(page.hits.len());
            let more = (page.more && next <= MAX_OFFSET).then(|| {
                let qs = p.query_string();
                let sep = if qs.is_empty() { "" } else { "&" };
                (format!("/search/more?{qs}{sep}offset={next}"), format!("/search?{qs}{sep}offset={next}"))
            });
            Outcome {
                rows: Rows { hits: page.hits.iter().map(|h| hit_view(t, h)).collect(), more },
                count: count_label(t, page.total),
                problem: None,
                failed: false,
            }
        }
        Err(SearchError::Query { message, problem, .. }) => {
            let text = if t.lang == "cs" { query_problem_cs(&problem).unwrap_or(message) } else { message };
            Outcome { rows: empty(), count: String::new(), problem: Some((w.bad_query, text)), failed: false }
        }
        Err(SearchError::Filter { message, problem }) => {
            let text = if t.lang == "cs" { filter_problem_cs(&problem) } else { message };
            Outcome { rows: empty(), count: String::new(), problem: Some((w.bad_filter, text)), failed: false }
        }
        Err(e) => {
            tracing::error!("web search: {e}");
            Outcome { rows: empty(), count: String::new(), problem: None, failed: true }
        }
    }
}

/// What is wrong with a query, in Czech (`None`: the library's words).
fn query_problem_cs(p: &QueryProblem) -> Option<String> {
    Some(match p {
        QueryProblem::Syntax => {
            "chybí uvozovka nebo závorka, nebo stojí operátor na špatném místě; zkontrolujte uvozovky a závorky".into()
        }
        QueryProblem::UnknownField(f) => format!(
            "pole „{f}:“ neexistuje; použijte {} (nebo dejte slovo do uvozovek)",
            QUERY_FIELDS.iter().map(|f| format!("{f}:")).collect::<Vec<_>>().join(", ")
        ),
        QueryProblem::CannotRun => "„pole:*“ nelze použít; za dvojtečku napište slovo".into(),
        QueryProblem::TooLong(n) => format!("dotaz je delší než {n} znaků"),
        QueryProblem::TooDeep(n) => format!("závorky jsou vnořené hlouběji než {n}"),
        QueryProblem::TooManyNots(n) => format!("dotaz má víc než {n} NOT"),
        QueryProblem::OnlyExcluding => "dotaz jen vylučuje (-slovo, NOT slovo); přidejte slovo, které hledáte".into(),
        QueryProblem::Other => return None,
    })
}

/// What is wrong with a filter, in Czech.
fn filter_problem_cs(p: &FilterProblem) -> String {
    let who = |what: &str| if what == "client" { "klient" } else { "kontakt" };
    match p {
        FilterProblem::NotFound { what, query } => format!("{} „{query}“ nenalezen", capitalise(who(what))),
        FilterProblem::Ambiguous { what, query } => {
            format!("„{query}“ odpovídá více než jednomu: {} není jednoznačný; upřesněte", who(what))
        }
        FilterProblem::Date(s) => format!("datum „{s}“ nelze přečíst; použijte RRRR-MM-DD nebo D.M.RRRR"),
        FilterProblem::Kind(s) => format!("druh „{s}“ neexistuje"),
        FilterProblem::Direction(s) => format!("směr „{s}“ neexistuje; použijte příchozí, odchozí nebo interní"),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// "1 result", "25 results"; in Czech with its three plural forms.
fn count_label(t: &Msg, n: usize) -> String {
    if t.lang == "cs" {
        let word = match n {
            1 => "výsledek",
            2..=4 => "výsledky",
            _ => "výsledků",
        };
        format!("{n} {word}")
    } else {
        format!("{n} {}", if n == 1 { "result" } else { "results" })
    }
}

fn status_of(out: &Outcome) -> StatusCode {
    if out.failed {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if out.problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

async fn search(State(state): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    // Back and forward: htmx asks for the whole page.
    let restore = headers.contains_key("hx-history-restore-request");
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let blank = p.is_blank();
        let out = if blank {
            Outcome { rows: Rows { hits: Vec::new(), more: None }, count: String::new(), problem: None, failed: false }
        } else {
            run(store, config, &ctx.session.user.name, &p, t)
        };
        let status = status_of(&out);
        let offset = p.offset();
        if ctx.htmx && !restore {
            // htmx swaps only 2xx answers: the message of a bad query comes
            // as a 200 fragment (the whole page answers 400).
            let status = if status == StatusCode::BAD_REQUEST { StatusCode::OK } else { status };
            return Ok(render(status, &ResultsPart { t, w, blank, offset, out }));
        }
        let all: Vec<(String, String)> =
            app_search::client_choices(store)?.into_iter().map(|c| (c.id.to_string(), c.name)).collect();
        // A select of every client grows with the firm: past a few hundred
        // the filter is typed (a name, an IČO or an id, as `kronika search
        // --client` takes it), showing the chosen client's name.
        let typed_client = all.len() > MAX_CLIENT_OPTIONS;
        let client_text = all
            .iter()
            .find(|(id, _)| *id == p.client.trim())
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| p.client.trim().to_string());
        let clients = if typed_client { Vec::new() } else { all };
        let kinds = ItemKind::ALL.iter().map(|k| (k.as_str().to_string(), t.word(k.as_str()).to_string())).collect();
        let directions = vec![
            ("in".to_string(), w.dir_in.to_string()),
            ("out".to_string(), w.dir_out.to_string()),
            ("internal".to_string(), w.dir_internal.to_string()),
        ];
        let sort = match p.sort() {
            SortOrder::Date => "date",
            SortOrder::Relevance => "relevance",
        };
        let sorts = vec![
            Choice { value: "relevance".into(), label: w.by_relevance.into(), selected: sort == "relevance" },
            Choice { value: "date".into(), label: w.by_date.into(), selected: sort == "date" },
        ];
        let qs = p.query_string();
        let page = SearchPage {
            t,
            w,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: if qs.is_empty() { "/search".into() } else { format!("/search?{qs}") },
            clients: choices(&p.client, w.all_clients, clients),
            typed_client,
            client_text,
            kinds: choices(&p.kind, w.all_kinds, kinds),
            directions: choices(&p.direction, w.any_direction, directions),
            sorts,
            blank,
            offset,
            out,
            restricted: ctx.viewer(config).is_restricted(),
            p,
        };
        Ok(render(status, &page))
    })
    .await
}

/// The next page's rows (htmx "more").
async fn more(State(state): State<AppState>, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let out = run(store, config, &ctx.session.user.name, &p, t);
        let status = if out.failed { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
        Ok(render(status, &RowsPart { w, rows: out.rows }))
    })
    .await
}
