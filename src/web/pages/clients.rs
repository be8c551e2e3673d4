//! The clients list, with search as you type.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{AppState, render, signed_in};
use crate::app;
use crate::web::i18n::Msg;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/clients", get(clients))
}

#[derive(Deserialize)]
struct ClientsQuery {
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

async fn clients(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<ClientsQuery>) -> Response {
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
