//! What the store adds by itself while it stores (or re-matches) mail:
//! contacts of clients found in mail, what their signatures say, a second
//! address of a known person (a proposal, never a silent merge), and deals
//! from invoices. Everything here runs inside the transaction that stores
//! the item, on data parsed before it (`mail::parse` reads the signature,
//! `pipeline::prepare_documents` the invoice), so an item and what came
//! with it land together or not at all.

use std::collections::HashMap;

use super::Result;
use super::clients::name_key;
use super::db::{Db, Dialect, ToParam};
use crate::args;
use crate::matcher::Directory;
use crate::model::{AutoContacts, ClientId, ContactId, Direction, Link, LinkReason, Participant, Role};

/// Contacts this transaction created, by address: a later item of the same
/// batch (matched with the directory as it was when the batch began) is
/// linked to them too. With them, the changes made to the directory's
/// tables, which the store makes to its cached directory after the commit
/// instead of building it again ([`follow`]).
#[derive(Debug, Default)]
pub(super) struct Created {
    by_address: HashMap<String, (ContactId, ClientId)>,
    edits: Vec<DirEdit>,
    /// How far these changes moved `directory_version` (its triggers bump
    /// it once per row): if it moved further, someone else changed it too.
    bumps: i64,
    /// Contacts' phone and position as this transaction read and wrote
    /// them (a signature's mail asked for them each: 11,000 statements
    /// in 20,000 mails). Only signatures change them while mail is stored.
    fields: HashMap<i64, Fields>,
}

/// A contact's phone, its source, position and its source.
type Fields = (Option<String>, Option<String>, Option<String>, Option<String>);

/// One change to the directory's tables made while storing mail.
#[derive(Debug, Clone)]
enum DirEdit {
    /// A new contact, by its name.
    Contact { id: ContactId, client: ClientId, name: String },
    /// A contact's new address.
    Address { address: String, contact: ContactId, client: ClientId },
    /// An address that is no longer the client's own: it is a contact's now.
    Unlisted { address: String, client: ClientId },
}

/// Makes the changes of `created` to `dir`, built at `version`, which the
/// committed transaction moved to `after`. False (and `dir` must be built
/// again) when the version moved by more than these changes.
pub(super) fn follow(dir: &mut (i64, Directory), created: &mut Created, after: i64) -> bool {
    let edits = std::mem::take(&mut created.edits);
    let bumps = std::mem::take(&mut created.bumps);
    if dir.0.checked_add(bumps) != Some(after) {
        return false;
    }
    for e in edits {
        match e {
            DirEdit::Contact { id, client, name } => dir.1.add_contact_name(id, client, &name),
            DirEdit::Address { address, contact, client } => dir.1.add_contact_address(&address, Some(contact), client),
            DirEdit::Unlisted { address, client } => dir.1.remove_contact_address(&address, None, client),
        }
    }
    dir.0 = after;
    true
}

/// The policy and what this transaction created so far.
#[derive(Debug, Default)]
pub(super) struct State {
    pub policy: AutoContacts,
    pub created: Created,
    /// Deals made from invoices: their history items follow the transaction.
    pub deals: Vec<i64>,
}

impl State {
    /// A new write transaction begins: what the last one read of contacts
    /// may have changed since (someone typed a phone in).
    pub fn begin(&mut self) {
        self.created.fields.clear();
    }
}

/// Reads at once the phone and position of every known contact who sent
/// one of `items` with a signature, as [`signature`] would one by one (a
/// statement per contact and transaction: 5,800 in 20,000 mails). A
/// contact created later in the transaction has none yet; one missed here
/// is read when its signature is.
pub(super) fn read_signers<'a>(
    tx: &Db,
    dir: &Directory,
    items: impl Iterator<Item = &'a super::NewItem>,
    created: &mut Created,
) -> Result<()> {
    let mut ids: Vec<i64> = items
        .filter(|i| i.extra.get("signature").is_some())
        .filter_map(|i| i.participants.iter().find(|p| p.role == Role::From && !p.address.is_empty()))
        .flat_map(|p| dir.contacts_at(&p.address))
        .map(|c| c.0)
        .filter(|id| !created.fields.contains_key(id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = super::query_among(
        tx,
        "SELECT id, phone, phone_source, role, role_source FROM contacts WHERE id IN {}",
        &[],
        &ids,
        |r| Ok((r.get::<i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))),
    )?;
    created.fields.extend(rows);
    Ok(())
}

/// Everything an item brings for the directory: new contacts from its
/// participants (by the policy), its sender's signature, a possible second
/// address of a known person. `links` are the matcher's links; a domain
/// link that now has a contact becomes an address link to that contact.
#[allow(clippy::too_many_arguments)]
pub(super) fn from_mail(
    tx: &Db,
    dir: &Directory,
    policy: AutoContacts,
    item: i64,
    direction: Direction,
    participants: &[Participant],
    extra: &serde_json::Value,
    links: &mut Vec<Link>,
    created: &mut Created,
    ts: &str,
) -> Result<()> {
    // Mailing-list mail (a List-Id header) is not a conversation with a
    // person: its senders and recipients make no contacts.
    let list = extra.get("list_id").is_some();
    if direction != Direction::Internal && !list {
        let wanted = |p: &Participant| match (policy, direction, p.role) {
            (AutoContacts::None, _, _) => false,
            (AutoContacts::SentAndReceived, Direction::In, Role::From) => true,
            (_, Direction::Out, Role::To | Role::Cc | Role::Bcc) => true,
            _ => false,
        };
        for p in participants.iter().filter(|p| !p.address.is_empty()) {
            if let Some(&(contact, client)) = created.by_address.get(&p.address) {
                upgrade(links, &p.address, client, contact);
                continue;
            }
            if !wanted(p) || crate::person::is_role_address(&p.address) || dir.is_own(&p.address) {
                continue;
            }
            // An address whose domain alone links exactly one client, or a
            // person's address listed among the client's own addresses (a
            // CSV's "e-mails" column). A contact's address already has its
            // contact, and an ambiguous domain (two clients own it) cannot
            // tell whose person it is. A free-mail address is never made a
            // contact by itself: it may only be proposed as a known
            // person's second address (below). The matcher keeps one link
            // per client, so each address is asked about on its own.
            let alone = match dir.decide(std::slice::from_ref(p)) {
                crate::matcher::Decision::Links(l) => l,
                _ => continue,
            };
            let [link] = alone.as_slice() else { continue };
            if link.contact.is_some()
                || link.ambiguous
                || !matches!(link.reason, LinkReason::Domain | LinkReason::Address)
            {
                continue;
            }
            let (client, listed) = (link.client, link.reason == LinkReason::Address);
            if listed && dir.is_free_mail(&p.address) {
                continue;
            }
            let Some(person) = person_of(p) else { continue };
            let refused = tx
                .value::<bool>(
                    "SELECT EXISTS (SELECT 1 FROM auto_contacts_refused WHERE email = ?1)",
                    args![p.address],
                )?
                .unwrap_or(false);
            if refused {
                continue;
            }
            let contact = add_or_join(tx, client, &person, &p.address, item, created)?;
            if listed {
                // The address is the person's now; it still links the client
                // (through the contact), and only once.
                let n = tx.execute(
                    "DELETE FROM client_emails WHERE client_id = ?1 AND email = ?2",
                    args![client.0, p.address],
                )?;
                created.bumps += bumps(tx, n);
                if n > 0 {
                    created.edits.push(DirEdit::Unlisted { address: p.address.clone(), client });
                }
            }
            created.by_address.insert(p.address.clone(), (contact, client));
            upgrade(links, &p.address, client, contact);
        }
    }
    if direction == Direction::In
        && let Some(from) = participants.iter().find(|p| p.role == Role::From && !p.address.is_empty())
    {
        let contact = links
            .iter()
            .find(|l| l.reason == LinkReason::Address && l.evidence == from.address)
            .and_then(|l| l.contact);
        match contact {
            Some(contact) => signature(tx, created, contact, item, extra, ts)?,
            None if dir.is_free_mail(&from.address) => second_address(tx, from, item, ts)?,
            None => {}
        }
    }
    Ok(())
}

/// The person behind a participant: the display name read as a person's
/// name, else `first.last@` from the address; `None` when neither is one.
fn person_of(p: &Participant) -> Option<crate::person::PersonName> {
    if let Some(n) = p.name.as_deref().and_then(crate::person::parse_display_name) {
        return Some(n);
    }
    let local = p.address.split('@').next()?;
    let parts: Vec<&str> = local.split(['.', '_', '-']).collect();
    if parts.len() != 2 || parts.iter().any(|w| w.chars().count() < 2 || !w.chars().all(char::is_alphabetic)) {
        return None;
    }
    let name = parts.iter().map(|w| capitalised(w)).collect::<Vec<_>>().join(" ");
    crate::person::parse_display_name(&name)
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

/// The item links `client` through `contact` (found by `address`): the
/// link that address made names the contact now, or a link is added; a
/// client linked through a contact needs no link of its own (as the
/// matcher decides).
fn upgrade(links: &mut Vec<Link>, address: &str, client: ClientId, contact: ContactId) {
    if links.iter().any(|l| l.client == client && l.contact == Some(contact)) {
        return;
    }
    match links.iter_mut().find(|l| l.client == client && l.evidence == address && l.contact.is_none()) {
        Some(l) => {
            l.contact = Some(contact);
            l.reason = LinkReason::Address;
        }
        None => links.push(Link {
            client,
            contact: Some(contact),
            reason: LinkReason::Address,
            ambiguous: false,
            evidence: address.to_string(),
        }),
    }
    links.retain(|l| !(l.client == client && l.contact.is_none() && l.reason != LinkReason::Manual));
}

/// A contact of `client` for this person: one of the client's contacts with
/// the same name gains the address (a person with two firm addresses, or a
/// contact typed in without one); otherwise a new contact from mail.
fn add_or_join(
    tx: &Db,
    client: ClientId,
    person: &crate::person::PersonName,
    address: &str,
    item: i64,
    created: &mut Created,
) -> Result<ContactId> {
    let key = name_key(&person.name);
    let same: Option<i64> = tx.value(
        "SELECT id FROM contacts WHERE client_id = ?1 AND name_key = ?2 ORDER BY id LIMIT 1",
        args![client.0, key],
    )?;
    let id = match same {
        Some(id) => id,
        None => {
            let id = super::items::insert_id(
                tx,
                "INSERT INTO contacts (client_id, name, title_before, title_after, origin, name_key)
                 VALUES (?1, ?2, ?3, ?4, 'mail', ?5)",
                args![client.0, person.name, person.title_before, person.title_after, key],
            )?
            .ok_or_else(|| super::StoreError::Invalid("cannot add a contact: its insert returned no id".into()))?;
            tracing::debug!(client = client.0, item, "a contact found in mail");
            created.bumps += bumps(tx, 1);
            created.edits.push(DirEdit::Contact { id: ContactId(id), client, name: person.name.clone() });
            // No phone nor position yet: its signature need not ask.
            created.fields.insert(id, Fields::default());
            id
        }
    };
    let n = tx.execute(
        "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![id, address],
    )?;
    created.bumps += bumps(tx, n);
    if n > 0 {
        created.edits.push(DirEdit::Address { address: address.to_string(), contact: ContactId(id), client });
    }
    Ok(ContactId(id))
}

/// The phones and position a signature gives: an empty field, or one that
/// mail filled before, takes the value (recorded as `applied`, with the
/// item); a value typed in is never overwritten: the mail's value waits as
/// a proposal.
fn signature(
    tx: &Db,
    created: &mut Created,
    contact: ContactId,
    item: i64,
    extra: &serde_json::Value,
    ts: &str,
) -> Result<()> {
    let Some(sig) = extra.get("signature") else { return Ok(()) };
    let phones: Vec<String> = sig
        .get("phones")
        .and_then(|p| p.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).map(display_phone).collect())
        .unwrap_or_default();
    let position = sig.get("position").and_then(|p| p.as_str()).map(str::to_string);
    let known = match created.fields.get(&contact.0) {
        Some(f) => Some(f.clone()),
        None => tx.query_row(
            "SELECT phone, phone_source, role, role_source FROM contacts WHERE id = ?1",
            args![contact.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?,
    };
    let Some((mut phone, mut phone_source, mut role, mut role_source)) = known else {
        return Ok(());
    };
    let source = format!("item:{item}");
    if !phones.is_empty() {
        let value = phones.join(", ");
        if field(tx, contact, "phone", &value, phone.as_deref(), phone_source.as_deref(), item, &source, ts)? {
            (phone, phone_source) = (Some(value), Some(source.clone()));
        }
    }
    if let Some(p) = position
        && field(tx, contact, "role", &p, role.as_deref(), role_source.as_deref(), item, &source, ts)?
    {
        (role, role_source) = (Some(p), Some(source.clone()));
    }
    created.fields.insert(contact.0, (phone, phone_source, role, role_source));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn field(
    tx: &Db,
    contact: ContactId,
    name: &str,
    value: &str,
    current: Option<&str>,
    current_source: Option<&str>,
    item: i64,
    source: &str,
    ts: &str,
) -> Result<bool> {
    if current == Some(value) {
        return Ok(false);
    }
    // Typed in (or cleared by hand), or a value from before sources were
    // recorded: the user's.
    let typed = current_source == Some("manual") || (current.is_some() && current_source.is_none());
    let status = if typed { "pending" } else { "applied" };
    if !typed {
        // `name` is one of two column names chosen here, never input.
        let sql = match name {
            "phone" => "UPDATE contacts SET phone = ?2, phone_source = ?3 WHERE id = ?1",
            _ => "UPDATE contacts SET role = ?2, role_source = ?3 WHERE id = ?1",
        };
        tx.execute(sql, args![contact.0, value, source])?;
    }
    propose(tx, args![contact.0, name, value, item, status, ts])?;
    Ok(!typed)
}

/// Keeps a proposal (contact, field, value, item, status, created_at) with
/// the item's rows ([`Db::insert_later`]): mail with signatures would send
/// the batch's kept rows at each one otherwise. The first of one contact,
/// field and value stays.
fn propose(tx: &Db, row: &[&dyn ToParam]) -> Result<()> {
    tx.insert_later(
        "contact_proposals",
        "INSERT INTO contact_proposals (contact_id, field, value, item_id, status, created_at)",
        "ON CONFLICT (contact_id, field, value) DO NOTHING",
        6,
        row,
    )?;
    Ok(())
}

/// A message from a free-mail address whose sender's name is a known
/// contact's: proposed as that contact's second address
/// (`kronika contact merge`), never merged silently.
fn second_address(tx: &Db, from: &Participant, item: i64, ts: &str) -> Result<()> {
    let Some(person) = from.name.as_deref().and_then(crate::person::parse_display_name) else { return Ok(()) };
    let key = name_key(&person.name);
    if key.split(' ').count() < 2 {
        return Ok(());
    }
    let same: Vec<(i64, String)> =
        tx.query("SELECT id, name FROM contacts WHERE name_key = ?1 ORDER BY id LIMIT 5", args![key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    for (id, name) in same {
        if !crate::person::same_person(&name, &person.name) {
            continue;
        }
        propose(tx, args![id, "address", from.address, item, "pending", ts])?;
    }
    Ok(())
}

/// How far a statement on a directory table moved `directory_version`:
/// SQLite's triggers fire once per row changed, PostgreSQL's once per
/// statement (also when it changed none).
fn bumps(db: &Db, rows: u64) -> i64 {
    match db.dialect() {
        Dialect::Sqlite => i64::try_from(rows).unwrap_or(i64::MAX),
        Dialect::Postgres => 1,
    }
}

/// `+420312000456` → `+420 312 000 456` (international format).
pub fn display_phone(e164: &str) -> String {
    match phonenumber::parse(None, e164) {
        Ok(n) => n.format().mode(phonenumber::Mode::International).to_string(),
        Err(_) => e164.to_string(),
    }
}

/// An invoice as the store needs it, read before the transaction
/// (`pipeline::prepare_documents` fills it from `invoice::Invoice` or
/// from a PDF's text) and kept in the document item's `extra.invoice`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InvoiceFacts {
    pub number: String,
    /// `invoice`, `credit_note`, `debit_note`, `advance`.
    pub kind: String,
    /// A credit note: its amount lowers the total.
    pub credit: bool,
    /// The taxable date (DUZP), else the issue date.
    pub date: chrono::NaiveDate,
    pub due: Option<chrono::NaiveDate>,
    pub currency: String,
    /// Without VAT, positive; `credit` gives the sign.
    pub without_vat: f64,
    pub with_vat: Option<f64>,
    pub supplier_ico: Option<String>,
    pub supplier: Option<String>,
    pub customer_ico: Option<String>,
    pub customer: Option<String>,
    /// The line items: the deal's products, with their amounts without VAT.
    pub lines: Vec<InvoiceLine>,
    /// Every IČO the text names (PDF text, where the parties are not told apart).
    #[serde(default)]
    pub icos: Vec<String>,
    /// Read from text: a proposal the user confirms, not a deal.
    pub proposed: bool,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InvoiceLine {
    pub description: String,
    pub without_vat: Option<f64>,
}

/// The client of an invoice and whether we sold or bought: the
/// counterparty's IČO first (the customer a client: we sold; the supplier
/// a client: we bought), then the one client the mail is linked to, with
/// the mail's direction (we sent it: we sold).
fn invoice_client(
    tx: &Db,
    facts: &InvoiceFacts,
    links: &[Link],
    direction: Direction,
) -> Result<Option<(ClientId, &'static str)>> {
    let by_ico = |ico: &str| -> Result<Option<ClientId>> {
        Ok(tx.value::<i64>("SELECT id FROM clients WHERE ico = ?1", args![ico])?.map(ClientId))
    };
    if let Some(c) = facts.customer_ico.as_deref().map(by_ico).transpose()?.flatten() {
        return Ok(Some((c, "sale")));
    }
    if let Some(c) = facts.supplier_ico.as_deref().map(by_ico).transpose()?.flatten() {
        return Ok(Some((c, "purchase")));
    }
    let side = if direction == Direction::In { "purchase" } else { "sale" };
    for ico in &facts.icos {
        if let Some(c) = by_ico(ico)? {
            return Ok(Some((c, side)));
        }
    }
    let mut clients: Vec<ClientId> = links.iter().filter(|l| !l.ambiguous).map(|l| l.client).collect();
    clients.dedup();
    Ok(match clients.as_slice() {
        [one] => Some((*one, side)),
        _ => None,
    })
}

/// A document item that is an invoice becomes a deal of its client (won;
/// a credit note negative; the line items its products), or, read from
/// PDF text, a proposal waiting for the user. The same invoice seen again
/// (another mailbox, the ISDOC and its package) is one deal: keyed by the
/// supplier, the number and the kind. Returns the new deal's id.
pub(super) fn invoice(
    tx: &Db,
    document: i64,
    extra: &serde_json::Value,
    links: &[Link],
    direction: Direction,
    ts: &str,
) -> Result<Option<i64>> {
    let Some(facts) = extra.get("invoice").and_then(|v| serde_json::from_value::<InvoiceFacts>(v.clone()).ok()) else {
        return Ok(None);
    };
    let Some((client, side)) = invoice_client(tx, &facts, links, direction)? else {
        tracing::debug!(document, number = facts.number, "an invoice whose client is not known");
        return Ok(None);
    };
    let value = if facts.credit { -facts.without_vat.abs() } else { facts.without_vat.abs() };
    if facts.proposed {
        let known = tx
            .value::<bool>(
                "SELECT EXISTS (SELECT 1 FROM deals WHERE client_id = ?1 AND number = ?2)",
                args![client.0, facts.number],
            )?
            .unwrap_or(false);
        if !known {
            tx.execute(
                "INSERT INTO deal_proposals (client_id, item_id, side, number, value, currency, date, credit, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
                args![client.0, document, side, facts.number, value, facts.currency, facts.date.to_string(), facts.credit, ts],
            )?;
        }
        return Ok(None);
    }
    let title = match (facts.credit, side) {
        (true, _) => format!("Dobropis {}", facts.number),
        (false, "purchase") => format!("Přijatá faktura {}", facts.number),
        (false, _) => format!("Faktura {}", facts.number),
    };
    let key = format!("invoice:{}:{}:{}", facts.supplier_ico.as_deref().unwrap_or("-"), facts.number, facts.kind);
    let sign = if facts.credit { -1.0 } else { 1.0 };
    let details = serde_json::json!({
        "lines": facts.lines.iter().map(|l| serde_json::json!({
            "description": l.description,
            "without_vat": l.without_vat.map(|v| sign * v.abs()),
        })).collect::<Vec<_>>(),
        "with_vat": facts.with_vat,
        "due": facts.due,
        "supplier": facts.supplier,
        "customer": facts.customer,
        "kind": facts.kind,
    });
    let products = serde_json::to_string(&facts.lines.iter().map(|l| &l.description).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    // The same invoice again (same import key) adds nothing and returns no id.
    let deal = super::items::insert_id(
        tx,
        "INSERT INTO deals (client_id, title, value, currency, status, date, products, number, import_key,
                            created_at, updated_at, side, origin, item_id, details)
         VALUES (?1, ?2, ?3, ?4, 'won', ?5, ?6, ?7, ?8, ?9, ?9, ?10, 'isdoc', ?11, ?12)
         ON CONFLICT DO NOTHING",
        args![
            client.0,
            title,
            value,
            facts.currency,
            facts.date.to_string(),
            products,
            facts.number,
            key,
            ts,
            side,
            document,
            details.to_string()
        ],
    )?;
    let Some(deal) = deal else { return Ok(None) };
    // A proposal read from the PDF of the same invoice is settled by it.
    tx.execute(
        "UPDATE deal_proposals SET status = 'confirmed', deal_id = ?3 WHERE client_id = ?1 AND number = ?2 AND status = 'pending'",
        args![client.0, facts.number, deal],
    )?;
    Ok(Some(deal))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use crate::matcher::Policy;
    use crate::model::{AutoContacts, ItemKind, Participant, Role};
    use crate::store::{ClientInput, NewItem, SourceKey, Store};

    fn p(role: Role, name: &str, address: &str) -> Participant {
        Participant { role, name: (!name.is_empty()).then(|| name.to_string()), address: address.into() }
    }

    fn mail(n: usize, participants: Vec<Participant>, extra: serde_json::Value) -> NewItem {
        NewItem {
            kind: ItemKind::Email,
            message_id: Some(format!("{n}@test")),
            subject: format!("mail {n}"),
            body: "Dobrý den".into(),
            participants,
            content_hash: format!("{n:064}"),
            extra,
            ..NewItem::default()
        }
    }

    /// Who becomes a contact of Acme (acme.cz; beta.cz is shared by two
    /// clients), by policy, direction and address.
    #[test]
    fn who_becomes_a_contact() {
        let us = || p(Role::From, "Jana Svobodová", "jana@modrykamen.cz");
        let to_us = || p(Role::To, "Jana Svobodová", "jana@modrykamen.cz");
        let none = serde_json::json!({});
        type Case = (&'static str, AutoContacts, Vec<Participant>, serde_json::Value, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (
                "a sender at the domain",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Ing. Karel Horák", "karel@acme.cz"), to_us()],
                none.clone(),
                vec!["Karel Horák"],
            ),
            (
                "a Cc of mail we received",
                AutoContacts::SentAndReceived,
                vec![
                    p(Role::From, "Karel Horák", "karel@acme.cz"),
                    to_us(),
                    p(Role::Cc, "Lucie Malá", "lucie@acme.cz"),
                ],
                none.clone(),
                vec!["Karel Horák"],
            ),
            (
                "recipients of our mail",
                AutoContacts::Sent,
                vec![us(), p(Role::To, "Lucie Malá", "lucie@acme.cz"), p(Role::Cc, "Horák Karel", "karel@acme.cz")],
                none.clone(),
                vec!["Karel Horák", "Lucie Malá"],
            ),
            (
                "sent policy: a sender is not",
                AutoContacts::Sent,
                vec![p(Role::From, "Karel Horák", "karel@acme.cz"), to_us()],
                none.clone(),
                vec![],
            ),
            (
                "none policy",
                AutoContacts::None,
                vec![us(), p(Role::To, "Lucie Malá", "lucie@acme.cz")],
                none.clone(),
                vec![],
            ),
            (
                "a role address",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Karel Horák", "obchod@acme.cz"), to_us()],
                none.clone(),
                vec![],
            ),
            (
                "a firm's display name",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Acme Stavby s.r.o.", "zakazky@acme.cz"), to_us()],
                none.clone(),
                vec![],
            ),
            (
                "a first.last address without a name",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "", "petra.kralova@acme.cz"), to_us()],
                none.clone(),
                vec!["Petra Kralova"],
            ),
            (
                "free mail",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Karel Horák", "karel@seznam.cz"), to_us()],
                none.clone(),
                vec![],
            ),
            (
                "a domain two clients own",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Eva Nová", "eva@beta.cz"), to_us()],
                none.clone(),
                vec![],
            ),
            (
                "mailing-list mail",
                AutoContacts::SentAndReceived,
                vec![p(Role::From, "Karel Horák", "karel@acme.cz"), to_us()],
                serde_json::json!({"list_id": "acme.news"}),
                vec![],
            ),
        ];
        for (name, policy, participants, extra, want) in cases {
            let mut s = Store::open_in_memory(Policy {
                own_domains: vec!["modrykamen.cz".into()],
                free_mail_domains: vec!["seznam.cz".into()],
                auto_contacts: policy,
                ..Policy::default()
            })
            .unwrap();
            let acme = s
                .add_client(&ClientInput {
                    name: "Acme".into(),
                    domains: vec!["acme.cz".into(), "beta.cz".into()],
                    ..Default::default()
                })
                .unwrap();
            s.add_client(&ClientInput { name: "Beta".into(), domains: vec!["beta.cz".into()], ..Default::default() })
                .unwrap();
            let item = mail(1, participants, extra);
            s.ingest(&item, &SourceKey { source: "t".into(), key: "1".into() }).unwrap();
            let mut got: Vec<String> = s.contacts(acme).unwrap().into_iter().map(|c| c.name).collect();
            got.sort();
            assert_eq!(got, want, "case: {name}");
            // The same mail again (another key, same Message-ID) adds nobody.
            s.ingest(&item, &SourceKey { source: "t".into(), key: "2".into() }).unwrap();
            assert_eq!(s.contacts(acme).unwrap().len(), want.len(), "case: {name}, again");
        }
    }

    /// A contact's item links through the new contact, in the same batch too.
    #[test]
    fn later_mail_of_the_batch_links_the_new_contact() {
        let mut s =
            Store::open_in_memory(Policy { own_domains: vec!["modrykamen.cz".into()], ..Policy::default() }).unwrap();
        s.add_client(&ClientInput { name: "Acme".into(), domains: vec!["acme.cz".into()], ..Default::default() })
            .unwrap();
        let batch: Vec<(NewItem, SourceKey)> = (1..=3)
            .map(|n| {
                let item = mail(
                    n,
                    vec![p(Role::From, "Karel Horák", "karel@acme.cz"), p(Role::To, "", "jana@modrykamen.cz")],
                    serde_json::json!({}),
                );
                (item, SourceKey { source: "t".into(), key: n.to_string() })
            })
            .collect();
        s.ingest_batch(&batch, None).unwrap();
        let contacts: i64 = s.sqlite().unwrap().query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0)).unwrap();
        assert_eq!(contacts, 1);
        let through: i64 = s
            .sqlite()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM item_links WHERE contact_id IS NOT NULL AND reason = 'address'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(through, 3);
    }

    /// Contacts found in mail join the cached directory as they are stored
    /// (the directory is not built again for each): it answers as one built
    /// afresh, for a new contact, a listed address that became a contact's,
    /// and a name found in a later note; and the cache is dropped when
    /// another process changed the directory meanwhile.
    #[test]
    fn the_cached_directory_follows_contacts_found_in_mail() {
        let mut s = Store::open_in_memory(Policy {
            own_domains: vec!["modrykamen.cz".into()],
            free_mail_domains: vec!["seznam.cz".into()],
            ..Policy::default()
        })
        .unwrap();
        let acme = s
            .add_client(&ClientInput {
                name: "Acme".into(),
                domains: vec!["acme.cz".into()],
                emails: vec!["petra.mala@acme-group.com".into()],
                ..Default::default()
            })
            .unwrap();
        let us = || p(Role::To, "", "jana@modrykamen.cz");
        let addresses = ["karel@acme.cz", "petra.mala@acme-group.com", "eva@acme.cz", "nobody@else.cz"];
        let from = [("Karel Horák", "karel@acme.cz"), ("Petra Malá", "petra.mala@acme-group.com")];
        for (n, (name, address)) in from.iter().enumerate() {
            let item = mail(n + 1, vec![p(Role::From, name, address), us()], serde_json::json!({}));
            s.ingest(&item, &SourceKey { source: "t".into(), key: n.to_string() }).unwrap();
            let version = s.directory_version().unwrap();
            let fresh = s.build_directory().unwrap();
            let (cached_version, cached) = s.directory.as_ref().expect("the directory stays cached");
            assert_eq!(*cached_version, version, "after {address}");
            for a in addresses {
                let one = [p(Role::From, "", a)];
                assert_eq!(cached.decide(&one), fresh.decide(&one), "{a} after {address}");
            }
            let hints = crate::matcher::NoteHints::default();
            let text = "Volal pan Horák, paní Malá pošle objednávku.";
            assert_eq!(cached.decide_note(&[], &hints, text), fresh.decide_note(&[], &hints, text));
        }
        let contacts: i64 = s.sqlite().unwrap().query_row("SELECT COUNT(*) FROM contacts", [], |r| r.get(0)).unwrap();
        assert_eq!(contacts, 2);
        // Another process adds a domain while a batch that found nobody is
        // stored: the version moved, not by this batch, so the cache goes.
        s.sqlite()
            .unwrap()
            .execute("INSERT INTO client_domains (client_id, domain) VALUES (?1, 'acme.sk')", [acme.0])
            .unwrap();
        let mut dir = s.directory.take().unwrap();
        let mut created = super::Created::default();
        let after = s.directory_version().unwrap();
        assert!(!super::follow(&mut dir, &mut created, after));
        assert!(s.directory().is_ok());
        let one = [p(Role::From, "", "x@acme.sk")];
        assert!(matches!(s.directory().unwrap().decide(&one), crate::matcher::Decision::Links(l) if l.len() == 1));
    }
}
