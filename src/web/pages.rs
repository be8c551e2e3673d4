//! The handlers: each checks the session, asks [`crate::app`] for the data
//! on a blocking thread, and renders a template. No SQL here.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use chrono::{Local, Utc};
use serde::Deserialize;

use super::AppState;
use super::auth::{self, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL};
use super::i18n::{self, Msg};
use crate::app::{self, TimelineEntry};
use crate::config::Config;
use crate::model::{ClientId, ItemId};
use crate::store::{Session, Store, StoreError};

/// Timeline entries per page.
const TIMELINE_PAGE: usize = 30;

const HTMX_JS: &str = include_str!("../../assets/htmx.min.js");
const CSS: &str = include_str!("../../assets/kronika.css");

pub(super) async fn htmx_js() -> Response {
    asset(HTMX_JS, "text/javascript; charset=utf-8")
}

pub(super) async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, mime: &'static str) -> Response {
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

fn lang(headers: &HeaderMap) -> &'static Msg {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    i18n::choose(auth::cookie(headers, LANG_COOKIE).as_deref(), accept)
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("cannot render a page: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot render the page").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: &'static Msg,
    user: String,
    csrf: String,
    back: String,
    title: String,
    text: String,
}

fn message(status: StatusCode, t: &'static Msg, text: &str) -> Response {
    let page = MessagePage {
        t,
        user: String::new(),
        csrf: String::new(),
        back: "/clients".into(),
        title: status.canonical_reason().unwrap_or("").into(),
        text: text.into(),
    };
    render(status, &page)
}

/// Where a signed-out request goes: the sign-in page (htmx follows `HX-Redirect`).
fn to_login(headers: &HeaderMap) -> Response {
    if is_htmx(headers) {
        return (StatusCode::UNAUTHORIZED, [("hx-redirect", "/login")]).into_response();
    }
    Redirect::to("/login").into_response()
}

fn store_error(t: &'static Msg, e: StoreError) -> Response {
    match e {
        StoreError::NotFound { .. } => message(StatusCode::NOT_FOUND, t, t.not_found),
        e => {
            tracing::error!("web: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, t, t.error)
        }
    }
}

/// What a signed-in handler gets.
struct Ctx {
    t: &'static Msg,
    session: Session,
    htmx: bool,
}

/// Runs `f` on a blocking thread with the store, for a signed-in user;
/// a request without a live session goes to the sign-in page.
async fn signed_in<F>(state: AppState, headers: HeaderMap, f: F) -> Response
where
    F: FnOnce(&Ctx, &mut Store, &Config) -> Result<Response, StoreError> + Send + 'static,
{
    let t = lang(&headers);
    let Some(token) = auth::cookie(&headers, SESSION_COOKIE) else { return to_login(&headers) };
    let htmx = is_htmx(&headers);
    let job = tokio::task::spawn_blocking(move || {
        let mut store = state.store.lock().unwrap_or_else(|p| p.into_inner());
        let session = match store.session(&auth::token_hash(&token)) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e),
        };
        let ctx = Ctx { t, session, htmx };
        f(&ctx, &mut store, &state.config).map(Some)
    });
    match job.await {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) => to_login(&headers),
        Ok(Err(e)) => store_error(t, e),
        Err(e) => {
            tracing::error!("web: a handler failed: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, t, t.error)
        }
    }
}

pub(super) async fn root() -> Redirect {
    Redirect::to("/clients")
}

pub(super) async fn not_found(headers: HeaderMap) -> Response {
    let t = lang(&headers);
    message(StatusCode::NOT_FOUND, t, t.not_found)
}

// ---- signing in and out ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Msg,
    user: String,
    csrf: String,
    back: String,
    name: String,
    error: String,
}

fn login_page(status: StatusCode, t: &'static Msg, name: &str, error: &str, secure: bool) -> Response {
    let csrf = match auth::random_token() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot read random bytes: {e}");
            return message(StatusCode::INTERNAL_SERVER_ERROR, t, t.error);
        }
    };
    let page = LoginPage {
        t,
        user: String::new(),
        csrf: csrf.clone(),
        back: "/login".into(),
        name: name.into(),
        error: error.into(),
    };
    let cookie = auth::set_cookie(LOGIN_CSRF_COOKIE, &csrf, std::time::Duration::from_secs(3600), secure);
    (AppendHeaders([(header::SET_COOKIE, cookie)]), render(status, &page)).into_response()
}

pub(super) async fn login_form(headers: HeaderMap) -> Response {
    login_page(StatusCode::OK, lang(&headers), "", "", auth::is_https(&headers))
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

enum Outcome {
    Forbidden,
    Throttled,
    Wrong,
    In { token: String },
}

pub(super) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let t = lang(&headers);
    let secure = auth::is_https(&headers);
    let expected = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let name = form.user.trim().to_string();
    let shown_name = name.clone();
    let job = tokio::task::spawn_blocking(move || -> Result<Outcome, StoreError> {
        if !auth::same_token(&form.csrf, &expected) {
            return Ok(Outcome::Forbidden);
        }
        let ip = peer.ip();
        let lock_throttle = || state.throttle.lock().unwrap_or_else(|p| p.into_inner());
        if lock_throttle().blocked(&name, ip, Instant::now()).is_some() {
            return Ok(Outcome::Throttled);
        }
        let creds = state.store.lock().unwrap_or_else(|p| p.into_inner()).user_credentials(&name)?;
        // The hash is checked outside the store's lock; an unknown name is
        // checked against a dummy hash so that it takes as long.
        let ok = match &creds {
            Some((_, hash)) => auth::verify_password(&form.password, hash),
            None => {
                auth::verify_password(&form.password, auth::dummy_hash());
                false
            }
        };
        let Some((user, _)) = creds.filter(|_| ok) else {
            lock_throttle().failed(&name, ip, Instant::now());
            tracing::warn!("web: failed sign-in for {name:?} from {ip}");
            return Ok(Outcome::Wrong);
        };
        lock_throttle().succeeded(&name);
        let token = auth::random_token().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let csrf = auth::random_token().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let expires = Utc::now() + chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
        state.store.lock().unwrap_or_else(|p| p.into_inner()).add_session(
            &auth::token_hash(&token),
            user.id,
            &csrf,
            expires,
        )?;
        tracing::info!("web: {} signed in from {ip}", user.name);
        Ok(Outcome::In { token })
    });
    match job.await {
        Ok(Ok(Outcome::In { token })) => {
            let session = auth::set_cookie(SESSION_COOKIE, &token, SESSION_TTL, secure);
            let clear = auth::set_cookie(LOGIN_CSRF_COOKIE, "", std::time::Duration::ZERO, secure);
            (AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, clear)]), Redirect::to("/clients"))
                .into_response()
        }
        Ok(Ok(Outcome::Forbidden)) => message(StatusCode::FORBIDDEN, t, t.forbidden),
        Ok(Ok(Outcome::Throttled)) => login_page(StatusCode::TOO_MANY_REQUESTS, t, &shown_name, t.too_many, secure),
        Ok(Ok(Outcome::Wrong)) => login_page(StatusCode::UNAUTHORIZED, t, &shown_name, t.wrong_password, secure),
        Ok(Err(e)) => store_error(t, e),
        Err(e) => {
            tracing::error!("web: sign-in failed: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, t, t.error)
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// True when a POST carries the session's CSRF token (form field or the
/// `X-CSRF-Token` header htmx sends).
fn csrf_ok(ctx: &Ctx, headers: &HeaderMap, field: &str) -> bool {
    let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    auth::same_token(field, &ctx.session.csrf) || auth::same_token(header, &ctx.session.csrf)
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let secure = auth::is_https(&headers);
    let token = auth::cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let h = headers.clone();
    signed_in(state, headers, move |ctx, store, _| {
        if !csrf_ok(ctx, &h, &form.csrf) {
            return Ok(message(StatusCode::FORBIDDEN, ctx.t, ctx.t.forbidden));
        }
        store.remove_session(&auth::token_hash(&token))?;
        let clear = auth::set_cookie(SESSION_COOKIE, "", std::time::Duration::ZERO, secure);
        Ok((AppendHeaders([(header::SET_COOKIE, clear)]), Redirect::to("/login")).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct LangForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    csrf: String,
}

/// Sets the language cookie. Signed in, the session's token guards it;
/// on the sign-in page, the sign-in form's.
pub(super) async fn set_lang(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LangForm>,
) -> Response {
    let t = lang(&headers);
    let secure = auth::is_https(&headers);
    let lang = if form.lang == "cs" { "cs" } else { "en" };
    // Only a path of this site: no other host, no scheme.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") && !form.back.contains('\\') {
        form.back.clone()
    } else {
        "/clients".to_string()
    };
    let done = move || {
        let c = auth::set_cookie(LANG_COOKIE, lang, std::time::Duration::from_secs(365 * 86_400), secure);
        (AppendHeaders([(header::SET_COOKIE, c)]), Redirect::to(&back)).into_response()
    };
    let login_csrf = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if auth::cookie(&headers, SESSION_COOKIE).is_none() {
        return if auth::same_token(&form.csrf, &login_csrf) {
            done()
        } else {
            message(StatusCode::FORBIDDEN, t, t.forbidden)
        };
    }
    let h = headers.clone();
    signed_in(state, headers, move |ctx, _, _| {
        if !csrf_ok(ctx, &h, &form.csrf) {
            return Ok(message(StatusCode::FORBIDDEN, ctx.t, ctx.t.forbidden));
        }
        Ok(done())
    })
    .await
}

// ---- clients ----

#[derive(Deserialize)]
pub(super) struct ClientsQuery {
    #[serde(default)]
    q: String,
}

struct ClientView {
    id: i64,
    name: String,
    ico: String,
    status: &'static str,
    domains: String,
    contacts: String,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    t: &'static Msg,
    user: String,
    csrf: String,
    back: String,
    q: String,
    clients: Vec<ClientView>,
}

#[derive(Template)]
#[template(path = "client_rows.html")]
struct ClientRows {
    t: &'static Msg,
    clients: Vec<ClientView>,
}

pub(super) async fn clients(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ClientsQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, _| {
        let found = app::find_clients(store, &query.q)?;
        let clients: Vec<ClientView> = found
            .into_iter()
            .map(|c| ClientView {
                id: c.id,
                name: c.name,
                ico: c.ico.unwrap_or_default(),
                status: ctx.t.word(&c.status),
                domains: c.domains.join(", "),
                contacts: c.contacts.join(", "),
            })
            .collect();
        if ctx.htmx {
            return Ok(render(StatusCode::OK, &ClientRows { t: ctx.t, clients }));
        }
        let page = ClientsPage {
            t: ctx.t,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: "/clients".into(),
            q: query.q,
            clients,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}

// ---- the client card ----

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
pub(super) struct TimelineQuery {
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

pub(super) async fn card(
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

pub(super) async fn timeline(
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
