//! One item, whole: the text (the default), the HTML version sanitised in
//! a sandboxed frame, attachments and documents to download, the thread
//! around it. Downloads are never rendered: `Content-Disposition:
//! attachment`, `application/octet-stream`, a safe file name.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Local;
use serde::Deserialize;

use super::card::{EntryView, entry_view};
use super::{AppState, message, render, signed_in};
use crate::app;
use crate::mail::view::AttachmentBytes;
use crate::model::{ClientId, ItemId};
use crate::web::i18n::Msg;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/items/{id}", get(item))
        .route("/items/{id}/html", get(item_html))
        .route("/items/{id}/attachments/{hash}", get(attachment))
        .route("/documents/{id}", get(document))
        .route("/clients/{id}/chart.svg", get(chart))
}

/// The policy of the HTML frame's document: nothing loads but inline
/// `data:` images and the frame's own small stylesheet; the document is
/// sandboxed (no script, no form, no navigation of the page around it)
/// even when opened on its own.
const FRAME_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
     frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox";

/// The policy of a download or an SVG chart: nothing runs, nothing loads.
const FILE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

struct Words {
    html_version: &'static str,
    text_version: &'static str,
    no_html: &'static str,
    attachments: &'static str,
    download: &'static str,
    not_kept: &'static str,
    thread: &'static str,
    clients: &'static str,
    by: &'static str,
    message_id: &'static str,
    back: &'static str,
    frame_title: &'static str,
    hidden: &'static str,
    link: &'static str,
    hidden_body: &'static str,
}

static CS: Words = Words {
    html_version: "Zobrazit HTML verzi",
    text_version: "Zobrazit jako text",
    no_html: "Zpráva nemá HTML verzi.",
    attachments: "Přílohy",
    download: "Stáhnout",
    not_kept: "originál zprávy není uložen",
    thread: "Vlákno",
    clients: "Klienti",
    by: "podle",
    message_id: "Message-ID",
    back: "Zpět na kartu klienta",
    frame_title: "HTML verze zprávy (bez vzdáleného obsahu)",
    hidden: "(skryto)",
    link: "Připojit ke klientovi nebo odpojit",
    hidden_body: "Obsah této zprávy vidí jen vlastník schránky.",
};

static EN: Words = Words {
    html_version: "Show the HTML version",
    text_version: "Show as text",
    no_html: "The message has no HTML version.",
    attachments: "Attachments",
    download: "Download",
    not_kept: "the original message is not kept",
    thread: "Thread",
    clients: "Clients",
    by: "by",
    message_id: "Message-ID",
    back: "Back to the client card",
    frame_title: "The message's HTML version (no remote content)",
    hidden: "(hidden)",
    link: "Link to a client or unlink",
    hidden_body: "Only the mailbox's owner sees what this message says.",
};

fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

struct Person {
    role: String,
    name: String,
    address: String,
}

struct LinkView {
    client_id: i64,
    client: String,
    detail: String,
}

struct AttachmentView {
    name: String,
    mime: String,
    size: String,
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    id: i64,
    kind: &'static str,
    date: String,
    direction: &'static str,
    subject: String,
    people: Vec<Person>,
    message_id: String,
    links: Vec<LinkView>,
    body: String,
    hidden_body: bool,
    show_html: bool,
    has_html: bool,
    attachments: Vec<AttachmentView>,
    original_kept: bool,
    document_href: Option<String>,
    thread: Vec<EntryView>,
    card: Option<String>,
}

#[derive(Deserialize)]
struct ItemQuery {
    #[serde(default)]
    view: String,
}

/// A size for people: `12 kB`, `3.4 MB`.
fn human_size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{} kB", n / 1_000),
        _ => format!("{:.1} MB", n as f64 / 1_000_000.0),
    }
}

async fn item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ItemQuery>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let t = ctx.t;
        let w = words(t);
        let v = app::item::open(store, ItemId(id), &ctx.viewer(config))?;
        let r = &v.row;
        let kind = entry_view(t, &app::item_entry(r)).kind;
        let people = r
            .participants
            .iter()
            .map(|p| Person {
                role: p.role.as_str().to_string(),
                name: p.name.clone().unwrap_or_default(),
                address: p.address.clone(),
            })
            .collect();
        let links = r
            .links
            .iter()
            .map(|l| LinkView {
                client_id: l.client_id,
                client: l.client.clone(),
                detail: format!(
                    "{}{} {} {}",
                    l.contact.as_ref().map(|c| format!("{c}, ")).unwrap_or_default(),
                    w.by,
                    l.reason,
                    l.evidence
                ),
            })
            .collect::<Vec<_>>();
        let attachments = r
            .attachments
            .iter()
            .map(|a| AttachmentView {
                name: a.name.clone(),
                mime: a.mime.clone(),
                size: human_size(a.size),
                href: v.original_kept.then(|| format!("/items/{id}/attachments/{}", a.content_hash)),
            })
            .collect();
        let card = links.first().map(|l| format!("/clients/{}", l.client_id));
        let page = ItemPage {
            t,
            w,
            user: ctx.session.user.name.clone(),
            csrf: ctx.session.csrf.clone(),
            back: format!("/items/{id}"),
            id,
            kind,
            date: r.date.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
            direction: match r.direction.as_str() {
                "in" => "←",
                "out" => "→",
                _ => "·",
            },
            subject: if !v.access.shows_subject() {
                w.hidden.to_string()
            } else if r.subject.is_empty() {
                t.no_subject.to_string()
            } else {
                r.subject.clone()
            },
            hidden_body: !v.access.shows_body(),
            people,
            message_id: r.message_id.clone().unwrap_or_default(),
            links,
            body: r.body.clone(),
            show_html: q.view == "html" && v.has_html,
            has_html: v.has_html,
            attachments,
            original_kept: v.original_kept,
            document_href: v.document_kept.then(|| format!("/documents/{id}")),
            thread: v.thread.iter().map(|e| entry_view(t, e)).collect(),
            card,
        };
        Ok(render(StatusCode::OK, &page))
    })
    .await
}

/// The frame's document: the sanitised HTML in a minimal page.
async fn item_html(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let Some(html) = app::item::html(store, ItemId(id), &ctx.viewer(config))? else {
            return Ok(message(StatusCode::NOT_FOUND, ctx.t, words(ctx.t).no_html));
        };
        let doc = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
             <style>body{{font:15px/1.45 system-ui,sans-serif;margin:.5rem;color:#1d2330;overflow-wrap:anywhere}}\
             img{{max-width:100%;height:auto}}table{{max-width:100%}}</style></head><body>{html}</body></html>"
        );
        let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FRAME_CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
        Ok(res)
    })
    .await
}

/// A file name safe in a header: the ASCII fallback keeps letters, digits,
/// `.-_` and spaces; the UTF-8 form is percent-encoded (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .collect();
    let ascii = ascii.trim().trim_start_matches('.');
    let ascii = if ascii.is_empty() { "attachment" } else { ascii };
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn download(t: &'static Msg, file: Option<AttachmentBytes>) -> Response {
    let Some(f) = file else { return message(StatusCode::NOT_FOUND, t, t.not_found) };
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], f.bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&disposition(&f.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    } else {
        h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
    res
}

async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, hash)): Path<(i64, String)>,
) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        Ok(download(ctx.t, app::item::attachment(store, ItemId(id), &hash, &ctx.viewer(config))?))
    })
    .await
}

async fn document(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        Ok(download(ctx.t, app::item::document(store, ItemId(id), &ctx.viewer(config))?))
    })
    .await
}

async fn chart(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |_, store, config| {
        let svg = app::item::sales_chart(store, config, ClientId(id))?;
        let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response();
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
        Ok(res)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_safe_in_a_header() {
        let cases = [
            ("nabídka.pdf", "attachment; filename=\"nab_dka.pdf\"; filename*=UTF-8''nab%C3%ADdka%2Epdf"),
            (
                "a\"b\r\nSet-Cookie: x.pdf",
                "attachment; filename=\"a_b__Set-Cookie_ x.pdf\"; filename*=UTF-8''a%22b%0D%0ASet%2DCookie%3A%20x%2Epdf",
            ),
            ("...", "attachment; filename=\"attachment\"; filename*=UTF-8''%2E%2E%2E"),
        ];
        for (name, want) in cases {
            assert_eq!(disposition(name), want, "{name}");
            assert!(HeaderValue::from_str(&disposition(name)).is_ok());
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(12_345), "12 kB");
        assert_eq!(human_size(3_400_000), "3.4 MB");
    }
}
