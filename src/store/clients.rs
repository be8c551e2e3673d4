//! Clients, their domains and addresses, and their contact persons.
//! Every change that can alter matching re-matches the items it can affect.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::db::{Db, DbResult, Dialect, Row};
use super::{Result, Store, StoreError, now};
use crate::args;
use crate::model::{Client, ClientId, ClientStatus, Contact, ContactId, Ico};
use crate::text::fold;

/// A new client, already validated (normalised domains and addresses,
/// custom values checked against the config).
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    pub ico: Option<Ico>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub billing: Option<String>,
    pub status: Option<ClientStatus>,
    pub annual_budget: Option<f64>,
    pub domains: Vec<String>,
    /// Addresses of the company itself (info@, fakturace@).
    pub emails: Vec<String>,
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// Changes to a client; `None` leaves a value as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub ico: Option<Option<Ico>>,
    pub dic: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub billing: Option<Option<String>>,
    pub status: Option<ClientStatus>,
    pub annual_budget: Option<Option<f64>>,
    pub add_domains: Vec<String>,
    pub remove_domains: Vec<String>,
    pub add_emails: Vec<String>,
    pub remove_emails: Vec<String>,
    /// Field name → value; `Null` removes the field.
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// A new contact person.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

/// Changes to a contact.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub add_emails: Vec<String>,
    pub remove_emails: Vec<String>,
    pub phone: Option<Option<String>>,
    pub role: Option<Option<String>>,
    /// Move the contact to another client.
    pub client: Option<ClientId>,
}

pub(super) const CLIENT_COLUMNS: &str =
    "id, name, ico, dic, address, billing, status, annual_budget, custom, created_at, updated_at";

/// A client from a row of [`CLIENT_COLUMNS`] (its domains left empty).
pub(super) fn client_from_db_row(r: &Row<'_>) -> DbResult<Client> {
    let status: String = r.get(6)?;
    let custom: String = r.get(8)?;
    let created: String = r.get(9)?;
    let updated: String = r.get(10)?;
    Ok(Client {
        id: ClientId(r.get(0)?),
        name: r.get(1)?,
        ico: r.get(2)?,
        dic: r.get(3)?,
        address: r.get(4)?,
        billing: r.get(5)?,
        status: status.parse().unwrap_or(ClientStatus::Lead),
        annual_budget: r.get(7)?,
        domains: Vec::new(),
        custom: serde_json::from_str(&custom).unwrap_or_default(),
        created_at: parse_time(&created),
        updated_at: parse_time(&updated),
    })
}

pub(super) fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Store {
    /// Adds a client and re-matches the stored items its domains and
    /// addresses concern. Refuses a duplicate name or IČO.
    pub fn add_client(&mut self, input: &ClientInput) -> Result<ClientId> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a client needs a name".into()));
        }
        self.check_unique(None, name, input.ico.as_ref())?;
        let tx = self.db.begin()?;
        let ts = now();
        let id = tx
            .value::<i64>(
                "INSERT INTO clients (name, name_key, ico, dic, address, billing, status, annual_budget, custom, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id",
                args![
                    name,
                    fold(name),
                    input.ico.as_ref().map(Ico::as_str),
                    blank_to_none(input.dic.clone()),
                    blank_to_none(input.address.clone()),
                    blank_to_none(input.billing.clone()),
                    input.status.unwrap_or(ClientStatus::Lead).as_str(),
                    input.annual_budget,
                    serde_json::Value::Object(input.custom.clone()).to_string(),
                    ts,
                ],
            )?
            .map(ClientId)
            .ok_or_else(|| StoreError::Invalid("cannot add the client: the insert returned no id".into()))?;
        for d in &input.domains {
            tx.execute(
                "INSERT INTO client_domains (client_id, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, d],
            )?;
        }
        for e in &input.emails {
            tx.execute(
                "INSERT INTO client_emails (client_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, e],
            )?;
        }
        tx.commit()?;
        self.rematch_for(&input.domains, &input.emails, &[id])?;
        Ok(id)
    }

    /// Applies a patch to a client and re-matches what it can affect.
    pub fn edit_client(&mut self, id: ClientId, patch: &ClientPatch) -> Result<()> {
        let current = self.client(id)?;
        let new_name = patch.name.as_deref().map(str::trim).unwrap_or(&current.name).to_string();
        if new_name.is_empty() {
            return Err(StoreError::Invalid("a client needs a name".into()));
        }
        let new_ico = match &patch.ico {
            Some(v) => v.clone(),
            None => current.ico.as_deref().and_then(|s| Ico::parse(s).ok()),
        };
        self.check_unique(Some(id), &new_name, new_ico.as_ref())?;
        let mut custom = current.custom.clone();
        for (k, v) in &patch.custom {
            if v.is_null() {
                custom.remove(k);
            } else {
                custom.insert(k.clone(), v.clone());
            }
        }
        let pick = |p: &Option<Option<String>>, cur: &Option<String>| match p {
            Some(v) => blank_to_none(v.clone()),
            None => cur.clone(),
        };
        let tx = self.db.begin()?;
        tx.execute(
            "UPDATE clients SET name = ?2, name_key = ?3, ico = ?4, dic = ?5, address = ?6, billing = ?7,
                 status = ?8, annual_budget = ?9, custom = ?10, updated_at = ?11 WHERE id = ?1",
            args![
                id.0,
                new_name,
                fold(&new_name),
                new_ico.as_ref().map(Ico::as_str),
                pick(&patch.dic, &current.dic),
                pick(&patch.address, &current.address),
                pick(&patch.billing, &current.billing),
                patch.status.unwrap_or(current.status).as_str(),
                patch.annual_budget.unwrap_or(current.annual_budget),
                serde_json::Value::Object(custom).to_string(),
                now(),
            ],
        )?;
        for d in &patch.remove_domains {
            let n = tx.execute("DELETE FROM client_domains WHERE client_id = ?1 AND domain = ?2", args![id.0, d])?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "domain of this client", query: d.clone() });
            }
        }
        for d in &patch.add_domains {
            tx.execute(
                "INSERT INTO client_domains (client_id, domain) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, d],
            )?;
        }
        for e in &patch.remove_emails {
            let n = tx.execute("DELETE FROM client_emails WHERE client_id = ?1 AND email = ?2", args![id.0, e])?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "address of this client", query: e.clone() });
            }
        }
        for e in &patch.add_emails {
            tx.execute(
                "INSERT INTO client_emails (client_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, e],
            )?;
        }
        tx.commit()?;
        let domains: Vec<String> = patch.add_domains.iter().chain(&patch.remove_domains).cloned().collect();
        let emails: Vec<String> = patch.add_emails.iter().chain(&patch.remove_emails).cloned().collect();
        self.rematch_for(&domains, &emails, &[id])?;
        Ok(())
    }

    /// Removes a client with its contacts and domains. Its items stay in the
    /// history; only their links to this client go.
    pub fn remove_client(&mut self, id: ClientId) -> Result<()> {
        let tx = self.db.begin()?;
        let rev = super::counter(&tx, "rev")?;
        // The links vanish by cascade; bump the items so the index drops the client.
        tx.execute(
            "UPDATE items SET rev = ?2 WHERE id IN (SELECT item_id FROM item_links WHERE client_id = ?1)",
            args![id.0, rev],
        )?;
        let n = tx.execute("DELETE FROM clients WHERE id = ?1", args![id.0])?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "client", query: id.to_string() });
        }
        tx.commit()?;
        Ok(())
    }

    fn check_unique(&self, except: Option<ClientId>, name: &str, ico: Option<&Ico>) -> Result<()> {
        let except = except.map(|c| c.0).unwrap_or(-1);
        let clash = self.db.query_row(
            "SELECT id, name FROM clients WHERE name_key = ?1 AND id != ?2",
            args![fold(name), except],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?;
        if let Some((cid, cname)) = clash {
            return Err(StoreError::Conflict(format!("a client named {cname:?} already exists (id {cid})")));
        }
        if let Some(ico) = ico {
            let clash = self.db.query_row(
                "SELECT id, name FROM clients WHERE ico = ?1 AND id != ?2",
                args![ico.as_str(), except],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )?;
            if let Some((cid, cname)) = clash {
                return Err(StoreError::Conflict(format!("IČO {ico} already belongs to {cname:?} (id {cid})")));
            }
        }
        Ok(())
    }

    /// One client with its domains.
    pub fn client(&self, id: ClientId) -> Result<Client> {
        let mut c = self
            .db
            .query_row(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"), args![id.0], client_from_db_row)?
            .ok_or_else(|| StoreError::NotFound { what: "client", query: id.to_string() })?;
        c.domains = self.client_domains(id)?;
        Ok(c)
    }

    fn client_domains(&self, id: ClientId) -> Result<Vec<String>> {
        Ok(self.db.query(
            "SELECT domain FROM client_domains WHERE client_id = ?1 ORDER BY domain",
            args![id.0],
            |r| r.get(0),
        )?)
    }

    /// The company addresses (info@…) of a client.
    pub fn client_emails(&self, id: ClientId) -> Result<Vec<String>> {
        Ok(self
            .db
            .query("SELECT email FROM client_emails WHERE client_id = ?1 ORDER BY email", args![id.0], |r| r.get(0))?)
    }

    /// All clients, by name.
    pub fn clients(&self) -> Result<Vec<Client>> {
        let mut out = self.db.query(
            &format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY name_key, id"),
            args![],
            client_from_db_row,
        )?;
        for c in &mut out {
            c.domains = self.client_domains(c.id)?;
        }
        Ok(out)
    }

    /// Finds a client by id, IČO, exact name or unique name prefix (case and
    /// accents ignored). An ambiguous query lists the candidates.
    pub fn resolve_client(&self, query: &str) -> Result<ClientId> {
        let q = query.trim();
        let not_found = || StoreError::NotFound { what: "client", query: q.to_string() };
        if q.is_empty() {
            return Err(not_found());
        }
        if q.chars().all(|c| c.is_ascii_digit()) {
            if let Ok(ico) = Ico::parse(q)
                && let Some(id) = self.db.value::<i64>("SELECT id FROM clients WHERE ico = ?1", args![ico.as_str()])?
            {
                return Ok(ClientId(id));
            }
            if let Ok(id) = q.parse::<i64>()
                && let Some(id) = self.db.value::<i64>("SELECT id FROM clients WHERE id = ?1", args![id])?
            {
                return Ok(ClientId(id));
            }
        }
        let key = fold(q);
        if let Some(id) = self.db.value::<i64>("SELECT id FROM clients WHERE name_key = ?1", args![key])? {
            return Ok(ClientId(id));
        }
        // substr's length is an INTEGER (int4) in PostgreSQL, which has no
        // substr(text, int, bigint): the bound length is cast.
        let length = i64::try_from(key.chars().count())
            .map_err(|_| StoreError::Invalid(format!("the query {q:?} is too long")))?;
        let hits = self.db.query(
            "SELECT id, name, ico FROM clients WHERE substr(name_key, 1, CAST(?2 AS INTEGER)) = ?1 ORDER BY name_key, id",
            args![key, length],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?)),
        )?;
        match hits.len() {
            0 => Err(not_found()),
            1 => Ok(ClientId(hits[0].0)),
            _ => Err(StoreError::Ambiguous {
                what: "client",
                query: q.to_string(),
                candidates: hits
                    .into_iter()
                    .map(|(id, name, ico)| match ico {
                        Some(ico) => format!("{id}: {name} (IČO {ico})"),
                        None => format!("{id}: {name}"),
                    })
                    .collect(),
            }),
        }
    }

    /// Number of linked (not deleted) items of a client, by kind.
    pub fn client_item_counts(&self, id: ClientId) -> Result<BTreeMap<String, i64>> {
        // SQLite is told the index (its planner would take the one by date);
        // PostgreSQL has no INDEXED BY.
        let sql = match self.db.dialect() {
            Dialect::Sqlite => {
                "SELECT kind, COUNT(DISTINCT item_id) FROM item_links INDEXED BY item_links_client_kind
                 WHERE client_id = ?1 AND live = 1 GROUP BY kind"
            }
            Dialect::Postgres => {
                "SELECT kind, COUNT(DISTINCT item_id) FROM item_links WHERE client_id = ?1 AND live = 1 GROUP BY kind"
            }
        };
        let rows = self.db.query(sql, args![id.0], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))?;
        Ok(rows.into_iter().collect())
    }

    /// One page of a client's timeline: ids of live items older than the
    /// item `before` (by date, then id), newest first. Events still ahead
    /// belong to the agenda, as in [`Store::client_item_ids`].
    pub fn client_timeline_ids(
        &self,
        client: ClientId,
        before: Option<crate::model::ItemId>,
        limit: usize,
    ) -> Result<Vec<crate::model::ItemId>> {
        self.client_timeline_filtered(client, &super::TimelineFilter::default(), before, limit)
    }

    // ---- contacts ----

    /// Adds a contact to a client and re-matches items from its addresses.
    pub fn add_contact(&mut self, client: ClientId, input: &ContactInput) -> Result<ContactId> {
        self.client(client)?;
        let name = input.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a contact needs a name".into()));
        }
        let tx = self.db.begin()?;
        let (phone, role) = (blank_to_none(input.phone.clone()), blank_to_none(input.role.clone()));
        let id = tx
            .value::<i64>(
                "INSERT INTO contacts (client_id, name, phone, role, phone_source, role_source, name_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                args![
                    client.0,
                    name,
                    phone,
                    role,
                    phone.as_ref().map(|_| "manual"),
                    role.as_ref().map(|_| "manual"),
                    name_key(name)
                ],
            )?
            .map(ContactId)
            .ok_or_else(|| StoreError::Invalid("cannot add the contact: the insert returned no id".into()))?;
        for e in &input.emails {
            // A contact typed in takes its addresses over from contacts that
            // appeared by themselves from mail (one address, one person);
            // one left without an address goes.
            let found = tx.query(
                "SELECT c.id FROM contact_emails e JOIN contacts c ON c.id = e.contact_id
                 WHERE e.email = ?1 AND c.origin = 'mail' ORDER BY c.id",
                args![e],
                |r| r.get::<i64>(0),
            )?;
            for other in found {
                tx.execute("DELETE FROM contact_emails WHERE contact_id = ?1 AND email = ?2", args![other, e])?;
                tx.execute(
                    "DELETE FROM contacts WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM contact_emails WHERE contact_id = ?1)",
                    args![other],
                )?;
            }
            tx.execute(
                "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, e],
            )?;
        }
        // The same person found in mail before (same client, same name) is
        // this contact now: their other addresses and what their
        // signatures gave come over (typed values win).
        let twins = tx.query(
            "SELECT id FROM contacts WHERE client_id = ?1 AND name_key = ?2 AND origin = 'mail' AND id != ?3 ORDER BY id",
            args![client.0, name_key(name), id.0],
            |r| r.get::<i64>(0),
        )?;
        tx.commit()?;
        for twin in twins {
            self.merge_contacts(id, ContactId(twin))?;
        }
        self.rematch_for(&[], &input.emails, &[client])?;
        Ok(id)
    }

    /// Changes a contact and re-matches what it can affect.
    pub fn edit_contact(&mut self, id: ContactId, patch: &ContactPatch) -> Result<()> {
        let current = self.contact(id)?;
        let name = patch.name.as_deref().map(str::trim).unwrap_or(&current.name);
        if name.is_empty() {
            return Err(StoreError::Invalid("a contact needs a name".into()));
        }
        let tx = self.db.begin()?;
        let pick = |p: &Option<Option<String>>, cur: &Option<String>| match p {
            Some(v) => blank_to_none(v.clone()),
            None => cur.clone(),
        };
        // A value typed in is the user's: mail never overwrites it.
        // Clearing a field is typed too: mail does not fill it again.
        let source = |p: &Option<Option<String>>, cur: &Option<String>| match p {
            Some(_) => Some("manual".to_string()),
            None => cur.clone(),
        };
        tx.execute(
            "UPDATE contacts SET name = ?2, phone = ?3, role = ?4, client_id = ?5, phone_source = ?6, role_source = ?7,
                    name_key = ?8 WHERE id = ?1",
            args![
                id.0,
                name,
                pick(&patch.phone, &current.phone),
                pick(&patch.role, &current.role),
                patch.client.unwrap_or(current.client).0,
                source(&patch.phone, &current.phone_source),
                source(&patch.role, &current.role_source),
                name_key(name)
            ],
        )?;
        for e in &patch.remove_emails {
            let n = tx.execute("DELETE FROM contact_emails WHERE contact_id = ?1 AND email = ?2", args![id.0, e])?;
            if n == 0 {
                return Err(StoreError::NotFound { what: "address of this contact", query: e.clone() });
            }
            refuse_auto(&tx, e)?;
        }
        for e in &patch.add_emails {
            tx.execute(
                "INSERT INTO contact_emails (contact_id, email) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![id.0, e],
            )?;
        }
        if patch.client.is_some_and(|c| c != current.client) {
            // Links made through this contact now point at the wrong client;
            // re-matching below rebuilds them.
            tx.execute("DELETE FROM item_links WHERE contact_id = ?1 AND reason != 'manual'", args![id.0])?;
        }
        tx.commit()?;
        let emails: Vec<String> = current.emails.iter().chain(&patch.add_emails).cloned().collect();
        let clients: Vec<ClientId> = [Some(current.client), patch.client].into_iter().flatten().collect();
        self.rematch_for(&[], &emails, &clients)?;
        Ok(())
    }

    /// Removes a contact; items it was linked to are re-matched (they may
    /// still belong to the client by domain).
    pub fn remove_contact(&mut self, id: ContactId) -> Result<()> {
        let current = self.contact(id)?;
        let tx = self.db.begin()?;
        let rev = super::counter(&tx, "rev")?;
        tx.execute(
            "UPDATE items SET rev = ?2 WHERE id IN (SELECT item_id FROM item_links WHERE contact_id = ?1)",
            args![id.0, rev],
        )?;
        tx.execute("DELETE FROM contacts WHERE id = ?1", args![id.0])?;
        for e in &current.emails {
            refuse_auto(&tx, e)?;
        }
        tx.commit()?;
        self.rematch_for(&[], &current.emails, &[current.client])?;
        Ok(())
    }

    /// One contact with its addresses.
    pub fn contact(&self, id: ContactId) -> Result<Contact> {
        let mut c = self
            .db
            .query_row(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?1"), args![id.0], contact_from_row)?
            .ok_or_else(|| StoreError::NotFound { what: "contact", query: id.to_string() })?;
        c.emails = self.contact_emails(id)?;
        Ok(c)
    }

    fn contact_emails(&self, id: ContactId) -> Result<Vec<String>> {
        Ok(self.db.query(
            "SELECT email FROM contact_emails WHERE contact_id = ?1 ORDER BY email",
            args![id.0],
            |r| r.get(0),
        )?)
    }

    /// The contacts of a client, by name.
    pub fn contacts(&self, client: ClientId) -> Result<Vec<Contact>> {
        let mut out = self.db.query(
            &format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE client_id = ?1 ORDER BY name, id"),
            args![client.0],
            contact_from_row,
        )?;
        for c in &mut out {
            c.emails = self.contact_emails(c.id)?;
        }
        Ok(out)
    }

    /// Finds a contact by id, address, exact name or unique name prefix,
    /// within one client when given.
    pub fn resolve_contact(&self, client: Option<ClientId>, query: &str) -> Result<ContactId> {
        let q = query.trim();
        let scope = client.map(|c| c.0);
        if let Ok(id) = q.parse::<i64>()
            && let Some(id) = self.db.value::<i64>(
                "SELECT id FROM contacts WHERE id = ?1 AND (?2 IS NULL OR client_id = ?2)",
                args![id, scope],
            )?
        {
            return Ok(ContactId(id));
        }
        let mut candidates: BTreeSet<i64> = BTreeSet::new();
        if let Some(addr) = crate::address::normalize(q) {
            let ids = self.db.query(
                "SELECT c.id FROM contacts c JOIN contact_emails e ON e.contact_id = c.id
                 WHERE e.email = ?1 AND (?2 IS NULL OR c.client_id = ?2)",
                args![addr, scope],
                |r| r.get::<i64>(0),
            )?;
            candidates.extend(ids);
        }
        if candidates.is_empty() {
            let key = fold(q);
            let all = self.db.query(
                "SELECT id, name FROM contacts WHERE (?1 IS NULL OR client_id = ?1)",
                args![scope],
                |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
            )?;
            let exact: Vec<i64> = all.iter().filter(|(_, n)| fold(n) == key).map(|(i, _)| *i).collect();
            let hits: Vec<i64> = if exact.is_empty() {
                all.iter().filter(|(_, n)| fold(n).starts_with(&key)).map(|(i, _)| *i).collect()
            } else {
                exact
            };
            candidates.extend(hits);
        }
        match candidates.len() {
            0 => Err(StoreError::NotFound { what: "contact", query: q.to_string() }),
            1 => Ok(ContactId(*candidates.iter().next().expect("one candidate"))),
            _ => {
                let mut names = Vec::new();
                for id in candidates {
                    let c = self.contact(ContactId(id))?;
                    let client = self.client(c.client)?;
                    names.push(format!("{id}: {} ({}) at {}", c.name, c.emails.join(", "), client.name));
                }
                Err(StoreError::Ambiguous { what: "contact", query: q.to_string(), candidates: names })
            }
        }
    }
}

/// A person took this address from a contact (or removed the contact): mail
/// from it makes no contact by itself again.
fn refuse_auto(db: &Db, email: &str) -> Result<()> {
    db.execute(
        "INSERT INTO auto_contacts_refused (email, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![email, now()],
    )?;
    Ok(())
}

/// The columns [`contact_from_row`] reads, in its order.
pub(super) const CONTACT_COLUMNS: &str =
    "id, client_id, name, phone, role, title_before, title_after, origin, phone_source, role_source";

pub(super) fn contact_from_row(r: &Row<'_>) -> DbResult<Contact> {
    Ok(Contact {
        id: ContactId(r.get(0)?),
        client: ClientId(r.get(1)?),
        name: r.get(2)?,
        emails: Vec::new(),
        phone: r.get(3)?,
        role: r.get(4)?,
        title_before: r.get(5)?,
        title_after: r.get(6)?,
        origin: r.get(7)?,
        phone_source: r.get(8)?,
        role_source: r.get(9)?,
    })
}

/// A name reduced to what identifies the person: folded words without
/// titles, in sorted order ("Ing. Karel Horák" and "Horák Karel" agree).
/// Contacts are looked up by it when a message from an unknown address
/// carries a known person's name.
pub fn name_key(name: &str) -> String {
    let folded = fold(name);
    let mut words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 1 && !TITLE_WORDS.contains(w))
        .collect();
    words.sort_unstable();
    words.dedup();
    words.join(" ")
}

/// Academic titles and their parts, folded (`Ing. arch.` → `ing`, `arch`).
const TITLE_WORDS: &[&str] = &[
    "ing", "arch", "mgr", "bc", "mudr", "judr", "phdr", "rndr", "paeddr", "mvdr", "doc", "prof", "phd", "csc", "drsc",
    "mba", "dis", "msc", "bsc", "dr", "mr", "mrs", "ms", "llm", "th", "thdr", "thmgr", "pharmdr", "mddr", "icdr",
];
