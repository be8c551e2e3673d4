//! A client's timeline as the card reads it: filtered by kind, contact and
//! date, paged by the last item shown; the items new since a page was
//! drawn; the client's documents and events; one thread. The queries read
//! the links alone (each carries its item's date, kind and liveness, in
//! the indexes of migration 7), so a client with 100,000 items costs what
//! one with 100 does.

use chrono::{DateTime, Utc};

use super::db::{Db, Dialect};
use super::{Result, Store};
use crate::args;
use crate::model::{ClientId, ItemId};

/// What a timeline page is narrowed to; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    /// An item kind (`email`, `call`, `meeting`, `event`, `document`).
    pub kind: Option<String>,
    /// Only items linked to the client through this contact.
    pub contact: Option<i64>,
    /// Items dated at or after this instant…
    pub from: Option<DateTime<Utc>>,
    /// …and before this one.
    pub until: Option<DateTime<Utc>>,
}

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `INDEXED BY index` on SQLite, whose planner would otherwise pick a
/// worse index for a client with many items; nothing on PostgreSQL,
/// which has no index hints.
pub(super) fn indexed_by(db: &Db, index: &'static str) -> String {
    match db.dialect() {
        Dialect::Sqlite => format!("INDEXED BY {index}"),
        Dialect::Postgres => String::new(),
    }
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store {
    /// A client's live items, newest first, narrowed by `filter`, older
    /// than `before` (the last item of the page before), at most `limit`.
    /// Future events are left out (they are the agenda's).
    pub fn client_timeline_filtered(
        &self,
        client: ClientId,
        filter: &TimelineFilter,
        before: Option<ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>> {
        let sql = format!(
            "SELECT DISTINCT l.item_id, l.date FROM item_links l {}
             WHERE l.client_id = ?1 AND l.live = 1 AND NOT (l.kind = 'event' AND l.date > ?4)
               AND (?2 IS NULL OR (l.date, l.item_id) < (SELECT b.date, b.id FROM items b WHERE b.id = ?2))
               AND (?5 IS NULL OR l.kind = ?5)
               AND (?6 IS NULL OR l.contact_id = ?6)
               AND (?7 IS NULL OR l.date >= ?7)
               AND (?8 IS NULL OR l.date < ?8)
             ORDER BY l.date DESC, l.item_id DESC LIMIT ?3",
            indexed_by(&self.db, "item_links_client_date")
        );
        Ok(self.db.query(
            &sql,
            args![
                client.0,
                before.map(|b| b.0),
                limit_of(limit),
                ts(Utc::now()),
                filter.kind,
                filter.contact,
                filter.from.map(ts),
                filter.until.map(ts),
            ],
            |r| Ok(ItemId(r.get(0)?)),
        )?)
    }

    /// The newest id among a client's items (0 when none): what a card
    /// remembers to ask later for the items new since ([`Store::client_items_after`]).
    pub fn client_newest_id(&self, client: ClientId) -> Result<i64> {
        let id: Option<i64> =
            self.db.value("SELECT MAX(item_id) FROM item_links WHERE client_id = ?1", args![client.0])?.flatten();
        Ok(id.unwrap_or(0))
    }

    /// A client's live items stored after item `after` (by id: the order
    /// they arrived in), newest first, at most `limit`; future events left out.
    pub fn client_items_after(&self, client: ClientId, after: i64, limit: usize) -> Result<Vec<ItemId>> {
        let sql = format!(
            "SELECT DISTINCT l.item_id, l.date FROM item_links l {}
             WHERE l.client_id = ?1 AND l.item_id > ?2 AND l.live = 1 AND NOT (l.kind = 'event' AND l.date > ?4)
             ORDER BY l.date DESC, l.item_id DESC LIMIT ?3",
            indexed_by(&self.db, "item_links_client_item")
        );
        Ok(self.db.query(&sql, args![client.0, after, limit_of(limit), ts(Utc::now())], |r| Ok(ItemId(r.get(0)?)))?)
    }

    /// A client's past events and meetings (calendar events, meeting notes),
    /// newest first, at most `limit`.
    pub fn client_past_events(&self, client: ClientId, limit: usize) -> Result<Vec<ItemId>> {
        // The subqueries are named: PostgreSQL wants every one in FROM named.
        Ok(self.db.query(
            "SELECT * FROM (SELECT item_id, date FROM item_links
                 WHERE client_id = ?1 AND live = 1 AND kind = 'event' AND date <= ?3
                   AND item_id NOT IN (SELECT item_id FROM events WHERE cancelled = 1)
                 ORDER BY date DESC, item_id DESC LIMIT ?2) e
             UNION
             SELECT * FROM (SELECT item_id, date FROM item_links
                 WHERE client_id = ?1 AND live = 1 AND kind = 'meeting' AND date <= ?3
                 ORDER BY date DESC, item_id DESC LIMIT ?2) m
             ORDER BY 2 DESC, 1 DESC LIMIT ?2",
            args![client.0, limit_of(limit), ts(Utc::now())],
            |r| Ok(ItemId(r.get(0)?)),
        )?)
    }

    /// The live items of a thread, oldest first, at most `limit`.
    pub fn thread_items(&self, thread: i64, limit: usize) -> Result<Vec<ItemId>> {
        Ok(self.db.query(
            "SELECT id FROM items WHERE thread_id = ?1 AND deleted_at IS NULL ORDER BY date, id LIMIT ?2",
            args![thread, limit_of(limit)],
            |r| Ok(ItemId(r.get(0)?)),
        )?)
    }
}
