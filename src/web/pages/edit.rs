//! Editing: clients (filled from ARES by IČO), contacts, deals, custom
//! fields, call and meeting notes, manual links, meetings planned in a
//! calendar account. Every change is a call to
//! [`crate::app::edit`], the functions the CLI calls; a form that is refused
//! comes back with the typed values and a message beside each refused field
//! (422); a saved one redirects to the client card (303).
//!
//! ARES: typing an IČO asks `/ares` (htmx, after a pause); the register
//! fills the blank fields among name, DIČ, address and legal form. A field
//! the user already filled keeps what they typed; when ARES says something
//! else, its value is shown beside the field with a button to take it.
//! ARES being down, slow or not knowing the IČO is a message in the form.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Local;

use super::{AppState, Ctx, asset, csrf_ok, lang, message, render, signed_in, to_login};
use crate::app::edit::{self, EditError};
use crate::ares::{Ares, AresError};
use crate::config::Config;
use crate::model::{Client, ClientId, Contact, ContactId, FieldKind, ItemId, ItemKind};
use crate::store::{Deal, Store, StoreError};
use crate::web::auth::{self, SESSION_COOKIE};
use crate::web::i18n::Msg;

const CSS: &str = include_str!("../../../assets/edit.css");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/edit.css", get(css))
        .route("/clients/new", get(client_new_form).post(client_new))
        .route("/clients/{id}/edit", get(client_edit_form).post(client_edit))
        .route("/ares", get(ares_fields))
        .route("/clients/{id}/contacts/new", get(contact_new_form).post(contact_new))
        .route("/contacts/{id}/edit", get(contact_edit_form).post(contact_edit))
        .route("/clients/{id}/deals/new", get(deal_new_form).post(deal_new))
        .route("/deals/{id}/edit", get(deal_edit_form).post(deal_edit))
        .route("/clients/{id}/notes/new", get(note_new_form).post(note_new))
        .route("/clients/{id}/meetings/new", get(meeting_new_form).post(meeting_new))
        .route("/items/{id}/link", get(link_form).post(link_post))
        .route("/items/{id}/unlink", axum::routing::post(unlink_post))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// The words of the editing pages.
pub(super) struct Words {
    new_client: &'static str,
    edit_client: &'static str,
    save: &'static str,
    cancel: &'static str,
    fill_from_ares: &'static str,
    use_it: &'static str,
    ico_help: &'static str,
    list_help: &'static str,
    registered: &'static str,
    mail: &'static str,
    ares_filled: &'static str,
    ares_differs: &'static str,
    ares_not_found: &'static str,
    ares_down: &'static str,
    ares_failed: &'static str,
    new_contact: &'static str,
    edit_contact: &'static str,
    person_name: &'static str,
    contact_client: &'static str,
    new_deal: &'static str,
    edit_deal: &'static str,
    title: &'static str,
    value: &'static str,
    currency: &'static str,
    products: &'static str,
    products_help: &'static str,
    new_note: &'static str,
    when: &'static str,
    contact: &'static str,
    nobody: &'static str,
    note_text: &'static str,
    note_help: &'static str,
    no_notes_folder: &'static str,
    new_meeting: &'static str,
    duration: &'static str,
    attendees: &'static str,
    attendees_help: &'static str,
    calendar: &'static str,
    meeting_title_help: &'static str,
    no_calendar_account: &'static str,
    link_item: &'static str,
    link: &'static str,
    unlink: &'static str,
    client: &'static str,
    linked_to: &'static str,
    by_hand: &'static str,
    not_linked: &'static str,
    fix_fields: &'static str,
    already: &'static str,
    dissolved: &'static str,
}

static CS: Words = Words {
    new_client: "Nový klient",
    edit_client: "Upravit klienta",
    save: "Uložit",
    cancel: "Zpět",
    fill_from_ares: "Vyplnit z ARES",
    use_it: "Převzít",
    ico_help: "8 číslic; formulář se vyplní z ARES.",
    list_help: "Jedna na řádek nebo oddělené čárkou.",
    registered: "Rejstřík",
    mail: "Pošta",
    ares_filled: "Vyplněno z ARES",
    ares_differs: "ARES uvádí u označených polí něco jiného; vaše hodnoty zůstaly.",
    ares_not_found: "ARES toto IČO nezná.",
    ares_down: "ARES teď neodpovídá; vyplňte formulář ručně.",
    ares_failed: "Odpověď ARES nelze použít; vyplňte formulář ručně.",
    new_contact: "Nová kontaktní osoba",
    edit_contact: "Upravit kontaktní osobu",
    person_name: "Jméno",
    contact_client: "Klient",
    new_deal: "Nový obchod",
    edit_deal: "Upravit obchod",
    title: "Název",
    value: "Hodnota",
    currency: "Měna",
    products: "Produkty",
    products_help: "Jeden na řádek.",
    new_note: "Nová poznámka",
    when: "Kdy",
    contact: "Kontaktní osoba",
    nobody: "—",
    note_text: "Text",
    note_help: "První řádek je předmět.",
    no_notes_folder: "Poznámky se ukládají jako soubory do složky poznámek, ale konfigurace žádnou nemá. Přidejte do ní oddíl [[notes]] s názvem, cestou a druhem, např.: [[notes]] name = \"poznamky\" path = \"poznamky\" kind = \"call\" — a spusťte kronika znovu.",
    new_meeting: "Naplánovat schůzku",
    duration: "Délka",
    attendees: "Pozvaní",
    attendees_help: "Adresa na řádek; kalendář jim pošle pozvánku.",
    calendar: "Kalendář",
    meeting_title_help: "Bez názvu: „Schůzka: klient“.",
    no_calendar_account: "Schůzky se zapisují do kalendáře účtu CalDAV nebo Microsoft 365, ale konfigurace žádný nemá. Přidejte oddíl [[caldav]] nebo [[graph]] (README: Calendar accounts) a spusťte kronika znovu.",
    link_item: "Přiřadit položku",
    link: "Přiřadit",
    unlink: "Zrušit přiřazení",
    client: "Klient",
    linked_to: "Přiřazeno",
    by_hand: "ručně",
    not_linked: "Položka není ručně přiřazena tomuto klientovi; přiřazení podle adres zruší jen změna adresáře.",
    fix_fields: "Opravte označená pole.",
    already: "Toto IČO už má klient",
    dissolved: "zanikla",
};

static EN: Words = Words {
    new_client: "New client",
    edit_client: "Edit client",
    save: "Save",
    cancel: "Back",
    fill_from_ares: "Fill from ARES",
    use_it: "Use",
    ico_help: "8 digits; the form fills itself from ARES.",
    list_help: "One per line, or separated by commas.",
    registered: "Register",
    mail: "Mail",
    ares_filled: "Filled from ARES",
    ares_differs: "ARES says something else for the marked fields; your values stay.",
    ares_not_found: "ARES does not know this IČO.",
    ares_down: "ARES does not answer now; fill the form by hand.",
    ares_failed: "The answer of ARES cannot be used; fill the form by hand.",
    new_contact: "New contact person",
    edit_contact: "Edit contact person",
    person_name: "Name",
    contact_client: "Client",
    new_deal: "New deal",
    edit_deal: "Edit deal",
    title: "Title",
    value: "Value",
    currency: "Currency",
    products: "Products",
    products_help: "One per line.",
    new_note: "New note",
    when: "When",
    contact: "Contact person",
    nobody: "—",
    note_text: "Text",
    note_help: "The first line is the subject.",
    no_notes_folder: "Notes are written as files into a notes folder, but the config has none. Add a [[notes]] section with a name, a path and a kind, e.g. [[notes]] name = \"notes\" path = \"notes\" kind = \"call\" — and start kronika again.",
    new_meeting: "Plan a meeting",
    duration: "Length",
    attendees: "Invited",
    attendees_help: "One address a line; the calendar sends them the invitation.",
    calendar: "Calendar",
    meeting_title_help: "Blank: “Schůzka: client”.",
    no_calendar_account: "Meetings are written to a CalDAV or Microsoft 365 calendar account, but the config has none. Add a [[caldav]] or [[graph]] section (README: Calendar accounts) and start kronika again.",
    link_item: "Link item",
    link: "Link",
    unlink: "Unlink",
    client: "Client",
    linked_to: "Linked to",
    by_hand: "by hand",
    not_linked: "The item has no manual link to this client; links by address change only with the directory.",
    fix_fields: "Correct the marked fields.",
    already: "This IČO already belongs to",
    dissolved: "dissolved",
};

fn words(t: &Msg) -> &'static Words {
    if t.lang == "cs" { &CS } else { &EN }
}

// ---- form data ----

/// A submitted form: every `name=value` pair, in order.
struct FormData(Vec<(String, String)>);

impl FormData {
    fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    fn opt(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// One option of a select.
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// One form field as the templates draw it.
struct Input {
    name: String,
    id: String,
    label: String,
    value: String,
    error: String,
    /// `text`, `date`, `datetime-local`, `email`, `tel`; ignored for
    /// textareas and selects.
    input_type: &'static str,
    textarea: bool,
    select: bool,
    numeric: bool,
    required: bool,
    options: Vec<Opt>,
    help: String,
    /// What ARES says when it differs from `value`.
    hint: String,
}

impl Input {
    fn text(name: &str, label: &str, value: &str) -> Input {
        Input {
            name: name.to_string(),
            id: format!("f-{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
            label: label.to_string(),
            value: value.to_string(),
            error: String::new(),
            input_type: "text",
            textarea: false,
            select: false,
            numeric: false,
            required: false,
            options: Vec::new(),
            help: String::new(),
            hint: String::new(),
        }
    }

    fn area(name: &str, label: &str, value: &str) -> Input {
        Input { textarea: true, ..Input::text(name, label, value) }
    }

    fn select(name: &str, label: &str, value: &str, options: Vec<(String, String)>) -> Input {
        let mut opts: Vec<Opt> =
            options.into_iter().map(|(v, l)| Opt { selected: v == value, value: v, label: l }).collect();
        if !value.is_empty() && !opts.iter().any(|o| o.selected) {
            // What was typed stays visible even when it is not a choice.
            opts.push(Opt { value: value.to_string(), label: value.to_string(), selected: true });
        }
        Input { select: true, options: opts, ..Input::text(name, label, value) }
    }

    fn typed(mut self, t: &'static str) -> Input {
        self.input_type = t;
        self
    }

    fn numeric(mut self) -> Input {
        self.numeric = true;
        self
    }

    fn required(mut self) -> Input {
        self.required = true;
        self
    }

    fn help(mut self, h: &str) -> Input {
        self.help = h.to_string();
        self
    }
}

struct Section {
    legend: String,
    fields: Vec<Input>,
}

/// A refused value's message in Czech: the library says it in English (as
/// the CLI prints it); the Czech pages say it in Czech. A message this
/// does not know stays as it is.
fn czech(field: &str, m: &str) -> Option<String> {
    let quoted = m.split('"').nth(1).unwrap_or("");
    let has = |w: &str| m.contains(w);
    let text = match field {
        "name" if has("already exists") => "Klient s tímto názvem už existuje.".to_string(),
        "name" if has("contact") => "Kontaktní osoba musí mít jméno.".to_string(),
        "name" => "Klient musí mít název.".to_string(),
        "ico" if has("already belongs") => "Toto IČO už má jiný klient.".to_string(),
        "ico" if has("check digit") => "IČO nemá platnou kontrolní číslici.".to_string(),
        "ico" if has("ARES") => return None,
        "ico" => "IČO má nejvýše 8 číslic.".to_string(),
        "dic" => "DIČ je kód země a číslice, např. CZ27074358.".to_string(),
        "budget" => "Roční rozpočet musí být nezáporné číslo do 10^15.".to_string(),
        "status" if has("open, won or lost") => "Stav je otevřený, vyhraný nebo prohraný.".to_string(),
        "status" => "Stav je zájemce nebo klient.".to_string(),
        "domains" if has("public suffix") => {
            format!("Doména {quoted} je veřejná přípona, sdílená nesouvisejícími vlastníky.")
        }
        "domains" if has("free-mail") => {
            format!("Doména {quoted} patří freemailové službě; adresu osoby přidejte jako kontakt.")
        }
        "domains" if has("own domains") => format!("Doména {quoted} je naše vlastní."),
        "domains" => format!("Doménu {quoted} nelze přečíst."),
        "emails" => format!("Adresu {quoted} nelze přečíst."),
        "title" => "Obchod musí mít název.".to_string(),
        "value" if has("negative") => "Hodnota nesmí být záporná.".to_string(),
        "value" if has("10^15") || has("too large") => "Hodnota je příliš velká.".to_string(),
        "value" => "Hodnota není číslo.".to_string(),
        "currency" => format!("Neznámá měna {quoted}; kronika zná {}.", crate::figures::CURRENCIES.join(", ")),
        "date" if has("HH:MM") => "Datum a čas zadejte jako RRRR-MM-DD HH:MM.".to_string(),
        "date" => "Datum zadejte jako RRRR-MM-DD nebo D.M.RRRR.".to_string(),
        "kind" => "Poznámka je hovor, nebo schůzka.".to_string(),
        "text" => "Poznámka nemůže být prázdná.".to_string(),
        "contact" => "Tato osoba není kontaktem klienta.".to_string(),
        "at" if has("too late") => "Schůzka by končila příliš pozdě.".to_string(),
        "at" => "Čas zadejte jako RRRR-MM-DD HH:MM.".to_string(),
        "duration" => "Délka je např. 30m, 1h nebo 90m (nejvýše 14 dní).".to_string(),
        "with" if has("no contact") => "Klient nemá kontakt s adresou; zadejte adresu pozvaného.".to_string(),
        "with" => format!("Adresu {quoted} nelze přečíst."),
        "client" if has("without a client") => "Vyberte klienta.".to_string(),
        "client" => "Tohoto klienta nelze najít.".to_string(),
        f if f.starts_with("field.") && has("not a number") => "Hodnota není číslo.".to_string(),
        f if f.starts_with("field.") && has("not a date") => {
            "Hodnota není datum (RRRR-MM-DD nebo D.M.RRRR).".to_string()
        }
        f if f.starts_with("field.") && has("is not one of") => {
            format!("Hodnota není jedna z: {}.", m.rsplit("is not one of ").next().unwrap_or(""))
        }
        _ => return None,
    };
    Some(text)
}

/// Puts each field error beside its field (in the page's language); what
/// no field shows comes back.
fn place_errors(t: &Msg, sections: &mut [Section], extra: &mut [&mut Input], e: &EditError) -> String {
    let EditError::Invalid(list) = e else { return e.to_string() };
    let local: Vec<edit::FieldError> = list
        .iter()
        .map(|fe| edit::FieldError {
            field: fe.field.clone(),
            message: if t.lang == "cs" {
                czech(&fe.field, &fe.message).unwrap_or_else(|| fe.message.clone())
            } else {
                fe.message.clone()
            },
        })
        .collect();
    let mut rest = Vec::new();
    for fe in &local {
        let mut placed = false;
        for f in sections.iter_mut().flat_map(|s| s.fields.iter_mut()).chain(extra.iter_mut().map(|f| &mut **f)) {
            if f.name == fe.field {
                if !f.error.is_empty() {
                    f.error.push_str("; ");
                }
                f.error.push_str(&fe.message);
                placed = true;
                break;
            }
        }
        if !placed {
            rest.push(fe.message.clone());
        }
    }
    rest.join("; ")
}

/// The form shown again after `e`: each field error beside its field;
/// the page's message (what no field shows, else "correct the marked
/// fields") and its status come back.
fn refusal(t: &Msg, sections: &mut [Section], extra: &mut [&mut Input], e: &EditError) -> (String, StatusCode) {
    let rest = place_errors(t, sections, extra, e);
    (if rest.is_empty() { words(t).fix_fields.to_string() } else { rest }, status_of(e))
}

/// An id chosen in a select (`client`, `contact`); blank is none.
fn parse_id(f: &FormData, field: &str) -> Result<Option<i64>, edit::FieldError> {
    match f.get(field).trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| edit::FieldError { field: field.into(), message: format!("cannot read {field} {s:?}") }),
    }
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

// ---- pages ----

#[derive(Template)]
#[template(path = "edit_form.html")]
struct FormPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    title: String,
    subtitle: String,
    action: String,
    cancel: String,
    error: String,
    sections: Vec<Section>,
    /// A form that cannot be used (no notes folder): the message instead.
    blocked: String,
}

#[derive(Template)]
#[template(path = "edit_client.html")]
struct ClientPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    title: String,
    action: String,
    cancel: String,
    error: String,
    /// The client being edited (empty for a new one): not a duplicate of itself.
    self_id: String,
    ico: Input,
    ares: AresBlock,
    sections: Vec<Section>,
}

/// The registered fields (name, DIČ, address, legal form) with ARES's word on them.
struct AresBlock {
    fields: Vec<Input>,
    /// A client that already has this IČO: (id, name).
    existing: Option<(i64, String)>,
    /// `ok`, `warn` or `error`: how the message looks.
    level: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "form_ares.html")]
struct AresFragment {
    w: &'static Words,
    ares: AresBlock,
}

fn page_base(ctx: &Ctx, back: &str) -> (String, String, String) {
    (ctx.session.user.name.clone(), ctx.session.csrf.clone(), back.to_string())
}

fn forbidden(ctx: &Ctx) -> Response {
    message(StatusCode::FORBIDDEN, ctx.t, ctx.t.forbidden)
}

fn to_card(id: ClientId) -> Response {
    Redirect::to(&format!("/clients/{}", id.0)).into_response()
}

/// A submitted form: signed in and the CSRF token checked (403 without
/// it), then `handle` with the form.
async fn posted<F>(state: AppState, headers: HeaderMap, form: FormData, handle: F) -> Response
where
    F: FnOnce(&Ctx, &mut Store, &Config, &FormData) -> Result<Response, StoreError> + Send + 'static,
{
    let h = headers.clone();
    signed_in(state, headers, move |ctx, store, config| {
        if !csrf_ok(ctx, &h, form.get("csrf")) {
            return Ok(forbidden(ctx));
        }
        handle(ctx, store, config, &form)
    })
    .await
}

/// What a change answers: saved, `saved` logs it and names the client
/// whose card comes next (303); a store failure is the server's error;
/// anything else goes to `refused` (the form again, with the errors).
fn outcome<T>(
    result: Result<T, EditError>,
    saved: impl FnOnce(T) -> ClientId,
    refused: impl FnOnce(EditError) -> Result<Response, StoreError>,
) -> Result<Response, StoreError> {
    match result {
        Ok(v) => Ok(to_card(saved(v))),
        Err(EditError::Store(e)) => Err(e),
        Err(e) => refused(e),
    }
}

/// What a failed change answers when it is not a form to show again.
fn failed(ctx: &Ctx, e: EditError) -> Result<Response, StoreError> {
    match e {
        EditError::NotFound { .. } => Ok(message(StatusCode::NOT_FOUND, ctx.t, ctx.t.not_found)),
        EditError::Store(e) => Err(e),
        e => Ok(message(StatusCode::UNPROCESSABLE_ENTITY, ctx.t, &e.to_string())),
    }
}

fn status_of(e: &EditError) -> StatusCode {
    match e {
        EditError::NotFound { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

// ---- clients ----

/// The client form's values as text.
#[derive(Default, Clone)]
struct ClientValues {
    name: String,
    ico: String,
    dic: String,
    address: String,
    legal_form: String,
    billing: String,
    status: String,
    budget: String,
    domains: String,
    emails: String,
    /// Declared custom fields by their config name.
    fields: HashMap<String, String>,
}

impl ClientValues {
    fn from_form(f: &FormData, config: &Config) -> ClientValues {
        ClientValues {
            name: f.get("name").into(),
            ico: f.get("ico").into(),
            dic: f.get("dic").into(),
            address: f.get("address").into(),
            legal_form: f.get("legal_form").into(),
            billing: f.get("billing").into(),
            status: f.get("status").into(),
            budget: f.get("budget").into(),
            domains: f.get("domains").into(),
            emails: f.get("emails").into(),
            fields: config
                .custom_fields
                .iter()
                .map(|cf| (cf.name.clone(), f.get(&edit::custom_field_key(&cf.name)).to_string()))
                .collect(),
        }
    }

    fn of_client(store: &Store, id: ClientId) -> Result<ClientValues, StoreError> {
        let c = store.client(id)?;
        Ok(ClientValues {
            name: c.name.clone(),
            ico: c.ico.clone().unwrap_or_default(),
            dic: c.dic.clone().unwrap_or_default(),
            address: c.address.clone().unwrap_or_default(),
            legal_form: store.legal_form(id)?.unwrap_or_default(),
            billing: c.billing.clone().unwrap_or_default(),
            status: c.status.to_string(),
            budget: c.annual_budget.map(|b| b.to_string()).unwrap_or_default(),
            domains: c.domains.join("\n"),
            emails: store.client_emails(id)?.join("\n"),
            fields: c
                .custom
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect(),
        })
    }

    fn field_pairs(&self, config: &Config) -> Vec<(String, String)> {
        config
            .custom_fields
            .iter()
            .map(|cf| (cf.name.clone(), self.fields.get(&cf.name).cloned().unwrap_or_default()))
            .collect()
    }
}

fn ares_inputs(t: &Msg, v: &ClientValues) -> Vec<Input> {
    vec![
        Input::text("name", t.name, &v.name).required(),
        Input::text("dic", t.dic, &v.dic),
        Input::text("address", t.address, &v.address),
        Input::text("legal_form", t.legal_form, &v.legal_form),
    ]
}

fn client_page(
    ctx: &Ctx,
    config: &Config,
    id: Option<ClientId>,
    v: &ClientValues,
    ares: Option<AresBlock>,
) -> ClientPage {
    let (t, w) = (ctx.t, words(ctx.t));
    let status_opts = ["lead", "client"].iter().map(|s| (s.to_string(), t.word(s).to_string())).collect();
    let mut custom = Vec::new();
    for cf in &config.custom_fields {
        let key = edit::custom_field_key(&cf.name);
        let value = v.fields.get(&cf.name).map(String::as_str).unwrap_or("");
        custom.push(match &cf.kind {
            FieldKind::Text => Input::text(&key, &cf.name, value),
            FieldKind::Number => Input::text(&key, &cf.name, value).numeric(),
            FieldKind::Date => Input::text(&key, &cf.name, value).typed("date"),
            FieldKind::Choice { choices } => {
                let mut opts = vec![(String::new(), w.nobody.to_string())];
                opts.extend(choices.iter().map(|c| (c.clone(), c.clone())));
                Input::select(&key, &cf.name, value, opts)
            }
        });
    }
    let mut sections = vec![
        Section {
            legend: t.company.to_string(),
            fields: vec![
                Input::area("billing", t.billing, &v.billing),
                Input::select("status", t.status, if v.status.is_empty() { "lead" } else { &v.status }, status_opts),
                Input::text("budget", t.budget, &v.budget).numeric(),
            ],
        },
        Section {
            legend: w.mail.to_string(),
            fields: vec![
                Input::area("domains", t.domains, &v.domains).help(w.list_help),
                Input::area("emails", t.emails, &v.emails).help(w.list_help),
            ],
        },
    ];
    if !custom.is_empty() {
        sections.push(Section { legend: t.custom_fields.to_string(), fields: custom });
    }
    let (user, csrf, back) = page_base(ctx, &ctx_path(id, "edit"));
    ClientPage {
        t,
        w,
        user,
        csrf,
        back,
        title: match id {
            Some(_) => format!("{}: {}", w.edit_client, v.name),
            None => w.new_client.to_string(),
        },
        action: ctx_path(id, "edit"),
        cancel: id.map(|i| format!("/clients/{}", i.0)).unwrap_or_else(|| "/clients".into()),
        error: String::new(),
        self_id: id.map(|i| i.0.to_string()).unwrap_or_default(),
        ico: Input::text("ico", t.ico, &v.ico).numeric().help(w.ico_help),
        ares: ares.unwrap_or(AresBlock {
            fields: ares_inputs(t, v),
            existing: None,
            level: "",
            message: String::new(),
        }),
        sections,
    }
}

fn ctx_path(id: Option<ClientId>, what: &str) -> String {
    match id {
        Some(i) => format!("/clients/{}/{what}", i.0),
        None => "/clients/new".into(),
    }
}

fn show_client_error(mut page: ClientPage, e: &EditError) -> Response {
    // A duplicate belongs beside the name or the IČO it repeats.
    let beside;
    let e = match e {
        EditError::Conflict(m) => {
            let field = if m.contains("IČO") { "ico" } else { "name" };
            beside = EditError::field(field, e.to_string());
            &beside
        }
        e => e,
    };
    let mut list: Vec<&mut Input> = page.ares.fields.iter_mut().collect();
    list.push(&mut page.ico);
    let status;
    (page.error, status) = refusal(page.t, &mut page.sections, &mut list, e);
    render(status, &page)
}

async fn client_new_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    signed_in(state, headers, |ctx, _, config| {
        Ok(render(StatusCode::OK, &client_page(ctx, config, None, &ClientValues::default(), None)))
    })
    .await
}

async fn client_edit_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let v = ClientValues::of_client(store, ClientId(id))?;
        Ok(render(StatusCode::OK, &client_page(ctx, config, Some(ClientId(id)), &v, None)))
    })
    .await
}

async fn client_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(pairs);
    if form.has("fill") {
        return fill_from_ares(state, headers, form, None).await;
    }
    posted(state, headers, form, |ctx, store, config, form| {
        let v = ClientValues::from_form(form, config);
        let draft = edit::ClientDraft {
            name: v.name.clone(),
            ico: Some(v.ico.clone()),
            dic: Some(v.dic.clone()),
            address: Some(v.address.clone()),
            billing: Some(v.billing.clone()),
            status: Some(v.status.clone()),
            budget: Some(v.budget.clone()),
            legal_form: Some(v.legal_form.clone()),
            domains: vec![v.domains.clone()],
            emails: vec![v.emails.clone()],
            fields: v.field_pairs(config),
        };
        outcome(
            edit::add_client(store, config, &draft, None),
            |added| {
                tracing::info!("web: {} added client {}: {}", ctx.session.user.name, added.id, added.name);
                added.id
            },
            |e| Ok(show_client_error(client_page(ctx, config, None, &v, None), &e)),
        )
    })
    .await
}

async fn client_edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let form = FormData(pairs);
    let id = ClientId(id);
    if form.has("fill") {
        return fill_from_ares(state, headers, form, Some(id)).await;
    }
    posted(state, headers, form, move |ctx, store, config, form| {
        store.client(id)?;
        let v = ClientValues::from_form(form, config);
        // A field the form did not send stays as it is.
        let list = |k: &str| match form.opt(k) {
            Some(all) => edit::ListChange::set(vec![all]),
            None => edit::ListChange::default(),
        };
        let changes = edit::ClientChanges {
            name: form.opt("name"),
            ico: form.opt("ico"),
            dic: form.opt("dic"),
            address: form.opt("address"),
            billing: form.opt("billing"),
            status: form.opt("status"),
            budget: form.opt("budget"),
            legal_form: form.opt("legal_form"),
            domains: list("domains"),
            emails: list("emails"),
            fields: config
                .custom_fields
                .iter()
                .filter_map(|cf| form.opt(&edit::custom_field_key(&cf.name)).map(|v| (cf.name.clone(), v)))
                .collect(),
        };
        outcome(
            edit::edit_client(store, config, id, &changes),
            |c| {
                tracing::info!("web: {} changed client {id}: {}", ctx.session.user.name, c.name);
                id
            },
            |e| match e {
                EditError::NotFound { .. } => failed(ctx, e),
                e => Ok(show_client_error(client_page(ctx, config, Some(id), &v, None), &e)),
            },
        )
    })
    .await
}

/// The signed-in user's words and session, checked without keeping the
/// store: ARES may take its whole timeout, and nobody else should wait.
async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<super::Ctx> {
    let token = auth::cookie(headers, SESSION_COOKIE)?;
    let t = lang(headers);
    let htmx = super::is_htmx(headers);
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let store = st.store.lock().unwrap_or_else(|p| p.into_inner());
        store.session(&auth::token_hash(&token)).ok().flatten()
    })
    .await
    .ok()
    .flatten()
    .map(|session| super::Ctx { t, session, htmx })
}

/// Asks ARES for `ico` and fills the blank registered fields; `take` (a
/// field name or `all`) puts ARES's value over the typed one.
fn ares_block(t: &'static Msg, config: &Config, v: &mut ClientValues, take: &str) -> AresBlock {
    let w = words(t);
    let ares = Ares::new(&config.ares_url, config.ares_timeout);
    match edit::ares_fill(&ares, &v.ico, &v.name, &v.dic, &v.address, &v.legal_form) {
        Ok(fill) => {
            let mut fields = Vec::new();
            let mut differs = false;
            for (name, label, filled, slot) in [
                ("name", t.name, &fill.name, &mut v.name),
                ("dic", t.dic, &fill.dic, &mut v.dic),
                ("address", t.address, &fill.address, &mut v.address),
                ("legal_form", t.legal_form, &fill.legal_form, &mut v.legal_form),
            ] {
                let taken = take == name || take == "all";
                let value = match (&filled.registered, taken) {
                    (Some(r), true) => r.clone(),
                    _ => filled.value.clone(),
                };
                *slot = value.clone();
                let mut input = Input::text(name, label, &value);
                if name == "name" {
                    input.required = true;
                }
                if let (Some(r), false) = (&filled.registered, taken) {
                    input.hint = r.clone();
                    differs = true;
                }
                fields.push(input);
            }
            let mut message = format!("{}: {} (IČO {})", w.ares_filled, fill.company.name, fill.company.ico);
            if let Some(d) = fill.company.dissolved {
                message.push_str(&format!(" — {} {d}", w.dissolved));
            }
            if differs {
                message.push_str(&format!(". {}", w.ares_differs));
            }
            AresBlock { fields, existing: None, level: if differs { "warn" } else { "ok" }, message }
        }
        Err(e) => {
            let (level, message) = match &e {
                AresError::NotFound(_) => ("warn", w.ares_not_found.to_string()),
                AresError::InvalidIco(m) => ("error", m.clone()),
                AresError::Unreachable { .. } => ("error", format!("{} ({e})", w.ares_down)),
                AresError::Malformed(_) | AresError::Refused(_) => ("error", format!("{} ({e})", w.ares_failed)),
            };
            AresBlock { fields: ares_inputs(t, v), existing: None, level, message }
        }
    }
}

/// `GET /ares?ico=…&name=…`: the registered fields, filled (htmx swaps
/// them in). Nothing is looked up (204, nothing swapped) while the IČO is
/// not yet 8 digits.
async fn ares_fields(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some(ctx) = session_of(&state, &headers).await else { return to_login(&headers) };
    let form = FormData(q);
    let ico: String = form.get("ico").chars().filter(|c| !c.is_whitespace()).collect();
    if ico.len() != 8 || !ico.bytes().all(|b| b.is_ascii_digit()) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let take = form.get("take").to_string();
    let except = form.get("self").trim().parse::<i64>().ok().map(ClientId);
    let st = state.clone();
    let t = ctx.t;
    let job = tokio::task::spawn_blocking(move || {
        let existing = {
            let store = st.store.lock().unwrap_or_else(|p| p.into_inner());
            edit::client_with_ico(&store, &ico, except).ok().flatten().map(|c| (c.id.0, c.name))
        };
        let mut v = ClientValues::from_form(&form, &st.config);
        v.ico = ico;
        AresBlock { existing, ..ares_block(t, &st.config, &mut v, &take) }
    });
    match job.await {
        Ok(ares) => render(StatusCode::OK, &AresFragment { w: words(t), ares }),
        Err(e) => {
            tracing::error!("web: the ARES lookup failed: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, t, t.error)
        }
    }
}

/// The form's "Fill from ARES" button (works without script): the same
/// form again, filled; nothing is saved.
async fn fill_from_ares(state: AppState, headers: HeaderMap, form: FormData, id: Option<ClientId>) -> Response {
    let Some(ctx) = session_of(&state, &headers).await else { return to_login(&headers) };
    if !csrf_ok(&ctx, &headers, form.get("csrf")) {
        return forbidden(&ctx);
    }
    let st = state.clone();
    let job = tokio::task::spawn_blocking(move || {
        let config = &st.config;
        let mut v = ClientValues::from_form(&form, config);
        let block = ares_block(ctx.t, config, &mut v, form.get("take"));
        render(StatusCode::OK, &client_page(&ctx, config, id, &v, Some(block)))
    });
    job.await.unwrap_or_else(|e| {
        tracing::error!("web: the ARES lookup failed: {e}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

// ---- contacts ----

fn contact_sections(ctx: &Ctx, f: &FormData, clients: Option<Vec<(String, String)>>) -> Vec<Section> {
    let (t, w) = (ctx.t, words(ctx.t));
    let mut fields = vec![
        Input::text("name", w.person_name, f.get("name")).required(),
        Input::area("emails", t.emails, f.get("emails")).help(w.list_help),
        Input::text("phone", t.phone, f.get("phone")).typed("tel"),
        Input::text("role", t.role, f.get("role")),
    ];
    if let Some(opts) = clients {
        fields.push(Input::select("client", w.contact_client, f.get("client"), opts));
    }
    vec![Section { legend: String::new(), fields }]
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    ctx: &Ctx,
    title: String,
    subtitle: String,
    action: String,
    cancel: String,
    sections: Vec<Section>,
    error: Option<&EditError>,
) -> (StatusCode, FormPage) {
    let (user, csrf, back) = page_base(ctx, &action);
    let mut page = FormPage {
        t: ctx.t,
        w: words(ctx.t),
        user,
        csrf,
        back,
        title,
        subtitle,
        action,
        cancel,
        error: String::new(),
        sections,
        blocked: String::new(),
    };
    let status = match error {
        Some(e) => {
            let status;
            (page.error, status) = refusal(page.t, &mut page.sections, &mut [], e);
            status
        }
        None => StatusCode::OK,
    };
    (status, page)
}

fn show(p: (StatusCode, FormPage)) -> Response {
    render(p.0, &p.1)
}

/// A form that adds to a client (a contact, a deal, a note): under the
/// client's name, posted to `/clients/{id}/{what}/new`, back to its card.
fn new_form(
    ctx: &Ctx,
    title: &str,
    client: &Client,
    what: &str,
    sections: Vec<Section>,
    error: Option<&EditError>,
) -> (StatusCode, FormPage) {
    let id = client.id.0;
    form_page(
        ctx,
        title.into(),
        client.name.clone(),
        format!("/clients/{id}/{what}/new"),
        format!("/clients/{id}"),
        sections,
        error,
    )
}

/// A page of a form that adds to a client: the client, the typed values
/// and what refused them.
type NewPage = fn(&Ctx, &Client, &FormData, Option<&EditError>) -> Response;

/// `GET` of a form that adds to client `id`: the form, blank.
async fn blank_new_form(state: AppState, headers: HeaderMap, id: i64, page: NewPage) -> Response {
    signed_in(state, headers, move |ctx, store, _| {
        let c = store.client(ClientId(id))?;
        Ok(page(ctx, &c, &FormData(Vec::new()), None))
    })
    .await
}

/// What adding `label` (a new `what`: contact, deal) to `client` answers:
/// logged and the card, or `refused` (the form again).
fn added<T: std::fmt::Display>(
    ctx: &Ctx,
    client: &Client,
    what: &str,
    label: &str,
    result: Result<T, EditError>,
    refused: impl FnOnce(EditError) -> Response,
) -> Result<Response, StoreError> {
    outcome(
        result,
        |new| {
            tracing::info!(
                "web: {} added {what} {new} ({label}) to client {}: {}",
                ctx.session.user.name,
                client.id,
                client.name
            );
            client.id
        },
        |e| Ok(refused(e)),
    )
}

fn contact_new_page(ctx: &Ctx, client: &Client, f: &FormData, error: Option<&EditError>) -> Response {
    show(new_form(ctx, words(ctx.t).new_contact, client, "contacts", contact_sections(ctx, f, None), error))
}

fn client_options(store: &Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(store.clients()?.into_iter().map(|c| (c.id.0.to_string(), c.name)).collect())
}

/// The form of contact `p` (of the client named `client`).
fn contact_edit_page(
    ctx: &Ctx,
    store: &Store,
    p: &Contact,
    client: &str,
    f: &FormData,
    error: Option<&EditError>,
) -> Result<Response, StoreError> {
    Ok(show(form_page(
        ctx,
        format!("{}: {}", words(ctx.t).edit_contact, p.name),
        client.to_string(),
        format!("/contacts/{}/edit", p.id.0),
        format!("/clients/{}", p.client.0),
        contact_sections(ctx, f, Some(client_options(store)?)),
        error,
    )))
}

async fn contact_new_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    blank_new_form(state, headers, id, contact_new_page).await
}

async fn contact_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        let client = store.client(ClientId(id))?;
        let draft = edit::ContactDraft {
            name: f.get("name").into(),
            emails: vec![f.get("emails").into()],
            phone: f.opt("phone"),
            role: f.opt("role"),
        };
        let result = edit::add_contact(store, client.id, &draft);
        added(ctx, &client, "contact", draft.name.trim(), result, |e| contact_new_page(ctx, &client, f, Some(&e)))
    })
    .await
}

async fn contact_edit_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, _| {
        let p = store.contact(ContactId(id))?;
        let client = store.client(p.client)?;
        let f = FormData(vec![
            ("name".into(), p.name.clone()),
            ("emails".into(), p.emails.join("\n")),
            ("phone".into(), p.phone.clone().unwrap_or_default()),
            ("role".into(), p.role.clone().unwrap_or_default()),
            ("client".into(), p.client.0.to_string()),
        ]);
        contact_edit_page(ctx, store, &p, &client.name, &f, None)
    })
    .await
}

async fn contact_edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        let p = store.contact(ContactId(id))?;
        let client = store.client(p.client)?;
        let move_to = match parse_id(f, "client") {
            Ok(c) => c.map(ClientId),
            Err(fe) => return Ok(message(StatusCode::UNPROCESSABLE_ENTITY, ctx.t, &fe.message)),
        };
        let changes = edit::ContactChanges {
            name: f.opt("name"),
            emails: f.opt("emails").map(|e| edit::ListChange::set(vec![e])).unwrap_or_default(),
            phone: f.opt("phone"),
            role: f.opt("role"),
            client: move_to.filter(|c| *c != p.client),
        };
        outcome(
            edit::edit_contact(store, p.id, &changes),
            |c| {
                tracing::info!(
                    "web: {} changed contact {id} ({}) of client {}",
                    ctx.session.user.name,
                    c.name,
                    c.client
                );
                c.client
            },
            |e| contact_edit_page(ctx, store, &p, &client.name, f, Some(&e)),
        )
    })
    .await
}

// ---- deals ----

fn deal_sections(ctx: &Ctx, f: &FormData) -> Vec<Section> {
    let (t, w) = (ctx.t, words(ctx.t));
    let statuses = crate::store::DEAL_STATUSES.iter().map(|s| (s.to_string(), t.word(s).to_string())).collect();
    let currencies = crate::figures::CURRENCIES.iter().map(|c| (c.to_string(), c.to_string())).collect();
    let or = |k: &str, d: &str| if f.has(k) { f.get(k).to_string() } else { d.to_string() };
    vec![Section {
        legend: String::new(),
        fields: vec![
            Input::text("title", w.title, f.get("title")).required(),
            Input::text("value", w.value, f.get("value")).numeric().required(),
            Input::select("currency", w.currency, &or("currency", "CZK"), currencies),
            Input::select("status", t.status, &or("status", "open"), statuses),
            Input::text("date", t.date, &or("date", &Local::now().format("%Y-%m-%d").to_string())).typed("date"),
            Input::area("products", w.products, f.get("products")).help(w.products_help),
        ],
    }]
}

fn deal_new_page(ctx: &Ctx, client: &Client, f: &FormData, error: Option<&EditError>) -> Response {
    show(new_form(ctx, words(ctx.t).new_deal, client, "deals", deal_sections(ctx, f), error))
}

/// The form of deal `d`.
fn deal_edit_page(ctx: &Ctx, d: &Deal, f: &FormData, error: Option<&EditError>) -> Response {
    show(form_page(
        ctx,
        format!("{}: {}", words(ctx.t).edit_deal, d.title),
        d.client.clone(),
        format!("/deals/{}/edit", d.id),
        format!("/clients/{}", d.client_id),
        deal_sections(ctx, f),
        error,
    ))
}

async fn deal_new_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    blank_new_form(state, headers, id, deal_new_page).await
}

async fn deal_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        let client = store.client(ClientId(id))?;
        let draft = edit::DealDraft {
            title: f.get("title").into(),
            value: f.get("value").into(),
            currency: f.get("currency").into(),
            status: f.get("status").into(),
            date: f.opt("date"),
            products: lines(f.get("products")),
        };
        let result = edit::add_deal(store, client.id, &draft);
        added(ctx, &client, "deal", draft.title.trim(), result, |e| deal_new_page(ctx, &client, f, Some(&e)))
    })
    .await
}

async fn deal_edit_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, _| {
        let d = store.deal(id)?;
        let f = FormData(vec![
            ("title".into(), d.title.clone()),
            ("value".into(), d.value.to_string()),
            ("currency".into(), d.currency.clone()),
            ("status".into(), d.status.clone()),
            ("date".into(), d.date.to_string()),
            ("products".into(), d.products.join("\n")),
        ]);
        Ok(deal_edit_page(ctx, &d, &f, None))
    })
    .await
}

async fn deal_edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        let d = store.deal(id)?;
        let changes = edit::DealChanges {
            title: f.opt("title"),
            value: f.opt("value"),
            currency: f.opt("currency"),
            status: f.opt("status"),
            date: f.opt("date").filter(|s| !s.trim().is_empty()),
            products: f.opt("products").map(|p| lines(&p)),
        };
        outcome(
            edit::edit_deal(store, id, &changes),
            |deal| {
                tracing::info!("web: {} changed deal {id} ({}) of {}", ctx.session.user.name, deal.title, deal.client);
                ClientId(deal.client_id)
            },
            |e| Ok(deal_edit_page(ctx, &d, f, Some(&e))),
        )
    })
    .await
}

// ---- notes ----

fn note_sections(
    ctx: &Ctx,
    store: &Store,
    config: &Config,
    client: ClientId,
    f: &FormData,
) -> Result<Vec<Section>, StoreError> {
    let (t, w) = (ctx.t, words(ctx.t));
    let default_kind = config.notes.first().map(|n| n.kind).unwrap_or(ItemKind::Call).to_string();
    let kinds = ["call", "meeting"].iter().map(|k| (k.to_string(), t.word(k).to_string())).collect();
    let mut people = vec![(String::new(), w.nobody.to_string())];
    people.extend(store.contacts(client)?.into_iter().map(|p| {
        let label = match p.emails.first() {
            Some(e) => format!("{} <{e}>", p.name),
            None => p.name,
        };
        (p.id.0.to_string(), label)
    }));
    let or = |k: &str, d: &str| if f.has(k) { f.get(k).to_string() } else { d.to_string() };
    let now = Local::now().format("%Y-%m-%dT%H:%M").to_string();
    Ok(vec![Section {
        legend: String::new(),
        fields: vec![
            Input::select("kind", t.kind, &or("kind", &default_kind), kinds),
            Input::text("date", w.when, &or("date", &now)).typed("datetime-local"),
            Input::select("contact", w.contact, f.get("contact"), people),
            Input::area("text", w.note_text, f.get("text")).required().help(w.note_help),
        ],
    }])
}

fn note_page(
    ctx: &Ctx,
    store: &Store,
    config: &Config,
    client: &Client,
    f: &FormData,
    e: Option<&EditError>,
) -> Result<Response, StoreError> {
    let sections = note_sections(ctx, store, config, client.id, f)?;
    let missing = config.notes.is_empty().then_some(words(ctx.t).no_notes_folder);
    Ok(blockable(new_form(ctx, words(ctx.t).new_note, client, "notes", sections, e), missing, e))
}

/// A form that needs a config section the config lacks (`missing`: what
/// to add) says so instead of showing its fields (409 once posted).
fn blockable(form: (StatusCode, FormPage), missing: Option<&str>, e: Option<&EditError>) -> Response {
    let (mut status, mut page) = form;
    if let Some(m) = missing {
        page.blocked = m.to_string();
        page.error.clear();
        if e.is_some() {
            status = StatusCode::CONFLICT;
        }
    }
    render(status, &page)
}

/// A page of a form that adds to a client and reads the store and config.
type ConfigPage = fn(&Ctx, &Store, &Config, &Client, &FormData, Option<&EditError>) -> Result<Response, StoreError>;

/// `GET` of such a form: blank.
async fn blank_config_form(state: AppState, headers: HeaderMap, id: i64, page: ConfigPage) -> Response {
    signed_in(state, headers, move |ctx, store, config| {
        let client = store.client(ClientId(id))?;
        page(ctx, store, config, &client, &FormData(Vec::new()), None)
    })
    .await
}

async fn note_new_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    blank_config_form(state, headers, id, note_page).await
}

async fn note_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, config, f| {
        let client = store.client(ClientId(id))?;
        let kind = match f.get("kind").trim() {
            "" => Ok(None),
            k => k.parse::<ItemKind>().map(Some).map_err(|message| edit::FieldError { field: "kind".into(), message }),
        };
        let (kind, contact) = match (kind, parse_id(f, "contact")) {
            (Ok(k), Ok(c)) => (k, c.map(ContactId)),
            (k, c) => {
                let list = [k.err(), c.err()].into_iter().flatten().collect();
                return note_page(ctx, store, config, &client, f, Some(&EditError::Invalid(list)));
            }
        };
        let draft =
            edit::NoteDraft { client: client.id, kind, contact, date: f.opt("date"), text: f.get("text").into() };
        // Inside `kronika run` (or beside one) the daemon's watcher files
        // the note; `kronika serve` alone files it here, before the redirect.
        let filing =
            if crate::daemon::running_pid(config).is_some() { edit::Filing::Watcher } else { edit::Filing::Now };
        outcome(
            edit::add_note(store, config, &draft, filing),
            |w| {
                tracing::info!(
                    "web: {} wrote a note for client {id} ({}): {}",
                    ctx.session.user.name,
                    client.name,
                    w.path.display()
                );
                client.id
            },
            |e| match e {
                EditError::Invalid(_) | EditError::NoNotesFolder => note_page(ctx, store, config, &client, f, Some(&e)),
                e => {
                    tracing::error!("web: {e}");
                    failed(ctx, e)
                }
            },
        )
    })
    .await
}

// ---- meetings ----

/// The calendars a meeting can go to: `ACCOUNT/CALENDAR` for the calendars
/// an account names, else the account (its first calendar).
fn calendar_choices(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in config.caldav.iter().chain(config.graph.iter()) {
        match &a.calendars {
            Some(names) => out.extend(names.iter().map(|n| (format!("{}/{n}", a.name), format!("{} – {n}", a.name)))),
            None => out.push((a.name.clone(), a.name.clone())),
        }
    }
    out
}

fn meeting_sections(
    ctx: &Ctx,
    store: &Store,
    config: &Config,
    client: ClientId,
    f: &FormData,
) -> Result<Vec<Section>, StoreError> {
    let w = words(ctx.t);
    let or = |k: &str, d: &str| if f.has(k) { f.get(k).to_string() } else { d.to_string() };
    let tomorrow = (Local::now() + chrono::Duration::days(1)).format("%Y-%m-%dT10:00").to_string();
    let invited = store.contacts(client)?.into_iter().find_map(|c| c.emails.first().cloned()).unwrap_or_default();
    let lengths = [("30m", "30 min"), ("1h", "1 h"), ("90m", "90 min"), ("2h", "2 h"), ("3h", "3 h")];
    let lengths = lengths.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect();
    Ok(vec![Section {
        legend: String::new(),
        fields: vec![
            Input::text("at", w.when, &or("at", &tomorrow)).typed("datetime-local").required(),
            Input::select("duration", w.duration, &or("duration", "1h"), lengths),
            Input::text("title", w.title, f.get("title")).help(w.meeting_title_help),
            Input::area("with", w.attendees, &or("with", &invited)).help(w.attendees_help),
            Input::select("calendar", w.calendar, f.get("calendar"), calendar_choices(config)),
        ],
    }])
}

fn meeting_page(
    ctx: &Ctx,
    store: &Store,
    config: &Config,
    client: &Client,
    f: &FormData,
    e: Option<&EditError>,
) -> Result<Response, StoreError> {
    let sections = meeting_sections(ctx, store, config, client.id, f)?;
    let missing = (config.caldav.is_empty() && config.graph.is_empty()).then_some(words(ctx.t).no_calendar_account);
    Ok(blockable(new_form(ctx, words(ctx.t).new_meeting, client, "meetings", sections, e), missing, e))
}

async fn meeting_new_form(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    blank_config_form(state, headers, id, meeting_page).await
}

/// Writes the meeting to the calendar (`app::meeting::add`, as `kronika
/// meeting add` does), then the card, where it is in the coming events.
async fn meeting_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, config, f| {
        use crate::app::meeting::{self, MeetingError};
        let client = store.client(ClientId(id))?;
        let draft = meeting::MeetingDraft {
            client: client.id,
            at: f.get("at").to_string(),
            duration: f.opt("duration").filter(|v| !v.trim().is_empty()),
            title: f.opt("title").filter(|v| !v.trim().is_empty()),
            with: lines(&f.get("with").replace(',', "\n")),
            calendar: f.opt("calendar").filter(|v| !v.trim().is_empty()),
        };
        match meeting::add(store, config, &draft) {
            Ok(p) => {
                tracing::info!(
                    "web: {} planned meeting {} with client {id} ({}) in {}",
                    ctx.session.user.name,
                    p.uid,
                    client.name,
                    p.calendar
                );
                Ok(to_card(client.id))
            }
            Err(MeetingError::Store(e)) => Err(e),
            Err(e) => {
                let field = match &e {
                    MeetingError::Invalid { field, .. } => *field,
                    _ => "",
                };
                tracing::warn!("web: cannot plan a meeting with client {id}: {e}");
                let refused =
                    EditError::Invalid(vec![edit::FieldError { field: field.into(), message: e.to_string() }]);
                meeting_page(ctx, store, config, &client, f, Some(&refused))
            }
        }
    })
    .await
}

// ---- links ----

struct LinkView {
    client_id: i64,
    client: String,
    contact: String,
    reason: String,
    manual: bool,
}

#[derive(Template)]
#[template(path = "edit_link.html")]
struct LinkPage {
    t: &'static Msg,
    w: &'static Words,
    user: String,
    csrf: String,
    back: String,
    item: i64,
    subject: String,
    date: String,
    error: String,
    links: Vec<LinkView>,
    fields: Vec<Input>,
}

fn link_page(
    ctx: &Ctx,
    store: &Store,
    item: i64,
    f: &FormData,
    error: Option<&EditError>,
) -> Result<Response, StoreError> {
    let (t, w) = (ctx.t, words(ctx.t));
    let row = store.item(ItemId(item))?;
    let clients = store.clients()?;
    let mut contacts = vec![(String::new(), w.nobody.to_string())];
    for c in &clients {
        for p in store.contacts(c.id)? {
            contacts.push((p.id.0.to_string(), format!("{} ({})", p.name, c.name)));
        }
    }
    let first = row.links.first().map(|l| l.client_id.to_string()).unwrap_or_default();
    let chosen = if f.has("client") { f.get("client").to_string() } else { first };
    let mut fields = vec![
        Input::select(
            "client",
            w.client,
            &chosen,
            clients.iter().map(|c| (c.id.0.to_string(), c.name.clone())).collect(),
        )
        .required(),
        Input::select("contact", w.contact, f.get("contact"), contacts),
    ];
    let mut page = LinkPage {
        t,
        w,
        user: ctx.session.user.name.clone(),
        csrf: ctx.session.csrf.clone(),
        back: format!("/items/{item}/link"),
        item,
        subject: if row.subject.is_empty() { t.no_subject.to_string() } else { row.subject.clone() },
        date: row.date.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
        error: String::new(),
        links: row
            .links
            .iter()
            .map(|l| LinkView {
                client_id: l.client_id,
                client: l.client.clone(),
                contact: l.contact.clone().unwrap_or_default(),
                reason: if l.reason == "manual" { w.by_hand.to_string() } else { l.reason.clone() },
                manual: l.reason == "manual",
            })
            .collect(),
        fields: Vec::new(),
    };
    let status = match error {
        Some(EditError::NotLinked { .. }) => {
            page.error = w.not_linked.to_string();
            StatusCode::CONFLICT
        }
        Some(e) => {
            let mut refs: Vec<&mut Input> = fields.iter_mut().collect();
            let status;
            (page.error, status) = refusal(t, &mut [], &mut refs, e);
            status
        }
        None => StatusCode::OK,
    };
    page.fields = fields;
    Ok(render(status, &page))
}

async fn link_form(State(state): State<AppState>, headers: HeaderMap, Path(item): Path<i64>) -> Response {
    signed_in(state, headers, move |ctx, store, _| link_page(ctx, store, item, &FormData(Vec::new()), None)).await
}

async fn link_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(item): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        store.item(ItemId(item))?;
        let chosen = |field| parse_id(f, field).map_err(|fe| EditError::Invalid(vec![fe]));
        let parsed = chosen("client").and_then(|c| {
            let c = c.ok_or_else(|| EditError::field("client", "cannot link an item without a client"))?;
            Ok((c, chosen("contact")?))
        });
        let result = parsed.and_then(|(client, contact)| {
            edit::link(store, ItemId(item), ClientId(client), contact.map(ContactId)).map(|()| ClientId(client))
        });
        outcome(
            result,
            |client| {
                tracing::info!("web: {} linked item {item} to client {client}", ctx.session.user.name);
                client
            },
            |e| match e {
                EditError::NotFound { what: "item", .. } => Ok(message(StatusCode::NOT_FOUND, ctx.t, ctx.t.not_found)),
                EditError::NotFound { .. } => {
                    link_page(ctx, store, item, f, Some(&EditError::field("client", e.to_string())))
                }
                e => link_page(ctx, store, item, f, Some(&e)),
            },
        )
    })
    .await
}

async fn unlink_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(item): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    posted(state, headers, FormData(pairs), move |ctx, store, _, f| {
        store.item(ItemId(item))?;
        let Ok(Some(client)) = parse_id(f, "client") else {
            let e = EditError::field("client", format!("cannot read client {:?}", f.get("client")));
            return link_page(ctx, store, item, f, Some(&e));
        };
        let client = ClientId(client);
        outcome(
            edit::unlink(store, ItemId(item), client),
            |()| {
                tracing::info!("web: {} unlinked item {item} from client {client}", ctx.session.user.name);
                client
            },
            |e| link_page(ctx, store, item, f, Some(&e)),
        )
    })
    .await
}
