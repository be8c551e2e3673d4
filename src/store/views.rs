//! Queries behind the web pages and their CLI twins: today, search, brief,
//! and the clients list. Each answers in one or a few statements over all
//! clients, never one statement per client.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::clients::{CLIENT_COLUMNS, parse_time};
use super::timeline::indexed_by;
use super::{Result, Store};
use crate::args;
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
    /// A meeting invitation (or a cancellation, or an attendee's answer)
    /// waits for no reply in the thread: it is answered in the calendar.
    /// Oldest first; with `newest`, only that many of the newest threads.
    /// One statement for all clients. Each thread's last mail, and whether
    /// it waits, come from `thread_last` (migration 20, kept by
    /// triggers), and no mail is read but the ones returned: for one
    /// client, a step into it for each of the client's threads (the links'
    /// own thread column); for everyone, the mail newest first, each a
    /// step into it, the waiting threads asked whether one of their mails
    /// has a link, until `newest`.
    pub fn waiting_threads(&self, client: Option<ClientId>, newest: Option<usize>) -> Result<Vec<WaitingRow>> {
        let waiting = match client {
            Some(_) => format!(
                "waiting AS (SELECT k.client_id, t.item_id AS id, t.date
                             FROM (SELECT DISTINCT thread_id, client_id FROM item_links {}
                                   WHERE client_id = ?1 AND thread_id IS NOT NULL) k
                             JOIN thread_last t ON t.thread_id = k.thread_id
                             WHERE t.waiting = 1
                             ORDER BY t.date DESC, t.item_id DESC LIMIT ?2)",
                indexed_by(&self.db, "item_links_client_thread")
            ),
            None => format!(
                "threads AS ({} LIMIT ?2),
                 waiting AS (SELECT DISTINCT l.client_id, w.item_id AS id, w.date FROM threads w
                             JOIN items x ON x.thread_id = w.thread_id
                             JOIN item_links l ON l.item_id = x.id)",
                self.linked_waiting_threads("t.thread_id, t.item_id, t.date", "AND ?1 IS NULL")
            ),
        };
        let sql = format!(
            "WITH {waiting}
             SELECT i.id, i.thread_id, i.date, i.subject,
                    (SELECT p.name FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' LIMIT 1),
                    (SELECT p.address FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' LIMIT 1),
                    c.id, c.name
             FROM waiting w JOIN items i ON i.id = w.id JOIN clients c ON c.id = w.client_id
             ORDER BY w.date, w.id, c.name_key, c.id"
        );
        // No limit is the largest one (PostgreSQL refuses SQLite's -1).
        let limit = newest.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = self.db.query(&sql, args![client.map(|c| c.0), limit], |r| {
            Ok((
                WaitingRow {
                    item_id: r.get(0)?,
                    thread_id: r.get(1)?,
                    date: parse_time(&r.get::<String>(2)?),
                    subject: r.get(3)?,
                    from_name: r.get(4)?,
                    from_address: r.get(5)?,
                    clients: Vec::new(),
                },
                (r.get::<i64>(6)?, r.get::<String>(7)?),
            ))
        })?;
        let mut out: Vec<WaitingRow> = Vec::new();
        for (w, c) in rows {
            match out.last_mut() {
                Some(last) if last.item_id == w.item_id => last.clients.push(c),
                _ => out.push(WaitingRow { clients: vec![c], ..w }),
            }
        }
        Ok(out)
    }

    /// How many threads wait for our reply, linked to any client (as
    /// [`Store::waiting_threads`] of everyone has them), counted no further
    /// than `up_to`: each costs a step down an index and a link probe.
    pub fn waiting_count(&self, up_to: usize) -> Result<usize> {
        let sql = format!("SELECT COUNT(*) FROM ({} LIMIT ?1) n", self.linked_waiting_threads("1", ""));
        let n: Option<i64> = self.db.value(&sql, args![i64::try_from(up_to).unwrap_or(i64::MAX)])?;
        Ok(usize::try_from(n.unwrap_or(0)).unwrap_or(0))
    }

    /// The threads whose `thread_last` row is not what their items say (a
    /// wrong or missing last mail, a wrong `waiting`, a row for a thread
    /// without a live mail), by id: the drift `kronika check` reports. The
    /// triggers keep the table; this is the proof, and [`Store::rebuild_thread_last`]
    /// the repair.
    pub fn thread_last_drift(&self) -> Result<Vec<i64>> {
        let sql = format!(
            "WITH want (thread_id, item_id, date, waiting) AS ({})
             SELECT w.thread_id FROM want w LEFT JOIN thread_last l ON l.thread_id = w.thread_id
             WHERE l.thread_id IS NULL OR l.item_id <> w.item_id OR l.date <> w.date OR l.waiting <> w.waiting
             UNION
             SELECT l.thread_id FROM thread_last l WHERE NOT EXISTS (SELECT 1 FROM want w WHERE w.thread_id = l.thread_id)
             ORDER BY 1",
            self.thread_last_want()
        );
        Ok(self.db.query(&sql, args![], |r| r.get(0))?)
    }

    /// Writes `thread_last` again from the items, in one transaction.
    pub fn rebuild_thread_last(&mut self) -> Result<()> {
        let tx = self.db.begin()?;
        tx.execute("DELETE FROM thread_last", args![])?;
        tx.execute(
            &format!("INSERT INTO thread_last (thread_id, item_id, date, waiting) {}", self.thread_last_want()),
            args![],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn thread_last_want(&self) -> &'static str {
        match self.db.dialect() {
            super::db::Dialect::Sqlite => super::schema::THREAD_LAST_WANT,
            super::db::Dialect::Postgres => super::schema_pg::THREAD_LAST_WANT,
        }
    }

    /// The waiting threads that are linked to a client, newest first
    /// (`columns` of `thread_last t`, `extra` more of the WHERE clause),
    /// for a LIMIT to end: the mail by date, newest first, each a thread's
    /// last one when `thread_last` says so (an index of `thread_last` by
    /// date cost imports more than this walk costs Today: migration 22).
    fn linked_waiting_threads(&self, columns: &str, extra: &str) -> String {
        format!(
            "SELECT {columns} FROM items i {} JOIN thread_last t ON t.thread_id = i.thread_id
             WHERE i.kind = 'email' AND i.deleted_at IS NULL AND t.item_id = i.id AND t.waiting = 1 {extra}
               AND EXISTS (SELECT 1 FROM items x JOIN item_links l ON l.item_id = x.id WHERE x.thread_id = t.thread_id)
             ORDER BY i.date DESC, i.id DESC",
            indexed_by(&self.db, "items_date")
        )
    }

    /// Reminders for the Today page: pending ones due before `until`
    /// (overdue ones included), and ones that fired or were missed since
    /// `since` (whenever they were due); by due time.
    pub fn reminders_due(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<ReminderDueRow>> {
        Ok(self.db.query(
            "SELECT r.id, r.kind, r.title, r.due_at, r.event_start, r.state, r.item_id, c.id, c.name
             FROM reminders r LEFT JOIN clients c ON c.id = r.client_id
             WHERE (r.state = 'pending' AND r.due_at < ?2)
                OR (r.state IN ('fired', 'missed') AND r.fired_at >= ?1)
             ORDER BY r.due_at, r.id",
            args![ts(since), ts(until)],
            |r| {
                let start: Option<String> = r.get(4)?;
                let client: Option<i64> = r.get(7)?;
                let name: Option<String> = r.get(8)?;
                Ok(ReminderDueRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    due_at: parse_time(&r.get::<String>(3)?),
                    event_start: start.as_deref().map(parse_time),
                    state: r.get(5)?,
                    item_id: r.get(6)?,
                    client: client.zip(name),
                })
            },
        )?)
    }

    /// Every client by name, with domains, company addresses and contacts
    /// (names and addresses): four statements, whatever the number of clients.
    pub fn client_list(&self) -> Result<Vec<ClientListRow>> {
        let clients = self.db.query(
            &format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY name_key, id"),
            args![],
            super::clients::client_from_db_row,
        )?;
        let mut domains: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, d) in
            self.db.query("SELECT client_id, domain FROM client_domains ORDER BY client_id, domain", args![], |r| {
                Ok((r.get::<i64>(0)?, r.get::<String>(1)?))
            })?
        {
            domains.entry(id).or_default().push(d);
        }
        let mut emails: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, e) in
            self.db.query("SELECT client_id, email FROM client_emails ORDER BY client_id, email", args![], |r| {
                Ok((r.get::<i64>(0)?, r.get::<String>(1)?))
            })?
        {
            emails.entry(id).or_default().push(e);
        }
        let mut contacts: BTreeMap<i64, Vec<(i64, ListContact)>> = BTreeMap::new();
        let rows = self.db.query(
            "SELECT c.client_id, c.id, c.name, e.email FROM contacts c LEFT JOIN contact_emails e ON e.contact_id = c.id
             ORDER BY c.client_id, c.name, c.id, e.email",
            args![],
            |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?, r.get::<Option<String>>(3)?)),
        )?;
        for (client, id, name, email) in rows {
            let list = contacts.entry(client).or_default();
            match list.last_mut() {
                Some((last, c)) if *last == id => c.emails.extend(email),
                _ => list.push((id, ListContact { name, emails: email.into_iter().collect() })),
            }
        }
        Ok(clients
            .into_iter()
            .map(|c| {
                let mut c = c;
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
        // The alias is filtered outside: PostgreSQL's WHERE cannot name it.
        let rows = self.db.query(
            "SELECT id, last FROM (
                 SELECT c.id, (SELECT MAX(l.date) FROM item_links l
                               WHERE l.contact_id = c.id AND l.client_id = ?1 AND l.live = 1 AND l.date <= ?2) AS last
                 FROM contacts c WHERE c.client_id = ?1) t
             WHERE last IS NOT NULL",
            args![client.0, ts(now)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows.into_iter().collect())
    }
}
