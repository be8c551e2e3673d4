//! Which sources a user may read whole, by subject, or by metadata only:
//! the store's side is where each item was seen. A document taken from a
//! mail's attachment (source `documents`) and an event from an invitation
//! (source `invitations`) count as seen where that mail was seen, so an
//! attachment or a meeting of a hidden mail stays hidden.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::db::{Db, Dialect};
use super::{Result, Store};
use crate::args;

/// The source of documents taken from attachments (`documents <hash>`).
const DOCUMENTS_SOURCE: &str = "documents";

/// Sources of items taken from a mail (`from_item`): documents from its
/// attachments, events from its invitation. Such an item is seen where its
/// mail is seen.
pub fn is_derived_source(source: &str) -> bool {
    source == DOCUMENTS_SOURCE || source == super::INVITATIONS || source == super::WRITTEN_MEETINGS
}

/// An item's `extra.from_item` (the mail it was taken from) as a number,
/// of the items table named `items`, then of the one named `d`: JSON is
/// read by each database its own way.
fn from_item(db: &Db) -> (&'static str, &'static str) {
    match db.dialect() {
        Dialect::Sqlite => (
            "CAST(json_extract(extra, '$.from_item') AS INTEGER)",
            "CAST(json_extract(d.extra, '$.from_item') AS INTEGER)",
        ),
        Dialect::Postgres => (
            "CAST(CAST(extra AS jsonb) ->> 'from_item' AS BIGINT)",
            "CAST(CAST(d.extra AS jsonb) ->> 'from_item' AS BIGINT)",
        ),
    }
}

impl Store {
    /// The sources an item counts as seen in (gone ones too: the mail came
    /// from that mailbox), without duplicates, sorted. A document from an
    /// attachment gets its mail's sources instead of `documents`.
    pub fn visibility_sources(&self, id: i64) -> Result<Vec<String>> {
        let own = self.sources_of(&[id])?;
        Ok(self.with_parents(own)?.remove(&id).unwrap_or_default())
    }

    /// [`Store::visibility_sources`] of every item with `after < rev <=
    /// last`, in bulk (what the index stores beside each document).
    pub fn visibility_sources_by_rev(&self, after: i64, last: i64) -> Result<HashMap<i64, Vec<String>>> {
        let mut by_item: HashMap<i64, BTreeSet<String>> = HashMap::new();
        self.db.query(
            "SELECT DISTINCT s.item_id, s.source FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE i.rev > ?1 AND i.rev <= ?2",
            args![after, last],
            |r| {
                by_item.entry(r.get(0)?).or_default().insert(r.get(1)?);
                Ok(())
            },
        )?;
        self.with_parents(by_item)
    }

    /// Each item's own sources (those it has).
    fn sources_of(&self, ids: &[i64]) -> Result<HashMap<i64, BTreeSet<String>>> {
        let mut out: HashMap<i64, BTreeSet<String>> = HashMap::new();
        let rows = super::query_among(
            &self.db,
            "SELECT item_id, source FROM item_sources WHERE item_id IN {}",
            &[],
            ids,
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?;
        for (id, source) in rows {
            out.entry(id).or_default().insert(source);
        }
        Ok(out)
    }

    /// Items' own sources made what they count as seen in: an item of a
    /// derived source (a document from an attachment) takes its mail's,
    /// asked for all of them at once (a round trip each was three per
    /// document on PostgreSQL).
    fn with_parents(&self, own: HashMap<i64, BTreeSet<String>>) -> Result<HashMap<i64, Vec<String>>> {
        let derived: Vec<i64> =
            own.iter().filter(|(_, s)| s.iter().any(|s| is_derived_source(s))).map(|(id, _)| *id).collect();
        let parents: HashMap<i64, i64> = super::query_among(
            &self.db,
            &format!("SELECT id, {} FROM items WHERE id IN {{}}", from_item(&self.db).0),
            &[],
            &derived,
            |r| Ok((r.get::<i64>(0)?, r.get::<Option<i64>>(1)?)),
        )?
        .into_iter()
        // A document of a document cannot happen; guard against loops anyway.
        .filter_map(|(id, parent)| parent.filter(|p| *p != id).map(|p| (id, p)))
        .collect();
        let parent_ids: Vec<i64> = parents.values().copied().collect::<BTreeSet<_>>().into_iter().collect();
        let of_parents = self.sources_of(&parent_ids)?;
        let mut out = HashMap::with_capacity(own.len());
        for (id, sources) in own {
            let Some(first_derived) = sources.iter().find(|s| is_derived_source(s)).cloned() else {
                out.insert(id, sources.into_iter().collect());
                continue;
            };
            let mut seen: BTreeSet<String> = sources.into_iter().filter(|s| !is_derived_source(s)).collect();
            if let Some(p) = parents.get(&id) {
                seen.extend(of_parents.get(p).into_iter().flatten().filter(|s| !is_derived_source(s)).cloned());
            }
            if seen.is_empty() {
                seen.insert(first_derived);
            }
            out.insert(id, seen.into_iter().collect());
        }
        Ok(out)
    }

    /// The highest row of `item_sources` (rows only grow: a mail seen in
    /// one more mailbox adds one without changing the item's rev).
    /// (`rowid`: SQLite's own; PostgreSQL's table has a column of that name,
    /// migration 15. Rows are written under the writers' lock, so a row
    /// committed after this answer has a higher number.)
    pub fn max_source_row(&self) -> Result<i64> {
        Ok(self.db.value("SELECT COALESCE(MAX(rowid), 0) FROM item_sources", args![])?.unwrap_or(0))
    }

    /// Items seen in a source after row `after` (up to `last`), and the
    /// documents taken from their attachments: their visibility may have
    /// grown. Live items only.
    pub fn items_with_new_sources(&self, after: i64, last: i64) -> Result<Vec<i64>> {
        let ids: Vec<i64> = self.db.query(
            "SELECT DISTINCT s.item_id FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.rowid > ?1 AND s.rowid <= ?2 AND i.deleted_at IS NULL",
            args![after, last],
            |r| r.get(0),
        )?;
        // Their documents: the attachments of these items (64 a query),
        // then the documents with those hashes taken from these items.
        // Joined in one statement PostgreSQL planned it as a scan of every
        // document (8 ms a query); asked per item it was a round trip each.
        let attached: HashSet<(i64, String)> = super::query_among(
            &self.db,
            "SELECT item_id, content_hash FROM item_attachments WHERE item_id IN {}",
            &[],
            &ids,
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?
        .into_iter()
        .collect();
        let hashes: Vec<&str> = attached.iter().map(|(_, h)| h.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
        let docs = format!(
            "SELECT id, content_hash, {} FROM items
             WHERE content_hash IN {{}} AND kind = 'document' AND deleted_at IS NULL",
            from_item(&self.db).0
        );
        let found = super::query_among(&self.db, &docs, &[], &hashes, |r| {
            Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<Option<i64>>(2)?))
        })?;
        let mut out: BTreeSet<i64> = ids.iter().copied().collect();
        for (doc, hash, from) in found {
            if from.is_some_and(|from| attached.contains(&(from, hash))) {
                out.insert(doc);
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The index document of one item (the feed, at its rev).
    pub fn index_doc(&self, id: i64) -> Result<Option<super::IndexDoc>> {
        let Some(rev) = self.db.value::<i64>("SELECT rev FROM items WHERE id = ?1", args![id])? else {
            return Ok(None);
        };
        // Revs are unique: the first item after rev - 1 is this one.
        Ok(self.index_feed(rev.saturating_sub(1), 1)?.into_iter().find(|d| d.id == id))
    }
}
