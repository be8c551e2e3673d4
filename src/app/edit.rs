//! Changing the directory and writing notes: what `kronika client add/edit`,
//! `contact add/edit`, `deal add/edit`, `note add` and `link`/`unlink` do,
//! and what the web's forms do, in one place. Inputs are the text a user
//! typed (an argument, a form field); every check names the field it
//! refused, so a form can show the message beside it and the CLI can print
//! it. The writes go through the store's functions, which bump
//! `directory_version`: a running daemon matches the next item with the
//! change.

use std::path::{Path, PathBuf};

use chrono::{Local, Utc};

use crate::ares::{Ares, AresError, Company};
use crate::config::{Config, NotesConfig};
use crate::directory;
use crate::model::{Client, ClientId, Contact, ContactId, ItemId, ItemKind};
use crate::store::{ClientInput, ClientPatch, ContactInput, ContactPatch, Deal, DealInput, Store, StoreError};

/// One refused input: the field (a form field's name: `name`, `ico`,
/// `domains`, `field.obor`, …) and what is wrong with it ("cannot …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Why a change was not made. Callers branch on it: a form shows
/// `Invalid` beside its fields (422), `NotFound` is a 404, `Conflict` a
/// duplicate the user must resolve.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Input that cannot be used, one entry per refused field.
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("cannot find {what} {query:?}")]
    NotFound { what: &'static str, query: String },
    /// A duplicate name or IČO.
    #[error("cannot save: {0}")]
    Conflict(String),
    /// Adding by IČO alone, and ARES could not say the name.
    #[error("{0}; give the name to add the client by hand")]
    AresNeeded(AresError),
    #[error("cannot unlink item {item}: it has no manual link to client {client}")]
    NotLinked { item: ItemId, client: ClientId },
    #[error(
        "cannot write a note: the config has no [[notes]] folder; add one, e.g. [[notes]] name = \"notes\" path = \"notes\" kind = \"call\" (see config/kronika.example.toml)"
    )]
    NoNotesFolder,
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    /// The note file is written, but filing it into the history failed.
    #[error("cannot file the note {} into the history ({source_name}): {reason}", path.display())]
    File { path: PathBuf, source_name: String, reason: String },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EditError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, query } => EditError::NotFound { what, query },
            StoreError::Conflict(m) => EditError::Conflict(m),
            e => EditError::Store(e),
        }
    }
}

impl EditError {
    /// One refused field.
    pub fn field(field: &str, message: impl Into<String>) -> EditError {
        EditError::Invalid(vec![FieldError { field: field.to_string(), message: message.into() }])
    }

    /// The message for one field, when this error refused it.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        match self {
            EditError::Invalid(list) => list.iter().find(|e| e.field == field).map(|e| e.message.as_str()),
            _ => None,
        }
    }
}

fn invalid(refused: Vec<directory::Refused>) -> EditError {
    EditError::Invalid(refused.into_iter().map(|(field, message)| FieldError { field, message }).collect())
}

/// Collects field errors while a whole form is checked.
#[derive(Default)]
struct Checks {
    refused: Vec<directory::Refused>,
}

impl Checks {
    fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.refuse(field, m)).ok()
    }

    fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.refused.push((field.to_string(), message.into()));
    }

    /// A value the user may clear: `None` leaves it, blank clears it
    /// (`Some(None)`), anything else is checked.
    fn clearable<T>(
        &mut self,
        field: &str,
        v: Option<&str>,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match v {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => self.take(field, check(s)).map(Some),
        }
    }

    fn done(self) -> Result<(), EditError> {
        if self.refused.is_empty() { Ok(()) } else { Err(invalid(self.refused)) }
    }
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub use directory::custom_field_key;

// ---- clients ----

/// A new client as typed: every value raw text, `None` or blank when not given.
#[derive(Debug, Clone, Default)]
pub struct ClientDraft {
    pub name: String,
    pub ico: Option<String>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub billing: Option<String>,
    pub status: Option<String>,
    pub budget: Option<String>,
    /// Legal form as ARES names it ("s.r.o."); filled from ARES when blank.
    pub legal_form: Option<String>,
    /// Domains; each entry may hold several (`a.cz, b.cz`).
    pub domains: Vec<String>,
    /// Addresses of the company itself; each entry may hold several.
    pub emails: Vec<String>,
    /// Custom fields `(name, value)`; a blank value sets nothing.
    pub fields: Vec<(String, String)>,
}

/// What adding a client did.
#[derive(Debug, Clone)]
pub struct ClientAdded {
    pub id: ClientId,
    pub name: String,
    /// What ARES said, when it was asked and answered.
    pub registered: Option<Company>,
    /// ARES was asked and failed, and the client was added by hand.
    pub ares_failed: Option<AresError>,
    /// Stored items the new client's domains and addresses already match.
    pub linked: i64,
}

/// The draft checked as a CSV row or `client add` is: every refused field named.
fn client_input(draft: &ClientDraft, config: &Config) -> Result<ClientInput, EditError> {
    let raw = directory::RawClient {
        name: draft.name.clone(),
        ico: draft.ico.clone(),
        dic: draft.dic.clone(),
        address: draft.address.clone(),
        billing: draft.billing.clone(),
        status: draft.status.clone(),
        annual_budget: draft.budget.clone(),
        domains: draft.domains.clone(),
        emails: draft.emails.clone(),
        fields: draft.fields.clone(),
    };
    directory::check_client(&raw, config).map_err(invalid)
}

/// Adds a client. With `ares`, an IČO is looked up first and the register
/// fills what the draft leaves blank (name, DIČ, address, legal form);
/// ARES failing never blocks adding a client whose name is given.
pub fn add_client(
    store: &mut Store,
    config: &Config,
    draft: &ClientDraft,
    ares: Option<&Ares>,
) -> Result<ClientAdded, EditError> {
    let mut draft = draft.clone();
    let mut registered = None;
    let mut ares_failed = None;
    if let (Some(ico), Some(ares)) = (blank(&draft.ico), ares) {
        match ares.by_ico(ico) {
            Ok(c) => registered = Some(c),
            Err(AresError::InvalidIco(m)) => return Err(EditError::field("ico", m)),
            Err(e) if !draft.name.trim().is_empty() => ares_failed = Some(e),
            Err(e) => return Err(EditError::AresNeeded(e)),
        }
    }
    if let Some(r) = &registered {
        let fill = |v: &mut Option<String>, from: &Option<String>| {
            if blank(v).is_none() {
                v.clone_from(from);
            }
        };
        if draft.name.trim().is_empty() {
            draft.name = r.name.clone();
        }
        fill(&mut draft.dic, &r.dic);
        fill(&mut draft.address, &r.address);
        fill(&mut draft.legal_form, &r.legal_form);
    }
    let input = client_input(&draft, config)?;
    let id = store.add_client(&input)?;
    if let Some(form) = blank(&draft.legal_form) {
        store.set_legal_form(id, Some(form))?;
    }
    let linked = store.client_item_counts(id)?.values().sum();
    Ok(ClientAdded { id, name: input.name, registered, ares_failed, linked })
}

/// A change to a list: `set` replaces it whole (a form), `add` and
/// `remove` change single entries (the CLI's flags). Entries may hold
/// several values (`a.cz, b.cz`).
#[derive(Debug, Clone, Default)]
pub struct ListChange {
    pub set: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl ListChange {
    /// The whole list as a form gives it.
    pub fn set(values: Vec<String>) -> ListChange {
        ListChange { set: Some(values), ..ListChange::default() }
    }

    /// `(to add, to remove)` against the current list, already normalised.
    fn diff(
        &self,
        current: &[String],
        normalise: impl Fn(&[String]) -> Result<Vec<String>, String>,
        normalise_removed: impl Fn(&[String]) -> Result<Vec<String>, String>,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        match &self.set {
            Some(all) => {
                let wanted = normalise(all)?;
                let add = wanted.iter().filter(|w| !current.contains(w)).cloned().collect();
                let remove = current.iter().filter(|c| !wanted.contains(c)).cloned().collect();
                Ok((add, remove))
            }
            None => Ok((normalise(&self.add)?, normalise_removed(&self.remove)?)),
        }
    }
}

/// Changes to a client as typed: `None` leaves a value as it is, a blank
/// value clears it (a name cannot be cleared).
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub ico: Option<String>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub billing: Option<String>,
    pub status: Option<String>,
    pub budget: Option<String>,
    pub legal_form: Option<String>,
    pub domains: ListChange,
    pub emails: ListChange,
    /// Custom fields `(name, value)`; a blank value removes the field.
    pub fields: Vec<(String, String)>,
}

/// Changes a client; what it changes about matching is re-matched.
pub fn edit_client(store: &mut Store, config: &Config, id: ClientId, ch: &ClientChanges) -> Result<Client, EditError> {
    let current = store.client(id)?;
    let current_emails = store.client_emails(id)?;
    let mut c = Checks::default();
    if ch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        c.refuse("name", "cannot save: a client needs a name");
    }
    let ico = c.clearable("ico", ch.ico.as_deref(), directory::ico);
    let dic = c.clearable("dic", ch.dic.as_deref(), directory::dic);
    let status = ch.status.as_deref().and_then(|s| c.take("status", directory::status(s)));
    let budget = c.clearable("budget", ch.budget.as_deref(), directory::budget);
    let domains = c.take(
        "domains",
        ch.domains.diff(
            &current.domains,
            |l| directory::domains(l, config),
            |l| {
                Ok(l.iter()
                    .flat_map(|d| directory::split_list(d))
                    .filter_map(|d| crate::address::normalize_domain(&d))
                    .collect())
            },
        ),
    );
    let emails = c.take("emails", ch.emails.diff(&current_emails, directory::emails, directory::emails));
    let custom = directory::fields_each(&ch.fields, config, &mut c.refused);
    c.done()?;
    let (add_domains, remove_domains) = domains.unwrap_or_default();
    let (add_emails, remove_emails) = emails.unwrap_or_default();
    let opt = |v: &Option<String>| v.as_ref().map(|s| Some(s.trim().to_string()).filter(|s| !s.is_empty()));
    let patch = ClientPatch {
        name: ch.name.as_ref().map(|n| n.trim().to_string()),
        ico,
        dic,
        address: opt(&ch.address),
        billing: opt(&ch.billing),
        status,
        annual_budget: budget,
        add_domains,
        remove_domains,
        add_emails,
        remove_emails,
        custom,
    };
    store.edit_client(id, &patch)?;
    if let Some(form) = &ch.legal_form {
        store.set_legal_form(id, Some(form.trim()).filter(|f| !f.is_empty()))?;
    }
    Ok(store.client(id)?)
}

/// What refreshing a client from ARES found.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub client: Client,
    pub registered: Company,
}

/// Updates a client's registered data (name unless `keep_name`, DIČ,
/// address, legal form) from ARES. An ARES failure changes nothing.
pub fn refresh_client(store: &mut Store, ares: &Ares, id: ClientId, keep_name: bool) -> Result<Refreshed, EditError> {
    let c = store.client(id)?;
    let ico = c.ico.clone().ok_or_else(|| {
        EditError::field(
            "ico",
            format!("cannot refresh {:?} from ARES: it has no IČO (set one with client edit --ico)", c.name),
        )
    })?;
    let r = ares.by_ico(&ico).map_err(|e| EditError::field("ico", format!("{e}; {} stays as it was", c.name)))?;
    let patch = ClientPatch {
        name: (!keep_name).then(|| r.name.clone()),
        dic: r.dic.clone().map(Some),
        address: r.address.clone().map(Some),
        ..ClientPatch::default()
    };
    store.edit_client(id, &patch)?;
    store.set_legal_form(id, r.legal_form.as_deref())?;
    Ok(Refreshed { client: store.client(id)?, registered: r })
}

// ---- what ARES says, for a form ----

/// One field of the client form as ARES would fill it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// What the field holds now: the user's text, or ARES's when it was blank.
    pub value: String,
    /// What ARES says when it differs from the user's text (shown beside it).
    pub registered: Option<String>,
}

/// The client form's registered fields after asking ARES.
#[derive(Debug, Clone)]
pub struct AresFill {
    pub company: Company,
    pub name: Filled,
    pub dic: Filled,
    pub address: Filled,
    pub legal_form: Filled,
}

/// Looks `ico` up and fills the blank ones of the typed values (name,
/// DIČ, address, legal form); a value the user typed stays, and ARES's
/// differing value comes beside it. An IČO that is not 8 digits with a
/// valid check digit is refused before anything is sent.
pub fn ares_fill(
    ares: &Ares,
    ico: &str,
    name: &str,
    dic: &str,
    address: &str,
    legal_form: &str,
) -> Result<AresFill, AresError> {
    let company = ares.by_ico(ico)?;
    let fill = |typed: &str, from: &Option<String>| {
        let typed = typed.trim();
        match from.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Filled { value: typed.to_string(), registered: None },
            Some(r) if typed.is_empty() => Filled { value: r.to_string(), registered: None },
            Some(r) if same_text(typed, r) => Filled { value: typed.to_string(), registered: None },
            Some(r) => Filled { value: typed.to_string(), registered: Some(r.to_string()) },
        }
    };
    Ok(AresFill {
        name: fill(name, &Some(company.name.clone())),
        dic: fill(dic, &company.dic),
        address: fill(address, &company.address),
        legal_form: fill(legal_form, &company.legal_form),
        company,
    })
}

/// The client that already has this IČO, other than `except` (a form
/// warns before the user fills in a duplicate).
pub fn client_with_ico(store: &Store, ico: &str, except: Option<ClientId>) -> Result<Option<Client>, EditError> {
    let Ok(ico) = crate::model::Ico::parse(ico) else { return Ok(None) };
    let found = store.clients()?.into_iter().find(|c| c.ico.as_deref() == Some(ico.as_str()) && Some(c.id) != except);
    Ok(found)
}

/// Equal but for case, accents and spacing.
fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| crate::text::fold(s).split_whitespace().collect::<Vec<_>>().join(" ");
    norm(a) == norm(b)
}

// ---- contacts ----

/// A new contact as typed.
#[derive(Debug, Clone, Default)]
pub struct ContactDraft {
    pub name: String,
    /// Addresses; each entry may hold several.
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

/// Adds a contact person to a client; items from their addresses are re-matched.
pub fn add_contact(store: &mut Store, client: ClientId, d: &ContactDraft) -> Result<ContactId, EditError> {
    store.client(client)?;
    let mut c = Checks::default();
    if d.name.trim().is_empty() {
        c.refuse("name", "cannot add a contact without a name");
    }
    let emails = c.take("emails", directory::emails(&d.emails)).unwrap_or_default();
    c.done()?;
    let input = ContactInput { name: d.name.trim().to_string(), emails, phone: d.phone.clone(), role: d.role.clone() };
    Ok(store.add_contact(client, &input)?)
}

/// Changes to a contact: `None` leaves a value, a blank phone or role clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub emails: ListChange,
    pub phone: Option<String>,
    pub role: Option<String>,
    /// Move the contact to another client.
    pub client: Option<ClientId>,
}

/// Changes a contact and re-matches what it can affect.
pub fn edit_contact(store: &mut Store, id: ContactId, ch: &ContactChanges) -> Result<Contact, EditError> {
    let current = store.contact(id)?;
    if let Some(to) = ch.client {
        store.client(to)?;
    }
    let mut c = Checks::default();
    if ch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        c.refuse("name", "cannot save: a contact needs a name");
    }
    let emails = c.take("emails", ch.emails.diff(&current.emails, directory::emails, directory::emails));
    c.done()?;
    let (add_emails, remove_emails) = emails.unwrap_or_default();
    let patch = ContactPatch {
        name: ch.name.as_ref().map(|n| n.trim().to_string()),
        add_emails,
        remove_emails,
        phone: ch.phone.clone().map(Some),
        role: ch.role.clone().map(Some),
        client: ch.client,
    };
    store.edit_contact(id, &patch)?;
    Ok(store.contact(id)?)
}

// ---- deals ----

/// A new deal as typed.
#[derive(Debug, Clone, Default)]
pub struct DealDraft {
    pub title: String,
    pub value: String,
    /// Blank means CZK.
    pub currency: String,
    /// Blank means open.
    pub status: String,
    /// Blank means today.
    pub date: Option<String>,
    pub products: Vec<String>,
}

fn products(list: &[String]) -> Vec<String> {
    list.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// Adds a deal to a client (with its history item).
pub fn add_deal(store: &mut Store, client: ClientId, d: &DealDraft) -> Result<i64, EditError> {
    store.client(client)?;
    let mut c = Checks::default();
    if d.title.trim().is_empty() {
        c.refuse("title", "cannot save: a deal needs a title");
    }
    let value = c.take("value", crate::csvio::deal_value(&d.value));
    let currency = if d.currency.trim().is_empty() { "CZK" } else { &d.currency };
    let currency = c.take("currency", crate::csvio::deal_currency(currency));
    let status = if d.status.trim().is_empty() { "open" } else { &d.status };
    let status = c.take("status", crate::csvio::deal_status(status));
    let date = blank(&d.date).and_then(|s| c.take("date", crate::csvio::deal_date(s)));
    c.done()?;
    let input = DealInput {
        title: d.title.trim().to_string(),
        value: value.unwrap_or_default(),
        currency: currency.unwrap_or_default(),
        status: status.unwrap_or_default(),
        date,
        products: products(&d.products),
        ..DealInput::default()
    };
    store.add_deal(client, &input)?.ok_or_else(|| EditError::Conflict("the deal is already stored".into()))
}

/// Changes to a deal: `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct DealChanges {
    pub title: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub date: Option<String>,
    /// The whole list of products (may be empty).
    pub products: Option<Vec<String>>,
}

/// Changes a deal (and its history item).
pub fn edit_deal(store: &mut Store, id: i64, ch: &DealChanges) -> Result<Deal, EditError> {
    store.deal(id)?;
    let mut c = Checks::default();
    if ch.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        c.refuse("title", "cannot save: a deal needs a title");
    }
    let value = ch.value.as_deref().and_then(|v| c.take("value", crate::csvio::deal_value(v)));
    let currency = ch.currency.as_deref().and_then(|v| c.take("currency", crate::csvio::deal_currency(v)));
    let status = ch.status.as_deref().and_then(|v| c.take("status", crate::csvio::deal_status(v)));
    let date = ch.date.as_deref().and_then(|v| c.take("date", crate::csvio::deal_date(v)));
    c.done()?;
    let products = ch.products.as_deref().map(products);
    store.edit_deal(
        id,
        ch.title.as_deref().map(str::trim),
        value,
        currency.as_deref(),
        status.as_deref(),
        date,
        products.as_deref(),
    )?;
    Ok(store.deal(id)?)
}

// ---- notes ----

/// A call or meeting note to write.
#[derive(Debug, Clone)]
pub struct NoteDraft {
    pub client: ClientId,
    /// `call` or `meeting`; `None`: the folder's kind.
    pub kind: Option<ItemKind>,
    /// A contact of that client.
    pub contact: Option<ContactId>,
    /// When it happened, as typed (`2026-11-27 14:30`, `27.11.2026`, the
    /// browser's `2026-11-27T14:30`); `None` or blank: now.
    pub date: Option<String>,
    pub text: String,
}

/// Who files a written note into the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    /// A daemon watches the folder: it files the note.
    Watcher,
    /// Nobody watches: the notes folder is synced here, once.
    Now,
    /// The file only; the next `kronika sync` or daemon start files it.
    Later,
}

/// A written note.
#[derive(Debug, Clone)]
pub struct NoteWritten {
    pub path: PathBuf,
    pub folder: NotesConfig,
}

/// The folder notes are written into: the config's first `[[notes]]`.
pub fn notes_folder(config: &Config) -> Result<&NotesConfig, EditError> {
    config.notes.first().ok_or(EditError::NoNotesFolder)
}

/// Writes a note file, as `kronika note add` does: front matter naming the
/// client (and the contact's address), into the first notes folder, written
/// aside and renamed so that a watcher never reads half of it. With
/// [`Filing::Now`] the folder is then synced, so the note is in the
/// client's history when this returns.
pub fn add_note(store: &Store, config: &Config, d: &NoteDraft, filing: Filing) -> Result<NoteWritten, EditError> {
    let folder = notes_folder(config)?.clone();
    let client = store.client(d.client)?;
    let mut c = Checks::default();
    let contact = match d.contact {
        Some(id) => match store.contact(id) {
            Ok(p) if p.client == d.client => Some(p.emails.first().cloned().unwrap_or(p.name)),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                c.refuse("contact", format!("cannot find contact {id} at {}", client.name));
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let when = match blank(&d.date) {
        Some(s) => c.take(
            "date",
            crate::notes::parse_when(s)
                .ok_or_else(|| format!("cannot read the date {s:?}: use YYYY-MM-DD or YYYY-MM-DD HH:MM")),
        ),
        None => Some(Utc::now()),
    };
    let kind = d.kind.unwrap_or(folder.kind);
    if !matches!(kind, ItemKind::Call | ItemKind::Meeting) {
        c.refuse("kind", format!("cannot write a note of kind {kind}: use call or meeting"));
    }
    if d.text.trim().is_empty() {
        c.refuse("text", "cannot write an empty note: give its text");
    }
    c.done()?;
    let local = when.unwrap_or_else(Utc::now).with_timezone(&Local);
    let content = crate::notes::note_text(&client.name, local, kind, contact.as_deref(), &d.text);
    let path = write_new_file(&folder.path, &crate::notes::note_file_base(&client.name, local, kind), &content)?;
    if filing == Filing::Watcher {
        wait_for_watcher(store, &folder, &path);
    }
    if filing == Filing::Now {
        file_notes(config, &folder).map_err(|(source_name, reason)| EditError::File {
            path: path.clone(),
            source_name,
            reason,
        })?;
    }
    Ok(NoteWritten { path, folder })
}

/// How long a written note waits for a running daemon's watcher to file
/// it, so that the client's history shows it when `add_note` returns.
pub const WATCHER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Waits (at most [`WATCHER_WAIT`]) until the daemon has stored the note:
/// the notes source keys a file by its path below the folder, under the
/// source `notes:<canonical folder>`. Past the wait the note comes a
/// moment later; nothing fails.
fn wait_for_watcher(store: &Store, folder: &NotesConfig, path: &Path) {
    let root = std::fs::canonicalize(&folder.path).unwrap_or_else(|_| folder.path.clone());
    let source = format!("notes:{}", root.display());
    let Some(key) = path.strip_prefix(&folder.path).ok().map(|k| k.to_string_lossy().replace('\\', "/")) else {
        return;
    };
    let until = std::time::Instant::now() + WATCHER_WAIT;
    while std::time::Instant::now() < until {
        match store.source_keys(&source) {
            Ok(keys) if keys.contains(&key) => return,
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            Err(e) => {
                tracing::debug!("cannot see whether the daemon filed the note: {e}");
                return;
            }
        }
    }
}

/// Writes `content` to `<base>.md` in `dir` (or `<base>-2.md`, … when
/// taken), aside first and renamed; never over an existing file.
fn write_new_file(dir: &Path, base: &str, content: &str) -> Result<PathBuf, EditError> {
    let err = |path: &Path, e: std::io::Error| EditError::Write { path: path.to_path_buf(), reason: e.to_string() };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let tmp = dir.join(format!(".{base}.md.tmp"));
    std::fs::write(&tmp, content).map_err(|e| err(&tmp, e))?;
    let mut n: u32 = 1;
    loop {
        let path = if n == 1 { dir.join(format!("{base}.md")) } else { dir.join(format!("{base}-{n}.md")) };
        // A hard link fails when the name is taken: no race with another writer.
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&tmp);
                return Err(err(&path, e));
            }
            Err(_) => {
                // A file system without hard links: check, then rename.
                if path.exists() {
                    n += 1;
                    continue;
                }
                return match std::fs::rename(&tmp, &path) {
                    Ok(()) => Ok(path),
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        Err(err(&path, e))
                    }
                };
            }
        }
    }
}

/// Syncs one notes folder into the store and the index, once, with a
/// pipeline of its own (no daemon runs to watch it).
fn file_notes(config: &Config, folder: &NotesConfig) -> Result<(), (String, String)> {
    sync_now(config, Box::new(crate::sources::notes::NotesSource::from_config(folder)))
}

/// Runs one pass of one source here and now (with its own pipeline) and
/// records its status, as `kronika sync` does for every source. The error
/// names the source.
pub fn sync_now(config: &Config, mut source: Box<dyn crate::sources::Source>) -> Result<(), (String, String)> {
    let name = source.name().to_string();
    let failed = |reason: String| (name.clone(), reason);
    let store = Store::open_config(config).map_err(|e| failed(e.to_string()))?;
    let index =
        crate::index::SearchIndex::open_for_indexing(&config.index_path()).map_err(|e| failed(e.to_string()))?;
    let pipeline = crate::pipeline::Pipeline::start(store, Some(index), crate::pipeline::PipelineOptions::default())
        .map_err(|e| failed(e.to_string()))?;
    // Sources read files and servers inside `block_in_place`: a runtime with a worker.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the async runtime: {e}")))?;
    let ctx = crate::sources::SyncContext {
        pipeline: pipeline.handle(),
        progress: indicatif::ProgressBar::hidden(),
        shutdown: crate::shutdown::Shutdown::new(),
    };
    let result = rt.block_on(source.sync(&ctx));
    match &result {
        Ok(c) => ctx.pipeline.status(&name, "ok", None, Some(c)),
        Err(e) => ctx.pipeline.status(&name, e.state(), Some(e.to_string()), None),
    }
    drop(ctx);
    drop(rt);
    let finished = pipeline.finish();
    result.map_err(|e| failed(e.to_string()))?;
    finished.map_err(|e| failed(e.to_string()))
}

// ---- links ----

/// Links an item to a client (and one of its contacts) by hand; re-matching
/// never removes a manual link.
pub fn link(store: &mut Store, item: ItemId, client: ClientId, contact: Option<ContactId>) -> Result<(), EditError> {
    store.item(item)?;
    store.client(client)?;
    if let Some(p) = contact {
        let person = store.contact(p)?;
        if person.client != client {
            return Err(EditError::field(
                "contact",
                format!("cannot link through contact {p}: {} is not a contact of client {client}", person.name),
            ));
        }
    }
    Ok(store.link_manual(item, client, contact)?)
}

/// Removes a manual link; the other links stay (they come from re-matching).
pub fn unlink(store: &mut Store, item: ItemId, client: ClientId) -> Result<(), EditError> {
    store.item(item)?;
    if store.unlink_manual(item, client)? { Ok(()) } else { Err(EditError::NotLinked { item, client }) }
}

// ---- what mail proposes ----

/// What to do with a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Dismiss,
}

/// Accepts or dismisses a contact proposal (a phone, a position, a second
/// address from mail). Returns the contact.
pub fn decide_contact_proposal(store: &mut Store, id: i64, verdict: Verdict) -> Result<Option<Contact>, EditError> {
    match verdict {
        Verdict::Accept => {
            let contact = store.accept_contact_proposal(id)?;
            Ok(Some(store.contact(contact)?))
        }
        Verdict::Dismiss => {
            store.dismiss_contact_proposal(id)?;
            Ok(None)
        }
    }
}

/// Merges `other` into `contact` (the same person at two addresses).
pub fn merge_contacts(store: &mut Store, contact: ContactId, other: ContactId) -> Result<Contact, EditError> {
    store.merge_contacts(contact, other)?;
    Ok(store.contact(contact)?)
}

/// Confirms a deal read from a PDF invoice (for `client` when the text did
/// not tell it; with `value` instead of the stated total), or dismisses it.
pub fn decide_deal_proposal(
    store: &mut Store,
    id: i64,
    verdict: Verdict,
    client: Option<ClientId>,
    value: Option<&str>,
) -> Result<Option<i64>, EditError> {
    match verdict {
        Verdict::Accept => {
            let value = match value {
                Some(v) => Some(crate::csvio::deal_value(v).map_err(|e| EditError::field("value", e))?),
                None => None,
            };
            Ok(Some(store.confirm_deal_proposal(id, client, value)?))
        }
        Verdict::Dismiss => {
            store.dismiss_deal_proposal(id)?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Config, Store) {
        let config = Config::parse(
            Path::new("k.toml"),
            "own_domains = [\"modrykamen.cz\"]\n[[custom_fields]]\nname = \"segment\"\ntype = \"choice\"\nchoices = [\"A\", \"B\"]\n[[custom_fields]]\nname = \"since\"\ntype = \"date\"\n",
        )
        .unwrap();
        let store = Store::open_in_memory(config.policy()).unwrap();
        (config, store)
    }

    #[test]
    fn every_refused_field_is_named() {
        let (config, mut store) = setup();
        let draft = ClientDraft {
            name: " ".into(),
            ico: Some("27468136".into()),
            budget: Some("-1".into()),
            domains: vec!["gmail.com".into()],
            fields: vec![("segment".into(), "Z".into()), ("since".into(), "brzy".into())],
            ..ClientDraft::default()
        };
        let e = add_client(&mut store, &config, &draft, None).unwrap_err();
        let EditError::Invalid(list) = &e else { panic!("{e:?}") };
        let fields: Vec<&str> = list.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "ico", "budget", "domains", "field.segment", "field.since"]);
        assert!(list.iter().all(|f| f.message.starts_with("cannot ")), "{list:?}");
        assert!(e.message_for("field.since").unwrap().contains("not a date"));
        assert!(store.clients().unwrap().is_empty());
    }

    #[test]
    fn a_whole_list_replaces_and_single_entries_change() {
        let (config, mut store) = setup();
        let draft = ClientDraft {
            name: "Acme".into(),
            legal_form: Some("s.r.o.".into()),
            domains: vec!["acme.cz, acme.sk".into()],
            emails: vec!["info@acme.cz".into()],
            fields: vec![("segment".into(), "a".into())],
            ..ClientDraft::default()
        };
        let added = add_client(&mut store, &config, &draft, None).unwrap();
        assert_eq!(store.legal_form(added.id).unwrap().as_deref(), Some("s.r.o."));
        let ch = ClientChanges {
            domains: ListChange::set(vec!["acme.sk\nacme.com".into()]),
            emails: ListChange::set(vec![]),
            fields: vec![("segment".into(), String::new()), ("since".into(), "1.2.2025".into())],
            legal_form: Some(String::new()),
            ..ClientChanges::default()
        };
        let c = edit_client(&mut store, &config, added.id, &ch).unwrap();
        assert_eq!(c.domains, ["acme.com", "acme.sk"]);
        assert!(store.client_emails(added.id).unwrap().is_empty());
        assert!(c.custom.get("segment").is_none());
        assert_eq!(c.custom["since"], "2025-02-01");
        assert_eq!(store.legal_form(added.id).unwrap(), None);
        let ch = ClientChanges {
            domains: ListChange { set: None, add: vec!["acme.de".into()], remove: vec!["ACME.com".into()] },
            ..ClientChanges::default()
        };
        assert_eq!(edit_client(&mut store, &config, added.id, &ch).unwrap().domains, ["acme.de", "acme.sk"]);
        let dup = ClientDraft { name: "ACME".into(), ..ClientDraft::default() };
        assert!(matches!(add_client(&mut store, &config, &dup, None), Err(EditError::Conflict(_))));
        let missing = edit_client(&mut store, &config, ClientId(99), &ClientChanges::default()).unwrap_err();
        assert!(matches!(missing, EditError::NotFound { what: "client", .. }), "{missing:?}");
    }

    #[test]
    fn contacts_deals_and_links_check_what_they_are_given() {
        let (config, mut store) = setup();
        let a = add_client(&mut store, &config, &ClientDraft { name: "A".into(), ..Default::default() }, None).unwrap();
        let b = add_client(&mut store, &config, &ClientDraft { name: "B".into(), ..Default::default() }, None).unwrap();
        let bad = ContactDraft { name: "".into(), emails: vec!["x@".into()], ..Default::default() };
        let e = add_contact(&mut store, a.id, &bad).unwrap_err();
        assert_eq!(e.message_for("name"), Some("cannot add a contact without a name"));
        assert!(e.message_for("emails").unwrap().contains("mail address"));
        let p = add_contact(&mut store, a.id, &ContactDraft { name: "Eva".into(), ..Default::default() }).unwrap();
        let ch = ContactChanges { emails: ListChange::set(vec!["eva@a.cz".into()]), ..Default::default() };
        assert_eq!(edit_contact(&mut store, p, &ch).unwrap().emails, ["eva@a.cz"]);
        let d = DealDraft { title: "Hala".into(), value: "1 000".into(), ..Default::default() };
        let deal = add_deal(&mut store, a.id, &d).unwrap();
        let stored = store.deal(deal).unwrap();
        assert_eq!((stored.currency.as_str(), stored.status.as_str(), stored.value), ("CZK", "open", 1000.0));
        let e = edit_deal(&mut store, deal, &DealChanges { value: Some("x".into()), ..Default::default() });
        assert!(e.unwrap_err().message_for("value").unwrap().contains("not a number"));
        let ch = DealChanges { products: Some(vec![" P ".into(), "".into()]), ..Default::default() };
        assert_eq!(edit_deal(&mut store, deal, &ch).unwrap().products, ["P"]);
        // The deal's history item: linking it elsewhere needs a contact of that client.
        let item = ItemId(store.client_timeline_ids(a.id, None, 5).unwrap()[0].0);
        let e = link(&mut store, item, b.id, Some(p)).unwrap_err();
        assert!(e.message_for("contact").unwrap().contains("is not a contact of client"), "{e}");
        link(&mut store, item, b.id, None).unwrap();
        unlink(&mut store, item, b.id).unwrap();
        assert!(matches!(unlink(&mut store, item, b.id), Err(EditError::NotLinked { .. })));
    }

    #[test]
    fn a_note_needs_a_folder_and_checks_its_inputs() {
        let (config, mut store) = setup();
        let a = add_client(&mut store, &config, &ClientDraft { name: "A".into(), ..Default::default() }, None).unwrap();
        let d = NoteDraft { client: a.id, kind: None, contact: None, date: None, text: "x".into() };
        assert!(matches!(add_note(&store, &config, &d, Filing::Watcher), Err(EditError::NoNotesFolder)));
        let dir = tempfile::tempdir().unwrap();
        let mut config = config;
        config.notes.push(NotesConfig {
            name: "n".into(),
            path: dir.path().to_path_buf(),
            kind: ItemKind::Call,
            patterns: vec!["*.md".into()],
            max_bytes: 1 << 20,
        });
        let bad = NoteDraft { kind: Some(ItemKind::Email), date: Some("soon".into()), text: " ".into(), ..d.clone() };
        let e = add_note(&store, &config, &bad, Filing::Watcher).unwrap_err();
        assert!(e.message_for("kind").is_some() && e.message_for("date").is_some() && e.message_for("text").is_some());
        let d = NoteDraft { date: Some("2026-11-27 10:00".into()), ..d };
        let one = add_note(&store, &config, &d, Filing::Later).unwrap();
        let two = add_note(&store, &config, &d, Filing::Later).unwrap();
        assert!(one.path.ends_with("2026-11-27-a-call.md") && two.path.ends_with("2026-11-27-a-call-2.md"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file left");
    }
}
