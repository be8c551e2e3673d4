//! The feed the search index reads: items changed after a given `rev`,
//! loaded in bulk (a handful of queries per batch, not per item).

use std::collections::HashMap;

use super::clients::parse_time;
use super::{Result, Store};
use crate::args;

/// What the index needs to know about one item.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    pub id: i64,
    pub rev: i64,
    pub kind: String,
    pub date: i64,
    pub direction: String,
    pub subject: String,
    pub body: String,
    pub deleted: bool,
    /// Names and addresses of senders and organizers.
    pub from: Vec<String>,
    /// Names and addresses of recipients and attendees.
    pub to: Vec<String>,
    /// Everybody (names and addresses).
    pub participants: Vec<String>,
    pub attachments: Vec<String>,
    pub clients: Vec<i64>,
    pub contacts: Vec<i64>,
}

impl Store {
    /// Up to `limit` items with `rev > after`, in rev order.
    pub fn index_feed(&self, after: i64, limit: usize) -> Result<Vec<IndexDoc>> {
        let mut docs: Vec<IndexDoc> = self.db.query(
            "SELECT id, rev, kind, date, direction, subject, body, deleted_at IS NOT NULL
             FROM items WHERE rev > ?1 ORDER BY rev LIMIT ?2",
            args![after, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(IndexDoc {
                    id: r.get(0)?,
                    rev: r.get(1)?,
                    kind: r.get(2)?,
                    date: parse_time(&r.get::<String>(3)?).timestamp(),
                    direction: r.get(4)?,
                    subject: r.get(5)?,
                    body: r.get(6)?,
                    deleted: r.get(7)?,
                    ..IndexDoc::default()
                })
            },
        )?;
        let Some(last) = docs.last().map(|d| d.rev) else {
            return Ok(docs);
        };
        let pos: HashMap<i64, usize> = docs.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        // Each row is put in its document as it is read (the closures
        // return nothing): no rows are kept beside the documents.
        self.db.query(
            "SELECT p.item_id, p.role, p.name, p.address FROM item_participants p JOIN items i ON i.id = p.item_id
             WHERE i.rev > ?1 AND i.rev <= ?2",
            args![after, last],
            |r| {
                let Some(&i) = pos.get(&r.get::<i64>(0)?) else { return Ok(()) };
                let role: String = r.get(1)?;
                let name: Option<String> = r.get(2)?;
                let address: String = r.get(3)?;
                let text = match name {
                    Some(n) if !n.is_empty() => format!("{n} {address}"),
                    _ => address,
                };
                let d = &mut docs[i];
                match role.as_str() {
                    "from" | "sender" | "organizer" => d.from.push(text.clone()),
                    "to" | "cc" | "bcc" | "attendee" => d.to.push(text.clone()),
                    _ => {}
                }
                d.participants.push(text);
                Ok(())
            },
        )?;
        self.db.query(
            "SELECT a.item_id, a.name FROM item_attachments a JOIN items i ON i.id = a.item_id WHERE i.rev > ?1 AND i.rev <= ?2",
            args![after, last],
            |r| {
                if let Some(&i) = pos.get(&r.get::<i64>(0)?) {
                    docs[i].attachments.push(r.get(1)?);
                }
                Ok(())
            },
        )?;
        self.db.query(
            "SELECT l.item_id, l.client_id, l.contact_id FROM item_links l JOIN items i ON i.id = l.item_id
             WHERE i.rev > ?1 AND i.rev <= ?2",
            args![after, last],
            |r| {
                if let Some(&i) = pos.get(&r.get::<i64>(0)?) {
                    let client: i64 = r.get(1)?;
                    let d = &mut docs[i];
                    if !d.clients.contains(&client) {
                        d.clients.push(client);
                    }
                    if let Some(contact) = r.get::<Option<i64>>(2)?
                        && !d.contacts.contains(&contact)
                    {
                        d.contacts.push(contact);
                    }
                }
                Ok(())
            },
        )?;
        Ok(docs)
    }

    /// The highest item rev (0 when there are no items).
    pub fn max_rev(&self) -> Result<i64> {
        Ok(self.db.value("SELECT COALESCE(MAX(rev), 0) FROM items", args![])?.unwrap_or(0))
    }

    /// Every live (not deleted) item id with its rev, for drift checks.
    pub fn live_revs(&self) -> Result<HashMap<i64, i64>> {
        let rows = self
            .db
            .query("SELECT id, rev FROM items WHERE deleted_at IS NULL", args![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.into_iter().collect())
    }

    /// Id → rev of deleted items (their removal from the index is pending
    /// until a commit covers their rev).
    pub fn deleted_revs(&self) -> Result<HashMap<i64, i64>> {
        let rows = self
            .db
            .query("SELECT id, rev FROM items WHERE deleted_at IS NOT NULL", args![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.into_iter().collect())
    }

    /// Marks items as changed so the index picks them up again.
    pub fn touch_items(&mut self, ids: &[i64]) -> Result<()> {
        let tx = self.db.begin()?;
        for id in ids {
            let rev = super::counter(&tx, "rev")?;
            tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", args![id, rev])?;
        }
        tx.commit()?;
        Ok(())
    }
}
