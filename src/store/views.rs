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
    /// A meeting invitation (or a cancellation, or an attendee's answer)
    /// waits for no reply in the thread: it is answered in the calendar.
    /// Oldest first; with `newest`, only that many of the newest. One
    /// statement for all clients. The threads come from the links' own
    /// thread column, and each thread's last mail (its id, date and
    /// direction) from the partial index `items_thread_last` (migration
    /// 9): no mail is read but the ones returned.
    pub fn waiting_threads(&self, client: Option<ClientId>, newest: Option<usize>) -> Result<Vec<WaitingRow>> {
        // One client: its threads by the (client, thread) index; everyone:
        // every link that has a thread.
        let linked = match client {
            Some(_) => {
                "SELECT DISTINCT thread_id, client_id FROM item_links INDEXED BY item_links_client_thread
                 WHERE client_id = ?1 AND thread_id IS NOT NULL"
            }
            None => "SELECT DISTINCT thread_id, client_id FROM item_links WHERE thread_id IS NOT NULL AND ?1 IS NULL",
        };
        let last = |column: &str| {
            format!(
                "(SELECT i.{column} FROM items i INDEXED BY items_thread_last
                  WHERE i.thread_id = k.thread_id AND i.kind = 'email' AND i.deleted_at IS NULL
                  ORDER BY i.date DESC, i.id DESC LIMIT 1)"
            )
        };
        let (id, date, direction) = (last("id"), last("date"), last("direction"));
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(&format!(
            "WITH linked AS ({linked}),
             last AS (SELECT k.client_id, {id} AS id, {date} AS date, {direction} AS direction FROM linked k),
             waiting AS (SELECT * FROM last WHERE direction = 'in'
                           AND NOT EXISTS (SELECT 1 FROM items x WHERE x.id = last.id
                                             AND json_extract(x.extra, '$.invitation') IS NOT NULL)
                         ORDER BY date DESC, id DESC LIMIT ?2)
             SELECT i.id, i.thread_id, i.date, i.subject,
                    (SELECT p.name FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' LIMIT 1),
                    (SELECT p.address FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' LIMIT 1),
                    c.id, c.name
             FROM waiting w JOIN items i ON i.id = w.id JOIN clients c ON c.id = w.client_id
             ORDER BY w.date, w.id, c.name_key"
        ))?;
        let limit = newest.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = stmt.query_map(params![client.map(|c| c.0), limit], |r| {
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
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
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
        let mut stmt =
            super::sqlite(&self.db)?.prepare(&format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY name_key, id"))?;
        let clients: Vec<Client> = stmt.query_map([], client_from_row)?.collect::<rusqlite::Result<_>>()?;
        let mut domains: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt = super::sqlite(&self.db)?
            .prepare("SELECT client_id, domain FROM client_domains ORDER BY client_id, domain")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, d) = row?;
            domains.entry(id).or_default().push(d);
        }
        let mut emails: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt =
            super::sqlite(&self.db)?.prepare("SELECT client_id, email FROM client_emails ORDER BY client_id, email")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, e) = row?;
            emails.entry(id).or_default().push(e);
        }
        let mut contacts: BTreeMap<i64, Vec<(i64, ListContact)>> = BTreeMap::new();
        let mut stmt = super::sqlite(&self.db)?.prepare(
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
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT c.id, (SELECT MAX(l.date) FROM item_links l
                           WHERE l.contact_id = c.id AND l.client_id = ?1 AND l.live = 1 AND l.date <= ?2) AS last
             FROM contacts c WHERE c.client_id = ?1 AND last IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![client.0, ts(now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use crate::matcher::Policy;
    use crate::model::{ClientId, ItemKind, Participant, Role};
    use crate::store::{ClientInput, NewItem, SourceKey, Store};

    /// A mail from `from` to `to`, `hours` after a fixed start, answering `parents`.
    fn mail(id: &str, from: &str, to: &str, hours: i64, parents: &[&str]) -> NewItem {
        let p = |role, address: &str| Participant { role, name: None, address: address.into() };
        NewItem {
            kind: ItemKind::Email,
            message_id: Some(id.into()),
            references: parents.iter().map(|s| s.to_string()).collect(),
            date: Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + Duration::hours(hours),
            subject: format!("mail {id}"),
            body: "Dobrý den".into(),
            participants: vec![p(Role::From, from), p(Role::To, to)],
            content_hash: format!("{id:0>64}"),
            ..NewItem::default()
        }
    }

    fn subjects(s: &Store, client: ClientId, newest: Option<usize>) -> Vec<String> {
        s.waiting_threads(Some(client), newest).unwrap().into_iter().map(|w| w.subject).collect()
    }

    /// Which threads wait for our reply, followed through answers, a
    /// missing parent that merges two threads, a deleted mail, and the
    /// newest-first limit the brief asks for.
    #[test]
    fn waiting_threads_follow_replies_merges_and_deletions() {
        let mut s =
            Store::open_in_memory(Policy { own_domains: vec!["modrykamen.cz".into()], ..Policy::default() }).unwrap();
        let acme = s
            .add_client(&ClientInput { name: "Acme".into(), domains: vec!["acme.cz".into()], ..Default::default() })
            .unwrap();
        let (them, us) = ("karel@acme.cz", "jana@modrykamen.cz");
        let mut n = 0;
        let mut put = |s: &mut Store, m: NewItem| {
            n += 1;
            s.ingest(&m, &SourceKey { source: "t".into(), key: n.to_string() }).unwrap();
        };
        // Thread a: asked, answered. Thread b: asked, waiting.
        put(&mut s, mail("a1", them, us, 0, &[]));
        put(&mut s, mail("a2", us, them, 1, &["a1"]));
        put(&mut s, mail("b1", them, us, 2, &[]));
        assert_eq!(subjects(&s, acme, None), ["mail b1"]);
        // Thread a asked again: both wait, oldest first; the newest alone.
        put(&mut s, mail("a3", them, us, 3, &["a1", "a2"]));
        assert_eq!(subjects(&s, acme, None), ["mail b1", "mail a3"]);
        assert_eq!(subjects(&s, acme, Some(1)), ["mail a3"]);
        // c1 and c2 start apart (c2 lost its references), x9 waits on its
        // own; our c3 answers c2 and names c1 too, so the two threads merge
        // into one: the links follow the items to the merged thread.
        put(&mut s, mail("c1", them, us, 3, &[]));
        put(&mut s, mail("c2", them, us, 4, &[]));
        put(&mut s, mail("x9", them, us, 5, &[]));
        assert_eq!(subjects(&s, acme, None).len(), 5);
        put(&mut s, mail("c3", us, them, 6, &["c1", "c2"]));
        // Every link carries its item's thread, date, kind and liveness.
        let threads: Vec<(i64, Option<i64>, bool)> = s
            .sqlite().unwrap()
            .prepare(
                "SELECT i.thread_id, l.thread_id, i.date = l.date AND i.kind = l.kind AND l.live = (i.deleted_at IS NULL)
                 FROM items i JOIN item_links l ON l.item_id = i.id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(threads.len(), 8);
        assert!(threads.iter().all(|(i, l, same)| Some(*i) == *l && *same), "{threads:?}");
        let merged: i64 = s
            .sqlite()
            .unwrap()
            .query_row("SELECT COUNT(DISTINCT thread_id) FROM items WHERE message_id LIKE 'c%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(merged, 1);
        assert_eq!(subjects(&s, acme, None), ["mail b1", "mail a3", "mail x9"]);
        // The client's last mail of thread a deleted: our a2 is the last
        // live one, so thread a no longer waits.
        s.sqlite()
            .unwrap()
            .execute("UPDATE items SET deleted_at = '2026-03-03T00:00:00Z' WHERE message_id = 'a3'", [])
            .unwrap();
        assert_eq!(subjects(&s, acme, None), ["mail b1", "mail x9"]);
        assert_eq!(subjects(&s, acme, Some(5)), ["mail b1", "mail x9"]);
        let all = s.waiting_threads(None, None).unwrap();
        assert_eq!(all.iter().map(|w| w.subject.as_str()).collect::<Vec<_>>(), ["mail b1", "mail x9"]);
        assert_eq!(all[0].clients, [(acme.0, "Acme".to_string())]);
        // A meeting invitation is answered in the calendar, not in the
        // thread: it waits for nothing, in the brief or on Today.
        let mut invitation = mail("i1", them, us, 7, &[]);
        invitation.extra = serde_json::json!({"invitation": {"method": "REQUEST", "uids": ["u1@acme.cz"]}});
        put(&mut s, invitation);
        assert_eq!(subjects(&s, acme, None), ["mail b1", "mail x9"]);
        assert_eq!(s.waiting_threads(None, Some(1)).unwrap()[0].subject, "mail x9");
    }
}
