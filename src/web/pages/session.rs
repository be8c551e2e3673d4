//! Signing in and out, and the language switch.

use std::net::SocketAddr;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use super::{AppState, CsrfForm, csrf_ok, lang, message, render, signed_in, store_error};
use crate::store::StoreError;
use crate::web::auth::{self, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL};
use crate::web::i18n::Msg;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
}

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

async fn login_form(headers: HeaderMap) -> Response {
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

async fn login(
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
            (AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, clear)]), Redirect::to("/today"))
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

async fn logout(State(state): State<AppState>, headers: HeaderMap, axum::Form(form): axum::Form<CsrfForm>) -> Response {
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
async fn set_lang(
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
