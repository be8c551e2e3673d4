//! `kronika client …`, `kronika contact …`, `kronika link` / `unlink`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args as ClapArgs, Subcommand};
use serde_json::{Value, json};

use super::{Context_, print_json};
use crate::app::edit;
use crate::config::Config;
use crate::csvio;
use crate::directory;
use crate::model::{Client, ClientId, ItemId};
use crate::store::{ClientPatch, Store};

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Add a client.
    Add(ClientAddArgs),
    /// Change a client; lists add (--domain, --email) or remove (--remove-domain, --remove-email).
    Edit(ClientEditArgs),
    /// Remove a client, its contacts and domains; its items stay in the history.
    Remove {
        /// Id, IČO, exact name or unique name prefix.
        client: String,
        /// Confirm the removal.
        #[arg(long)]
        yes: bool,
    },
    /// Update a client's registered data (name, DIČ, address, legal form) from ARES.
    Refresh {
        client: String,
        /// Keep the client's name as it is.
        #[arg(long)]
        keep_name: bool,
    },
    /// List all clients.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one client with contacts, custom fields and item counts.
    Show {
        client: String,
        #[arg(long)]
        json: bool,
    },
    /// Import clients from CSV (header row; `,` or `;`; UTF-8 with or without BOM).
    /// Rows that name an existing client (by IČO or name) update it.
    Import { file: PathBuf },
    /// Export clients as CSV to stdout or --output.
    Export {
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Cell separator: `,` or `;`.
        #[arg(long, default_value = ",")]
        separator: char,
    },
}

#[derive(Debug, ClapArgs)]
pub struct ClientAddArgs {
    /// Company name (optional with --ico: ARES gives it).
    #[arg(required_unless_present = "ico")]
    name: Option<String>,
    /// Do not look the IČO up in ARES.
    #[arg(long)]
    no_ares: bool,
    #[arg(long)]
    ico: Option<String>,
    #[arg(long)]
    dic: Option<String>,
    /// Registered address.
    #[arg(long)]
    address: Option<String>,
    /// Billing details (free text).
    #[arg(long)]
    billing: Option<String>,
    /// Domain the client's mail comes from (repeatable); subdomains included.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// An address of the company itself, e.g. info@ (repeatable).
    #[arg(long = "email")]
    emails: Vec<String>,
    /// lead or client (default lead).
    #[arg(long)]
    status: Option<String>,
    /// Annual budget.
    #[arg(long)]
    budget: Option<String>,
    /// Custom field value, key=value (repeatable).
    #[arg(long = "field")]
    fields: Vec<String>,
}

#[derive(Debug, ClapArgs)]
pub struct ClientEditArgs {
    client: String,
    #[arg(long)]
    name: Option<String>,
    /// New IČO; an empty value clears it.
    #[arg(long)]
    ico: Option<String>,
    #[arg(long)]
    dic: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    billing: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    budget: Option<String>,
    #[arg(long = "domain")]
    domains: Vec<String>,
    #[arg(long = "remove-domain")]
    remove_domains: Vec<String>,
    #[arg(long = "email")]
    emails: Vec<String>,
    #[arg(long = "remove-email")]
    remove_emails: Vec<String>,
    /// key=value sets a field; key= removes it.
    #[arg(long = "field")]
    fields: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ContactCmd {
    /// Add a contact person to a client.
    Add {
        client: String,
        name: String,
        #[arg(long = "email")]
        emails: Vec<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        role: Option<String>,
    },
    /// Change a contact (by id, address, or name; --client narrows the search).
    Edit {
        contact: String,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "email")]
        emails: Vec<String>,
        #[arg(long = "remove-email")]
        remove_emails: Vec<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Move the contact to another client.
        #[arg(long = "move-to")]
        move_to: Option<String>,
    },
    /// Remove a contact.
    Remove {
        contact: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// List a client's contacts.
    List {
        client: String,
        #[arg(long)]
        json: bool,
    },
    /// What mail proposes for contacts: phones and positions from
    /// signatures where a typed value is there, second addresses of the
    /// same person. Of one client, or everybody.
    Proposals {
        client: Option<String>,
        /// Also those already applied, accepted or dismissed.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Accept a proposal (its id from `contact proposals`).
    Accept { id: i64 },
    /// Dismiss a proposal: it is not proposed again.
    Dismiss { id: i64 },
    /// The same person as one contact: with no arguments, list the
    /// proposed merges (a known name writing from another address); with
    /// a proposal id, accept it; with two contacts, merge the second into
    /// the first.
    Merge {
        /// A proposal id, or the contact to keep.
        first: Option<String>,
        /// The contact that goes into the first.
        second: Option<String>,
        #[arg(long)]
        client: Option<String>,
    },
}

#[derive(Debug, ClapArgs)]
pub struct LinkArgs {
    /// Item id.
    item: i64,
    /// Client: id, IČO, name or unique prefix.
    client: String,
    /// Contact of that client.
    #[arg(long)]
    contact: Option<String>,
}

fn collect_fields(list: &[String]) -> Result<Vec<(String, String)>> {
    list.iter().map(|f| directory::field_arg(f).map_err(|e| anyhow!(e))).collect()
}

pub fn run_client(ctx: &Context_, cmd: ClientCmd) -> Result<ExitCode> {
    let (config, mut store) = ctx.open()?;
    match cmd {
        ClientCmd::Add(a) => {
            // The register fills what the user did not give; ARES being
            // down never blocks adding a client by hand.
            let ares = crate::ares::Ares::new(&config.ares_url, config.ares_timeout);
            let draft = edit::ClientDraft {
                name: a.name.clone().unwrap_or_default(),
                ico: a.ico,
                dic: a.dic,
                address: a.address,
                billing: a.billing,
                status: a.status,
                budget: a.budget,
                legal_form: None,
                domains: a.domains,
                emails: a.emails,
                fields: collect_fields(&a.fields)?,
            };
            let added = edit::add_client(&mut store, &config, &draft, (!a.no_ares).then_some(&ares))?;
            if let Some(e) = &added.ares_failed {
                eprintln!("kronika: {e}; adding the client by hand");
            }
            if let Some(c) = &added.registered {
                println!("from ARES: {} ({})", c.name, c.address.as_deref().unwrap_or("no address"));
            }
            println!("added client {}: {} ({} items in its history)", added.id, added.name, added.linked);
        }
        ClientCmd::Edit(a) => {
            let id = store.resolve_client(&a.client)?;
            let changes = edit::ClientChanges {
                name: a.name,
                ico: a.ico,
                dic: a.dic,
                address: a.address,
                billing: a.billing,
                status: a.status,
                budget: a.budget,
                legal_form: None,
                domains: edit::ListChange { set: None, add: a.domains, remove: a.remove_domains },
                emails: edit::ListChange { set: None, add: a.emails, remove: a.remove_emails },
                fields: collect_fields(&a.fields)?,
            };
            let c = edit::edit_client(&mut store, &config, id, &changes)?;
            println!("changed client {id}: {}", c.name);
        }
        ClientCmd::Refresh { client, keep_name } => {
            let id = store.resolve_client(&client)?;
            let ares = crate::ares::Ares::new(&config.ares_url, config.ares_timeout);
            let r = edit::refresh_client(&mut store, &ares, id, keep_name)?.registered;
            println!("refreshed {} from ARES{}", r.name, if r.dissolved.is_some() { " (dissolved!)" } else { "" });
        }
        ClientCmd::Remove { client, yes } => {
            let id = store.resolve_client(&client)?;
            let c = store.client(id)?;
            if !yes {
                bail!("cannot remove {:?} without --yes (its items stay, their links to it go)", c.name);
            }
            store.remove_client(id)?;
            println!("removed client {id}: {}", c.name);
        }
        ClientCmd::List { json } => {
            let clients = store.clients()?;
            if json {
                let all = store.deals(None)?;
                let mut out = Vec::new();
                for c in &clients {
                    out.push(client_json(&store, &config, c, &all)?);
                }
                print_json(&out)?;
            } else if clients.is_empty() {
                println!("no clients yet: add one with `kronika client add NAME --domain DOMAIN`");
            } else {
                println!("{:>4}  {:<32} {:<8} {:<6} domains", "id", "name", "IČO", "status");
                for c in clients {
                    println!(
                        "{:>4}  {:<32} {:<8} {:<6} {}",
                        c.id.0,
                        crate::text::ellipsize(&c.name, 32),
                        c.ico.as_deref().unwrap_or("-"),
                        c.status,
                        c.domains.join(", ")
                    );
                }
            }
        }
        ClientCmd::Show { client, json } => {
            let id = store.resolve_client(&client)?;
            let c = store.client(id)?;
            if json {
                print_json(&client_json(&store, &config, &c, &store.deals(None)?)?)?;
            } else {
                print_client(&store, &config, &c)?;
            }
        }
        ClientCmd::Import { file } => return import(&config, &mut store, &file),
        ClientCmd::Export { output, separator } => export(&config, &store, output, separator)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON shape of a client (`client show --json`, `client list --json`).
fn client_json(store: &Store, config: &Config, c: &Client, all_deals: &[crate::store::Deal]) -> Result<Value> {
    let card = crate::app::client_card_among(store, config, c.clone(), all_deals)?;
    let c = &card.client;
    let mut stats = serde_json::Map::new();
    for k in crate::model::ItemKind::ALL {
        stats.insert(k.as_str().to_string(), json!(card.counts.get(k.as_str()).copied().unwrap_or(0)));
    }
    stats.insert("total".into(), json!(card.total));
    if let Value::Object(figures) = serde_json::to_value(&card.figures)? {
        stats.extend(figures);
    }
    Ok(json!({
        "legal_form": card.legal_form,
        "id": c.id.0,
        "name": c.name,
        "ico": c.ico,
        "dic": c.dic,
        "address": c.address,
        "billing": c.billing,
        "status": c.status,
        "annual_budget": c.annual_budget,
        "domains": c.domains,
        "emails": card.emails,
        "contacts": card.contacts.iter().map(|p| json!({
            "id": p.id,
            "name": p.name,
            "emails": p.emails,
            "phone": p.phone,
            "role": p.role,
            "last_contact": p.last_contact,
        })).collect::<Vec<_>>(),
        "custom": c.custom,
        "stats": stats,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }))
}

fn print_client(store: &Store, config: &Config, c: &Client) -> Result<()> {
    let card = crate::app::client_card(store, config, c.id)?;
    let c = &card.client;
    println!("{}  (id {}, {})", c.name, c.id, c.status);
    let row = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            println!("  {label:<14} {v}");
        }
    };
    row("IČO", c.ico.clone());
    row("Legal form", card.legal_form.clone());
    row("DIČ", c.dic.clone());
    row("Address", c.address.clone());
    row("Billing", c.billing.clone());
    row("Domains", Some(c.domains.join(", ")));
    row("Addresses", Some(card.emails.join(", ")));
    row("Annual budget", c.annual_budget.map(crate::text::format_amount));
    // Values of fields no longer declared in the config are kept and shown.
    for f in &card.fields {
        if f.declared {
            row(&f.name, Some(f.value.clone()));
        } else {
            row(&format!("{} (undeclared)", f.name), Some(f.value.clone()));
        }
    }
    println!("Contacts");
    if card.contacts.is_empty() {
        println!("  none");
    }
    for p in &card.contacts {
        let mut line = format!("  {:>4}  {}", p.id, p.titled_name);
        if let Some(r) = &p.role {
            line.push_str(&format!(", {r}"));
        }
        if !p.emails.is_empty() {
            line.push_str(&format!("  <{}>", p.emails.join(">, <")));
        }
        if let Some(ph) = &p.phone {
            line.push_str(&format!("  {ph}"));
        }
        if let Some(item) = p.phone_item.or(p.role_item) {
            line.push_str(&format!("  (from the signature of item {item})"));
        } else if p.origin == "mail" {
            line.push_str("  (found in mail)");
        }
        if let Some(d) = &p.last_contact {
            line.push_str(&format!("  last contact {}", d.get(..10).unwrap_or(d)));
        }
        println!("{line}");
    }
    println!("Figures");
    for line in super::deal::figure_lines(&card.figures) {
        println!("  {line}");
    }
    let parts: Vec<String> = card.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "History\n  {} items{}",
        card.total,
        if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) }
    );
    Ok(())
}

fn import(config: &Config, store: &mut Store, file: &PathBuf) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let field_names: Vec<String> = config.custom_fields.iter().map(|f| f.name.clone()).collect();
    let (rows, mut errors, warnings) = csvio::read_clients(&bytes, &field_names);
    for w in &warnings {
        tracing::warn!("{}: {w}", file.display());
    }
    let (mut added, mut updated) = (0, 0);
    let mut seen: Vec<(String, u64)> = Vec::new();
    for row in rows {
        let line = row.line;
        let result = (|| -> Result<bool, String> {
            let input = directory::client_input(&row.client, config)?;
            let key = crate::text::fold(&input.name);
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(format!("cannot import {:?}: line {first} already names this client", input.name));
            }
            seen.push((key, line));
            let existing = input.ico.as_ref().and_then(|i| store.resolve_client(i.as_str()).ok()).or_else(|| {
                store.resolve_client(&input.name).ok().filter(|id| {
                    store
                        .client(*id)
                        .map(|c| crate::text::fold(&c.name) == crate::text::fold(&input.name))
                        .unwrap_or(false)
                })
            });
            match existing {
                Some(id) => {
                    let patch = ClientPatch {
                        name: Some(input.name.clone()),
                        ico: input.ico.clone().map(Some),
                        dic: input.dic.clone().map(Some),
                        address: input.address.clone().map(Some),
                        billing: input.billing.clone().map(Some),
                        status: input.status,
                        annual_budget: input.annual_budget.map(Some),
                        add_domains: input.domains.clone(),
                        add_emails: input.emails.clone(),
                        custom: input.custom.clone(),
                        ..ClientPatch::default()
                    };
                    store.edit_client(id, &patch).map_err(|e| e.to_string())?;
                    Ok(false)
                }
                None => {
                    store.add_client(&input).map_err(|e| e.to_string())?;
                    Ok(true)
                }
            }
        })();
        match result {
            Ok(true) => added += 1,
            Ok(false) => updated += 1,
            Err(message) => errors.push(csvio::RowError { line, message }),
        }
    }
    errors.sort_by_key(|e| e.line);
    for e in &errors {
        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
    }
    println!("imported {}: {added} added, {updated} updated, {} rows refused", file.display(), errors.len());
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn export(config: &Config, store: &Store, output: Option<PathBuf>, separator: char) -> Result<()> {
    if separator != ',' && separator != ';' {
        bail!("cannot export with separator {separator:?}: use , or ;");
    }
    let sink: Box<dyn std::io::Write> = match &output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?),
        None => Box::new(std::io::stdout()),
    };
    let mut w = csv::WriterBuilder::new().delimiter(separator as u8).from_writer(sink);
    let mut header: Vec<String> = csvio::EXPORT_HEADER.iter().map(|s| s.to_string()).collect();
    header.extend(config.custom_fields.iter().map(|f| f.name.clone()));
    w.write_record(&header)?;
    for c in store.clients()? {
        let mut rec = vec![
            c.name.clone(),
            c.ico.clone().unwrap_or_default(),
            c.dic.clone().unwrap_or_default(),
            c.address.clone().unwrap_or_default(),
            c.billing.clone().unwrap_or_default(),
            c.status.to_string(),
            c.annual_budget.map(|b| b.to_string()).unwrap_or_default(),
            c.domains.join(", "),
            store.client_emails(c.id)?.join(", "),
        ];
        for f in &config.custom_fields {
            rec.push(match c.custom.get(&f.name) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            });
        }
        w.write_record(&rec)?;
    }
    w.flush()?;
    if let Some(p) = output {
        eprintln!("exported clients to {}", p.display());
    }
    Ok(())
}

pub fn run_contact(ctx: &Context_, cmd: ContactCmd) -> Result<ExitCode> {
    let (_, mut store) = ctx.open()?;
    match cmd {
        ContactCmd::Add { client, name, emails, phone, role } => {
            let cid = store.resolve_client(&client)?;
            let draft = edit::ContactDraft { name, emails, phone, role };
            let id = edit::add_contact(&mut store, cid, &draft)?;
            println!("added contact {id}: {} at {}", draft.name.trim(), store.client(cid)?.name);
        }
        ContactCmd::Edit { contact, client, name, emails, remove_emails, phone, role, move_to } => {
            let scope = client.map(|c| store.resolve_client(&c)).transpose()?;
            let id = store.resolve_contact(scope, &contact)?;
            let changes = edit::ContactChanges {
                name,
                emails: edit::ListChange { set: None, add: emails, remove: remove_emails },
                phone,
                role,
                client: move_to.map(|c| store.resolve_client(&c)).transpose()?,
            };
            let c = edit::edit_contact(&mut store, id, &changes)?;
            println!("changed contact {id}: {}", c.name);
        }
        ContactCmd::Remove { contact, client } => {
            let scope = client.map(|c| store.resolve_client(&c)).transpose()?;
            let id = store.resolve_contact(scope, &contact)?;
            let c = store.contact(id)?;
            store.remove_contact(id)?;
            println!("removed contact {id}: {}", c.name);
        }
        ContactCmd::List { client, json } => {
            let cid = store.resolve_client(&client)?;
            let contacts = store.contacts(cid)?;
            let last_seen = store.contact_last_contact(cid, chrono::Utc::now())?;
            if json {
                let out: Vec<Value> = contacts
                    .iter()
                    .map(|p| json!({"id": p.id.0, "client_id": p.client.0, "name": p.name, "emails": p.emails, "phone": p.phone, "role": p.role, "last_contact": last_seen.get(&p.id.0)}))
                    .collect();
                print_json(&out)?;
            } else {
                for p in contacts {
                    println!(
                        "{:>4}  {:<28} {:<16} {:<18} {}",
                        p.id.0,
                        crate::text::ellipsize(&p.titled_name(), 28),
                        p.role.as_deref().unwrap_or("-"),
                        p.phone.as_deref().unwrap_or("-"),
                        p.emails.join(", ")
                    );
                }
            }
        }
        ContactCmd::Proposals { client, all, json } => {
            let cid = client.map(|c| store.resolve_client(&c)).transpose()?;
            let list = store.contact_proposals(cid, all)?;
            if json {
                print_json(&list)?;
            } else {
                print_proposals(&list);
            }
        }
        ContactCmd::Accept { id } => {
            if let Some(c) = edit::decide_contact_proposal(&mut store, id, edit::Verdict::Accept)? {
                println!("accepted proposal {id}: {} now {}", c.titled_name(), contact_summary(&c));
            }
        }
        ContactCmd::Dismiss { id } => {
            edit::decide_contact_proposal(&mut store, id, edit::Verdict::Dismiss)?;
            println!("dismissed proposal {id}");
        }
        ContactCmd::Merge { first: None, .. } => {
            let list: Vec<_> =
                store.contact_proposals(None, false)?.into_iter().filter(|p| p.field == "address").collect();
            print_proposals(&list);
            if !list.is_empty() {
                println!("merge one with `kronika contact merge ID`, or dismiss it with `kronika contact dismiss ID`");
            }
        }
        ContactCmd::Merge { first: Some(id), second: None, .. } => {
            let id: i64 = id.parse().map_err(|_| {
                anyhow!("cannot read proposal id {id:?}: give the number from `kronika contact merge`, or two contacts")
            })?;
            if let Some(c) = edit::decide_contact_proposal(&mut store, id, edit::Verdict::Accept)? {
                println!("merged: {} now has {}", c.titled_name(), c.emails.join(", "));
            }
        }
        ContactCmd::Merge { first: Some(keep), second: Some(other), client } => {
            let scope = client.map(|c| store.resolve_client(&c)).transpose()?;
            let keep = store.resolve_contact(scope, &keep)?;
            let other = store.resolve_contact(scope, &other)?;
            let c = edit::merge_contacts(&mut store, keep, other)?;
            println!("merged contact {} into {}: {}", other.0, keep.0, contact_summary(&c));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn contact_summary(c: &crate::model::Contact) -> String {
    let mut parts = vec![c.emails.join(", ")];
    parts.extend(c.phone.clone());
    parts.extend(c.role.clone());
    parts.retain(|p| !p.is_empty());
    parts.join("; ")
}

fn print_proposals(list: &[crate::store::ContactProposal]) {
    if list.is_empty() {
        println!("nothing proposed");
    }
    for p in list {
        let what = match p.field.as_str() {
            "phone" => "phone",
            "role" => "position",
            _ => "same person at",
        };
        let now = p.current.as_deref().map(|c| format!(" (now {c})")).unwrap_or_default();
        let from = match (&p.item_id, &p.date) {
            (Some(i), Some(d)) => format!("  from item {i} of {}", d.get(..10).unwrap_or(d)),
            _ => String::new(),
        };
        println!("{:>4}  {:<9} {} [{}]: {what} {}{now}{from}", p.id, p.status, p.contact, p.client, p.value);
    }
}

pub fn link(ctx: &Context_, a: LinkArgs, add: bool) -> Result<ExitCode> {
    let (_, mut store) = ctx.open()?;
    let client: ClientId = store.resolve_client(&a.client)?;
    let item = ItemId(a.item);
    if add {
        let contact = a.contact.map(|c| store.resolve_contact(Some(client), &c)).transpose()?;
        edit::link(&mut store, item, client, contact)?;
        println!("linked item {item} to client {client}");
    } else {
        edit::unlink(&mut store, item, client)?;
        println!("unlinked item {item} from client {client}");
    }
    Ok(ExitCode::SUCCESS)
}
