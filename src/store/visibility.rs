//! Which sources a user may read whole, by subject, or by metadata only:
//! the store's side is where each item was seen. A document taken from a
//! mail's attachment (source `documents`) and an event from an invitation
//! (source `invitations`) count as seen where that mail was seen, so an
//! attachment or a meeting of a hidden mail stays hidden.

use std::collections::{BTreeSet, HashMap};

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

/// The source of documents taken from attachments (`documents <hash>`).
const DOCUMENTS_SOURCE: &str = "documents";

/// Sources of items taken from a mail (`from_item`): documents from its
/// attachments, events from its invitation. Such an item is seen where its
/// mail is seen.
pub fn is_derived_source(source: &str) -> bool {
    source == DOCUMENTS_SOURCE || source == super::INVITATIONS || source == super::WRITTEN_MEETINGS
}

impl Store {
    /// The sources an item counts as seen in (gone ones too: the mail came
    /// from that mailbox), without duplicates, sorted. A document from an
    /// attachment gets its mail's sources instead of `documents`.
    pub fn visibility_sources(&self, id: i64) -> Result<Vec<String>> {
        let mut stmt =
            super::sqlite(&self.db)?.prepare_cached("SELECT DISTINCT source FROM item_sources WHERE item_id = ?1")?;
        let own: BTreeSet<String> = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let Some(derived) = own.iter().find(|s| is_derived_source(s)).cloned() else {
            return Ok(own.into_iter().collect());
        };
        let parent: Option<i64> = super::sqlite(&self.db)?
            .query_row(
                "SELECT CAST(json_extract(extra, '$.from_item') AS INTEGER) FROM items WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let mut out: BTreeSet<String> = own.into_iter().filter(|s| !is_derived_source(s)).collect();
        match parent {
            // A document of a document cannot happen; guard against loops anyway.
            Some(p) if p != id => {
                let parents: Vec<String> = stmt.query_map([p], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                out.extend(parents.into_iter().filter(|s| !is_derived_source(s)));
            }
            _ => {}
        }
        if out.is_empty() {
            out.insert(derived);
        }
        Ok(out.into_iter().collect())
    }

    /// [`Store::visibility_sources`] of every item with `after < rev <=
    /// last`, in bulk (what the index stores beside each document).
    pub fn visibility_sources_by_rev(&self, after: i64, last: i64) -> Result<HashMap<i64, Vec<String>>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT DISTINCT s.item_id, s.source FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE i.rev > ?1 AND i.rev <= ?2",
        )?;
        let mut by_item: HashMap<i64, BTreeSet<String>> = HashMap::new();
        let mut rows = stmt.query(params![after, last])?;
        while let Some(r) = rows.next()? {
            by_item.entry(r.get(0)?).or_default().insert(r.get(1)?);
        }
        let mut out = HashMap::with_capacity(by_item.len());
        for (id, sources) in by_item {
            let v = if sources.iter().any(|s| is_derived_source(s)) {
                self.visibility_sources(id)?
            } else {
                sources.into_iter().collect()
            };
            out.insert(id, v);
        }
        Ok(out)
    }

    /// The highest row of `item_sources` (rows only grow: a mail seen in
    /// one more mailbox adds one without changing the item's rev).
    pub fn max_source_row(&self) -> Result<i64> {
        Ok(super::sqlite(&self.db)?.query_row("SELECT COALESCE(MAX(rowid), 0) FROM item_sources", [], |r| r.get(0))?)
    }

    /// Items seen in a source after row `after` (up to `last`), and the
    /// documents taken from their attachments: their visibility may have
    /// grown. Live items only.
    pub fn items_with_new_sources(&self, after: i64, last: i64) -> Result<Vec<i64>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT DISTINCT s.item_id FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.rowid > ?1 AND s.rowid <= ?2 AND i.deleted_at IS NULL",
        )?;
        let ids: Vec<i64> = stmt.query_map(params![after, last], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        let mut docs = super::sqlite(&self.db)?.prepare_cached(
            "SELECT DISTINCT d.id FROM item_attachments a
             JOIN items d ON d.content_hash = a.content_hash AND d.kind = 'document'
             WHERE a.item_id = ?1 AND d.deleted_at IS NULL
               AND CAST(json_extract(d.extra, '$.from_item') AS INTEGER) = ?1",
        )?;
        let mut out: BTreeSet<i64> = ids.iter().copied().collect();
        for id in &ids {
            let found: Vec<i64> = docs.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            out.extend(found);
        }
        Ok(out.into_iter().collect())
    }

    /// The index document of one item (the feed, at its rev).
    pub fn index_doc(&self, id: i64) -> Result<Option<super::IndexDoc>> {
        let rev: Option<i64> =
            super::sqlite(&self.db)?.query_row("SELECT rev FROM items WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let Some(rev) = rev else { return Ok(None) };
        // Revs are unique: the first item after rev - 1 is this one.
        Ok(self.index_feed(rev.saturating_sub(1), 1)?.into_iter().find(|d| d.id == id))
    }
}
