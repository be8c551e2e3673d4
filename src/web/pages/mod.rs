//! The handlers: each checks the session, asks [`crate::app`] for the data
//! on a blocking thread, and renders a template. No SQL here.
//!
//! One module per page (or family of pages), each with its own `routes()`;
//! what they share (rendering, the session check, CSRF, the language) is
//! here. Words a single page needs live in that page's module.

mod brief;
mod card;
mod clients;
mod edit;
mod item;
mod search;
mod session;
mod today;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::auth::{self, LANG_COOKIE, SESSION_COOKIE};
use super::i18n::{self, Msg};
use crate::config::Config;
use crate::store::{Session, Store, StoreError};

const HTMX_JS: &str = include_str!("../../../assets/htmx.min.js");
const CSS: &str = include_str!("../../../assets/kronika.css");
const FAVICON: &str = include_str!("../../../assets/favicon.svg");
const PRINT_JS: &str = include_str!("../../../assets/print.js");

async fn htmx_js() -> Response {
    asset(HTMX_JS, "text/javascript; charset=utf-8")
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn print_js() -> Response {
    asset(PRINT_JS, "text/javascript; charset=utf-8")
}

async fn favicon() -> Response {
    asset(FAVICON, "image/svg+xml")
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

impl Ctx {
    /// What the signed-in user may see of mail ([`crate::app::visibility`]).
    fn viewer(&self, config: &Config) -> crate::app::visibility::Viewer {
        crate::app::visibility::Viewer::for_user(config, &self.session.user.name)
    }
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

async fn root() -> Redirect {
    Redirect::to("/today")
}

async fn not_found(headers: HeaderMap) -> Response {
    let t = lang(&headers);
    message(StatusCode::NOT_FOUND, t, t.not_found)
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// True when a POST carries the session's CSRF token (form field or the
/// `X-CSRF-Token` header htmx sends).
fn csrf_ok(ctx: &Ctx, headers: &HeaderMap, field: &str) -> bool {
    let header = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    auth::same_token(field, &ctx.session.csrf) || auth::same_token(header, &ctx.session.csrf)
}

/// A label and its value, as the pages' definition lists show them.
struct Row {
    label: String,
    value: String,
}

/// Adds a row unless its value is missing or blank.
fn push_row(rows: &mut Vec<Row>, label: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        rows.push(Row { label: label.to_string(), value: v });
    }
}

/// Every page's routes and the assets.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/assets/htmx.min.js", get(htmx_js))
        .route("/assets/kronika.css", get(css))
        .route("/assets/favicon.svg", get(favicon))
        .route("/assets/print.js", get(print_js))
        .route("/favicon.ico", get(favicon))
        .merge(session::routes())
        .merge(today::routes())
        .merge(clients::routes())
        .merge(card::routes())
        .merge(item::routes())
        .merge(search::routes())
        .merge(brief::routes())
        .merge(edit::routes())
        .fallback(not_found)
}
