//! Reading many items at once: a page of search hits or a client's
//! history in five statements whatever its length, not five per item (a
//! round trip each on PostgreSQL, where a card of 30 items took 150).

use std::collections::HashMap;

use super::clients::parse_time;
use super::db::{Db, Row};
use super::{Attachment, ItemRow, LinkRow, Result, Store};
use crate::model::{ItemId, Participant, Role};

/// Ids bound in one statement (SQLite allows 32,766 values; PostgreSQL 65,535).
const CHUNK: usize = 512;

impl Store {
    /// The items of `ids` with their participants, attachments, links and
    /// sources, by id; an id with no item is left out.
    pub fn items(&self, ids: &[ItemId]) -> Result<HashMap<i64, ItemRow>> {
        rows_of(&self.db, ids)
    }

    /// The items of `ids` in that order; an error names the first missing.
    pub fn items_in_order(&self, ids: &[ItemId]) -> Result<Vec<ItemRow>> {
        let mut read = self.items(ids)?;
        ids.iter()
            .map(|id| {
                read.remove(&id.0).ok_or_else(|| super::StoreError::NotFound { what: "item", query: id.to_string() })
            })
            .collect()
    }
}

/// [`Store::items`] through `db`, which may be an open transaction (the
/// re-match reads each chunk's items so).
pub(super) fn rows_of(db: &Db, ids: &[ItemId]) -> Result<HashMap<i64, ItemRow>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        rows_chunk(db, chunk, &mut out)?;
    }
    Ok(out)
}

fn rows_chunk(db: &Db, ids: &[ItemId], out: &mut HashMap<i64, ItemRow>) -> Result<()> {
    // `(?1, ?2, … ?n)`: placeholders only, every value is bound. The
    // list is padded to a power of two (the last id again), so that a
    // few statement shapes serve every page: PostgreSQL plans each new
    // shape anew, a millisecond or two for its first few runs.
    let mut values: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let padded = values.len().next_power_of_two().clamp(8, CHUNK);
    if let Some(last) = values.last().copied() {
        values.resize(padded, last);
    }
    let holes = super::db::value_rows(1, 1, values.len());
    let args: Vec<&dyn super::db::ToParam> = values.iter().map(|v| v as &dyn super::db::ToParam).collect();
    let rows = db.query(
        &format!(
            "SELECT id, kind, date, date_source, direction, subject, body, message_id, thread_id, content_hash,
                    size, extra, deleted_at, rev
             FROM items WHERE id IN {holes}"
        ),
        &args,
        item_row,
    )?;
    for row in rows {
        out.insert(row.id, row);
    }
    let mut each = |sql: String, f: &mut dyn FnMut(&mut ItemRow, &Row<'_>) -> super::db::DbResult<()>| {
        db.query(&sql, &args, |r| {
            let id: i64 = r.get(0)?;
            if let Some(row) = out.get_mut(&id) {
                f(row, r)?;
            }
            Ok(())
        })
    };
    each(
        format!(
            "SELECT item_id, role, name, address FROM item_participants WHERE item_id IN {holes}
             ORDER BY item_id, rowid"
        ),
        &mut |row, r| {
            let role: String = r.get(1)?;
            let role = role.parse().unwrap_or(Role::Mentioned);
            row.participants.push(Participant { role, name: r.get(2)?, address: r.get(3)? });
            Ok(())
        },
    )?;
    each(
        format!(
            "SELECT item_id, name, mime, size, content_hash FROM item_attachments WHERE item_id IN {holes}
             ORDER BY item_id, rowid"
        ),
        &mut |row, r| {
            let size = u64::try_from(r.get::<i64>(3)?).unwrap_or_default();
            row.attachments.push(Attachment { name: r.get(1)?, mime: r.get(2)?, size, content_hash: r.get(4)? });
            Ok(())
        },
    )?;
    each(
        format!(
            "SELECT l.item_id, l.client_id, c.name, l.contact_id, p.name, l.reason, l.ambiguous, l.evidence
             FROM item_links l JOIN clients c ON c.id = l.client_id LEFT JOIN contacts p ON p.id = l.contact_id
             WHERE l.item_id IN {holes}
             ORDER BY l.item_id, c.name_key, p.name NULLS FIRST, l.contact_id NULLS FIRST, l.reason, l.evidence"
        ),
        &mut |row, r| {
            row.links.push(LinkRow {
                client_id: r.get(1)?,
                client: r.get(2)?,
                contact_id: r.get(3)?,
                contact: r.get(4)?,
                reason: r.get(5)?,
                ambiguous: r.get(6)?,
                evidence: r.get(7)?,
            });
            Ok(())
        },
    )?;
    each(
        format!(
            "SELECT item_id, source, key, gone_at FROM item_sources WHERE item_id IN {holes}
             ORDER BY item_id, source, key"
        ),
        &mut |row, r| {
            let gone: Option<String> = r.get(3)?;
            let gone = if gone.is_some() { " (gone)" } else { "" };
            row.sources.push(format!("{} {}{gone}", r.get::<String>(1)?, r.get::<String>(2)?));
            Ok(())
        },
    )?;
    Ok(())
}

/// An `items` row as read by [`Store::items`] (children left empty).
pub(super) fn item_row(r: &Row<'_>) -> super::db::DbResult<ItemRow> {
    let date: String = r.get(2)?;
    let extra: String = r.get(11)?;
    Ok(ItemRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        date: parse_time(&date),
        date_source: r.get(3)?,
        direction: r.get(4)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        message_id: r.get(7)?,
        thread_id: r.get(8)?,
        content_hash: r.get(9)?,
        size: r.get(10)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
        deleted_at: r.get(12)?,
        rev: r.get(13)?,
        participants: Vec::new(),
        attachments: Vec::new(),
        links: Vec::new(),
        sources: Vec::new(),
    })
}
