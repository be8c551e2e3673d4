//! Queries behind the web pages and their CLI twins: today, search, brief,
//! and the clients list. Each answers in one or a few statements over all
//! clients, never one statement per client.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::params;

use super::clients::parse_time;
use super::clients::{CLIENT_COLUMNS, client_from_row};
use super::{Result, Store};
use crate::model::{Client, ClientId};

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A thread whose last live mail came in and was not answered.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingRow {
    /// The last mail of the thread (the one waiting for a reply).
    pub item_id: i64,
    pub thread_id: i64,
    pub date: DateTime<Utc>,
    pub subject: String,
    /// Its sender: name (when given) and address.
    pub from_name: Option<String>,
    pub from_address: Option<String>,
    /// The clients the thread is linked to (id, name), by name.
    pub clients: Vec<(i64, String)>,
}

/// A reminder with its client's name, for the Today page.
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderDueRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub event_start: Option<DateTime<Utc>>,
    pub state: String,
    pub item_id: Option<i64>,
    pub client: Option<(i64, String)>,
}

/// A contact as the clients list searches it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListContact {
    pub name: String,
    pub emails: Vec<String>,
}

/// A client with what the clients list shows and searches.
#[derive(Debug, Clone)]
pub struct ClientListRow {
    pub client: Client,
    /// Addresses of the company itself.
    pub emails: Vec<String>,
    pub contacts: Vec<ListContact>,
}

impl Store {
    /// Threads waiting for our reply: the last live mail of the thread came
    /// in, and the thread is linked to a client (to `client` when given).
    /// Oldest first. One statement for all clients.
    pub fn waiting_threads(&self, client: Option<ClientId>) -> Result<Vec<WaitingRow>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH linked AS (
                 SELECT DISTINCT t.thread_id, l.client_id FROM items t JOIN item_links l ON l.item_id = t.id
                 WHERE t.thread_id IS NOT NULL AND (?1 IS NULL OR l.client_id = ?1)),
             last AS (
                 SELECT i.id, i.thread_id, i.direction, i.date, i.subject,
                        ROW_NUMBER() OVER (PARTITION BY i.thread_id ORDER BY i.date DESC, i.id DESC) AS rn
                 FROM items i
                 WHERE i.kind = 'email' AND i.deleted_at IS NULL
                   AND i.thread_id IN (SELECT thread_id FROM linked))
             SELECT last.id, last.thread_id, last.date, last.subject,
                    (SELECT p.name FROM item_participants p WHERE p.item_id = last.id AND p.role = 'from' LIMIT 1),
                    (SELECT p.address FROM item_participants p WHERE p.item_id = last.id AND p.role = 'from' LIMIT 1),
                    c.id, c.name
             FROM last JOIN linked k ON k.thread_id = last.thread_id JOIN clients c ON c.id = k.client_id
             WHERE last.rn = 1 AND last.direction = 'in'
             ORDER BY last.date, last.id, c.name_key",
        )?;
        let rows = stmt.query_map(params![client.map(|c| c.0)], |r| {
            let date: String = r.get(2)?;
            Ok((
                WaitingRow {
                    item_id: r.get(0)?,
                    thread_id: r.get(1)?,
                    date: parse_time(&date),
                    subject: r.get(3)?,
                    from_name: r.get(4)?,
                    from_address: r.get(5)?,
                    clients: Vec::new(),
                },
                (r.get::<_, i64>(6)?, r.get::<_, String>(7)?),
            ))
        })?;
        let mut out: Vec<WaitingRow> = Vec::new();
        for row in rows {
            let (w, c) = row?;
            match out.last_mut() {
                Some(last) if last.item_id == w.item_id => last.clients.push(c),
                _ => out.push(WaitingRow { clients: vec![c], ..w }),
            }
        }
        Ok(out)
    }

    /// Reminders for the Today page: pending ones due before `until`
    /// (overdue ones included), and ones that fired or were missed since
    /// `since` (whenever they were due); by due time.
    pub fn reminders_due(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<ReminderDueRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.kind, r.title, r.due_at, r.event_start, r.state, r.item_id, c.id, c.name
             FROM reminders r LEFT JOIN clients c ON c.id = r.client_id
             WHERE (r.state = 'pending' AND r.due_at < ?2)
                OR (r.state IN ('fired', 'missed') AND r.fired_at >= ?1)
             ORDER BY r.due_at, r.id",
        )?;
        let rows = stmt.query_map(params![ts(since), ts(until)], |r| {
            let due: String = r.get(3)?;
            let start: Option<String> = r.get(4)?;
            let client: Option<i64> = r.get(7)?;
            let name: Option<String> = r.get(8)?;
            Ok(ReminderDueRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                title: r.get(2)?,
                due_at: parse_time(&due),
                event_start: start.as_deref().map(parse_time),
                state: r.get(5)?,
                item_id: r.get(6)?,
                client: client.zip(name),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every client by name, with domains, company addresses and contacts
    /// (names and addresses): four statements, whatever the number of clients.
    pub fn client_list(&self) -> Result<Vec<ClientListRow>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY name_key, id"))?;
        let clients: Vec<Client> = stmt.query_map([], client_from_row)?.collect::<rusqlite::Result<_>>()?;
        let mut domains: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt = self.conn.prepare("SELECT client_id, domain FROM client_domains ORDER BY client_id, domain")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, d) = row?;
            domains.entry(id).or_default().push(d);
        }
        let mut emails: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt = self.conn.prepare("SELECT client_id, email FROM client_emails ORDER BY client_id, email")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, e) = row?;
            emails.entry(id).or_default().push(e);
        }
        let mut contacts: BTreeMap<i64, Vec<(i64, ListContact)>> = BTreeMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT c.client_id, c.id, c.name, e.email FROM contacts c LEFT JOIN contact_emails e ON e.contact_id = c.id
             ORDER BY c.client_id, c.name, c.id, e.email",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        for row in rows {
            let (client, id, name, email) = row?;
            let list = contacts.entry(client).or_default();
            match list.last_mut() {
                Some((last, c)) if *last == id => c.emails.extend(email),
                _ => list.push((id, ListContact { name, emails: email.into_iter().collect() })),
            }
        }
        Ok(clients
            .into_iter()
            .map(|mut c| {
                let id = c.id.0;
                c.domains = domains.remove(&id).unwrap_or_default();
                ClientListRow {
                    client: c,
                    emails: emails.remove(&id).unwrap_or_default(),
                    contacts: contacts.remove(&id).unwrap_or_default().into_iter().map(|(_, c)| c).collect(),
                }
            })
            .collect())
    }

    /// When each of a client's contacts last appeared on a live item dated
    /// before `now` (a meeting still ahead is not a contact yet): contact id
    /// → RFC 3339 date.
    pub fn contact_last_contact(&self, client: ClientId, now: DateTime<Utc>) -> Result<BTreeMap<i64, String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, (SELECT MAX(l.date) FROM item_links l
                           WHERE l.contact_id = c.id AND l.client_id = ?1 AND l.live = 1 AND l.date <= ?2) AS last
             FROM contacts c WHERE c.client_id = ?1 AND last IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![client.0, ts(now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
